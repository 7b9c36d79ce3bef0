"""Thin Celery tasks over the services: they take ids and dates, read settings, call one service."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from targets.services import accounts, daily, delivery, import_jobs
from targets.services.alerts import AlertSettings


@shared_task(acks_late=True)
def evaluate_all(on: str | None = None) -> int:
    """The daily evaluation: every day missed since the last recorded one, then ``on``
    (ISO date; default today in Asia/Ho_Chi_Minh); the number of alerts recorded.

    Idempotent: a second run for a recorded date does nothing and records no alert.
    """
    day = date.fromisoformat(on) if on else timezone.localdate()
    runs = daily.evaluations_catch_up(
        through=day,
        catch_up_days=settings.EVALUATION_CATCH_UP_DAYS,
        alert_settings=AlertSettings.from_settings(),
    )
    return sum(run.alerts_created for run in runs)


@shared_task(acks_late=True)
def evaluate_missed() -> int:
    """Make good the daily evaluations missed since the last recorded one (a beat tick lost
    while the broker was down); nothing before the first scheduled run."""
    runs = daily.evaluations_catch_up(
        through=daily.evaluation_due_day(
            now=timezone.now(), hour=settings.EVALUATION_DAILY_HOUR
        ),
        catch_up_days=settings.EVALUATION_CATCH_UP_DAYS,
        alert_settings=AlertSettings.from_settings(),
        start=False,
    )
    return sum(run.alerts_created for run in runs)


@shared_task(acks_late=True)
def dispatch_pending() -> int:
    """Queue every digest whose time has come (new, a retry due, a dead worker's claim) and
    start a missed daily evaluation: the retry net, every minute and at a worker's start."""
    if daily.evaluation_missed(now=timezone.now(), hour=settings.EVALUATION_DAILY_HOUR):
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
def import_entries(job_id: int) -> str:
    """Import a confirmed entries file; a task that runs twice imports it once (the claim)."""
    job = import_jobs.import_job_run(job_id=job_id)
    return job.state if job is not None else "not claimed"


@shared_task(acks_late=True)
def send_password_reset(email: str) -> int:
    """Mail a reset link to the accounts with this address (none: nothing, nobody told)."""
    return accounts.password_reset_send(
        email=email, site_url=settings.SITE_URL, from_email=settings.DEFAULT_FROM_EMAIL
    )
