"""The progress-entry workflow (DESIGN §2).

draft ──submit──▶ submitted ──approve──▶ approved
  ▲                   │
  └─(edit)─ returned ◀┘ return (with a comment) ── resubmit ──▶ submitted

Every transition is one function here. Each takes ids, re-reads the entry under a row lock,
checks its state and who may make the change (``targets.access``), writes only the fields it
changes and adds one to the entry's version. A caller that showed the entry first (a form, the
review screen) passes the version it showed: if someone else changed the entry meanwhile, the
call raises StaleEntry and writes nothing, instead of overwriting that change. An approval
re-assesses its targets in the same transaction. The entries file is imported by
``targets.services.imports``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from targets import access, evidence, rules
from targets.errors import NotAllowed, StaleEntry, WorkflowError
from targets.models import EntryStatus, ProgressEntry, Target
from targets.numbers import IMPORT, entry_value
from targets.services.alerts import AlertSettings, alerts_settle_period
from targets.services.evaluation import targets_reassess

EDITABLE = access.EDITABLE
# The form checks the same; the service holds for every caller (imports, the API to come).
WEB_ADDRESS = URLValidator(schemes=["http", "https"])


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


def _label(target: Target, period: str) -> dict[str, str]:
    return {"code": target.code, "period": period}


def _require_version(entry: ProgressEntry, version: int | None) -> None:
    """``version``: the entry's version as the caller showed it; None skips the check."""
    if version is not None and entry.version != version:
        raise _changed_meanwhile(entry.target, entry.period)


def _changed_meanwhile(target: Target, period: str) -> StaleEntry:
    return StaleEntry(
        _("Someone else changed %(code)s %(period)s since you opened it, so nothing was "
          "changed: look at it again as it is now.") % _label(target, period)
    )


def _entered_meanwhile(target: Target, period: str) -> StaleEntry:
    return StaleEntry(
        _("Someone else entered %(code)s %(period)s since you opened it, so nothing was "
          "changed: look at it again as it is now.") % _label(target, period)
    )


def _locked(entries: QuerySet[ProgressEntry]) -> list[ProgressEntry]:
    """The entries, re-read under row locks taken in id order (two callers never deadlock)."""
    return list(
        entries.select_for_update(of=("self",))
        .select_related("target__responsible_unit")
        .order_by("pk")
    )


def _save(entry: ProgressEntry, fields: list[str], user) -> None:
    entry.version += 1  # under the row lock: nobody else writes the row meanwhile
    entry._history_user = user  # the history row names who did it, with or without a request
    entry.save(update_fields=[*fields, "version", "updated_at"])


# --- entering: draft, change, submit ---------------------------------------------------------


@transaction.atomic
def entry_save_draft(
    *,
    user,
    target_id: int,
    period: str,
    value: Any,
    note: str = "",
    evidence_url: str = "",
    evidence_file: File | None = None,
    version: int | None = None,
    today: date | None = None,
) -> ProgressEntry:
    """Create the entry of (target, period) as a draft, or change its draft or returned entry.

    ``value`` is a number, or text in any unambiguous notation (a form reads the user's
    language first and passes the number); it must fit the target's range, and the period must
    have started by ``today`` (the local date unless given: a report speaks for the past).

    ``version`` is the version of the entry the caller showed, 0 when it showed none (the
    entry did not exist); None skips the check. Whoever changes the entry becomes its last
    editor, who may not approve it. Saving what is already saved writes nothing.

    ``evidence_file`` must hold what its extension says (``targets.evidence``); it is stored
    under a random name, its own name kept in ``evidence_name``, and the file it replaces is
    deleted once this commits. A failed save leaves no file behind.
    """
    target = Target.objects.select_related("responsible_unit").get(pk=target_id)
    _require(access.can_enter(user, target), _("You may not report on this target."))
    if access.counts_itself(target):
        raise WorkflowError(
            _("%(code)s takes its actual from the investment register: report on its "
              "projects instead.") % {"code": target.code}
        )
    found = period_of(target, period)
    today = today or timezone.localdate()
    if not rules.period_started(found, today):
        raise WorkflowError(
            _("%(period)s has not started yet: it can be reported from %(start)s.")
            % {"period": found.key, "start": found.start.isoformat()},
            "period",
        )
    number = entry_value(value, target=target, language=None, source=IMPORT)
    evidence_url = (evidence_url or "").strip()
    if evidence_url:
        try:
            WEB_ADDRESS(evidence_url)
        except ValidationError:
            raise WorkflowError(
                _("Give the evidence link as a web address (http:// or https://)."),
                "evidence_url",
            ) from None
    content = {"value": number, "note": note or "", "evidence_url": evidence_url or ""}
    if evidence_file is None:
        return _save_draft(user=user, target=target, found=found, content=content,
                           version=version)
    problem = evidence.content_problem(evidence_file)
    if problem:
        raise WorkflowError(problem, "evidence_file")
    field = ProgressEntry._meta.get_field("evidence_file")
    content["evidence_name"] = evidence.original_name(evidence_file.name)
    content["evidence_file"] = stored = evidence.store(evidence_file, field=field)
    try:
        return _save_draft(user=user, target=target, found=found, content=content,
                           version=version)
    except BaseException:
        evidence.discard(stored, storage=field.storage)
        raise


