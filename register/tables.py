"""The project register table: rendered on the screen, exported as CSV and XLSX alike (the
status table's export machinery: targets.spreadsheets.SafeTableExport)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import django_tables2 as tables
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.encoding import force_str
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from register.models import Project, Sector, Stage
from targets.formatting import format_number, tidy_decimal
from targets.tables import EXPORT_CHUNK

NUMBER = {"th": {"class": "text-end"}, "td": {"class": "num text-end text-nowrap"}}
# On the screen each amount carries its currency; the exports keep the currencies in columns of
# their own (amounts stay numbers).
EXPORT_ONLY = ("registered_currency", "disbursed_currency")
SECTOR_LABELS = dict(Sector.choices)
STAGE_LABELS = dict(Stage.choices)


def _number(value) -> Decimal | None:
    return None if value is None else tidy_decimal(Decimal(str(value)))


class ProjectTable(tables.Table):
    code = tables.Column(verbose_name=_("Code"), attrs={"td": {"class": "text-nowrap"}})
    name = tables.Column(verbose_name=_("Project"), order_by=("shown_name", "code"))
    investor = tables.Column(verbose_name=_("Investor"))
    investor_country = tables.Column(verbose_name=_("Country"))
    sector = tables.Column(verbose_name=_("Sector"))
    stage = tables.Column(verbose_name=_("Stage"))
    stage_date = tables.Column(verbose_name=_("Stage date"), attrs={"td": {"class": "num"}})
    unit = tables.Column(verbose_name=_("Unit"), order_by=("shown_unit", "code"))
    park = tables.Column(verbose_name=_("Park or cluster"), order_by=("park__code", "code"))
    registered_capital = tables.Column(verbose_name=_("Registered capital"), attrs=NUMBER)
    registered_currency = tables.Column(verbose_name=_("Currency"))
    disbursed_capital = tables.Column(verbose_name=_("Disbursed capital"), attrs=NUMBER)
    disbursed_currency = tables.Column(verbose_name=_("Disbursed currency"))
    land_area_ha = tables.Column(verbose_name=_("Land (ha)"), attrs=NUMBER)
    jobs_planned = tables.Column(verbose_name=_("Jobs planned"), attrs=NUMBER)
    jobs_filled = tables.Column(verbose_name=_("Jobs filled"), attrs=NUMBER)
    demo = tables.BooleanColumn(verbose_name=_("Demo data"))

    class Meta:
        model = Project
        fields = ()
        sequence = (
            "code", "name", "investor", "investor_country", "sector", "stage", "stage_date",
            "unit", "park", "registered_capital", "registered_currency", "disbursed_capital",
            "disbursed_currency", "land_area_ha", "jobs_planned", "jobs_filled", "demo",
        )
        # On a phone each row is a card (static/css/tracker.css, "register-table").
        attrs = {"class": "table table-sm table-hover align-middle register-table",
                 "id": "register-table"}
        order_by = ("code",)
        empty_text = _("No project matches these filters.")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in EXPORT_ONLY:
            self.columns.hide(name)
        # A phone's card labels each cell with its column's header (tracker.css).
        for bound in self.columns.iterall():
            column = bound.column
            column.attrs = {**column.attrs, "td": {**column.attrs.get("td", {}),
                                                   "data-label": column.verbose_name}}

    def get_column_class_names(self, classes_set, bound_column):
        # Each cell says its column: the phone's card places its cells by these.
        return {*classes_set, f"col-{bound_column.name}"}

    # --- on the screen ---

    def render_code(self, value: str) -> str:
        return format_html('<a href="{}">{}</a>', reverse("register:project", args=[value]),
                           value)

    def render_name(self, record: Project) -> str:
        return record.localized("name")

    def render_investor_country(self, record: Project) -> str:
        # In the reader's language (django-countries' translations).
        return record.investor_country.name

    def render_unit(self, record: Project) -> str:
        return record.unit.localized("name")

    def render_park(self, record: Project) -> str:
        return record.park.localized("name")

    def render_stage_date(self, value) -> str:
        return date_format(value, "SHORT_DATE_FORMAT")

    def render_registered_capital(self, value, record: Project) -> str:
        return f"{format_number(value)} {record.registered_currency}"

    def render_disbursed_capital(self, value, record: Project) -> str:
        return f"{format_number(value)} {record.disbursed_currency}"

    def render_land_area_ha(self, value) -> str:
        return format_number(value)

    def render_jobs_planned(self, value) -> str:
        return format_number(value)

    def render_jobs_filled(self, value) -> str:
        return format_number(value)

    # --- in the CSV and XLSX exports: plain values, numbers as numbers ---

    def _exported_columns(self, exclude_columns=None) -> list:
        return [
            column for column in self.columns.iterall()
            if not (column.column.exclude_from_export or column.name in (exclude_columns or ()))
        ]

    def export_kinds(self, exclude_columns=None) -> list[str | None]:
        return [
            "date" if column.name == "stage_date" else None
            for column in self._exported_columns(exclude_columns)
        ]

    def as_values(self, exclude_columns=None) -> Iterator[list]:
        columns = self._exported_columns(exclude_columns)
        yield [force_str(column.header, strings_only=True) for column in columns]
        cells = [EXPORTED[column.name] for column in columns]
        records = self.data.data
        if isinstance(records, QuerySet):
            records = records.iterator(chunk_size=EXPORT_CHUNK)
        for record in records:
            yield [cell(record) for cell in cells]


EXPORTED: dict[str, Callable[[Project], Any]] = {
    "code": lambda project: project.code,
    "name": lambda project: project.localized("name"),
    "investor": lambda project: project.investor,
    "investor_country": lambda project: project.investor_country.name,
    "sector": lambda project: str(SECTOR_LABELS.get(project.sector, project.sector)),
    "stage": lambda project: str(STAGE_LABELS.get(project.stage, project.stage)),
    "stage_date": lambda project: project.stage_date,
    "unit": lambda project: project.unit.localized("name"),
    "park": lambda project: None if project.park is None else project.park.localized("name"),
    "registered_capital": lambda project: _number(project.registered_capital),
    "registered_currency": lambda project: project.registered_currency,
    "disbursed_capital": lambda project: _number(project.disbursed_capital),
    "disbursed_currency": lambda project: project.disbursed_currency,
    "land_area_ha": lambda project: _number(project.land_area_ha),
    "jobs_planned": lambda project: project.jobs_planned,
    "jobs_filled": lambda project: project.jobs_filled,
    "demo": lambda project: str(_("yes") if project.demo else _("no")),
}
