from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from targets.evidence import evidence_files_prune
from targets.models import ProgressEntry


class Command(BaseCommand):
    help = "Remove stored evidence files that no entry refers to (older than --hours)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--hours", type=int, default=24,
                            help="leave files younger than this alone (default 24)")
        parser.add_argument("--dry-run", action="store_true", help="list them, remove nothing")

    def handle(self, *args, **options) -> None:
        storage = ProgressEntry._meta.get_field("evidence_file").storage
        before = timezone.now() - timedelta(hours=max(options["hours"], 0))
        names = evidence_files_prune(storage=storage, before=before, dry_run=options["dry_run"])
        for name in names:
            self.stdout.write(name)
        verb = "unused (dry run, kept)" if options["dry_run"] else "removed"
        self.stdout.write(f"{len(names)} evidence files {verb}.")
