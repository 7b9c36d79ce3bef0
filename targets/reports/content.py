"""What the periodic report of a unit says (issue 13): its header, title and numbered sections,
in the reader's language, with every figure the string the status table shows.

A report is a list of sections, each a heading, a few sentences and a table of cells; the
documents (``targets.reports.documents``) number them I, II, III… in order and lay each out
the same way in PDF, DOCX and XLSX. A cell carries the text the screen shows and, for the
spreadsheet, the typed value (a Decimal, a date). Section IV, the reporting completeness of the
units below, is appended by ``report_build`` like the others when its service exists: a new
section needs no change to the documents.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Min, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from targets import access, rules, selectors, verdicts
from targets.formatting import format_number, person_name, tidy_decimal
from targets.models import (
    EXPLANATION_ACTIVE,
    ExplanationAnswer,
    Status,
    Target,
    Unit,
)
from targets.services import completeness
from targets.tables import STATUS_LABELS

# The national emblem lines: the legal header of every administrative document, in Vietnamese
# whatever the reader's language (Decree 30/2020/NĐ-CP, Appendix I).
EMBLEM = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập – Tự do – Hạnh phúc"
# "BC": báo cáo, the abbreviation of the document type in its number (Decree 30, Appendix III).
DOCUMENT_TYPE = "BC"

# The period a key names, as a title says it ("Results of the targets for …").
QUARTERS = {
    1: gettext_lazy("the first quarter of %(year)s"),
    2: gettext_lazy("the second quarter of %(year)s"),
    3: gettext_lazy("the third quarter of %(year)s"),
    4: gettext_lazy("the fourth quarter of %(year)s"),
}
HALVES = {
    1: gettext_lazy("the first half of %(year)s"),
    2: gettext_lazy("the second half of %(year)s"),
}
NINE_MONTHS = gettext_lazy("the first nine months of %(year)s")
YEAR = gettext_lazy("the year %(year)s")
# The periods a user chooses from, per frequency: ten years of months at most.
MAX_PERIODS_OFFERED = 120


def period_phrase(key: str) -> str:
    """The period a key names, in the active language: 2026-Q1 → "quý I năm 2026"."""
    match = rules.PERIOD_KEY.fullmatch(key)
    if match is None:
        return key
    year = match["year"]
    if match["nine"]:
        return NINE_MONTHS % {"year": year}
    if match["q"]:
        return QUARTERS[int(match["q"])] % {"year": year}
    if match["h"]:
        return HALVES[int(match["h"])] % {"year": year}
    if match["m"]:
        return date_format(date(int(year), int(match["m"]), 1), "YEAR_MONTH_FORMAT")
    return YEAR % {"year": year}


@dataclass(frozen=True)
class PeriodChoice:
    key: str
    label: str  # "Quý I năm 2026 (2026-Q1)"
    end: date  # its last day (the latest of its calendars)


def report_periods(*, user, today: date) -> list[PeriodChoice]:
    """The reporting periods of the user's targets that have begun, the latest first: those of
    each frequency and calendar the targets use, from the earliest baseline on. One query."""
    kinds = (
        access.targets_visible_to(user).order_by()
        .values_list("frequency", "reporting_calendar").annotate(first=Min("baseline_date"))
    )
    found: dict[str, date] = {}
    for frequency, calendar, first in kinds:
        period = rules.period_containing(
            rules.Frequency(frequency), today, rules.Calendar(calendar))
        for _step in range(MAX_PERIODS_OFFERED):
            if period.end <= first:  # ended before the targets' baseline: nothing to report
                break
            found[period.key] = max(found.get(period.key, period.end), period.end)
            period = rules.period_containing(
                rules.Frequency(frequency), period.start - timedelta(days=1), period.calendar)
    # The latest end first; of two periods ending together, the shorter (a quarter before
    # its year).
    keys = sorted(found, key=lambda key: (found[key], -len(key)), reverse=True)
    return [PeriodChoice(key, f"{capfirst(period_phrase(key))} ({key})", found[key])
            for key in keys]


# --- the report ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    label: str
    numeric: bool = False  # right-aligned; its cells' values are numbers
    width: int = 1  # relative width in the PDF and DOCX tables
    kind: str | None = None  # how a spreadsheet shows its values: "date", or None


@dataclass(frozen=True)
class Cell:
    text: str  # as the status table shows it (PDF, DOCX)
    value: Any = None  # typed, for the spreadsheet (None: the text)

    @property
    def typed(self) -> Any:
        return self.text if self.value is None else self.value


@dataclass
class Section:
    key: str  # what it is ("summary", "targets", …): the PDF's class, the XLSX's sheet order
    heading: str
    columns: list[Column]
    rows: list[list[Cell]]
    notes: list[str] = field(default_factory=list)  # sentences before the table
    empty: str = ""  # said instead of a table without rows
    wide: bool = False  # laid out on landscape pages

    @property
    def total_width(self) -> int:
        return sum(column.width for column in self.columns)

    def aligned_rows(self) -> list[list[tuple[Cell, bool]]]:
        """Each row's cells with whether their column is numeric (right-aligned)."""
        numeric = [column.numeric for column in self.columns]
        return [list(zip(row, numeric, strict=True)) for row in self.rows]


