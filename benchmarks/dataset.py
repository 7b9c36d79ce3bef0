"""Synthetic data of the real shape, generated deterministically and fast (PostgreSQL COPY).

A province: one province unit, 150 communes and economic zones, one plan of 40 targets each
(6,000 targets). The country: 50 provinces of 50 communes (100,000 targets). Every target
reports quarterly from 2025-Q3; the entries of 2025-Q3 → 2030-Q1 are approved (a few of the
last are submitted or drafts, some targets stop reporting). The mix follows the fixtures:
counts, money and percentages; at least and at most; levels and sums of flows; linear, step
and smooth trajectories; milestones on a third of the targets; progress that follows the plan,
lags, runs ahead, stalls or declines, with noise.

Accounts: one staff and one manager per commune, one manager per province (and one for the
country), all with the password ``BENCH_PASSWORD``.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction

from targets import rules
from targets.models import (
    Area,
    EntryStatus,
    Membership,
    Milestone,
    Plan,
    ProgressEntry,
    Role,
    Target,
    Unit,
)

BENCH_PASSWORD = "bench-password-1"
BASELINE = date(2025, 6, 30)
DUE = date(2030, 12, 31)
EVALUATED_ON = date(2030, 6, 30)
# 2025-Q3 → 2030-Q1: 19 quarters reported by the evaluation date.
LAST_REPORTED = date(2030, 3, 31)
TARGETS_PER_COMMUNE = 40
AREAS = ("economy", "industry", "society", "infrastructure")
STAMP = datetime(2030, 5, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Scale:
    name: str
    provinces: int
    communes: int  # per province

    @property
    def targets(self) -> int:
        return self.provinces * self.communes * TARGETS_PER_COMMUNE


SCALES = {
    "tiny": Scale("tiny", 1, 10),  # 400 targets: for developing the benchmarks themselves
    "province": Scale("province", 1, 150),  # 6,000 targets
    "national": Scale("national", 50, 50),  # 100,000 targets
}


@dataclass(frozen=True)
class Dataset:
    """What the benchmarks sign in as and look at."""

    scale: Scale
    top: str  # the country's (national) or the province's unit code
    province: str  # the first province
    commune: str  # its first commune
    province_manager: str
    commune_manager: str
    commune_staff: str
    targets: int
    entries: int


def province_code(scale: Scale, p: int) -> str:
    return f"P{p + 1:02d}" if scale.provinces > 1 else "PROV"


def commune_code(scale: Scale, p: int, c: int) -> str:
    return f"{province_code(scale, p)}-C{c + 1:03d}"


def dataset_of(scale: Scale) -> Dataset:
    province = province_code(scale, 0)
    commune = commune_code(scale, 0, 0)
    return Dataset(
        scale=scale,
        top="VN" if scale.provinces > 1 else province,
        province=province,
        commune=commune,
        province_manager=f"manager.{province.lower()}",
        commune_manager=f"manager.{commune.lower()}",
        commune_staff=f"staff.{commune.lower()}",
        targets=scale.targets,
        entries=0,  # counted by generate()
    )


# --- COPY ---------------------------------------------------------------------------


def copy_rows(model: type[models.Model], columns: Sequence[str], rows: Iterable[tuple]) -> int:
    """COPY rows into the model's table. Fields not named get their default, computed once
    (so a column without one must be named); primary keys come from the table's sequence."""
    fields = {f.name: f for f in model._meta.concrete_fields}
    named = [fields[c] for c in columns]
    rest = [
        f
        for f in model._meta.concrete_fields
        if f.name not in columns and not (f.primary_key and f.get_internal_type() in _AUTO)
    ]
    filled = []
    for f in rest:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            filled.append((f, STAMP))
        elif f.has_default() or (f.empty_strings_allowed and not f.null):  # "" for text
            filled.append((f, f.get_db_prep_save(f.get_default(), connection)))
        elif f.null:
            filled.append((f, None))
        else:
            raise ValueError(f"{model.__name__}.{f.name} has no default: name it")
    names = ", ".join(f.column for f in [*named, *(f for f, _ in filled)])
    tail = tuple(v for _, v in filled)
    count = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor, for COPY
        with raw.copy(f"COPY {model._meta.db_table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row((*row, *tail))
                count += 1
    return count


_AUTO = {"AutoField", "BigAutoField", "SmallAutoField"}


def _json(value) -> str:
    import json

    return json.dumps(value)


# --- the shape of a target ----------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    value_type: str
    direction: str
    aggregation: str
    trajectory: str
    baseline: Decimal
    target: Decimal
    milestones: tuple[tuple[date, Decimal], ...]
    fate: str  # on_plan, lagging, ahead, stalled, declining, silent
    measure: str


MEASURES = {"integer": "projects", "decimal": "billion VND", "percent": "%"}


def shape_of(rng: random.Random) -> Shape:
    value_type = rng.choices(("integer", "decimal", "percent"), (50, 25, 25))[0]
    direction = "at_most" if value_type == "percent" and rng.random() < 0.4 else "at_least"
    aggregation = "sum" if value_type != "percent" and rng.random() < 0.3 else "latest"
    trajectory = rng.choices(("linear", "step", "smooth"), (45, 25, 30))[0]
    if value_type == "percent":
        if direction == "at_most":
            baseline = Decimal(rng.randint(20, 60))
            target = baseline - Decimal(rng.randint(5, 15))
        else:
            baseline = Decimal(rng.randint(0, 50))
            target = min(Decimal(100), baseline + Decimal(rng.randint(10, 45)))
    elif value_type == "integer":
        baseline = Decimal(0) if aggregation == "sum" else Decimal(rng.randint(0, 20))
        target = baseline + Decimal(rng.choice((2, 3, 5, 10, 40, 200, 20000)))
    else:
        baseline = Decimal(0) if aggregation == "sum" else Decimal(rng.randint(0, 500))
        target = baseline + Decimal(rng.randint(100, 7000))
    milestones: tuple[tuple[date, Decimal], ...] = ()
    if rng.random() < 1 / 3:
        share = Decimal(rng.choice((25, 35, 50))) / 100
        milestone = baseline + (target - baseline) * share
        if value_type == "integer":
            milestone = milestone.to_integral_value()
        milestones = ((date(2027, 12, 31), milestone),)
        if rng.random() < 0.5:
            later = baseline + (target - baseline) * Decimal("0.75")
            later = later.to_integral_value() if value_type == "integer" else later
            milestones += ((date(2029, 6, 30), later),)
    fate = rng.choices(
        ("on_plan", "lagging", "ahead", "stalled", "declining", "silent"), (55, 20, 10, 6, 5, 4)
    )[0]
    return Shape(value_type, direction, aggregation, trajectory, baseline, target, milestones,
                 fate, MEASURES[value_type])


def levels(shape: Shape, periods: Sequence[rules.Period], rng: random.Random) -> list[Decimal]:
    """The level reached at the end of each period (before turning flows into entries)."""
    span = (DUE - BASELINE).days
    stall_from = rng.randint(len(periods) // 3, len(periods) - 2)
    pace = {"on_plan": 1.0, "lagging": 0.55, "ahead": 1.25, "stalled": 1.0, "declining": 1.0,
            "silent": 1.0}[shape.fate]
    start, goal = float(shape.baseline), float(shape.target)
    out: list[Decimal] = []
    level = start
    for i, period in enumerate(periods):
        t = (period.end - BASELINE).days / span
        if shape.trajectory == "step":
            t = t ** 1.6  # most of a step target comes late
        planned = start + (goal - start) * min(1.0, t * pace)
        noisy = planned + (goal - start) * rng.gauss(0, 0.04)
        if shape.fate == "stalled" and i >= stall_from:
            noisy = level
        elif shape.fate == "declining" and i >= stall_from:
            noisy = level - abs(goal - start) * 0.03
        if shape.aggregation == "latest" and shape.direction == "at_least" and rng.random() < 0.7:
            noisy = max(noisy, level)  # levels mostly do not fall back
        level = noisy
        out.append(_bounded(shape, noisy))
    return out


def _bounded(shape: Shape, value: float) -> Decimal:
    if shape.value_type == "percent":
        value = min(100.0, max(0.0, value))
    elif shape.aggregation == "sum" or shape.direction == "at_least":
        value = max(0.0, value)
    if shape.value_type == "integer":
        return Decimal(round(value))
    return Decimal(f"{value:.2f}")


def entry_values(shape: Shape, levels_: Sequence[Decimal]) -> list[Decimal]:
    """What each period's entry says: the level, or for a sum of flows the period's flow."""
    if shape.aggregation == "latest":
        return list(levels_)
    flows, before = [], shape.baseline
    for level in levels_:
        flows.append(max(Decimal(0), level - before))
        before = max(before, level)
    return flows


# --- generation ---------------------------------------------------------------------


def generate(scale: Scale, *, seed: int = 2030) -> Dataset:
    """Fill an empty, migrated database with the scale's data (a few seconds per 10,000
    targets). Deterministic: the same scale and seed give the same rows."""
    if Target.objects.exists():
        raise RuntimeError("the benchmark data goes into an empty database")
    rng = random.Random(seed)
    with transaction.atomic():
        units, communes = _units(scale)
        users = _users(scale, units)
        plans, areas = _plans(communes)
        entries = _targets_and_entries(scale, rng, communes, plans, areas, users)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    info = dataset_of(scale)
    return Dataset(**{**info.__dict__, "entries": entries})


def _units(scale: Scale) -> tuple[dict[str, Unit], list[Unit]]:
    rows: list[Unit] = []
    top = Unit(code="VN", name="Viet Nam", path="VN/") if scale.provinces > 1 else None
    if top:
        top.save()
    provinces = []
    for p in range(scale.provinces):
        code = province_code(scale, p)
        provinces.append(
            Unit(code=code, name=f"Province {p + 1}", parent=top,
                 path=f"{top.path if top else ''}{code}/")
        )
    provinces = Unit.objects.bulk_create(provinces, batch_size=1000)
    for p, province in enumerate(provinces):
        for c in range(scale.communes):
            code = commune_code(scale, p, c)
            kind = "Economic zone" if c % 10 == 9 else "Commune"
            rows.append(Unit(code=code, name=f"{kind} {code}", parent=province,
                             path=f"{province.path}{code}/"))
    communes = Unit.objects.bulk_create(rows, batch_size=2000)
    units = {u.code: u for u in [*([top] if top else []), *provinces, *communes]}
    return units, communes


def _users(scale: Scale, units: dict[str, Unit]) -> dict[str, tuple[int, int]]:
    """(staff id, manager id) per commune code; managers of provinces and of the country."""
    User = get_user_model()
    password = make_password(BENCH_PASSWORD)
    people: list[tuple[str, str, Unit]] = []
    for code, unit in units.items():
        if unit.parent_id is None or (code.startswith("P") and "-" not in code):
            people.append((f"manager.{code.lower()}", Role.MANAGER, unit))
        else:
            people.append((f"staff.{code.lower()}", Role.STAFF, unit))
            people.append((f"manager.{code.lower()}", Role.MANAGER, unit))
    made = User.objects.bulk_create(
        [User(username=name, password=password, email=f"{name}@bench.example")
         for name, _, _ in people],
        batch_size=2000,
    )
    Membership.objects.bulk_create(
        [Membership(user=user, unit=unit, role=role)
         for user, (_, role, unit) in zip(made, people, strict=True)],
        batch_size=2000,
    )
    pairs: dict[str, list[int]] = {}
    for user, (_, role, unit) in zip(made, people, strict=True):
        pairs.setdefault(unit.code, [0, 0])[0 if role == Role.STAFF else 1] = user.pk
    return {code: (staff, manager) for code, (staff, manager) in pairs.items()}


def _plans(communes: list[Unit]) -> tuple[dict[str, Plan], dict[str, list[Area]]]:
    plans = Plan.objects.bulk_create(
        [Plan(code=f"{u.code}-PLAN", name=f"Plan 2025–2030 of {u.name}", unit=u,
              start=date(2025, 7, 1), end=DUE) for u in communes],
        batch_size=2000,
    )
    areas = Area.objects.bulk_create(
        [Area(plan=plan, code=a, name=a.capitalize()) for plan in plans for a in AREAS],
        batch_size=5000,
    )
    by_plan: dict[int, list[Area]] = {}
    for area in areas:
        by_plan.setdefault(area.plan_id, []).append(area)
    return (
        {p.unit.code: p for p in plans},
        {p.unit.code: by_plan[p.pk] for p in plans},
    )


def _targets_and_entries(scale, rng, communes, plans, areas, users) -> int:
    periods = rules.reporting_periods(rules.Frequency.QUARTERLY, BASELINE, DUE)
    reported = [p for p in periods if p.end <= LAST_REPORTED]
    shapes: list[tuple[Target, Shape]] = []
    for unit in communes:
        for j in range(TARGETS_PER_COMMUNE):
            shape = shape_of(rng)
            target = Target(
                code=f"{unit.code}-T{j + 1:02d}",
                name=f"Target {j + 1} of {unit.name}: {shape.measure}",
                plan=plans[unit.code],
                area=areas[unit.code][j % len(AREAS)],
                responsible_unit=unit,
                measure=shape.measure,
                value_type=shape.value_type,
                direction=shape.direction,
                aggregation=shape.aggregation,
                trajectory=shape.trajectory,
                baseline_value=shape.baseline,
                baseline_date=BASELINE,
                target_value=shape.target,
                due_date=DUE,
                frequency="quarterly",
                max_value=Decimal(100) if shape.value_type == "percent" else None,
            )
            shapes.append((target, shape))
    made = Target.objects.bulk_create([t for t, _ in shapes], batch_size=5000)
    copy_rows(
        Milestone,
        ("target", "date", "value"),
        ((t.pk, d, v) for t, (_, s) in zip(made, shapes, strict=True) for d, v in s.milestones),
    )
    return copy_rows(
        ProgressEntry,
        ("target", "period", "period_start", "period_end", "value", "status", "author",
         "reviewer", "last_editor", "submitted_by", "submitted_at", "reviewed_at"),
        _entry_rows(made, shapes, reported, rng, users),
    )


def _entry_rows(targets, shapes, periods, rng, users) -> Iterator[tuple]:
    for target, (_, shape) in zip(targets, shapes, strict=True):
        staff, manager = users[target.responsible_unit.code]
        values = entry_values(shape, levels(shape, periods, rng))
        stops = len(periods) - rng.randint(3, 8) if shape.fate == "silent" else len(periods)
        last = rng.random()
        for i, (period, value) in enumerate(zip(periods, values, strict=True)):
            if i >= stops:
                break
            status = EntryStatus.APPROVED
            if i == len(periods) - 1 and last < 0.05:
                status = EntryStatus.SUBMITTED
            elif i == len(periods) - 1 and last < 0.07:
                status = EntryStatus.DRAFT
            approved = status == EntryStatus.APPROVED
            submitted = status != EntryStatus.DRAFT
            yield (
                target.pk, period.key, period.start, period.end, value, status, staff,
                manager if approved else None, staff, staff if submitted else None,
                STAMP if submitted else None, STAMP if approved else None,
            )
