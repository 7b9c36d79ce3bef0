"""The status table (DESIGN §5): one row per visible target, rendered and exported alike."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from decimal import Decimal
from functools import cached_property
from typing import Any
from urllib.parse import quote

import django_tables2 as tables
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.encoding import force_str
from django.utils.formats import date_format, localize
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from targets import verdicts
from targets.formatting import format_number, format_percent, tidy_decimal
from targets.models import EntryStatus, Reporting, Status, Target
from targets.templatetags.tracker import as_of_text, colour, forecast_text

# The pagination words of django-tables2's template, which ships no Vietnamese catalogue:
# listed here so that makemessages keeps them in ours.
PAGINATION_WORDS = (gettext_noop("previous"), gettext_noop("next"))

STATUS_LABELS = dict(Status.choices)
REPORTING_LABELS = dict(Reporting.choices)
ENTRY_LABELS = dict(EntryStatus.choices)
# On the screen a column is one of three kinds: always shown; shown on a laptop but not in a
# phone's card (SMALL_SCREEN_HIDDEN); or a detail, shown with ?details=1 (DETAILS). The figures
# of the separate number columns are in one cell ("figures") on the screen; the exports keep
# them apart, as numbers.
SMALL_SCREEN_HIDDEN = {"th": {"class": "d-none d-md-table-cell"},
                       "td": {"class": "d-none d-md-table-cell"}}
DETAILS = ("expected_now", "due_date", "forecast", "plan", "area", "unit")
EXPORT_ONLY = ("reason", "actual", "as_of", "expected", "target_value", "measure")
NUMBER = {"th": {"class": "text-end"}, "td": {"class": "num text-end"}}
SHARE_MEANING = _("Share of the way from the baseline to the target value")
NO_REPORT = _("no approved report")
# "expected 33.64 · as of 30/09/2026": under the actual in the figures' cell.
EXPECTED = _("expected %(value)s")


def _badge(value: str, label: str, title: str = "") -> SafeString:
    if title:
        return format_html(
            '<span class="badge text-bg-{}" title="{}">{}</span>', colour(value), title, label
        )
    return format_html('<span class="badge text-bg-{}">{}</span>', colour(value), label)




def _short_date(value) -> str:
    return date_format(value, "SHORT_DATE_FORMAT") if value else "—"


class StatusTable(tables.Table):
    code = tables.Column(verbose_name=_("Code"))
    # Names in the reader's language (Translated.localized), sorted as they are shown
    # (targets_status_rows' shown_* annotations).
    name = tables.Column(verbose_name=_("Target"), order_by=("shown_name", "code"))
    plan = tables.Column(verbose_name=_("Plan"), accessor="plan__code")
    area = tables.Column(verbose_name=_("Area"), accessor="area", order_by=("shown_area", "code"))
    unit = tables.Column(
        verbose_name=_("Responsible unit"), accessor="responsible_unit",
        order_by=("shown_unit", "code"),
    )
    # A target that could not be judged has no status (""): it is rendered, not skipped.
    # Sorted by severity (targets_status_rows' status_rank), not by the statuses' keys.
    status = tables.Column(
        verbose_name=_("Status"), accessor="current_status", empty_values=(),
        order_by=("status_rank", "code"),
    )
    # Rule 8's sentence: under the badge on the screen, a column of its own in exports.
    reason = tables.Column(verbose_name=_("Reason"), accessor="latest_assessment", orderable=False)
    # Not the progress ratio (which compares with the plan at the as-of date) but how much
    # of the whole way is behind: 0 % for a bridge not yet built, whatever the plan expects.
    progress = tables.Column(
        verbose_name=_("Progress"), accessor="latest_assessment__share",
        order_by=("latest_assessment__share",),
        attrs={"th": {"title": SHARE_MEANING}},
    )
    # The screen's one cell for the figures: actual of target, with what was expected.
    figures = tables.Column(
        verbose_name=_("Actual of target"), accessor="latest_assessment", empty_values=(),
        orderable=False, exclude_from_export=True, attrs=NUMBER,
    )
    actual = tables.Column(
        verbose_name=_("Actual"), accessor="latest_assessment__actual", attrs=NUMBER
    )
    as_of = tables.Column(verbose_name=_("As of"), accessor="latest_assessment__as_of")
    expected = tables.Column(
        verbose_name=_("Expected as of report"), accessor="latest_assessment__expected",
        attrs=NUMBER,
    )
    expected_now = tables.Column(
        verbose_name=_("Expected now"), accessor="latest_assessment__expected_now",
        attrs=NUMBER,
    )
    target_value = tables.Column(verbose_name=_("Target value"), attrs=NUMBER)
    measure = tables.Column(verbose_name=_("Unit of measure"))
    due_date = tables.Column(verbose_name=_("Due date"), attrs={"td": {"class": "num"}})
    reporting = tables.Column(
        verbose_name=_("Reporting"), accessor="latest_assessment__reporting"
    )
    forecast = tables.Column(
        # The whole assessment: a "never" forecast has no date, and django-tables2 skips
        # render_/value_ methods for an empty value.
        verbose_name=_("Forecast"), accessor="latest_assessment",
        order_by=("latest_assessment__forecast_never", "latest_assessment__forecast_reached_on"),
    )
    last_entry = tables.Column(verbose_name=_("Last entry"), accessor="last_entry_period")

    class Meta:
        model = Target
        fields = ()
        # The order of the exports; the screen shows the figures' cell in place of the
        # separate numbers (EXPORT_ONLY) and the DETAILS only when asked.
        sequence = (
            "code", "name", "status", "reason", "progress", "figures", "actual", "as_of",
            "expected", "expected_now", "target_value", "measure", "due_date", "reporting",
            "forecast", "last_entry", "plan", "area", "unit",
        )
        # On a phone each row is a card (static/css/tracker.css, "status-table").
        attrs = {"class": "table table-sm table-hover align-middle status-table"}
        order_by = ("code",)
        empty_text = _("No target matches these filters.")
        # django-tables2's own, but with the rows written by ``rows_html``.
        template_name = "targets/status_table.html"

    def __init__(self, *args, details: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.details = details
        for name in EXPORT_ONLY:
            self.columns.hide(name)
        if not details:
            for name in DETAILS:
                self.columns.hide(name)
        # A phone's card labels some cells with their column's header (tracker.css).
        for bound in self.columns.iterall():
            column = bound.column
            column.attrs = {**column.attrs, "td": {**column.attrs.get("td", {}),
                                                   "data-label": column.verbose_name}}

    def get_column_class_names(self, classes_set, bound_column):
        # Each cell says its column: the phone's card places its cells by these.
        return {*classes_set, f"col-{bound_column.name}"}

    # --- the rows of the page, written in Python ---

    def rows_html(self) -> SafeString:
        """The page's rows as django-tables2's template writes them (same cells, same
        attributes), without its per-cell costs: a template loop per cell and, for every
        cell, an inspection of the render method's signature and a generic accessor walk.
        Those were most of the status page's time."""
        columns = [_PageColumn(self, column) for column in self.columns]
        rows = format_html_join(
            "",
            "<tr {}>{}</tr>",
            (
                (
                    row.attrs.as_html(),
                    format_html_join(
                        "", "<td {}>{}</td>",
                        ((column.td, column.cell(row.record)) for column in columns),
                    ),
                )
                for row in self.paginated_rows
            ),
        )
        if not rows and self.empty_text:
            return format_html('<tr><td colspan="{}">{}</td></tr>', len(columns), self.empty_text)
        return rows

    # --- on the screen ---

    @cached_property
    def _target_url_parts(self) -> list[str]:
        return reverse("targets:target", args=["CODE"]).rsplit("CODE", 1)

    def _target_url(self, code: str) -> str:
        """reverse("targets:target", args=[code]) without resolving the pattern for each row:
        the code quoted as reverse() quotes it."""
        prefix, suffix = self._target_url_parts
        return prefix + quote(code, safe=RFC3986_SUBDELIMS + "/~:@") + suffix

    def render_code(self, record: Target) -> str:
        return format_html(
            '<a href="{}" class="fw-semibold text-nowrap">{}</a>',
            self._target_url(record.code), record.code,
        )

    def render_name(self, record: Target) -> str:
        return record.localized("name")

    def render_area(self, record: Target) -> str:
        return record.area.localized("name")

    def render_unit(self, record: Target) -> str:
        return record.responsible_unit.localized("name")

    def render_status(self, value: str, record: Target) -> str:
        # Built from the row's own target and assessment: no query per row. The reason is
        # the badge's tooltip on a laptop and a line under it in a phone's card.
        assessment = record.latest_assessment
        reason = verdicts.assessment_sentence(record, assessment)
        if assessment is not None and assessment.error:
            label = _("Not judged")
            badge = _badge("", label, reason)
        else:
            label = STATUS_LABELS.get(value, value)
            badge = _badge(value, label, reason)
        if not reason:
            return badge
        # Beside the badge the sentence need not say the status again.
        return format_html(
            '{}<div class="small reason d-md-none">{}</div>',
            badge, reason.removeprefix(f"{label}: "),
        )

    def render_reporting(self, record: Target) -> str:
        # Not ``value``: for a field with choices django-tables2 passes the display label.
        state = record.latest_assessment.reporting
        return _badge(state, REPORTING_LABELS.get(state, state))

    def render_progress(self, value: Decimal, record: Target) -> str:
        width = round(max(0, min(100, float(value) * 100)))
        label = format_percent(value)
        return format_html(
            '<div class="d-flex align-items-center gap-1" title="{meaning}: {label}">'
            '<div class="progress flex-grow-1" role="progressbar" aria-label="{meaning}" '
            'aria-valuenow="{width}" aria-valuemin="0" aria-valuemax="100">'
            '<div class="progress-bar bg-{colour} bar-{width}">'
            '</div></div><span class="small num share">{label}</span></div>',
            meaning=SHARE_MEANING, label=label, width=width,
            colour=colour(record.current_status),
        )

    def render_figures(self, record: Target) -> str:
        """Actual of target ("45 / 80 ha"), and under it what was expected when the actual
        was reported, or why there is no actual."""
        assessment = record.latest_assessment
        of_target = format_html(
            '<span class="text-body-secondary">/ {} {}</span>',
            format_number(record.target_value), record.localized("measure"),
        )
        if assessment is None or assessment.as_of is None:
            # No approved report: the rules count the baseline, but a figure here would read
            # as a reported value (a "0" for a park not yet founded).
            return format_html(
                '<span class="actual">—</span> {}<div class="small text-body-secondary as-of">'
                '{}</div>', of_target, NO_REPORT,
            )
        return format_html(
            '<span class="actual fw-semibold">{}</span> {}<div class="small text-body-secondary '
            'as-of"><span class="text-nowrap">{}</span> · <span class="text-nowrap">{}</span>'
            '</div>',
            format_number(assessment.actual), of_target,
            EXPECTED % {"value": format_number(assessment.expected, 2)},
            as_of_text(assessment.as_of),
        )

    def render_expected_now(self, value) -> str:
        return format_number(value, 2)

    def render_due_date(self, value) -> str:
        return _short_date(value)

    def render_forecast(self, record: Target) -> str:
        return forecast_text(record.latest_assessment) or "—"

    def render_last_entry(self, record: Target) -> str:
        status = record.last_entry_status
        return format_html(
            '<span class="text-nowrap">{} {}</span> {}',
            record.last_entry_period, format_number(record.last_entry_value),
            _badge(status, ENTRY_LABELS.get(status, status)),
        )

    # --- in the CSV and XLSX exports: plain values ---

    def _exported_columns(self, exclude_columns=None) -> list:
        return [
            column for column in self.columns.iterall()
            if not (column.column.exclude_from_export or column.name in (exclude_columns or ()))
        ]

    def export_kinds(self, exclude_columns=None) -> list[str | None]:
        """How a spreadsheet shows each exported column (``as_values``' order): ``percent``,
        ``date``, or None for the value as it is."""
        return [XLSX_KINDS.get(column.name) for column in self._exported_columns(exclude_columns)]

    def as_values(self, exclude_columns=None) -> Iterator[list]:
        """The header, then every row's plain values (EXPORTED below), read in chunks: an
        export of 6,000 rows never holds them all in memory."""
        columns = self._exported_columns(exclude_columns)
        yield [force_str(column.header, strings_only=True) for column in columns]
        cells = [EXPORTED[column.name] for column in columns]
        records = self.data.data  # the filtered rows in the table's order
        if isinstance(records, QuerySet):
            records = records.iterator(chunk_size=EXPORT_CHUNK)
        for record in records:
            yield [cell(record) for cell in cells]


