"""Progress entry (DESIGN §5, §7): pick a target in scope, a period, a value; draft or submit."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from targets import access, selectors
from targets.errors import WorkflowError
from targets.formatting import tidy_decimal
from targets.forms import EntryForm
from targets.models import EntryStatus, ProgressEntry, Target
from targets.services import entries as workflow
from targets.services.entries import EDITABLE


@login_required
def enter_progress(request: HttpRequest) -> HttpResponse:
    """The targets the user may report on, and their own drafts and returned entries."""
    targets = (
        access.targets_enterable_by(request.user)
        .select_related("plan", "responsible_unit", "latest_assessment")
        .order_by("plan__code", "code")
    )
    return render(
        request,
        "targets/enter_progress.html",
        {
            "targets": targets,
            "to_fix": selectors.entries_of_author_to_fix(user=request.user),
        },
    )


def _default_period(target: Target, periods, today) -> str:
    """The earliest ended period without an entry, else the period running today."""
    taken = set(target.entries.values_list("period", flat=True))
    ended = [p for p in periods if p.end <= today]
    for period in ended:
        if period.key not in taken:
            return period.key
    running = [p for p in periods if p.start <= today <= p.end]
    if running:
        return running[0].key
    return (ended or periods)[-1].key if periods else ""


@login_required
def report(request: HttpRequest, code: str) -> HttpResponse:
    """Enter or fix the entry of one target for one period; 404 outside the user's scope."""
    target = get_object_or_404(
        access.targets_enterable_by(request.user).select_related("responsible_unit"), code=code
    )
    periods = target.reporting_periods()
    chosen = request.POST.get("period") or request.GET.get("period") or ""
    if not chosen:
        chosen = _default_period(target, periods, timezone.localdate())
    entry = ProgressEntry.objects.filter(target=target, period=chosen).first()
    editable = entry is None or entry.status in EDITABLE
    form_kwargs = {
        "periods": periods,
        "measure": target.measure,
        "value_type": target.value_type,
        "locked_periods": _locked_periods(target),
        "current_file": entry.evidence_file.name.rsplit("/", 1)[-1]
        if entry and entry.evidence_file else "",
    }
    if request.method == "POST":
        form = EntryForm(request.POST, request.FILES, **form_kwargs)
        if form.is_valid():
            saved = _save(request, form, target, entry)
            if saved is not None:
                if saved.status == EntryStatus.SUBMITTED:
                    messages.success(
                        request,
                        _("%(code)s %(period)s submitted for review.")
                        % {"code": target.code, "period": saved.period},
                    )
                    return redirect("targets:target", code=target.code)
                messages.success(
                    request,
                    _("Draft of %(code)s %(period)s saved.")
                    % {"code": target.code, "period": saved.period},
                )
                url = f"{request.path}?period={saved.period}"
                return redirect(url)
        if request.FILES.get("evidence_file") and form.errors:
            messages.warning(request, _("Choose the evidence file again: browsers do not keep "
                                        "a chosen file when a form comes back with errors."))
    else:
        initial = {"period": chosen}
        if entry is not None:
            initial.update(
                value=tidy_decimal(entry.value), note=entry.note, evidence_url=entry.evidence_url
            )
        form = EntryForm(initial=initial, **form_kwargs)
    if not editable:
        # Shown, not changeable: only the period stays open, to choose another one.
        for name in ("value", "note", "evidence_file", "evidence_url"):
            form.fields[name].disabled = True
    return render(
        request,
        "targets/report.html",
        {"target": target, "form": form, "entry": entry, "editable": editable},
    )


def _locked_periods(target: Target) -> dict[str, str]:
    """The target's periods whose entry is submitted or approved, with that state's label."""
    labels = dict(EntryStatus.choices)
    return {
        period: str(labels[status]).lower()
        for period, status in target.entries.exclude(status__in=EDITABLE)
        .values_list("period", "status")
    }


def _save(request: HttpRequest, form: EntryForm, target: Target,
          entry: ProgressEntry | None) -> ProgressEntry | None:
    """Save (and submit) through the workflow; errors land on their form fields."""
    data = form.cleaned_data
    submit = request.POST.get("action") == "submit"
    try:
        with transaction.atomic():
            saved = workflow.entry_save_draft(
                user=request.user,
                target=target,
                period=data["period"],
                value=data["value"],
                note=data["note"],
                evidence_url=data["evidence_url"],
                evidence_file=data["evidence_file"] or None,
                entry=entry,
            )
            if submit:
                saved = workflow.entry_submit(user=request.user, entry=saved)
    except WorkflowError as exc:
        field = exc.field if exc.field in form.fields else None
        if field is None and entry is not None and entry.status not in EDITABLE:
            field = "period"  # the period already has a submitted or approved entry
        form.add_error(field, exc.message)
        return None
    return saved


@login_required
def evidence(request: HttpRequest, pk: int) -> FileResponse:
    """An entry's evidence file, for those who may see its target (404 for anyone else)."""
    entry = get_object_or_404(
        ProgressEntry.objects.filter(target__in=access.targets_visible_to(request.user)), pk=pk
    )
    if not entry.evidence_file:
        raise Http404
    name = entry.evidence_file.name.rsplit("/", 1)[-1]
    return FileResponse(entry.evidence_file.open("rb"), filename=name)