def _save_draft(
    *, user, target: Target, found: rules.Period, content: dict, version: int | None
) -> ProgressEntry:
    entry = (
        ProgressEntry.objects.select_for_update()
        .filter(target=target, period=found.key)
        .first()
    )
    if entry is None:
        if version:  # the entry the caller showed is gone
            raise _changed_meanwhile(target, found.key)
        return _create(user=user, target=target, period=found, content=content)
    entry.target = target
    if version == 0:
        raise _entered_meanwhile(target, found.key)
    _require_version(entry, version)
    _require_state(entry, EDITABLE, _("changed"))
    changed = [name for name, new in content.items() if getattr(entry, name) != new]
    if not changed:
        return entry
    replaced = entry.evidence_file.name if "evidence_file" in changed else ""
    for name in changed:
        setattr(entry, name, content[name])
    entry.last_editor = user
    _save(entry, [*changed, "last_editor"], user)
    evidence.delete_when_unused(replaced, storage=entry.evidence_file.storage)
    return entry


def _create(*, user, target: Target, period: rules.Period, content: dict) -> ProgressEntry:
    entry = ProgressEntry(
        target=target,
        period=period.key,
        period_start=period.start,
        period_end=period.end,
        status=EntryStatus.DRAFT,
        author=user,
        last_editor=user,
        **content,
    )
    entry._history_user = user
    try:
        with transaction.atomic():  # a savepoint: the caller's transaction stays usable
            entry.save()
    except IntegrityError:
        # Two people entering the first entry of a period at once: the second insert waits
        # for the first and then breaks the one-entry-per-period constraint.
        if ProgressEntry.objects.filter(target=target, period=period.key).exists():
            raise _entered_meanwhile(target, period.key) from None
        raise
    return entry


@transaction.atomic
def entry_submit(*, user, entry_id: int, version: int | None = None) -> ProgressEntry:
    """draft → submitted, and returned → submitted (a resubmission)."""
    locked = _locked(ProgressEntry.objects.filter(pk=entry_id))
    if not locked:
        raise _gone()
    entry = locked[0]
    _require_version(entry, version)
    _require(access.can_enter(user, entry.target), _("You may not report on this target."))
    _require_state(entry, EDITABLE, _("submitted"))
    entry.status = EntryStatus.SUBMITTED
    entry.submitted_at = timezone.now()
    entry.submitted_by = user
    _save(entry, ["status", "submitted_at", "submitted_by"], user)
    alerts_settle_period(target_id=entry.target_id, period=entry.period)
    return entry


def _gone() -> WorkflowError:
    return WorkflowError(_("This entry no longer exists."))


# --- reviewing: approve, return ----------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """An entry a review left as it was, and why."""

    entry_id: int
    entry: ProgressEntry | None
    error: NotAllowed | WorkflowError

    @property
    def message(self) -> str:
        return self.error.message if isinstance(self.error, WorkflowError) else str(self.error)

    def __str__(self) -> str:
        if self.entry is None:
            return self.message
        return f"{self.entry.target.code} {self.entry.period}: {self.message}"


@dataclass(frozen=True)
class Reviewed:
    """What a review did: the entries it approved or returned, and those it refused."""

    done: list[ProgressEntry] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)

    def raise_first(self) -> None:
        if self.refused:
            raise self.refused[0].error


def _check_review(user, entry: ProgressEntry, version: int | None, action: str) -> None:
    _require_version(entry, version)
    _require(access.can_review(user, entry.target), _("You may not review this entry."))
    _require_state(entry, (EntryStatus.SUBMITTED,), action)
    _require(not access.set_value_or_submitted(user, entry), access.four_eyes_refusal(user, entry))


