"""Importing projects and project reports from CSV or XLSX: upload → preview → confirm, the
whole file or nothing, as the entries import (``targets.services.imports``) does.

The preview checks every row and keeps the file, with the fingerprint of what it read of the
register, in a RegisterUpload. Confirming takes that upload once (a second click finds
nothing), re-reads under row locks the projects and reports the file touches, and writes
nothing when they changed since the preview (or when a row no longer passes): the person sees
the file as it stands now by uploading it again. Otherwise it writes every row in one
transaction.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from register.imports import projects as project_rows
from register.imports import reports as report_rows
from register.imports.table import Row, rows_of
from register.models import ImportKind, RegisterUpload
from targets.errors import ImportFailed, NotAllowed, Problem, StaleEntry, WorkflowError
from targets.numbers import shown

PREVIEW_ROWS = 100  # rows the preview shows (every row is checked)
KEPT_PROBLEMS = 200  # problems of the rows not shown that the preview lists
PREVIEW_LIFETIME = timedelta(days=1)  # an upload nobody confirmed is dropped after this
CHANGE_REASON_LENGTH = 100  # simple_history's history_change_reason


@dataclass
class Preview:
    """What the preview page shows of an upload."""

    kind: str
    rows: list[Row] = field(default_factory=list)  # the first rows
    total_rows: int = 0
    problem_count: int = 0
    later_problems: list[Problem] = field(default_factory=list)  # of the rows not shown
    file_problems: list[Problem] = field(default_factory=list)  # the file cannot be read
    actions: dict[str, int] = field(default_factory=dict)  # rows per action
    upload: RegisterUpload | None = None  # None: nothing to confirm


class UploadGone(ImportFailed):
    """The upload to confirm is not there: imported already, expired, or someone else's."""


@dataclass(frozen=True)
class Imported:
    kind: str
    created: int = 0
    updated: int = 0
    submitted: int = 0
    unchanged: int = 0


def _digest(seen: list) -> str:
    return hashlib.sha256(json.dumps(seen, default=str).encode()).hexdigest()


def _in_file_order(rows: list[Row], columns: tuple[str, ...]) -> list[Row]:
    """Each row's problems in the order of the columns (the row's own first)."""
    order = {column: index for index, column in enumerate(("", *columns))}
    for row in rows:
        row.problems.sort(key=lambda problem: order.get(problem.field, 0))
    return rows


def _checked(*, user, kind: str, content: bytes, filename: str, today: date,
             lock: bool = False) -> tuple[list[Row], str]:
    """The file's rows, each with its problems or its action, and the fingerprint of what was
    read of the register (locked for the import when ``lock``)."""
    rows, seen = _checked_rows(user=user, kind=kind, content=content, filename=filename,
                               today=today, lock=lock)
    columns = project_rows.COLUMNS if kind == ImportKind.PROJECTS else report_rows.COLUMNS
    return _in_file_order(rows, columns), seen


def _checked_rows(*, user, kind: str, content: bytes, filename: str, today: date,
                  lock: bool) -> tuple[list[Row], str]:
    if kind == ImportKind.PROJECTS:
        rows = rows_of(content, filename, columns=project_rows.COLUMNS,
                       required=project_rows.REQUIRED)
        found = project_rows.existing(rows, lock=lock)
        project_rows.check(user=user, rows=rows, found=found)
        return rows, _digest(project_rows.fingerprint(found))
    if kind == ImportKind.REPORTS:
        rows = rows_of(content, filename, columns=report_rows.COLUMNS,
                       required=report_rows.REQUIRED)
        projects = report_rows.projects_named(rows)
        found = report_rows.existing(projects, rows, lock=lock)
        report_rows.check(user=user, rows=rows, projects=projects, found=found, today=today)
        return rows, _digest(report_rows.fingerprint(projects, found))
    raise ImportFailed([Problem(filename, "", _("Choose what the file holds."))])


