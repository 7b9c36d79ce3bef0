"""Every non-trivial read of the register's screens: the project page, the project reports in
the entry screen and the review queue, the pipeline, and what a register target's page shows.

Each read costs a fixed number of queries, whatever the number of projects and reports.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, OuterRef, QuerySet, Subquery, Sum
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from register.measures import PIPELINE, Measured, measure_at, measures_of, register_history
from register.models import (
    MeasureKind,
    Project,
    ProjectReport,
    Stage,
    TargetMeasure,
)
from register.services import EDITABLE, period_holding, report_deadline
from targets import access, rules
from targets.formatting import format_number
from targets.models import EntryStatus, Target, Unit, reads_english

# The columns of the pipeline: the licensing pipeline in order, then the two ways out of it.
STAGES: tuple[str, ...] = (*PIPELINE, Stage.SUSPENDED, Stage.REVOKED)
# How far back the project page offers quarters to report (five years).
QUARTERS_OFFERED = 20
CAPITAL = (MeasureKind.REGISTERED_CAPITAL, MeasureKind.DISBURSED_CAPITAL)


# --- the project page -------------------------------------------------------------------------


def project_for_page(*, user, code: str) -> Project:
    """One visible project with its unit and park; Project.DoesNotExist outside the scope."""
    return access.projects_visible_to(user).select_related("unit", "park").get(code=code)


def project_reports(*, project: Project) -> list[ProjectReport]:
    """The project's reports, newest period first, each with ``.events``: the moments its
    workflow state or figures changed, from its audit history (two queries in all)."""
    reports = list(
        ProjectReport.objects.filter(project=project)
        .select_related("author", "reviewer", "last_editor", "submitted_by")
        .order_by("-period_end")
    )
    events: dict[int, list] = defaultdict(list)
    for record in (
        ProjectReport.history.filter(project_id=project.pk)
        .select_related("history_user")
        .order_by("history_date", "history_id")
    ):
        events[record.id].append(record)
    for report in reports:
        report.project = project  # no query per report for its currency
        report.events = _workflow_events(events[report.pk])
    return reports


def _figures(record) -> tuple:
    return (record.stage, record.stage_date, record.registered_capital,
            record.disbursed_capital, record.jobs_filled)


def _workflow_events(records: list) -> list:
    """The history records where the state or the figures changed (``.edited``: the figures of
    a draft or a returned report were changed in that state)."""
    kept = []
    previous = None
    for record in records:
        if previous is None or (record.status, _figures(record)) != (
            previous.status, _figures(previous)
        ):
            record.edited = previous is not None and record.status == previous.status
            kept.append(record)
        previous = record
    return kept


@dataclass(frozen=True)
class TimelineStep:
    """A stage the project reached, as its approved reports tell it."""

    stage: str
    label: str
    stage_date: date
    period: str  # the first approved report that said so


def stage_timeline(reports: list[ProjectReport]) -> list[TimelineStep]:
    """The stages of the approved reports, oldest first, one step per change of stage or of
    its date (a later report that restates a stage adds nothing)."""
    labels = dict(Stage.choices)
    steps: list[TimelineStep] = []
    for report in sorted(reports, key=lambda r: r.period_end):
        if report.status != EntryStatus.APPROVED:
            continue
        if steps and (steps[-1].stage, steps[-1].stage_date) == (report.stage, report.stage_date):
            continue
        steps.append(TimelineStep(report.stage, str(labels[report.stage]), report.stage_date,
                                  report.period))
    return steps


@dataclass(frozen=True)
class CapitalPoint:
    """The capital and jobs an approved report gives at its period's end."""

    period: str
    period_end: date
    registered: Decimal
    disbursed: Decimal
    jobs_filled: int

    @property
    def disbursed_share(self) -> int | None:
        """The disbursed part of the registered capital in whole percent (0–100)."""
        if not self.registered:
            return None
        return max(0, min(100, round(self.disbursed * 100 / self.registered)))


def capital_history(reports: list[ProjectReport]) -> list[CapitalPoint]:
    """Registered and disbursed capital over time: the approved reports, oldest first."""
    return [
        CapitalPoint(r.period, r.period_end, r.registered_capital, r.disbursed_capital,
                     r.jobs_filled)
        for r in sorted(reports, key=lambda r: r.period_end)
        if r.status == EntryStatus.APPROVED
    ]


def report_periods(project: Project, reports: list[ProjectReport], today: date
                   ) -> list[rules.Period]:
    """The quarters a report may be written for, newest first: from the quarter of the
    project's first report (or of its stage date, and at the latest the quarter whose report
    is due) to the quarter running today, at most QUARTERS_OFFERED of them."""
    starts = [r.period_start for r in reports] + [project.stage_date, due_quarter(today).start]
    period = period_holding(min(starts))
    periods = []
    while period.start <= today:
        periods.append(period)
        period = period_holding(period.end + timedelta(days=1))
    return list(reversed(periods))[:QUARTERS_OFFERED]


