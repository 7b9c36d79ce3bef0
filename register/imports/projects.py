"""Projects from a file: each row creates the project of its code or updates it.

Only the managers of the project's unit or of a unit above it (and superusers) create and
change projects; staff report a project's figures quarter by quarter instead (project
reports, approved by a manager who did not write them). A new project takes the figures of its
row as the admin's form would; once a project has an approved report, its figures (stage,
stage date, capital, jobs filled) change only through reports — a row may repeat them but not
change them — so the four-eyes rule holds for what the targets count.

The rows are checked in a fixed number of queries, whatever their number: the projects, units
and parks they name are read at once, and each row is validated by the model's own checks
(``full_clean``) without a query of its own.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext as _

from register.imports.table import (
    Row,
    amount,
    choice,
    country,
    currency,
    day,
    plain_text,
    signed,
    text,
    whole,
)
from register.models import Park, Project, ProjectReport, Sector, Stage
from register.services import FIGURES
from targets import access
from targets.models import EntryStatus, Unit
from targets.numbers import has_control_characters, shown

COLUMNS = ("code", "name", "name_en", "investor", "investor_country", "sector", "unit", "park",
           "latitude", "longitude", "registered_capital", "registered_currency",
           "disbursed_capital", "disbursed_currency", "land_area_ha", "jobs_planned",
           "jobs_filled", "stage", "stage_date")
REQUIRED = ("code", "name", "investor", "investor_country", "sector", "unit",
            "registered_capital", "stage", "stage_date")
# The fields a row sets as they are read (the unit and the park are looked up by code).
PLAIN = tuple(c for c in COLUMNS if c not in ("unit", "park"))
# An empty cell of an optional column: the field's default.
EMPTY = {"name_en": "", "registered_currency": "VND", "disbursed_capital": Decimal(0),
         "jobs_planned": 0, "jobs_filled": 0}
COMPARED = tuple(Project._meta.get_field(c).attname for c in COLUMNS)
CHUNK = 2000  # codes per query
CODE_LENGTH = 40  # the longest code of a project, unit or park

Existing = dict[str, Project]


def _chunks(values: Iterable) -> Iterator[list]:
    values = sorted(set(values))
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _codes(rows: list[Row], column: str) -> set[str]:
    """The codes the rows name in ``column``, as a query may look them up (a code with a
    control character, which the database refuses, or longer than any code, names nothing)."""
    codes = {text(row.cells[column]).strip() for row in rows if row.given(column)}
    return {code for code in codes
            if code and len(code) <= CODE_LENGTH and not has_control_characters(code)}


def existing(rows: list[Row], *, lock: bool = False) -> Existing:
    """The projects the rows' codes name, locked for the import when asked."""
    found: Existing = {}
    for chunk in _chunks(_codes(rows, "code")):
        projects = (Project.objects.filter(code__in=chunk).select_related("unit", "park__unit")
                    .order_by("pk"))
        if lock:
            projects = projects.select_for_update(of=("self",))
        found.update((project.code, project) for project in projects)
    return found


def _approved(found: Existing) -> set[int]:
    """The projects among ``found`` that have an approved report."""
    ids = [project.pk for project in found.values()]
    return set(
        ProjectReport.objects.filter(project_id__in=ids, status=EntryStatus.APPROVED)
        .values_list("project_id", flat=True).distinct()
    ) if ids else set()


def fingerprint(found: Existing) -> list:
    """What the check read of the register: compared again, under locks, on confirming."""
    approved = _approved(found)
    return sorted(
        [project.pk, *(str(getattr(project, name)) for name in COMPARED),
         project.pk in approved]
        for project in found.values()
    )


def _readers() -> list[tuple]:
    sector = choice(Sector, _("“%(value)s” is not a sector: write one of %(codes)s, or its "
                              "name as the register shows it."))
    stage = choice(Stage, _("“%(value)s” is not a stage: write one of %(codes)s, or its name "
                            "as the register shows it."))
    return [
        ("code", plain_text), ("name", plain_text), ("name_en", plain_text),
        ("investor", plain_text), ("investor_country", country), ("sector", sector),
        ("unit", plain_text), ("park", plain_text), ("latitude", signed),
        ("longitude", signed), ("registered_capital", amount), ("registered_currency", currency),
        ("disbursed_capital", amount), ("disbursed_currency", currency),
        ("land_area_ha", amount), ("jobs_planned", whole), ("jobs_filled", whole),
        ("stage", stage), ("stage_date", day),
    ]


