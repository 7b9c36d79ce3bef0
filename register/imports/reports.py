"""Project reports from a file: each row is a project's stage and figures for a calendar
quarter, written as a draft through the workflow (``register.services``), and submitted for
review when the row (or the confirmation) says so.

Whoever may report on a project on the screens may import its reports: the staff of its unit
and the managers of that unit or above. A report already submitted or approved cannot change;
a row that repeats it changes nothing. Four eyes and versions hold because every write goes
through ``project_report_save_draft`` and ``project_report_submit``, given the version the
preview read.
"""

from __future__ import annotations

from datetime import date

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from register import services
from register.imports.projects import _chunks, _codes
from register.imports.table import (
    Row,
    amount,
    choice,
    currency,
    day,
    note_text,
    plain_text,
    text,
    whole,
    yes_no,
)
from register.models import Project, ProjectReport, Stage
from targets import access, rules
from targets.errors import WorkflowError
from targets.models import EntryStatus
from targets.numbers import shown

COLUMNS = ("project", "period", "stage", "stage_date", "registered_capital",
           "disbursed_capital", "jobs_filled", "currency", "note", "submit")
REQUIRED = ("project", "period", "stage", "stage_date", "registered_capital",
            "disbursed_capital", "jobs_filled")
FINAL = (EntryStatus.SUBMITTED, EntryStatus.APPROVED)

Existing = dict[tuple[int, str], ProjectReport]


def projects_named(rows: list[Row]) -> dict[str, Project]:
    found: dict[str, Project] = {}
    for chunk in _chunks(_codes(rows, "project")):
        found.update((project.code, project) for project in
                     Project.objects.filter(code__in=chunk).select_related("unit"))
    return found


def existing(projects: dict[str, Project], rows: list[Row], *, lock: bool = False) -> Existing:
    """The reports already recorded for the projects and periods the rows name (locked for
    the import when asked)."""
    periods = {p.upper() for p in _codes(rows, "period")}
    found: Existing = {}
    for chunk in _chunks(project.pk for project in projects.values()):
        reports = ProjectReport.objects.filter(project_id__in=chunk, period__in=periods)
        if lock:
            reports = reports.select_for_update()
        found.update(((r.project_id, r.period), r) for r in reports.order_by("pk"))
    return found


def fingerprint(projects: dict[str, Project], found: Existing) -> list:
    """What the check read of the register: compared again, under locks, on confirming."""
    return [sorted([p.code, p.pk, p.unit_id] for p in projects.values()),
            sorted([r.pk, r.project_id, r.period, r.version, r.status] for r in found.values())]


def check(*, user, rows: list[Row], projects: dict[str, Project], found: Existing,
          today: date) -> None:
    """Give every row its problems, or its (project, period, report) and its action."""
    visible: set[str] = set()
    for chunk in _chunks(projects):
        visible.update(access.projects_visible_to(user).filter(code__in=chunk)
                       .values_list("code", flat=True))
    stage = choice(Stage, _("“%(value)s” is not a stage: write one of %(codes)s, or its name "
                            "as the register shows it."))
    readers = [("project", plain_text), ("period", plain_text), ("stage", stage),
               ("stage_date", day), ("registered_capital", amount),
               ("disbursed_capital", amount), ("jobs_filled", whole), ("currency", currency)]
    seen: dict[tuple[str, str], int] = {}
    for row in rows:
        row.label = " ".join(shown(_cell_text(row, c), 24) for c in ("project", "period")
                             if _cell_text(row, c))
        for column, reader in readers:
            row.read(column, reader, required=column in REQUIRED)
        row.read("note", note_text, empty="")
        row.read("submit", yes_no, empty=False)
        project = _project(user, row, projects, visible)
        period = _period(row, today)
        if period is not None:
            _figures(row, period, today)
        values = row.values
        if project is not None and values.get("currency") and (
            values["currency"] != project.registered_currency
        ):
            row.problem("currency", _(
                "The capital of %(code)s is in %(project)s, not %(file)s: amounts are never "
                "converted.") % {"code": project.code, "project": project.registered_currency,
                                 "file": values["currency"]})
        if project is None or period is None:
            continue
        first = seen.setdefault((project.code, period.key), row.number)
        if first != row.number:
            row.problem("period", _("Duplicate row: row %(first)s already reports %(code)s for "
                                    "%(period)s.")
                        % {"first": first, "code": project.code, "period": period.key})
        if row.problems:
            continue
        _action(row, project, period, found.get((project.pk, period.key)))


