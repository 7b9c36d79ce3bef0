"""Delivering digests exactly once, as far as SMTP allows (DESIGN §4).

A digest moves pending → sending → sent. A failed try leaves it ``failed`` with the
error and the time of its next try (``next_attempt_at``).

- *Claim*: one conditional UPDATE committed on its own before anything is sent, which
  also counts the try (``attempts + 1``). Claimable: ``pending``, or ``sending`` whose
  claim is older than the lease (its worker died) — and only while ``attempts`` is below
  the budget (``max_attempts``). Whoever changed the row owns the send; every other
  worker, dispatcher or duplicate task message sees zero rows changed and does nothing.
- *Send*; *mark sent* only after the server accepted the message, and only if the claim
  is still ours. The Message-ID is the same on every try.
- *Batches*: digests are queued a batch (``BATCH``) per task message; the task reads the
  batch's digests and alerts in two queries and sends them over one SMTP connection,
  each digest still claimed, sent and marked on its own. A connection that failed is
  closed and the next digest gets a fresh one.
- *One retry budget per digest*, however many task messages exist: the tries are counted
  on the row, not per message, and Celery never retries a send by itself. An SMTP or
  connection error sets the digest ``failed`` with ``next_attempt_at = now + delay``,
  the delay doubling from ``retry_delay`` up to ``retry_delay_max`` (less up to a fifth at
  random, so that digests failing together do not come back together). A failed digest
  is not claimable: only the dispatcher (every minute) reopens it to ``pending`` once its
  time has come and queues it, so the copies of a task still in the queue cannot spend
  the budget faster than the delays allow. After ``max_attempts`` tries — or at once for
  any other error (no address, a template error) — it stays ``failed`` with no next try,
  for a person (admin: re-send, which gives it a fresh budget).
- The dispatcher also re-queues a ``pending`` digest whose task message may have been
  lost (the broker down at commit), at most once per lease: ``next_attempt_at`` of a
  pending digest is when the dispatcher looks at it again.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterable, Sequence
from contextlib import closing, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial
from smtplib import SMTPException

from celery import current_app
from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from targets import notifications
from targets.models import AlertRecipient, DeliveryState, Digest

log = logging.getLogger(__name__)

# Errors worth another try: the mail server refused for now, or could not be reached.
RETRYABLE = (SMTPException, OSError)
JITTER = 0.2  # below one half, so that each delay stays longer than the one before
SEND_DIGESTS = "targets.tasks.send_digests"
SEND_DIGEST = "targets.tasks.send_digest"  # one digest: messages queued before batches
# Digests per task message: per-message overhead and SMTP handshakes are paid once per
# batch, and a batch is still small enough to spread over every worker process.
BATCH = 50


@dataclass(frozen=True)
class DeliveryPolicy:
    """How digests are delivered. Built once at the edges (the tasks) with ``from_settings``:
    the defaults live in the settings only."""

    lease: timedelta  # longer than any send can take (EMAIL_TIMEOUT)
    retry_delay: timedelta  # after the first failed try; then doubled
    retry_delay_max: timedelta
    # After this many tries in all, a failed digest waits for a person (admin: re-send).
    max_attempts: int
    site_url: str
    from_email: str

    @classmethod
    def from_settings(cls) -> DeliveryPolicy:
        return cls(
            lease=timedelta(seconds=settings.ALERT_SENDING_LEASE),
            retry_delay=timedelta(seconds=settings.ALERT_DELIVERY_RETRY_DELAY),
            retry_delay_max=timedelta(seconds=settings.ALERT_DELIVERY_RETRY_DELAY_MAX),
            max_attempts=settings.ALERT_DELIVERY_MAX_ATTEMPTS,
            site_url=settings.SITE_URL,
            from_email=settings.DEFAULT_FROM_EMAIL,
        )

    def retry_after(self, attempts: int, *, rand: Callable[[], float] = random.random
                    ) -> timedelta:
        """The wait after the ``attempts``-th failed try: 1, 2, 4 … × ``retry_delay``,
        at most ``retry_delay_max``, less up to ``JITTER`` of it at random."""
        first = self.retry_delay.total_seconds()
        longest = self.retry_delay_max.total_seconds()
        seconds = min(first * 2.0 ** min(attempts - 1, 64), longest)
        return timedelta(seconds=seconds * (1 - JITTER * rand()))


class Outcome(StrEnum):
    SENT = "sent"
    NOT_CLAIMED = "not_claimed"  # sent already, or another worker holds a fresh claim
    RETRY_LATER = "retry_later"  # failed; the dispatcher tries again at next_attempt_at
    FAILED = "failed"  # failed with the budget spent: waits for a person


# --- queueing ---------------------------------------------------------------------


def digests_enqueue(digest_ids: Iterable[int]) -> int:
    """Queue a send task per batch of digests; the number of digests queued. A broker
    outage is logged, not raised: the dispatcher (every minute) finds every pending
    digest anyway."""
    ids = list(digest_ids)
    queued = 0
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        try:
            # By name: services sit below the tasks and never import them.
            current_app.send_task(
                SEND_DIGESTS, args=[batch], retry=True,
                retry_policy={"max_retries": 2, "interval_start": 0.2},
            )
        except Exception as exc:  # kombu raises several kinds for an unreachable broker
            log.warning("Could not queue %d digests (%s); dispatch_pending will send them",
                        len(ids) - queued, exc)
            break
        queued += len(batch)
    return queued


def digests_enqueue_on_commit(digest_ids: Iterable[int]) -> None:
    """Queue the digests once the transaction that created them has committed."""
    ids = list(digest_ids)
    if ids:
        transaction.on_commit(partial(digests_enqueue, ids), robust=True)


# --- claiming and sending ---------------------------------------------------------


def _claimable(policy: DeliveryPolicy, now: datetime) -> Q:
    return Q(attempts__lt=policy.max_attempts) & (
        Q(state=DeliveryState.PENDING)
        | Q(state=DeliveryState.SENDING, claimed_at__lt=now - policy.lease)
    )


def digest_claim(
    *, digest_id: int, policy: DeliveryPolicy, now: datetime | None = None
) -> datetime | None:
    """Claim a digest for sending and count the try; the claim's timestamp, or None when
    someone else has it, it is not due, or its budget of tries is spent.

    Runs in autocommit so that the claim is visible to every other worker before
    the send starts.
    """
    now = now or timezone.now()
    changed = Digest.objects.filter(_claimable(policy, now), pk=digest_id).update(
        state=DeliveryState.SENDING,
        claimed_at=now,
        attempts=F("attempts") + 1,
        next_attempt_at=None,
    )
    return now if changed == 1 else None


def _release(digest_id: int, claimed_at: datetime, **fields) -> int:
    """Update a digest only while our claim holds (nobody re-claimed it after the lease)."""
    return Digest.objects.filter(
        pk=digest_id, state=DeliveryState.SENDING, claimed_at=claimed_at
    ).update(**fields)


class _Connection:
    """One SMTP connection for a batch of digests, opened at the first send. After any
    failure it is closed, so that the next digest gets a fresh one."""

    def __init__(self) -> None:
        self.backend = None

    def send(self, message) -> None:
        try:
            if self.backend is None:
                self.backend = get_connection(fail_silently=False)
                self.backend.open()
            accepted = self.backend.send_messages([message])
        except BaseException:
            self.close()
            raise
        if accepted != 1:
            self.close()
            raise ValueError("the mail server did not accept the message")

    def close(self) -> None:
        backend, self.backend = self.backend, None
        if backend is not None:
            with suppress(Exception):  # a broken connection: nothing left to close cleanly
                backend.close()


def _deliver(
    digest: Digest,
    items: Sequence[AlertRecipient],
    *,
    policy: DeliveryPolicy,
    connection: _Connection,
    now: datetime | None,
) -> Outcome:
    """Claim, send and mark one digest (read beforehand, with its ``items``)."""
    now = now or timezone.now()
    claimed_at = digest_claim(digest_id=digest.pk, policy=policy, now=now)
    if claimed_at is None:
        return Outcome.NOT_CLAIMED
    try:
        if not digest.user.email:
            raise ValueError("the recipient has no email address")
        connection.send(
            notifications.digest_message(
                digest, items=items, site_url=policy.site_url, from_email=policy.from_email
            )
        )
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        retryable = isinstance(exc, RETRYABLE)
        # The try our claim counted (the digest was read before it).
        attempts = Digest.objects.values_list("attempts", flat=True).get(pk=digest.pk)
        if retryable and attempts < policy.max_attempts:
            retry_at = now + policy.retry_after(attempts)
            _release(digest.pk, claimed_at, state=DeliveryState.FAILED, last_error=error,
                     next_attempt_at=retry_at)
            log.warning("Digest %s: try %d failed (%s); next try at %s",
                        digest.pk, attempts, error, retry_at.isoformat())
            return Outcome.RETRY_LATER
        _release(digest.pk, claimed_at, state=DeliveryState.FAILED, last_error=error,
                 next_attempt_at=None)
        if not retryable:
            raise
        log.error("Digest %s: try %d failed (%s); no tries left, re-send it from the admin",
                  digest.pk, attempts, error)
        return Outcome.FAILED
    _release(
        digest.pk, claimed_at, state=DeliveryState.SENT, sent_at=timezone.now(), last_error=""
    )
    return Outcome.SENT


def _read(digest_ids: list[int]) -> tuple[dict[int, Digest], dict[int, list[AlertRecipient]]]:
    """The digests with their recipients' profiles, and their alerts: two queries."""
    digests = Digest.objects.select_related("user__profile").in_bulk(digest_ids)
    return digests, notifications.digest_items(digest_ids)


