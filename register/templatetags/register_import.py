"""How the import screen names the columns of a register file and shows what a row read."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django import template
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from register.imports.table import Row
from register.models import Sector, Stage
from targets.formatting import format_number
from targets.numbers import shown

register = template.Library()

COLUMNS = {
    "code": _("Code"),
    "name": _("Name"),
    "name_en": _("Name in English"),
    "investor": _("Investor"),
    "investor_country": _("Investor's country"),
    "sector": _("Sector"),
    "unit": _("Unit"),
    "park": _("Park or cluster"),
    "latitude": _("Latitude"),
    "longitude": _("Longitude"),
    "registered_capital": _("Registered capital"),
    "registered_currency": _("Currency of the registered capital"),
    "disbursed_capital": _("Disbursed capital"),
    "disbursed_currency": _("Currency of the disbursed capital"),
    "land_area_ha": _("Land (ha)"),
    "jobs_planned": _("Jobs planned"),
    "jobs_filled": _("Jobs filled"),
    "stage": _("Stage"),
    "stage_date": _("Stage date"),
    "project": _("Project"),
    "period": _("Period"),
    "currency": _("Currency"),
    "note": _("Note"),
    "submit": _("Submit"),
    "header": _("Header row"),
}
LABELS = {"stage": dict(Stage.choices), "sector": dict(Sector.choices)}


@register.filter
def register_column(column: str) -> str:
    """A column of a register file as people read it, with its name in the header."""
    label = COLUMNS.get(column)
    if label is None or column == "header":
        return str(label or column)
    return f"{label} ({column})"


@register.filter
def register_cell(row: Row, column: str) -> str:
    """What the row read in ``column``, as the register shows it (numbers and dates in the
    reader's notation, stages and countries by name); the cell as written when it could not
    be read."""
    if column not in row.values:
        cell = row.cells.get(column, "")
        return shown(cell if isinstance(cell, str) else format_number(cell), 60)
    value = row.values[column]
    if value is None:
        return ""
    if column in LABELS:
        return str(LABELS[column].get(value, value))
    if column == "investor_country":
        return str(countries.name(value))
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, Decimal | int):
        return format_number(value)
    if isinstance(value, date):
        return date_format(value, "SHORT_DATE_FORMAT")
    return shown(str(value), 60)
