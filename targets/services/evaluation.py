"""Judging targets at a date (DESIGN §3) and recording the assessments."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from django.db import connection, transaction
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from psycopg.types.json import Jsonb

from targets import rules
from targets.models import Assessment, EntryStatus, Milestone, ProgressEntry, Target
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
    results: list[Evaluated]  # every target's result when collected (``collect=True``)
    targets: int = 0  # how many targets were evaluated
    statuses: dict[str, int] = dc_field(default_factory=dict)  # "" counts the unjudged
    alerts_created: int = 0
    digest_ids: tuple[int, ...] = ()
    run: str = ""


@dataclass(frozen=True)
class Loaded:
    """What judging a batch reads of its targets' milestones and entries; alerts reuse it."""

    milestones: dict[int, list[rules.Point]]
    approved: dict[int, list[rules.Observation]]
    reported: dict[int, set[str]]


Judged = tuple[Target, rules.Judgement | None, str]


def entries_load(targets: Iterable[Target], until: date | None = None) -> Loaded:
    """The milestones and the submitted and approved entries of the targets, in two queries
    of plain values (no model instance per row).

    A target with a register measure takes its observations from the register instead (its
    value at the end of each period ended by ``until``, today unless given), in four more
    queries for all of them.
    """
    targets = list(targets)
    ids = [t.pk for t in targets]
    milestones: dict[int, list[rules.Point]] = defaultdict(list)
    for target_id, day, value in (
        Milestone.objects.filter(target_id__in=ids)
        .order_by("target_id", "date")
        .values_list("target_id", "date", "value")
    ):
        milestones[target_id].append(rules.Point(day, value))
    approved: dict[int, list[rules.Observation]] = defaultdict(list)
    reported: dict[int, set[str]] = defaultdict(set)
    entries = ProgressEntry.objects.filter(
        target_id__in=ids,
        status__in=(EntryStatus.SUBMITTED, EntryStatus.APPROVED),
    ).order_by().values_list("target_id", "period", "period_end", "value", "status")
    for target_id, period, period_end, value, status in entries:
        reported[target_id].add(period)
        if status == EntryStatus.APPROVED:
            approved[target_id].append(rules.Observation(period_end, value))
    from register.measures import measures_of, register_observations  # the app above this one

    measures = measures_of(targets)
    if measures:
        observed, periods = register_observations(
            targets, measures, until or timezone.localdate()
        )
        approved.update(observed)
        reported.update(periods)
    return Loaded(milestones, approved, reported)


def judge_targets(
    targets: Iterable[Target], on: date, loaded: Loaded | None = None
) -> list[Judged]:
    """Judge each target from its milestones and entries (read in two queries unless given).

    A target that cannot be judged (the rules are total, so this is a defect, or a row no
    valid input produces) gets its error instead of a judgement, and is logged; every
    other target is judged as usual.
    """
    targets = list(targets)
    if loaded is None:
        loaded = entries_load(targets, on)
    judged: list[Judged] = []
    for target in targets:
        try:
            spec = target.spec(milestones=loaded.milestones[target.pk])
            judgement = rules.assess(
                spec, loaded.approved[target.pk], loaded.reported[target.pk], on
            )
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
    could not judge a target is skipped: the next verdict is compared with the last one.

    Only what alerts compare is read (the status and the date). On PostgreSQL each target's
    row is found by a short backward walk of the (target, date) index, whatever the number
    of days stored before it."""
    ids = [t.pk for t in targets]
    if connection.vendor == "postgresql":
        table = Assessment._meta.db_table
        return {
            a.target_id: a
            for a in Assessment.objects.raw(
                f"SELECT a.id, a.target_id, a.evaluated_on, a.status "
                f"FROM unnest(%s::bigint[]) AS t(id) CROSS JOIN LATERAL ("
                f"  SELECT id, target_id, evaluated_on, status FROM {table}"
                f"  WHERE target_id = t.id AND evaluated_on <= %s AND error = ''"
                f"  ORDER BY evaluated_on DESC LIMIT 1) a",
                [ids, on],
            )
        }
    judged = Assessment.objects.filter(target_id__in=ids, evaluated_on__lte=on, error="").only(
        "pk", "target_id", "evaluated_on", "status"
    )
    found: dict[int, Assessment] = {}
    for a in judged.order_by("target_id", "-evaluated_on"):
        found.setdefault(a.target_id, a)
    return found


def evaluation_targets() -> QuerySet[Target]:
    """The targets as an evaluation reads them: what judging, storing and alerting need, with
    the date of each one's latest assessment (``latest_on``) rather than the whole row."""
    return (
        Target.objects.select_related("responsible_unit", "register_measure__unit")
        .only(*TARGET_FIELDS)
        .annotate(latest_on=F("latest_assessment__evaluated_on"))
        .order_by("code")
    )


