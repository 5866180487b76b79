from django.core.management.base import BaseCommand, CommandError

from clinic.accounts.choices import STAFF_ROLES
from clinic.accounts.services import staff_create
from clinic.core.exceptions import DomainError
from clinic.core.request_context import RequestContext, request_context


class Command(BaseCommand):
    help = "Create a clinic staff account with a role, without prompts."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=sorted(r.value for r in STAFF_ROLES))
        parser.add_argument("--password", help="Omit to create an account that cannot sign in yet.")
        parser.add_argument("--email", default="")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--credentials", default="", help="e.g. MD, NP, RN")

    def handle(self, *args, **options):
        with request_context(RequestContext(channel="command")):
            self._handle(options)

    def _handle(self, options):
        try:
            user = staff_create(
                actor=None,
                username=options["username"],
                role=options["role"],
                password=options["password"],
                email=options["email"],
                first_name=options["first_name"],
                last_name=options["last_name"],
                credentials=options["credentials"],
            )
        except DomainError as error:
            detail = getattr(error, "errors", None)
            raise CommandError(f"{error.message} {detail or ''}".strip()) from error
        self.stdout.write(self.style.SUCCESS(f"Created {user.role} account {user.username}."))
