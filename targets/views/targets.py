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
from targets.forms import (
    ExplanationAcceptForm,
    ExplanationAnswerForm,
    ExplanationAskAgainForm,
    ExplanationAskForm,
)
from targets.models import EXPLANATION_ACTIVE, Assessment, ExplanationState, Target, ValueType
from targets.numbers import has_control_characters
from targets.services.explanations import ASKABLE


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


def visible_target(request: HttpRequest, code: str) -> Target:
    """The target with what its page shows; 404 outside the user's scope (or no such code)."""
    if has_control_characters(code):  # no code has them, and the database refuses a NUL
        raise Http404
    try:
        return selectors.target_for_page(user=request.user, code=code)
    except Target.DoesNotExist:
        raise Http404 from None


@login_required
def target_page(request: HttpRequest, code: str) -> HttpResponse:
    return render_target_page(request, visible_target(request, code))


def trajectory_context(target: Target, *, approved_entries: list | None = None) -> dict:
    """What the trajectory chart, the assessment and the milestones of a target show, the same
    on its page and on its public page (``approved_entries``: when the caller has read them)."""
    assessment = target.latest_assessment
    chart = selectors.chart_data(
        target=target, today=timezone.localdate(), approved_entries=approved_entries
    )
    chart["labels"] = _chart_labels(assessment)
    return {
        "target": target,
        "assessment": assessment,
        "reason": verdicts.assessment_sentence(target, assessment),
        "projected": _shown_projection(target, assessment),
        "milestones": list(target.milestones.all()),
        "chart": chart,
    }


def render_target_page(
    request: HttpRequest, target: Target, explanation_forms: dict | None = None, status: int = 200
) -> HttpResponse:
    """The page; ``explanation_forms``: the explanation forms a refused post shows again with
    its errors (the others are fresh)."""
    from register.selectors import target_register  # the app above this one

    register = target_register(target=target, user=request.user, today=timezone.localdate())
    may_review = access.can_review(request.user, target)
    return render(
        request,
        "targets/target.html",
        {
            **trajectory_context(target),
            "entries": selectors.target_entries(target=target),
            "alerts": [
                (alert, notifications.alert_message(alert))
                for alert in selectors.target_alerts(target=target)
            ],
            # A target that takes its actual from the register has no entries to make.
            "may_enter": register is None and access.can_enter(request.user, target),
            "register": register,
            "may_review": may_review,
            # Who changed the target and its milestones: for those who answer for it (its
            # unit's managers and above, superusers), not for staff who report on it.
            "changes": selectors.target_changes(target=target) if may_review else None,
            "changes_admin_url": (
                reverse("admin:targets_target_history", args=[target.pk])
                if request.user.is_superuser and request.user.is_staff
                else ""
            ),
            "explanations": explanation_section(request, target, explanation_forms or {}),
        },
        status=status,
    )


def explanation_section(request: HttpRequest, target: Target, bound: dict) -> dict:
    """The "Explanation requests" section: every request with its answer and history, and the
    forms the user may use now (``bound``: those a refused post shows again)."""
    user = request.user
    requests = selectors.explanation_requests(target=target)
    active = next((r for r in requests if r.state in EXPLANATION_ACTIVE), None)
    section = {"requests": requests, "active": active, "ask_note": ""}
    if access.can_ask_explanation(user, target) and active is None:
        status = target.latest_assessment.status if target.latest_assessment else ""
        if status in ASKABLE:
            section["ask_form"] = bound.get("ask") or ExplanationAskForm(prefix="ask")
        else:
            section["ask_note"] = _(
                "An explanation can be asked once the target is at risk, lagging or missed."
            )
    open_now = active is not None and active.state == ExplanationState.OPEN
    if open_now and access.is_unit_member(user, target):
        section["answer_form"] = bound.get("answer") or ExplanationAnswerForm(
            prefix="answer", target=target, initial={"version": active.version}
        )
    if active is not None and active.state == ExplanationState.ANSWERED:
        refusal = access.decision_refusal(user, active, active.answer_or_none)
        if not refusal:
            section["accept_form"] = bound.get("accept") or ExplanationAcceptForm(
                prefix="accept", initial={"version": active.version}
            )
            section["again_form"] = bound.get("again") or ExplanationAskAgainForm(
                prefix="again", initial={"version": active.version}
            )
        elif access.can_review(user, target):
            section["decision_note"] = refusal  # four eyes: said, not hidden
    return section
