"""The status table (DESIGN §5): one row per visible target, rendered and exported alike."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import django_tables2 as tables
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from targets.formatting import format_number, format_percent, tidy_decimal
from targets.models import EntryStatus, Reporting, Status, Target
from targets.templatetags.tracker import colour

# The pagination words of django-tables2's template, which ships no Vietnamese catalogue:
# listed here so that makemessages keeps them in ours.
PAGINATION_WORDS = (gettext_noop("previous"), gettext_noop("next"))

STATUS_LABELS = dict(Status.choices)
REPORTING_LABELS = dict(Reporting.choices)
ENTRY_LABELS = dict(EntryStatus.choices)
SMALL_SCREEN_HIDDEN = {"th": {"class": "d-none d-md-table-cell"},
                       "td": {"class": "d-none d-md-table-cell"}}
WIDE_SCREEN_ONLY = {"th": {"class": "d-none d-xxl-table-cell"},
                    "td": {"class": "d-none d-xxl-table-cell"}}
NUMBER = {"th": {"class": "text-end"}, "td": {"class": "num text-end"}}


def _badge(value: str, label: str) -> str:
    return format_html('<span class="badge text-bg-{}">{}</span>', colour(value), label)


def _short_date(value) -> str:
    return date_format(value, "SHORT_DATE_FORMAT") if value else "—"


class StatusTable(tables.Table):
    code = tables.Column(verbose_name=_("Code"))
    name = tables.Column(verbose_name=_("Target"), attrs={"td": {"class": "target-name"}})
    plan = tables.Column(
        verbose_name=_("Plan"), accessor="plan__code", attrs=WIDE_SCREEN_ONLY,
    )
    area = tables.Column(
        verbose_name=_("Area"), accessor="area__name", attrs=SMALL_SCREEN_HIDDEN,
    )
    unit = tables.Column(
        verbose_name=_("Responsible unit"), accessor="responsible_unit__name",
        attrs=SMALL_SCREEN_HIDDEN,
    )
    status = tables.Column(verbose_name=_("Status"), accessor="current_status")
    progress = tables.Column(
        verbose_name=_("Progress"), accessor="latest_assessment__ratio",
        order_by=("latest_assessment__ratio",),
    )
    actual = tables.Column(
        verbose_name=_("Actual"), accessor="latest_assessment__actual", attrs=NUMBER
    )
    expected = tables.Column(
        verbose_name=_("Expected now"), accessor="latest_assessment__expected", attrs=NUMBER
    )
    target_value = tables.Column(verbose_name=_("Target value"), attrs=NUMBER)
    measure = tables.Column(verbose_name=_("Unit of measure"), attrs=SMALL_SCREEN_HIDDEN)
    due_date = tables.Column(verbose_name=_("Due date"), attrs={"td": {"class": "num"}})
    reporting = tables.Column(
        verbose_name=_("Reporting"), accessor="latest_assessment__reporting"
    )
    forecast = tables.Column(
        # The whole assessment: a "never" forecast has no date, and django-tables2 skips
        # render_/value_ methods for an empty value.
        verbose_name=_("Forecast"), accessor="latest_assessment",
        order_by=("latest_assessment__forecast_never", "latest_assessment__forecast_reached_on"),
        attrs=SMALL_SCREEN_HIDDEN,
    )
    last_entry = tables.Column(
        verbose_name=_("Last entry"), accessor="last_entry_period", attrs=SMALL_SCREEN_HIDDEN,
    )

    class Meta:
        model = Target
        fields = ()
        # Status and progress next to the code, so that a phone shows them without scrolling.
        sequence = (
            "code", "status", "progress", "name", "actual", "expected", "target_value",
            "measure", "due_date", "reporting", "forecast", "last_entry", "plan", "area", "unit",
        )
        attrs = {"class": "table table-sm table-hover align-middle status-table"}
        order_by = ("code",)
        empty_text = _("No target matches these filters.")

    def __init__(self, *args, typed_values: bool = False, **kwargs) -> None:
        """``typed_values``: export numbers and dates as such (XLSX), not as text (CSV)."""
        super().__init__(*args, **kwargs)
        self.typed_values = typed_values

    # --- on the screen ---

    def render_code(self, record: Target) -> str:
        url = reverse("targets:target", args=[record.code])
        return format_html('<a href="{}" class="fw-semibold text-nowrap">{}</a>', url, record.code)

    def render_status(self, value: str) -> str:
        return _badge(value, STATUS_LABELS.get(value, value))

    def render_reporting(self, record: Target) -> str:
        # Not ``value``: for a field with choices django-tables2 passes the display label.
        state = record.latest_assessment.reporting
        return _badge(state, REPORTING_LABELS.get(state, state))

    def render_progress(self, value: Decimal, record: Target) -> str:
        width = max(0, min(100, float(value) * 100))
        label = format_percent(value)
        return format_html(
            '<div class="progress" role="progressbar" aria-label="{}" aria-valuenow="{}" '
            'aria-valuemin="0" aria-valuemax="100" style="min-width:5rem">'
            '<div class="progress-bar bg-{}" style="width:{}%">{}</div></div>',
            _("Progress"), round(width), colour(record.current_status), round(width), label,
        )

    def render_actual(self, value) -> str:
        return format_number(value)

    def render_expected(self, value) -> str:
        return format_number(value, 2)

    def render_target_value(self, value) -> str:
        return format_number(value)

    def render_due_date(self, value) -> str:
        return _short_date(value)

    def render_forecast(self, record: Target) -> str:
        return forecast_text(record)

    def render_last_entry(self, record: Target) -> str:
        status = record.last_entry_status
        return format_html(
            '<span class="text-nowrap">{} {}</span> {}',
            record.last_entry_period, format_number(record.last_entry_value),
            _badge(status, ENTRY_LABELS.get(status, status)),
        )

    # --- in the CSV and XLSX exports: plain values ---

    def value_code(self, record: Target) -> str:
        return record.code

    def value_status(self, value: str) -> str:
        return str(STATUS_LABELS.get(value, value))

    def value_reporting(self, record: Target) -> str:
        state = record.latest_assessment.reporting if record.latest_assessment else ""
        return str(REPORTING_LABELS.get(state, state))

    def value_progress(self, value) -> str | Decimal:
        if value is None:
            return ""
        ratio = round(Decimal(str(value)), 4)
        return ratio if self.typed_values else str(ratio)

    def value_actual(self, value) -> str | Decimal:
        return self._number(value)

    def value_expected(self, value) -> str | Decimal:
        return self._number(value)

    def value_target_value(self, value) -> str | Decimal:
        return self._number(value)

    def value_due_date(self, value) -> str | date:
        if not value:
            return ""
        return value if self.typed_values else value.isoformat()

    def value_forecast(self, record: Target) -> str:
        assessment = record.latest_assessment
        if assessment is None:
            return ""
        if assessment.forecast_never:
            return str(_("never on the current pace"))
        return assessment.forecast_label or ""

    def value_last_entry(self, record: Target) -> str:
        if not record.last_entry_period:
            return ""
        return f"{record.last_entry_period} {_plain(record.last_entry_value)} " \
            f"({ENTRY_LABELS.get(record.last_entry_status, record.last_entry_status)})"

    def _number(self, value) -> str | Decimal:
        if self.typed_values and value is not None:
            return tidy_decimal(Decimal(str(value)))
        return _plain(value)


def forecast_text(record: Target) -> str:
    assessment = record.latest_assessment
    if assessment is None:
        return "—"
    if assessment.forecast_never:
        return str(_("never on the current pace"))
    if assessment.forecast_reached_on:
        return str(_("reached %(date)s") % {
            "date": date_format(assessment.forecast_reached_on, "SHORT_DATE_FORMAT")})
    return "—"


def _plain(value) -> str:
    return "" if value is None else str(tidy_decimal(Decimal(str(value))))