def _cell_text(row: Row, column: str) -> str:
    return text(row.cells.get(column, "")).strip()


def _project(user, row: Row, projects: dict[str, Project], visible: set[str]
             ) -> Project | None:
    code = row.values.get("project")
    if not code:
        return None
    project = projects.get(code) if code in visible else None
    if project is None:
        # One the user does not see reads the same as one that does not exist: no leak.
        row.problem("project", _("Unknown project “%(code)s”.") % {"code": shown(code)})
        return None
    if not access.can_enter_for(user, project.unit):
        row.problem("project", _("You may not report on %(code)s: its reports come from "
                                 "%(unit)s.") % {"code": code,
                                                 "unit": project.unit.localized("name")})
        return None
    return project


def _period(row: Row, today: date) -> rules.Period | None:
    if not row.values.get("period"):
        return None
    try:
        period = services.report_period(row.values["period"].upper())
    except WorkflowError as exc:
        row.problem("period", exc.message)
        return None
    if not rules.period_started(period, today):
        row.problem("period", _("%(period)s has not started yet: it can be reported from "
                                "%(start)s.")
                    % {"period": period.key,
                       "start": date_format(period.start, "SHORT_DATE_FORMAT")})
        return None
    row.values["period"] = period.key
    return period


def _figures(row: Row, period: rules.Period, today: date) -> None:
    """The workflow's own checks of the figures (``services.figures_check``): a stage date
    after the quarter's end or in the future, among others."""
    values = row.values
    _content, errors = services.figures_check(
        period=period, stage=values.get("stage"), stage_date=values.get("stage_date"),
        registered_capital=values.get("registered_capital"),
        disbursed_capital=values.get("disbursed_capital"),
        jobs_filled=values.get("jobs_filled"), today=today,
    )
    for error in errors:
        if error.field in values and not row.failed(error.field):
            row.problem(error.field, error.message)


def _action(row: Row, project: Project, period: rules.Period,
            report: ProjectReport | None) -> None:
    values = row.values
    note = values.get("note", report.note if report else "")
    values["note"] = note
    row.record = (project, period, report)
    if report is None:
        row.action = "create"
        return
    same = report.note == note and all(
        getattr(report, name) == values[name] for name in services.FIGURES
    )
    if report.status in FINAL:
        if same:
            row.action = "unchanged"  # importing the same file again changes nothing
            return
        row.problem("period", _("The report of %(code)s for %(period)s is %(state)s and can no "
                                "longer change.")
                    % {"code": project.code, "period": period.key,
                       "state": report.get_status_display().lower()})
        return
    row.action = "update" if not same else ("submit" if values.get("submit") else "unchanged")


def write(*, user, rows: list[Row], today: date, submit_all: bool) -> dict[str, int]:
    """Save each row's report as a draft through the workflow, with the version the check
    read, and submit it when asked; StaleEntry when one changed meanwhile."""
    counts = {"created": 0, "updated": 0, "submitted": 0, "unchanged": 0}
    for row in rows:
        project, period, report = row.record
        values = row.values
        if row.action in ("create", "update"):
            report = services.project_report_save_draft(
                user=user, project_id=project.pk, period=period.key, stage=values["stage"],
                stage_date=values["stage_date"],
                registered_capital=values["registered_capital"],
                disbursed_capital=values["disbursed_capital"],
                jobs_filled=values["jobs_filled"], note=values["note"],
                version=report.version if report is not None else 0, today=today,
            )
            counts["created" if row.action == "create" else "updated"] += 1
        elif row.action == "unchanged":
            counts["unchanged"] += 1
        if (values.get("submit") or submit_all) and report.status in services.EDITABLE:
            services.project_report_submit(user=user, report_id=report.pk,
                                           version=report.version)
            counts["submitted"] += 1
    return counts