def digest_deliver(
    *, digest_id: int, policy: DeliveryPolicy, now: datetime | None = None
) -> Outcome:
    """Claim, send and mark one digest.

    An SMTP or connection error leaves it ``failed`` with the error and, while the
    budget lasts, the time of its next try (``RETRY_LATER``; ``FAILED`` once spent).
    Any other error leaves it ``failed`` with no next try and is raised.
    """
    digests, items = _read([digest_id])
    if digest_id not in digests:  # deleted since it was queued
        return Outcome.NOT_CLAIMED
    with closing(_Connection()) as connection:
        return _deliver(digests[digest_id], items.get(digest_id, []), policy=policy,
                        connection=connection, now=now)


def digests_deliver(
    *, digest_ids: Sequence[int], policy: DeliveryPolicy
) -> dict[int, Outcome]:
    """``digest_deliver`` for a batch, over one SMTP connection: the outcome of each.

    An error that is not the mail server's (no address, a template error) is logged and
    leaves that digest ``failed``; the batch goes on.
    """
    ids = list(digest_ids)
    digests, items = _read(ids)
    outcomes: dict[int, Outcome] = {}
    with closing(_Connection()) as connection:
        for pk in ids:
            if pk not in digests:
                outcomes[pk] = Outcome.NOT_CLAIMED
                continue
            try:
                outcomes[pk] = _deliver(digests[pk], items.get(pk, []), policy=policy,
                                        connection=connection, now=None)
            except Exception:
                log.exception("Digest %s: could not be sent; re-send it from the admin", pk)
                outcomes[pk] = Outcome.FAILED
    return outcomes