class PublicStatusTable(StatusTable):
    """The status table of a published plan's public page: each code links to the target's
    public page, in the page's language. Without the last entry (it may be a draft, and names
    its state) and the reporting state (it counts submitted entries too): what it shows comes
    from the assessments, which the evaluation makes of approved entries only."""

    class Meta(StatusTable.Meta):  # django-tables2 reads only a table's own Meta
        pass

    def __init__(self, *args, plan_code: str, language: str, **kwargs) -> None:
        super().__init__(*args, exclude=PUBLIC_EXCLUDED, **kwargs)
        self.plan_code = plan_code
        self.language = language
        self.columns.hide("plan")  # the page's own

    @cached_property
    def _target_url_parts(self) -> list[str]:
        return reverse(
            "public:target",
            kwargs={"language": self.language, "plan": self.plan_code, "code": "CODE"},
        ).rsplit("CODE", 1)


PUBLIC_EXCLUDED = ("last_entry", "reporting")


class _PageColumn:
    """What ``StatusTable.rows_html`` needs of a visible column, worked out once a page: its
    cell attributes, the accessor's steps, the choices' labels, the render method and the
    arguments it takes. The value and the empty-cell rules are django-tables2's."""

    def __init__(self, table: StatusTable, bound: tables.columns.BoundColumn) -> None:
        self.td = bound.attrs["td"].as_html()
        self.steps = tuple(str(bound.accessor).split("__"))
        field = tables.A(bound.accessor).get_field(Target)
        # django-tables2 shows a field with choices by its label (get_FOO_display).
        choices = getattr(field, "choices", None)
        self.labels = {key: str(label) for key, label in field.flatchoices} if choices else None
        self.empty_values = bound.column.empty_values
        self.default = bound.default
        render = getattr(table, f"render_{bound.name}", None)
        self.render = render
        self.arguments = set(inspect.signature(render).parameters) if render else set()

    def cell(self, record: Target) -> str:
        value: Any = record
        for step in self.steps:
            value = getattr(value, step)
            if value is None:
                break
        if self.labels is not None and value is not None:
            value = self.labels.get(value, value)
        if value in self.empty_values:
            return conditional_escape(self.default)
        if self.render is None:
            return conditional_escape(localize(value))
        arguments = {"value": value, "record": record}
        cell = self.render(**{name: arguments[name] for name in self.arguments})
        return conditional_escape(localize(cell))


