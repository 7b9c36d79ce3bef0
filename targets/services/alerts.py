"""Alerts (DESIGN §4): transitions become alerts, alerts reach their recipients.

An evaluation compares each new assessment with the previous one and records
an Alert only on a transition. Every alert has a unique key; rows are written
with INSERT … ON CONFLICT DO NOTHING (``bulk_create(ignore_conflicts=True)``)
and read back by the run that wrote them, so a re-run of the same date or two
evaluations at once never record an event twice, and ``alerts_created``
counts exactly the rows this run inserted.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from targets import rules, verdicts
from targets.models import (
    Alert,
    AlertKind,
    AlertRecipient,
    DeliveryState,
    Digest,
    Role,
    Status,
    Target,
)
from targets.services import delivery

if TYPE_CHECKING:
    from targets.services.evaluation import Evaluated

PROBLEM_STATUSES = (Status.LAGGING, Status.MISSED)  # rules.is_problem, as a query filter
# Kinds that stay open until their condition clears; the others are news, not conditions.
RESOLVED_ON_RECOVERY = (AlertKind.WORSENED, AlertKind.ESCALATED)


@dataclass(frozen=True)
class AlertSettings:
    """The alert rules of a deployment. Built once at the edges (tasks, commands, views) with
    ``from_settings``: the defaults live in the settings only."""

    escalation_days: int
    reminder_days: int

    @classmethod
    def from_settings(cls) -> AlertSettings:
        return cls(escalation_days=settings.ESCALATION_DAYS, reminder_days=settings.REMINDER_DAYS)


@dataclass
class Candidate:
    """An alert this evaluation would record, with who should hear about it."""

    target: Target
    kind: AlertKind
    subject: str
    status: str
    previous_status: str = ""
    params: dict = field(default_factory=dict)
    audience: str = "responsible"  # responsible | parent_managers | staff

    @property
    def key(self) -> str:
        return Alert.make_key(self.target.pk, self.kind, self.subject)




def new_run_id() -> str:
    return uuid.uuid4().hex


# --- transitions ------------------------------------------------------------------


def transitions(result: Evaluated) -> list[Candidate]:
    """The alerts one evaluated target calls for (before de-duplication by key)."""
    target, judgement = result.target, result.judgement
    if judgement is None:  # not judged: nothing to compare
        return []
    on = judgement.evaluated_on
    now_status = Status(judgement.status)
    before = Status(result.previous.status) if result.previous is not None else Status.NO_DATA
    found: list[Candidate] = []
    change = rules.transition(rules.Status(before), rules.Status(now_status))
    if change is not None:
        kind = AlertKind.WORSENED if change == rules.Transition.WORSENED else AlertKind.RECOVERED
        found.append(
            Candidate(
                target, kind, f"{on.isoformat()}:{now_status}", now_status, before,
                params=_figures(target, judgement),
            )
        )
    for missed in judgement.milestones_missed:
        found.append(
            Candidate(
                target, AlertKind.MILESTONE_MISSED, missed.isoformat(), now_status,
                params={"milestone": missed.isoformat(), **_figures(target, judgement)},
            )
        )
    for period in judgement.overdue_periods:
        found.append(
            Candidate(
                target, AlertKind.OVERDUE, period, now_status,
                params={
                    "period": period,
                    "deadline": _deadline(target, period),
                    **_figures(target, judgement),
                },
            )
        )
    return found


def _figures(target: Target, judgement: rules.Judgement) -> dict:
    """The verdict behind an alert, kept with it so that its email can say why (rule 8)."""
    return verdicts.Verdict.from_judgement(target, judgement).params()


def _deadline(target: Target, period_key: str) -> str:
    period = rules.find_period(target.spec(milestones=[]), period_key)
    if period is None:
        return ""
    return target.report_deadline(period).isoformat()


def escalations(
    results: Sequence[Evaluated], *, on: date, escalation_days: int
) -> list[Candidate]:
    """Targets still lagging or missed ``escalation_days`` after the first such alert.

    The episode starts with the earliest open (unresolved) worsening to lagging or
    missed; it escalates once, keyed by that first alert's date.
    """
    problem = {
        r.target.pk: r
        for r in results
        if r.judgement is not None and rules.is_problem(rules.Status(r.judgement.status))
    }
    if not problem:
        return []
    first: dict[int, Alert] = {}
    for alert in Alert.objects.filter(
        target_id__in=problem,
        kind=AlertKind.WORSENED,
        status__in=PROBLEM_STATUSES,
        resolved_at__isnull=True,
    ).order_by("target_id", "evaluated_on", "pk"):
        first.setdefault(alert.target_id, alert)
    found = []
    for target_id, alert in first.items():
        waited = (on - alert.evaluated_on).days
        if waited >= escalation_days:
            result = problem[target_id]
            found.append(
                Candidate(
                    result.target, AlertKind.ESCALATED, alert.evaluated_on.isoformat(),
                    result.judgement.status,
                    params={"since": alert.evaluated_on.isoformat(), "days": waited},
                    audience="parent_managers",
                )
            )
    return found


def reminders(
    results: Sequence[Evaluated], *, on: date, reminder_days: int, reported: dict[int, set[str]]
) -> list[Candidate]:
    """Periods whose deadline (end + grace days, or working days) is at most ``reminder_days``
    away, unreported."""
    found = []
    for result in results:
        target = result.target
        if result.judgement is None:
            continue
        due = rules.reminder_periods(
            rules.Frequency(target.frequency), target.baseline_date, target.due_date,
            target.grace_days, on, reminder_days, target.calendar, target.deadline_working_days,
        )
        for period, deadline in due:
            if period.key not in reported.get(target.pk, ()):
                found.append(
                    Candidate(
                        target, AlertKind.REMINDER, period.key, result.judgement.status,
                        params={"period": period.key, "deadline": deadline.isoformat()},
                        audience="staff",
                    )
                )
    return found


# --- recording --------------------------------------------------------------------


def alerts_record(
    *,
    results: Sequence[Evaluated],
    on: date,
    alert_settings: AlertSettings,
    run: str,
    reported: dict[int, set[str]],
) -> int:
    """Record the new alerts of a batch of evaluated targets and their recipients; the number
    of alerts this run inserted. ``reported``: the periods of each target that have a
    submitted or approved entry (what judging read).

    Must run inside the evaluation's transaction. The recipients get their digests once the
    run's last batch is recorded (``digests_make``): one digest per recipient and run.
    """
    # Alerts speak of the present: an evaluation of a date before a target's latest
    # assessment (a backfill) records nothing for it, or it would announce old news again.
    results = [
        r
        for r in results
        if r.assessment is not None
        and r.judgement is not None
        and r.target.latest_assessment_id == r.assessment.pk
    ]
    candidates: list[Candidate] = []
    for result in results:
        candidates.extend(transitions(result))
    candidates.extend(
        escalations(results, on=on, escalation_days=alert_settings.escalation_days)
    )
    candidates.extend(
        reminders(
            results, on=on, reminder_days=alert_settings.reminder_days, reported=reported
        )
    )
    _resolve_cleared(results, on=on, reported=reported)
    if not candidates:
        return 0
    by_key = {c.key: c for c in candidates}
    existing = set(Alert.objects.filter(key__in=list(by_key)).values_list("key", flat=True))
    fresh = [c for key, c in by_key.items() if key not in existing]
    if not fresh:
        return 0
    Alert.objects.bulk_create(
        [
            Alert(
                target=c.target,
                kind=c.kind,
                subject=c.subject,
                key=c.key,
                status=c.status,
                previous_status=c.previous_status,
                severity=rules.SEVERITY[rules.Status(c.status)],
                params=c.params,
                evaluated_on=on,
                run=run,
            )
            for c in fresh
        ],
        batch_size=ALERT_BATCH,
        ignore_conflicts=True,  # a concurrent evaluation may have recorded the same event
    )
    # The rows this run inserted carry its run id; a key another run won keeps that run's id.
    created = list(
        Alert.objects.filter(key__in=[c.key for c in fresh], run=run).only("pk", "key")
    )
    _address(created, by_key)
    return len(created)


# Rows per INSERT of alerts and of their recipients.
ALERT_BATCH = 500


def _address(alerts: list[Alert], by_key: dict[str, Candidate]) -> None:
    """Inbox rows for every recipient of the alerts (their digests come at the run's end)."""
    unit_ids: set[int] = set()
    for alert in alerts:
        unit = by_key[alert.key].target.responsible_unit
        unit_ids.add(unit.pk)
        if unit.parent_id:
            unit_ids.add(unit.parent_id)
    owner_ids = {by_key[a.key].target.owner_id for a in alerts} - {None}
    # Active members of the units concerned and the active owners, in one query.
    members: dict[tuple[int, str], set[int]] = defaultdict(set)
    active: set[int] = set()
    for user_id, unit_id, role in (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(pk__in=owner_ids) | Q(memberships__unit_id__in=unit_ids))
        .values_list("pk", "memberships__unit_id", "memberships__role")
    ):
        active.add(user_id)
        if unit_id in unit_ids:
            members[(unit_id, role)].add(user_id)
    rows = []
    for alert in alerts:
        candidate = by_key[alert.key]
        target, unit = candidate.target, candidate.target.responsible_unit
        if candidate.audience == "parent_managers":
            users = set(members[(unit.parent_id, Role.MANAGER)]) if unit.parent_id else set()
        elif candidate.audience == "staff":
            users = set(members[(unit.pk, Role.STAFF)])
        else:
            users = set(members[(unit.pk, Role.MANAGER)])
            if target.owner_id in active:
                users.add(target.owner_id)
        rows.extend(AlertRecipient(alert=alert, user_id=pk) for pk in sorted(users))
    AlertRecipient.objects.bulk_create(rows, batch_size=ALERT_BATCH, ignore_conflicts=True)