@dataclass
class Report:
    unit: Unit
    parent_name: str  # the governing body (upper line of the left header), "" for a root unit
    number: str  # the document number typed by the user ("" leaves it for the clerk)
    place: str
    issued_on: date
    period: str
    language: str
    sections: list[Section]
    recipients: list[str]
    evaluated: tuple[date, date] | None  # the first and last evaluation date of the figures

    @property
    def emblem(self) -> str:
        return EMBLEM

    @property
    def motto(self) -> str:
        return MOTTO

    @property
    def number_line(self) -> str:
        return _("No. %(number)s/%(type)s-%(unit)s") % {
            "number": self.number or "…", "type": DOCUMENT_TYPE, "unit": self.unit.code}

    @property
    def place_date(self) -> str:
        # DATE_FORMAT: "ngày 05 tháng 01 năm 2026" in Vietnamese (tracker/formats/vi).
        return f"{self.place}, {date_format(self.issued_on, 'DATE_FORMAT')}"

    @property
    def title(self) -> str:
        return _("REPORT")

    @property
    def subtitle(self) -> str:
        return _("Results of the targets of %(unit)s for %(period)s") % {
            "unit": self.unit.localized("name"), "period": period_phrase(self.period)}

    @property
    def figures_date(self) -> str:
        """The evaluation date the figures speak for, said on the document."""
        if self.evaluated is None:
            return _("No target of this report has been evaluated yet.")
        first, last = (date_format(day, "SHORT_DATE_FORMAT") for day in self.evaluated)
        if first == last:
            return _("The figures are those of the evaluation of %(date)s, as the status "
                     "table shows them.") % {"date": last}
        return _("The figures are those of the evaluations from %(first)s to %(last)s, as "
                 "the status table shows them.") % {"first": first, "last": last}

    def numbered(self) -> list[tuple[str, Section]]:
        """Each section with its Roman number, in order (I, II, III, IV…)."""
        return [(roman(index), section) for index, section in enumerate(self.sections, 1)]

    def laid_out(self) -> list[tuple[str, Section, bool]]:
        """Each numbered section with whether it runs on landscape pages: every section from
        the first wide one on, as in the DOCX. A section after a wide table then continues on
        landscape pages, and so does the closing block that follows the last one."""
        landscape = False
        laid_out = []
        for number, section in self.numbered():
            landscape = landscape or section.wide
            laid_out.append((number, section, landscape))
        return laid_out


def roman(number: int) -> str:
    numerals = ((10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))
    text = ""
    for value, numeral in numerals:
        while number >= value:
            text += numeral
            number -= value
    return text


