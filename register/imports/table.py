"""A register file as a table: its header, its rows and the readers of their cells.

The file is read by ``targets.spreadsheets.read_rows`` (CSV in UTF-8 with or without its
byte-order mark, or UTF-16; commas, semicolons or tabs; XLSX), as the entries file is. Numbers
are read by ``targets.numbers.parse_number`` in any of the three notations a spreadsheet may
have written (1.234,5 · 1,234.5 · 1234.5), refusing a text two notations read differently.
Every reader raises WorkflowError with a message in the active language; ``Row.read`` turns it
into a problem next to its row and column.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import islice
from typing import Any

from django.db import models
from django.utils import translation
from django.utils.translation import gettext as _
from django_countries import countries

from register.models import Currency
from targets import rules
from targets.errors import ImportFailed, Problem, WorkflowError
from targets.numbers import IMPORT, has_control_characters, parse_number, shown, written
from targets.spreadsheets import Cell, read_rows

# A register file is read and written while the browser waits: at most this many rows (a
# register holds tens or hundreds of projects; the entries import hands larger files to a
# worker).
MAX_ROWS = 1000
_NOTE_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # a note keeps \t \n \r
_DAY_FIRST = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
YES = frozenset({"yes", "y", "true", "1", "x", "có", "co"})
NO = frozenset({"no", "n", "false", "0", "không", "khong", ""})


@dataclass
class Row:
    """One line of the file: its cells by column, the values read from them, its problems."""

    number: int  # the line in the file (the header is row 1)
    cells: dict[str, Cell]
    filename: str
    label: str = ""  # what the row is about (a project code, "code period")
    problems: list[Problem] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)  # read without a problem
    action: str = ""  # create | update | submit | unchanged
    record: Any = None  # what the row writes: the project, or the report's (project, period)

    @property
    def place(self) -> str:
        where = _("%(file)s row %(row)d") % {"file": self.filename, "row": self.number}
        return where.strip() + (f" ({shown(self.label, 50)})" if self.label else "")

    def given(self, column: str) -> bool:
        return column in self.cells

    def problem(self, column: str, message: str) -> None:
        self.problems.append(Problem(self.place, column, message, line=self.number))

    def failed(self, column: str) -> bool:
        return any(p.field == column for p in self.problems)

    def read(self, column: str, reader: Callable[[Cell], Any], *, required: bool = False,
             empty: Any = None) -> None:
        """Read ``column`` into ``values`` (``empty`` for an empty cell), or record its problem.
        A column the file does not have is left out of ``values``."""
        if column not in self.cells:
            return
        cell = self.cells[column]
        if cell == "":
            if required:
                self.problem(column, _("This column must not be empty."))
            else:
                self.values[column] = empty
            return
        try:
            self.values[column] = reader(cell)
        except WorkflowError as exc:
            self.problem(column, exc.message)


def rows_of(content: bytes, filename: str, *, columns: tuple[str, ...],
            required: tuple[str, ...]) -> list[Row]:
    """The rows of a register file under its header, or ImportFailed when the file cannot be
    read as such a table (no rows, missing, unknown or repeated columns, too many rows)."""
    lines = read_rows(content, filename, columns=columns)
    lines = [(number, cells) for number, cells in lines if any(c != "" for c in cells)]
    if not lines:
        raise ImportFailed([Problem(filename, "", _("The file has no rows."))])
    header_line, header_cells = lines[0]
    headers = [text(cell).lstrip("\ufeff").strip().lower() for cell in header_cells]
    place = _("%(file)s row %(row)d") % {"file": filename, "row": header_line}
    missing = [c for c in required if c not in headers]
    if missing:
        raise ImportFailed([Problem(
            place, "header",
            _("Missing column(s): %(cols)s. The header is %(header)s.")
            % {"cols": ", ".join(missing), "header": ",".join(columns)},
        )])
    unknown = [shown(h, 30) for h in headers if h and h not in columns]
    doubled = [h for h in columns if headers.count(h) > 1]
    if unknown or doubled:
        raise ImportFailed([Problem(
            place, "header",
            _("Unknown column(s): %(cols)s.") % {"cols": ", ".join(unknown)} if unknown
            else _("Column(s) named twice: %(cols)s.") % {"cols": ", ".join(doubled)},
        )])
    if len(lines) - 1 > MAX_ROWS:
        raise ImportFailed([Problem(filename, "", _(
            "The file has %(rows)d rows; a register file holds at most %(max)d: split it into "
            "several files.") % {"rows": len(lines) - 1, "max": MAX_ROWS})])
    index = {name: headers.index(name) for name in columns if name in headers}
    width = len(headers)
    rows = []
    for number, cells in islice(lines, 1, None):
        padded = cells + [""] * (width - len(cells))
        row = Row(number=number, cells={name: padded[i] for name, i in index.items()},
                  filename=filename)
        if any(c != "" for c in cells[width:]):
            row.problem("", _("This row has %(cells)d cells; the header has %(columns)d "
                              "columns.") % {"cells": len(cells), "columns": width})
        rows.append(row)
    if not rows:
        raise ImportFailed([Problem(filename, "", _("The file has no rows."))])
    return rows


# --- readers: a cell to a value, or WorkflowError ------------------------------------------


def text(cell: Cell) -> str:
    """A text cell; a number typed into it (a code 2030) as written."""
    return written(cell, source=IMPORT) if isinstance(cell, Decimal) else cell


def plain_text(cell: Cell) -> str:
    value = text(cell)
    if has_control_characters(value):
        raise WorkflowError(_("Contains control characters (such as a NUL byte): remove them."))
    return value


def note_text(cell: Cell) -> str:
    value = text(cell)
    if _NOTE_CONTROL.search(value):
        raise WorkflowError(_("Contains control characters (such as a NUL byte): remove them."))
    return value


def amount(cell: Cell) -> Decimal:
    """A number of 0 or more, in any notation."""
    value = parse_number(cell, language=None, source=IMPORT)
    if value < 0:
        raise WorkflowError(_("Give an amount, 0 or more."))
    return value


def whole(cell: Cell) -> int:
    value = parse_number(cell, language=None, source=IMPORT)
    if value < 0 or value != value.to_integral_value():
        raise WorkflowError(_("Give a whole number, 0 or more."))
    return int(value)


def signed(cell: Cell) -> Decimal:
    """A number that may be negative (a longitude)."""
    return parse_number(cell, language=None, source=IMPORT)


def day(cell: Cell) -> date:
    """A date as 2026-09-15 (an XLSX date cell reads so) or day first, 15/09/2026."""
    value = text(cell).strip()
    found = None
    try:
        found = date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        found = None
    match = _DAY_FIRST.fullmatch(value)
    if found is None and match:
        try:
            found = date(int(match[3]), int(match[2]), int(match[1]))
        except ValueError:
            found = None
    if found is None or not date(1900, 1, 1) <= found <= rules.LATEST_DATE:
        raise WorkflowError(_("“%(value)s” is not a date: write 2026-09-15 or 15/09/2026.")
                            % {"value": shown(value)})
    return found


def yes_no(cell: Cell) -> bool:
    value = text(cell).strip().lower()
    if value in YES:
        return True
    if value in NO:
        return False
    raise WorkflowError(_("“%(value)s”: write yes or no.") % {"value": shown(value)})


def currency(cell: Cell) -> str:
    value = text(cell).strip().upper()
    if value not in Currency.values:
        raise WorkflowError(_("“%(value)s” is not a currency of the register: VND or USD.")
                            % {"value": shown(value)})
    return value


def country(cell: Cell) -> str:
    """An ISO 3166 code (VN, VNM or 704) or a country's name in Vietnamese or English."""
    value = text(cell).strip()
    code = countries.alpha2(value) if len(value) <= 3 else ""
    for language in ("vi", "en"):
        code = code or countries.by_name(value, language=language)
    if not code:
        raise WorkflowError(_("“%(value)s” is not a country: write its ISO 3166 code (VN, CN, "
                              "KR…) or its name.") % {"value": shown(value)})
    return code


def choice(choices: type[models.TextChoices], message: str) -> Callable[[Cell], str]:
    """A reader of a value of ``choices``: its code, or its name in Vietnamese or English as
    the register shows it; ``message`` says what else to write (``%(value)s``, ``%(codes)s``)."""
    known: dict[str, str] = {}
    for value, label in choices.choices:
        known[value.lower()] = value
        for language in ("vi", "en"):
            with translation.override(language):
                known.setdefault(str(label).strip().lower(), value)

    def read(cell: Cell) -> str:
        value = text(cell).strip()
        if value.lower() not in known:
            raise WorkflowError(message % {"value": shown(value), "codes": ", ".join(
                choices.values)})
        return known[value.lower()]

    return read

