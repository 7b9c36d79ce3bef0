"""Progress entry (DESIGN §5, §7): pick a target in scope, a period, a value; draft or submit."""

from __future__ import annotations

from csp.constants import SELF
from csp.decorators import csp_replace
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files import File
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from targets import access, selectors
from targets.errors import StaleEntry, WorkflowError
from targets.evidence import discard, served_type
from targets.formatting import tidy_decimal
from targets.forms import EntryForm
from targets.models import EntryStatus, ProgressEntry, Target
from targets.numbers import has_control_characters, shown
from targets.services import entries as workflow
from targets.services.entries import EDITABLE


@login_required
def enter_progress(request: HttpRequest) -> HttpResponse:
    """The targets the user may report on, and their own drafts and returned entries; the
    investment projects they may report on, and their own draft and returned reports."""
    from register import selectors as register_selectors  # the app above this one

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
            "projects": register_selectors.projects_to_report(
                user=request.user, today=timezone.localdate()
            ),
            "reports_to_fix": register_selectors.project_reports_to_fix(user=request.user),
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
    if has_control_characters(code):  # no code has them, and the database refuses a NUL
        raise Http404
    target = get_object_or_404(
        access.targets_enterable_by(request.user).select_related("responsible_unit"), code=code
    )
    periods = target.reporting_periods()
    chosen = request.POST.get("period") or request.GET.get("period") or ""
    if not chosen:
        chosen = _default_period(target, periods, timezone.localdate())
    if chosen not in {p.key for p in periods}:
        if request.method != "POST":  # a stale or mistyped link (?period=%00)
            raise Http404(_("%(code)s has no reporting period “%(period)s”.")
                          % {"code": target.code, "period": shown(chosen)})
        chosen = ""  # the form says what is wrong with the period
    entry = _entry(target, chosen) if chosen else None
    conflict = False
    if request.method == "POST":
        form = EntryForm(request.POST, request.FILES, **_form_kwargs(target, periods, entry))
        if form.is_valid():
            try:
                saved = _save(request, form, target)
            except StaleEntry as exc:
                # Someone else changed or entered it meanwhile: nothing was written. The form
                # keeps what the user typed and now stands for the entry as it is saved, so
                # saving again replaces it knowingly.
                form.add_error(None, exc.message)
                entry = _entry(target, form.cleaned_data["period"])
                form.data = form.data.copy()
                form.data["version"] = str(entry.version if entry else 0)
                form.data["opened_period"] = form.cleaned_data["period"]
                conflict = True
            except WorkflowError as exc:
                entry = _entry(target, form.cleaned_data["period"])
                field = exc.field if exc.field in form.fields else None
                if field is None and entry is not None and entry.status not in EDITABLE:
                    field = "period"  # the period already has a submitted or approved entry
                form.add_error(field, exc.message)
            else:
                return _saved(request, target, saved)
        if request.FILES.get("evidence_file") and form.errors:
            messages.warning(request, _("Choose the evidence file again: browsers do not keep "
                                        "a chosen file when a form comes back with errors."))
    else:
        initial = {"period": chosen, "version": entry.version if entry else 0,
                   "opened_period": chosen}
        if entry is not None:
            initial.update(
                value=tidy_decimal(entry.value), note=entry.note, evidence_url=entry.evidence_url
            )
        form = EntryForm(initial=initial, **_form_kwargs(target, periods, entry))
    editable = entry is None or access.may_edit_entry(request.user, entry)
    if not editable and not form.is_bound:
        # Shown, not changeable: only the period stays open, to choose another one. (After a
        # post the fields stay as typed, so that nothing the user typed is lost.)
        for name in ("value", "note", "evidence_file", "evidence_url"):
            form.fields[name].disabled = True
    return render(
        request,
        "targets/report.html",
        {"target": target, "form": form, "entry": entry, "editable": editable,
         "conflict": conflict},
    )


def _entry(target: Target, period: str) -> ProgressEntry | None:
    return (
        ProgressEntry.objects.filter(target=target, period=period)
        .select_related("last_editor")
        .first()
    )


