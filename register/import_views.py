"""Import of projects and project reports in the browser: upload → preview → confirm.

The preview checks the whole file and shows its first rows with every problem next to its row
and column; the upload waits in a RegisterUpload until it is confirmed. Confirming imports the
whole file or nothing (``register.imports``). The templates to fill in are the header rows.
"""

from __future__ import annotations

import codecs
import csv
import io

import openpyxl
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from openpyxl.styles import Font

from register import imports
from register.forms import RegisterImportForm
from register.imports import projects as project_rows
from register.imports import reports as report_rows
from register.models import ImportKind
from targets import access
from targets.errors import ImportFailed

TEMPLATE_COLUMNS = {ImportKind.PROJECTS: project_rows.COLUMNS,
                    ImportKind.REPORTS: report_rows.COLUMNS}


def _page(request: HttpRequest, form: RegisterImportForm, **context) -> HttpResponse:
    return render(request, "register/import.html", {
        "form": form, "title": _("Import into the register"),
        "may_manage": access.may_review_any(request.user), **context,
    })


@login_required
def register_import(request: HttpRequest) -> HttpResponse:
    may_manage = access.may_review_any(request.user)
    if request.method != "POST":
        kind = request.GET.get("kind")
        return _page(request, RegisterImportForm(
            may_manage=may_manage, initial={"kind": kind} if kind in ImportKind.values else None,
        ))
    form = RegisterImportForm(request.POST, request.FILES, may_manage=may_manage)
    if not form.is_valid():
        return _page(request, form)
    upload = form.cleaned_data["file"]
    preview = imports.register_import_preview(
        user=request.user, kind=form.cleaned_data["kind"], content=upload.read(),
        filename=upload.name,
    )
    return _page(request, form, preview=preview, filename=upload.name,
                 kind_label=ImportKind(preview.kind).label,
                 more_rows=preview.total_rows - len(preview.rows))


def _done(result: imports.Imported) -> str:
    if result.kind == ImportKind.PROJECTS:
        return _("Projects imported: %(created)d new, %(updated)d updated, %(unchanged)d "
                 "unchanged.") % {"created": result.created, "updated": result.updated,
                                  "unchanged": result.unchanged}
    return _("Project reports imported: %(created)d new, %(updated)d updated, %(unchanged)d "
             "unchanged; %(submitted)d submitted for review.") % {
        "created": result.created, "updated": result.updated, "unchanged": result.unchanged,
        "submitted": result.submitted}


@login_required
@require_POST
def register_import_confirm(request: HttpRequest) -> HttpResponse:
    token = request.POST.get("token", "")
    form = RegisterImportForm(may_manage=access.may_review_any(request.user))
    if not (token.isascii() and token.isdigit() and len(token) < 19):
        messages.error(request, _("That preview has expired: upload the file again."))
        return redirect("register:import")
    try:
        result = imports.register_import_confirm(
            user=request.user, upload_id=int(token),
            submit_all=request.POST.get("submit_all") == "on",
        )
    except imports.UploadGone:
        # A second click, a second tab, an old page: the file was imported once, or never.
        messages.error(request, _("That preview has expired: upload the file again."))
        return redirect("register:import")
    except ImportFailed as failed:
        return _page(request, form, refused=failed.problems)
    messages.success(request, _done(result))
    return redirect("register:import")


@login_required
def register_import_template(request: HttpRequest, kind: str, fmt: str) -> HttpResponse:
    """The header row of a projects or project-reports file, as CSV or XLSX."""
    if kind not in TEMPLATE_COLUMNS or fmt not in ("csv", "xlsx"):
        raise Http404
    header = list(TEMPLATE_COLUMNS[kind])
    if fmt == "csv":
        buffer = io.StringIO()
        csv.writer(buffer).writerow(header)
        response = HttpResponse(codecs.BOM_UTF8 + buffer.getvalue().encode(),
                                content_type="text/csv; charset=utf-8")
    else:
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.title = kind
        sheet.append(header)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            sheet.column_dimensions[cell.column_letter].width = max(12, len(cell.value) + 2)
        sheet.freeze_panes = "A2"
        content = io.BytesIO()
        book.save(content)
        response = HttpResponse(
            content.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="register-{kind}.{fmt}"'
    return response