# What each column exports for a target, None for an empty cell. Numbers are Decimals and dates
# are dates, never text: Excel sums and sorts them, the CSV writes them as 80 and 2030-12-31,
# and the export's neutralising of formula-looking text (targets.spreadsheets.SafeTableExport)
# leaves a negative number a number. Plain functions of the row rather than django-tables2's
# value_* methods: it calls those through call_with_appropriate, which inspects their
# signature for every cell (42 % of the time of an export).

# Rows read from the cursor at a time: what an export holds in memory at most, whatever the
# number of rows (about 2 MB of objects for 500).
EXPORT_CHUNK = 500
_EMPTY = (None, "")


def _number(value) -> Decimal | None:
    return None if value in _EMPTY else tidy_decimal(Decimal(str(value)))


def _plain(value) -> str:
    return "" if value is None else str(tidy_decimal(Decimal(str(value))))


def _assessed(field: str, cell: Callable[[Any], Any] = lambda value: value):
    """The cell of an assessment's ``field`` (None without an assessment or a value)."""
    def exported(target: Target):
        assessment = target.latest_assessment
        value = None if assessment is None else getattr(assessment, field)
        return None if value in _EMPTY else cell(value)
    return exported


def _status(target: Target) -> str:
    assessment = target.latest_assessment
    if assessment is not None and assessment.error:
        return str(_("Not judged"))
    return str(STATUS_LABELS.get(target.current_status, target.current_status))


