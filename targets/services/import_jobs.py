"""Entries files imported in the browser: upload → preview → confirm → import (DESIGN §7).

The upload waits in an ImportJob row (not in the session). Confirming claims the job once
(previewed → queued): a double click, or a second tab, imports nothing twice. A small file is
imported in the request; a large one by a Celery task (``tasks.import_entries``) that claims the
job (queued → running) and records the rows checked so far, so that the result page can show a
progress bar. Either way ``services.imports.entries_import`` does the work: the whole file or
nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from targets.errors import ImportFailed, Problem
from targets.models import ImportJob, ImportState
from targets.numbers import shown
from targets.services import imports as importing
from targets.services.alerts import AlertSettings

logger = logging.getLogger(__name__)

PREVIEW_ROWS = 100  # rows the preview shows
KEPT_PROBLEMS = 200  # problems a preview or a failed import lists (all of them are counted)
PREVIEW_LIFETIME = timedelta(days=1)  # an unconfirmed upload is dropped after this
# A job still running after this was left by a dead worker (its transaction rolled back):
# the task's redelivery may run it again.
RUN_LEASE = timedelta(minutes=30)


@dataclass
class Preview:
    """What the preview page shows of an upload."""

    job: ImportJob | None = None  # None when there is nothing to confirm
    rows: list[importing.EntryRow] = field(default_factory=list)  # the first rows
    total_rows: int = 0
    problem_count: int = 0
    later_problems: list[Problem] = field(default_factory=list)  # of rows beyond those shown
    file_problems: list[Problem] = field(default_factory=list)  # the file cannot be read


def import_preview(
    *, user, content: bytes, filename: str, status: str, language: str
) -> Preview:
    """Check the whole file and keep it for the confirm when it has no problem."""
    try:
        rows = importing.entries_preview(
            user=user, content=content, filename=filename, status=status
        )
    except ImportFailed as failed:
        return Preview(file_problems=failed.problems)
    problems = [p for row in rows for p in row.problems]
    preview = Preview(
        rows=rows[:PREVIEW_ROWS],
        total_rows=len(rows),
        problem_count=len(problems),
        later_problems=[p for row in rows[PREVIEW_ROWS:] for p in row.problems][:KEPT_PROBLEMS],
    )
    if not problems:
        # Old uploads nobody confirmed, and this user's previous upload, are dropped.
        ImportJob.objects.filter(state=ImportState.PREVIEWED).filter(
            Q(user=user) | Q(created_at__lt=timezone.now() - PREVIEW_LIFETIME)
        ).delete()
        preview.job = ImportJob.objects.create(
            user=user,
            filename=shown(filename, 255),
            content=content,
            entry_status=status,
            language=language,
            total_rows=len(rows),
        )
    return preview


def import_job_claim(*, job_id: int, user) -> bool:
    """Confirm a previewed upload: True for the one call that claims it, False for any other
    (a double click, an expired or someone else's upload)."""
    return bool(
        ImportJob.objects.filter(pk=job_id, user=user, state=ImportState.PREVIEWED).update(
            state=ImportState.QUEUED
        )
    )


def import_job_run(*, job_id: int, reassess: AlertSettings) -> ImportJob | None:
    """Import a confirmed upload, once: None when the job is not (or no longer) there to run.
    ``reassess``: the alert rules the approved entries' targets are re-assessed with."""
    now = timezone.now()
    claimed = (
        ImportJob.objects.filter(pk=job_id)
        .filter(
            Q(state=ImportState.QUEUED)
            | Q(state=ImportState.RUNNING, started_at__lt=now - RUN_LEASE)
        )
        .update(state=ImportState.RUNNING, started_at=now, checked_rows=0)
    )
    if not claimed:
        return None
    job = ImportJob.objects.select_related("user").get(pk=job_id)

    def progress(rows: int) -> None:
        ImportJob.objects.filter(pk=job_id).update(checked_rows=rows)

    outcome: dict = {"content": b"", "finished_at": timezone.now()}
    with translation.override(job.language):
        try:
            result = importing.entries_import(
                user=job.user,
                content=bytes(job.content),
                filename=job.filename,
                status=job.entry_status,
                progress=progress,
                reassess=reassess,
            )
        except ImportFailed as failed:
            outcome.update(
                state=ImportState.FAILED,
                problem_count=len(failed.problems),
                problems=[
                    {"place": p.place, "field": p.field, "message": p.message}
                    for p in failed.problems[:KEPT_PROBLEMS]
                ],
            )
        except Exception:
            # A defect, not a problem of the file: say so, and keep the worker going.
            logger.exception("The import of %s (job %s) failed", job.filename, job.pk)
            outcome.update(
                state=ImportState.FAILED,
                error=_("The import stopped on an unexpected error; nothing was written. "
                        "The administrators have been told."),
            )
        else:
            outcome.update(
                state=ImportState.DONE,
                checked_rows=job.total_rows,
                created_count=result.created,
                updated_count=result.updated,
                approved_count=result.approved,
                unchanged_count=result.unchanged,
            )
    outcome["finished_at"] = timezone.now()
    ImportJob.objects.filter(pk=job_id).update(**outcome)
    job.refresh_from_db()
    return job
