"""The progress-entry workflow (DESIGN §2).

draft ──submit──▶ submitted ──approve──▶ approved
  ▲                   │
  └─(edit)─ returned ◀┘ return (with a comment) ── resubmit ──▶ submitted

Every transition is one function here; each checks who may make it. The entries file is
imported by ``targets.services.imports``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from targets import access, rules
from targets.errors import NotAllowed, WorkflowError
from targets.models import EntryStatus, ProgressEntry, Target
from targets.numbers import parse_value
from targets.services.alerts import alerts_settle_period

EDITABLE = (EntryStatus.DRAFT, EntryStatus.RETURNED)

# Called once with the targets whose entries were just approved: the evaluation service's
# targets_reassess, so that an approval re-assesses its target at once.
AfterApproval = Callable[[list[Target]], object]


def period_of(target: Target, key: str) -> rules.Period:
    period = rules.find_period(target.spec(milestones=[]), str(key).strip())
    if period is None:
        periods = target.reporting_periods()
        span = f"{periods[0].key} … {periods[-1].key}" if periods else "—"
        raise WorkflowError(
            _("“%(period)s” is not a reporting period of %(code)s (%(span)s).")
            % {"period": key, "code": target.code, "span": span},
            "period",
        )
    return period


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise NotAllowed(message)


def _require_state(entry: ProgressEntry, states: tuple[str, ...], action: str) -> None:
    if entry.status not in states:
        raise WorkflowError(
            _("An entry that is %(state)s cannot be %(action)s.")
            % {"state": entry.get_status_display().lower(), "action": action}
        )


@transaction.atomic
def entry_save_draft(
    *,
    user,
    target: Target,
    period: str,
    value: Any,
    note: str = "",
    evidence_url: str = "",
    evidence_file=None,
    entry: ProgressEntry | None = None,
) -> ProgressEntry:
    """Create the entry for (target, period), or change a draft or returned one."""
    _require(access.can_enter(user, target), _("You may not report on this target."))
    found = period_of(target, period)
    number = parse_value(value, target.value_type)
    if entry is None:
        entry = (
            ProgressEntry.objects.select_for_update()
            .filter(target=target, period=found.key)
            .first()
        )
    if entry is None:
        entry = ProgressEntry(target=target, author=user, status=EntryStatus.DRAFT)
    else:
        if entry.target_id != target.pk or (entry.period and entry.period != found.key):
            existing = ProgressEntry.objects.filter(target=target, period=found.key).first()
            if existing and existing.pk != entry.pk:
                raise WorkflowError(
                    _("%(code)s already has an entry for %(period)s.")
                    % {"code": target.code, "period": found.key},
                    "period",
                )
        _require_state(entry, EDITABLE, _("changed"))
    entry.target = target
    entry.period = found.key
    entry.period_start = found.start
    entry.period_end = found.end
    entry.value = number
    entry.last_editor = user
    entry.note = note or ""
    entry.evidence_url = evidence_url or ""
    if evidence_file is not None:
        entry.evidence_file = evidence_file
    entry.save()
    return entry


@transaction.atomic
def entry_submit(*, user, entry: ProgressEntry) -> ProgressEntry:
    """draft → submitted, and returned → submitted (a resubmission)."""
    entry = ProgressEntry.objects.select_for_update().select_related(
        "target__responsible_unit"
    ).get(pk=entry.pk)
    _require(access.can_enter(user, entry.target), _("You may not report on this target."))
    _require_state(entry, EDITABLE, _("submitted"))
    entry.status = EntryStatus.SUBMITTED
    entry.submitted_at = timezone.now()
    entry.submitted_by = user
    entry.save(update_fields=["status", "submitted_at", "submitted_by", "updated_at"])
    alerts_settle_period(target_id=entry.target_id, period=entry.period)
    return entry


@transaction.atomic
def entry_approve(
    *, user, entry: ProgressEntry, after_approval: AfterApproval | None = None
) -> ProgressEntry:
    """submitted → approved, by a manager of the target's unit who is not the author."""
    entry = ProgressEntry.objects.select_for_update().select_related(
        "target__responsible_unit"
    ).get(pk=entry.pk)
    _require(access.can_review(user, entry.target), _("You may not review this entry."))
    _require(
        user.pk not in (entry.author_id, entry.last_editor_id, entry.submitted_by_id),
        _("Nobody approves their own entry."),
    )
    _require_state(entry, (EntryStatus.SUBMITTED,), _("approved"))
    entry.status = EntryStatus.APPROVED
    entry.reviewer = user
    entry.review_comment = ""
    entry.reviewed_at = timezone.now()
    entry.save(update_fields=["status", "reviewer", "review_comment", "reviewed_at", "updated_at"])
    if after_approval is not None:
        after_approval([entry.target])
    return entry


@transaction.atomic
def entry_return(*, user, entry: ProgressEntry, comment: str) -> ProgressEntry:
    """submitted → returned, with the reviewer's comment saying what to fix."""
    entry = ProgressEntry.objects.select_for_update().select_related(
        "target__responsible_unit"
    ).get(pk=entry.pk)
    _require(access.can_review(user, entry.target), _("You may not review this entry."))
    if not (comment or "").strip():
        raise WorkflowError(_("Say what needs fixing: a comment is required."), "comment")
    _require_state(entry, (EntryStatus.SUBMITTED,), _("returned"))
    entry.status = EntryStatus.RETURNED
    entry.reviewer = user
    entry.review_comment = comment.strip()
    entry.reviewed_at = timezone.now()
    entry.save(update_fields=["status", "reviewer", "review_comment", "reviewed_at", "updated_at"])
    return entry