def digests_due(*, policy: DeliveryPolicy, now: datetime | None = None) -> list[int]:
    """The digests a dispatcher should queue now, marked so that it does not queue them
    again before a lease has passed.

    Failed digests whose next try has come are reopened (``pending``); a claim of a worker
    that died on the budget's last try is failed for a person. Then: every claimable
    digest (pending, a dead worker's claim) that is not waiting for its ``next_attempt_at``.
    """
    now = now or timezone.now()
    Digest.objects.filter(
        state=DeliveryState.FAILED, next_attempt_at__lte=now, attempts__lt=policy.max_attempts
    ).update(state=DeliveryState.PENDING, next_attempt_at=None)
    Digest.objects.filter(
        state=DeliveryState.SENDING,
        claimed_at__lt=now - policy.lease,
        attempts__gte=policy.max_attempts,
    ).update(
        state=DeliveryState.FAILED,
        next_attempt_at=None,
        last_error="the worker stopped during the last try",
    )
    due = Digest.objects.filter(_claimable(policy, now)).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    ids = list(due.order_by("pk").values_list("pk", flat=True))
    due.filter(pk__in=ids).update(next_attempt_at=now + policy.lease)  # not claimed since
    return ids


@transaction.atomic
def digests_resend(*, digest_ids: Iterable[int]) -> int:
    """Put failed digests back to pending with a fresh budget of tries (the admin's
    "re-send") and queue them."""
    ids = list(
        Digest.objects.select_for_update()
        .filter(pk__in=list(digest_ids), state=DeliveryState.FAILED)
        .values_list("pk", flat=True)
    )
    changed = Digest.objects.filter(pk__in=ids, state=DeliveryState.FAILED).update(
        state=DeliveryState.PENDING, attempts=0, next_attempt_at=None
    )
    digests_enqueue_on_commit(ids)
    return changed
