"""A user's alerts in the app: reading them, marking them read or acknowledged.

Only alerts on targets the user may still see: someone who lost a membership loses its
alerts with it (they come back, as they were, if the membership does).
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from targets import access
from targets.models import AlertRecipient


def _visible(user) -> QuerySet[AlertRecipient]:
    return AlertRecipient.objects.filter(
        user=user, alert__target__in=access.targets_visible_to(user)
    )


# Which alerts the inbox lists: those still open (the default), those resolved, or all.
STATES = ("open", "resolved", "all")


def inbox_for(*, user, state: str = "open") -> QuerySet[AlertRecipient]:
    """The user's own alerts on targets they may see, newest first: open (the condition still
    holds, or news not yet resolved), resolved, or all."""
    rows = _visible(user)
    if state == "open":
        rows = rows.filter(alert__resolved_at__isnull=True)
    elif state == "resolved":
        rows = rows.filter(alert__resolved_at__isnull=False)
    return rows.select_related("alert__target").order_by("-alert__created_at", "-alert_id")


def unread_count(*, user) -> int:
    """Alerts to look at: not read and not resolved (a resolved one needs nobody)."""
    return _visible(user).filter(read_at__isnull=True, alert__resolved_at__isnull=True).count()


def _own(user, recipient_id: int) -> QuerySet[AlertRecipient]:
    rows = _visible(user).filter(pk=recipient_id)
    if not rows.exists():
        raise Http404  # someone else's alert, or one out of sight, reads the same as no alert
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
    return _visible(user).filter(read_at__isnull=True).update(read_at=timezone.now())
