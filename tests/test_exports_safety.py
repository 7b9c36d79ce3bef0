"""The status table's exports: text that looks like a formula never runs as one (OWASP CSV
injection), and numbers stay numbers."""

import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from targets.models import Area, Target, Unit
from targets.services import entries as workflow
from targets.services.evaluation import targets_evaluate
from targets.services.plans import load_located, plan_import
from targets.spreadsheets import neutralised
from tests.alerting import RULES
from tests.conftest import TODAY, plan_operator, submitted_entry
from tests.test_views_status import exported

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
URL = reverse("targets:status")

PAYLOADS = ['=HYPERLINK("http://evil","x")', "+1+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1"]
# The exported columns a user or a plan file fills with text.
TEXT_COLUMNS = ("Target", "Unit of measure", "Responsible unit", "Area")
NUMBER_COLUMNS = ("Progress", "Actual", "Expected as of report", "Expected now", "Target value")


NEGATIVE_PLAN = """
plans:
  - code: NEG
    name: "Population"
    unit: LC-BATXAT
    start: 2025-07-01
    end: 2030-12-31
    areas:
      - {code: people, name: "People"}
    targets:
      - code: NEG-MIG
        name: "Net migration"
        area: people
        responsible_unit: LC-BATXAT-IND
        measure: "households"
        value_type: decimal
        min: -1000
        direction: at_most
        baseline: {value: 0, date: 2025-06-30}
        target: {value: -5, date: 2030-12-31}
        frequency: quarterly
"""


@pytest.fixture
def negative(assessed):
    """A target whose values are negative: -5 to reach, -2 reported and approved."""
    plan_import(data=load_located(NEGATIVE_PLAN), filename="negative.yaml", user=plan_operator())
    entry = submitted_entry(assessed["dept_staff"], "NEG-MIG", "2026-Q3", "-2")
    workflow.entry_approve(user=assessed["manager"], entry_id=entry.pk, reassess=None)
    targets_evaluate(on=TODAY, alert_settings=RULES)
    return assessed


def _hostile(text: str) -> None:
    """NEG-MIG named, measured and placed in a unit and an area called ``text``, in both
    languages."""
    Target.objects.filter(code="NEG-MIG").update(
        name=text, name_en=text, measure=text, measure_en=text
    )
    Unit.objects.filter(code="LC-BATXAT-IND").update(name=text, name_en=text)
    Area.objects.filter(targets__code="NEG-MIG").update(name=text, name_en=text)


def _csv_row(client, code: str) -> dict:
    response = client.get(URL, {"_export": "csv"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(exported(response).decode("utf-8-sig"), newline="")))
    return next(dict(zip(rows[0], row, strict=True)) for row in rows[1:] if row[0] == code)


def _xlsx_row(client, code: str) -> dict:
    response = client.get(URL, {"_export": "xlsx"})
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(exported(response))).active
    rows = list(sheet.iter_rows())
    header = [cell.value for cell in rows[0]]
    return next(dict(zip(header, row, strict=True)) for row in rows[1:] if row[0].value == code)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_csv_cells_that_look_like_formulas_start_with_an_apostrophe(client, negative, payload):
    _hostile(payload)
    client.force_login(negative["manager"])
    row = _csv_row(client, "NEG-MIG")
    for column in TEXT_COLUMNS:
        assert row[column] == "'" + payload, column
    # Numbers are not user text: a negative one stays a number a spreadsheet reads.
    assert (row["Target value"], row["Actual"]) == ("-5", "-2")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_xlsx_cells_that_look_like_formulas_are_text(client, negative, payload):
    _hostile(payload)
    client.force_login(negative["manager"])
    row = _xlsx_row(client, "NEG-MIG")
    # The text whole, a carriage return included (lxml writes it as &#13;).
    for column in TEXT_COLUMNS:
        cell = row[column]
        assert (cell.data_type, cell.value) == ("s", payload), column
        assert cell.quotePrefix, column  # Excel keeps it text when the cell is edited
    assert (row["Target value"].value, row["Actual"].value) == (-5, -2)
    for column in NUMBER_COLUMNS:
        assert row[column].data_type == "n", column
        assert isinstance(row[column].value, int | float), column


