"""Thin Celery tasks over the services: they take ids and dates, read settings, call one service."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from targets.services import delivery, import_jobs
from targets.services.alerts import AlertSettings
from targets.services.evaluation import targets_evaluate


@shared_task(acks_late=True)
def evaluate_all(on: str | None = None) -> int:
    """Assess every target at ``on`` (ISO date; default today in Asia/Ho_Chi_Minh).

    Idempotent: a second run for the same date records no alert.
    """
    day = date.fromisoformat(on) if on else timezone.localdate()
    run = targets_evaluate(on=day, alert_settings=AlertSettings.from_settings())
    return run.alerts_created


@shared_task(acks_late=True)
def dispatch_pending() -> int:
    """Queue every digest that is waiting: the retry net behind the on-commit queueing."""
    ids = delivery.digests_due(policy=delivery.DeliveryPolicy.from_settings())
    return delivery.digests_enqueue(ids)


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=delivery.RETRYABLE,
    retry_backoff=True,
    retry_backoff_max=settings.ALERT_DELIVERY_BACKOFF_MAX,
    retry_jitter=True,
    max_retries=settings.ALERT_DELIVERY_MAX_RETRIES,
)
def send_digest(self, digest_id: int) -> str:
    """Send one digest; a task that runs twice sends once (the claim decides)."""
    final = self.request.retries >= self.max_retries
    return delivery.digest_deliver(
        digest_id=digest_id, policy=delivery.DeliveryPolicy.from_settings(), final=final
    )


@shared_task(acks_late=True)
def import_entries(job_id: int) -> str:
    """Import a confirmed entries file; a task that runs twice imports it once (the claim)."""
    job = import_jobs.import_job_run(job_id=job_id)
    return job.state if job is not None else "not claimed"