# What judging, storing and alerting read of a target (the rest — texts, sources — is not).
TARGET_FIELDS = (
    "code", "name", "name_en", "plan_id", "area_id", "owner_id", "measure", "measure_en",
    "value_type", "direction",
    "aggregation", "trajectory", "baseline_value", "baseline_date", "target_value", "due_date",
    "frequency", "grace_days", "deadline_working_days", "reporting_calendar", "tolerance",
    "min_value", "max_value", "latest_assessment_id",
    "responsible_unit__id", "responsible_unit__parent_id", "responsible_unit__code",
    # A register target's measure (``register.measures``), read in the same query.
    "register_measure__id", "register_measure__kind", "register_measure__counted",
    "register_measure__stage", "register_measure__sector", "register_measure__park_kind",
    "register_measure__currency", "register_measure__target_id",
    "register_measure__unit__id", "register_measure__unit__path",
)

# Targets judged and stored together: the reads and writes of a batch are a fixed number of
# statements of bounded size, so queries grow with batches and no statement with the targets,
# and memory holds one batch.
EVALUATION_BATCH = 2000
# Rows per INSERT of assessments (about 160 characters each).
ASSESSMENT_BATCH = 500
ASSESSMENT_FIELDS = [
    "actual", "as_of", "expected", "expected_now", "ratio", "share", "status", "reason",
    "error", "reporting", "overdue_periods", "milestones_missed", "projected",
    "forecast_reached_on", "forecast_never", "computed_at",
]


@dataclass(frozen=True)
class BatchOutcome:
    results: list[Evaluated]
    alerts_created: int


@transaction.atomic
def targets_evaluate(
    *,
    on: date,
    alert_settings: alerting.AlertSettings,
    targets: QuerySet[Target] | None = None,
    dry_run: bool = False,
    batch_size: int = EVALUATION_BATCH,
    collect: bool = True,
    report: Callable[[list[Evaluated]], None] | None = None,
    run: str | None = None,
    make_digests: bool = True,
) -> EvaluationRun:
    """Assess every target (or the given ones) at ``on``, store the assessments, record alerts.

    Re-running for the same date replaces that date's assessments with the same
    values; the target's latest assessment is the one with the latest date.
    Alerts are recorded once per event (DESIGN §4), batch by batch; each recipient gets one
    digest for the whole run, queued for delivery when the transaction commits.

    ``collect=False`` keeps no result in memory (the nightly run over every target):
    ``report`` sees each batch's results instead, and the run counts them. A batch of a day
    split across workers (services.daily) passes the day's ``run`` and leaves the digests
    to the day's finish (``make_digests=False``).
    """
    chosen = (targets if targets is not None else evaluation_targets()).order_by("code")
    run = run or alerting.new_run_id()
    results: list[Evaluated] = []
    statuses: Counter[str] = Counter()
    alerts_created = 0
    for batch in _batches(chosen, batch_size=batch_size, lock=not dry_run):
        outcome = evaluate_batch(
            batch, on=on, dry_run=dry_run, alert_settings=alert_settings, run=run
        )
        statuses.update(r.judgement.status if r.judgement else "" for r in outcome.results)
        alerts_created += outcome.alerts_created
        if collect:
            results.extend(outcome.results)
        if report is not None:
            report(outcome.results)
    digest_ids: list[int] = []
    if make_digests and not dry_run:
        # Once for the whole run: one digest per recipient.
        digest_ids = alerting.digests_make(run=run, on=on)
        delivery.digests_enqueue_on_commit(digest_ids)
    return EvaluationRun(
        on=on, results=results, targets=sum(statuses.values()), statuses=dict(statuses),
        alerts_created=alerts_created, digest_ids=tuple(digest_ids), run=run,
    )


def _batches(chosen: QuerySet[Target], *, batch_size: int, lock: bool) -> Iterator[list[Target]]:
    """The targets in code order, ``batch_size`` at a time (keyset pages, no OFFSET)."""
    if lock:
        # The targets' rows are locked (in code order) before their entries are read: an
        # approval re-assessing a target the nightly run is judging waits for that run and
        # then writes the assessment that counts it — never the other way round, which would
        # leave the day's assessment without the approved value. FOR NO KEY UPDATE: a new
        # entry of a target (its foreign key takes KEY SHARE) is not held up meanwhile.
        # Batches follow the code order too, so every run takes its locks in one order.
        chosen = chosen.select_for_update(of=("self",), no_key=True)
    after = None
    while True:
        page = chosen if after is None else chosen.filter(code__gt=after)
        batch = list(page[:batch_size])
        if batch:
            yield batch
        if len(batch) < batch_size:
            return
        after = batch[-1].code


