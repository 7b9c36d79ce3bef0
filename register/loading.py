"""Loading a register file: parks and projects from YAML, each row checked by a Django form.

The file (``fixtures/register-demo.yaml`` is one) holds the lists ``parks``, ``projects`` and
``measures``, and the date ``as_of`` its figures speak for (today when left out). Each item
names its fields as the models do, units, parks and targets by their code. A row creates the
park, project or target measure of its code (a measure's: its target's), or updates it. Each
project's figures are also recorded as its approved report of the quarter that holds
``as_of``: the register's history starts there. Every problem says its line and field; a file
with any problem writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from django import forms
from django.contrib.auth.models import AbstractBaseUser
from django.db import DataError, IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from register.models import Park, Project, TargetMeasure
from register.services import opening_record, period_holding, project_sync
from targets import rules
from targets.errors import ImportFailed, Problem
from targets.models import Target, Unit
from targets.plan_yaml import Located, LocatedList, plan_file_parse, shown

SECTIONS = ("parks", "projects", "measures")
KEYS = (*SECTIONS, "as_of")


class ParkRowForm(forms.ModelForm):
    unit = forms.ModelChoiceField(queryset=Unit.objects.all(), to_field_name="code")

    class Meta:
        model = Park
        fields = ["code", "name", "name_en", "kind", "unit", "industrial_land_ha", "leased_ha",
                  "demo"]


class ProjectRowForm(forms.ModelForm):
    unit = forms.ModelChoiceField(queryset=Unit.objects.all(), to_field_name="code")
    park = forms.ModelChoiceField(queryset=Park.objects.all(), to_field_name="code",
                                  required=False)

    class Meta:
        model = Project
        fields = ["code", "name", "name_en", "investor", "investor_country", "sector", "unit",
                  "park", "latitude", "longitude", "registered_capital", "registered_currency",
                  "disbursed_capital", "disbursed_currency", "land_area_ha", "jobs_planned",
                  "jobs_filled", "stage", "stage_date", "demo"]
        error_messages = {"investor_country": {"invalid_choice": gettext_lazy(
            "“%(value)s” is not an ISO 3166 country code (two capital letters, e.g. VN).")}}


def _form_value(value: Any) -> str:
    """A value of the file as a form field reads a typed one: text (a date as 2026-06-15, a
    yes/no as true/false, nothing as empty)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _project_defaults(row: dict) -> dict:
    """What a project row may leave out: nothing disbursed yet, no jobs, in VND."""
    data = dict(row)
    data.setdefault("registered_currency", "VND")
    data.setdefault("disbursed_capital", 0)
    data.setdefault("disbursed_currency", data["registered_currency"])
    data.setdefault("jobs_planned", 0)
    data.setdefault("jobs_filled", 0)
    return data


class MeasureRowForm(forms.ModelForm):
    target = forms.ModelChoiceField(queryset=Target.objects.all(), to_field_name="code")
    unit = forms.ModelChoiceField(queryset=Unit.objects.all(), to_field_name="code")

    class Meta:
        model = TargetMeasure
        fields = ["target", "kind", "counted", "unit", "stage", "sector", "park_kind", "currency"]

    def clean(self) -> dict:
        data = super().clean()
        kind = data.get("kind")
        if kind in ("registered_capital", "disbursed_capital") and not data.get("currency"):
            self.add_error("currency", _("A capital sum needs its currency (VND or USD)."))
        if kind == "occupancy" and data.get("counted") != "parks":
            self.add_error("counted", _("Occupancy is measured over parks: counted: parks."))
        return data


def _measure_defaults(row: dict) -> dict:
    data = dict(row)
    data.setdefault("counted", "projects")
    return data


FORMS = {"parks": (ParkRowForm, Park, dict), "projects": (ProjectRowForm, Project,
                                                          _project_defaults),
         "measures": (MeasureRowForm, TargetMeasure, _measure_defaults)}
LABELS = {"parks": "park", "projects": "project", "measures": "measure of"}


@dataclass
class LoadResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _line(mapping: Any, key: str | None = None) -> int:
    if isinstance(mapping, Located):
        return mapping.key_lines.get(key, mapping.line) if key else mapping.line
    return getattr(mapping, "line", 0)


def _place(filename: str, line: int, section: str, code: Any = None) -> str:
    where = f"{filename}:{line}" if line else filename
    what = LABELS[section]
    return f"{where} {what} {shown(code)}" if code not in (None, "") else f"{where} {what}"


