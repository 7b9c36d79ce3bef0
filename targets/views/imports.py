"""Bulk import of entries in the browser (DESIGN §7): upload → preview every row → confirm.

The same service as ``manage.py import_entries``. The uploaded file waits in the session
between preview and confirm (files are at most 2 MB); nothing is written before the confirm,
and the confirm re-checks the whole file, so it writes all of it or nothing.
"""

from __future__ import annotations

import base64
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from targets import access
from targets.errors import ImportFailed
from targets.forms import ImportUploadForm
from targets.models import EntryStatus
from targets.services import imports as importing
from targets.services.evaluation import targets_reassess

SESSION_KEY = "entries_import"


@login_required
def import_entries(request: HttpRequest) -> HttpResponse:
    may_approve = access.may_review_any(request.user)
    context: dict = {}
    if request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES, may_approve=may_approve)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            content = upload.read()
            status = form.cleaned_data["status"]
            try:
                rows = importing.entries_preview(
                    user=request.user, content=content, filename=upload.name, status=status
                )
            except ImportFailed as failed:
                context["file_problems"] = failed.problems
            else:
                token = uuid.uuid4().hex
                problems = sum(len(row.problems) for row in rows)
                if not problems:
                    request.session[SESSION_KEY] = {
                        "token": token,
                        "name": upload.name,
                        "status": status,
                        "content": base64.b64encode(content).decode("ascii"),
                    }
                context.update(
                    rows=rows, problems=problems, token=token, filename=upload.name,
                    status_label=EntryStatus(status).label,
                )
    else:
        form = ImportUploadForm(may_approve=may_approve)
    context["form"] = form
    return render(request, "targets/import.html", context)


@login_required
@require_POST
def import_confirm(request: HttpRequest) -> HttpResponse:
    pending = request.session.get(SESSION_KEY)
    if not pending or pending.get("token") != request.POST.get("token"):
        messages.error(request, _("That preview has expired: upload the file again."))
        return redirect("targets:import")
    status = pending["status"]
    if status == EntryStatus.APPROVED and not access.may_review_any(request.user):
        status = EntryStatus.SUBMITTED
    try:
        result = importing.entries_import(
            user=request.user,
            content=base64.b64decode(pending["content"]),
            filename=pending["name"],
            status=status,
            after_approval=targets_reassess,
        )
    except ImportFailed as failed:
        for problem in failed.problems:
            messages.error(request, str(problem))
        messages.error(request, _("Nothing was written: upload the corrected file again."))
        return redirect("targets:import")
    finally:
        request.session.pop(SESSION_KEY, None)
    messages.success(
        request,
        _("%(name)s imported: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.")
        % {"name": pending["name"], "created": result.created, "updated": result.updated,
           "unchanged": result.unchanged},
    )
    return redirect("targets:status")