def evaluate_batch(
    targets: list[Target],
    *,
    on: date,
    dry_run: bool,
    alert_settings: alerting.AlertSettings,
    run: str,
) -> BatchOutcome:
    """Judge a batch of targets and, unless a dry run, store its assessments and record its
    alerts (their recipients get their digests at the end of the run: ``digests_make``)."""
    if not targets:
        return BatchOutcome([], 0)
    loaded = entries_load(targets, on)
    judged = judge_targets(targets, on, loaded)
    previous = previous_assessments(targets, on)
    if dry_run:
        return BatchOutcome([Evaluated(t, j, previous.get(t.pk), None, e) for t, j, e in judged], 0)
    stored = assessments_store([_assessment(t, j, e, on) for t, j, e in judged])
    _point_at_latest(targets, on=on)
    for target, assessment in zip(targets, stored, strict=True):
        if target.latest_on is None or target.latest_on <= on:
            target.latest_assessment_id, target.latest_on = assessment.pk, on
    results = [
        Evaluated(t, j, previous.get(t.pk), a, e)
        for (t, j, e), a in zip(judged, stored, strict=True)
    ]
    created = alerting.alerts_record(
        results=results, on=on, alert_settings=alert_settings, run=run,
        reported=loaded.reported,
    )
    return BatchOutcome(results, created)


def assessments_store(assessments: list[Assessment]) -> list[Assessment]:
    """Insert the assessments, or replace those of the same target and date; each gets its id.

    On PostgreSQL the rows are COPied into a temporary table and upserted from it in one
    statement: a few milliseconds per thousand rows, where the ORM's upsert spends most of a
    second preparing values. Other databases (the demo's SQLite) take the ORM's upsert.
    """
    if not assessments:
        return assessments
    if connection.vendor != "postgresql":
        return _store_with_orm(assessments)
    now = timezone.now()
    fields = [Assessment._meta.get_field(name) for name in ("target", "evaluated_on",
                                                            *ASSESSMENT_FIELDS)]
    columns = ", ".join(f.column for f in fields)
    updates = ", ".join(
        f"{f.column} = EXCLUDED.{f.column}" for f in fields[2:]
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS assessment_batch ON COMMIT DROP AS "
            f"SELECT {columns} FROM {Assessment._meta.db_table} WITH NO DATA"
        )
        cursor.execute("TRUNCATE assessment_batch")
        with cursor.cursor.copy(f"COPY assessment_batch ({columns}) FROM STDIN") as copy:
            for a in assessments:
                a.computed_at = now
                copy.write_row(
                    [Jsonb(v) if isinstance(v, list | dict) else v
                     for v in (getattr(a, f.attname) for f in fields)]
                )
        cursor.execute(
            f"INSERT INTO {Assessment._meta.db_table} ({columns}) "
            f"SELECT {columns} FROM assessment_batch "
            f"ON CONFLICT (target_id, evaluated_on) DO UPDATE SET {updates} "
            f"RETURNING target_id, id"
        )
        ids = dict(cursor.fetchall())
    for a in assessments:
        a.pk = ids[a.target_id]
        a._state.adding = False
    return assessments


def _store_with_orm(assessments: list[Assessment]) -> list[Assessment]:
    stored = Assessment.objects.bulk_create(
        assessments,
        batch_size=ASSESSMENT_BATCH,
        update_conflicts=True,
        unique_fields=["target", "evaluated_on"],
        update_fields=ASSESSMENT_FIELDS,
    )
    if any(a.pk is None for a in stored):  # backends that do not return ids on upsert
        found = dict(
            Assessment.objects.filter(
                target_id__in=[a.target_id for a in stored], evaluated_on=stored[0].evaluated_on
            ).values_list("target_id", "pk")
        )
        for a in stored:
            a.pk = found[a.target_id]
    return stored


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
    alert_settings: alerting.AlertSettings,
    on: date | None = None,
) -> EvaluationRun:
    """Re-assess some targets now, in one run, e.g. right after entries of theirs are approved.

    One run, so that approving many entries at once sends each recipient one digest.
    """
    return targets_evaluate(
        on=on or timezone.localdate(),
        targets=evaluation_targets().filter(pk__in=[t.pk for t in targets]),
        alert_settings=alert_settings,
    )


def target_reassess(
    target: Target,
    *,
    alert_settings: alerting.AlertSettings,
    on: date | None = None,
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

