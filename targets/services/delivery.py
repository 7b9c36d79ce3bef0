"""Delivering digests exactly once, as far as SMTP allows (DESIGN §4).

A digest moves pending → sending → sent, or → failed after the last try.

- *Claim*: one conditional UPDATE (``state = pending``, or ``sending`` whose
  claim is older than the lease) committed on its own before anything is sent.
  Whoever changed the row owns the send; every other worker, dispatcher or
  duplicate task message sees zero rows changed and does nothing.
- *Send* over a fresh SMTP connection; *mark sent* only after the server accepted
  the message, and only if the claim is still ours.
- A worker that dies mid-send leaves ``sending``; after the lease another worker
  may claim it again. The Message-ID is the same on every attempt.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial
from smtplib import SMTPException

from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from targets import notifications
from targets.models import DeliveryState, Digest

log = logging.getLogger(__name__)

# Errors worth another try: the mail server refused for now, or could not be reached.
RETRYABLE = (SMTPException, OSError)


@dataclass(frozen=True)
class DeliveryPolicy:
    lease: timedelta = timedelta(minutes=15)  # longer than any send can take (EMAIL_TIMEOUT)
    failed_retry_after: timedelta = timedelta(hours=1)
    # After this many tries in all, a failed digest waits for a person (admin: re-send).
    max_attempts: int = 30
    site_url: str = "http://127.0.0.1:8000"
    from_email: str = "Target Tracker <noreply@localhost>"

    @classmethod
    def from_settings(cls) -> DeliveryPolicy:
        return cls(
            lease=timedelta(seconds=settings.ALERT_SENDING_LEASE),
            failed_retry_after=timedelta(seconds=settings.ALERT_FAILED_RETRY_AFTER),
            max_attempts=settings.ALERT_DELIVERY_MAX_ATTEMPTS,
            site_url=settings.SITE_URL,
            from_email=settings.DEFAULT_FROM_EMAIL,
        )


class Outcome(StrEnum):
    SENT = "sent"
    NOT_CLAIMED = "not_claimed"  # sent already, or another worker holds a fresh claim


# --- queueing ---------------------------------------------------------------------


def digests_enqueue(digest_ids: Iterable[int]) -> int:
    """Queue a send task per digest. A broker outage is logged, not raised: the
    periodic dispatch (every 10 minutes) finds every pending digest anyway."""
    from targets.tasks import send_digest

    queued = 0
    for pk in digest_ids:
        try:
            send_digest.apply_async(
                (pk,), retry=True, retry_policy={"max_retries": 2, "interval_start": 0.2}
            )
        except Exception as exc:  # kombu raises several kinds for an unreachable broker
            log.warning("Could not queue digest %s (%s); dispatch_pending will send it", pk, exc)
            break
        queued += 1
    return queued


def digests_enqueue_on_commit(digest_ids: Iterable[int]) -> None:
    """Queue the digests once the transaction that created them has committed."""
    ids = list(digest_ids)
    if ids:
        transaction.on_commit(partial(digests_enqueue, ids), robust=True)


# --- claiming and sending ---------------------------------------------------------


def digest_claim(
    *, digest_id: int, lease: timedelta, now: datetime | None = None
) -> datetime | None:
    """Claim a digest for sending; the claim's timestamp, or None when someone else has it.

    Runs in autocommit so that the claim is visible to every other worker before
    the send starts.
    """
    now = now or timezone.now()
    claimable = Q(state=DeliveryState.PENDING) | Q(
        state=DeliveryState.SENDING, claimed_at__lt=now - lease
    )
    changed = Digest.objects.filter(claimable, pk=digest_id).update(
        state=DeliveryState.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    return now if changed == 1 else None


def _release(digest_id: int, claimed_at: datetime, **fields) -> int:
    """Update a digest only while our claim holds (nobody re-claimed it after the lease)."""
    return Digest.objects.filter(
        pk=digest_id, state=DeliveryState.SENDING, claimed_at=claimed_at
    ).update(**fields)


def digest_deliver(*, digest_id: int, policy: DeliveryPolicy, final: bool = True) -> Outcome:
    """Claim, send and mark one digest.

    On an SMTP or connection error the digest goes back to ``pending`` with the
    error (``failed`` when ``final``) and the error is raised for the caller to
    retry; any other error leaves it ``failed`` at once.
    """
    claimed_at = digest_claim(digest_id=digest_id, lease=policy.lease)
    if claimed_at is None:
        return Outcome.NOT_CLAIMED
    try:
        digest = Digest.objects.select_related("user__profile").get(pk=digest_id)
        if not digest.user.email:
            raise ValueError("the recipient has no email address")
        message = notifications.digest_message(
            digest, site_url=policy.site_url, from_email=policy.from_email
        )
        # A fresh connection per digest: a broken one from an earlier failure is never reused.
        with get_connection(fail_silently=False) as connection:
            accepted = connection.send_messages([message])
        if accepted != 1:
            raise ValueError("the mail server did not accept the message")
    except Exception as exc:
        retry = not final and isinstance(exc, RETRYABLE)
        _release(
            digest_id,
            claimed_at,
            state=DeliveryState.PENDING if retry else DeliveryState.FAILED,
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        raise
    _release(
        digest_id, claimed_at, state=DeliveryState.SENT, sent_at=timezone.now(), last_error=""
    )
    return Outcome.SENT


def digests_due(*, policy: DeliveryPolicy, now: datetime | None = None) -> list[int]:
    """Digests a dispatcher should (re)queue: pending, stale claims of dead workers, and
    failed ones whose last try is older than ``policy.failed_retry_after`` (reopened)."""
    now = now or timezone.now()
    Digest.objects.filter(
        state=DeliveryState.FAILED,
        claimed_at__lt=now - policy.failed_retry_after,
        attempts__lt=policy.max_attempts,
    ).update(state=DeliveryState.PENDING)
    return list(
        Digest.objects.filter(
            Q(state=DeliveryState.PENDING)
            | Q(state=DeliveryState.SENDING, claimed_at__lt=now - policy.lease)
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@transaction.atomic
def digests_resend(*, digest_ids: Iterable[int]) -> int:
    """Put failed digests back to pending (the admin's "re-send") and queue them."""
    ids = list(
        Digest.objects.select_for_update()
        .filter(pk__in=list(digest_ids), state=DeliveryState.FAILED)
        .values_list("pk", flat=True)
    )
    changed = Digest.objects.filter(pk__in=ids, state=DeliveryState.FAILED).update(
        state=DeliveryState.PENDING
    )
    digests_enqueue_on_commit(ids)
    return changed
