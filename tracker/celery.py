"""The Celery app: Redis broker, tasks in targets/tasks.py, the beat schedule.

Run any number of workers (``celery -A tracker worker``) and exactly one beat
(``celery -A tracker beat``) against one Redis and one PostgreSQL.
"""

import os

from celery import Celery
from celery.schedules import crontab
from celery.signals import worker_ready
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")

app = Celery("tracker")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    # EVALUATION_DAILY_HOUR (06:00) in CELERY_TIMEZONE (Asia/Ho_Chi_Minh): judge every
    # target, record alerts — and first any day missed since the last run.
    "evaluate-targets-daily": {
        "task": "targets.tasks.evaluate_all",
        "schedule": crontab(hour=settings.EVALUATION_DAILY_HOUR, minute=0),
    },
    # The retry net, every minute: new digests whose task was lost, failed ones whose next
    # try has come, claims of dead workers; and a daily evaluation the beat could not start.
    # A tick not consumed within the minute (no worker) is dropped, not piled up.
    "dispatch-pending-digests": {
        "task": "targets.tasks.dispatch_pending",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
}


@worker_ready.connect
def dispatch_on_start(sender, **kwargs) -> None:
    """A starting worker sends what is waiting, and makes good a missed daily evaluation,
    at once rather than at the next beat tick."""
    sender.app.send_task("targets.tasks.dispatch_pending")
