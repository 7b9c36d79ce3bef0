"""The download of a plan's IATI results: its managers', from the status screen."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from iati import selectors
from iati.export import IatiDefaults, activities_xml, export_filename
from targets import access
from targets.numbers import has_control_characters


@login_required
def plan_export(request: HttpRequest, code: str) -> HttpResponse:
    """404 for a plan the user does not see (its existence is not revealed), 403 for one they
    see but do not manage."""
    if has_control_characters(code):
        raise Http404
    plan = selectors.iati_plans(user=request.user).filter(code=code).first()
    if plan is None:
        raise Http404
    if not access.can_publish_plan(request.user, plan):
        raise PermissionDenied(_("The managers of %(plan)s publish its IATI results.") % {
            "plan": plan.localized("name")})
    content = activities_xml(
        plan=plan, targets=selectors.iati_targets(plan=plan, user=request.user),
        defaults=IatiDefaults.from_settings(), generated_at=timezone.now(),
        today=timezone.localdate(),
    )
    response = HttpResponse(content, content_type="application/xml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{export_filename(plan)}"'
    return response