def due_quarter(today: date) -> rules.Period:
    """The quarter whose report is due now: the last one that ended (investors report by the
    10th of the month after the quarter)."""
    return period_holding(period_holding(today).start - timedelta(days=1))


def default_period(reports: list[ProjectReport], today: date) -> str:
    """The quarter the project page opens on: the last ended one while its report is still to
    write or fix, else the quarter running today."""
    due = due_quarter(today)
    states = {r.period: r.status for r in reports}
    if states.get(due.key, EntryStatus.DRAFT) in EDITABLE:
        return due.key
    return period_holding(today).key


# --- project reports in the entry screen and the review queue --------------------------------


def projects_to_report(*, user, today: date) -> list[Project]:
    """The projects the user may report on, each with its latest report's period, status and
    reviewer's comment (``latest_*``) and ``report_period``: the quarter to write now (the last
    ended one while its report is missing, a draft or returned, else the running one). One
    query."""
    reports = ProjectReport.objects.filter(project=OuterRef("pk"))
    latest = reports.order_by("-period_end")
    due = due_quarter(today)
    projects = list(
        access.projects_enterable_by(user)
        .select_related("unit")
        .annotate(
            latest_period=Subquery(latest.values("period")[:1]),
            latest_status=Subquery(latest.values("status")[:1]),
            latest_comment=Subquery(latest.values("review_comment")[:1]),
            due_status=Subquery(reports.filter(period=due.key).values("status")[:1]),
        )
        .order_by("unit__path", "code")
    )
    running = period_holding(today).key
    deadline = report_deadline(due)
    labels = dict(EntryStatus.choices)
    for project in projects:
        project.latest_status_label = labels.get(project.latest_status, "")
        editable = project.due_status is None or project.due_status in EDITABLE
        project.report_period = due.key if editable else running
        project.due_period = due.key
        # The due quarter's report, not yet submitted: by when, and whether that has passed.
        project.report_deadline = deadline if editable else None
        project.report_late = editable and today > deadline
    return projects


def project_reports_to_fix(*, user) -> QuerySet[ProjectReport]:
    """The user's draft and returned project reports (of projects they may still report on)."""
    return (
        ProjectReport.objects.filter(
            author=user, status__in=EDITABLE,
            project__in=access.projects_enterable_by(user),
        )
        .select_related("project", "reviewer")
        .order_by("-updated_at")
    )


def project_reports_to_review(*, user) -> QuerySet[ProjectReport]:
    """Submitted reports of the projects the user may review, oldest submission first."""
    return (
        ProjectReport.objects.filter(
            status=EntryStatus.SUBMITTED, project__in=access.projects_reviewable_by(user)
        )
        .select_related("project", "project__unit", "author")
        .order_by("submitted_at", "pk")
    )


def reviewable_report(*, user, pk: int) -> ProjectReport:
    """One report of a project the user may review; ProjectReport.DoesNotExist otherwise."""
    return (
        ProjectReport.objects.filter(project__in=access.projects_reviewable_by(user))
        .select_related("project", "project__unit", "project__park", "author", "last_editor",
                        "submitted_by", "reviewer")
        .get(pk=pk)
    )


def previous_approved(report: ProjectReport) -> ProjectReport | None:
    """The project's approved report before ``report``'s period (what it changes)."""
    return (
        ProjectReport.objects.filter(
            project_id=report.project_id, status=EntryStatus.APPROVED,
            period_end__lt=report.period_end,
        )
        .select_related("reviewer")
        .order_by("-period_end")
        .first()
    )


# --- the pipeline -----------------------------------------------------------------------------


@dataclass
class Cell:
    """The projects of one unit (and the units below it) at one stage."""

    count: int = 0
    capital: dict[str, Decimal] = field(default_factory=dict)  # currency → registered capital

    def add(self, count: int, currency: str, amount: Decimal | None) -> None:
        self.count += count
        self.capital[currency] = self.capital.get(currency, Decimal(0)) + (amount or 0)

    @property
    def amounts(self) -> list[tuple[str, Decimal]]:
        """Per currency, VND first (never added together)."""
        return sorted(self.capital.items(), key=lambda item: (item[0] != "VND", item[0]))


@dataclass
class PipelineRow:
    unit: Unit | None  # None: the total of every project shown
    depth: int
    cells: list[Cell]  # one per STAGES
    total: Cell