def _reason(target: Target) -> str | None:
    assessment = target.latest_assessment
    return None if assessment is None else verdicts.assessment_sentence(target, assessment)


def _expected(target: Target) -> str | Decimal | None:
    assessment = target.latest_assessment
    if assessment is None or assessment.expected is None:
        return None
    # Without a report there is no as-of date to expect anything at.
    return "" if assessment.as_of is None else _number(assessment.expected)


def _reporting(target: Target) -> str | None:
    state = target.latest_assessment.reporting if target.latest_assessment else None
    return None if state in _EMPTY else str(REPORTING_LABELS.get(state, state))


def _forecast(target: Target) -> str | None:
    assessment = target.latest_assessment
    return None if assessment is None else forecast_text(assessment, iso=True)


def _last_entry(target: Target) -> str | None:
    if target.last_entry_period in _EMPTY:
        return None
    status = target.last_entry_status
    return f"{target.last_entry_period} {_plain(target.last_entry_value)} " \
        f"({ENTRY_LABELS.get(status, status)})"


def _text(value: str | None) -> str | None:
    return None if value in _EMPTY else value


# The share of the way is a fraction (0.96): a spreadsheet shows it as 96 %.
XLSX_KINDS = {"progress": "percent", "as_of": "date", "due_date": "date"}

