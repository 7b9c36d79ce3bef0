"""Actuals from the register: what a target with a register measure reads at a date.

A project's state at a date is its latest approved report whose period ended by then (none: the
project was not yet in the register). Suspended and revoked projects never count. A park has
reached the most advanced stage of its infrastructure projects (sector *infrastructure*); its
leased land is its recorded ``leased_ha`` when given, else the land of the other projects in it
that have reached *land handed over*.

Everything is read in a fixed number of queries (``register_history``) and computed here, so
evaluating register targets costs the same whatever the number of projects and reports.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

from django.db.models import Q

from register.models import (
    MeasureKind,
    Park,
    Project,
    ProjectReport,
    Sector,
    Stage,
    TargetMeasure,
)
from targets import rules
from targets.models import EntryStatus, Target

PIPELINE: tuple[str, ...] = (
    Stage.PROPOSED, Stage.POLICY_APPROVED, Stage.CERTIFICATE_ISSUED, Stage.LAND_HANDED_OVER,
    Stage.UNDER_CONSTRUCTION, Stage.OPERATING,
)
OUT: frozenset[str] = frozenset({Stage.SUSPENDED, Stage.REVOKED})
HUNDRED = Decimal(100)
CENT = Decimal("0.01")  # occupancy in percent with two decimals


def reached(stage: str | None, wanted: str) -> bool:
    """Whether a project at ``stage`` has reached ``wanted`` ("" : any stage in the pipeline)."""
    if stage is None or stage in OUT:
        return False
    return not wanted or PIPELINE.index(stage) >= PIPELINE.index(wanted)


@dataclass(frozen=True)
class ProjectRow:
    id: int
    code: str
    name: str
    name_en: str
    unit_path: str
    park_id: int | None
    sector: str
    currency: str
    land_area_ha: Decimal | None


@dataclass(frozen=True)
class ParkRow:
    id: int
    code: str
    name: str
    name_en: str
    kind: str
    unit_path: str
    industrial_land_ha: Decimal
    leased_ha: Decimal | None


@dataclass(frozen=True)
class State:
    """A project as its latest approved report by a date has it."""

    period_end: date
    stage: str
    stage_date: date
    registered_capital: Decimal
    disbursed_capital: Decimal
    jobs_filled: int


@dataclass
class History:
    """The projects and parks under some units with every approved report of the projects."""

    projects: dict[int, ProjectRow] = field(default_factory=dict)
    parks: dict[int, ParkRow] = field(default_factory=dict)
    reports: dict[int, list[State]] = field(default_factory=lambda: defaultdict(list))
    # The projects located in each park, and each project's report period ends (for bisect).
    in_park: dict[int, list[ProjectRow]] = field(default_factory=lambda: defaultdict(list))
    ends: dict[int, list[date]] = field(default_factory=dict)

    def state(self, project_id: int, on: date) -> State | None:
        states = self.reports.get(project_id) or []
        ends = self.ends.get(project_id)
        if ends is None:
            ends = self.ends[project_id] = [s.period_end for s in states]
        i = bisect_right(ends, on)
        return states[i - 1] if i else None

    def park_stage(self, park_id: int, on: date) -> str | None:
        """The most advanced pipeline stage of the park's infrastructure projects at ``on``."""
        best = None
        for project in self.in_park.get(park_id, ()):
            if project.sector != Sector.INFRASTRUCTURE:
                continue
            state = self.state(project.id, on)
            if state is None or state.stage in OUT:
                continue
            if best is None or PIPELINE.index(state.stage) > PIPELINE.index(best):
                best = state.stage
        return best

    def leased(self, park: ParkRow, on: date) -> Decimal:
        if park.leased_ha is not None:
            return park.leased_ha
        total = Decimal(0)
        for project in self.in_park.get(park.id, ()):
            if project.sector == Sector.INFRASTRUCTURE:
                continue
            state = self.state(project.id, on)
            if state is not None and reached(state.stage, Stage.LAND_HANDED_OVER):
                total += project.land_area_ha or 0
        return total


def register_history(unit_paths: Iterable[str]) -> History:
    """The projects and parks of the units under ``unit_paths`` and the approved reports of
    those projects: three queries of plain values."""
    paths = sorted(set(unit_paths))
    history = History()
    if not paths:
        return history
    under = Q(pk__in=[])
    for path in paths:
        under |= Q(unit__path__startswith=path)
    for row in Project.objects.filter(under).values_list(
        "id", "code", "name", "name_en", "unit__path", "park_id", "sector",
        "registered_currency", "land_area_ha",
    ):
        project = history.projects[row[0]] = ProjectRow(*row)
        if project.park_id is not None:
            history.in_park[project.park_id].append(project)
    # The parks under the units, and those above them that hold one of their projects (a
    # project lies in its park's unit or below it).
    for row in Park.objects.filter(under | Q(pk__in=list(history.in_park))).values_list(
        "id", "code", "name", "name_en", "kind", "unit__path", "industrial_land_ha", "leased_ha"
    ):
        history.parks[row[0]] = ParkRow(*row)
    reports = (
        ProjectReport.objects.filter(
            status=EntryStatus.APPROVED, project_id__in=list(history.projects)
        )
        .order_by("project_id", "period_end")
        .values_list("project_id", "period_end", "stage", "stage_date", "registered_capital",
                     "disbursed_capital", "jobs_filled")
    )
    for project_id, *state in reports:
        history.reports[project_id].append(State(*state))
    return history