def report_targets(*, user, unit: Unit) -> QuerySet[Target]:
    """The status table's rows for the targets of the unit's subtree that the user sees, with
    their assessment's evaluation date."""
    return (
        selectors.targets_status_rows(user=user)
        .filter(responsible_unit__path__startswith=unit.path)
        .only(*selectors.STATUS_ROW_FIELDS, "latest_assessment__evaluated_on")
    )


def report_build(
    *,
    user,
    unit: Unit,
    period: str,
    place: str,
    issued_on: date,
    number: str = "",
    recipients: Iterable[str] = (),
    language: str = "",
    today: date | None = None,
) -> Report:
    """The report of ``unit`` (one the user may report on: ``access.can_report``) for the
    period ``period``, in the active language: a fixed number of queries whatever the number
    of targets. Section IV says who had reported on ``today`` (the day it is made by default).
    """
    rows = list(report_targets(user=user, unit=unit))
    counts = selectors.status_counts(report_targets(user=user, unit=unit))
    answers = _latest_answers([target.pk for target in rows])
    requests = selectors.explanation_requests(unit=unit, states=EXPLANATION_ACTIVE)
    days = [t.latest_assessment.evaluated_on for t in rows if t.latest_assessment is not None]
    parent_name = unit.parent.localized("name") if unit.parent_id else ""
    sections = [
        summary_section(counts),
        targets_section(rows, answers),
        explanations_section(requests),
        completeness_section(
            completeness.completeness(
                units=Unit.objects.filter(path__startswith=unit.path).order_by("path"),
                periods=[period],
                today=today or timezone.localdate(),
                targets=report_targets(user=user, unit=unit),
            ),
            period,
        ),
    ]
    return Report(
        unit=unit,
        parent_name=parent_name,
        number=number.strip(),
        place=place.strip(),
        issued_on=issued_on,
        period=period,
        language=language,
        sections=sections,
        recipients=[line.strip() for line in recipients if line.strip()]
        or [name for name in (parent_name, _("Archive: the unit's office")) if name],
        evaluated=(min(days), max(days)) if days else None,
    )


def _latest_answers(target_ids: list[int]) -> dict[int, str]:
    """Each target's latest explanation answer (its text): one query."""
    latest: dict[int, str] = {}
    for target_id, text in (
        ExplanationAnswer.objects.filter(request__target_id__in=target_ids)
        .order_by("-created_at", "-pk")
        .values_list("request__target_id", "text")
    ):
        latest.setdefault(target_id, text)
    return latest


def _count(n: int) -> Cell:
    return Cell(format_number(n), n)


def summary_section(counts: dict[str, int]) -> Section:
    """How many targets have each status: the status table's counts."""
    rows = [[Cell(str(label)), _count(counts.get(value, 0))] for value, label in Status.choices]
    not_judged = counts.get("", 0)
    if not_judged:
        rows.append([Cell(_("Not judged")), _count(not_judged)])
    rows.append([Cell(_("Total")), _count(sum(counts.values()))])
    return Section(
        key="summary",
        heading=_("Summary of the targets' statuses"),
        columns=[Column(_("Status"), width=3), Column(_("Targets"), numeric=True)],
        rows=rows,
    )


def _decimal(value) -> Decimal | None:
    return None if value is None else tidy_decimal(Decimal(str(value)))


def target_cells(target: Target, answer: str, number: int) -> list[Cell]:
    """One target's row: the status table's strings (its figures' cell and status badge)."""
    assessment = target.latest_assessment
    reported = assessment is not None and assessment.as_of is not None
    if assessment is not None and assessment.error:
        status = _("Not judged")
    else:
        status = str(STATUS_LABELS.get(target.current_status, target.current_status))
    return [
        _count(number),
        Cell(target.code),
        Cell(target.localized("name")),
        Cell(target.localized("measure")),
        Cell(format_number(assessment.actual), _decimal(assessment.actual)) if reported
        else Cell("—", ""),
        Cell(date_format(assessment.as_of, "SHORT_DATE_FORMAT"), assessment.as_of) if reported
        else Cell("—", ""),
        Cell(format_number(assessment.expected, 2), _decimal(assessment.expected)) if reported
        else Cell("—", ""),
        Cell(format_number(target.target_value), _decimal(target.target_value)),
        Cell(status),
        Cell(verdicts.assessment_sentence(target, assessment)),
        Cell(answer),
    ]


