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
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from targets.models import EvaluationDay, Target
from targets.services import alerts as alerting
from targets.services import delivery
from targets.services.evaluation import EvaluationRun, evaluation_targets, targets_evaluate

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


def evaluation_missed(*, now: datetime, hour: int, resume_after: timedelta) -> bool:
    """Whether the day due has no evaluation while an earlier day has, or a day split into
    batches has not finished within ``resume_after`` of its start (a batch lost with a
    worker): two indexed queries."""
    due = evaluation_due_day(now=now, hour=hour)
    last = (
        EvaluationDay.objects.filter(day__lte=due)
        .order_by("-day")
        .values_list("day", flat=True)
        .first()
    )
    stalled = EvaluationDay.objects.filter(
        finished_at__isnull=True, started_at__lt=now - resume_after
    ).exists()
    return stalled or (last is not None and last < due)


def _try_lock() -> bool:
    if connection.vendor != "postgresql":
        return True  # SQLite (the demo) runs one write transaction at a time anyway
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [LOCK_KEY])
        return cursor.fetchone()[0]


@dataclass(frozen=True)
class Split:
    """A day handed to the workers: its batches to run (by index), then its finish."""

    day: date
    run: str
    batches: list[int]


Started = EvaluationRun | Split


def evaluation_day_run(
    *,
    day: date,
    alert_settings: alerting.AlertSettings,
    split_above: int,
    batch_size: int,
    resume_after: timedelta,
) -> Started | None:
    """Evaluate ``day`` as the scheduled run, or hand it to the workers in batches when it
    has more than ``split_above`` targets (a ``Split`` to start once this commits); None
    when the day is recorded already, or split and still running.

    Raises ``Busy`` (having done nothing) while another daily evaluation starts a day.
    """
    with transaction.atomic():
        if not _try_lock():
            raise Busy
        # The claim: a concurrent run inserting the same day waits for this transaction,
        # then finds the row and leaves.
        row, created = EvaluationDay.objects.select_for_update().get_or_create(day=day)
        if not created:
            return _resumed(row, resume_after=resume_after)
        codes = list(Target.objects.order_by("code").values_list("code", flat=True))
        if len(codes) > split_above:
            row.run = alerting.new_run_id()
            row.batches = _ranges(codes, batch_size)
            row.save(update_fields=["run", "batches"])
            return Split(day, row.run, list(range(len(row.batches))))
        run = targets_evaluate(on=day, alert_settings=alert_settings, collect=False)
        EvaluationDay.objects.filter(day=day).update(run=run.run, finished_at=timezone.now())
    return run


def _ranges(codes: list[str], batch_size: int) -> list[list[str | None]]:
    """[after, through] code bounds of each batch of ``batch_size`` targets in code order; the
    first starts at the beginning and the last runs to the end, so a target added meanwhile
    falls into a batch too."""
    bounds: list[list[str | None]] = []
    after: str | None = None
    for start in range(0, len(codes), batch_size):
        chunk = codes[start : start + batch_size]
        through = chunk[-1] if start + batch_size < len(codes) else None
        bounds.append([after, through])
        after = through
    return bounds


def _resumed(row: EvaluationDay, *, resume_after: timedelta) -> Split | None:
    """A split day whose batches have not all finished within ``resume_after``: the ones not
    done, to run again (the others are committed and stay)."""
    if row.finished_at is not None or not row.batches:
        return None
    if row.started_at > timezone.now() - resume_after:
        return None  # still running, as far as anyone can tell
    row.started_at = timezone.now()
    row.save(update_fields=["started_at"])
    done = set(row.batches_done)
    return Split(row.day, row.run, [i for i in range(len(row.batches)) if i not in done])


def evaluation_batch_run(
    *, day: date, index: int, alert_settings: alerting.AlertSettings
) -> int:
    """Evaluate one batch of a split day, in its own transaction; the alerts it recorded.

    A batch already committed (a task delivered twice, a resumed day) does nothing; run twice
    at once, both write the same assessments and the alerts' unique keys record each once.
    """
    with transaction.atomic():
        row = EvaluationDay.objects.get(day=day)
        if index in row.batches_done or row.finished_at is not None:
            return 0
        after, through = row.batches[index]
        chosen = evaluation_targets()
        if after is not None:
            chosen = chosen.filter(code__gt=after)
        if through is not None:
            chosen = chosen.filter(code__lte=through)
        run = targets_evaluate(
            on=day, alert_settings=alert_settings, targets=chosen, collect=False,
            run=row.run, make_digests=False,
        )
        # Recorded last, under the row's lock for the moment until commit: batches finishing
        # together each see the others' indexes.
        row = EvaluationDay.objects.select_for_update().get(day=day)
        row.batches_done = sorted({*row.batches_done, index})
        row.save(update_fields=["batches_done"])
    return run.alerts_created


class NotFinished(Exception):
    """Some batches of the day have not committed yet."""


def evaluation_day_finish(*, day: date) -> list[int]:
    """Finish a split day once all its batches have committed: one digest per recipient of
    the run's alerts, queued on commit; the day recorded as finished. Raises NotFinished
    before that; a second call finds it finished and does nothing."""
    with transaction.atomic():
        row = EvaluationDay.objects.select_for_update().get(day=day)
        if row.finished_at is not None:
            return []
        if len(row.batches_done) < len(row.batches):
            raise NotFinished(f"{len(row.batches_done)} of {len(row.batches)} batches done")
        digest_ids = alerting.digests_make(run=row.run, on=day)
        delivery.digests_enqueue_on_commit(digest_ids)
        row.finished_at = timezone.now()
        row.save(update_fields=["finished_at"])
    return digest_ids


def evaluations_catch_up(
    *,
    through: date,
    catch_up_days: int,
    alert_settings: alerting.AlertSettings,
    split_above: int,
    batch_size: int,
    resume_after: timedelta,
    start: bool = True,
) -> list[Started]:
    """Evaluate the days missed before ``through`` and ``through`` itself, oldest first, each
    in its own transaction (see ``evaluation_days_due``); what this call did of each.

    Stops at a day split into batches, or still running: the next day is evaluated against
    this one's assessments, so it waits for its finish (which starts this again)."""
    started: list[Started] = []
    running = EvaluationDay.objects.filter(finished_at__isnull=True).order_by("day").first()
    if running is not None:
        resumed = _resume_locked(running, resume_after=resume_after)
        return [resumed] if resumed is not None else []
    for day in evaluation_days_due(through=through, catch_up_days=catch_up_days, start=start):
        try:
            done = evaluation_day_run(
                day=day, alert_settings=alert_settings, split_above=split_above,
                batch_size=batch_size, resume_after=resume_after,
            )
        except Busy:
            log.info("Another daily evaluation is running; it evaluates %s", day)
            break
        if done is not None:
            started.append(done)
        if isinstance(done, Split):
            break
    return started


def _resume_locked(row: EvaluationDay, *, resume_after: timedelta) -> Split | None:
    with transaction.atomic():
        row = EvaluationDay.objects.select_for_update().get(pk=row.pk)
        return _resumed(row, resume_after=resume_after)
