"""The DHIS2 exchange screen (managers only; others: 403, like the review queue).

Export: a plan and a range of its periods → a ``dataValueSets`` JSON download. Import: upload
a document → a dry run listing every problem of every data value and what would change →
*Import* writes the whole document or nothing. The document waits in a Dhis2Upload row (not
in the session) between the dry run and the confirm, which claims it once.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from dhis2 import exporting, importing
from dhis2.forms import ExportForm, UploadForm
from dhis2.models import Dhis2Upload
from targets import access
from targets.errors import ImportFailed
from targets.models import EntryStatus, ImportState
from targets.services.alerts import AlertSettings

SHOWN_ROWS = 1000  # data values the dry run lists beside their problems


def _require_manager(request: HttpRequest) -> None:
    if not access.may_review_any(request.user):
        raise PermissionDenied(_("The DHIS2 exchange is for managers."))


def _page(request: HttpRequest, *, export_form=None, upload_form=None, **context):
    return render(request, "dhis2/exchange.html", {
        "export_form": export_form or ExportForm(user=request.user),
        "upload_form": upload_form or UploadForm(),
        **context,
    })


@login_required
def exchange(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    if request.method != "POST":
        return _page(request)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, upload_form=form)
    upload, status = form.cleaned_data["file"], form.cleaned_data["status"]
    content = upload.read()
    context = {"filename": upload.name, "status_label": EntryStatus(status).label}
    try:
        dry = importing.dhis2_dry_run(
            user=request.user, content=content, filename=upload.name, status=status
        )
    except ImportFailed as failed:
        return _page(request, upload_form=form, file_problems=failed.problems, **context)
    problems = dry.problems
    shown = [row for row in dry.rows if row.problems or not row.unchanged]
    if not problems and dry.changes:
        kept = importing.dhis2_upload_keep(
            user=request.user, content=content, filename=upload.name, status=status,
            language=get_language(), values=len(dry.rows),
        )
        context["token"] = kept.pk
    return _page(
        request, upload_form=form, dry=dry, problems=problems, rows=shown[:SHOWN_ROWS],
        more_rows=max(0, len(shown) - SHOWN_ROWS), **context,
    )


@login_required
@require_GET
def export(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    form = ExportForm(request.GET, user=request.user)
    if not form.is_valid():
        return _page(request, export_form=form)
    data = form.cleaned_data
    try:
        document = exporting.dhis2_export(
            user=request.user, plan=data["plan"], first=data["start_period"],
            last=data["end_period"], data_set=data["data_set"],
        )
    except exporting.ExportRefused as refused:
        form.add_error(None, refused.message)
        return _page(request, export_form=form)
    name = "-".join(
        part for part in (
            "dhis2", data["plan"].code,
            data["start_period"].key if data["start_period"] else "",
            data["end_period"].key if data["end_period"] else "",
        ) if part
    )
    response = HttpResponse(
        json.dumps(document, ensure_ascii=False, indent=2).encode() + b"\n",
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{name}.json"'
    return response


@login_required
@require_POST
def import_confirm(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    token = request.POST.get("token", "")
    upload_id = int(token) if token.isascii() and token.isdigit() and len(token) < 19 else None
    done = upload_id is not None and importing.dhis2_upload_import(
        upload_id=upload_id, user=request.user, reassess=AlertSettings.from_settings()
    )
    if done:
        return redirect("dhis2:import-result", pk=done.pk)
    upload = Dhis2Upload.objects.filter(pk=upload_id, user=request.user).first() if (
        upload_id is not None) else None
    if upload is not None and upload.state != ImportState.PREVIEWED:
        # A second click, or a second tab: the document is imported once.
        messages.info(request, _("This document has already been imported; here is its "
                                 "import."))
        return redirect("dhis2:import-result", pk=upload.pk)
    messages.error(request, _("That dry run has expired: upload the document again."))
    return redirect("dhis2:exchange")


@login_required
def import_result(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    upload = Dhis2Upload.objects.filter(pk=pk, user=request.user).exclude(
        state=ImportState.PREVIEWED).first()
    if upload is None:
        raise Http404
    return render(request, "dhis2/import_result.html", {
        "upload": upload,
        "status_label": EntryStatus(upload.entry_status).label,
        "more_problems": max(0, upload.problem_count - len(upload.problems)),
    })