def digests_make(*, run: str, on: date) -> list[int]:
    """One digest per recipient with an email address of the alerts ``run`` recorded, and
    their inbox rows attached to it; the ids of the run's digests still pending.

    Set-based (four statements, whatever the number of alerts), and idempotent: a second
    call for the same run (a redelivered final step) makes no digest twice.
    """
    waiting = AlertRecipient.objects.filter(alert__run=run, digest__isnull=True)
    users = (
        waiting.filter(user__is_active=True)
        .exclude(user__email="")
        .order_by()
        .values_list("user_id", flat=True)
        .distinct()
    )
    Digest.objects.bulk_create(
        [Digest(user_id=pk, run=run, evaluated_on=on) for pk in sorted(users)],
        batch_size=ALERT_BATCH,
        ignore_conflicts=True,
    )
    waiting.update(
        digest=Subquery(
            Digest.objects.filter(run=run, user=OuterRef("user")).values("pk")[:1]
        )
    )
    return list(
        Digest.objects.filter(run=run, state=DeliveryState.PENDING)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _resolve_cleared(
    results: Iterable[Evaluated], *, on: date, reported: dict[int, set[str]]
) -> int:
    """Close the open alerts whose condition no longer holds at the target's latest assessment,
    and reopen an overdue alert whose report was submitted and then returned.

    Only a target's latest assessment speaks for the present: evaluating a past
    date (a backfill) resolves nothing. The alerts are read in two queries and
    judged here, so the statements stay small whatever the number of targets.
    """
    current = {
        r.target.pk: r
        for r in results
        if r.assessment is not None and r.target.latest_assessment_id == r.assessment.pk
    }
    if not current:
        return 0
    overdue_now = {p for r in current.values() for p in r.judgement.overdue_periods}
    candidates = Alert.objects.filter(target_id__in=list(current)).filter(
        Q(resolved_at__isnull=True)
        | Q(kind=AlertKind.OVERDUE, subject__in=sorted(overdue_now), resolved_at__isnull=False)
    )
    close: list[int] = []
    reopen: list[int] = []
    for pk, target_id, kind, subject, resolved_at in candidates.values_list(
        "pk", "target_id", "kind", "subject", "resolved_at"
    ):
        holds = _still_holds(kind, subject, current[target_id], on=on, reported=reported)
        if resolved_at is None and not holds:
            close.append(pk)
        elif resolved_at is not None and holds:
            reopen.append(pk)
    changed = 0
    now = timezone.now()
    for ids, value in ((close, now), (reopen, None)):
        for start in range(0, len(ids), 500):
            changed += Alert.objects.filter(pk__in=ids[start : start + 500]).update(
                resolved_at=value
            )
    return changed


def _still_holds(
    kind: str, subject: str, result: Evaluated, *, on: date, reported: dict[int, set[str]]
) -> bool:
    """Whether the condition an open alert reports still holds at this assessment."""
    target = result.target
    period = (
        rules.find_period(target.spec(milestones=[]), subject)
        if kind == AlertKind.REMINDER
        else None
    )
    return rules.alert_condition_holds(
        rules.AlertKind(kind), subject, result.judgement,
        reported=reported[target.pk], period=period, grace_days=target.grace_days, d=on,
        working_days=target.deadline_working_days,
    )


def alerts_settle_period(*, target_id: int, period: str) -> int:
    """A report for ``period`` has been submitted: its overdue alert and reminders (the
    evaluation's, and the managers' from the completeness screen: subject ``period:id``) are
    resolved at once (the next evaluation reopens the overdue alert if the report is
    returned)."""
    return Alert.objects.filter(
        Q(kind__in=(AlertKind.OVERDUE, AlertKind.REMINDER), subject=period)
        | Q(kind=AlertKind.REPORT_REQUESTED, subject__startswith=f"{period}:"),
        target_id=target_id,
        resolved_at__isnull=True,
    ).update(resolved_at=timezone.now())


# --- events of a workflow (explanation requests): recorded at once, not by an evaluation ----


@dataclass(frozen=True)
class Event:
    """An alert a workflow records at the moment it happens, with who should hear about it."""

    target: Target
    kind: AlertKind
    subject: str
    status: str  # the target's status as the event speaks of it
    user_ids: frozenset[int]
    params: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        return Alert.make_key(self.target.pk, self.kind, self.subject)


def events_record(*, events: Sequence[Event], on: date) -> list[int]:
    """Record each event once under its unique key, put it in its recipients' inboxes (active
    users only) and make one digest per recipient with an email address, queued for delivery
    once the caller's transaction commits; the ids of the alerts this call inserted.

    One run for the call: a recipient of several of its events (the daily escalations) gets
    one email. An event recorded before (a step run twice) is not recorded, nor sent, again.
    """
    by_key = {event.key: event for event in events}
    if not by_key:
        return []
    run = new_run_id()
    Alert.objects.bulk_create(
        [
            Alert(
                target=e.target, kind=e.kind, subject=e.subject, key=e.key, status=e.status,
                severity=rules.SEVERITY[rules.Status(e.status)] if e.status else 0,
                params=e.params, evaluated_on=on, run=run,
            )
            for e in by_key.values()
        ],
        ignore_conflicts=True,
    )
    created = list(Alert.objects.filter(key__in=list(by_key), run=run).only("pk", "key"))
    wanted = {pk for alert in created for pk in by_key[alert.key].user_ids}
    active = set(
        get_user_model().objects.filter(pk__in=wanted, is_active=True).values_list("pk", flat=True)
    )
    AlertRecipient.objects.bulk_create(
        [
            AlertRecipient(alert=alert, user_id=pk)
            for alert in created
            for pk in sorted(by_key[alert.key].user_ids & active)
        ],
        ignore_conflicts=True,
    )
    delivery.digests_enqueue_on_commit(digests_make(run=run, on=on))
    return [alert.pk for alert in created]


def events_resolve(*, target_id: int, kinds: Sequence[str], subject: str) -> int:
    """Close the open alerts of these kinds about ``subject`` (a workflow's news that has been
    acted upon: a request answered, an answer decided)."""
    return Alert.objects.filter(
        target_id=target_id, kind__in=list(kinds), subject=subject, resolved_at__isnull=True
    ).update(resolved_at=timezone.now())