def pipeline_rows(*, projects: QuerySet[Project], units: QuerySet[Unit]) -> list[PipelineRow]:
    """The pipeline of ``projects``: for each of ``units`` that holds some of them (in its
    subtree), the count and registered capital per currency at each stage; then the total
    (when the rows have more than one top unit).

    Two queries: the projects grouped by unit, stage and currency, and the units."""
    groups = list(
        projects.order_by()
        .values_list("unit__path", "stage", "registered_currency")
        .annotate(count=Count("pk"), capital=Sum("registered_capital"))
    )
    column = {stage: i for i, stage in enumerate(STAGES)}

    def row_of(unit: Unit | None, paths: list[str]) -> PipelineRow | None:
        cells = [Cell() for _stage in STAGES]
        total = Cell()
        for path, stage, currency, count, capital in groups:
            if unit is not None and not path.startswith(unit.path):
                continue
            cells[column[stage]].add(count, currency, capital)
            total.add(count, currency, capital)
        if not total.count:
            return None
        depth = 0 if unit is None else sum(1 for p in paths if unit.path.startswith(p)) - 1
        return PipelineRow(unit, depth, cells, total)

    shown = [u for u in units.order_by("path") if any(g[0].startswith(u.path) for g in groups)]
    paths = [u.path for u in shown]
    rows = [row for row in (row_of(u, paths) for u in shown) if row is not None]
    # The total, unless one unit's row already holds every project shown.
    if sum(1 for row in rows if row.depth == 0) != 1:
        total = row_of(None, paths)
        if total is not None:
            rows.append(total)
    return rows


# --- a register target's page -----------------------------------------------------------------


def measured_on(target: Target, today: date) -> date:
    """The day a register target's page measures at: the end of its latest reporting period
    ended by ``today`` (the date its actual speaks for), else today."""
    ended = [p.end for p in target.reporting_periods() if p.end <= today]
    return ended[-1] if ended else today


@dataclass(frozen=True)
class ItemRow:
    """One project or park behind a register target's number, as its page lists it."""

    code: str
    name: str
    stage: str  # the stage's label ("" : a park not started yet)
    counted: bool
    amount: Decimal | None  # capital (in ``currency``), jobs, or a park's leased land (ha)
    currency: str = ""
    land: Decimal | None = None  # a park's industrial land (ha)
    project: bool = False  # a project whose page the user may open


@dataclass(frozen=True)
class RegisterSection:
    """What a register target's page shows of the register."""

    measure: TargetMeasure
    measured: Measured
    items: list[ItemRow]
    sentence: str  # counts: "0 of 2 — 1 with an investment certificate, …"


def target_register(*, target: Target, user, today: date) -> RegisterSection | None:
    """The register behind a target's actual (None: the target takes it from entries): its
    value at ``measured_on`` with the projects or parks it is made of. Four queries (the
    measure is read with the target when ``target_for_page`` read it)."""
    measure = measures_of([target]).get(target.pk)
    if measure is None:
        return None
    on = measured_on(target, today)
    history = register_history([measure.unit.path])
    measured = measure_at(measure, measure.unit.path, history, on)
    currency = {p.code: p.currency for p in history.projects.values()}
    parks = measure.counts_parks
    openable = set() if parks else set(
        access.projects_visible_to(user)
        .filter(code__in=[item.code for item in measured.items])
        .values_list("code", flat=True)
    )
    english = reads_english()
    labels = dict(Stage.choices)
    items = [
        ItemRow(
            code=item.code,
            name=(item.name_en or item.name) if english else (item.name or item.name_en),
            stage=str(labels[item.stage]) if item.stage else str(_("not started yet")),
            counted=item.counted,
            amount=item.amount,
            currency=currency.get(item.code, "") if measure.kind in CAPITAL else "",
            land=item.land,
            project=item.code in openable,
        )
        for item in measured.items
    ]
    sentence = (
        pipeline_sentence(measured, target.target_value)
        if measure.kind == MeasureKind.COUNT and measured.value is not None else ""
    )
    return RegisterSection(measure, measured, items, sentence)


# How the pipeline sentence names the items at each stage ("" : a park none of whose
# infrastructure projects has entered the pipeline).
STAGE_PHRASES = {
    "": _("%(count)s not started yet"),
    Stage.PROPOSED: _("%(count)s proposed"),
    Stage.POLICY_APPROVED: _("%(count)s with the investment policy approved"),
    Stage.CERTIFICATE_ISSUED: _("%(count)s with an investment certificate"),
    Stage.LAND_HANDED_OVER: _("%(count)s land handed over"),
    Stage.UNDER_CONSTRUCTION: _("%(count)s under construction"),
    Stage.OPERATING: _("%(count)s operating"),
    Stage.SUSPENDED: _("%(count)s suspended"),
    Stage.REVOKED: _("%(count)s revoked"),
}


def pipeline_sentence(measured: Measured, target_value: Decimal) -> str:
    """A count target's value against its target with where the items stand: "0 of 2 — 1 with
    an investment certificate, 1 land handed over"."""
    head = gettext("%(value)s of %(target)s") % {
        "value": format_number(measured.value), "target": format_number(target_value),
    }
    parts = [
        str(STAGE_PHRASES[stage]) % {"count": format_number(measured.pipeline[stage])}
        for stage in ("", *STAGES) if measured.pipeline.get(stage)
    ]
    return f"{head} — {', '.join(parts)}" if parts else head
