"""Write a plan's approved values as a DHIS2 dataValueSets JSON document (dhis2.exporting)."""

import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from dhis2 import exporting, periods
from dhis2.models import uid_validator
from targets.management.commands._user import acting_user
from targets.rules import Calendar


class Command(BaseCommand):
    help = ("Export the approved values of a plan as a DHIS2 dataValueSets JSON document "
            "(to standard output, or --output FILE).")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--plan", required=True, help="the plan's code")
        parser.add_argument("--from", dest="start", default="",
                            help="the first period: 2026-Q1 (ours) or 2026Q1 (DHIS2)")
        parser.add_argument("--to", dest="end", default="", help="the last period")
        parser.add_argument("--data-set", default="", help="a DHIS2 data set UID to name")
        parser.add_argument("--output", default="", help="the file to write (default: stdout)")
        parser.add_argument(
            "--user", required=True,
            help="the account whose targets are exported: only those it may see",
        )

    def handle(self, *args, plan: str, start: str, end: str, data_set: str, output: str,
               user: str, **options) -> None:
        account = acting_user(user)
        found = exporting.plans_exportable_by(account).filter(code=plan).first()
        if found is None:
            raise CommandError(f"No plan “{plan}” with a target {user} may see.")
        calendar = Calendar(found.reporting_calendar)
        bounds = []
        for name, text in (("--from", start), ("--to", end)):
            try:
                bounds.append(exporting.period_bound(text, calendar) if text else None)
            except periods.NotExchangeable as refused:
                raise CommandError(f"{name}: {refused.message}") from None
        if data_set:
            try:
                uid_validator(data_set)
            except ValidationError as exc:
                raise CommandError(f"--data-set: {' '.join(exc.messages)}") from None
        try:
            document = exporting.dhis2_export(
                user=account, plan=found, first=bounds[0], last=bounds[1], data_set=data_set
            )
        except exporting.ExportRefused as refused:
            raise CommandError(refused.message) from None
        text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
        if output:
            try:
                Path(output).write_text(text, encoding="utf-8")
            except OSError as exc:
                raise CommandError(f"Cannot write {output}: {exc}") from None
            self.stderr.write(f"{output}: {len(document['dataValues'])} data values.")
        else:
            self.stdout.write(text, ending="")
