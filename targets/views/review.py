"""The review queue (DESIGN §5): managers approve or return submitted entries of their subtree.

The screen is for managers: anyone without a manager membership gets 403 (the role may not use
it). A single entry outside the user's scope is 404, like every object outside a scope. Every
form carries the version of the entries it showed: reviewing an entry that changed since the
page was opened is refused with a message, never done blindly.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from targets import access, selectors
from targets.errors import NotAllowed, StaleEntry, WorkflowError
from targets.forms import ApproveForm, BulkReviewForm, ReturnForm
from targets.models import ProgressEntry
from targets.services import entries as workflow
from targets.services.alerts import AlertSettings


def _require_manager(request: HttpRequest) -> None:
    if not access.may_review_any(request.user):
        raise PermissionDenied(_("The review queue is for managers."))


@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    entries = list(selectors.entries_to_review(user=request.user))
    for entry in entries:
        entry.review_refusal = access.review_refusal(request.user, entry)
    if request.method == "POST":
        form = BulkReviewForm(request.POST, entry_ids=_ticked_in_scope(request))
        if form.is_valid():
            _bulk(request, form)
            return redirect("targets:review")
    else:
        form = BulkReviewForm(entry_ids=[e.pk for e in entries])
    return render(
        request, "targets/review_queue.html",
        {"entries": entries, "form": form, "project_reports": _project_reports(request)},
    )


def _project_reports(request: HttpRequest) -> list:
    """The submitted reports of the investment projects the user may review, each with why
    the user may not review it ("" when they may): the register's part of the queue."""
    from register import selectors as register_selectors  # the app above this one
    from register.services import review_refusal

    reports = list(register_selectors.project_reports_to_review(user=request.user))
    for report in reports:
        report.review_refusal = review_refusal(request.user, report)
    return reports


def _ticked_in_scope(request: HttpRequest) -> list[int]:
    """The ticked entries the user may review, whatever their state now: one approved by a
    colleague since the queue was shown is reported as such, not as an invalid choice."""
    ticked = [int(pk) for pk in request.POST.getlist("entries") if pk.isdigit()]
    return list(
        ProgressEntry.objects.filter(
            pk__in=ticked, target__in=access.targets_reviewable_by(request.user)
        ).values_list("pk", flat=True)
    )


def _bulk(request: HttpRequest, form: BulkReviewForm) -> None:
    """Review every ticked entry the user may review; say which were not, and why."""
    data = form.cleaned_data
    if data["action"] == "approve":
        reviewed = workflow.entries_approve(
            user=request.user, entry_ids=data["entries"], versions=form.seen_versions(),
            reassess=AlertSettings.from_settings(),
        )
        messages.success(request, _("%(n)d entries approved.") % {"n": len(reviewed.done)})
    else:
        reviewed = workflow.entries_return(
            user=request.user, entry_ids=data["entries"], comment=data["comment"],
            versions=form.seen_versions(),
        )
        messages.success(request, _("%(n)d entries returned.") % {"n": len(reviewed.done)})
    for refusal in reviewed.refused:
        messages.warning(request, _("Not reviewed: %(entry)s") % {"entry": refusal})


def _reviewable_entry(request: HttpRequest, pk: int) -> ProgressEntry:
    return get_object_or_404(
        ProgressEntry.objects.select_related(
            "target", "target__responsible_unit", "target__latest_assessment", "author",
            "last_editor", "submitted_by",
        ).filter(target__in=access.targets_reviewable_by(request.user)),
        pk=pk,
    )


def _review_page(request: HttpRequest, entry: ProgressEntry, return_form: ReturnForm
                 ) -> HttpResponse:
    refusal = access.review_refusal(request.user, entry)
    return render(
        request,
        "targets/review_entry.html",
        {
            "entry": entry,
            "context": selectors.review_context(entry=entry),
            "may_review": not refusal,
            "refusal": refusal,
            "approve_form": ApproveForm(initial={"version": entry.version}),
            "return_form": return_form,
        },
    )


@login_required
def review_entry(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    entry = _reviewable_entry(request, pk)
    return _review_page(request, entry, ReturnForm(initial={"version": entry.version}))


@login_required
@require_POST
def approve_entry(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    entry = _reviewable_entry(request, pk)
    form = ApproveForm(request.POST)
    version = form.cleaned_data["version"] if form.is_valid() else None
    try:
        workflow.entry_approve(
            user=request.user, entry_id=entry.pk, version=version,
            reassess=AlertSettings.from_settings(),
        )
    except (NotAllowed, WorkflowError) as exc:
        messages.error(request, exc.message if isinstance(exc, WorkflowError) else str(exc))
        return redirect("targets:review-entry", pk=entry.pk)
    messages.success(
        request, _("%(code)s %(period)s approved; the target is re-assessed.")
        % {"code": entry.target.code, "period": entry.period},
    )
    return redirect("targets:review")


@login_required
@require_POST
def return_entry(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    entry = _reviewable_entry(request, pk)
    form = ReturnForm(request.POST)
    if form.is_valid():
        try:
            workflow.entry_return(
                user=request.user, entry_id=entry.pk, comment=form.cleaned_data["comment"],
                version=form.cleaned_data["version"],
            )
        except WorkflowError as exc:
            form.add_error("comment" if exc.field == "comment" else None, exc.message)
            if isinstance(exc, StaleEntry):
                # The page shows the entry as it is now; the comment typed stays in the form.
                entry = _reviewable_entry(request, pk)
                form.data = form.data.copy()
                form.data["version"] = str(entry.version)
        except NotAllowed as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, _("%(code)s %(period)s returned to its author.")
                % {"code": entry.target.code, "period": entry.period},
            )
            return redirect("targets:review")
    return _review_page(request, entry, form)
