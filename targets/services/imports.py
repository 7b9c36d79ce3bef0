"""The entries file (DESIGN §7): ``target,period,value,note`` as CSV or XLSX, whole or nothing.

Reading: ``targets.spreadsheets``. Checking: every row against its target (scope, reporting
period, the period has begun, the value and the target's range) and against the entry already
recorded for its period (the workflow's permissions in ``targets.access``). Writing: in one
transaction, a few statements whatever the number of rows (``targets.bulk``). Every bad file is
answered with its list of problems; nothing is written then.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from itertools import islice
from pathlib import Path

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from targets import access, bulk, rules
from targets.errors import ImportFailed, Problem, WorkflowError
from targets.models import Alert, AlertKind, EntryStatus, ProgressEntry, Target
from targets.numbers import IMPORT, entry_value, shown, written
from targets.services.alerts import AlertSettings
from targets.services.evaluation import targets_reassess
from targets.spreadsheets import Cell, read_rows

ENTRY_COLUMNS = ("target", "period", "value", "note")
IMPORT_STATUSES = (EntryStatus.SUBMITTED, EntryStatus.APPROVED)
BATCH = bulk.BATCH  # rows per query
CODE_LENGTH = Target._meta.get_field("code").max_length
CHANGE_REASON_LENGTH = 100  # simple_history's history_change_reason
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_NOTE_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # a note keeps \t \n \r

Existing = dict[tuple[int, str], ProgressEntry]  # the recorded entries by (target id, period)
Progress = Callable[[int], object]


@dataclass
class EntryRow:
    number: int  # the row's line in the file; the header is row 1
    target_code: str
    period: str
    value_text: Cell
    note: str
    problems: list[Problem]
    filename: str = ""
    target: Target | None = None
    value: Decimal | None = None
    found_period: rules.Period | None = None
    existing: ProgressEntry | None = None
    action: str = ""  # create | update (and submit) | approve | unchanged
    note_given: bool = True  # whether the file has a note column

    @property
    def unchanged(self) -> bool:
        return self.action == "unchanged"

    @property
    def place(self) -> str:
        label = " ".join(
            shown(part, 24) for part in (self.target_code, self.period) if part
        )
        where = _("%(file)s row %(row)d") % {"file": self.filename, "row": self.number}
        return where.strip() + (f" ({label})" if label else "")


def _file_problem(filename: str, message: str) -> ImportFailed:
    return ImportFailed([Problem(filename, "", message)])


def _text(cell: Cell) -> str:
    """A cell of a text column: a number typed into it (a yearly period 2026) as written."""
    return written(cell, source=IMPORT) if isinstance(cell, Decimal) else cell


# --- checking --------------------------------------------------------------------------------


def entries_preview(
    *,
    user,
    content: bytes,
    filename: str,
    status: str = EntryStatus.SUBMITTED,
    today: date | None = None,
    progress: Progress | None = None,
) -> list[EntryRow]:
    """Every row of an entries file with its problems; writes nothing.

    A file that cannot be read as a table of entries raises ImportFailed (its problems).
    ``today``: the date periods must have begun by (the local date); ``progress`` is called
    with the number of rows checked so far, now and then.
    """
    return _checked(
        user=user, content=content, filename=filename, status=status,
        today=today or timezone.localdate(), progress=progress,
    )[0]


def _checked(
    *, user, content: bytes, filename: str, status: str, today: date, progress: Progress | None
) -> tuple[list[EntryRow], Existing]:
    filename = shown(Path(filename).name or "", 100)
    if status not in IMPORT_STATUSES:
        raise ImportFailed([Problem(filename, "status", _("Use submitted or approved."))])
    rows = _entry_rows(read_rows(content, filename, columns=ENTRY_COLUMNS), filename)
    existing = _check_rows(
        user=user, rows=rows, status=status, today=today, existing=None, progress=progress
    )
    return rows, existing


def _entry_rows(lines: list[tuple[int, list[Cell]]], filename: str) -> list[EntryRow]:
    lines = [(number, cells) for number, cells in lines if any(c != "" for c in cells)]
    if not lines:
        raise _file_problem(filename, _("The file has no rows."))
    header_line, header_cells = lines[0]
    headers = [_text(cell).lstrip("\ufeff").strip().lower() for cell in header_cells]
    header_place = _("%(file)s row %(row)d") % {"file": filename, "row": header_line}
    missing = [c for c in ("target", "period", "value") if c not in headers]
    if missing:
        raise ImportFailed([Problem(
            header_place, "header",
            _("Missing column(s): %(cols)s. The header is target,period,value,note.")
            % {"cols": ", ".join(missing)},
        )])
    unknown = [shown(h, 30) for h in headers if h and h not in ENTRY_COLUMNS]
    doubled = [h for h in ENTRY_COLUMNS if headers.count(h) > 1]
    if unknown or doubled:
        raise ImportFailed([Problem(
            header_place, "header",
            _("Unknown column(s): %(cols)s.") % {"cols": ", ".join(unknown)} if unknown
            else _("Column(s) named twice: %(cols)s.") % {"cols": ", ".join(doubled)},
        )])
    index = {name: headers.index(name) for name in ENTRY_COLUMNS if name in headers}
    width = len(headers)
    note_given = "note" in index
    rows = []
    for number, cells in islice(lines, 1, None):
        padded = cells + [""] * (width - len(cells))
        row = EntryRow(
            number=number,
            target_code=_text(padded[index["target"]]),
            period=_text(padded[index["period"]]),
            value_text=padded[index["value"]],
            note=_text(padded[index["note"]]) if "note" in index else "",
            problems=[],
            filename=filename,
            note_given=note_given,
        )
        if any(c != "" for c in cells[width:]):
            row.problems.append(Problem(
                row.place, "",
                _("This row has %(cells)d cells; the header has %(columns)d columns.")
                % {"cells": len(cells), "columns": width},
            ))
        rows.append(row)
    if not rows:
        raise _file_problem(filename, _("The file has no rows."))
    return rows


def _chunks(values: Iterable, size: int = BATCH) -> Iterator[list]:
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _existing(target_ids: Iterable[int], *, lock: bool = False) -> Existing:
    """The entries of these targets by (target id, period), locked for the import when asked."""
    found: Existing = {}
    for chunk in _chunks(sorted(set(target_ids))):
        entries = ProgressEntry.objects.filter(target_id__in=chunk).order_by("pk")
        if lock:
            entries = entries.select_for_update(of=("self",))
        for entry in entries:
            found[(entry.target_id, entry.period)] = entry
    return found


def _fingerprint(existing: Existing) -> set[tuple]:
    return {(e.pk, e.version, e.status, e.value, e.note) for e in existing.values()}


def _check_rows(
    *,
    user,
    rows: list[EntryRow],
    status: str,
    today: date,
    existing: Existing | None,
    progress: Progress | None = None,
) -> Existing:
    """Give every row its problems, or its target, period, value and action. Returns the
    entries already recorded for the file's targets, as they were read."""
    codes = {
        code for code in (r.target_code for r in rows)
        if code and len(code) <= CODE_LENGTH and not _CONTROL.search(code)
    }
    targets: dict[str, Target] = {}
    enterable: set[str] = set()
    reviewable: set[str] = set()
    visible: set[str] = set()
    for chunk in _chunks(codes):
        targets.update(
            (t.code, t)
            # register_measure: whether it takes its actual from the register (no entries).
            for t in Target.objects.filter(code__in=chunk).select_related(
                "responsible_unit", "register_measure"
            )
        )
        enterable.update(
            access.targets_enterable_by(user).filter(code__in=chunk).values_list("code", flat=True)
        )
        if status == EntryStatus.APPROVED:
            reviewable.update(
                access.targets_reviewable_by(user).filter(code__in=chunk)
                .values_list("code", flat=True)
            )
        visible.update(
            access.targets_visible_to(user).filter(code__in=chunk).values_list("code", flat=True)
        )
    in_scope = enterable | reviewable
    if existing is None:
        existing = _existing(t.pk for code, t in targets.items() if code in in_scope)
    periods: dict[int, dict[str, rules.Period]] = {}
    language = get_language()
    permissions: dict[tuple, str] = {}
    seen: dict[tuple[str, str], int] = {}
    for done, row in enumerate(rows, start=1):
        if progress is not None and done % BATCH == 0:
            progress(done)
        problems = row.problems

        def problem(field_name: str, message: str, row: EntryRow = row) -> None:
            row.problems.append(Problem(row.place, field_name, message))

        for field_name, text, control in (
            ("target", row.target_code, _CONTROL), ("period", row.period, _CONTROL),
            ("note", row.note, _NOTE_CONTROL),
        ):
            if control.search(text):
                problem(field_name, _("Contains control characters (such as a NUL byte): "
                                      "remove them."))
        if isinstance(row.value_text, str) and _CONTROL.search(row.value_text):
            problem("value", _("Contains control characters (such as a NUL byte): remove them."))
        if problems:
            continue
        target = targets.get(row.target_code)
        if not row.target_code:
            problem("target", _("The target code is empty."))
        elif (
            target is not None and row.target_code in visible
            and Target.register_measure.related.get_cached_value(target) is not None
        ):
            problem("target", _(
                "%(code)s takes its actual from the investment register: report on its "
                "projects instead.") % {"code": row.target_code})
            target = None
        elif target is not None and row.target_code in visible - in_scope:
            # A target the user sees but does not report on (another unit's, a province's).
            problem("target", _(
                "You may not report on %(code)s: its reports come from %(unit)s."
            ) % {"code": row.target_code, "unit": target.responsible_unit.localized("name")})
            target = None
        elif target is None or row.target_code not in in_scope:
            # One the user does not see reads the same as one that does not exist: no leak.
            problem("target", _("Unknown target “%(code)s”.") % {"code": shown(row.target_code)})
            target = None
        elif status == EntryStatus.APPROVED and row.target_code not in reviewable:
            problem("target", _("You may not approve entries of %(code)s.") % {
                "code": row.target_code})
        row.target = target
        if target is None:
            continue
        if target.pk not in periods:
            periods[target.pk] = {p.key: p for p in target.reporting_periods()}
        key = row.period.upper()
        found = periods[target.pk].get(key)
        if found is None:
            span = periods[target.pk]
            problem("period", _("“%(period)s” is not a reporting period of %(code)s (%(span)s).")
                    % {"period": shown(row.period), "code": target.code,
                       "span": f"{next(iter(span))} … {next(reversed(span))}" if span else "—"})
        elif not rules.period_started(found, today):
            problem("period", _("%(period)s has not started yet: it can be reported from "
                                "%(start)s.")
                    % {"period": found.key, "start": date_format(found.start, "SHORT_DATE_FORMAT")})
        else:
            row.period = found.key
            row.found_period = found
        try:
            row.value = entry_value(
                row.value_text, target=target, language=language, source=IMPORT
            )
        except WorkflowError as exc:
            problem("value", exc.message)
        if row.found_period is None:
            continue
        duplicate = seen.setdefault((row.target_code, row.period), row.number)
        if duplicate != row.number:
            problem(
                "period",
                _("Duplicate row: row %(first)s already reports %(code)s for %(period)s.")
                % {"first": duplicate, "code": row.target_code, "period": row.period},
            )
        if problems:
            continue
        row.existing = existing.get((target.pk, row.period))
        message = _action(row, user=user, status=status, permissions=permissions)
        if message:
            problem("period", message)
    if progress is not None:
        progress(len(rows))
    return existing