def targets_section(rows: list[Target], answers: dict[int, str]) -> Section:
    return Section(
        key="targets",
        heading=_("Results of each target"),
        columns=[
            Column(_("No."), numeric=True), Column(_("Code"), width=2),
            Column(_("Target"), width=4), Column(_("Unit of measure"), width=2),
            Column(_("Actual"), numeric=True, width=2), Column(_("As of"), width=2, kind="date"),
            Column(_("Expected as of report"), numeric=True, width=2),
            Column(_("Target value"), numeric=True, width=2), Column(_("Status"), width=2),
            Column(_("Reason"), width=5), Column(_("Latest explanation"), width=4),
        ],
        rows=[
            target_cells(target, answers.get(target.pk, ""), number)
            for number, target in enumerate(rows, 1)
        ],
        empty=_("The unit has no target."),
        wide=True,
    )


def explanations_section(requests: list) -> Section:
    """The requests awaiting an answer or a decision, the oldest first."""
    rows = []
    for number, request in enumerate(reversed(requests), 1):
        state = request.get_state_display()
        if request.escalated_at is not None:
            state = _("%(state)s, escalated to the parent unit") % {"state": state}
        requested_by = request.requested_by
        answer = request.answer_or_none
        asked_on = timezone.localdate(request.created_at)
        rows.append([
            _count(number),
            Cell(f"{request.target.code} – {request.target.localized('name')}"),
            Cell(request.question),
            Cell(person_name(requested_by)),
            Cell(date_format(asked_on, "SHORT_DATE_FORMAT"), asked_on),
            Cell(date_format(request.due_date, "SHORT_DATE_FORMAT"), request.due_date),
            Cell(state),
            Cell(answer.text if answer is not None else ""),
        ])
    return Section(
        key="explanations",
        heading=_("Open explanation requests"),
        columns=[
            Column(_("No."), numeric=True), Column(_("Target"), width=4),
            Column(_("Question"), width=4), Column(_("Asked by"), width=2),
            Column(_("Asked on"), width=2, kind="date"),
            Column(_("Answer due by"), width=2, kind="date"), Column(_("State"), width=2),
            Column(_("Answer"), width=4),
        ],
        rows=rows,
        empty=_("No explanation request is open."),
        wide=True,
    )


def completeness_section(grid: completeness.Grid, period: str) -> Section:
    """Whether the unit and each unit below it reported for the period, on the day the report
    is made: the completeness screen's cells for that one period."""
    rows = []
    due = on_time = 0
    for row in grid.rows:
        cell = row.cells.get(period)
        if cell is None:
            continue
        if cell.deadline_passed(grid.today):
            due += 1
            on_time += cell.state == completeness.CellState.ON_TIME
        rows.append([
            _count(len(rows) + 1),
            Cell(row.unit.localized("name")),
            _count(cell.targets),
            Cell(date_format(cell.deadline, "SHORT_DATE_FORMAT"), cell.deadline),
            Cell(cell.label),
            _count(len(cell.unreported)),
        ])
    notes = [
        _("As of %(today)s, %(on_time)s of the %(due)s units whose deadline has passed "
          "reported on time.") % {
            "today": date_format(grid.today, "SHORT_DATE_FORMAT"),
            "on_time": format_number(on_time), "due": format_number(due)}
    ] if due else []
    return Section(
        key="completeness",
        heading=_("Reporting completeness of the units"),
        columns=[
            Column(_("No."), numeric=True), Column(_("Unit"), width=4),
            Column(_("Targets"), numeric=True), Column(_("Deadline"), width=2, kind="date"),
            Column(_("Report"), width=3), Column(_("Targets not reported"), numeric=True),
        ],
        rows=rows,
        notes=notes,
        empty=_("No unit has a target with this period."),
    )
