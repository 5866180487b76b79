from django.core.management.base import BaseCommand, CommandError

from clinic.accounts.models import User
from clinic.accounts.services import api_token_create
from clinic.core.exceptions import DomainError
from clinic.core.request_context import RequestContext, request_context


class Command(BaseCommand):
    help = (
        "Create a personal API token for a staff user and print it (it is shown only once). "
        "It expires after API_TOKEN_EXPIRY_DAYS; with REQUIRE_STAFF_2FA on, the user must have "
        "enrolled a second factor."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="What the token is for.")

    def handle(self, *args, **options):
        with request_context(RequestContext(channel="command")):
            self._handle(options)

    def _handle(self, options):
        user = User.objects.filter(username=options["username"]).first()
        if user is None or not user.is_clinic_staff:
            raise CommandError(f"No active staff user named {options['username']!r}.")
        try:
            token, plain = api_token_create(actor=None, user=user, name=options["name"])
        except DomainError as error:
            raise CommandError(error.message) from error
        self.stdout.write(plain)
        self.stderr.write(f"Expires {token.expires_at:%Y-%m-%d %H:%M} UTC. Shown only once.")