def _name(filename: str) -> str:
    return shown(Path(filename or "").name, 100)


def register_import_preview(*, user, kind: str, content: bytes, filename: str,
                            today: date | None = None) -> Preview:
    """Check the whole file (writing nothing to the register) and keep it for the
    confirmation when it has no problem."""
    filename = _name(filename)
    try:
        rows, seen = _checked(user=user, kind=kind, content=content, filename=filename,
                              today=today or timezone.localdate())
    except ImportFailed as failed:
        return Preview(kind=kind, file_problems=failed.problems)
    problems = [p for row in rows for p in row.problems]
    actions: dict[str, int] = {}
    for row in rows:
        if row.action:
            actions[row.action] = actions.get(row.action, 0) + 1
    preview = Preview(
        kind=kind, rows=rows[:PREVIEW_ROWS], total_rows=len(rows), problem_count=len(problems),
        later_problems=[p for row in rows[PREVIEW_ROWS:] for p in row.problems][:KEPT_PROBLEMS],
        actions=actions,
    )
    if not problems:
        # This user's previous upload, and old ones nobody confirmed, are dropped.
        RegisterUpload.objects.filter(
            Q(user=user) | Q(created_at__lt=timezone.now() - PREVIEW_LIFETIME)
        ).delete()
        preview.upload = RegisterUpload.objects.create(
            user=user, kind=kind, filename=filename, content=content, fingerprint=seen,
        )
    return preview


def _stale(filename: str) -> ImportFailed:
    return ImportFailed([Problem(filename, "", _(
        "The register changed after the preview (someone saved one of these projects or "
        "reports meanwhile), so nothing was written: upload the file again to see it as it is "
        "now."))])


def register_import_confirm(*, user, upload_id: int, submit_all: bool = False,
                            today: date | None = None) -> Imported:
    """Import a previewed upload, the whole file or nothing (ImportFailed with the problems,
    or with the one that says the preview is stale). The upload is used once either way.
    ``submit_all``: submit every report left a draft for review."""
    today = today or timezone.localdate()
    with transaction.atomic():
        # Two clicks at once: the second waits here, then finds nothing.
        upload = (RegisterUpload.objects.select_for_update()
                  .filter(pk=upload_id, user=user).first())
        if upload is None:
            raise UploadGone([Problem("", "", _(
                "This preview is no longer there: it was imported already or has expired. "
                "Upload the file again."))])
        failure = None
        try:
            with transaction.atomic():
                imported = _import(user=user, upload=upload, submit_all=submit_all,
                                   today=today)
        except ImportFailed as failed:
            failure = failed
        upload.delete()
    if failure is not None:
        raise failure
    return imported


def _import(*, user, upload: RegisterUpload, submit_all: bool, today: date) -> Imported:
    filename = upload.filename
    try:
        rows, seen = _checked(user=user, kind=upload.kind, content=bytes(upload.content),
                              filename=filename, today=today, lock=True)
    except ImportFailed:
        raise _stale(filename) from None
    problems = [p for row in rows for p in row.problems]
    if seen != upload.fingerprint or problems:
        raise ImportFailed(_stale(filename).problems + problems)
    try:
        if upload.kind == ImportKind.PROJECTS:
            reason = shown(f"import of {filename}", CHANGE_REASON_LENGTH)
            with transaction.atomic():
                counts = project_rows.write(user=user, rows=rows, reason=reason)
        else:
            with transaction.atomic():
                counts = report_rows.write(user=user, rows=rows, today=today,
                                           submit_all=submit_all)
    except (IntegrityError, StaleEntry):
        # A project or report of the file was created, or changed, after the locks were taken.
        raise _stale(filename) from None
    except (WorkflowError, NotAllowed) as exc:
        raise ImportFailed([Problem(filename, getattr(exc, "field", "") or "",
                                    getattr(exc, "message", str(exc)))]) from None
    return Imported(kind=upload.kind, **counts)
