"""The review queue (DESIGN §5): managers approve or return submitted entries of their subtree.

The screen is for managers: anyone without a manager membership gets 403 (the role may not use
it). A single entry outside the user's scope is 404, like every object outside a scope.
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
from targets.errors import NotAllowed, WorkflowError
from targets.forms import BulkReviewForm, ReturnForm
from targets.models import ProgressEntry
from targets.services import entries as workflow
from targets.services.evaluation import targets_reassess


def _require_manager(request: HttpRequest) -> None:
    if not access.may_review_any(request.user):
        raise PermissionDenied(_("The review queue is for managers."))


@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    entries = list(selectors.entries_to_review(user=request.user))
    form = BulkReviewForm(entry_ids=[e.pk for e in entries])
    if request.method == "POST":
        form = BulkReviewForm(request.POST, entry_ids=[e.pk for e in entries])
        if form.is_valid():
            chosen = [e for e in entries if e.pk in set(form.cleaned_data["entries"])]
            _bulk(request, chosen, form.cleaned_data["action"], form.cleaned_data["comment"])
            return redirect("targets:review")
    return render(
        request, "targets/review_queue.html", {"entries": entries, "form": form},
    )


def _bulk(request: HttpRequest, chosen: list[ProgressEntry], action: str, comment: str) -> None:
    done = 0
    approved = {}
    for entry in chosen:
        try:
            if action == "approve":
                workflow.entry_approve(user=request.user, entry=entry)
                approved[entry.target_id] = entry.target
            else:
                workflow.entry_return(user=request.user, entry=entry, comment=comment)
            done += 1
        except (NotAllowed, WorkflowError) as exc:
            messages.warning(request, f"{entry.target.code} {entry.period}: {exc}")
    if approved:
        # One re-assessment for all of them: each recipient gets one digest, not one per entry.
        targets_reassess(list(approved.values()))
    if action == "approve":
        messages.success(request, _("%(n)d entries approved.") % {"n": done})
    else:
        messages.success(request, _("%(n)d entries returned.") % {"n": done})


def _reviewable_entry(request: HttpRequest, pk: int) -> ProgressEntry:
    return get_object_or_404(
        ProgressEntry.objects.select_related("target", "target__responsible_unit", "author")
        .filter(target__in=access.targets_reviewable_by(request.user)),
        pk=pk,
    )


@login_required
def review_entry(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    entry = _reviewable_entry(request, pk)
    return render(
        request,
        "targets/review_entry.html",
        {"entry": entry, "return_form": ReturnForm(), "own": entry.author_id == request.user.pk},
    )


@login_required
@require_POST
def approve_entry(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    entry = _reviewable_entry(request, pk)
    try:
        workflow.entry_approve(user=request.user, entry=entry, after_approval=targets_reassess)
    except (NotAllowed, WorkflowError) as exc:
        messages.error(request, str(exc))
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
                user=request.user, entry=entry, comment=form.cleaned_data["comment"]
            )
        except WorkflowError as exc:
            form.add_error("comment" if exc.field == "comment" else None, exc.message)
        else:
            messages.success(
                request, _("%(code)s %(period)s returned to its author.")
                % {"code": entry.target.code, "period": entry.period},
            )
            return redirect("targets:review")
    return render(
        request,
        "targets/review_entry.html",
        {"entry": entry, "return_form": form, "own": entry.author_id == request.user.pk},
    )