def register_load(*, data: Any, filename: str, user: AbstractBaseUser) -> LoadResult:
    """Create or update every park and project of a register file, or nothing
    (ImportFailed with every problem, in the file's order)."""
    if not isinstance(data, dict):
        raise ImportFailed([Problem(filename, "", _(
            "a register file is a mapping with the lists “parks” and “projects”"))])
    problems = [
        Problem(f"{filename}:{_line(data, key)}", shown(key), _("unknown section"),
                line=_line(data, key))
        for key in data if key not in KEYS
    ]
    as_of = data.get("as_of", timezone.localdate())
    if isinstance(as_of, str):
        try:
            as_of = date.fromisoformat(as_of.strip())
        except ValueError:
            as_of = None
    if not isinstance(as_of, date) or not 2 <= as_of.year <= 9998:
        line = _line(data, "as_of")
        problems.append(Problem(f"{filename}:{line}", "as_of", _(
            "the date the figures speak for, as 2026-09-30"), line=line))
    for section in SECTIONS:
        if section in data and not isinstance(data[section], list):
            line = _line(data, section)
            problems.append(Problem(f"{filename}:{line}", section, _("must be a list"), line=line))
    if problems:
        raise ImportFailed(problems)
    try:
        return _write(data, filename, user, period_holding(as_of))
    except (IntegrityError, DataError) as exc:
        raise ImportFailed([Problem(filename, "", _(
            "the database refused the register: %(error)s") % {"error": shown(exc, 200)})]
        ) from exc


class _Refused(Exception):
    """Rolls the transaction back, carrying the problems out of it."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems


def _write(data: dict, filename: str, user: AbstractBaseUser, period: rules.Period
           ) -> LoadResult:
    try:
        with transaction.atomic():
            result = LoadResult()
            problems: list[Problem] = []
            for section in SECTIONS:
                _load_section(section, data.get(section) or [], filename, user, result,
                              problems, period)
            if problems:
                raise _Refused(problems)
            return result
    except _Refused as refused:
        raise ImportFailed(sorted(refused.problems, key=lambda p: p.line)) from None


def _load_section(section: str, rows: list, filename: str, user: AbstractBaseUser,
                  result: LoadResult, problems: list[Problem], period: rules.Period) -> None:
    form_class, model, defaults = FORMS[section]
    fields = set(form_class._meta.fields)
    item_lines = rows.item_lines if isinstance(rows, LocatedList) else [0] * len(rows)
    seen: dict[str, int] = {}
    for row, row_line in zip(rows, item_lines, strict=True):
        if not isinstance(row, dict):
            problems.append(Problem(_place(filename, row_line, section), "",
                                    _("each item is a mapping of fields"), line=row_line))
            continue
        code = row.get("target" if section == "measures" else "code")
        # The code as the form reads it ("code: 2030" is the code "2030").
        code = None if code is None or isinstance(code, list | dict) else _form_value(code)
        line = _line(row) or row_line
        place = _place(filename, line, section, code)
        before = len(problems)
        for key, value in row.items():
            if isinstance(value, list | dict):
                key_line = _line(row, key)
                problems.append(Problem(_place(filename, key_line, section, code), shown(key),
                                        _("must be a single value"), line=key_line))
            elif key not in fields:
                key_line = _line(row, key)
                problems.append(Problem(_place(filename, key_line, section, code), shown(key),
                                        _("unknown field"), line=key_line))
        if code is not None and code in seen:
            problems.append(Problem(place, "code", _(
                "this code is already on line %(line)d") % {"line": seen[code]}, line=line))
        elif code is not None:
            seen[code] = line
        if len(problems) > before:
            continue
        lookup = {"target__code": code} if section == "measures" else {"code": code}
        instance = (
            model.objects.select_for_update().filter(**lookup).first()
            if code is not None else None
        )
        attnames = [model._meta.get_field(name).attname for name in form_class._meta.fields]
        before = [getattr(instance, name) for name in attnames] if instance else None
        values = {key: _form_value(value) for key, value in defaults(row).items()}
        form = form_class(data=values, instance=instance)
        if not form.is_valid():
            for field, errors in form.errors.items():
                key = None if field == "__all__" else field
                key_line = _line(row, key) if key in row else line
                for message in errors:
                    problems.append(Problem(_place(filename, key_line, section, code),
                                            key or "", message, line=key_line))
            continue
        obj = form.save(commit=False)
        if section == "projects" and obj.stage_date > period.end:
            key_line = _line(row, "stage_date")
            problems.append(Problem(_place(filename, key_line, section, code), "stage_date", _(
                "the stage date is after the file's as_of quarter (%(period)s)")
                % {"period": period.key}, line=key_line))
            continue
        if before is not None and before == [getattr(obj, name) for name in attnames]:
            if section == "projects":
                _record(obj, period, user)
            result.unchanged += 1
            continue
        obj._history_user = user
        obj._change_reason = shown(f"register file {filename}", 100)
        obj.save()
        if section == "projects":
            _record(obj, period, user)
        if instance is None:
            result.created += 1
        else:
            result.updated += 1


def _record(project: Project, period: rules.Period, user: AbstractBaseUser) -> None:
    """The project's row as its approved report of ``period``; the project keeps the figures
    of its latest approved report (a later one approved through the workflow wins)."""
    opening_record(project=project, period=period, user=user)
    project_sync(project, user)


def register_load_file(path: str | Path, *, user: AbstractBaseUser) -> LoadResult:
    path = Path(path)
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise ImportFailed([Problem(str(path), "", _("cannot read the file: %(error)s") % {
            "error": exc})]) from exc
    data = plan_file_parse(content, path.name)
    return register_load(data=data, filename=path.name, user=user)
