"""Importing plan files (DESIGN §7): units, plans, areas, targets and milestones by code.

The file is read keeping the line of every key (``targets.plan_yaml``), then checked whole:
each node by its form (``targets.plan_schema``), then here what spans nodes — codes that
repeat, units that loop, what the database already holds. Every problem is reported with its
line; only a file without problems is written, in one transaction. Rows are saved only when
something changed, so importing the same file twice changes nothing (not even the audit
history); every history row the import writes names the user it is made for and the file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import DataError, IntegrityError, transaction
from django.db.models import Model, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from targets.errors import ImportFailed, Problem
from targets.models import (
    Area,
    Milestone,
    Plan,
    ProgressEntry,
    ReportingCalendar,
    Target,
    Unit,
)
from targets.plan_schema import (
    AreaNode,
    Known,
    MilestoneNode,
    NodeForm,
    PlanNode,
    TargetNode,
    UnitNode,
    is_code,
)
from targets.plan_yaml import Located, LocatedList, plan_file_read, shown
from targets.plan_yaml import load_located as load_located  # callers read text with it
from targets.plan_yaml import plan_file_parse as plan_file_parse

# --- checking -------------------------------------------------------------------


@dataclass
class UnitRow:
    code: str
    name: str
    parent: str | None
    name_en: str = ""


@dataclass
class TargetRow:
    values: dict[str, Any]  # Target's own fields, by name
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
    areas: list[tuple[str, str, str]]  # code, name, name_en
    targets: list[TargetRow]
    reporting_calendar: str
    deadline_working_days: int | None
    name_en: str = ""


@dataclass
class PlanFile:
    units: list[UnitRow]
    plans: list[PlanRow]


class Checker:
    """Collects the problems of one file, each with its line."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.problems: list[Problem] = []

    def add(self, line: int, label: str, key: str, message: str) -> None:
        place = f"{self.filename}:{line}" if line else self.filename
        if label:
            place += f" {label}"
        self.problems.append(Problem(place, key, message, line=line))

    def node(self, form: NodeForm, label: str) -> bool:
        """Check one node with its form; whether it is free of problems."""
        found = form.problems()
        for problem in found:
            self.add(problem.line, label, problem.key, problem.message)
        return not found

    def nodes(self, parent: Located, key: str, label: str) -> list[tuple[int, Located]]:
        """The mappings of the list under ``key`` (absent: none), with their indexes."""
        items = parent.get(key)
        if items is None:
            return []
        if not isinstance(items, LocatedList):
            self.add(parent.key_lines.get(key, parent.line), label, key, _("must be a list"))
            return []
        found = []
        for index, item in enumerate(items):
            if isinstance(item, Located):
                found.append((index, item))
            else:
                self.add(items.item_lines[index], label, f"{key}[{index}]", _("must be a mapping"))
        return found


def _label(kind: str, node: Located, key: str, index: int) -> str:
    """How problems name a node: by its code, or by its place in the list."""
    code = node.get("code")
    return f"{kind} {code}" if is_code(code) else f"{kind} {key}[{index}]"


def check_plan_file(data: Any, filename: str) -> PlanFile:
    """Turn the loaded file into rows, or raise ImportFailed with every problem."""
    if not isinstance(data, Located):
        raise ImportFailed(
            [Problem(filename, "", _("the file must hold a mapping with units and plans"))]
        )
    c = Checker(filename)
    for key, line in data.repeated:
        c.add(line, "", shown(key), _("appears twice in this mapping"))
    for key in data:
        if key not in ("units", "plans"):
            c.add(data.key_lines[key], "", shown(key), _("unknown section (expected units, plans)"))
    units, unit_codes = _check_units(c, data)
    known = Known(
        units=unit_codes, owners=set(get_user_model().objects.values_list("username", flat=True))
    )
    plans = _check_plans(c, data, known)
    if c.problems:
        raise ImportFailed(sorted(c.problems, key=lambda p: p.line))
    return PlanFile(units=units, plans=plans)


def _check_units(c: Checker, root: Located) -> tuple[list[UnitRow], set[str]]:
    """The file's units, and the codes of every unit a node may name (file or database)."""
    nodes = c.nodes(root, "units", "")
    db_parents = dict(Unit.objects.values_list("code", "parent__code"))
    known = Known(units=set(db_parents) | {str(node.get("code")).strip() for _i, node in nodes})
    rows: dict[str, UnitRow] = {}
    lines: dict[str, int] = {}
    for index, node in nodes:
        form = UnitNode(node, known=known)
        label = _label("unit", node, "units", index)
        if not c.node(form, label):
            continue
        code = form.cleaned_data["code"]
        if code in rows:
            c.add(form.line("code"), label, "code", _("appears twice in the file"))
            continue
        rows[code] = UnitRow(
            code, form.cleaned_data["name"], form.cleaned_data["parent"],
            form.cleaned_data["name_en"],
        )
        lines[code] = form.line("parent")
    _check_unit_tree(c, rows, db_parents, lines)
    return list(rows.values()), known.units


