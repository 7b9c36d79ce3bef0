"""Template filters for numbers and statuses, formatted for the active language."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy as _

from targets.formatting import format_number, format_percent

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


@register.filter
def num(value, places: int | None = None) -> str:
    return format_number(value, places)


@register.filter
def colour(status: str | None) -> str:
    return STATUS_COLOURS.get(str(status or ""), "secondary")


@register.filter
def percent(ratio) -> str:
    """A progress ratio (1 = on the trajectory) as a percentage for the progress bar."""
    return format_percent(ratio)


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