EXPORTED: dict[str, Callable[[Target], Any]] = {
    "code": lambda target: target.code,
    "status": _status,
    "reason": _reason,
    "progress": _assessed("share", lambda value: round(Decimal(str(value)), 4)),
    "name": lambda target: _text(target.localized("name")),
    "actual": _assessed("actual", _number),
    "as_of": _assessed("as_of"),
    "expected": _expected,
    "expected_now": _assessed("expected_now", _number),
    "target_value": lambda target: _number(target.target_value),
    "measure": lambda target: _text(target.localized("measure")),
    "due_date": lambda target: target.due_date,
    "reporting": _reporting,
    "forecast": _forecast,
    "last_entry": _last_entry,
    "plan": lambda target: _text(target.plan.code),
    "area": lambda target: None if target.area is None else _text(target.area.localized("name")),
    "unit": lambda target: _text(target.responsible_unit.localized("name")),
}


# --- the completeness grid's exports (issue 13: who has not reported) ---------------------------


class CompletenessTable(tables.Table):
    """A completeness grid (``services.completeness``) as rows for the CSV and XLSX exports:
    the unit, each period's state, the count of each state and the on-time rate (a fraction:
    the XLSX shows 0.75 as 75 %). A period the unit has no target in is empty."""

    unit_code = tables.Column(verbose_name=_("Unit code"))
    unit = tables.Column(verbose_name=_("Unit"))

    class Meta:
        attrs = {"class": "table"}

    def __init__(self, grid, **kwargs) -> None:
        from targets.services.completeness import CellState

        extra = [(f"period_{key}", tables.Column(verbose_name=key)) for key in grid.periods]
        extra += [(f"count_{state}", tables.Column(verbose_name=label))
                  for state, label in CellState.choices()]
        extra += [("on_time_rate", tables.Column(verbose_name=ON_TIME_RATE))]
        super().__init__(data=[self._record(row, grid.periods) for row in grid.rows],
                         extra_columns=extra, orderable=False, **kwargs)

    @staticmethod
    def _record(row, periods: list[str]) -> dict:
        record = {"unit_code": row.unit.code, "unit": row.unit.localized("name"),
                  "on_time_rate": row.on_time_rate}
        for key in periods:
            cell = row.cells.get(key)
            record[f"period_{key}"] = cell.label if cell is not None else None
        for state, count in row.counts.items():
            record[f"count_{state}"] = count
        return record

    def export_kinds(self, exclude_columns=None) -> list[str | None]:
        return [
            "percent" if column.name == "on_time_rate" else None
            for column in self.columns.iterall()
            if not (column.column.exclude_from_export or column.name in (exclude_columns or ()))
        ]

    def as_values(self, exclude_columns=None) -> Iterator[list]:
        """Plain values: an empty cell stays empty (not django-tables2's "—"), numbers stay
        numbers."""
        columns = [
            column for column in self.columns.iterall()
            if not (column.column.exclude_from_export or column.name in (exclude_columns or ()))
        ]
        yield [force_str(column.header, strings_only=True) for column in columns]
        for record in self.data.data:
            yield [record[column.name] for column in columns]


ON_TIME_RATE = _("On-time rate")