@dataclass(frozen=True)
class Item:
    """One project or park behind a measured value, with what it counted for."""

    code: str
    name: str
    name_en: str
    stage: str | None
    counted: bool
    amount: Decimal | None = None  # its capital, jobs or leased land
    land: Decimal | None = None  # a park's industrial land


@dataclass(frozen=True)
class Measured:
    """A register measure at a date: the value, and for occupancy its numerator (leased ha) and
    denominator (industrial land ha); ``pipeline`` counts the items in scope by stage."""

    on: date
    value: Decimal | None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    items: tuple[Item, ...] = ()
    pipeline: dict[str, int] = field(default_factory=dict)
    other_currency: int = 0  # projects left out of a capital sum: their amounts are in another


def _in_scope_projects(measure: TargetMeasure, unit_path: str, history: History
                       ) -> list[ProjectRow]:
    parks = history.parks
    chosen = []
    for project in history.projects.values():
        if not project.unit_path.startswith(unit_path):
            continue
        if measure.sector and project.sector != measure.sector:
            continue
        if measure.park_kind and (
            project.park_id is None or parks[project.park_id].kind != measure.park_kind
        ):
            continue
        chosen.append(project)
    return sorted(chosen, key=lambda p: p.code)


def _in_scope_parks(measure: TargetMeasure, unit_path: str, history: History) -> list[ParkRow]:
    return sorted(
        (
            park for park in history.parks.values()
            if park.unit_path.startswith(unit_path)
            and (not measure.park_kind or park.kind == measure.park_kind)
        ),
        key=lambda p: p.code,
    )


def _stage_key(stage: str | None) -> str:
    return stage or ""


def measure_at(measure: TargetMeasure, unit_path: str, history: History, on: date) -> Measured:
    """The measure's value at ``on`` with what it is made of (``unit_path``: the measure's unit's
    path, passed so that a caller measuring many targets reads no unit row)."""
    pipeline: dict[str, int] = defaultdict(int)
    if measure.counts_parks:
        parks = _in_scope_parks(measure, unit_path, history)
        items = []
        leased_total = land_total = Decimal(0)
        for park in parks:
            stage = history.park_stage(park.id, on)
            pipeline[_stage_key(stage)] += 1
            if measure.kind == MeasureKind.OCCUPANCY:
                leased = history.leased(park, on)
                leased_total += leased
                land_total += park.industrial_land_ha
                items.append(Item(park.code, park.name, park.name_en, stage, True, leased,
                                  park.industrial_land_ha))
            else:
                items.append(Item(park.code, park.name, park.name_en, stage,
                                  reached(stage, measure.stage)))
        if measure.kind == MeasureKind.OCCUPANCY:
            value = (
                (leased_total * HUNDRED / land_total).quantize(CENT, rounding=ROUND_HALF_EVEN)
                if land_total else None
            )
            return Measured(on, value, leased_total, land_total, tuple(items), dict(pipeline))
        count = sum(1 for item in items if item.counted)
        return Measured(on, Decimal(count), items=tuple(items), pipeline=dict(pipeline))

    items = []
    total = Decimal(0)
    other_currency = 0
    for project in _in_scope_projects(measure, unit_path, history):
        state = history.state(project.id, on)
        if state is None:
            continue  # not yet in the register at that date
        pipeline[state.stage] += 1
        counted = reached(state.stage, measure.stage)
        amount = None
        if measure.kind in (MeasureKind.REGISTERED_CAPITAL, MeasureKind.DISBURSED_CAPITAL):
            amount = getattr(state, measure.kind)
            if counted and project.currency != measure.currency:
                counted = False
                other_currency += 1
        elif measure.kind == MeasureKind.JOBS_FILLED:
            amount = Decimal(state.jobs_filled)
        if counted:
            total += amount if amount is not None else 1
        items.append(Item(project.code, project.name, project.name_en, state.stage, counted,
                          amount))
    return Measured(on, total, items=tuple(items), pipeline=dict(pipeline),
                    other_currency=other_currency)


def measures_of(targets: Iterable) -> dict[int, TargetMeasure]:
    """The register measures of the targets that have one, with their units: read with the
    targets when they were (``select_related("register_measure__unit")``), else in one query."""
    targets = list(targets)
    cached = Target.register_measure.related
    if all(cached.is_cached(t) for t in targets):
        found = {t.pk: cached.get_cached_value(t) for t in targets}
        return {pk: measure for pk, measure in found.items() if measure is not None}
    return {
        m.target_id: m
        for m in TargetMeasure.objects.filter(target_id__in=[t.pk for t in targets])
        .select_related("unit")
    }


def register_observations(
    targets: Iterable, measures: dict[int, TargetMeasure], until: date
) -> tuple[dict[int, list[rules.Observation]], dict[int, set[str]]]:
    """For each target with a measure: its value at the end of each of its reporting periods
    that ended by ``until`` (the observations the rules judge, as entries would give), and the
    keys of all its periods: nobody reports a register target, so it is never due or overdue."""
    targets = [t for t in targets if t.pk in measures]
    observations: dict[int, list[rules.Observation]] = {}
    reported: dict[int, set[str]] = {}
    if not targets:
        return observations, reported
    history = register_history(m.unit.path for m in measures.values())
    for target in targets:
        measure = measures[target.pk]
        ended = [p for p in target.reporting_periods() if p.end <= until]
        points = []
        for period in ended:
            measured = measure_at(measure, measure.unit.path, history, period.end)
            if measured.value is not None:
                points.append(rules.Observation(period.end, measured.value))
        observations[target.pk] = points
        reported[target.pk] = {p.key for p in target.reporting_periods()}
    return observations, reported
