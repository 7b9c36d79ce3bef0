"""A user's alerts in the app: reading them, marking them read or acknowledged."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from targets.models import AlertRecipient


def inbox_for(*, user) -> QuerySet[AlertRecipient]:
    """The user's own alerts, newest first."""
    return (
        AlertRecipient.objects.filter(user=user)
        .select_related("alert__target")
        .order_by("-alert__created_at", "-alert_id")
    )


def unread_count(*, user) -> int:
    return AlertRecipient.objects.filter(user=user, read_at__isnull=True).count()


def _own(user, recipient_id: int) -> QuerySet[AlertRecipient]:
    rows = AlertRecipient.objects.filter(pk=recipient_id, user=user)
    if not rows.exists():
        raise Http404  # someone else's alert reads the same as no alert
    return rows


def alert_mark_read(*, user, recipient_id: int) -> None:
    _own(user, recipient_id).filter(read_at__isnull=True).update(read_at=timezone.now())


def alert_acknowledge(*, user, recipient_id: int) -> None:
    """Acknowledging says "I am on it"; it also marks the alert read."""
    rows = _own(user, recipient_id)
    now = timezone.now()
    rows.filter(read_at__isnull=True).update(read_at=now)
    rows.filter(acknowledged_at__isnull=True).update(acknowledged_at=now)


def alerts_mark_all_read(*, user) -> int:
    return AlertRecipient.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