def _permission(permissions: dict, check: Callable, user, entry: ProgressEntry):
    """``check(user, entry)`` from targets.access, asked once per kind of entry: its answer
    depends only on the target, the entry's state and the user's hand in it."""
    key = (check, entry.target_id, entry.status, entry.author_id == user.pk,
           entry.last_editor_id == user.pk, entry.submitted_by_id == user.pk)
    if key not in permissions:
        permissions[key] = check(user, entry)
    return permissions[key]


def _action(row: EntryRow, *, user, status: str, permissions: dict) -> str:
    """What the row does to the entry already recorded for its period ("" when allowed, else
    why not): an import follows the workflow's permissions like a person on the screens."""
    entry = row.existing
    if entry is None:
        if status == EntryStatus.APPROVED:
            return _("Nothing to approve: %(code)s has no submitted entry for %(period)s. "
                     "Import it as submitted; another manager approves it.") % {
                "code": row.target_code, "period": row.period}
        row.action = "create"
        return ""
    entry.target = row.target  # the access checks read it: no query per row
    same = entry.value == row.value and (not row.note_given or entry.note == row.note)
    state = {"code": row.target_code, "state": entry.get_status_display().lower(),
             "period": row.period}
    if entry.status == EntryStatus.APPROVED or (
        entry.status == EntryStatus.SUBMITTED and status == EntryStatus.SUBMITTED
    ):
        if same:
            row.action = "unchanged"  # importing the same file again changes nothing
            return ""
        return _("%(code)s already has a %(state)s entry for %(period)s.") % state
    if status == EntryStatus.SUBMITTED:
        if not _permission(permissions, access.may_edit_entry, user, entry):
            return _("%(code)s already has a %(state)s entry for %(period)s.") % state
        row.action = "update"
        return ""
    if entry.status != EntryStatus.SUBMITTED:
        # A draft or returned entry goes through the review queue once submitted.
        return _("%(code)s has a %(state)s entry for %(period)s: it is reviewed in the "
                 "review queue once submitted.") % state
    if not same:
        return _("The file says %(file)s but the submitted entry says %(entry)s: an import "
                 "as approved approves submitted entries as they are. Return it in the review "
                 "queue to have it corrected.") % {
            "file": written(row.value, language=get_language()),
            "entry": written(entry.value, language=get_language())}
    refusal = _permission(permissions, access.review_refusal, user, entry)
    if refusal:
        return f"{refusal} ({row.target_code} {row.period})"
    row.action = "approve"
    return ""


