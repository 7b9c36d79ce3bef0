"""Every non-trivial read of the web screens, built on access (the one place scoping lives)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.db.models import Count, F, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from targets import access, rules
from targets.models import Alert, EntryStatus, ProgressEntry, Status, Target, ValueType


def targets_status_rows(*, user) -> QuerySet[Target]:
    """The status table's rows: visible targets with their latest assessment and last entry.

    Everything a row shows comes from this one query (joins and subqueries), so the
    number of queries does not grow with the number of targets.
    """
    last_entry = ProgressEntry.objects.filter(target=OuterRef("pk")).order_by(
        "-period_end", "-updated_at"
    )
    return (
        access.targets_visible_to(user)
        .select_related("plan", "area", "responsible_unit", "latest_assessment")
        .annotate(
            current_status=Coalesce(F("latest_assessment__status"), Value(Status.NO_DATA)),
            last_entry_period=Subquery(last_entry.values("period")[:1]),
            last_entry_status=Subquery(last_entry.values("status")[:1]),
            last_entry_value=Subquery(last_entry.values("value")[:1]),
        )
        .order_by("plan__code", "area__code", "code")
    )


def status_counts(rows: QuerySet[Target]) -> dict[str, int]:
    """How many of ``rows`` have each status (every status present, zeros included)."""
    counts = dict.fromkeys(Status.values, 0)
    for status, n in rows.order_by().values_list("current_status").annotate(n=Count("pk")):
        counts[status] = n
    return counts


def target_for_page(*, user, code: str) -> Target:
    """One visible target with what its page shows; Target.DoesNotExist outside the scope."""
    return (
        access.targets_visible_to(user)
        .select_related("plan", "area", "responsible_unit", "owner", "latest_assessment")
        .prefetch_related("milestones")
        .get(code=code)
    )


def target_entries(*, target: Target) -> list[ProgressEntry]:
    """The target's entries, newest period first, each with ``.events`` from the audit history."""
    entries = list(
        target.entries.select_related("author", "reviewer").order_by("-period_end")
    )
    events: dict[int, list] = defaultdict(list)
    history = (
        ProgressEntry.history.filter(target_id=target.pk)
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    for record in history:
        events[record.id].append(record)
    for entry in entries:
        entry.events = _workflow_events(events[entry.pk])
    return entries


def _workflow_events(records: list) -> list:
    """Keep the history records where the workflow state (or the value) changed."""
    kept = []
    previous = None
    for record in records:
        if previous is None or (record.status, record.value) != (previous.status, previous.value):
            # Same state, new value: the author corrected a draft or a returned entry.
            record.edited = previous is not None and record.status == previous.status
            kept.append(record)
        previous = record
    return kept


PERCENT_BOUNDS = (Decimal(0), Decimal(100))


def chart_data(*, target: Target, today: date) -> dict:
    """The trajectory chart's series (DESIGN §3): the expected trajectory (rule 2, a ``smooth``
    curve sampled densely enough to be drawn with straight segments), the milestones, the
    approved actuals, rule 7's forecast line and the latest assessment's as-of point."""
    spec = target.spec(milestones=list(target.milestones.all()))
    approved = [
        rules.Observation(e.period_end, e.value)
        for e in target.entries.filter(status=EntryStatus.APPROVED).order_by("period_end")
    ]
    forecast: list[rules.Point] = []
    line = rules.trend_line(spec, approved, today)
    if line is not None and line.first < spec.due_date:
        # A percentage's line stays within 0–100 (the rules keep its own value).
        bounds = PERCENT_BOUNDS if target.value_type == ValueType.PERCENT else (None, None)
        forecast = rules.line_within(line, line.first, spec.due_date, *bounds)
    return {
        "stepped": spec.trajectory == rules.Trajectory.STEP,
        "expected": _points(rules.expected_curve(spec)),
        "milestones": _points(sorted(spec.milestones, key=lambda p: p.date)),
        "actuals": _points(rules.trend_points(spec, approved)),
        "forecast": _points(forecast),
        "as_of": _as_of_point(target),
        "today": today.isoformat(),
        "measure": target.measure,
    }


def _points(items: Iterable[rules.Point]) -> list[dict]:
    return [{"x": p.date.isoformat(), "y": float(p.value)} for p in items]


def _as_of_point(target: Target) -> dict | None:
    """The latest assessment's actual at its as-of date, with the value expected then."""
    assessment = target.latest_assessment
    if assessment is None or assessment.as_of is None or assessment.actual is None:
        return None
    return {
        "x": assessment.as_of.isoformat(),
        "y": float(assessment.actual),
        "expected": float(assessment.expected) if assessment.expected is not None else None,
    }


def entries_to_review(*, user) -> QuerySet[ProgressEntry]:
    """Submitted entries of the targets the user may review, oldest submission first."""
    return (
        ProgressEntry.objects.filter(
            status=EntryStatus.SUBMITTED, target__in=access.targets_reviewable_by(user)
        )
        .select_related("target", "target__responsible_unit", "author")
        .order_by("submitted_at", "pk")
    )


def entries_of_author_to_fix(*, user) -> QuerySet[ProgressEntry]:
    """The user's drafts and returned entries, for the 'enter progress' screen."""
    return (
        ProgressEntry.objects.filter(
            author=user,
            status__in=(EntryStatus.DRAFT, EntryStatus.RETURNED),
            target__in=access.targets_enterable_by(user),
        )
        .select_related("target", "reviewer")
        .order_by("-updated_at")
    )


def target_alerts(*, target: Target, limit: int = 20) -> list[Alert]:
    """The target's recorded alerts, newest first (DESIGN §5: the target page shows them)."""
    return list(target.alerts.order_by("-created_at", "-pk")[:limit])
