"""Template filters for numbers and statuses, formatted for the active language."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from django import template
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from targets.formatting import format_number, format_percent, person_name

if TYPE_CHECKING:
    from targets.models import Assessment, Translated

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
    # the completeness screen's cells (services.completeness.CellState)
    "on_time": "success",
    "late": "warning",
    "missing": "danger",
    "not_yet_due": "secondary",
}


@register.filter
def num(value, places: int | None = None) -> str:
    return format_number(value, places)


register.filter("person_name", person_name)


@register.filter
def colour(status: str | None) -> str:
    return STATUS_COLOURS.get(str(status or ""), "secondary")


@register.filter
def percent(ratio) -> str:
    """A ratio (1 = all of it) as a whole percentage: the progress ratio, the share of the way."""
    return format_percent(ratio)


def forecast_text(assessment: Assessment | None, *, iso: bool = False) -> str:
    """Rule 7's forecast as people read it — "reached 15/09/2031", "never on the current
    pace" — or "" without one; ``iso``: the reach date as 2031-09-15 (for exports)."""
    if assessment is None or assessment.error:
        return ""
    if assessment.forecast_never:
        return gettext("never on the current pace")
    if assessment.forecast_reached_on is None:
        return ""
    if iso:
        return assessment.forecast_reached_on.isoformat()
    return gettext("reached %(date)s") % {
        "date": date_format(assessment.forecast_reached_on, "SHORT_DATE_FORMAT")
    }


@register.filter
def forecast(assessment: Assessment | None) -> str:
    return forecast_text(assessment) or "—"


@register.filter(name="as_of")
def as_of_text(day) -> str:
    """The date a figure speaks for: "as of 30/09/2026" ("" without a date)."""
    if not day:
        return ""
    return gettext("as of %(date)s") % {"date": date_format(day, "SHORT_DATE_FORMAT")}


@register.filter
def web_address(url: str | None) -> str:
    """The link for an ``href`` when it is a web address (http, https), else "". The forms,
    the admin and plan files accept web addresses only; this keeps a link stored any other
    way (javascript:…) from becoming a script one click away."""
    text = str(url or "")
    return text if urlsplit(text.strip()).scheme.lower() in {"http", "https"} else ""


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


@register.filter
def localized(content: Translated | None, field: str) -> str:
    """A plan's, target's, unit's or area's ``field`` in the active language, or in the other
    where it has none: ``{{ target|localized:"name" }}``."""
    return "" if content is None else content.localized(field)