# --- writing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int
    approved: int = 0
    targets: list[Target] = field(default_factory=list, compare=False)


def entries_import(
    *,
    user,
    content: bytes,
    filename: str,
    reassess: AlertSettings,
    status: str = EntryStatus.SUBMITTED,
    today: date | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Write a whole entries file, or nothing: ImportFailed lists every problem.

    Entries are recorded for ``user`` (the author of new ones, the last editor and submitter of
    what the file sets, the reviewer of what it approves). A report submitted by the import
    resolves its overdue alert; the targets of approved entries are re-assessed in one run,
    with the alert rules ``reassess``.
    """
    today = today or timezone.localdate()
    rows, existing = _checked(
        user=user, content=content, filename=filename, status=status, today=today,
        progress=progress,
    )
    return _import_checked(
        user=user, rows=rows, existing=existing, status=status, today=today, reassess=reassess
    )


def entry_rows_check(*, user, rows: list[EntryRow], status: str, today: date) -> None:
    """Give rows read from another kind of document (a DHIS2 data value set) their problems
    and actions, as the rows of an entries file get theirs: the same scope, period, value and
    workflow checks. A row that already has a problem is left as it is."""
    if status not in IMPORT_STATUSES:
        raise ImportFailed([Problem("", "status", _("Use submitted or approved."))])
    _check_rows(user=user, rows=rows, status=status, today=today, existing=None)


def entry_rows_import(
    *, user, rows: list[EntryRow], status: str, reassess: AlertSettings, today: date | None = None
) -> ImportResult:
    """Write rows read from another kind of document, all or nothing, exactly as
    ``entries_import`` writes a file's rows (ImportFailed lists every problem)."""
    today = today or timezone.localdate()
    if status not in IMPORT_STATUSES:
        raise ImportFailed([Problem("", "status", _("Use submitted or approved."))])
    existing = _check_rows(user=user, rows=rows, status=status, today=today, existing=None)
    return _import_checked(
        user=user, rows=rows, existing=existing, status=status, today=today, reassess=reassess
    )


def _import_checked(
    *,
    user,
    rows: list[EntryRow],
    existing: Existing,
    status: str,
    today: date,
    reassess: AlertSettings,
) -> ImportResult:
    _raise_problems(rows)
    checked = _fingerprint(existing)
    try:
        with transaction.atomic():
            return _write(
                user=user, rows=rows, status=status, today=today, checked=checked,
                reassess=reassess,
            )
    except IntegrityError:
        # Someone entered one of these periods between the check and the write.
        raise _file_problem(
            rows[0].filename,
            _("Entries for these periods were recorded while the file was imported; nothing "
              "was written: import the file again."),
        ) from None


def _raise_problems(rows: list[EntryRow]) -> None:
    problems = [p for row in rows for p in row.problems]
    if problems:
        raise ImportFailed(problems)


def _write(
    *,
    user,
    rows: list[EntryRow],
    status: str,
    today: date,
    checked: set[tuple],
    reassess: AlertSettings,
) -> ImportResult:
    # Lock the entries the file may change; had any changed since the check, check again.
    locked = _existing({r.target.pk for r in rows if r.target}, lock=True)
    if _fingerprint(locked) != checked:
        for row in rows:
            row.problems, row.action, row.existing = [], "", None
            row.period = row.found_period.key if row.found_period else row.period
        _check_rows(user=user, rows=rows, status=status, today=today, existing=locked)
        _raise_problems(rows)
    now = timezone.now()
    reason = shown(f"import of {rows[0].filename}", CHANGE_REASON_LENGTH)
    created: list[dict] = []
    updated, approved = [], []
    for row in rows:
        if row.action == "create":
            period = row.found_period
            created.append({
                "target_id": row.target.pk, "period": period.key, "period_start": period.start,
                "period_end": period.end, "value": row.value, "note": row.note,
                "status": EntryStatus.SUBMITTED, "author_id": user.pk, "last_editor_id": user.pk,
                "submitted_by_id": user.pk, "submitted_at": now,
            })
        elif row.action == "update":
            entry = row.existing
            if entry.value != row.value or (row.note_given and entry.note != row.note):
                entry.last_editor = user
            entry.value = row.value
            if row.note_given:
                entry.note = row.note
            entry.status = EntryStatus.SUBMITTED
            entry.submitted_by = user
            entry.submitted_at = now
            entry.version += 1
            entry.updated_at = now
            updated.append(entry)
        elif row.action == "approve":
            entry = row.existing
            entry.status = EntryStatus.APPROVED
            entry.reviewer = user
            entry.reviewed_at = now
            entry.review_comment = ""
            entry.version += 1
            entry.updated_at = now
            approved.append(entry)
    history = {"user": user, "reason": reason, "now": now}
    bulk.insert_with_history(ProgressEntry, created, **history)
    bulk.update_with_history(
        updated,
        ["value", "note", "status", "last_editor", "submitted_by", "submitted_at", "version",
         "updated_at"],
        **history,
    )
    bulk.update_with_history(
        approved,
        ["status", "reviewer", "reviewed_at", "review_comment", "version", "updated_at"],
        **history,
    )
    submitted = [(v["target_id"], v["period"]) for v in created]
    submitted += [(e.target_id, e.period) for e in updated]
    _settle_alerts(submitted, now=now)
    targets = list({e.target_id: e.target for e in approved}.values())
    if targets:
        # One run for all of them: each recipient gets one digest, not one per entry.
        targets_reassess(targets, alert_settings=reassess)
    return ImportResult(
        created=len(created), updated=len(updated), approved=len(approved),
        unchanged=sum(row.unchanged for row in rows), targets=targets,
    )


def _settle_alerts(submitted: list[tuple[int, str]], *, now: datetime) -> int:
    """The overdue alerts and reminders of the periods just submitted (target id, period) are
    resolved, as when a report is submitted on the screen (alerts.alerts_settle_period)."""
    periods = set(submitted)
    if not periods:
        return 0
    open_alerts = Alert.objects.filter(
        target_id__in={target_id for target_id, _period in periods},
        kind__in=(AlertKind.OVERDUE, AlertKind.REMINDER),
        resolved_at__isnull=True,
    ).values_list("pk", "target_id", "subject")
    settled = [pk for pk, target_id, subject in open_alerts if (target_id, subject) in periods]
    for chunk in _chunks(settled):
        Alert.objects.filter(pk__in=chunk).update(resolved_at=now)
    return len(settled)
