"""The entries file (DESIGN §7): ``target,period,value,note`` as CSV or XLSX, whole or nothing."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from targets import access
from targets.errors import ImportFailed, Problem, WorkflowError
from targets.models import EntryStatus, ProgressEntry, Target
from targets.numbers import parse_value
from targets.services.entries import AfterApproval, period_of

ENTRY_COLUMNS = ("target", "period", "value", "note")
IMPORT_STATUSES = (EntryStatus.SUBMITTED, EntryStatus.APPROVED)


@dataclass
class EntryRow:
    number: int  # the row's line in the file; the header is row 1
    target_code: str
    period: str
    value_text: str
    note: str
    problems: list[Problem]
    filename: str = ""
    target: Target | None = None
    value: Decimal | None = None
    existing: ProgressEntry | None = None
    unchanged: bool = False

    @property
    def place(self) -> str:
        label = " ".join(part for part in (self.target_code, self.period) if part)
        where = _("%(file)s row %(row)d") % {"file": self.filename, "row": self.number}
        return where.strip() + (f" ({label})" if label else "")


def read_rows(content: bytes, filename: str) -> list[tuple[int, list[str]]]:
    """The rows of a CSV or XLSX file, each with its line (CSV) or row number (XLSX).

    CSV is read with the csv module, XLSX with openpyxl. A spreadsheet cell formatted as
    a percentage holds a fraction (85 % is 0.85): it is read as the percentage it shows.
    """
    suffix = Path(filename).suffix.lower()
    if suffix == ".xlsx":
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            return [
                (number, [_xlsx_cell(cell) for cell in row])
                for number, row in enumerate(sheet.iter_rows(), start=1)
            ]
        finally:
            book.close()
    if suffix in (".csv", ".txt", ""):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ImportFailed(
                [Problem(filename, "", _("The file is not UTF-8 text: save it as CSV UTF-8."))]
            ) from None
        reader = csv.reader(io.StringIO(text, newline=""))
        return [(reader.line_num, [cell.strip() for cell in row]) for row in reader]
    raise ImportFailed(
        [Problem(filename, "", _("Use a .csv or .xlsx file (got “%(s)s”).") % {"s": suffix})]
    )


def _xlsx_cell(cell) -> str:
    value = getattr(cell, "value", None)
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        number = Decimal(str(value))
        if "%" in (getattr(cell, "number_format", "") or ""):
            number *= 100
        number = number.normalize()
        return format(number, "f")
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def entries_preview(
    *, user, content: bytes, filename: str, status: str = EntryStatus.SUBMITTED
) -> list[EntryRow]:
    """Every row of an entries file with its problems; writes nothing."""
    if status not in IMPORT_STATUSES:
        raise ImportFailed([Problem(filename, "status", _("Use submitted or approved."))])
    try:
        lines = read_rows(content, filename)
    except ImportFailed:
        raise
    except Exception as exc:  # csv and openpyxl raise many kinds for a broken file
        raise ImportFailed([Problem(filename, "", _("Cannot read the file: %s") % exc)]) from exc
    lines = [(number, cells) for number, cells in lines if any(cells)]
    if not lines:
        raise ImportFailed([Problem(filename, "", _("The file has no rows."))])
    header_line, header_cells = lines[0]
    headers = [cell.lower() for cell in header_cells]
    header_place = _("%(file)s row %(row)d") % {"file": filename, "row": header_line}
    missing = [c for c in ("target", "period", "value") if c not in headers]
    if missing:
        raise ImportFailed(
            [
                Problem(
                    header_place,
                    "header",
                    _("Missing column(s): %(cols)s. The header is target,period,value,note.")
                    % {"cols": ", ".join(missing)},
                )
            ]
        )
    unknown = [h for h in headers if h and h not in ENTRY_COLUMNS]
    if unknown:
        raise ImportFailed(
            [
                Problem(
                    header_place,
                    "header",
                    _("Unknown column(s): %(cols)s.") % {"cols": ", ".join(unknown)},
                )
            ]
        )
    index = {name: headers.index(name) for name in ENTRY_COLUMNS if name in headers}
    rows = []
    for number, cells in lines[1:]:
        padded = cells + [""] * (len(headers) - len(cells))
        row = EntryRow(
            number=number,
            target_code=padded[index["target"]],
            period=padded[index["period"]],
            value_text=padded[index["value"]],
            note=padded[index["note"]] if "note" in index else "",
            problems=[],
            filename=filename,
        )
        if any(cells[len(headers) :]):
            row.problems.append(
                Problem(
                    row.place,
                    "",
                    _("This row has %(cells)d cells; the header has %(columns)d columns.")
                    % {"cells": len(cells), "columns": len(headers)},
                )
            )
        rows.append(row)
    if not rows:
        raise ImportFailed([Problem(filename, "", _("The file has no rows."))])
    _check_rows(user=user, rows=rows, status=status)
    return rows


def _check_rows(*, user, rows: list[EntryRow], status: str) -> None:
    codes = {row.target_code for row in rows}
    targets = {
        t.code: t
        for t in Target.objects.filter(code__in=codes).select_related("responsible_unit")
    }
    enterable = set(access.targets_enterable_by(user).filter(code__in=codes).values_list(
        "code", flat=True
    ))
    reviewable = set(access.targets_reviewable_by(user).filter(code__in=codes).values_list(
        "code", flat=True
    ))
    existing = {
        (e.target.code, e.period): e
        for e in ProgressEntry.objects.filter(target__code__in=codes).select_related("target")
    }
    seen: dict[tuple[str, str], int] = {}
    for row in rows:
        def problem(field: str, message: str, row: EntryRow = row) -> None:
            row.problems.append(Problem(row.place, field, message))

        target = targets.get(row.target_code)
        if not row.target_code:
            problem("target", _("The target code is empty."))
        elif target is None or row.target_code not in enterable:
            # Outside the user's scope reads the same as unknown: no leak of codes.
            problem("target", _("Unknown target “%(code)s”.") % {"code": row.target_code})
            target = None
        elif status == EntryStatus.APPROVED and row.target_code not in reviewable:
            problem("target", _("You may not approve entries of %(code)s.") % {
                "code": row.target_code})
        row.target = target
        if target is not None:
            try:
                row.period = period_of(target, row.period).key
            except WorkflowError as exc:
                problem("period", exc.message)
            try:
                row.value = parse_value(row.value_text, target.value_type)
            except WorkflowError as exc:
                problem("value", exc.message)
        key = (row.target_code, row.period)
        if key in seen:
            problem(
                "period",
                _("Duplicate row: row %(first)s already reports %(code)s for %(period)s.")
                % {"first": seen[key], "code": row.target_code, "period": row.period},
            )
        else:
            seen[key] = row.number
        entry = existing.get(key)
        row.existing = entry
        if entry is not None and not row.problems:
            _check_existing(row, entry, user=user, status=status, problem=problem)


def _check_existing(row: EntryRow, entry: ProgressEntry, *, user, status: str, problem) -> None:
    """What an imported row may do to the entry already recorded for its target and period."""
    same = entry.value == row.value and entry.note == row.note
    settled = (EntryStatus.SUBMITTED, EntryStatus.APPROVED)
    if same and (entry.status == status or entry.status in settled):
        row.unchanged = True  # importing the same file again changes nothing
        return
    state = {
        "code": row.target_code,
        "state": entry.get_status_display().lower(),
        "period": row.period,
    }
    if entry.status in settled:
        problem("period", _("%(code)s already has a %(state)s entry for %(period)s.") % state)
    elif status == EntryStatus.APPROVED:
        # An import may approve only values nobody has entered yet: an entry being prepared
        # goes through the review queue, and nobody approves their own entry.
        if entry.author_id == user.pk:
            problem("period", _("Nobody approves their own entry (%(code)s %(period)s).") % state)
        else:
            problem(
                "period",
                _("%(code)s has a %(state)s entry for %(period)s: it is reviewed in the "
                  "review queue once submitted.") % state,
            )


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int


@transaction.atomic
def entries_import(
    *,
    user,
    content: bytes,
    filename: str,
    status: str = EntryStatus.SUBMITTED,
    after_approval: AfterApproval | None = None,
) -> ImportResult:
    """Write a whole entries file, or nothing: ImportFailed lists every problem."""
    rows = entries_preview(user=user, content=content, filename=filename, status=status)
    problems = [p for row in rows for p in row.problems]
    if problems:
        raise ImportFailed(problems)
    created = updated = unchanged = 0
    now = timezone.now()
    approved_targets: dict[int, Target] = {}
    for row in rows:
        if row.unchanged:
            unchanged += 1
            continue
        assert row.target is not None and row.value is not None
        period = period_of(row.target, row.period)
        entry = row.existing or ProgressEntry(target=row.target, author=user)
        if row.existing is None:
            created += 1
        else:
            updated += 1
        entry.period = period.key
        entry.period_start = period.start
        entry.period_end = period.end
        entry.value = row.value
        entry.last_editor = entry.submitted_by = user
        entry.note = row.note
        entry.status = status
        entry.submitted_at = now
        if status == EntryStatus.APPROVED:
            # Only new entries are approved by an import (_check_existing). Their values come
            # from the file, so the `import` account is their author and the importing manager
            # their reviewer: nobody is both. The command line's own account (no --user)
            # approves as an operator and is recorded as nobody's reviewer.
            entry.author = import_account()
            entry.reviewed_at = now
            entry.review_comment = ""
            entry.reviewer = None if user.username == IMPORT_AUTHOR else user
            entry.last_editor = entry.submitted_by = entry.author
            approved_targets[row.target.pk] = row.target
        entry._change_reason = f"import of {filename}"
        entry._history_user = user
        entry.save()
    if after_approval is not None and approved_targets:
        after_approval(list(approved_targets.values()))
    return ImportResult(created=created, updated=updated, unchanged=unchanged)


IMPORT_AUTHOR = "import"


def import_account():
    """The account of the command-line import: an operator, not a person; it cannot sign in."""
    user, _created = get_user_model().objects.get_or_create(
        username=IMPORT_AUTHOR,
        defaults={
            "is_active": False,
            "is_superuser": True,
            "first_name": "Import",
            "last_name": "(command line)",
        },
    )
    return user
