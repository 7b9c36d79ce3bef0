"""The periodic report as a file: a PDF to sign and send up, a DOCX and an XLSX to edit.

The three lay out the same ``Report`` (``targets.reports.content``): the header of an
administrative document (Decree 30/2020: the issuing unit and its number on the left, the
national emblem lines and the place–date line on the right), the title, the numbered sections
and the signature block. The PDF is WeasyPrint's rendering of an HTML template with the fonts
the project ships; the DOCX names Times New Roman, the font Decree 30 asks for and that every
office's word processor has.
"""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.shared import Mm, Pt
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from targets.reports.content import Report, Section
from targets.spreadsheets import xlsx_cells, xlsx_width

PDF = "pdf"
DOCX = "docx"
XLSX = "xlsx"
CONTENT_TYPES = {
    PDF: "application/pdf",
    DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FONT_FILES = {
    "regular": "fonts/LiberationSerif-Regular.ttf",
    "bold": "fonts/LiberationSerif-Bold.ttf",
    "italic": "fonts/LiberationSerif-Italic.ttf",
}


def report_file(report: Report, kind: str) -> bytes:
    return {PDF: report_pdf, DOCX: report_docx, XLSX: report_xlsx}[kind](report)


def report_filename(report: Report, kind: str) -> str:
    return f"report-{report.unit.code}-{report.period}.{kind}"


# --- PDF ----------------------------------------------------------------------------------------


def _font_uris() -> dict[str, str]:
    return {name: Path(finders.find(path)).as_uri() for name, path in FONT_FILES.items()}


def _fonts_only(fonts: dict[str, str]):
    """WeasyPrint's fetcher for the template's only resources, the shipped fonts: nothing else
    is read, from the disk or the network, whatever a text in the report says; a font that
    cannot be read stops the rendering rather than let the system's stand in."""
    from weasyprint.urls import URLFetcher

    allowed = set(fonts.values())

    class FontsOnly(URLFetcher):
        def fetch(self, url, headers=None):
            if url not in allowed:
                raise ValueError(f"The report loads only its fonts, not {url}")
            return super().fetch(url, headers)

    return FontsOnly(allowed_protocols={"file"}, fail_on_errors=True)


def report_pdf(report: Report) -> bytes:
    # Imported here: WeasyPrint loads Pango when imported, which the web screens do not need.
    from weasyprint import HTML

    fonts = _font_uris()
    html = render_to_string("reports/periodic_report.html", {"report": report, "fonts": fonts})
    # Without control characters: no font has a glyph for them, and the blank box drawn
    # instead breaks the text a reader copies or searches in the whole font.
    html = _xml(html)
    return HTML(string=html, url_fetcher=_fonts_only(fonts)).write_pdf()


# --- DOCX ---------------------------------------------------------------------------------------


def report_docx(report: Report) -> bytes:
    document = Document()
    normal = document.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(13)
    page = document.sections[0]
    page.page_width, page.page_height = Mm(210), Mm(297)
    page.top_margin = page.bottom_margin = Mm(20)
    page.left_margin, page.right_margin = Mm(30), Mm(15)

    def line(cell_or_doc, text: str, *, bold=False, italic=False, underline=False,
             align=WD_ALIGN_PARAGRAPH.CENTER, size: float | None = None, first=False):
        paragraph = cell_or_doc.paragraphs[0] if first else cell_or_doc.add_paragraph()
        paragraph.alignment = align
        paragraph.paragraph_format.space_after = Pt(0)
        run = paragraph.add_run(_xml(text))
        run.bold, run.italic, run.underline = bold, italic, underline
        if size:
            run.font.size = Pt(size)
        return paragraph

    header = document.add_table(rows=1, cols=2)
    issuer, nation = header.rows[0].cells
    if report.parent_name:
        line(issuer, report.parent_name.upper(), first=True)
        line(issuer, report.unit.localized("name").upper(), bold=True)
    else:
        line(issuer, report.unit.localized("name").upper(), bold=True, first=True)
    line(issuer, report.number_line)
    line(nation, report.emblem, bold=True, first=True, size=12)
    line(nation, report.motto, bold=True, underline=True)
    line(document, report.place_date, italic=True, align=WD_ALIGN_PARAGRAPH.RIGHT)

    line(document, "")
    line(document, report.title, bold=True, size=14)
    line(document, report.subtitle, bold=True)
    line(document, report.figures_date, italic=True, size=12)

    for number, section in report.numbered():
        if section.wide and page.orientation != WD_ORIENT.LANDSCAPE:
            page = document.add_section(WD_SECTION.NEW_PAGE)
            page.orientation = WD_ORIENT.LANDSCAPE
            page.page_width, page.page_height = Mm(297), Mm(210)
            page.left_margin = page.right_margin = Mm(20)
        line(document, f"{number}. {section.heading}", bold=True, align=WD_ALIGN_PARAGRAPH.LEFT)
        for note in section.notes:
            line(document, note, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
        if not section.rows:
            line(document, section.empty, align=WD_ALIGN_PARAGRAPH.LEFT)
            continue
        _docx_table(document, section)

    # The closing block of Decree 30: "Nơi nhận" and its list at the left, on the band of the
    # signers' titles, in one row that Word may not split across pages (after an empty line:
    # two tables that touch become one in Word).
    line(document, "")
    closing = document.add_table(rows=1, cols=3)
    row = closing.rows[0]
    row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
    recipients, *signers = row.cells
    line(
        recipients,
        _("Recipients:"),
        bold=True,
        italic=True,
        align=WD_ALIGN_PARAGRAPH.LEFT,
        size=12,
        first=True,
    )
    for index, recipient in enumerate(report.recipients, 1):
        end = "." if index == len(report.recipients) else ";"
        line(recipients, f"- {recipient}{end}", align=WD_ALIGN_PARAGRAPH.LEFT, size=11)
    for cell, title, hint in zip(
        signers,
        (_("PREPARED BY"), _("HEAD OF THE UNIT")),
        (_("(Signature, full name)"), _("(Signature, seal, full name)")),
        strict=True,
    ):
        line(cell, title, bold=True, first=True)
        line(cell, hint, italic=True)

    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _xml(text: str) -> str:
    """Text a DOCX can hold: without the control characters XML refuses (a text pasted into an
    explanation from elsewhere), which python-docx would raise on."""
    return ILLEGAL_CHARACTERS_RE.sub("", text)


def _docx_table(document, section: Section) -> None:
    table = document.add_table(rows=1, cols=len(section.columns))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, column in zip(table.rows[0].cells, section.columns, strict=True):
        run = cell.paragraphs[0].add_run(_xml(column.label))
        run.bold = True
        run.font.size = Pt(10)
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    for row in section.aligned_rows():
        cells = table.add_row().cells
        for cell, (value, numeric) in zip(cells, row, strict=True):
            cell.paragraphs[0].add_run(_xml(value.text)).font.size = Pt(10)
            if numeric:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT


# --- XLSX ---------------------------------------------------------------------------------------


def report_xlsx(report: Report) -> bytes:
    """One sheet, the document's lines from the top: the header, then each section's heading
    and table, figures as numbers and dates as dates (the screen's strings are in the PDF and
    the DOCX)."""
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(_("Report")[:31])
    bold = Font(bold=True)
    width = max(len(section.columns) for section in report.sections)
    # A write-only sheet sets its widths before its first row: from every table's cells.
    for index in range(width):
        values = [
            value
            for section in report.sections
            for value in (
                [section.columns[index].label] if index < len(section.columns) else []
            ) + [row[index].typed for row in section.rows if index < len(row)]
        ]
        sheet.column_dimensions[get_column_letter(index + 1)].width = xlsx_width(values)

    def text(value: str, font=None) -> None:
        sheet.append(xlsx_cells(sheet, [value], font=font))

    for value in (report.parent_name.upper(), report.unit.localized("name").upper(),
                  report.number_line, report.emblem, report.motto, report.place_date, ""):
        text(value)
    text(report.title, bold)
    text(report.subtitle, bold)
    text(report.figures_date)
    for number, section in report.numbered():
        text("")
        text(f"{number}. {section.heading}", bold)
        for note in section.notes:
            text(note)
        if not section.rows:
            text(section.empty)
            continue
        sheet.append(xlsx_cells(sheet, [c.label for c in section.columns], font=bold))
        kinds = [column.kind for column in section.columns]
        for row in section.rows:
            sheet.append(xlsx_cells(sheet, [cell.typed for cell in row], kinds,
                                    language=report.language))
    text("")
    text(_("Recipients:"), bold)
    for recipient in report.recipients:
        text(f"- {recipient}")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
