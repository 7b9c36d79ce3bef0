"""Bulk import of entries in the browser (DESIGN §7): upload → preview → confirm → result.

The same service as ``manage.py import_entries``. The upload waits in an ImportJob (not in the
session) between preview and confirm; the preview checks the whole file and shows its first
rows with the count of every problem. Confirming claims the job once, so a double click imports
nothing twice; a file of more than SYNC_ROWS rows is imported by a worker while the result page
shows its progress.
"""

from __future__ import annotations

import codecs
import csv
import io

import openpyxl
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from openpyxl.styles import Font

from targets import access, selectors, tasks
from targets.forms import ImportUploadForm
from targets.models import EntryStatus, ImportJob, ImportState
from targets.services import import_jobs
from targets.services.alerts import AlertSettings

# Files up to this many rows are imported while the browser waits (a few seconds at most);
# larger ones by a Celery worker, so that no web request outlives the server's timeout.
SYNC_ROWS = 2000
REFRESH_SECONDS = 2


def _is_id(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) < 19


def _job_url(job: ImportJob) -> str:
    return f"{reverse('targets:import')}?job={job.pk}"


@login_required
def import_entries(request: HttpRequest) -> HttpResponse:
    if request.method == "GET" and "job" in request.GET:
        return _job_page(request, request.GET["job"])
    may_approve = access.may_review_any(request.user)
    context: dict = {}
    if request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES, may_approve=may_approve)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            status = form.cleaned_data["status"]
            preview = import_jobs.import_preview(
                user=request.user,
                content=upload.read(),
                filename=upload.name,
                status=status,
                language=get_language(),
            )
            context.update(
                preview=preview,
                file_problems=preview.file_problems,
                rows=preview.rows,
                problems=preview.problem_count,
                token=preview.job.pk if preview.job else "",
                filename=upload.name,
                status_label=EntryStatus(status).label,
                more_rows=preview.total_rows - len(preview.rows),
                in_background=preview.total_rows > SYNC_ROWS,
            )
    else:
        form = ImportUploadForm(may_approve=may_approve)
    context["form"] = form
    return render(request, "targets/import.html", context)


def _job_page(request: HttpRequest, job_id: str) -> HttpResponse:
    """An import's progress while it runs, then its result: counts, or every problem."""
    job = (
        ImportJob.objects.filter(user=request.user, pk=job_id).first()
        if _is_id(job_id)
        else None
    )
    if job is None or job.state == ImportState.PREVIEWED:
        raise Http404
    running = not job.finished
    percent = round(100 * job.checked_rows / job.total_rows) if job.total_rows else 0
    return render(
        request,
        "targets/import_job.html",
        {
            "job": job,
            "running": running,
            "percent": percent,
            "writing": running and job.checked_rows >= job.total_rows > 0,
            "refresh": REFRESH_SECONDS if running else None,
            "more_problems": max(0, job.problem_count - len(job.problems)),
            "status_label": EntryStatus(job.entry_status).label,
        },
    )


@login_required
@require_POST
def import_confirm(request: HttpRequest) -> HttpResponse:
    token = request.POST.get("token", "")
    job_id = int(token) if _is_id(token) else None
    if job_id is None or not import_jobs.import_job_claim(job_id=job_id, user=request.user):
        job = ImportJob.objects.filter(pk=job_id, user=request.user).first() if job_id else None
        if job is not None and job.state != ImportState.PREVIEWED:
            # A second click, or a second tab: the file is imported once.
            messages.info(request, _("This file has already been confirmed; here is its import."))
            return redirect(_job_url(job))
        messages.error(request, _("That preview has expired: upload the file again."))
        return redirect("targets:import")
    job = ImportJob.objects.only("pk", "total_rows").get(pk=job_id)
    if job.total_rows > SYNC_ROWS:
        transaction.on_commit(lambda: tasks.import_entries.delay(job.pk))
    else:
        import_jobs.import_job_run(job_id=job.pk, reassess=AlertSettings.from_settings())
    return redirect(_job_url(job))


@login_required
def import_template(request: HttpRequest, fmt: str) -> HttpResponse:
    """A file to fill in: the header the import reads, and a row for every target the user
    reports on and every begun period that has no report yet (value and note left empty)."""
    if fmt not in ("csv", "xlsx"):
        raise Http404
    rows = selectors.import_template_rows(user=request.user, today=timezone.localdate())
    lines = [["target", "period", "value", "note"]] + [[code, key, "", ""] for code, key in rows]
    if fmt == "csv":
        buffer = io.StringIO()
        csv.writer(buffer).writerows(lines)
        response = HttpResponse(
            codecs.BOM_UTF8 + buffer.getvalue().encode(), content_type="text/csv; charset=utf-8"
        )
    else:
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.title = "entries"
        for line in lines:
            sheet.append(line)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        widths = (max([12, *(len(code) + 2 for code, _key in rows)]), 10, 12, 40)
        for column, width in zip("ABCD", widths, strict=True):
            sheet.column_dimensions[column].width = width
        content = io.BytesIO()
        book.save(content)
        response = HttpResponse(
            content.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="entries-template.{fmt}"'
    return response