def check(*, user, rows: list[Row], found: Existing) -> None:
    """Give every row its problems, or the project it creates or updates and its action."""
    approved = _approved(found)
    codes = _codes(rows, "code")
    visible: set[str] = set()
    for chunk in _chunks(codes):
        visible.update(access.projects_visible_to(user).filter(code__in=chunk)
                       .values_list("code", flat=True))
    unit_codes = _codes(rows, "unit")
    units: dict[str, Unit] = {}
    for chunk in _chunks(unit_codes):
        # Units outside the user's subtrees do not exist for them.
        units.update((unit.code, unit) for unit in access.units_visible_to(user)
                     .filter(code__in=chunk))
    parks: dict[str, Park] = {}
    for chunk in _chunks(_codes(rows, "park")):
        parks.update((park.code, park)
                     for park in Park.objects.filter(code__in=chunk).select_related("unit"))
    readers = _readers()
    seen: dict[str, int] = {}
    for row in rows:
        if row.given("code"):
            row.label = text(row.cells["code"]).strip()
        for column, reader in readers:
            row.read(column, reader, required=column in REQUIRED)
        code = row.values.get("code")
        if code:
            first = seen.setdefault(code, row.number)
            if first != row.number:
                row.problem("code", _("Duplicate row: row %(first)s already has the project "
                                      "%(code)s.") % {"first": first, "code": shown(code)})
                continue
        project = found.get(code) if code else None
        if project is not None and code not in visible:
            row.problem("code", _("The code %(code)s is already used by a project outside "
                                  "your units: choose another.") % {"code": shown(code)})
            continue
        if project is not None and not access.can_review_for(user, project.unit):
            row.problem("code", _("Only the managers of %(unit)s (or of a unit above it) "
                                  "create and change its projects.")
                        % {"unit": project.unit.localized("name")})
            continue
        _check_row(user, row, project, units, parks, approved)


def _check_row(user, row: Row, project: Project | None, units: dict[str, Unit],
               parks: dict[str, Park], approved: set[int]) -> None:
    values = row.values
    unit = None
    if values.get("unit"):
        unit = units.get(values["unit"])
        if unit is None:
            row.problem("unit", _("Unknown unit “%(code)s”.") % {"code": shown(values["unit"])})
        elif not access.can_review_for(user, unit):
            row.problem("unit", _("Only the managers of %(unit)s (or of a unit above it) create "
                                  "and change its projects.") % {"unit": unit.localized("name")})
            unit = None
    park = None
    if values.get("park"):
        park = parks.get(values["park"])
        if park is None:
            row.problem("park", _("Unknown park or cluster “%(code)s”.")
                        % {"code": shown(values["park"])})
    candidate = copy.copy(project) if project is not None else Project(
        registered_currency="VND", disbursed_capital=Decimal(0), jobs_planned=0, jobs_filled=0)
    for name in PLAIN:
        if name in values:
            value = values[name]
            setattr(candidate, name, EMPTY.get(name) if value is None else value)
    if not values.get("disbursed_currency"):
        # Left out or empty: the registered capital's (a disbursement is never converted).
        candidate.disbursed_currency = candidate.registered_currency
    if unit is not None:
        candidate.unit = unit
    if row.given("park") and not row.failed("park"):
        candidate.park = park
    failed = {p.field for p in row.problems}
    try:
        # Each field's own checks and the model's (coordinates, currencies, the park's unit);
        # the unit and park were looked up above, the code's uniqueness with the projects.
        candidate.full_clean(exclude=[*failed, "unit", "park"], validate_unique=False,
                             validate_constraints=False)
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            for message in messages:
                row.problem("" if field == NON_FIELD_ERRORS else field, message)
    if project is not None and project.pk in approved:
        for name in FIGURES:
            if not row.failed(name) and getattr(candidate, name) != getattr(project, name):
                row.problem(name, _(
                    "%(code)s has approved reports: its stage, stage date, capital and jobs "
                    "filled change through project reports (import them as reports), not here.")
                    % {"code": project.code})
    if row.problems:
        return
    row.record = candidate
    if project is None:
        row.action = "create"
    elif all(getattr(candidate, name) == getattr(project, name) for name in COMPARED):
        row.action = "unchanged"  # importing the same file again changes nothing
    else:
        row.action = "update"


def write(*, user, rows: list[Row], reason: str) -> dict[str, int]:
    """Save the rows' projects (checked, under the locks of ``existing``), each with its
    history row naming ``user`` and ``reason``."""
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for row in rows:
        if row.action == "unchanged":
            counts["unchanged"] += 1
            continue
        project = row.record
        project._history_user = user
        project._change_reason = reason
        project.save()
        counts["created" if row.action == "create" else "updated"] += 1
    return counts
