from django.core.management.base import BaseCommand

from register.loading import register_load_file
from targets.errors import ImportFailed
from targets.management.commands._problems import fail_with_problems
from targets.management.commands._user import acting_user, add_user_argument


class Command(BaseCommand):
    help = "Create or update the parks and investment projects of a register file (YAML)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="a YAML register file (fixtures/register-demo.yaml)")
        add_user_argument(parser)

    def handle(self, *args, file: str, user: str, **options) -> None:
        account = acting_user(user)
        try:
            result = register_load_file(file, user=account)
        except ImportFailed as failed:
            raise fail_with_problems(self, failed, file) from None
        self.stdout.write(
            f"{file}: {result.created} created, {result.updated} updated, "
            f"{result.unchanged} unchanged."
        )