def _form_kwargs(target: Target, periods, entry: ProgressEntry | None) -> dict:
    return {
        "periods": periods,
        "measure": target.localized("measure"),
        "value_type": target.value_type,
        "target": target,
        "locked_periods": _locked_periods(target),
        "current_file": _evidence_name(entry) if entry and entry.evidence_file else "",
    }


def _evidence_name(entry: ProgressEntry) -> str:
    """The name the file had when uploaded (files stored before names were kept: the stored
    one)."""
    return entry.evidence_name or entry.evidence_file.name.rsplit("/", 1)[-1]


def _saved(request: HttpRequest, target: Target, saved: ProgressEntry) -> HttpResponse:
    if saved.status == EntryStatus.SUBMITTED:
        messages.success(
            request,
            _("%(code)s %(period)s submitted for review.")
            % {"code": target.code, "period": saved.period},
        )
        return redirect("targets:target", code=target.code)
    messages.success(
        request,
        _("Draft of %(code)s %(period)s saved.") % {"code": target.code, "period": saved.period},
    )
    return redirect(f"{request.path}?period={saved.period}")


def _locked_periods(target: Target) -> dict[str, str]:
    """The target's periods whose entry is submitted or approved, with that state's label."""
    labels = dict(EntryStatus.choices)
    return {
        period: str(labels[status]).lower()
        for period, status in target.entries.exclude(status__in=EDITABLE)
        .values_list("period", "status")
    }


def _save(request: HttpRequest, form: EntryForm, target: Target) -> ProgressEntry:
    """Save (and submit) through the workflow, over the entry as the form showed it."""
    data = form.cleaned_data
    seen = data["version"]
    if seen is not None and data["opened_period"] and data["opened_period"] != data["period"]:
        seen = 0  # typed on another period's page: whatever this period holds was not shown
    draft = None
    try:
        with transaction.atomic():
            draft = workflow.entry_save_draft(
                user=request.user,
                target_id=target.pk,
                period=data["period"],
                value=data["value"],
                note=data["note"],
                evidence_url=data["evidence_url"],
                evidence_file=data["evidence_file"] or None,
                version=seen,
            )
            if request.POST.get("action") != "submit":
                return draft
            return workflow.entry_submit(
                user=request.user, entry_id=draft.pk, version=draft.version
            )
    except BaseException:
        # The submission failed and took the saved draft back with it: the file the draft
        # had just stored is nobody's. (A failed draft save removes its own file.)
        if draft is not None and data["evidence_file"]:
            discard(draft.evidence_file.name, storage=draft.evidence_file.storage)
        raise


def _evidence_file(request: HttpRequest, pk: int) -> tuple[ProgressEntry, File]:
    """The entry (among those whose target the user may see: 404 for anyone else) and its
    evidence file, opened."""
    entry = get_object_or_404(
        ProgressEntry.objects.filter(target__in=access.targets_visible_to(request.user)), pk=pk
    )
    if not entry.evidence_file:
        raise Http404
    try:
        return entry, entry.evidence_file.open("rb")
    except FileNotFoundError:
        raise Http404 from None


@login_required
def evidence(request: HttpRequest, pk: int) -> FileResponse:
    """An entry's evidence file, for those who may see its target (404 for anyone else).

    A download under the name it was uploaded with (RFC 6266/5987 encoded by FileResponse, so
    a Vietnamese name arrives whole), typed from its checked extension and marked nosniff: a
    browser never renders it as a page of this site.
    """
    entry, content = _evidence_file(request, pk)
    response = FileResponse(
        content, as_attachment=True, filename=_evidence_name(entry),
        content_type=served_type(entry.evidence_file.name),
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@csp_replace({"frame-ancestors": [SELF]})
def evidence_shown(request: HttpRequest, pk: int) -> FileResponse:
    """A PDF or image of evidence shown inside this site's review page: inline, and framed
    by this site's pages only (X-Frame-Options and the policy's frame-ancestors); any other
    type of file is a download (``evidence``) only."""
    entry, content = _evidence_file(request, pk)
    if not selectors.evidence_shown_inline(entry):
        content.close()
        raise Http404
    response = FileResponse(
        content, filename=_evidence_name(entry), content_type=served_type(entry.evidence_file.name),
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["X-Frame-Options"] = "SAMEORIGIN"
    return response
