"""The periodic report of a unit (issue 13): choose the unit, the period and the format, type
the number, place and date of the document, download it.

A unit outside the user's scope is 404 (its existence is not revealed); a unit the user sees
but may not report on (a staff member asking for a unit below their own) is 403, and so is
the screen for a user who may report on no unit. Bad input is said next to its field, and no
file is sent.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from targets import access
from targets.forms import ReportForm
from targets.numbers import has_control_characters
from targets.reports import documents
from targets.reports.content import report_build, report_periods


def _checked_unit(request: HttpRequest, code: str) -> None:
    """404 for a unit the user does not see, 403 for one they see but may not report on."""
    if has_control_characters(code):
        raise Http404
    unit = access.units_visible_to(request.user).filter(code=code).first()
    if unit is None:
        raise Http404
    if not access.can_report(request.user, unit):
        raise PermissionDenied(_("You may not issue the report of %(unit)s.") % {
            "unit": unit.localized("name")})


@login_required
def periodic_report(request: HttpRequest) -> HttpResponse:
    units = access.units_reportable_by(request.user).select_related("parent").order_by("path")
    if not units.exists():
        raise PermissionDenied(_("You are not a member of any unit."))
    today = timezone.localdate()
    periods = report_periods(user=request.user, today=today)
    submitted = "unit" in request.GET
    if submitted and request.GET["unit"]:
        _checked_unit(request, request.GET["unit"])
    form = ReportForm(
        request.GET if submitted else None, units=units,
        periods=[(period.key, period.label) for period in periods],
        initial={"unit": units[0].code, "issued_on": today,
                 # What a report is usually about: the latest period that has ended.
                 "period": next((p.key for p in periods if p.end < today), "")},
    )
    if not form.is_valid():
        return render(request, "targets/periodic_report.html",
                      {"form": form, "title": _("Periodic report")})
    data = form.cleaned_data
    report = report_build(
        user=request.user, unit=data["unit"], period=data["period"], place=data["place"],
        issued_on=data["issued_on"], number=data["number"],
        recipients=data["recipients"].splitlines(), language=get_language(),
    )
    kind = data["format"]
    response = HttpResponse(documents.report_file(report, kind),
                            content_type=documents.CONTENT_TYPES[kind])
    response["Content-Disposition"] = (
        f'attachment; filename="{documents.report_filename(report, kind)}"'
    )
    return response

