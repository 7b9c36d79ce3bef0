"""Judging targets at a date (DESIGN §3) and recording the assessments."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery

from targets import rules
from targets.models import Assessment, EntryStatus, ProgressEntry, Target
from targets.services import alerts as alerting
from targets.services import delivery

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Evaluated:
    target: Target
    judgement: rules.Judgement | None  # None when the target could not be judged
    previous: Assessment | None  # the latest judged assessment before this date, for alerts
    assessment: Assessment | None  # None on a dry run
    error: str = ""  # why the target could not be judged


@dataclass(frozen=True)
class EvaluationRun:
    on: date
    results: list[Evaluated]
    alerts_created: int = 0
    digest_ids: tuple[int, ...] = ()


Judged = tuple[Target, rules.Judgement | None, str]


def judge_targets(targets: Iterable[Target], on: date) -> list[Judged]:
    """Judge each target from its milestones and entries, loaded in two queries.

    A target that cannot be judged (the rules are total, so this is a defect, or a row no
    valid input produces) gets its error instead of a judgement, and is logged; every
    other target is judged as usual.
    """
    targets = list(targets)
    ids = [t.pk for t in targets]
    approved: dict[int, list[rules.Observation]] = defaultdict(list)
    reported: dict[int, set[str]] = defaultdict(set)
    entries = ProgressEntry.objects.filter(
        target_id__in=ids, status__in=(EntryStatus.SUBMITTED, EntryStatus.APPROVED)
    ).values_list("target_id", "period", "period_end", "value", "status")
    for target_id, period, period_end, value, status in entries:
        reported[target_id].add(period)
        if status == EntryStatus.APPROVED:
            approved[target_id].append(rules.Observation(period_end, value))
    judged: list[Judged] = []
    for target in targets:
        try:
            spec = target.spec(milestones=list(target.milestones.all()))
            judgement = rules.assess(spec, approved[target.pk], reported[target.pk], on)
            _check_storable(judgement)
        except Exception as exc:  # one target must not stop the evaluation of the others
            logger.exception("Target %s could not be judged at %s", target.code, on)
            judged.append((target, None, f"{type(exc).__name__}: {exc}"[:1000]))
        else:
            judged.append((target, judgement, ""))
    return judged


# Assessments store numbers with 18 integer digits and 6 decimals.
STORABLE = Decimal(10) ** 18


def _check_storable(judgement: rules.Judgement) -> None:
    """An actual beyond what an assessment can hold is refused here, for this target only;
    a derived number (a ratio, a projection) beyond it is stored as null."""
    if abs(judgement.actual) >= STORABLE:
        raise ValueError(f"the actual {judgement.actual} is too large to store")


def _stored(value: Decimal | None) -> Decimal | None:
    if value is None or abs(value) >= STORABLE:
        return None
    return value.quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN)


def _assessment(target: Target, judgement: rules.Judgement | None, error: str, on: date
                ) -> Assessment:
    if judgement is None:
        return Assessment(target=target, evaluated_on=on, status="", reason="", error=error)
    trend = judgement.forecast
    return Assessment(
        target=target,
        evaluated_on=judgement.evaluated_on,
        actual=_stored(judgement.actual),
        as_of=judgement.as_of,
        expected=_stored(judgement.expected),
        expected_now=_stored(judgement.expected_now),
        ratio=_stored(judgement.ratio),
        share=_stored(judgement.share),
        status=judgement.status,
        reason=judgement.reason,
        error="",
        reporting=judgement.reporting,
        overdue_periods=list(judgement.overdue_periods),
        milestones_missed=[d.isoformat() for d in judgement.milestones_missed],
        projected=_stored(trend.projected),
        forecast_reached_on=trend.reached_on,
        forecast_never=trend.never,
    )


def previous_assessments(targets: list[Target], on: date) -> dict[int, Assessment]:
    """For each target, its latest judged assessment dated on or before ``on``, read before
    this run stores its own: a second assessment on the same day (an approval after the
    nightly job) is compared with the first, so no flip within a day goes unseen. A run that
    could not judge a target is skipped: the next verdict is compared with the last one."""
    judged = Assessment.objects.filter(target__in=targets, evaluated_on__lte=on, error="")
    latest = (
        judged
        .order_by("target_id", "-evaluated_on")
        .distinct("target_id")
        if _supports_distinct_on()
        else None
    )
    if latest is not None:
        return {a.target_id: a for a in latest}
    found: dict[int, Assessment] = {}
    for a in judged.order_by("target_id", "-evaluated_on"):
        found.setdefault(a.target_id, a)
    return found


def _supports_distinct_on() -> bool:
    from django.db import connection

    return connection.features.can_distinct_on_fields


def evaluation_targets() -> QuerySet[Target]:
    return (
        Target.objects.select_related("latest_assessment", "responsible_unit")
        .prefetch_related("milestones")
        .order_by("code")
    )


# Targets judged and stored together: the reads and writes of a batch are a fixed number of
# statements of bounded size, so queries grow with batches and no statement with the targets.
EVALUATION_BATCH = 2000
# Rows per INSERT of assessments (about 160 characters each).
ASSESSMENT_BATCH = 200
ASSESSMENT_FIELDS = [
    "actual", "as_of", "expected", "expected_now", "ratio", "share", "status", "reason",
    "error", "reporting", "overdue_periods", "milestones_missed", "projected",
    "forecast_reached_on", "forecast_never", "computed_at",
]


@transaction.atomic
def targets_evaluate(
    *,
    on: date,
    targets: QuerySet[Target] | None = None,
    dry_run: bool = False,
    alert_settings: alerting.AlertSettings | None = None,
    batch_size: int = EVALUATION_BATCH,
) -> EvaluationRun:
    """Assess every target (or the given ones) at ``on``, store the assessments, record alerts.

    Re-running for the same date replaces that date's assessments with the same
    values; the target's latest assessment is the one with the latest date.
    Alerts are recorded once per event (DESIGN §4); their digests are queued
    for delivery when the transaction commits.
    """
    chosen_qs = (targets if targets is not None else evaluation_targets()).order_by("code")
    if not dry_run:
        # The targets' rows are locked (in code order) before their entries are read: an
        # approval re-assessing a target the nightly run is judging waits for that run and
        # then writes the assessment that counts it — never the other way round, which would
        # leave the day's assessment without the approved value. FOR NO KEY UPDATE: a new
        # entry of a target (its foreign key takes KEY SHARE) is not held up meanwhile.
        # Batches follow the code order too, so every run takes its locks in one order.
        chosen_qs = chosen_qs.select_for_update(of=("self",), no_key=True)
    results: list[Evaluated] = []
    after = None
    while True:
        page = chosen_qs if after is None else chosen_qs.filter(code__gt=after)
        batch = list(page[:batch_size])
        results.extend(_evaluate_batch(batch, on=on, dry_run=dry_run))
        if len(batch) < batch_size:
            break
        after = batch[-1].code
    if dry_run:
        return EvaluationRun(on=on, results=results)
    # Once for the whole run: one digest per recipient and run.
    recorded = alerting.alerts_record(
        results=results,
        on=on,
        alert_settings=alert_settings or alerting.AlertSettings.from_settings(),
        run=alerting.new_run_id(),
    )
    delivery.digests_enqueue_on_commit(recorded.digest_ids)
    return EvaluationRun(
        on=on,
        results=results,
        alerts_created=len(recorded.alerts),
        digest_ids=tuple(recorded.digest_ids),
    )


def _evaluate_batch(targets: list[Target], *, on: date, dry_run: bool) -> list[Evaluated]:
    """Judge a batch of targets and, unless a dry run, store its assessments."""
    if not targets:
        return []
    judged = judge_targets(targets, on)
    previous = previous_assessments(targets, on)
    if dry_run:
        return [Evaluated(t, j, previous.get(t.pk), None, e) for t, j, e in judged]
    stored = Assessment.objects.bulk_create(
        [_assessment(t, j, e, on) for t, j, e in judged],
        batch_size=ASSESSMENT_BATCH,
        update_conflicts=True,
        unique_fields=["target", "evaluated_on"],
        update_fields=ASSESSMENT_FIELDS,
    )
    if any(a.pk is None for a in stored):  # backends that do not return ids on upsert
        found = dict(
            Assessment.objects.filter(target__in=targets, evaluated_on=on).values_list(
                "target_id", "pk"
            )
        )
        for a in stored:
            a.pk = found[a.target_id]
    _point_at_latest(targets, on=on)
    for target, assessment in zip(targets, stored, strict=True):
        current = target.latest_assessment
        if current is None or current.evaluated_on <= on:
            target.latest_assessment = assessment
    return [
        Evaluated(t, j, previous.get(t.pk), a, e)
        for (t, j, e), a in zip(judged, stored, strict=True)
    ]


def _point_at_latest(targets: list[Target], *, on: date) -> int:
    """Point each target whose latest assessment is older than ``on`` (or absent) at its
    assessment of ``on``, in one set-based UPDATE (a CASE ``bulk_update`` grows with the
    targets, and PostgreSQL compiles a large one for minutes)."""
    return (
        Target.objects.filter(pk__in=[t.pk for t in targets])
        .filter(Q(latest_assessment__isnull=True) | Q(latest_assessment__evaluated_on__lt=on))
        .update(
            latest_assessment=Subquery(
                Assessment.objects.filter(target=OuterRef("pk"), evaluated_on=on)
                .order_by()  # one row by the unique (target, date): no sort, no joins
                .values("pk")
            )
        )
    )


def targets_reassess(
    targets: Iterable[Target],
    *,
    on: date | None = None,
    alert_settings: alerting.AlertSettings | None = None,
) -> EvaluationRun:
    """Re-assess some targets now, in one run, e.g. right after entries of theirs are approved.

    One run, so that approving many entries at once sends each recipient one digest.
    """
    from django.utils import timezone

    return targets_evaluate(
        on=on or timezone.localdate(),
        targets=evaluation_targets().filter(pk__in=[t.pk for t in targets]),
        alert_settings=alert_settings,
    )


def target_reassess(
    target: Target,
    *,
    on: date | None = None,
    alert_settings: alerting.AlertSettings | None = None,
) -> EvaluationRun:
    """Re-assess one target now."""
    return targets_reassess([target], on=on, alert_settings=alert_settings)


# --- the JSON summary of DESIGN §7 ------------------------------------------------


def _number(value: Decimal | None, places: int | None = None) -> Any:
    """A Decimal as a JSON number: an int when whole, else a float (``places`` rounds)."""
    if value is None:
        return None
    if places is None and value == value.to_integral_value():
        return int(value)
    try:
        return float(round(value, 4 if places is None else places))
    except InvalidOperation:  # more digits than a Decimal context holds: no rounding needed
        return float(value)


def judgement_json(target: Target, judgement: rules.Judgement | None, error: str = ""
                   ) -> dict[str, Any]:
    if judgement is None:
        return {"code": target.code, "status": None, "error": error}
    return {
        "code": target.code,
        "status": str(judgement.status),
        "reason": str(judgement.reason),
        "as_of": judgement.as_of.isoformat() if judgement.as_of else None,
        "actual": _number(judgement.actual),
        "expected": _number(judgement.expected),
        "expected_now": _number(judgement.expected_now),
        "ratio": _number(judgement.ratio, 4),
        "projected": _number(judgement.forecast.projected, 4),
        "forecast": judgement.forecast.label,
        "reporting": str(judgement.reporting),
        "overdue_periods": list(judgement.overdue_periods),
        "milestones_missed": [d.isoformat() for d in judgement.milestones_missed],
    }


def run_json(run: EvaluationRun) -> dict[str, Any]:
    return {
        "date": run.on.isoformat(),
        "alerts_created": run.alerts_created,
        "targets": [judgement_json(r.target, r.judgement, r.error) for r in run.results],
    }

