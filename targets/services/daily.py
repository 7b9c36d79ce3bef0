"""The daily evaluation, and catching up the days it missed (DESIGN §4, §6).

Beat starts ``evaluate_all`` once a day (``EVALUATION_DAILY_HOUR``, local time). A tick
lost — the broker down at that moment — is made good later: a run evaluates every day
after the last one recorded in ``EvaluationDay``, oldest first and at most
``catch_up_days`` back, then the day it was started for; and the dispatcher (every
minute, and at a worker's start) starts such a run as soon as it sees the day due
missing, so the day is made good within minutes of the broker coming back.

Each missed day is evaluated as that day: its reminders, newly overdue periods and
escalations are recorded as they fell due. Alerts keep their unique keys (DESIGN §4), so
an event still true today is recorded once, on the first day it held, never again.

A day is claimed by inserting its ``EvaluationDay`` row in the transaction that
evaluates it: a run for a recorded day does nothing, and of two runs for the same day
only the one whose row commits records anything. On PostgreSQL a run also takes an
advisory lock and leaves at once when another run holds it, so runs started while one is
busy (the dispatcher, every minute) do not queue up behind it.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from targets.models import EvaluationDay
from targets.services import alerts as alerting
from targets.services.evaluation import EvaluationRun, targets_evaluate

log = logging.getLogger(__name__)

LOCK_KEY = 7_001_006  # the advisory lock of the daily evaluation (any constant of our own)


class Busy(Exception):
    """Another daily evaluation is running; it will do what this one would have."""


def evaluation_due_day(*, now: datetime, hour: int) -> date:
    """The latest day whose scheduled evaluation time (``hour``, local) has come."""
    local = timezone.localtime(now)
    return local.date() if local.hour >= hour else local.date() - timedelta(days=1)


def evaluation_days_due(*, through: date, catch_up_days: int, start: bool) -> list[date]:
    """The days to evaluate, oldest first: those after the last recorded day up to
    ``through``, at most ``catch_up_days`` before it.

    With no day recorded yet, ``[through]`` when ``start`` (the scheduled run begins the
    record), else none: a catch-up evaluates nothing on a fresh install or in the demo.
    """
    last = EvaluationDay.objects.filter(day__lte=through).aggregate(last=Max("day"))["last"]
    if last is None:
        return [through] if start else []
    first = max(last + timedelta(days=1), through - timedelta(days=catch_up_days))
    if first > last + timedelta(days=1):
        log.warning("Days %s to %s were never evaluated: more than %d days ago",
                    last + timedelta(days=1), first - timedelta(days=1), catch_up_days)
    return [first + timedelta(days=n) for n in range((through - first).days + 1)]


def evaluation_missed(*, now: datetime, hour: int) -> bool:
    """Whether the day due has no evaluation while an earlier day has (one indexed query)."""
    due = evaluation_due_day(now=now, hour=hour)
    last = (
        EvaluationDay.objects.filter(day__lte=due)
        .order_by("-day")
        .values_list("day", flat=True)
        .first()
    )
    return last is not None and last < due


def _try_lock() -> bool:
    if connection.vendor != "postgresql":
        return True  # SQLite (the demo) runs one write transaction at a time anyway
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [LOCK_KEY])
        return cursor.fetchone()[0]


def evaluation_day_run(
    *, day: date, alert_settings: alerting.AlertSettings
) -> EvaluationRun | None:
    """Evaluate ``day`` as the scheduled run and record it; None when it is recorded already.

    Raises ``Busy`` (having done nothing) while another daily evaluation runs.
    """
    with transaction.atomic():
        if not _try_lock():
            raise Busy
        # The claim: a concurrent run inserting the same day waits for this transaction,
        # then finds the row and leaves.
        _, created = EvaluationDay.objects.get_or_create(day=day)
        if not created:
            return None
        run = targets_evaluate(on=day, alert_settings=alert_settings)
        EvaluationDay.objects.filter(day=day).update(finished_at=timezone.now())
    return run


def evaluations_catch_up(
    *,
    through: date,
    catch_up_days: int,
    alert_settings: alerting.AlertSettings,
    start: bool = True,
) -> list[EvaluationRun]:
    """Evaluate the days missed before ``through`` and ``through`` itself, each in its own
    transaction (see ``evaluation_days_due``); the runs this call made."""
    runs: list[EvaluationRun] = []
    for day in evaluation_days_due(through=through, catch_up_days=catch_up_days, start=start):
        try:
            run = evaluation_day_run(day=day, alert_settings=alert_settings)
        except Busy:
            log.info("Another daily evaluation is running; it evaluates %s", day)
            break
        if run is not None:
            runs.append(run)
    return runs
