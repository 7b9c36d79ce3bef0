"""The target page: trajectory chart, milestones, entries with their history, alerts, source,
and for its managers the changes made to the target and its milestones."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from targets import access, notifications, rules, selectors, verdicts
from targets.models import Assessment, Target, ValueType
from targets.numbers import has_control_characters


def _shown_projection(target: Target, assessment: Assessment | None) -> Decimal | None:
    """The projected value at the due date as shown: a percentage stays within 0–100.

    The stored assessment keeps the line's value (123 % tells the rules how fast it moves).
    """
    if assessment is None or assessment.projected is None:
        return None
    if target.value_type == ValueType.PERCENT:
        return rules.clamp_percent(assessment.projected)
    return assessment.projected


def _chart_labels(assessment: Assessment | None) -> dict[str, str]:
    labels = {
        "expected": _("Expected"),
        "milestones": _("Milestones"),
        "actuals": _("Approved actuals"),
        "forecast": _("Forecast (current pace)"),
        "today": _("Today"),
        "target": _("Target"),
        "as_of": "",
    }
    if assessment is not None and assessment.as_of is not None:
        labels["as_of"] = _("Latest report (as of %(date)s)") % {
            "date": date_format(assessment.as_of, "SHORT_DATE_FORMAT")
        }
    return labels


@login_required
def target_page(request: HttpRequest, code: str) -> HttpResponse:
    if has_control_characters(code):  # no code has them, and the database refuses a NUL
        raise Http404
    try:
        target = selectors.target_for_page(user=request.user, code=code)
    except Target.DoesNotExist:
        raise Http404 from None
    today = timezone.localdate()
    assessment = target.latest_assessment
    chart = selectors.chart_data(target=target, today=today)
    chart["labels"] = _chart_labels(assessment)
    may_review = access.can_review(request.user, target)
    return render(
        request,
        "targets/target.html",
        {
            "target": target,
            "assessment": assessment,
            "reason": verdicts.assessment_sentence(target, assessment),
            "projected": _shown_projection(target, assessment),
            "milestones": list(target.milestones.all()),
            "entries": selectors.target_entries(target=target),
            "alerts": [
                (alert, notifications.alert_message(alert))
                for alert in selectors.target_alerts(target=target)
            ],
            "chart": chart,
            "may_enter": access.can_enter(request.user, target),
            "may_review": may_review,
            # Who changed the target and its milestones: for those who answer for it (its
            # unit's managers and above, superusers), not for staff who report on it.
            "changes": selectors.target_changes(target=target) if may_review else None,
            "changes_admin_url": (
                reverse("admin:targets_target_history", args=[target.pk])
                if request.user.is_superuser and request.user.is_staff
                else ""
            ),
        },
    )