def _check_unit_tree(
    c: Checker, rows: dict[str, UnitRow], db_parents: dict[str, str | None], lines: dict[str, int]
) -> None:
    """No unit may lie inside itself, and every unit's path — its codes from the top, kept in
    a column of its own — must fit that column, also for units below one the file moves."""
    parents = {**db_parents, **{code: row.parent for code, row in rows.items()}}
    limit = Unit._meta.get_field("path").max_length
    for code in parents:
        chain: list[str] = []
        above: str | None = code
        while above is not None and above not in chain:
            chain.append(above)
            above = parents.get(above)
        moved_by = next((unit for unit in chain if unit in rows), None)
        if moved_by is None:
            continue  # the file changes nothing on the way up from this unit
        if above is not None:
            if code in rows:
                c.add(lines[code], f"unit {code}", "parent", _("the parent chain loops back"))
            continue
        length = sum(len(unit) + 1 for unit in chain)
        if length > limit:
            c.add(
                lines[moved_by], f"unit {moved_by}", "parent",
                _("the path of unit %(code)s (its codes from the top, each with a '/') would "
                  "be %(length)s characters long: at most %(max)s")
                % {"code": code, "length": length, "max": limit},
            )


def _check_plans(c: Checker, root: Located, known: Known) -> list[PlanRow]:
    rows: list[PlanRow] = []
    seen_plans: set[str] = set()
    seen_targets: dict[str, str] = {}
    checked: list[tuple[TargetNode, str]] = []
    for index, node in c.nodes(root, "plans", ""):
        label = _label("plan", node, "plans", index)
        form = PlanNode(node, known=known)
        complete = c.node(form, label)
        plan = form.cleaned_data
        areas = _check_areas(c, node, label)
        area_codes = {code for code, *_names in areas}
        if "code" in plan:
            if plan["code"] in seen_plans:
                c.add(form.line("code"), label, "code", _("appears twice in the file"))
            seen_plans.add(plan["code"])
            area_codes |= set(
                Area.objects.filter(plan__code=plan["code"]).values_list("code", flat=True)
            )
        plan_known = Known(units=known.units, owners=known.owners, areas=area_codes)
        targets = []
        for t_index, t_node in c.nodes(node, "targets", label):
            t_label = _label("target", t_node, "targets", t_index)
            t_form, row = _check_target(c, t_node, t_label, known=plan_known, plan=plan)
            checked.append((t_form, t_label))
            code = t_form.cleaned_data.get("code")
            if code in seen_targets:
                c.add(
                    t_form.line("code"), t_label, "code",
                    _("appears twice (first in %(place)s)") % {"place": seen_targets[code]},
                )
            elif code:
                seen_targets[code] = label
            if row is not None:
                targets.append(row)
        _check_kept_milestones(c, form, label, set(seen_targets))
        _check_calendar_change(c, form, label, targets)
        if complete:
            rows.append(PlanRow(
                plan["code"], plan["name"], plan["unit"], plan["start"], plan["end"], areas,
                targets, plan["reporting_calendar"], plan["deadline_working_days"],
                plan["name_en"],
            ))
    _check_reported_values(c, checked)
    return rows


def _check_areas(c: Checker, plan: Located, label: str) -> list[tuple[str, str, str]]:
    areas: dict[str, tuple[str, str]] = {}
    for index, node in c.nodes(plan, "areas", label):
        form = AreaNode(node)
        a_label = f"{label} {_label('area', node, 'areas', index)}"
        if not c.node(form, a_label):
            continue
        code = form.cleaned_data["code"]
        if code in areas:
            c.add(form.line("code"), a_label, "code", _("appears twice in the plan"))
        areas[code] = (form.cleaned_data["name"], form.cleaned_data["name_en"])
    return [(code, name, name_en) for code, (name, name_en) in areas.items()]


