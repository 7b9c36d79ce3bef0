"""Thin Celery tasks over the services: they take ids and dates, read settings, call one service."""

from __future__ import annotations

from datetime import date, timedelta

from celery import chord, group, shared_task
from django.conf import settings
from django.utils import timezone

from targets.services import accounts, daily, delivery, explanations, import_jobs
from targets.services.alerts import AlertSettings


def _catch_up(*, through: date, start: bool) -> int:
    """Evaluate the days due through ``through``; a day split into batches goes to the
    workers as a chord (its batches in parallel, then its finish, which carries on)."""
    alert_settings = AlertSettings.from_settings()
    started = daily.evaluations_catch_up(
        through=through,
        catch_up_days=settings.EVALUATION_CATCH_UP_DAYS,
        alert_settings=alert_settings,
        split_above=settings.EVALUATION_SPLIT_ABOVE,
        batch_size=settings.EVALUATION_BATCH_SIZE,
        resume_after=timedelta(seconds=settings.EVALUATION_RESUME_AFTER),
        start=start,
    )
    for item in started:
        if isinstance(item, daily.Split):
            finish = evaluate_finish.si(item.day.isoformat(), through.isoformat())
            if item.batches:
                batches = group(evaluate_batch.si(item.day.isoformat(), i) for i in item.batches)
                chord(batches, finish).apply_async()
            else:  # every batch committed, the finish was lost: finish now
                finish.apply_async()
    return sum(item.alerts_created for item in started if not isinstance(item, daily.Split))


@shared_task(acks_late=True)
def evaluate_all(on: str | None = None) -> int:
    """The daily evaluation: every day missed since the last recorded one, then ``on``
    (ISO date; default today in Asia/Ho_Chi_Minh); the number of alerts recorded in this
    task (a day split into batches records its alerts in them).

    Idempotent: a second run for a recorded date does nothing and records no alert.
    """
    day = date.fromisoformat(on) if on else timezone.localdate()
    created = _catch_up(through=day, start=True)
    # The day's other step: explanation requests left unanswered past their due date go up
    # to the parent unit's managers, once (services.explanations).
    explanations.explanations_escalate(on=day)
    return created


@shared_task(acks_late=True)
def evaluate_missed() -> int:
    """Make good the daily evaluations missed since the last recorded one (a beat tick lost
    while the broker was down), or a split day whose batch was lost; nothing before the
    first scheduled run."""
    due = daily.evaluation_due_day(now=timezone.now(), hour=settings.EVALUATION_DAILY_HOUR)
    created = _catch_up(through=due, start=False)
    explanations.explanations_escalate(on=due)  # the missed day's escalations too
    return created


# A batch's result is what the chord waits for: kept (in the result backend), unlike others.
@shared_task(acks_late=True, ignore_result=False)
def evaluate_batch(day: str, index: int) -> int:
    """One batch of a split day (``services.daily``); run twice, it evaluates once."""
    return daily.evaluation_batch_run(
        day=date.fromisoformat(day), index=index, alert_settings=AlertSettings.from_settings()
    )


@shared_task(bind=True, acks_late=True, max_retries=10)
def evaluate_finish(self, day: str, through: str) -> int:
    """The chord's final step: the day's digests, once; then the days after it, if due."""
    try:
        digest_ids = daily.evaluation_day_finish(day=date.fromisoformat(day))
    except daily.NotFinished as exc:
        # A batch still committing (a task delivered twice finished the chord early): look
        # again shortly; the dispatcher resumes the day if this gives up.
        raise self.retry(exc=exc, countdown=30) from exc
    if date.fromisoformat(day) < date.fromisoformat(through):
        evaluate_all.delay(through)
    return len(digest_ids)


@shared_task(acks_late=True)
def dispatch_pending() -> int:
    """Queue every digest whose time has come (new, a retry due, a dead worker's claim) and
    start a missed daily evaluation: the retry net, every minute and at a worker's start."""
    if daily.evaluation_missed(
        now=timezone.now(),
        hour=settings.EVALUATION_DAILY_HOUR,
        resume_after=timedelta(seconds=settings.EVALUATION_RESUME_AFTER),
    ):
        evaluate_missed.delay()
    ids = delivery.digests_due(policy=delivery.DeliveryPolicy.from_settings())
    return delivery.digests_enqueue(ids)


@shared_task(acks_late=True)
def send_digest(digest_id: int) -> str:
    """Make one try at sending a digest; a task that runs twice sends once (the claim
    decides). No Celery retries: the digest's own budget and the dispatcher own them."""
    return delivery.digest_deliver(
        digest_id=digest_id, policy=delivery.DeliveryPolicy.from_settings()
    )


@shared_task(acks_late=True)
def send_digests(digest_ids: list[int]) -> dict[str, int]:
    """``send_digest`` for a batch of digests over one SMTP connection; how many of each
    outcome. Each digest is claimed on its own: a batch that runs twice sends each once."""
    outcomes = delivery.digests_deliver(
        digest_ids=digest_ids, policy=delivery.DeliveryPolicy.from_settings()
    )
    counts: dict[str, int] = {}
    for outcome in outcomes.values():
        counts[str(outcome)] = counts.get(str(outcome), 0) + 1
    return counts


@shared_task(acks_late=True)
def import_entries(job_id: int) -> str:
    """Import a confirmed entries file; a task that runs twice imports it once (the claim)."""
    job = import_jobs.import_job_run(job_id=job_id, reassess=AlertSettings.from_settings())
    return job.state if job is not None else "not claimed"


@shared_task(acks_late=True)
def send_password_reset(email: str) -> int:
    """Mail a reset link to the accounts with this address (none: nothing, nobody told)."""
    return accounts.password_reset_send(
        email=email, site_url=settings.SITE_URL, from_email=settings.DEFAULT_FROM_EMAIL
    )
