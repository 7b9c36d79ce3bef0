import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from targets.services.alerts import AlertSettings
from targets.services.evaluation import run_json, targets_evaluate


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
        run = targets_evaluate(
            on=on, dry_run=options["dry_run"], alert_settings=AlertSettings.from_settings()
        )
        if options["json"]:
            self.stdout.write(json.dumps(run_json(run), ensure_ascii=False))
            return
        counts: dict[str, int] = {}
        for result in run.results:
            counts[result.judgement.status] = counts.get(result.judgement.status, 0) + 1
            j = result.judgement
            self.stdout.write(
                f"{result.target.code:<16} {j.status:<9} actual {j.actual.normalize():f} "
                f"expected {round(j.expected, 4).normalize():f} reporting {j.reporting}"
                + (f" overdue {','.join(j.overdue_periods)}" if j.overdue_periods else "")
            )
        summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        verb = "judged (dry run, nothing recorded)" if options["dry_run"] else "assessed"
        self.stdout.write(
            f"{on.isoformat()}: {len(run.results)} targets {verb}: {summary or 'none'}; "
            f"{run.alerts_created} alerts created."
        )
