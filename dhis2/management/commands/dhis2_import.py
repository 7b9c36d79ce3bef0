"""Import a DHIS2 dataValueSets JSON document: a dry run, or the whole document or nothing."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from dhis2 import importing
from targets.errors import ImportFailed
from targets.management.commands._problems import fail_with_problems
from targets.management.commands._user import acting_user
from targets.models import EntryStatus
from targets.services.alerts import AlertSettings

ACTIONS = {"create": "new entry", "update": "updates the existing entry",
           "approve": "approves the submitted entry", "unchanged": "unchanged"}


class Command(BaseCommand):
    help = ("Import the data values of a DHIS2 dataValueSets JSON document as progress entries "
            "(--dry-run: check and list every problem and change, write nothing).")

    def add_arguments(self, parser) -> None:
        parser.add_argument("file")
        parser.add_argument(
            "--status", choices=[EntryStatus.SUBMITTED, EntryStatus.APPROVED],
            default=EntryStatus.SUBMITTED,
        )
        parser.add_argument("--dry-run", action="store_true",
                            help="check every data value and say what would change")
        parser.add_argument(
            "--user", required=True,
            help="the account the entries are recorded for, checked like a person on the "
            "screens (staff submit for their unit; with --status approved, a manager approves "
            "entries others submitted with the same values)",
        )

    def handle(self, *args, file: str, status: str, dry_run: bool, user: str,
               **options) -> None:
        account = acting_user(user)
        path = Path(file)
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc}") from None
        try:
            if dry_run:
                self._dry_run(account, content, path.name, status, file)
                return
            result = importing.dhis2_import(
                user=account, content=content, filename=path.name, status=status,
                reassess=AlertSettings.from_settings(),
            )
        except ImportFailed as failed:
            raise fail_with_problems(self, failed, file) from None
        self.stdout.write(
            f"{file}: {result.created} created, {result.updated} updated, "
            f"{result.approved} approved, {result.unchanged} unchanged."
        )

    def _dry_run(self, account, content: bytes, filename: str, status: str, file: str) -> None:
        dry = importing.dhis2_dry_run(
            user=account, content=content, filename=filename, status=status
        )
        for row in dry.rows:
            if not row.problems:
                self.stdout.write(f"{row.place}: {row.target_code} {row.period}, "
                                  f"{ACTIONS[row.action]}")
        problems = dry.problems
        if problems:
            raise ImportFailed(problems)
        counts = dry.counts
        self.stdout.write(
            f"{file}: dry run, nothing written. " + (
                "Nothing to change." if not dry.changes else
                f"Would create {counts.get('create', 0)}, update {counts.get('update', 0)}, "
                f"approve {counts.get('approve', 0)}; {counts.get('unchanged', 0)} unchanged."
            )
        )
