"""Fuzzing the entries importer and the entry form: never an uncaught exception, never a
partial write.

Every example runs in a savepoint that is rolled back, over the same recorded entries (a draft,
a submitted and an approved one). A file either imports as a whole or raises ImportFailed with
at least one problem and leaves the entries and their history exactly as they were; the form
answers 200 or 302, and a 200 has written nothing.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import openpyxl
import pytest
from django.urls import reverse
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from targets.errors import ImportFailed
from targets.models import ProgressEntry
from targets.services import imports as importing
from tests.alerting import RULES
from tests.conftest import rolled_back, submitted_entry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
TODAY = date(2026, 12, 2)


def snapshot() -> tuple:
    entries = sorted(
        ProgressEntry.objects.values_list("pk", "period", "value", "note", "status", "version")
    )
    return entries, ProgressEntry.history.count()


@pytest.fixture
def recorded(people):
    """A draft, a submitted and an approved entry of BX-IP, by staff; approved by the manager."""
    from targets.models import Target
    from targets.services import entries as workflow

    target = Target.objects.get(code="BX-IP")
    workflow.entry_save_draft(
        user=people["staff"], target_id=target.pk, period="2025-Q3", value="0"
    )
    submitted_entry(people["staff"], "BX-IP", "2025-Q4", "1")
    approved = submitted_entry(people["staff"], "BX-IP", "2026-Q1", "1")
    workflow.entries_approve(user=people["manager"], entry_ids=[approved.pk], reassess=None)
    return people


# --- cells: mostly plausible, sometimes anything ------------------------------------------

CODES = st.sampled_from(["BX-IP", "BX-OCC", "bx-ip", "NOPE", "", "BX-IP ", "BX\x00IP", "X" * 41])
PERIODS = st.sampled_from(
    ["2025-Q3", "2025-Q4", "2026-Q1", "2026-q2", "2026-Q4", "2029-Q4", "2019-Q1", "2026",
     "", "2026-13", "\x00"]
)
VALUES = st.sampled_from(
    ["0", "1", "-1", "15", "1.5", "22,5", "1.250", "1,250", "1 234,5", "85 %", "1e5", "",
     "99999999999999999", "0.00001", "NaN", "Infinity", "−3", "١٢", "1\x00"]
)
ANY_TEXT = st.text(max_size=30)
CELL = st.one_of(CODES, PERIODS, VALUES, ANY_TEXT)


def row_of(code, period, value, note) -> list[str]:
    return [code, period, value, note]


ROWS = st.lists(
    st.tuples(st.one_of(CODES, ANY_TEXT), st.one_of(PERIODS, ANY_TEXT),
              st.one_of(VALUES, ANY_TEXT), ANY_TEXT).map(lambda r: row_of(*r))
    | st.lists(CELL, max_size=6),
    max_size=12,
)
HEADERS = st.sampled_from(
    [["target", "period", "value", "note"], ["target", "period", "value"],
     ["Target", "PERIOD", "value", "note"], ["value", "target", "period"],
     ["target", "period"], ["target", "period", "value", "value"], []]
)


def csv_bytes(header: list[str], rows: list[list[str]], delimiter: str, encoding: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    for row in ([header] if header else []) + rows:
        writer.writerow(row)
    return buffer.getvalue().encode(encoding, errors="surrogatepass")


def assert_whole_or_nothing(user, content: bytes, filename: str, status: str) -> None:
    before = snapshot()
    with rolled_back():
        try:
            importing.entries_import(
                user=user, content=content, filename=filename, status=status, today=TODAY,
                reassess=RULES,
            )
        except ImportFailed as failed:
            assert failed.problems, "a failed import names at least one problem"
            assert all(p.message and "\x00" not in str(p) for p in failed.problems)
            assert snapshot() == before
    assert snapshot() == before  # the savepoint is gone: the next example starts the same


@FUZZ
@given(
    header=HEADERS,
    rows=ROWS,
    delimiter=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1258", "utf-16-le"]),
    who=st.sampled_from(["staff", "staff2", "manager", "outsider", "admin"]),
    status=st.sampled_from(["submitted", "approved", "draft"]),
)
def test_any_csv_imports_whole_or_names_its_problems(
    recorded, header, rows, delimiter, encoding, who, status
):
    try:
        content = csv_bytes(header, rows, delimiter, encoding)
    except UnicodeEncodeError:
        assume(False)
    assert_whole_or_nothing(recorded[who], content, "fuzz.csv", status)


@FUZZ
@given(content=st.binary(max_size=300), name=st.sampled_from(["f.csv", "f.xlsx", "f", "f.txt"]))
def test_any_bytes_import_whole_or_name_their_problems(recorded, content, name):
    assert_whole_or_nothing(recorded["manager"], content, name, "submitted")


XLSX_CELL = st.one_of(
    CODES.filter(lambda s: "\x00" not in s), PERIODS.filter(lambda s: "\x00" not in s),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(), st.none(),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1)),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"]), max_size=20),
)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=HEADERS, rows=st.lists(st.lists(XLSX_CELL, max_size=6), max_size=8),
       percent=st.booleans())
def test_any_xlsx_imports_whole_or_names_its_problems(recorded, header, rows, percent):
    book = openpyxl.Workbook()
    for row in ([header] if header else []) + rows:
        book.active.append(row)
    if percent:
        for cell in book.active["C"]:
            cell.number_format = "0.0%"
    buffer = io.BytesIO()
    try:
        book.save(buffer)
    except Exception:  # openpyxl cannot write every value: not the importer's business
        assume(False)
    assert_whole_or_nothing(recorded["manager"], buffer.getvalue(), "fuzz.xlsx", "submitted")


# --- the entry form -------------------------------------------------------------------------


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    period=st.one_of(PERIODS, ANY_TEXT),
    value=st.one_of(VALUES, ANY_TEXT),
    note=ANY_TEXT,
    language=st.sampled_from(["vi", "en"]),
    action=st.sampled_from(["draft", "submit"]),
    version=st.sampled_from(["", "0", "1", "2", "x", "-1"]),
)
def test_the_entry_form_answers_every_input_and_writes_whole_or_nothing(
    recorded, client, period, value, note, language, action, version
):
    client.force_login(recorded["staff"])
    client.cookies["django_language"] = language
    before = snapshot()
    with rolled_back():
        response = client.post(
            reverse("targets:report", args=["BX-IP"]),
            {"period": period, "value": value, "note": note, "action": action,
             "version": version, "opened_period": period},
        )
        assert response.status_code in (200, 302)
        if response.status_code == 200:
            assert snapshot() == before
    assert snapshot() == before
