"""The project page: a project's facts, stage timeline, capital and jobs over time and its
reports with their workflow; for those who may report on it, the report form of a quarter."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from register import selectors
from register.forms import ProjectReportForm
from register.models import Project, ProjectReport
from register.services import EDITABLE, project_report_save_draft, project_report_submit
from targets import access
from targets.errors import NotAllowed, StaleEntry, WorkflowError
from targets.formatting import tidy_decimal
from targets.models import EntryStatus
from targets.numbers import has_control_characters, shown

FIELDS = ("stage", "stage_date", "registered_capital", "disbursed_capital", "jobs_filled", "note")


def _visible_project(request: HttpRequest, code: str) -> Project:
    if has_control_characters(code):  # no code has them, and the database refuses a NUL
        raise Http404
    try:
        return selectors.project_for_page(user=request.user, code=code)
    except Project.DoesNotExist:
        raise Http404 from None


@login_required
def project_page(request: HttpRequest, code: str) -> HttpResponse:
    """The page of one project; 404 outside the user's scope. A post saves (and submits) the
    report of the chosen quarter, for those who may report on the project (403 otherwise)."""
    project = _visible_project(request, code)
    reports = selectors.project_reports(project=project)
    may_report = access.can_enter_for(request.user, project.unit)
    if request.method == "POST" and not may_report:
        raise PermissionDenied(_("You may not report on this project."))
    context = {
        "project": project,
        "reports": reports,
        "timeline": selectors.stage_timeline(reports),
        "capital": selectors.capital_history(reports),
        "may_report": may_report,
    }
    if may_report:
        outcome = _report_form(request, project, reports)
        if isinstance(outcome, HttpResponse):
            return outcome
        context.update(outcome)
    return render(request, "register/project.html", context)


def _report_form(request: HttpRequest, project: Project, reports: list[ProjectReport]
                 ) -> dict | HttpResponse:
    """The report form's part of the page, or the redirect after a report was saved."""
    today = timezone.localdate()
    periods = selectors.report_periods(project, reports, today)
    by_period = {r.period: r for r in reports}
    chosen = request.POST.get("period") or request.GET.get("period") or ""
    if not chosen:
        chosen = selectors.default_period(reports, today)
    if chosen not in {p.key for p in periods}:
        if request.method != "POST":  # a stale or mistyped link
            raise Http404(_("%(code)s has no quarter “%(period)s” to report.")
                          % {"code": project.code, "period": shown(chosen)})
        chosen = ""  # the form says what is wrong with the period
    report = by_period.get(chosen)
    labels = dict(EntryStatus.choices)
    kwargs = {
        "periods": periods, "currency": project.registered_currency, "today": today,
        "locked_periods": {r.period: str(labels[r.status]).lower() for r in reports
                           if r.status not in EDITABLE},
    }
    conflict = False
    if request.method == "POST":
        form = ProjectReportForm(request.POST, **kwargs)
        if form.is_valid():
            try:
                saved = _save(request, form, project)
            except StaleEntry as exc:
                # Someone else changed or wrote it meanwhile: nothing was written. The form
                # keeps what the user typed and now stands for the report as it is saved, so
                # saving again replaces it knowingly.
                form.add_error(None, exc.message)
                report = ProjectReport.objects.filter(
                    project=project, period=form.cleaned_data["period"]
                ).select_related("last_editor").first()
                form.data = form.data.copy()
                form.data["version"] = str(report.version if report else 0)
                form.data["opened_period"] = form.cleaned_data["period"]
                conflict = True
            except WorkflowError as exc:
                report = by_period.get(form.cleaned_data["period"])
                field = exc.field if exc.field in form.fields else None
                form.add_error(field, exc.message)
            else:
                return _saved(request, project, saved)
    else:
        initial = {"period": chosen, "version": report.version if report else 0,
                   "opened_period": chosen}
        source = report or project  # a new report starts from the project's latest figures
        initial.update({
            "stage": source.stage, "stage_date": source.stage_date,
            "registered_capital": tidy_decimal(source.registered_capital),
            "disbursed_capital": tidy_decimal(source.disbursed_capital),
            "jobs_filled": source.jobs_filled,
            "note": report.note if report else "",
        })
        form = ProjectReportForm(initial=initial, **kwargs)
    editable = report is None or report.status in EDITABLE
    if not editable and not form.is_bound:
        # Shown, not changeable: only the period stays open, to choose another one.
        for name in FIELDS:
            form.fields[name].disabled = True
    return {"form": form, "report": report, "editable": editable, "conflict": conflict,
            "offered": {p.key for p in periods}}


def _save(request: HttpRequest, form: ProjectReportForm, project: Project) -> ProjectReport:
    """Save (and submit) through the workflow, over the report as the form showed it."""
    data = form.cleaned_data
    seen = data["version"]
    if seen is not None and data["opened_period"] and data["opened_period"] != data["period"]:
        seen = 0  # typed on another quarter's page: whatever this quarter holds was not shown
    try:
        with transaction.atomic():
            draft = project_report_save_draft(
                user=request.user, project_id=project.pk, period=data["period"],
                stage=data["stage"], stage_date=data["stage_date"],
                registered_capital=data["registered_capital"],
                disbursed_capital=data["disbursed_capital"], jobs_filled=data["jobs_filled"],
                note=data["note"], version=seen,
            )
            if request.POST.get("action") != "submit":
                return draft
            return project_report_submit(user=request.user, report_id=draft.pk,
                                         version=draft.version)
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from None


def _saved(request: HttpRequest, project: Project, saved: ProjectReport) -> HttpResponse:
    page = reverse("register:project", args=[project.code])
    if saved.status == EntryStatus.SUBMITTED:
        messages.success(request, _("The report of %(code)s for %(period)s is submitted for "
                                    "review.") % {"code": project.code, "period": saved.period})
        return redirect(f"{page}#reports")
    messages.success(request, _("Draft of the report of %(code)s for %(period)s saved.")
                     % {"code": project.code, "period": saved.period})
    return redirect(f"{page}?period={saved.period}#report")
