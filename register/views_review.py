"""Reviewing project reports: the review page of one report (beside the project's previous
approved report), approve, return with a comment, and several at once from the review queue.

As for progress entries: the screens are for managers (403 for anyone else), a report outside
the user's scope is 404, every form carries the version of the report it showed, and whoever
wrote, changed or submitted a report sees why they may not review it instead of the buttons.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from register import selectors
from register import services as workflow
from register.forms import ProjectReportsReviewForm
from register.models import ProjectReport
from targets import access
from targets.errors import NotAllowed, StaleEntry, WorkflowError
from targets.forms import ApproveForm, ReturnForm
from targets.services.alerts import AlertSettings


def _require_manager(request: HttpRequest) -> None:
    if not access.may_review_any(request.user):
        raise PermissionDenied(_("The review queue is for managers."))


def _reviewable(request: HttpRequest, pk: int) -> ProjectReport:
    try:
        return selectors.reviewable_report(user=request.user, pk=pk)
    except ProjectReport.DoesNotExist:
        raise Http404 from None


def _review_page(request: HttpRequest, report: ProjectReport, return_form: ReturnForm
                 ) -> HttpResponse:
    refusal = workflow.review_refusal(request.user, report)
    return render(
        request,
        "register/review_report.html",
        {
            "report": report,
            "project": report.project,
            "previous": selectors.previous_approved(report),
            "may_review": not refusal,
            "refusal": refusal,
            "approve_form": ApproveForm(initial={"version": report.version}),
            "return_form": return_form,
        },
    )


@login_required
def review_report(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    report = _reviewable(request, pk)
    return _review_page(request, report, ReturnForm(initial={"version": report.version}))


def _named(report: ProjectReport) -> dict[str, str]:
    return {"code": report.project.code, "period": report.period}


@login_required
@require_POST
def approve_report(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    report = _reviewable(request, pk)
    form = ApproveForm(request.POST)
    version = form.cleaned_data["version"] if form.is_valid() else None
    try:
        workflow.project_report_approve(
            user=request.user, report_id=report.pk, version=version,
            reassess=AlertSettings.from_settings(),
        )
    except (NotAllowed, WorkflowError) as exc:
        messages.error(request, exc.message if isinstance(exc, WorkflowError) else str(exc))
        return redirect("register:review-report", pk=report.pk)
    messages.success(
        request, _("The report of %(code)s for %(period)s is approved; the targets that count "
                   "the project are re-assessed.") % _named(report),
    )
    return redirect("targets:review")


@login_required
@require_POST
def return_report(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    report = _reviewable(request, pk)
    form = ReturnForm(request.POST)
    if form.is_valid():
        try:
            workflow.project_report_return(
                user=request.user, report_id=report.pk, comment=form.cleaned_data["comment"],
                version=form.cleaned_data["version"],
            )
        except WorkflowError as exc:
            form.add_error("comment" if exc.field == "comment" else None, exc.message)
            if isinstance(exc, StaleEntry):
                # The page shows the report as it is now; the comment typed stays in the form.
                report = _reviewable(request, pk)
                form.data = form.data.copy()
                form.data["version"] = str(report.version)
        except NotAllowed as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The report of %(code)s for %(period)s is returned to "
                                        "its author.") % _named(report))
            return redirect("targets:review")
    return _review_page(request, report, form)


@login_required
@require_POST
def review_reports(request: HttpRequest) -> HttpResponse:
    """Approve or return every ticked project report the user may review, from the review
    queue; say which were not, and why."""
    _require_manager(request)
    ticked = [int(pk) for pk in request.POST.getlist("entries") if pk.isdigit()]
    names = {
        r.pk: f"{r.project.code} {r.period}"
        for r in ProjectReport.objects.filter(
            pk__in=ticked, project__in=access.projects_reviewable_by(request.user)
        ).select_related("project")
    }
    form = ProjectReportsReviewForm(request.POST, entry_ids=list(names))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("targets:review")
    data = form.cleaned_data
    if data["action"] == "approve":
        reviewed = workflow.project_reports_approve(
            user=request.user, report_ids=data["entries"], versions=form.seen_versions(),
            reassess=AlertSettings.from_settings(),
        )
        messages.success(request, ngettext("%(n)d project report approved.",
                                           "%(n)d project reports approved.",
                                           len(reviewed.done)) % {"n": len(reviewed.done)})
    else:
        try:
            reviewed = workflow.project_reports_return(
                user=request.user, report_ids=data["entries"], comment=data["comment"],
                versions=form.seen_versions(),
            )
        except WorkflowError as exc:
            messages.error(request, exc.message)
            return redirect("targets:review")
        messages.success(request, ngettext("%(n)d project report returned.",
                                           "%(n)d project reports returned.",
                                           len(reviewed.done)) % {"n": len(reviewed.done)})
    for refusal in reviewed.refused:
        messages.warning(request, _("Not reviewed: %(report)s: %(reason)s") % {
            "report": names.get(refusal.entry_id, refusal.entry_id),
            "reason": refusal.message,
        })
    return redirect("targets:review")
