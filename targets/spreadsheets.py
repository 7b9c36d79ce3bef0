"""Reading a CSV or XLSX file into rows of cells, or the problems that prevent it; writing the
exports so that no cell runs as a formula.

CSV: UTF-8 (with or without its byte-order mark) or UTF-16 with its byte-order mark (Excel's
"Unicode text"); separated by commas, by the semicolons of spreadsheet exports in locales that
write the decimal comma (Vietnamese), or by tabs — whichever makes sense of the header line.
XLSX: the first sheet; a number typed into a cell is kept as a number. Every file that cannot
be read raises ImportFailed with the reason and, where known, the line.
"""

from __future__ import annotations

import codecs
import csv
import io
import tempfile
from collections.abc import Collection, Iterator
from datetime import date, datetime
from decimal import Decimal
from itertools import chain, islice
from pathlib import Path
from typing import IO

import openpyxl
from django.http import FileResponse, HttpResponseBase, StreamingHttpResponse
from django.utils import translation
from django.utils.translation import gettext as _
from django_tables2.export import TableExport
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from tablib.formats._xlsx import safe_xlsx_sheet_title

from targets.errors import ImportFailed, Problem
from targets.numbers import shown

MAX_ROWS = 250_000  # lines of a file, the header and blank lines included
_DELIMITERS = (",", ";", "\t")

Cell = str | Decimal
Rows = list[tuple[int, list[Cell]]]


def _file_problem(filename: str, message: str) -> ImportFailed:
    return ImportFailed([Problem(filename, "", message)])


def read_rows(content: bytes, filename: str, *, columns: Collection[str] = ()) -> Rows:
    """The rows of a CSV or XLSX file, each with its line (CSV) or row number (XLSX).

    Text cells are stripped strings; a number typed into a spreadsheet cell is a Decimal (a
    cell formatted as a percentage holds a fraction, 85 % is 0.85: it is read as the
    percentage it shows).
    """
    suffix = Path(filename).suffix.lower()
    if content.startswith(b"PK\x03\x04"):  # a zip: an XLSX workbook, whatever its name
        return _xlsx_rows(content, filename)
    if suffix == ".xlsx":
        raise _file_problem(filename, _("This is not an XLSX workbook: save it again from "
                                        "the spreadsheet as .xlsx, or as CSV UTF-8."))
    if suffix not in (".csv", ".txt", ".tsv", ""):
        raise _file_problem(
            filename, _("Use a .csv or .xlsx file (got “%(s)s”).") % {"s": shown(suffix)}
        )
    return _csv_rows(_decoded(content, filename), filename, columns)


def _decoded(content: bytes, filename: str) -> str:
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"  # Excel's "Unicode text"
    else:
        encoding = "utf-8-sig"
        start = content[:2000]
        if start.count(b"\x00") > len(start) // 4:  # UTF-16 without its byte-order mark
            raise _file_problem(filename, _("The file is not UTF-8 text: save it as “CSV UTF-8”."))
    try:
        return content.decode(encoding)
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise _file_problem(
            filename,
            _("The file is not UTF-8 text (line %(line)d): save it as “CSV UTF-8”.")
            % {"line": line},
        ) from None