def test_no_cell_of_the_xlsx_is_a_formula(client, negative):
    _hostile("=1+1")
    client.force_login(negative["admin"])
    content = exported(client.get(URL, {"_export": "xlsx"}))
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    types = {cell.data_type for row in sheet.iter_rows() for cell in row}
    assert "f" not in types
    assert b"<f>" not in _sheet_xml(content)


def _sheet_xml(content: bytes) -> bytes:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(content)) as book:
        return book.read("xl/worksheets/sheet1.xml")


def test_plain_text_and_numbers_are_written_as_they_are(client, assessed):
    client.force_login(assessed["manager"])
    row = _csv_row(client, "BX-OCC")
    assert row["Target"] == "Occupancy of industrial zones"
    assert row["Target value"] == "80"
    xlsx = _xlsx_row(client, "BX-OCC")
    assert xlsx["Target"].value == "Occupancy of industrial zones"
    assert not xlsx["Target"].quotePrefix


@pytest.mark.parametrize(
    ("cell", "written"),
    [("=1", "'=1"), ("a=1", "a=1"), ("", ""), (Decimal("-5"), Decimal("-5")), (None, None),
     (" =1", " =1"), ("\n=1", "\n=1")],
)
def test_neutralised_touches_only_text_starting_with_a_formula_character(cell, written):
    assert neutralised(cell) == written


# --- exports people can open (issue 12) --------------------------------------------------


def test_the_csv_starts_with_the_utf8_byte_order_mark(client, assessed):
    client.force_login(assessed["manager"])
    content = exported(client.get(URL, {"_export": "csv"}))
    assert content.startswith(b"\xef\xbb\xbfCode,")  # so that Excel reads it as UTF-8
    assert content.count(b"\xef\xbb\xbf") == 1


def _xlsx_sheet(client):
    content = exported(client.get(URL, {"_export": "xlsx"}))
    return openpyxl.load_workbook(io.BytesIO(content)).active


@pytest.mark.parametrize(
    ("language", "date_format"), [("en", "yyyy-mm-dd"), ("vi", "dd/mm/yyyy")]
)
def test_the_xlsx_shows_percentages_and_dates_as_such(client, negative, language, date_format):
    from targets.models import Profile

    manager = negative["manager"]
    Profile.objects.update_or_create(user=manager, defaults={"language": language})
    client.force_login(manager)
    client.cookies["django_language"] = language
    sheet = _xlsx_sheet(client)
    rows = list(sheet.iter_rows())
    header = [cell.value for cell in rows[0]]
    row = dict(zip(header, next(r for r in rows[1:] if r[0].value == "NEG-MIG"), strict=True))
    # NEG-MIG: −2 of the way from 0 to −5 is 40 %, a number shown as a percentage.
    [share] = [cell for name, cell in row.items() if name in ("Progress", "Tiến độ")]
    assert (share.value, share.number_format, share.data_type) == (0.4, "0%", "n")
    due = next(cell for cell in row.values() if getattr(cell.value, "year", None) == 2030)
    assert (due.value.date().isoformat(), due.number_format) == ("2030-12-31", date_format)


def test_the_xlsx_header_is_frozen_and_filtered_and_columns_fit(client, negative):
    client.force_login(negative["admin"])
    sheet = _xlsx_sheet(client)
    rows = list(sheet.iter_rows())
    assert sheet.freeze_panes == "A2"
    last = rows[0][-1].column_letter
    assert sheet.auto_filter.ref == f"A1:{last}{len(rows)}"
    codes = [row[0].value for row in rows[1:]]
    assert sheet.column_dimensions["A"].width >= max(len(code) for code in codes) + 2
    for cell in rows[0]:  # no header is cut off
        assert sheet.column_dimensions[cell.column_letter].width >= min(len(cell.value) + 2, 50)
