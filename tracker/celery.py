"""The Celery app: Redis broker, tasks in targets/tasks.py, the beat schedule.

Run any number of workers (``celery -A tracker worker``) and exactly one beat
(``celery -A tracker beat``) against one Redis and one PostgreSQL.
"""

import os

from celery import Celery
from celery.schedules import crontab
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")

app = Celery("tracker")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    # 06:00 in CELERY_TIMEZONE (Asia/Ho_Chi_Minh): judge every target, record alerts.
    "evaluate-targets-daily": {
        "task": "targets.tasks.evaluate_all",
        "schedule": crontab(hour=6, minute=0),
    },
    # The retry net: pending digests whose task was lost, claims of dead workers.
    "dispatch-pending-digests": {
        "task": "targets.tasks.dispatch_pending",
        "schedule": 600.0,
    },
}


@worker_ready.connect
def dispatch_on_start(sender, **kwargs) -> None:
    """A starting worker sends what is waiting at once rather than at the next beat tick."""
    sender.app.send_task("targets.tasks.dispatch_pending")