def _delimiter(text: str, columns: Collection[str]) -> str:
    """The separator of the header line: a comma, or the semicolon of spreadsheets in locales
    that write the decimal comma (Vietnamese), or a tab."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    best, known = ",", 0
    for delimiter in _DELIMITERS:
        cells = next(csv.reader([header], delimiter=delimiter), [])
        count = sum(cell.strip().lower() in columns for cell in cells)
        if count > known:
            best, known = delimiter, count
    return best


def _csv_rows(text: str, filename: str, columns: Collection[str]) -> Rows:
    # Strict: an unclosed quote is a problem, not a cell that swallows the rest of the file.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text, columns),
                        strict=True)
    rows: Rows = []
    try:
        for row in reader:
            rows.append((reader.line_num, [cell.strip() for cell in row]))
            if len(rows) > MAX_ROWS:
                raise _too_long(filename)
    except csv.Error as exc:
        place = _("%(file)s row %(row)d") % {"file": filename, "row": max(reader.line_num, 1)}
        raise ImportFailed(
            [Problem(place, "", _("Cannot read this line: %(error)s") % {"error": shown(str(exc))})]
        ) from None
    return rows


def _too_long(filename: str) -> ImportFailed:
    return _file_problem(
        filename,
        _("The file has more than %(max)d rows: split it into several files.") % {"max": MAX_ROWS},
    )


def _xlsx_rows(content: bytes, filename: str) -> Rows:
    # openpyxl raises many kinds of exception for a damaged workbook: each is a problem of it.
    try:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:
        raise _unreadable_xlsx(filename, exc) from None
    rows: Rows = []
    try:
        sheet = book.worksheets[0]
        # The sheet's own idea of its size may be a million columns: read the cells it has.
        sheet.reset_dimensions()
        for number, row in enumerate(sheet.iter_rows(), start=1):
            rows.append((number, [_xlsx_cell(cell) for cell in row]))
            if len(rows) > MAX_ROWS:
                raise _too_long(filename)
    except ImportFailed:
        raise
    except Exception as exc:
        raise _unreadable_xlsx(filename, exc) from None
    finally:
        book.close()
    return rows


def _unreadable_xlsx(filename: str, exc: Exception) -> ImportFailed:
    return _file_problem(
        filename, _("Cannot read the XLSX workbook: %(error)s") % {"error": shown(str(exc), 80)}
    )


def _xlsx_cell(cell) -> Cell:
    value = getattr(cell, "value", None)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        number = Decimal(value) if isinstance(value, int) else Decimal(format(value, ".15g"))
        if "%" in (getattr(cell, "number_format", "") or ""):
            number *= 100
        return number
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


# --- writing: the exports ------------------------------------------------------------------

# What makes a spreadsheet read a cell as a formula (OWASP "CSV injection"): =, +, -, @, and
# a tab or carriage return before any of them.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(cell: object) -> object:
    """A CSV cell that no spreadsheet runs: text starting with a formula character gets the
    leading apostrophe OWASP recommends (``=1+1`` → ``'=1+1``).

    Only text is user content: a number or a date (a Decimal, a date) is written as it is, so
    that −5 in a numeric column stays ``-5``, a number a spreadsheet reads as a number.
    """
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


class SafeTableExport(TableExport):
    """django-tables2's export of a table, streamed, with no cell that runs as a formula.

    CSV: formula-looking text gets the leading apostrophe (``neutralised``); the rows are
    written as they are read, in chunks. XLSX: openpyxl's write-only workbook, which keeps rows
    in a temporary file, not in memory; formula-looking text stays whole in a text cell marked
    "quote prefix" (Excel keeps it text when someone edits the cell), numbers and dates keep
    their types. Only these two formats: the others would not be neutralised.
    """

    CHUNK_ROWS = 500  # CSV rows a chunk of the streamed response holds

    def __init__(self, export_format, table, exclude_columns=None, dataset_kwargs=None) -> None:
        if not self.is_valid_format(export_format):
            raise TypeError(f'Export format "{export_format}" is not supported.')
        self.format = export_format
        self.table = table
        self.exclude_columns = exclude_columns
        title = (dataset_kwargs or {}).get("title")
        if title is None:
            title = str(table.Meta.model._meta.verbose_name_plural).title()
        self.title = title
        # The rows are read while the response is sent, after the view has returned: in the
        # language of the request, whatever the thread speaks by then.
        self.language = translation.get_language()

    @classmethod
    def is_valid_format(cls, export_format: str | None) -> bool:
        return export_format in (cls.CSV, cls.XLSX)

    def response(self, filename: str | None = None) -> HttpResponseBase:
        if self.format == self.CSV:
            response = StreamingHttpResponse(self._csv_chunks(), content_type=self.content_type())
        else:
            response = FileResponse(self._xlsx_file(), content_type=self.content_type())
        if filename is not None:
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def _rows(self) -> Iterator[list]:
        return self.table.as_values(exclude_columns=self.exclude_columns)

    def _csv_chunks(self) -> Iterator[bytes]:
        # The byte-order mark: without it Excel reads UTF-8 as the Windows code page and
        # garbles Vietnamese (LibreOffice and the imports read it either way).
        yield codecs.BOM_UTF8
        buffer = io.StringIO()
        writer = csv.writer(buffer)  # the dialect tablib wrote: commas, CRLF, minimal quoting
        with translation.override(self.language):
            for number, row in enumerate(self._rows(), start=1):
                writer.writerow([neutralised(cell) for cell in row])
                if number % self.CHUNK_ROWS == 0:
                    yield buffer.getvalue().encode()
                    buffer.seek(0)
                    buffer.truncate()
        yield buffer.getvalue().encode()

    def _xlsx_file(self) -> IO[bytes]:
        book = openpyxl.Workbook(write_only=True)
        sheet = book.create_sheet(safe_xlsx_sheet_title(self.title) or "Export")
        sheet.freeze_panes = "A2"
        bold = Font(bold=True)
        kinds = getattr(self.table, "export_kinds", lambda exclude: [])(self.exclude_columns)
        with translation.override(self.language):
            formats = [_xlsx_format(kind, self.language) for kind in kinds]
            rows = self._rows()
            header = next(rows)
            formats += [None] * (len(header) - len(formats))
            # Widths from the header and the first rows: a write-only sheet sets them before
            # its first row.
            sample = list(islice(rows, WIDTH_SAMPLE))
            for index, name in enumerate(header):
                longest = max([_shown_length(name)] + [_shown_length(r[index]) for r in sample])
                width = min(max(longest + 2, XLSX_MIN_WIDTH), XLSX_MAX_WIDTH)
                sheet.column_dimensions[get_column_letter(index + 1)].width = width
            sheet.append([_export_cell(sheet, name, bold) for name in header])
            count = 0
            for row in chain(sample, rows):
                sheet.append([
                    _export_cell(sheet, value) if number_format is None
                    else _formatted_cell(sheet, value, number_format)
                    for value, number_format in zip(row, formats, strict=True)
                ])
                count += 1
            # A filter button on each header cell, over every row.
            sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{count + 1}"
        # Closed by the FileResponse once sent.
        file = tempfile.TemporaryFile()  # noqa: SIM115
        try:
            book.save(file)
        except BaseException:
            file.close()
            raise
        file.seek(0)
        return file


XLSX_MIN_WIDTH, XLSX_MAX_WIDTH = 10, 50
WIDTH_SAMPLE = 200  # rows read ahead to size the columns


def _xlsx_format(kind: str | None, language: str | None) -> str | None:
    """The number format of a column's cells: percentages as 96 %, dates in the language's
    order (31/12/2030 in Vietnamese, 2030-12-31 otherwise: never the US month-first)."""
    if kind == "percent":
        return "0%"
    if kind == "date":
        return "dd/mm/yyyy" if (language or "").startswith("vi") else "yyyy-mm-dd"
    return None


def _shown_length(value: object) -> int:
    if value is None:
        return 0
    if isinstance(value, date):
        return 10
    return max((len(line) for line in str(value).splitlines()), default=0)


def _formatted_cell(sheet, value: object, number_format: str) -> WriteOnlyCell | object:
    if not isinstance(value, Decimal | date):  # empty, or text in a number column
        return _export_cell(sheet, value)
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = number_format
    return cell


def _export_cell(sheet, value: object, font: Font | None = None) -> WriteOnlyCell | object:
    """A value as an XLSX cell: text always a text cell, never a formula (openpyxl would
    store "=…" as one), marked "quote prefix" when it looks like a formula; numbers and dates
    as they are. Plain text stays a plain value: a cell object costs openpyxl several times
    more, and an export has 100,000 cells."""
    if not isinstance(value, str):
        return value
    # Control characters XML cannot hold (a text pasted from elsewhere): dropped, not a 500.
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    formula_like = value.startswith(FORMULA_STARTS)
    if font is None and not formula_like and "\n" not in value:
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    if font is not None:
        cell.font = font  # the header
    elif "\n" in value:
        cell.alignment = WRAP
    if formula_like:
        cell.quotePrefix = True
    return cell


WRAP = Alignment(wrap_text=True)


def xlsx_cells(sheet, values: list, kinds: list[str | None] | None = None,
               font: Font | None = None, language: str | None = None) -> list:
    """A row of a write-only sheet as the exports write it, for other workbooks (the
    periodic report): text never a formula, numbers and dates typed, each date in the
    language's order (``kinds``: "date", "percent" or None per value)."""
    kinds = kinds or [None] * len(values)
    cells = []
    for value, kind in zip(values, kinds, strict=True):
        number_format = _xlsx_format(kind, language)
        if number_format is None or font is not None:
            cells.append(_export_cell(sheet, value, font))
        else:
            cells.append(_formatted_cell(sheet, value, number_format))
    return cells


def xlsx_width(values: list) -> int:
    """A column's width for its longest value, within the exports' bounds."""
    longest = max((_shown_length(value) for value in values), default=0)
    return min(max(longest + 2, XLSX_MIN_WIDTH), XLSX_MAX_WIDTH)
