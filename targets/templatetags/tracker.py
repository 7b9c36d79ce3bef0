"""Template filters for numbers and statuses, formatted for the active language."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils import formats
from django.utils.translation import gettext_lazy as _

register = template.Library()

STATUS_COLOURS = {
    "achieved": "success",
    "on_track": "success",
    "at_risk": "warning",
    "lagging": "danger",
    "missed": "dark",
    "no_data": "secondary",
    "ok": "success",
    "due": "warning",
    "overdue": "danger",
    "draft": "secondary",
    "submitted": "info",
    "approved": "success",
    "returned": "warning",
}


def format_number(value, places: int | None = None) -> str:
    """A number in the active language's format (1.234,5 in Vietnamese), without noise zeros."""
    if value is None or value == "":
        return "—"
    number = Decimal(str(value))
    if places is not None:
        number = round(number, places)
    if number == number.to_integral_value():
        number = number.quantize(Decimal(1))
    else:
        number = number.normalize()
    return formats.number_format(number, use_l10n=True, force_grouping=True)


@register.filter
def num(value, places: int | None = None) -> str:
    return format_number(value, places)


@register.filter
def colour(status: str | None) -> str:
    return STATUS_COLOURS.get(str(status or ""), "secondary")


@register.filter
def percent(ratio) -> str:
    """A progress ratio (1 = on the trajectory) as a percentage for the progress bar."""
    if ratio is None:
        return "—"
    return format_number(Decimal(str(ratio)) * 100, 0) + " %"


# The columns of an entries file as the import preview names them (DESIGN §7: target,period,
# value,note), and the file's header row and import status.
IMPORT_COLUMNS = {
    "target": _("Target"),
    "period": _("Period"),
    "value": _("Value"),
    "note": _("Note"),
    "status": _("Import as"),
    "header": _("Header row"),
}


@register.filter
def import_column(field: str) -> str:
    """A problem's field in an imported file, in the active language."""
    return str(IMPORT_COLUMNS.get(field, field))
