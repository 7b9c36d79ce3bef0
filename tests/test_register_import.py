"""Importing projects and project reports from CSV and XLSX (issue 14): the preview lists every
problem next to its row and column and writes nothing; a good file writes everything through
the workflow; staff and managers keep their scopes; a preview made stale by someone else's
change is refused on confirming; any file answers without a 500 and never half-writes.
Also the investor's country from django-countries, named in the reader's language."""

from __future__ import annotations

import codecs
import csv
import io
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse
from django.utils import translation
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from register import services
from register.imports import register_import_confirm, register_import_preview
from register.models import Park, Project, ProjectReport, RegisterUpload
from targets.errors import ImportFailed, NotAllowed
from targets.models import EntryStatus, Role, Unit
from tests.conftest import make_user, rolled_back

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 24)  # 2026-Q4 has begun; 2026-Q3 ended on 30/09/2026
REPORT_HEADER = ["project", "period", "stage", "stage_date", "registered_capital",
                 "disbursed_capital", "jobs_filled", "currency", "note", "submit"]
PROJECT_HEADER = ["code", "name", "name_en", "investor", "investor_country", "sector", "unit",
                  "park", "registered_capital", "registered_currency", "disbursed_capital",
                  "stage", "stage_date", "jobs_planned"]


def _project(code: str, unit: Unit, currency: str = "VND", **extra) -> Project:
    values = {"name": f"Dự án {code}", "investor": "Công ty A", "investor_country": "VN",
              "sector": "trade", "registered_capital": Decimal(100), "stage": "proposed",
              "stage_date": date(2026, 1, 10), "registered_currency": currency,
              "disbursed_currency": currency, **extra}
    return Project.objects.create(code=code, unit=unit, **values)


@pytest.fixture
def register(people, small_plan):
    """Two Bat Xat projects (one in VND, one in USD, the latter with an approved report for
    2026-Q2), a project of the industry department below it, one of Lai Chau, and a park."""
    units = small_plan
    park = Park.objects.create(code="KCN-1", name="Khu công nghiệp Một", kind="industrial_park",
                               unit=units["LC-BATXAT"], industrial_land_ha=100)
    _project("P-BX1", units["LC-BATXAT"])
    usd = _project("P-BX2", units["LC-BATXAT"], "USD")
    _project("P-IND", units["LC-BATXAT-IND"])
    _project("P-LCH", units["LCH"])
    report = services.project_report_save_draft(
        user=people["staff"], project_id=usd.pk, period="2026-Q2", stage="policy_approved",
        stage_date="2026-05-01", registered_capital=5, disbursed_capital=0, jobs_filled=0,
        today=TODAY,
    )
    services.project_report_submit(user=people["staff"], report_id=report.pk)
    services.project_report_approve(user=people["manager"], report_id=report.pk, reassess=None)
    return {**people, "park": park}


