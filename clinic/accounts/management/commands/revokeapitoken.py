from django.core.management.base import BaseCommand, CommandError

from clinic.accounts.models import ApiToken, User
from clinic.accounts.services import api_token_revoke, api_tokens_revoke_all
from clinic.core.request_context import RequestContext, request_context


class Command(BaseCommand):
    help = (
        "Revoke a personal API token by its prefix (the part after kc_, as the token pages "
        "show it), or every token of one user with --user. Each revocation is audited."
    )

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("prefix", nargs="?", help="The token's prefix, e.g. 1a2b3c4d.")
        which.add_argument("--user", dest="username", help="Revoke every token of this user.")

    def handle(self, *args, **options):
        with request_context(RequestContext(channel="command")):
            self._handle(options)

    def _handle(self, options):
        if options["username"]:
            user = User.objects.filter(username=options["username"]).first()
            if user is None:
                raise CommandError(f"No user named {options['username']!r}.")
            count = api_tokens_revoke_all(actor=None, user=user)
            self.stdout.write(f"Revoked {count} API token{'s' if count != 1 else ''} of {user}.")
            return
        prefix = options["prefix"].removeprefix("kc_").rstrip("…").strip()
        token = ApiToken.objects.filter(prefix=prefix).first()
        if token is None:
            raise CommandError(f"No API token with prefix {prefix!r}.")
        if api_token_revoke(actor=None, token=token):
            self.stdout.write(f"Revoked API token {prefix}.")
        else:
            self.stdout.write(f"API token {prefix} was already revoked.")
