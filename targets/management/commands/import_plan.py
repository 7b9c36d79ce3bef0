from django.core.management.base import BaseCommand

from targets.errors import ImportFailed
from targets.management.commands._problems import fail_with_problems
from targets.management.commands._user import acting_user, add_user_argument
from targets.services.plans import plan_import_file


class Command(BaseCommand):
    help = "Create or update units, plans, areas, targets and milestones from a plan file."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="a YAML (or JSON) plan file, DESIGN §7")
        add_user_argument(parser)

    def handle(self, *args, file: str, user: str, **options) -> None:
        account = acting_user(user)
        try:
            result = plan_import_file(file, user=account)
        except ImportFailed as failed:
            raise fail_with_problems(self, failed, file) from None
        self.stdout.write(
            f"{file}: {result.created} created, {result.updated} updated, "
            f"{result.unchanged} unchanged."
        )
