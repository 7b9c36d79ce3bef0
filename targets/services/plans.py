"""Importing plan files (DESIGN §7): units, plans, areas, targets and milestones by code.

The whole file is checked first and every problem is reported with its line;
only a file without problems is written, in one transaction. Rows are saved
only when something changed, so importing the same file twice changes nothing
(not even the audit history).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils.translation import gettext as _

from targets import rules
from targets.errors import ImportFailed, Problem, WorkflowError
from targets.models import (
    Aggregation,
    Area,
    Direction,
    Frequency,
    Milestone,
    Plan,
    Target,
    Trajectory,
    Unit,
    ValueType,
    code_validator,
)
from targets.numbers import parse_value

# --- reading YAML with line numbers -------------------------------------------


class Located(dict):
    """A mapping from the file that remembers the line of itself and of each key."""

    line: int = 0
    key_lines: dict[str, int]


def _build(node: yaml.Node, loader: yaml.SafeLoader) -> Any:
    if isinstance(node, yaml.MappingNode):
        mapping = Located()
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            mapping[str(key)] = _build(value_node, loader)
            mapping.key_lines[str(key)] = key_node.start_mark.line + 1
        return mapping
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, loader) for item in node.value]
    try:
        return loader.construct_object(node, deep=True)
    except ValueError:
        # An impossible date such as 2025-06-31: keep the text, the checker reports it.
        return node.value


def load_located(text: str) -> Any:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
    finally:
        loader.dispose()
    return None if node is None else _build(node, loader)


# --- checking -------------------------------------------------------------------


@dataclass
class Checker:
    filename: str
    problems: list[Problem] = field(default_factory=list)

    def add(self, where: Located | None, label: str, field_name: str, message: str) -> None:
        line = where.key_lines.get(field_name.split(".")[0], where.line) if where else 0
        place = f"{self.filename}:{line}" if line else self.filename
        if label:
            place += f" {label}"
        self.problems.append(Problem(place, field_name, message, line=line))


def _mapping(value: Any) -> Located | None:
    return value if isinstance(value, Located) else None


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


@dataclass
class UnitRow:
    code: str
    name: str
    parent: str | None


@dataclass
class TargetRow:
    values: dict[str, Any]
    area_code: str
    unit_code: str
    owner: str | None
    milestones: list[tuple[dt.date, Decimal]]


@dataclass
class PlanRow:
    code: str
    name: str
    unit_code: str
    start: dt.date
    end: dt.date
    areas: list[tuple[str, str]]
    targets: list[TargetRow]


@dataclass
class PlanFile:
    units: list[UnitRow]
    plans: list[PlanRow]


def _text(c: Checker, m: Located, label: str, key: str, *, required: bool = True) -> str:
    value = m.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            c.add(m, label, key, _("is required"))
        return ""
    if isinstance(value, dict | list):
        c.add(m, label, key, _("must be text"))
        return ""
    return str(value).strip()


def _code(c: Checker, m: Located, label: str, key: str = "code") -> str:
    code = _text(c, m, label, key)
    if code:
        try:
            code_validator(code)
        except ValidationError:
            c.add(
                m, label, key,
                _("“%(code)s”: use letters, digits, '.', '_' and '-' only") % {"code": code},
            )
    return code


def _choice(c: Checker, m: Located, label: str, key: str, choices: list[str], default: str) -> str:
    value = m.get(key, default)
    if value not in choices:
        c.add(
            m, label, key,
            _("“%(value)s” is not one of %(choices)s")
            % {"value": value, "choices": ", ".join(choices)},
        )
        return default
    return value


def _date_field(
    c: Checker, m: Located, label: str, key: str, name: str | None = None
) -> dt.date | None:
    """The date under ``key``; ``name`` is how the field is called in problems."""
    name = name or key
    raw = m.get(key)
    if raw is None:
        c.add(m, label, name, _("is required"))
        return None
    value = _date(raw)
    if value is None:
        c.add(m, label, name, _("“%(value)s” is not a date (YYYY-MM-DD)") % {"value": raw})
    elif not (rules.EARLIEST_DATE <= value <= rules.LATEST_DATE):
        c.add(
            m, label, name,
            _("%(date)s lies outside the years a plan may span (%(first)s – %(last)s)")
            % {"date": value, "first": rules.EARLIEST_DATE, "last": rules.LATEST_DATE},
        )
        return None
    return value


def check_plan_file(data: Any, filename: str) -> PlanFile:
    """Turn the loaded file into rows, or raise ImportFailed with every problem."""
    c = Checker(filename)
    root = _mapping(data)
    if root is None:
        raise ImportFailed(
            [Problem(filename, "", _("the file must hold a mapping with units and plans"))]
        )
    for key in root:
        if key not in ("units", "plans"):
            c.add(root, "", key, _("unknown section (expected units, plans)"))

    units = _check_units(c, root.get("units") or [])
    known_units = {u.code for u in units} | set(Unit.objects.values_list("code", flat=True))
    plans = []
    seen_targets: dict[str, str] = {}
    raw_plans = root.get("plans") or []
    if not isinstance(raw_plans, list):
        c.add(root, "", "plans", _("must be a list"))
        raw_plans = []
    seen_plans: set[str] = set()
    for index, raw in enumerate(raw_plans):
        m = _mapping(raw)
        if m is None:
            c.add(root, f"plans[{index}]", "plans", _("each plan must be a mapping"))
            continue
        plan = _check_plan(c, m, index, known_units, seen_targets)
        if plan is not None:
            if plan.code in seen_plans:
                c.add(m, f"plan {plan.code}", "code", _("appears twice in the file"))
            seen_plans.add(plan.code)
            plans.append(plan)
    if c.problems:
        raise ImportFailed(sorted(c.problems, key=lambda p: p.line))
    return PlanFile(units=units, plans=plans)


def _check_units(c: Checker, raw_units: Any) -> list[UnitRow]:
    if not isinstance(raw_units, list):
        c.add(None, "units", "", _("must be a list"))
        return []
    rows: list[UnitRow] = []
    in_file: dict[str, UnitRow] = {}
    for index, raw in enumerate(raw_units):
        m = _mapping(raw)
        if m is None:
            c.add(None, f"units[{index}]", "", _("each unit must be a mapping"))
            continue
        label = f"unit {m.get('code') or f'units[{index}]'}"
        code = _code(c, m, label)
        name = _text(c, m, label, "name")
        parent = _text(c, m, label, "parent", required=False) or None
        if code in in_file:
            c.add(m, label, "code", _("appears twice in the file"))
            continue
        row = UnitRow(code, name, parent)
        in_file[code] = row
        rows.append(row)
    existing_parents = dict(
        Unit.objects.values_list("code", "parent__code")
    )
    for row in rows:
        parent = row.parent
        if parent is None:
            continue
        if parent not in in_file and parent not in existing_parents:
            c.add(
                None, f"unit {row.code}", "parent", _("unknown unit “%(code)s”") % {"code": parent}
            )
            continue
        # Follow the chain of parents (file first, then database) to catch cycles.
        seen = {row.code}
        while parent is not None:
            if parent in seen:
                c.add(None, f"unit {row.code}", "parent", _("the parent chain loops back"))
                break
            seen.add(parent)
            parent = in_file[parent].parent if parent in in_file else existing_parents.get(parent)
    return rows


def _check_plan(
    c: Checker, m: Located, index: int, known_units: set[str], seen_targets: dict[str, str]
) -> PlanRow | None:
    label = f"plan {m.get('code') or f'plans[{index}]'}"
    code = _code(c, m, label)
    name = _text(c, m, label, "name")
    unit_code = _text(c, m, label, "unit")
    if unit_code and unit_code not in known_units:
        c.add(m, label, "unit", _("unknown unit “%(code)s”") % {"code": unit_code})
    start = _date_field(c, m, label, "start")
    end = _date_field(c, m, label, "end")
    if start and end and end <= start:
        c.add(m, label, "end", _("the plan must end after it starts"))
    file_codes = {
        str(t.get("code")) for t in (m.get("targets") or []) if isinstance(t, dict)
    } if isinstance(m.get("targets"), list) else set()
    if code and start and end:
        # Milestones of the plan's targets that this file leaves as they are must still fit.
        for when, t_code in (
            Milestone.objects.filter(target__plan__code=code)
            .exclude(target__code__in=file_codes)
            .exclude(date__range=(start, end))
            .values_list("date", "target__code")
        ):
            c.add(
                m, label, "end" if when > end else "start",
                _("the milestone of %(date)s of target %(code)s would lie outside the plan")
                % {"date": when, "code": t_code},
            )
    areas: list[tuple[str, str]] = []
    area_codes = set()
    raw_areas = m.get("areas") or []
    if not isinstance(raw_areas, list):
        c.add(m, label, "areas", _("must be a list"))
        raw_areas = []
    for a_index, raw in enumerate(raw_areas):
        am = _mapping(raw)
        if am is None:
            c.add(m, label, f"areas[{a_index}]", _("must be a mapping"))
            continue
        a_code = _code(c, am, f"{label} area")
        a_name = _text(c, am, f"{label} area {a_code}", "name")
        if a_code in area_codes:
            c.add(am, f"{label} area {a_code}", "code", _("appears twice in the plan"))
        area_codes.add(a_code)
        areas.append((a_code, a_name))
    if code:
        area_codes |= set(Area.objects.filter(plan__code=code).values_list("code", flat=True))
    owners = set(get_user_model().objects.values_list("username", flat=True))
    targets = []
    raw_targets = m.get("targets") or []
    if not isinstance(raw_targets, list):
        c.add(m, label, "targets", _("must be a list"))
        raw_targets = []
    for t_index, raw in enumerate(raw_targets):
        tm = _mapping(raw)
        if tm is None:
            c.add(m, label, f"targets[{t_index}]", _("must be a mapping"))
            continue
        row = _check_target(
            c, tm, t_index, plan_start=start, plan_end=end, area_codes=area_codes,
            known_units=known_units, owners=owners,
        )
        if row is None:
            continue
        t_code = row.values["code"]
        if t_code in seen_targets:
            first = seen_targets[t_code]
            c.add(
                tm, f"target {t_code}", "code",
                _("appears twice (first in %(place)s)") % {"place": first},
            )
        seen_targets[t_code] = label
        targets.append(row)
    if not (code and name and unit_code and start and end):
        return None
    return PlanRow(code, name, unit_code, start, end, areas, targets)


def _value(c: Checker, m: Located | None, label: str, key: str, raw: Any, value_type: str):
    try:
        return parse_value(raw, value_type)
    except WorkflowError as exc:
        c.add(m, label, key, exc.message)
        return None


def _check_target(
    c: Checker,
    m: Located,
    index: int,
    *,
    plan_start: dt.date | None,
    plan_end: dt.date | None,
    area_codes: set[str],
    known_units: set[str],
    owners: set[str],
) -> TargetRow | None:
    label = f"target {m.get('code') or f'targets[{index}]'}"
    allowed = {
        "code", "name", "description", "area", "responsible_unit", "owner", "measure",
        "value_type", "direction", "aggregation", "trajectory", "baseline", "target",
        "frequency", "grace_days", "tolerance", "source", "milestones", "illustrative",
    }
    for key in m:
        if key not in allowed:
            c.add(m, label, key, _("unknown field"))
    code = _code(c, m, label)
    name = _text(c, m, label, "name")
    area_code = _text(c, m, label, "area")
    if area_code and area_code not in area_codes:
        c.add(
            m, label, "area",
            _("unknown area “%(code)s” (not in the plan's areas)") % {"code": area_code},
        )
    unit_code = _text(c, m, label, "responsible_unit")
    if unit_code and unit_code not in known_units:
        c.add(
            m, label, "responsible_unit", _("unknown unit “%(code)s”") % {"code": unit_code}
        )
    owner = _text(c, m, label, "owner", required=False) or None
    if owner and owner not in owners:
        c.add(m, label, "owner", _("unknown user “%(name)s”") % {"name": owner})
    measure = _text(c, m, label, "measure")
    value_type = _choice(c, m, label, "value_type", ValueType.values, ValueType.DECIMAL)
    direction = _choice(c, m, label, "direction", Direction.values, Direction.AT_LEAST)
    aggregation = _choice(c, m, label, "aggregation", Aggregation.values, Aggregation.LATEST)
    trajectory = _choice(c, m, label, "trajectory", Trajectory.values, Trajectory.LINEAR)
    frequency = _choice(c, m, label, "frequency", Frequency.values, Frequency.QUARTERLY)

    points = {}
    for key in ("baseline", "target"):
        pm = _mapping(m.get(key))
        if pm is None:
            c.add(m, label, key, _("is required: {value: …, date: YYYY-MM-DD}"))
            points[key] = (None, None)
            continue
        value = _value(c, pm, label, f"{key}.value", pm.get("value"), value_type)
        when = _date_field(c, pm, label, "date", f"{key}.date")
        points[key] = (value, when)
    baseline_value, baseline_date = points["baseline"]
    target_value, due_date = points["target"]
    if baseline_date and due_date and due_date <= baseline_date:
        c.add(m, label, "target.date", _("the due date must be after the baseline date"))
    elif baseline_date and due_date:
        count = rules.period_count(rules.Frequency(frequency), baseline_date, due_date)
        if count > rules.MAX_REPORTING_PERIODS:
            c.add(
                m, label, "frequency",
                _("%(count)s reporting periods between the baseline and due dates: at most "
                  "%(max)s are allowed (report less often or shorten the plan)")
                % {"count": count, "max": rules.MAX_REPORTING_PERIODS},
            )

    grace_days = m.get("grace_days", 15)
    if isinstance(grace_days, bool) or not isinstance(grace_days, int) or grace_days < 0:
        c.add(
            m, label, "grace_days",
            _("“%(value)s” is not a whole number of days ≥ 0") % {"value": grace_days},
        )
        grace_days = 0
    tolerance = _value(c, m, label, "tolerance", m.get("tolerance", "0.10"), ValueType.DECIMAL)
    if tolerance is not None and not (0 <= tolerance <= Decimal("0.5")):
        c.add(
            m, label, "tolerance", _("%(value)s is not between 0 and 0.5") % {"value": tolerance}
        )

    source_text, source_url = "", ""
    if m.get("source") is not None:
        sm = _mapping(m.get("source"))
        if sm is None:
            c.add(m, label, "source", _("must be {text: …, url: …}"))
        else:
            source_text = _text(c, sm, label, "text", required=False)
            source_url = _text(c, sm, label, "url", required=False)
            if source_url:
                try:
                    URLValidator()(source_url)
                except ValidationError:
                    c.add(
                        sm, label, "source.url",
                        _("“%(value)s” is not a web address") % {"value": source_url},
                    )

    milestones: list[tuple[dt.date, Decimal]] = []
    raw_milestones = m.get("milestones") or []
    if not isinstance(raw_milestones, list):
        c.add(m, label, "milestones", _("must be a list"))
        raw_milestones = []
    for ms_index, raw in enumerate(raw_milestones):
        mm = _mapping(raw)
        if mm is None:
            c.add(m, label, f"milestones[{ms_index}]", _("must be a mapping"))
            continue
        where = f"{label} milestone {ms_index + 1}"
        when = _date_field(c, mm, where, "date")
        value = _value(c, mm, where, "value", mm.get("value"), value_type)
        if when and plan_start and plan_end and not (plan_start <= when <= plan_end):
            c.add(
                mm, where, "date",
                _("%(date)s lies outside the plan (%(start)s – %(end)s)")
                % {"date": when, "start": plan_start, "end": plan_end},
            )
        elif when and baseline_date and due_date and not (baseline_date < when < due_date):
            c.add(
                mm, where, "date",
                _("%(date)s is not between the baseline and due dates") % {"date": when},
            )
        if when and any(when == d for d, _v in milestones):
            c.add(mm, where, "date", _("two milestones on %(date)s") % {"date": when})
        if when and value is not None:
            milestones.append((when, value))

    illustrative = m.get("illustrative", False)
    if not isinstance(illustrative, bool):
        c.add(m, label, "illustrative", _("must be true or false"))
        illustrative = False
    if not code:
        return None
    return TargetRow(
        values={
            "code": code,
            "name": name,
            "description": str(m.get("description") or "").strip(),
            "source_text": source_text,
            "source_url": source_url,
            "illustrative": illustrative,
            "measure": measure,
            "value_type": value_type,
            "direction": direction,
            "aggregation": aggregation,
            "trajectory": trajectory,
            "baseline_value": baseline_value,
            "baseline_date": baseline_date,
            "target_value": target_value,
            "due_date": due_date,
            "frequency": frequency,
            "grace_days": grace_days,
            "tolerance": tolerance if tolerance is not None else Decimal("0.10"),
        },
        area_code=area_code,
        unit_code=unit_code,
        owner=owner,
        milestones=sorted(milestones),
    )


# --- writing --------------------------------------------------------------------


@dataclass
class PlanImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


def _upsert(
    model: type[Model], lookup: dict[str, Any], values: dict[str, Any]
) -> tuple[Model, str]:
    """Create, update (only the changed fields) or leave a row; say which."""
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        obj = model(**lookup, **values)
        obj.save()
        return obj, "created"
    changed = [k for k, v in values.items() if getattr(obj, k) != v]
    if not changed:
        return obj, "unchanged"
    for k in changed:
        setattr(obj, k, values[k])
    obj.save()
    return obj, "updated"


def plan_file_read(path: str | Path) -> Any:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problem = Problem(str(path), "", _("cannot read the file: %(error)s") % {"error": exc})
        raise ImportFailed([problem]) from exc
    if path.suffix.lower() == ".json":
        # JSON is read as YAML (its superset) to keep line numbers; JSON may indent with tabs,
        # which YAML forbids, and a raw tab can only be whitespace in valid JSON.
        text = text.replace("\t", " ")
    try:
        return load_located(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        place = f"{path.name}:{mark.line + 1}" if mark else path.name
        problem = Problem(place, "", _("not valid YAML/JSON: %(error)s") % {"error": exc})
        raise ImportFailed([problem]) from exc


def plan_import(*, data: Any, filename: str) -> PlanImportResult:
    """Create or update everything in a plan file, or nothing (ImportFailed)."""
    checked = check_plan_file(data, filename)
    try:
        return _plan_write(checked, filename)
    except IntegrityError as exc:
        # The checker knows every rule it can; the database is the last word on the rest.
        raise ImportFailed(
            [Problem(filename, "", _("the database refused the plan: %(error)s") % {"error": exc})]
        ) from exc


@transaction.atomic
def _plan_write(checked: PlanFile, filename: str) -> PlanImportResult:
    result = PlanImportResult()
    units: dict[str, Unit] = {u.code: u for u in Unit.objects.all()}
    # Parents first: a unit's path is built from its parent's.
    pending = list(checked.units)
    while pending:
        waiting = {p.code for p in pending}
        ready = [u for u in pending if u.parent is None or u.parent not in waiting]
        if not ready:  # cycles were rejected by the checker; this is a safety stop
            raise ImportFailed([Problem(filename, "units", _("cannot order the units by parent"))])
        for row in ready:
            parent = units.get(row.parent) if row.parent else None
            unit, outcome = _upsert(Unit, {"code": row.code}, {"name": row.name, "parent": parent})
            units[row.code] = unit
            result.count(outcome)
            pending.remove(row)
    owners = {u.username: u for u in get_user_model().objects.all()}
    for row in checked.plans:
        plan, outcome = _upsert(
            Plan,
            {"code": row.code},
            {"name": row.name, "unit": units[row.unit_code], "start": row.start, "end": row.end},
        )
        result.count(outcome)
        areas = {a.code: a for a in Area.objects.filter(plan=plan)}
        for code, name in row.areas:
            area, outcome = _upsert(Area, {"plan": plan, "code": code}, {"name": name})
            areas[code] = area
            result.count(outcome)
        for t in row.targets:
            values = {
                **{k: v for k, v in t.values.items() if k != "code"},
                "plan": plan,
                "area": areas[t.area_code],
                "responsible_unit": units[t.unit_code],
            }
            if t.owner:
                values["owner"] = owners[t.owner]
            target, outcome = _upsert(Target, {"code": t.values["code"]}, values)
            result.count(outcome)
            milestone_outcome = _sync_milestones(target, t.milestones)
            if outcome == "unchanged" and milestone_outcome != "unchanged":
                result.unchanged -= 1
                result.updated += 1
    return result


def _sync_milestones(target: Target, milestones: list[tuple[dt.date, Decimal]]) -> str:
    """Make the target's milestones exactly those of the file."""
    current = {m.date: m for m in target.milestones.all()}
    wanted = dict(milestones)
    changed = False
    for when, milestone in current.items():
        if when not in wanted:
            milestone.delete()
            changed = True
    for when, value in wanted.items():
        if when not in current:
            Milestone.objects.create(target=target, date=when, value=value)
            changed = True
        elif current[when].value != value:
            current[when].value = value
            current[when].save(update_fields=["value"])
            changed = True
    return "updated" if changed else "unchanged"


def plan_import_file(path: str | Path) -> PlanImportResult:
    return plan_import(data=plan_file_read(path), filename=Path(path).name)

