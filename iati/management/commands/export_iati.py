from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from iati import selectors
from iati.export import IatiDefaults, activities_xml
from targets.management.commands._user import acting_user


class Command(BaseCommand):
    help = (
        "Write a plan's results as an IATI 2.03 activity file: every target (or those --user "
        "sees), its baseline, the expected value at the end of each reporting period and the "
        "approved value."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("plan", help="the plan's code")
        parser.add_argument("--user", help="only the targets this user sees")
        parser.add_argument("--output", "-o", help="the file to write (default: standard output)")

    def handle(self, *args, plan: str, user: str | None, output: str | None, **options) -> None:
        account = acting_user(user) if user else None
        found = selectors.iati_plans(user=account).filter(code=plan).first()
        if found is None:
            raise CommandError(
                f"No plan “{plan}”" + (f" with a target {user} sees." if user else ".")
            )
        content = activities_xml(
            plan=found, targets=selectors.iati_targets(plan=found, user=account),
            defaults=IatiDefaults.from_settings(), generated_at=timezone.now(),
            today=timezone.localdate(),
        )
        if output is None:
            self.stdout.write(content.decode("utf-8"), ending="")
            return
        try:
            Path(output).write_bytes(content)
        except OSError as exc:
            raise CommandError(f"Cannot write {output}: {exc}") from None
        self.stdout.write(f"{output}: {found.code}, IATI {len(content)} bytes.")