def _review(
    *,
    user,
    entries: list[ProgressEntry],
    entry_ids: list[int],
    versions: Mapping[int, int] | None,
    action: str,
) -> tuple[list[ProgressEntry], list[Refusal]]:
    """Check each asked-for entry; the ones that pass are returned to be changed."""
    found = {entry.pk: entry for entry in entries}
    versions = versions or {}
    passed, refused = [], []
    for entry_id in entry_ids:
        entry = found.get(entry_id)
        try:
            if entry is None:
                raise _gone()
            _check_review(user, entry, versions.get(entry_id), action)
        except (NotAllowed, WorkflowError) as exc:
            refused.append(Refusal(entry_id, entry, exc))
        else:
            passed.append(entry)
    return passed, refused


def _unique(ids: Iterable[int]) -> list[int]:
    return list(dict.fromkeys(int(pk) for pk in ids))


@transaction.atomic
def entries_approve(
    *,
    user,
    entry_ids: Iterable[int],
    versions: Mapping[int, int] | None = None,
    reassess: AlertSettings | None,
    on: date | None = None,
) -> Reviewed:
    """submitted → approved, by a manager of the target's unit (or above) who did not write,
    set or submit the value; then the approved entries' targets are re-assessed, in one run.

    Approves every entry the user may approve and reports the others with the reason (their
    state, the user's scope, four eyes, or a version that moved on: ``versions`` maps an entry
    id to the version the user looked at). ``reassess``: the alert rules of the re-assessment
    (None only for loading data that is evaluated afterwards: the demo, tests); ``on``: its
    date (today).
    """
    entry_ids = _unique(entry_ids)
    # An assessment reads every entry of its target. Locking them all (in id order) makes two
    # approvals of one target follow each other, so the later re-assessment counts both.
    target_ids = ProgressEntry.objects.filter(pk__in=entry_ids).values("target_id")
    locked = _locked(ProgressEntry.objects.filter(target_id__in=target_ids))
    approve, refused = _review(
        user=user, entries=locked, entry_ids=entry_ids, versions=versions, action=_("approved")
    )
    now = timezone.now()
    for entry in approve:
        entry.status = EntryStatus.APPROVED
        entry.reviewer = user
        entry.review_comment = ""
        entry.reviewed_at = now
        _save(entry, ["status", "reviewer", "review_comment", "reviewed_at"], user)
    if approve and reassess is not None:
        targets = {entry.target_id: entry.target for entry in approve}
        # One run for all of them: each recipient gets one digest, not one per entry.
        targets_reassess(list(targets.values()), on=on, alert_settings=reassess)
    return Reviewed(approve, refused)


@transaction.atomic
def entries_return(
    *,
    user,
    entry_ids: Iterable[int],
    comment: str,
    versions: Mapping[int, int] | None = None,
) -> Reviewed:
    """submitted → returned with the reviewer's comment saying what to fix, for every entry the
    user may review; the others are reported with the reason, as by ``entries_approve``."""
    comment = (comment or "").strip()
    if not comment:
        raise WorkflowError(_("Say what needs fixing: a comment is required."), "comment")
    entry_ids = _unique(entry_ids)
    locked = _locked(ProgressEntry.objects.filter(pk__in=entry_ids))
    returned, refused = _review(
        user=user, entries=locked, entry_ids=entry_ids, versions=versions, action=_("returned")
    )
    now = timezone.now()
    for entry in returned:
        entry.status = EntryStatus.RETURNED
        entry.reviewer = user
        entry.review_comment = comment
        entry.reviewed_at = now
        _save(entry, ["status", "reviewer", "review_comment", "reviewed_at"], user)
    return Reviewed(returned, refused)


def entry_approve(
    *,
    user,
    entry_id: int,
    reassess: AlertSettings | None,
    version: int | None = None,
    on: date | None = None,
) -> ProgressEntry:
    """Approve one entry (``entries_approve``); raises NotAllowed or WorkflowError if refused."""
    reviewed = entries_approve(
        user=user, entry_ids=[entry_id], versions=_one(entry_id, version), on=on,
        reassess=reassess,
    )
    reviewed.raise_first()
    return reviewed.done[0]


def entry_return(
    *, user, entry_id: int, comment: str, version: int | None = None
) -> ProgressEntry:
    """Return one entry (``entries_return``); raises NotAllowed or WorkflowError if refused."""
    reviewed = entries_return(
        user=user, entry_ids=[entry_id], comment=comment, versions=_one(entry_id, version)
    )
    reviewed.raise_first()
    return reviewed.done[0]


def _one(entry_id: int, version: int | None) -> dict[int, int]:
    return {} if version is None else {int(entry_id): version}
