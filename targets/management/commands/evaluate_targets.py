import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from targets.services.alerts import AlertSettings
from targets.services.evaluation import Evaluated, run_json, targets_evaluate


class Command(BaseCommand):
    help = "Assess every target at a date, record assessments (and alerts), print a summary."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--date", help="YYYY-MM-DD (default: today, Asia/Ho_Chi_Minh)")
        parser.add_argument("--dry-run", action="store_true", help="record nothing")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **options) -> None:
        if options["date"]:
            try:
                on = date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError(f"--date: “{options['date']}” is not YYYY-MM-DD.") from None
        else:
            on = timezone.localdate()
        if options["json"]:
            run = targets_evaluate(
                on=on, dry_run=options["dry_run"], alert_settings=AlertSettings.from_settings()
            )
            self.stdout.write(json.dumps(run_json(run), ensure_ascii=False))
            return
        # Printed batch by batch: the run keeps no result in memory, whatever the targets.
        run = targets_evaluate(
            on=on,
            dry_run=options["dry_run"],
            alert_settings=AlertSettings.from_settings(),
            collect=False,
            report=self._print,
        )
        counts = {
            ("not judged" if status == "" else status): n for status, n in run.statuses.items()
        }
        summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        verb = "judged (dry run, nothing recorded)" if options["dry_run"] else "assessed"
        self.stdout.write(
            f"{on.isoformat()}: {run.targets} targets {verb}: {summary or 'none'}; "
            f"{run.alerts_created} alerts created."
        )

    def _print(self, results: list[Evaluated]) -> None:
        for result in results:
            j = result.judgement
            if j is None:
                self.stderr.write(f"{result.target.code:<16} NOT JUDGED: {result.error}")
                continue
            as_of = f" as of {j.as_of.isoformat()}" if j.as_of else ""
            self.stdout.write(
                f"{result.target.code:<16} {j.status:<9} ({j.reason}) actual "
                f"{j.actual.normalize():f}{as_of} expected {_short(j.expected)} "
                f"now {_short(j.expected_now)} reporting {j.reporting}"
                + (f" overdue {','.join(j.overdue_periods)}" if j.overdue_periods else "")
            )


def _short(value) -> str:
    return f"{round(value, 4).normalize():f}" if abs(value) < 10**20 else f"{value:E}"
