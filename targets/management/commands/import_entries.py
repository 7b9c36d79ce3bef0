from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from targets.errors import ImportFailed
from targets.management.commands._problems import fail_with_problems
from targets.management.commands._user import acting_user
from targets.models import EntryStatus
from targets.services.alerts import AlertSettings
from targets.services.imports import entries_import


class Command(BaseCommand):
    help = "Import progress entries from a CSV or XLSX file (target,period,value,note)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file")
        parser.add_argument(
            "--status",
            choices=[EntryStatus.SUBMITTED, EntryStatus.APPROVED],
            default=EntryStatus.SUBMITTED,
        )
        parser.add_argument(
            "--user",
            required=True,
            help="the account the entries are recorded for, checked like a person on the "
            "screens: a person, or an operator account made for imports (with no password, "
            "so that it cannot sign in) with memberships on the units it reports for. With "
            "--status approved, it approves entries others submitted.",
        )

    def handle(self, *args, file: str, status: str, user: str, **options) -> None:
        account = acting_user(user)
        path = Path(file)
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc}") from None
        try:
            result = entries_import(
                user=account, content=content, filename=path.name, status=status,
                reassess=AlertSettings.from_settings(),
            )
        except ImportFailed as failed:
            raise fail_with_problems(self, failed, file) from None
        self.stdout.write(
            f"{file}: {result.created} created, {result.updated} updated, "
            f"{result.approved} approved, {result.unchanged} unchanged."
        )