def _check_target(
    c: Checker, node: Located, label: str, *, known: Known, plan: dict[str, Any]
) -> tuple[TargetNode, TargetRow | None]:
    form = TargetNode(node, known=known, plan=plan)
    complete = c.node(form, label)
    milestones: dict[dt.date, Decimal] = {}
    for index, m_node in c.nodes(node, "milestones", label):
        where = f"{label} milestone {index + 1}"
        m_form = MilestoneNode(m_node, target=form, plan=plan)
        if not c.node(m_form, where):
            complete = False
            continue
        when = m_form.cleaned_data["date"]
        if when in milestones:
            c.add(m_form.line("date"), where, "date", _("two milestones on %(date)s") % {
                "date": when
            })
        milestones[when] = m_form.cleaned_data["value"]
    if not complete:
        return form, None
    values = dict(form.cleaned_data)
    area, unit, owner = values.pop("area"), values.pop("responsible_unit"), values.pop("owner")
    # The plan's choices reach its targets: the calendar always, the deadline in working days
    # unless the target states its own (``deadline_working_days: null``: its grace days).
    values["reporting_calendar"] = plan.get("reporting_calendar", ReportingCalendar.CALENDAR)
    if "deadline_working_days" not in node:
        values["deadline_working_days"] = plan.get("deadline_working_days")
    return form, TargetRow(values, area, unit, owner, sorted(milestones.items()))


def _check_calendar_change(
    c: Checker, form: PlanNode, label: str, targets: list[TargetRow]
) -> None:
    """A plan's reporting calendar may change only while none of its targets (in the database
    or in the file) has an entry: an entry speaks for a period of the calendar it was made in.
    """
    plan = form.cleaned_data
    if not {"code", "reporting_calendar"} <= plan.keys():
        return
    codes = [t.values["code"] for t in targets]
    count = (
        ProgressEntry.objects.filter(Q(target__plan__code=plan["code"]) | Q(target__code__in=codes))
        .exclude(target__reporting_calendar=plan["reporting_calendar"])
        .count()
    )
    if count:
        c.add(
            form.line("reporting_calendar"), label, "reporting_calendar",
            ngettext(
                "%(count)s entry was reported for the periods of another calendar: the "
                "plan's reporting calendar cannot change",
                "%(count)s entries were reported for the periods of another calendar: the "
                "plan's reporting calendar cannot change",
                count,
            ) % {"count": count},
        )


def _check_kept_milestones(c: Checker, form: PlanNode, label: str, file_codes: set[str]) -> None:
    """Milestones of the plan's targets that this file leaves as they are must still fit."""
    plan = form.cleaned_data
    if not {"code", "start", "end"} <= plan.keys():
        return
    for when, code in (
        Milestone.objects.filter(target__plan__code=plan["code"])
        .exclude(target__code__in=file_codes)
        .exclude(date__range=(plan["start"], plan["end"]))
        .values_list("date", "target__code")
    ):
        key = "end" if when > plan["end"] else "start"
        c.add(
            form.line(key), label, key,
            _("the milestone of %(date)s of target %(code)s would lie outside the plan")
            % {"date": when, "code": code},
        )


def _check_reported_values(c: Checker, checked: list[tuple[TargetNode, str]]) -> None:
    """The values already reported for a target must fit its value type and range as the
    file sets them (a percentage target holds no entry of 150)."""
    targets = {
        form.cleaned_data["code"]: (form, label, unsaved)
        for form, label in checked
        if "code" in form.cleaned_data and (unsaved := form.unsaved_target()) is not None
    }
    misfits: dict[str, list[tuple[str, str]]] = {}
    for code, period, value in (
        ProgressEntry.objects.filter(target__code__in=targets)
        .order_by("period_end")
        .values_list("target__code", "period", "value")
    ):
        problem = targets[code][2].value_problem(value)
        if problem:
            misfits.setdefault(code, []).append((period, problem))
    for code, found in misfits.items():
        form, label, _unsaved = targets[code]
        period, problem = found[0]
        c.add(
            form.line("code"), label, "",
            ngettext(
                "%(count)s reported value would no longer fit (%(period)s): %(problem)s",
                "%(count)s reported values would no longer fit (first %(period)s): %(problem)s",
                len(found),
            ) % {"count": len(found), "period": period, "problem": problem},
        )


# --- writing --------------------------------------------------------------------


@dataclass
class PlanImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


@dataclass(frozen=True)
class Attribution:
    """Who makes the import's changes and why, as every history row it writes records them."""

    user: AbstractBaseUser
    reason: str

    def save(self, obj: Model, **kwargs: Any) -> None:
        # django-simple-history reads the user and reason from the instance (no request here).
        obj._history_user = self.user
        obj._change_reason = self.reason
        obj.save(**kwargs)

    def delete(self, obj: Model) -> None:
        obj._history_user = self.user
        obj._change_reason = self.reason
        obj.delete()