def csv_file(header: list[str], rows: list[list], *, delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    return codecs.BOM_UTF8 + buffer.getvalue().encode()


def xlsx_file(header: list[str], rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    book.active.append(header)
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def snapshot() -> tuple:
    """Everything an import could write: projects, reports and their history, uploads."""
    projects = sorted(Project.objects.values_list(
        "code", "name", "investor", "investor_country", "unit_id", "park_id", "stage",
        "stage_date", "registered_capital", "disbursed_capital", "jobs_filled"))
    reports = sorted(ProjectReport.objects.values_list(
        "pk", "period", "stage", "stage_date", "registered_capital", "status", "version"))
    return (projects, Project.history.count(), reports, ProjectReport.history.count())


def problems_of(preview) -> set[tuple[int, str]]:
    return {(p.line, p.field) for row in preview.rows for p in row.problems}


def messages_of(preview) -> dict[tuple[int, str], str]:
    return {(p.line, p.field): p.message for row in preview.rows for p in row.problems}


# --- project reports: every problem, nothing written ----------------------------------------

BAD_REPORTS = [
    ["NOPE", "2026-Q3", "operating", "2026-09-01", "100", "0", "0", "", "", ""],  # 2
    ["P-LCH", "2026-Q3", "operating", "2026-09-01", "100", "0", "0", "", "", ""],  # 3
    ["P-BX1", "2026-Q5", "operating", "2026-09-01", "100", "0", "0", "", "", ""],  # 4
    ["P-BX1", "2027-Q1", "operating", "2026-09-01", "100", "0", "0", "", "", ""],  # 5
    ["P-BX1", "2026-Q3", "built", "2026-10-01", "-5", "1.250", "2.5", "USD", "", "maybe"],  # 6
    ["P-BX1", "2026-Q2", "proposed", "2026-01-10", "100", "0", "0", "", "", ""],  # 7
    ["P-BX1", "2026-Q2", "proposed", "2026-01-10", "100", "0", "0", "", "", ""],  # 8
    ["P-BX2", "2026-Q2", "operating", "2026-05-01", "5", "0", "0", "USD", "", ""],  # 9
    ["P-BX1", "2026-Q4", "proposed", "2026-12-01", "100", "0", "0", "", "", ""],  # 10
    ["P-BX1", "2026-Q1", "", "31/02/2026", "", "0", "0", "", "", ""],  # 11
]


def test_a_report_file_with_bad_rows_lists_every_problem_and_writes_nothing(register,
                                                                           in_english):
    before = snapshot()
    preview = register_import_preview(
        user=register["staff"], kind="reports", content=csv_file(REPORT_HEADER, BAD_REPORTS),
        filename="reports.csv", today=TODAY)
    assert problems_of(preview) == {
        (2, "project"), (3, "project"), (4, "period"), (5, "period"),
        (6, "stage"), (6, "stage_date"), (6, "registered_capital"), (6, "disbursed_capital"),
        (6, "jobs_filled"), (6, "currency"), (6, "submit"),
        (8, "period"), (9, "period"), (10, "stage_date"),
        (11, "stage"), (11, "stage_date"), (11, "registered_capital"),
    }
    message = messages_of(preview)
    assert message[(2, "project")] == "Unknown project “NOPE”."
    # Lai Chau's project does not exist for a Bat Xat staff member: no leak.
    assert message[(3, "project")] == "Unknown project “P-LCH”."
    assert message[(4, "period")] == "“2026-Q5” is not a quarter: write it as 2026-Q3."
    assert message[(5, "period")] == (
        "2027-Q1 has not started yet: it can be reported from 1 Jan 2027.")
    assert message[(6, "stage")].startswith("“built” is not a stage: write one of proposed, ")
    assert message[(6, "stage_date")] == (
        "The stage date must be on or before the end of 2026-Q3 and not in the future.")
    assert message[(6, "registered_capital")] == "Give an amount, 0 or more."
    assert message[(6, "disbursed_capital")].startswith("“1.250” can be read two ways")
    assert message[(6, "jobs_filled")] == "Give a whole number, 0 or more."
    assert message[(6, "currency")] == (
        "The capital of P-BX1 is in VND, not USD: amounts are never converted.")
    assert message[(6, "submit")] == "“maybe”: write yes or no."
    assert message[(8, "period")] == (
        "Duplicate row: row 7 already reports P-BX1 for 2026-Q2.")
    assert message[(9, "period")] == (
        "The report of P-BX2 for 2026-Q2 is approved and can no longer change.")
    # In the current quarter, but after today.
    assert message[(10, "stage_date")] == (
        "The stage date must be on or before the end of 2026-Q4 and not in the future.")
    assert message[(11, "stage")] == "This column must not be empty."
    assert message[(11, "stage_date")] == (
        "“31/02/2026” is not a date: write 2026-09-15 or 15/09/2026.")
    assert preview.problem_count == 17 and preview.upload is None
    assert str(preview.rows[4].problems[0].place) == "reports.csv row 6 (P-BX1 2026-Q3)"
    assert snapshot() == before
    assert not RegisterUpload.objects.exists()


def test_a_file_that_is_not_a_table_of_reports_says_why(register, in_english):
    preview = register_import_preview(
        user=register["staff"], kind="reports",
        content=csv_file(["project", "period", "colour"], [["P-BX1", "2026-Q3", "red"]]),
        filename="x.csv", today=TODAY)
    (problem,) = preview.file_problems
    assert problem.field == "header"
    assert problem.message == (
        "Missing column(s): stage, stage_date, registered_capital, disbursed_capital, "
        "jobs_filled. The header is project,period,stage,stage_date,registered_capital,"
        "disbursed_capital,jobs_filled,currency,note,submit.")
    preview = register_import_preview(
        user=register["staff"], kind="reports",
        content=csv_file([*REPORT_HEADER, "colour"], []), filename="x.csv", today=TODAY)
    assert preview.file_problems[0].message == "Unknown column(s): colour."


# --- project reports: a good file -----------------------------------------------------------

GOOD_REPORTS = [
    # Vietnamese notation, a Vietnamese stage name, a day-first date, submitted for review.
    ["P-BX1", "2026-Q2", "Đã chấp thuận chủ trương đầu tư", "15/05/2026", "120,5", "10",
     "3", "VND", "Quý 2", "có"],
    ["P-BX1", "2026-q3", "certificate_issued", "2026-08-20", "1.234.567,25", "20", "7", "",
     "", ""],
    # English notation for the USD project.
    ["P-BX2", "2026-Q3", "Land handed over", "2026-09-30", "5,000,000.5", "1", "0", "usd", "",
     "no"],
]


def test_a_good_report_file_writes_every_row_as_drafts_and_submits_when_asked(register):
    staff = register["staff"]
    preview = register_import_preview(
        user=staff, kind="reports", content=csv_file(REPORT_HEADER, GOOD_REPORTS, delimiter=";"),
        filename="reports.csv", today=TODAY)
    assert preview.problem_count == 0 and not preview.file_problems
    assert [row.action for row in preview.rows] == ["create", "create", "create"]
    assert preview.actions == {"create": 3}
    result = register_import_confirm(user=staff, upload_id=preview.upload.pk, today=TODAY)
    assert (result.created, result.updated, result.submitted, result.unchanged) == (3, 0, 1, 0)
    reports = {(r.project.code, r.period): r for r in ProjectReport.objects.filter(
        project__code__in=["P-BX1", "P-BX2"]).exclude(period="2026-Q2", project__code="P-BX2")}
    q2 = reports[("P-BX1", "2026-Q2")]
    assert (q2.status, q2.stage, q2.stage_date, q2.registered_capital, q2.disbursed_capital,
            q2.jobs_filled, q2.note) == (
        EntryStatus.SUBMITTED, "policy_approved", date(2026, 5, 15), Decimal("120.5"),
        Decimal(10), 3, "Quý 2")
    assert (q2.author, q2.last_editor, q2.submitted_by, q2.version) == (staff, staff, staff, 2)
    q3 = reports[("P-BX1", "2026-Q3")]
    assert (q3.status, q3.registered_capital, q3.version) == (
        EntryStatus.DRAFT, Decimal("1234567.25"), 1)
    usd = reports[("P-BX2", "2026-Q3")]
    assert (usd.status, usd.stage, usd.registered_capital) == (
        EntryStatus.DRAFT, "land_handed_over", Decimal("5000000.5"))
    assert not RegisterUpload.objects.exists()  # used once
    # Four eyes: the staff member who submitted it may not approve it; the manager does.
    with pytest.raises(NotAllowed):
        services.project_report_approve(user=staff, report_id=q2.pk, reassess=None)
    services.project_report_approve(user=register["manager"], report_id=q2.pk, reassess=None)
    assert Project.objects.get(code="P-BX1").stage == "policy_approved"


def test_importing_the_same_reports_again_changes_nothing_and_the_box_submits_drafts(
    register,
):
    staff = register["staff"]
    content = xlsx_file(REPORT_HEADER, [
        ["P-BX1", "2026-Q3", "proposed", date(2026, 2, 1), 100, 0, 0, None, "đầu kỳ", None],
    ])
    preview = register_import_preview(user=staff, kind="reports", content=content,
                                      filename="q3.xlsx", today=TODAY)
    register_import_confirm(user=staff, upload_id=preview.upload.pk, today=TODAY)
    before = snapshot()
    preview = register_import_preview(user=staff, kind="reports", content=content,
                                      filename="q3.xlsx", today=TODAY)
    assert [row.action for row in preview.rows] == ["unchanged"]
    result = register_import_confirm(user=staff, upload_id=preview.upload.pk, today=TODAY)
    assert (result.created, result.updated, result.unchanged, result.submitted) == (0, 0, 1, 0)
    assert snapshot() == before
    # The box on the confirmation submits the drafts the file leaves.
    preview = register_import_preview(user=staff, kind="reports", content=content,
                                      filename="q3.xlsx", today=TODAY)
    result = register_import_confirm(user=staff, upload_id=preview.upload.pk, today=TODAY,
                                     submit_all=True)
    assert result.submitted == 1
    report = ProjectReport.objects.get(project__code="P-BX1", period="2026-Q3")
    assert (report.status, report.note, report.version) == (EntryStatus.SUBMITTED, "đầu kỳ", 2)
    # Submitted now: the same row changes nothing, a different one is refused.
    preview = register_import_preview(user=staff, kind="reports", content=content,
                                      filename="q3.xlsx", today=TODAY)
    assert [row.action for row in preview.rows] == ["unchanged"]
    changed = xlsx_file(REPORT_HEADER, [
        ["P-BX1", "2026-Q3", "proposed", date(2026, 2, 1), 101, 0, 0, None, "đầu kỳ", None],
    ])
    preview = register_import_preview(user=staff, kind="reports", content=changed,
                                      filename="q3.xlsx", today=TODAY)
    assert [p.field for p in preview.rows[0].problems] == ["period"]


# --- scopes ----------------------------------------------------------------------------------


def test_reports_follow_the_entry_scopes(register, in_english):
    rows = [["P-BX1", "2026-Q3", "proposed", "2026-02-01", "100", "0", "0", "", "", ""],
            ["P-IND", "2026-Q3", "proposed", "2026-02-01", "100", "0", "0", "", "", ""],
            ["P-LCH", "2026-Q3", "proposed", "2026-02-01", "100", "0", "0", "", "", ""]]
    content = csv_file(REPORT_HEADER, rows)

    def refused(user) -> dict[str, str]:
        preview = register_import_preview(user=user, kind="reports", content=content,
                                          filename="r.csv", today=TODAY)
        return {row.values.get("project"): row.problems[0].message
                for row in preview.rows if row.problems}

    # Staff report for their own unit only; they see the department's project below it.
    assert refused(register["staff"]) == {
        "P-IND": "You may not report on P-IND: its reports come from Industry department.",
        "P-LCH": "Unknown project “P-LCH”.",
    }
    assert refused(register["dept_staff"]) == {
        "P-BX1": "Unknown project “P-BX1”.", "P-LCH": "Unknown project “P-LCH”."}
    # Managers report for their subtree; the superuser for everything.
    assert refused(register["manager"]) == {"P-LCH": "Unknown project “P-LCH”."}
    assert refused(register["admin"]) == {}


def _projects_file(rows: list[list], fmt: str = "xlsx") -> tuple[bytes, str]:
    if fmt == "xlsx":
        return xlsx_file(PROJECT_HEADER, rows), "projects.xlsx"
    return csv_file(PROJECT_HEADER, rows), "projects.csv"


NEW_PROJECT = ["P-NEW", "Nhà máy chế biến chè", "Tea factory", "Công ty B", "Trung Quốc",
               "Chế biến nông sản", "LC-BATXAT", "KCN-1", "2.500.000.000", "VND", "0",
               "certificate_issued", "2026-03-01", "40"]


def test_a_manager_creates_and_updates_projects_from_an_xlsx_file(register):
    manager = register["manager"]
    content, name = _projects_file([
        NEW_PROJECT,
        # P-BX1: a new investor name and the industry department's unit, same figures.
        ["P-BX1", "Dự án P-BX1", "", "Công ty A mới", "VN", "trade", "LC-BATXAT-IND", "", 100,
         "VND", 0, "proposed", date(2026, 1, 10), 0],
        # P-IND exactly as it is.
        ["P-IND", "Dự án P-IND", "", "Công ty A", "vn", "Trade", "LC-BATXAT-IND", "", 100,
         "VND", 0, "Proposed", "10/01/2026", 0],
    ])
    preview = register_import_preview(user=manager, kind="projects", content=content,
                                      filename=name, today=TODAY)
    assert preview.problem_count == 0, [str(p) for r in preview.rows for p in r.problems]
    assert [row.action for row in preview.rows] == ["create", "update", "unchanged"]
    history = Project.history.count()
    result = register_import_confirm(user=manager, upload_id=preview.upload.pk, today=TODAY)
    assert (result.created, result.updated, result.unchanged) == (1, 1, 1)
    new = Project.objects.get(code="P-NEW")
    assert (new.name_en, new.investor_country, new.sector, new.unit.code, new.park.code,
            new.registered_capital, new.disbursed_currency, new.jobs_planned, new.stage) == (
        "Tea factory", "CN", "agricultural_processing", "LC-BATXAT", "KCN-1",
        Decimal(2_500_000_000), "VND", 40, "certificate_issued")
    moved = Project.objects.get(code="P-BX1")
    assert (moved.investor, moved.unit.code) == ("Công ty A mới", "LC-BATXAT-IND")
    assert Project.history.count() == history + 2
    row = Project.history.get(code="P-NEW")
    assert (row.history_user, row.history_change_reason) == (manager, "import of projects.xlsx")


def test_staff_may_not_create_or_change_projects(register, client, in_english):
    content, name = _projects_file([NEW_PROJECT], fmt="csv")
    preview = register_import_preview(user=register["staff"], kind="projects", content=content,
                                      filename=name, today=TODAY)
    assert messages_of(preview) == {(2, "unit"): (
        "Only the managers of Bat Xat commune (or of a unit above it) create and change its "
        "projects.")}
    # Their screen does not offer projects at all.
    client.force_login(register["staff"])
    page = client.get(reverse("register:import"))
    assert [value for value, _label in page.context["form"].fields["kind"].choices] == [
        "reports"]
    assert "register/import/template/projects.csv" not in page.content.decode()


def test_managers_create_projects_in_their_subtree_only(register, in_english):
    lch = ["P-NEW2", *NEW_PROJECT[1:6], "LCH", "KCN-1", "1", "VND", "0", "proposed",
           "2026-03-01", "0"]
    department = ["P-NEW3", *NEW_PROJECT[1:6], "LC-BATXAT-IND", "KCN-1", "1", "VND", "0",
                  "proposed", "2026-03-01", "0"]
    content, name = _projects_file([lch, department], fmt="csv")
    # The Bat Xat manager: Lai Chau does not exist for him; the park is in the unit above the
    # department, as the model allows.
    preview = register_import_preview(user=register["manager"], kind="projects",
                                      content=content, filename=name, today=TODAY)
    assert messages_of(preview) == {(2, "unit"): "Unknown unit “LCH”."}
    # The Lai Chau manager: the reverse, and the Bat Xat park is not above his unit.
    preview = register_import_preview(user=register["outsider"], kind="projects",
                                      content=content, filename=name, today=TODAY)
    assert messages_of(preview) == {
        (2, "park"): "The park is not in the project's unit or above it.",
        (3, "unit"): "Unknown unit “LC-BATXAT-IND”.",
    }
    # Someone else's project code is not taken over.
    taken = ["P-LCH", *NEW_PROJECT[1:]]
    content, name = _projects_file([taken], fmt="csv")
    preview = register_import_preview(user=register["manager"], kind="projects",
                                      content=content, filename=name, today=TODAY)
    assert messages_of(preview) == {(2, "code"): (
        "The code P-LCH is already used by a project outside your units: choose another.")}


def test_the_figures_of_a_project_with_approved_reports_change_only_through_reports(
    register, in_english,
):
    # P-BX2 has an approved report for 2026-Q2: policy approved on 01/05/2026, 5 USD.
    row = ["P-BX2", "Dự án P-BX2", "", "Công ty A", "VN", "trade", "LC-BATXAT", "", "7", "USD",
           "0", "operating", "2026-05-01", "0"]
    content, name = _projects_file([row], fmt="csv")
    preview = register_import_preview(user=register["manager"], kind="projects",
                                      content=content, filename=name, today=TODAY)
    message = ("P-BX2 has approved reports: its stage, stage date, capital and jobs filled "
               "change through project reports (import them as reports), not here.")
    assert messages_of(preview) == {(2, "registered_capital"): message, (2, "stage"): message}
    # Its other columns may change, with the figures as they stand.
    row[1], row[8], row[11] = "Tên mới", "5", "policy_approved"
    content, name = _projects_file([row], fmt="csv")
    preview = register_import_preview(user=register["manager"], kind="projects",
                                      content=content, filename=name, today=TODAY)
    assert [r.action for r in preview.rows] == ["update"]


def test_bad_project_rows_list_every_problem(register, in_english):
    rows = [
        ["bad code!", "", "", "Công ty", "Atlantis", "mining", "NOPE", "NO-PARK", "abc", "EUR",
         "-1", "built", "2026-13-01", "1.5"],
        ["P-X", "Dự án", "", "Công ty", "VN", "trade", "LC-BATXAT", "", "100", "USD", "10",
         "proposed", "2026-01-01", "0"],
        ["P-X", "Dự án", "", "Công ty", "VN", "trade", "LC-BATXAT", "", "100", "VND", "0",
         "proposed", "2026-01-01", "0"],
    ]
    before = snapshot()
    preview = register_import_preview(
        user=register["manager"], kind="projects",
        content=csv_file(PROJECT_HEADER, rows), filename="p.csv", today=TODAY)
    assert problems_of(preview) == {
        (2, "code"), (2, "name"), (2, "investor_country"), (2, "sector"), (2, "unit"),
        (2, "park"), (2, "registered_capital"), (2, "registered_currency"),
        (2, "disbursed_capital"), (2, "stage"), (2, "stage_date"), (2, "jobs_planned"),
        (4, "code"),
    }
    message = messages_of(preview)
    assert message[(2, "investor_country")] == (
        "“Atlantis” is not a country: write its ISO 3166 code (VN, CN, KR…) or its name.")
    assert message[(2, "park")] == "Unknown park or cluster “NO-PARK”."
    assert message[(2, "registered_currency")] == (
        "“EUR” is not a currency of the register: VND or USD.")
    assert message[(4, "code")] == "Duplicate row: row 3 already has the project P-X."
    assert snapshot() == before


# --- stale previews --------------------------------------------------------------------------


def test_a_report_preview_made_stale_by_another_change_is_refused(register, in_english):
    staff, colleague = register["staff"], register["staff2"]
    rows = [["P-BX1", "2026-Q3", "proposed", "2026-02-01", "100", "0", "0", "", "", ""],
            ["P-BX2", "2026-Q3", "policy_approved", "2026-05-01", "5", "0", "0", "", "", ""]]
    preview = register_import_preview(user=staff, kind="reports",
                                      content=csv_file(REPORT_HEADER, rows), filename="r.csv",
                                      today=TODAY)
    assert preview.upload is not None
    # Meanwhile a colleague writes the draft of P-BX2 for the same quarter on the screen.
    project = Project.objects.get(code="P-BX2")
    services.project_report_save_draft(
        user=colleague, project_id=project.pk, period="2026-Q3", stage="policy_approved",
        stage_date="2026-05-01", registered_capital=6, disbursed_capital=0, jobs_filled=0,
        today=TODAY)
    before = snapshot()
    with pytest.raises(ImportFailed) as failed:
        register_import_confirm(user=staff, upload_id=preview.upload.pk, today=TODAY)
    assert failed.value.problems[0].message.startswith(
        "The register changed after the preview")
    assert snapshot() == before  # not even P-BX1's row
    assert ProjectReport.objects.get(project=project, period="2026-Q3").author == colleague
    # The upload is gone: confirming again finds nothing.
    with pytest.raises(ImportFailed) as failed:
        register_import_confirm(user=staff, upload_id=preview.upload.pk, today=TODAY)
    assert failed.value.problems[0].message == (
        "This preview is no longer there: it was imported already or has expired. Upload the "
        "file again.")


def test_a_project_preview_made_stale_by_an_edit_is_refused(register, in_english):
    content, name = _projects_file([NEW_PROJECT, [
        "P-BX1", "Tên mới", "", "Công ty A", "VN", "trade", "LC-BATXAT", "", 100, "VND", 0,
        "proposed", date(2026, 1, 10), 0]])
    preview = register_import_preview(user=register["manager"], kind="projects",
                                      content=content, filename=name, today=TODAY)
    project = Project.objects.get(code="P-BX1")
    project.investor = "Công ty A (đổi tên)"
    project.save()  # in the admin, say
    before = snapshot()
    with pytest.raises(ImportFailed):
        register_import_confirm(user=register["manager"], upload_id=preview.upload.pk,
                                today=TODAY)
    assert snapshot() == before
    assert not Project.objects.filter(code="P-NEW").exists()


def test_someone_elses_preview_cannot_be_confirmed(register, in_english):
    preview = register_import_preview(
        user=register["staff"], kind="reports", filename="r.csv", today=TODAY,
        content=csv_file(REPORT_HEADER, [["P-BX1", "2026-Q3", "proposed", "2026-02-01", "1",
                                          "0", "0", "", "", ""]]))
    with pytest.raises(ImportFailed):
        register_import_confirm(user=register["staff2"], upload_id=preview.upload.pk,
                                today=TODAY)
    assert RegisterUpload.objects.filter(pk=preview.upload.pk).exists()


# --- the screens -----------------------------------------------------------------------------


def test_the_register_links_to_the_import_and_its_templates_download(register, client):
    client.force_login(register["manager"])
    page = client.get(reverse("register:projects")).content.decode()
    assert reverse("register:import") in page
    for kind, header in (("reports", REPORT_HEADER), ("projects", None)):
        response = client.get(reverse("register:import-template", args=[kind, "csv"]))
        body = response.content
        assert body.startswith(codecs.BOM_UTF8)
        first = next(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
        assert first == (header or ["code", "name", "name_en", "investor", "investor_country",
                                    "sector", "unit", "park", "latitude", "longitude",
                                    "registered_capital", "registered_currency",
                                    "disbursed_capital", "disbursed_currency", "land_area_ha",
                                    "jobs_planned", "jobs_filled", "stage", "stage_date"])
        response = client.get(reverse("register:import-template", args=[kind, "xlsx"]))
        book = openpyxl.load_workbook(io.BytesIO(response.content))
        assert [c.value for c in next(book.active.iter_rows())] == first
    assert client.get(reverse("register:import-template", args=["x", "csv"])).status_code == 404


def test_upload_preview_and_confirm_on_the_screen_in_vietnamese(register, client):
    client.force_login(register["staff"])
    rows = [["P-BX1", "2026-Q3", "proposed", "2026-02-01", "100", "0", "0", "", "", "có"],
            ["NOPE", "2026-Q3", "proposed", "2026-02-01", "100", "0", "0", "", "", ""]]
    upload = io.BytesIO(csv_file(REPORT_HEADER, rows))
    upload.name = "bao-cao.csv"
    page = client.post(reverse("register:import"), {"kind": "reports", "file": upload})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Dự án không xác định “NOPE”." in html
    assert "Dự án (project)" in html
    assert 'id="confirm-form"' not in html
    upload = io.BytesIO(csv_file(REPORT_HEADER, rows[:1]))
    upload.name = "bao-cao.csv"
    page = client.post(reverse("register:import"), {"kind": "reports", "file": upload})
    token = page.context["preview"].upload.pk
    response = client.post(reverse("register:import-confirm"), {"token": token}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("register:import")
    assert ProjectReport.objects.get(project__code="P-BX1", period="2026-Q3").status == (
        EntryStatus.SUBMITTED)
    # A second click: nothing twice.
    again = client.post(reverse("register:import-confirm"), {"token": token}, follow=True)
    assert "Bản xem trước đã hết hạn: hãy tải tệp lên lại." in again.content.decode()
    assert ProjectReport.objects.filter(project__code="P-BX1", period="2026-Q3").count() == 1


def test_a_large_or_foreign_upload_is_refused_next_to_its_field(register, client, english):
    client.force_login(register["manager"])
    upload = io.BytesIO(b"x" * (2 * 1024 * 1024 + 1))
    upload.name = "big.csv"
    page = client.post(reverse("register:import"), {"kind": "projects", "file": upload})
    assert "the limit is 2.0\xa0MB" in page.content.decode()
    upload = io.BytesIO(b"PDF")
    upload.name = "x.pdf"
    page = client.post(reverse("register:import"), {"kind": "projects", "file": upload})
    assert "“pdf” files are not accepted" in page.content.decode()
    header = ",".join(REPORT_HEADER) + "\n"
    line = "P-BX1,2026-Q3,proposed,2026-02-01,1,0,0,,,\n"
    preview = register_import_preview(
        user=register["manager"], kind="reports", filename="many.csv", today=TODAY,
        content=(header + line * 1001).encode())
    assert preview.file_problems[0].message == (
        "The file has 1001 rows; a register file holds at most 1000: split it into several "
        "files.")


# --- queries ---------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [3, 40])
def test_the_preview_reads_the_register_in_a_fixed_number_of_queries(
    register, django_assert_max_num_queries, count,
):
    unit = Unit.objects.get(code="LC-BATXAT")
    for i in range(count):
        _project(f"Q-{i:03d}", unit)
    reports = [[f"Q-{i:03d}", "2026-Q3", "proposed", "2026-02-01", "100", "0", "0", "", "", ""]
               for i in range(count)]
    projects = [[f"Q-{i:03d}", "Tên", "", "Công ty", "VN", "trade", "LC-BATXAT", "KCN-1", "100",
                 "VND", "0", "proposed", "2026-01-10", "0"] for i in range(count)]
    # Reports: memberships, the projects, those visible, their reports; the upload (2).
    with django_assert_max_num_queries(7):
        preview = register_import_preview(
            user=register["staff"], kind="reports", filename="r.csv", today=TODAY,
            content=csv_file(REPORT_HEADER, reports))
    assert preview.problem_count == 0 and preview.total_rows == count
    # Projects: the projects, their approved reports, those visible, the units, the parks…
    with django_assert_max_num_queries(8):
        preview = register_import_preview(
            user=register["manager"], kind="projects", filename="p.csv", today=TODAY,
            content=csv_file(PROJECT_HEADER, projects))
    assert preview.problem_count == 0 and preview.actions == {"update": count}


# --- any file: no 500, never half-written ---------------------------------------------------

PROJECT_CODES = st.sampled_from(["P-BX1", "P-BX2", "P-IND", "P-LCH", "P-NEW", "", "p-bx1",
                                 "P\x00X", "X" * 41])
PERIODS = st.sampled_from(["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4", "2027-Q1", "2026",
                           "2026-Q5", ""])
STAGES = st.sampled_from(["proposed", "operating", "Operating", "Đang hoạt động", "built", ""])
DATES = st.sampled_from(["2026-02-01", "2026-09-30", "2026-10-01", "01/02/2026", "31/02/2026",
                         "2030-01-01", "", "1899-12-31"])
NUMBERS = st.sampled_from(["0", "1", "-1", "1.250", "1,5", "1.234,5", "1e5", "NaN", "",
                           "99999999999999999999", "0.001"])
ANY = st.text(max_size=20)
FUZZ = settings(max_examples=80, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


def _whole_or_nothing(user, kind: str, content: bytes, filename: str) -> None:
    before = snapshot()
    with rolled_back():
        preview = register_import_preview(user=user, kind=kind, content=content,
                                          filename=filename, today=TODAY)
        if preview.upload is None:
            assert preview.file_problems or preview.problem_count
            assert all(p.message for p in preview.file_problems)
            assert snapshot() == before
        else:
            try:
                register_import_confirm(user=user, upload_id=preview.upload.pk, today=TODAY,
                                        submit_all=True)
            except ImportFailed as failed:
                assert failed.problems
                assert snapshot() == before
    assert snapshot() == before


# Rows that pass (so that files are confirmed and written too), and rows of anything.
GOOD_REPORT = st.tuples(
    st.sampled_from(["P-BX1", "P-BX2", "P-IND"]), st.sampled_from(["2026-Q3", "2026-Q4"]),
    st.sampled_from(["proposed", "Operating", "Đang xây dựng"]),
    st.sampled_from(["2026-02-01", "01/03/2026"]), st.sampled_from(["0", "5", "1.234,5"]),
    st.sampled_from(["0", "1"]), st.sampled_from(["0", "3"]), st.just(""),
    st.sampled_from(["", "Quý 3", "=1+1", "dòng 1\ndòng 2"]), st.sampled_from(["", "yes", "không"]),
).map(list)
ANY_REPORT = st.tuples(
    st.one_of(PROJECT_CODES, ANY), PERIODS, STAGES, DATES, NUMBERS, NUMBERS, NUMBERS,
    st.sampled_from(["", "VND", "USD", "EUR"]), ANY, st.sampled_from(["", "yes", "no", "?"]),
).map(list)


@FUZZ
@given(
    rows=st.lists(GOOD_REPORT, unique_by=lambda row: (row[0], row[1]), min_size=1, max_size=4)
    | st.lists(st.one_of(GOOD_REPORT, ANY_REPORT), max_size=6),
    header=st.sampled_from([REPORT_HEADER, REPORT_HEADER, REPORT_HEADER[:7], REPORT_HEADER[:3],
                            []]),
    who=st.sampled_from(["staff", "manager", "manager", "outsider", "admin"]),
    delimiter=st.sampled_from([",", ";", "\t"]),
)
def test_any_reports_csv_imports_whole_or_names_its_problems(register, rows, header, who,
                                                             delimiter):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    if header:
        writer.writerow(header)
    writer.writerows(row[: len(header) or None] for row in rows)
    try:
        content = buffer.getvalue().encode("utf-8")
    except UnicodeEncodeError:
        assume(False)
    _whole_or_nothing(register[who], "reports", content, "fuzz.csv")


XLSX_CELL = st.one_of(
    PROJECT_CODES.filter(lambda s: "\x00" not in s), STAGES, DATES, NUMBERS,
    st.sampled_from(["VN", "Trung Quốc", "trade", "LC-BATXAT", "LCH", "KCN-1", "USD"]),
    st.integers(min_value=-(10**20), max_value=10**20), st.floats(), st.booleans(), st.none(),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1)),
)


GOOD_PROJECT = st.tuples(
    st.sampled_from(["P-BX1", "P-NEW", "P-IND", "P-NEW2"]),
    st.sampled_from(["Dự án", "X"]),
    st.just(""), st.just("Công ty A"), st.sampled_from(["VN", "Trung Quốc", "kr"]),
    st.sampled_from(["trade", "Thương mại"]), st.sampled_from(["LC-BATXAT", "LC-BATXAT-IND"]),
    st.sampled_from(["", "KCN-1"]), st.sampled_from([100, "5", "1.234,5"]),
    st.sampled_from(["VND", "USD", None]), st.sampled_from([0, "1"]),
    st.sampled_from(["proposed", "policy_approved"]),
    st.sampled_from([date(2026, 1, 10), "01/05/2026"]), st.sampled_from([0, 12]),
).map(list)


@FUZZ
@given(data=st.data(), kind=st.sampled_from(["projects", "reports"]),
       who=st.sampled_from(["staff", "manager", "province"]))
def test_any_xlsx_imports_whole_or_names_its_problems(register, data, kind, who):
    header = PROJECT_HEADER if kind == "projects" else REPORT_HEADER
    good = GOOD_PROJECT if kind == "projects" else GOOD_REPORT
    rows = data.draw(
        st.lists(good, unique_by=lambda row: row[0] if kind == "projects" else tuple(row[:2]),
                 min_size=1, max_size=4)
        | st.lists(st.one_of(good, st.lists(XLSX_CELL, min_size=10, max_size=15)), max_size=5))
    try:
        content = xlsx_file(header, rows)
    except Exception:  # openpyxl cannot write every value: not the importer's business
        assume(False)
    _whole_or_nothing(register[who], kind, content, "fuzz.xlsx")


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=300), name=st.sampled_from(["f.csv", "f.xlsx"]),
       kind=st.sampled_from(["projects", "reports", "other"]))
def test_any_upload_on_the_screen_answers_without_a_500(register, client, content, name, kind):
    client.force_login(register["manager"])
    before = snapshot()
    with rolled_back():
        upload = io.BytesIO(content)
        upload.name = name
        response = client.post(reverse("register:import"), {"kind": kind, "file": upload})
        assert response.status_code == 200
        preview = response.context.get("preview")
        if preview is not None and preview.upload is not None:
            response = client.post(reverse("register:import-confirm"),
                                   {"token": preview.upload.pk})
            assert response.status_code in (200, 302)
            if response.status_code == 200:
                assert snapshot() == before
        else:
            assert snapshot() == before
    assert snapshot() == before


# --- the investor's country: django-countries, in the reader's language ---------------------


@pytest.fixture
def countries_register(small_plan):
    unit = small_plan["LC-BATXAT"]
    _project("C-CN", unit, investor_country="CN")
    _project("C-KR", unit, investor_country="KR")
    _project("C-SZ", unit, investor_country="SZ")
    return make_user("bx.viewer", [(unit, Role.STAFF)])


def test_the_register_names_countries_in_vietnamese_for_a_vietnamese_user(
    countries_register, client,
):
    client.force_login(countries_register)  # the UI's default language is Vietnamese
    page = client.get(reverse("register:projects"))
    html = page.content.decode()
    for name in ("Trung Quốc", "Hàn Quốc", "Eswatini"):
        assert name in html
    assert "Tiếng Swaziland" not in html  # django-countries' own (wrong) translation
    options = dict(page.context["filter"].form.fields["country"].choices)
    assert (options["VN"], options["CN"], options["US"], options["RE"]) == (
        "Việt Nam", "Trung Quốc", "Hoa Kỳ", "Réunion")
    export = client.get(reverse("register:projects") + "?_export=csv&country=CN")
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert rows[0][3] == "Quốc gia" and rows[1][3] == "Trung Quốc"
    assert [r[0] for r in rows[1:]] == ["C-CN"]
    client.cookies["django_language"] = "en"
    html = client.get(reverse("register:projects")).content.decode()
    assert "China" in html and "South Korea" in html and "Trung Quốc" not in html


def test_the_country_is_stored_as_its_code_and_checked_by_the_database(countries_register):
    from django.db import IntegrityError, transaction

    assert Project.objects.filter(investor_country="CN").count() == 1
    with translation.override("vi"):
        assert Project.objects.get(code="C-KR").investor_country.name == "Hàn Quốc"
    with pytest.raises(IntegrityError), transaction.atomic():
        Project.objects.filter(code="C-CN").update(investor_country="cn")