def _upsert(
    model: type[Model], lookup: dict[str, Any], values: dict[str, Any], by: Attribution
) -> tuple[Model, str]:
    """Create, update (only the changed fields) or leave a row; say which."""
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        obj = model(**lookup, **values)
        by.save(obj)
        return obj, "created"
    changed = [k for k, v in values.items() if getattr(obj, k) != v]
    if not changed:
        return obj, "unchanged"
    for k in changed:
        setattr(obj, k, values[k])
    by.save(obj)
    return obj, "updated"


def plan_import(*, data: Any, filename: str, user: AbstractBaseUser) -> PlanImportResult:
    """Create or update everything in a plan file, or nothing (ImportFailed). Every history
    row written names ``user`` and the file ("import of <file>")."""
    checked = check_plan_file(data, filename)
    limit = Target.history.model._meta.get_field("history_change_reason").max_length
    by = Attribution(user=user, reason=shown(f"import of {filename}", limit))
    try:
        return _plan_write(checked, filename, by)
    except (IntegrityError, DataError) as exc:
        # The checker knows every rule it can; the database is the last word on the rest.
        raise ImportFailed(
            [Problem(filename, "", _("the database refused the plan: %(error)s") % {"error": exc})]
        ) from exc


@transaction.atomic
def _plan_write(checked: PlanFile, filename: str, by: Attribution) -> PlanImportResult:
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
            unit, outcome = _upsert(
                Unit, {"code": row.code},
                {"name": row.name, "name_en": row.name_en, "parent": parent}, by,
            )
            units[row.code] = unit
            result.count(outcome)
            pending.remove(row)
    owners = {u.username: u for u in get_user_model().objects.all()}
    for row in checked.plans:
        plan, outcome = _upsert(
            Plan,
            {"code": row.code},
            {
                "name": row.name, "name_en": row.name_en, "unit": units[row.unit_code],
                "start": row.start,
                "end": row.end, "reporting_calendar": row.reporting_calendar,
                "deadline_working_days": row.deadline_working_days,
            },
            by,
        )
        result.count(outcome)
        # Targets of the plan the file leaves as they are follow its calendar too (the
        # checker made sure none of them has entries if it changed).
        for other in Target.objects.filter(plan=plan).exclude(
            reporting_calendar=row.reporting_calendar
        ).exclude(code__in=[t.values["code"] for t in row.targets]):
            other.reporting_calendar = row.reporting_calendar
            by.save(other, update_fields=["reporting_calendar"])
        areas = {a.code: a for a in Area.objects.filter(plan=plan)}
        for code, name, name_en in row.areas:
            area, outcome = _upsert(
                Area, {"plan": plan, "code": code}, {"name": name, "name_en": name_en}, by
            )
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
            target, outcome = _upsert(Target, {"code": t.values["code"]}, values, by)
            result.count(outcome)
            milestone_outcome = _sync_milestones(target, t.milestones, by)
            if outcome == "unchanged" and milestone_outcome != "unchanged":
                result.unchanged -= 1
                result.updated += 1
    return result


def _sync_milestones(
    target: Target, milestones: list[tuple[dt.date, Decimal]], by: Attribution
) -> str:
    """Make the target's milestones exactly those of the file."""
    current = {m.date: m for m in target.milestones.all()}
    wanted = dict(milestones)
    changed = False
    for when, milestone in current.items():
        if when not in wanted:
            by.delete(milestone)
            changed = True
    for when, value in wanted.items():
        if when not in current:
            by.save(Milestone(target=target, date=when, value=value))
            changed = True
        elif current[when].value != value:
            current[when].value = value
            by.save(current[when], update_fields=["value"])
            changed = True
    return "updated" if changed else "unchanged"


def plan_import_file(path: str | Path, *, user: AbstractBaseUser) -> PlanImportResult:
    return plan_import(data=plan_file_read(path), filename=Path(path).name, user=user)



# --- the public pages --------------------------------------------------------------------------


@transaction.atomic
def plans_set_public(
    *, plan_ids: Iterable[int], public: bool, user: AbstractBaseUser,
    now: dt.datetime | None = None,
) -> list[Plan]:
    """Publish the plans (``public``) or withdraw them: their public pages answer from then on,
    or answer 404. Each plan is re-read under a lock; one already as asked is left alone (no
    history row). The plans changed, each change in the history under ``user``."""
    now = now or timezone.now()
    changed = []
    for plan in Plan.objects.select_for_update().filter(pk__in=list(plan_ids)).order_by("pk"):
        if plan.public == public:
            continue
        plan.public = public
        plan.published_at = now if public else None
        plan._history_user = user
        plan.save(update_fields=["public", "published_at"])
        changed.append(plan)
    return changed
