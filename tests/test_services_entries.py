"""The entry workflow (who may make which transition) and the entries file import."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from targets.errors import ImportFailed, NotAllowed, WorkflowError
from targets.models import EntryStatus, ProgressEntry, Target
from targets.numbers import parse_value
from targets.services import entries as workflow
from targets.services import imports as importing
from targets.services.evaluation import targets_reassess

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]


def ip() -> Target:
    return Target.objects.select_related("responsible_unit").get(code="BX-IP")


def occ() -> Target:
    return Target.objects.select_related("responsible_unit").get(code="BX-OCC")


def draft(user, target=None, period="2026-Q1", value="1"):
    return workflow.entry_save_draft(
        user=user, target=target or ip(), period=period, value=value, note="n"
    )


def submitted(user, **kwargs):
    return workflow.entry_submit(user=user, entry=draft(user, **kwargs))


# --- creating and submitting ------------------------------------------------------


def test_staff_saves_a_draft_for_their_units_target(people):
    entry = draft(people["staff"])
    assert entry.status == EntryStatus.DRAFT
    assert (entry.period, entry.period_start, entry.period_end) == (
        "2026-Q1", date(2026, 1, 1), date(2026, 3, 31)
    )
    assert entry.value == Decimal(1) and entry.author == people["staff"]


def test_staff_of_the_parent_unit_may_not_report_for_a_department_target(people):
    # Staff report for their own unit only; BX-OCC belongs to the industry department.
    with pytest.raises(NotAllowed):
        draft(people["staff"], target=occ(), value="30")


def test_department_staff_report_for_their_department(people):
    assert draft(people["dept_staff"], target=occ(), value="30").status == EntryStatus.DRAFT


def test_managers_report_for_their_subtree(people):
    assert draft(people["manager"], target=occ(), value="30").status == EntryStatus.DRAFT
    assert draft(people["province"]).status == EntryStatus.DRAFT


def test_a_manager_of_another_province_may_not_report(people):
    with pytest.raises(NotAllowed):
        draft(people["outsider"])


def test_staff_submit_their_draft(people):
    entry = submitted(people["staff"])
    assert entry.status == EntryStatus.SUBMITTED and entry.submitted_at is not None


def test_a_colleague_of_the_same_unit_may_submit_the_draft(people):
    entry = draft(people["staff"])
    assert workflow.entry_submit(user=people["staff2"], entry=entry).status == "submitted"


def test_an_outsider_may_not_submit(people):
    entry = draft(people["staff"])
    with pytest.raises(NotAllowed):
        workflow.entry_submit(user=people["outsider"], entry=entry)


def test_a_submitted_entry_cannot_be_changed_or_submitted_again(people):
    entry = submitted(people["staff"])
    with pytest.raises(WorkflowError):
        workflow.entry_submit(user=people["staff"], entry=entry)
    with pytest.raises(WorkflowError):
        draft(people["staff"], value="2")
    assert ProgressEntry.objects.get(pk=entry.pk).value == Decimal(1)


def test_one_entry_per_target_and_period(people):
    first = draft(people["staff"])
    again = draft(people["staff2"], value="2")  # same target and period: the same draft, changed
    assert again.pk == first.pk and again.value == Decimal(2)
    assert ProgressEntry.objects.count() == 1


@pytest.mark.parametrize(
    ("target_code", "value", "field", "message"),
    [
        ("BX-IP", "abc", "value", "is not a number"),
        ("BX-IP", "1.5", "value", "is not a whole number"),
        ("BX-OCC", "120", "value", "is not a percentage between 0 and 100"),
        ("BX-OCC", "", "value", "A number is required"),
    ],
)
def test_bad_values_are_refused_with_a_specific_message(people, target_code, value, field, message):
    target = Target.objects.select_related("responsible_unit").get(code=target_code)
    with pytest.raises(WorkflowError) as error:
        draft(people["manager"], target=target, value=value)
    assert error.value.field == field and message in error.value.message
    assert ProgressEntry.objects.count() == 0


def test_a_period_outside_the_targets_periods_is_refused(people):
    with pytest.raises(WorkflowError) as error:
        draft(people["staff"], period="2025-Q2")  # ends on the baseline date 2025-06-30
    assert error.value.field == "period"
    assert "2025-Q3 … 2030-Q4" in error.value.message


# --- review -------------------------------------------------------------------------


def test_a_manager_approves_a_submitted_entry(people):
    entry = workflow.entry_approve(user=people["manager"], entry=submitted(people["staff"]))
    assert entry.status == EntryStatus.APPROVED
    assert entry.reviewer == people["manager"] and entry.reviewed_at is not None


def test_a_manager_of_an_ancestor_unit_approves(people):
    entry = workflow.entry_approve(user=people["province"], entry=submitted(people["staff"]))
    assert entry.status == EntryStatus.APPROVED


def test_nobody_approves_their_own_entry(people):
    entry = submitted(people["manager"])
    with pytest.raises(NotAllowed):
        workflow.entry_approve(user=people["manager"], entry=entry)
    admin_entry = submitted(people["admin"], period="2026-Q2")
    with pytest.raises(NotAllowed):
        workflow.entry_approve(user=people["admin"], entry=admin_entry)
    assert ProgressEntry.objects.filter(status=EntryStatus.APPROVED).count() == 0


@pytest.mark.parametrize("reviewer", ["staff2", "dept_staff", "outsider"])
def test_staff_and_outsiders_may_not_approve_or_return(people, reviewer):
    entry = submitted(people["staff"])
    with pytest.raises(NotAllowed):
        workflow.entry_approve(user=people[reviewer], entry=entry)
    with pytest.raises(NotAllowed):
        workflow.entry_return(user=people[reviewer], entry=entry, comment="no")
    assert ProgressEntry.objects.get(pk=entry.pk).status == EntryStatus.SUBMITTED


def test_a_department_manager_may_not_review_the_communes_target(people, small_plan):
    from targets.models import Membership, Role
    from tests.conftest import make_user

    dept_manager = make_user("ind.manager")
    Membership.objects.create(
        user=dept_manager, unit=small_plan["LC-BATXAT-IND"], role=Role.MANAGER
    )
    with pytest.raises(NotAllowed):
        workflow.entry_approve(user=dept_manager, entry=submitted(people["staff"]))


def test_drafts_and_approved_entries_cannot_be_approved(people):
    entry = draft(people["staff"])
    with pytest.raises(WorkflowError):
        workflow.entry_approve(user=people["manager"], entry=entry)
    entry = workflow.entry_submit(user=people["staff"], entry=entry)
    workflow.entry_approve(user=people["manager"], entry=entry)
    with pytest.raises(WorkflowError):
        workflow.entry_approve(user=people["province"], entry=entry)
    with pytest.raises(WorkflowError):
        workflow.entry_return(user=people["province"], entry=entry, comment="late")
    with pytest.raises(WorkflowError):
        draft(people["staff"], value="5")


def test_return_needs_a_comment(people):
    entry = submitted(people["staff"])
    with pytest.raises(WorkflowError) as error:
        workflow.entry_return(user=people["manager"], entry=entry, comment="  ")
    assert error.value.field == "comment"
    assert ProgressEntry.objects.get(pk=entry.pk).status == EntryStatus.SUBMITTED


def test_returned_entry_is_fixed_and_resubmitted_then_approved(people):
    entry = submitted(people["staff"], value="3")
    entry = workflow.entry_return(
        user=people["manager"], entry=entry, comment="3 parks? Only 1 is formed."
    )
    assert entry.status == EntryStatus.RETURNED
    assert entry.review_comment == "3 parks? Only 1 is formed."

    fixed = draft(people["staff"], value="1")
    assert fixed.status == EntryStatus.RETURNED and fixed.value == Decimal(1)
    resubmitted = workflow.entry_submit(user=people["staff"], entry=fixed)
    assert resubmitted.status == EntryStatus.SUBMITTED
    approved = workflow.entry_approve(user=people["manager"], entry=resubmitted)
    assert approved.status == EntryStatus.APPROVED
    # The audit history keeps every step.
    states = [h.status for h in ProgressEntry.history.filter(id=entry.pk).order_by("history_id")]
    assert states == ["draft", "submitted", "returned", "returned", "submitted", "approved"]


def test_approval_reassesses_the_target_at_once(people):
    entry = submitted(people["staff"], period="2025-Q3", value="2")
    workflow.entry_approve(user=people["manager"], entry=entry, after_approval=targets_reassess)
    target = ip()
    assert target.latest_assessment is not None
    assert target.latest_assessment.status == "achieved"  # 2 parks ≥ target 2


# --- the entries file ---------------------------------------------------------------

GOOD_CSV = (
    "target,period,value,note\n"
    "BX-IP,2025-Q3,0,planning\n"
    "BX-IP,2025-Q4,1,Ban Qua formed\n"
    "BX-OCC,2025-Q3,22.5,\n"
)


def run_import(user, content: str | bytes, filename="entries.csv", status="submitted"):
    data = content.encode("utf-8") if isinstance(content, str) else content
    return importing.entries_import(user=user, content=data, filename=filename, status=status)


def test_valid_csv_creates_submitted_entries(people):
    result = run_import(people["manager"], GOOD_CSV)
    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    rows = list(
        ProgressEntry.objects.order_by("target__code", "period").values_list(
            "target__code", "period", "value", "status", "author__username"
        )
    )
    assert rows == [
        ("BX-IP", "2025-Q3", Decimal(0), "submitted", "bx.manager"),
        ("BX-IP", "2025-Q4", Decimal(1), "submitted", "bx.manager"),
        ("BX-OCC", "2025-Q3", Decimal("22.5"), "submitted", "bx.manager"),
    ]


def test_importing_the_same_entries_twice_changes_nothing(people):
    run_import(people["manager"], GOOD_CSV)
    history = ProgressEntry.history.count()
    result = run_import(people["manager"], GOOD_CSV)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 3)
    assert ProgressEntry.history.count() == history


def test_valid_xlsx_is_read_like_csv(people):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["target", "period", "value", "note"])
    sheet.append(["BX-IP", "2025-Q3", 0, "planning"])
    sheet.append(["BX-OCC", "2025-Q3", 22.5, None])
    buffer = io.BytesIO()
    book.save(buffer)

    result = run_import(people["manager"], buffer.getvalue(), filename="entries.xlsx")

    assert result.created == 2
    assert ProgressEntry.objects.get(target__code="BX-OCC").value == Decimal("22.5")


BAD_CSV = (
    "target,period,value,note\n"
    "BX-IP,2025-Q3,abc,text for a number\n"  # row 2
    "BX-OCC,2025-Q3,120,percent 120\n"  # row 3
    "BX-NOPE,2025-Q3,1,unknown target\n"  # row 4
    "BX-IP,2031-Q1,1,period outside\n"  # row 5
    "BX-IP,2025-Q4,1,fine\n"  # row 6
    "BX-IP,2025-Q4,1,duplicate row\n"  # row 7
)


def test_a_file_with_several_errors_reports_every_row_and_writes_nothing(people):
    with pytest.raises(ImportFailed) as failed:
        run_import(people["manager"], BAD_CSV)

    problems = [str(p) for p in failed.value.problems]
    assert problems == [
        "entries.csv row 2 (BX-IP 2025-Q3): value: “abc” is not a number.",
        "entries.csv row 3 (BX-OCC 2025-Q3): value: 120 is not a percentage between 0 and 100.",
        "entries.csv row 4 (BX-NOPE 2025-Q3): target: Unknown target “BX-NOPE”.",
        "entries.csv row 5 (BX-IP 2031-Q1): period: “2031-Q1” is not a reporting period of BX-IP "
        "(2025-Q3 … 2030-Q4).",
        "entries.csv row 7 (BX-IP 2025-Q4): period: Duplicate row: row 6 already reports BX-IP "
        "for 2025-Q4.",
    ]
    assert ProgressEntry.objects.count() == 0


def test_rows_keep_their_file_lines_across_blank_lines_and_extra_cells(people):
    content = (
        "target,period,value,note\n"
        "\n"  # line 2: blank
        "BX-IP,2025-Q3,0,fine\n"  # line 3
        "BX-IP,2025-Q4,x,bad value\n"  # line 4
        "BX-IP,2026-Q1,1,note,surplus\n"  # line 5: one cell too many
    )
    with pytest.raises(ImportFailed) as failed:
        run_import(people["manager"], content, filename="gaps.csv")
    assert [str(p) for p in failed.value.problems] == [
        "gaps.csv row 4 (BX-IP 2025-Q4): value: “x” is not a number.",
        "gaps.csv row 5 (BX-IP 2026-Q1): This row has 5 cells; the header has 4 columns.",
    ]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("22,5", "22.5"), ("1.234,5", "1234.5"), ("1 234,5", "1234.5"), ("22.5", "22.5")],
)
def test_numbers_are_read_in_vietnamese_and_plain_notation(people, typed, expected):
    assert parse_value(typed, "decimal") == Decimal(expected)


def test_an_entries_file_may_use_the_decimal_comma(people):
    run_import(people["manager"], 'target,period,value\nBX-OCC,2025-Q3,"22,5"\n')
    assert ProgressEntry.objects.get(target__code="BX-OCC").value == Decimal("22.5")


def test_a_malformed_grouping_is_not_a_number(people):
    with pytest.raises(WorkflowError, match="is not a number"):
        parse_value("1.23.4", "decimal")


def test_a_percent_formatted_xlsx_cell_is_read_as_the_percentage_it_shows(people):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["target", "period", "value"])
    sheet.append(["BX-OCC", "2025-Q3", 0.855])
    sheet["C2"].number_format = "0.0%"  # Excel shows 85.5 %
    buffer = io.BytesIO()
    book.save(buffer)
    run_import(people["manager"], buffer.getvalue(), filename="percent.xlsx")
    assert ProgressEntry.objects.get(target__code="BX-OCC").value == Decimal("85.5")


def test_preview_lists_every_row_with_its_problems(people):
    rows = importing.entries_preview(
        user=people["manager"], content=BAD_CSV.encode(), filename="bad.csv"
    )
    assert [r.number for r in rows] == [2, 3, 4, 5, 6, 7]
    assert [len(r.problems) for r in rows] == [1, 1, 1, 1, 0, 1]


def test_targets_outside_the_users_scope_read_as_unknown(people):
    with pytest.raises(ImportFailed) as failed:
        run_import(people["outsider"], GOOD_CSV)
    assert len(failed.value.problems) == 3
    assert all("Unknown target" in str(p) for p in failed.value.problems)


def test_missing_header_column_is_reported(people):
    with pytest.raises(ImportFailed) as failed:
        run_import(people["manager"], "target,value\nBX-IP,1\n")
    assert "Missing column(s): period" in str(failed.value.problems[0])


def test_an_already_approved_entry_is_not_overwritten(people):
    entry = submitted(people["staff"], period="2025-Q3", value="0")
    workflow.entry_approve(user=people["manager"], entry=entry)
    with pytest.raises(ImportFailed) as failed:
        run_import(people["manager"], "target,period,value\nBX-IP,2025-Q3,1\n")
    assert "already has a approved entry" in str(failed.value.problems[0]) or "approved" in str(
        failed.value.problems[0]
    )
    assert ProgressEntry.objects.get(pk=entry.pk).value == Decimal(0)


def test_import_as_approved_needs_a_manager_and_records_them_as_reviewer(people):
    with pytest.raises(ImportFailed):
        run_import(people["staff"], "target,period,value\nBX-IP,2025-Q3,0\n", status="approved")

    run_import(people["manager"], "target,period,value\nBX-IP,2025-Q3,0\n", status="approved")

    entry = ProgressEntry.objects.get()
    assert entry.status == EntryStatus.APPROVED and entry.reviewer == people["manager"]
    assert entry.author.username == importing.IMPORT_AUTHOR  # never author and reviewer at once


def test_import_entries_command(people, tmp_path, capsys):
    path = tmp_path / "entries.csv"
    path.write_text(GOOD_CSV, encoding="utf-8")
    call_command("import_entries", str(path), "--user", "bx.manager", "--status", "approved")
    assert "3 created" in capsys.readouterr().out
    assert set(ProgressEntry.objects.values_list("status", flat=True)) == {"approved"}
    # Approval through the import re-assesses the targets at once.
    assert ip().latest_assessment is not None


def test_import_entries_command_fails_whole_file_with_every_problem(people, tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text(BAD_CSV, encoding="utf-8")
    with pytest.raises(CommandError) as error:
        call_command("import_entries", str(path), "--user", "bx.manager")
    assert "5 problems" in str(error.value)
    assert len(capsys.readouterr().err.strip().splitlines()) == 5
    assert ProgressEntry.objects.count() == 0


def test_import_entries_command_without_user_imports_as_the_operator(people, tmp_path):
    path = tmp_path / "entries.csv"
    path.write_text(GOOD_CSV, encoding="utf-8")
    call_command("import_entries", str(path), "--status", "approved")
    entries = ProgressEntry.objects.select_related("author")
    assert {(e.author.username, e.reviewer_id, e.status) for e in entries} == {
        (importing.IMPORT_AUTHOR, None, "approved")
    }
    # The operator account cannot sign in.
    assert not entries[0].author.is_active


def test_import_entries_command_rejects_unknown_user(people, tmp_path):
    path = tmp_path / "entries.csv"
    path.write_text(GOOD_CSV, encoding="utf-8")
    with pytest.raises(CommandError, match="No active user"):
        call_command("import_entries", str(path), "--user", "nobody")


def test_an_import_as_approved_cannot_approve_the_importers_own_draft(people):
    draft(people["manager"], period="2025-Q3", value="0")
    with pytest.raises(ImportFailed) as failed:
        run_import(people["manager"], "target,period,value\nBX-IP,2025-Q3,1\n", status="approved")
    assert "Nobody approves their own entry" in str(failed.value.problems[0])
    entry = ProgressEntry.objects.get()
    assert (entry.status, entry.value, entry.author) == ("draft", Decimal(0), people["manager"])


def test_an_import_as_approved_leaves_someone_elses_unsubmitted_entry_to_the_queue(people):
    draft(people["staff"], period="2025-Q3", value="0")
    with pytest.raises(ImportFailed) as failed:
        run_import(people["manager"], "target,period,value\nBX-IP,2025-Q3,1\n", status="approved")
    assert "review queue" in str(failed.value.problems[0])
    assert ProgressEntry.objects.get().author == people["staff"]  # never rewritten


def test_reimporting_after_approval_changes_nothing(people):
    run_import(people["staff"], "target,period,value,note\nBX-IP,2025-Q3,0,n\n")
    workflow.entry_approve(user=people["manager"], entry=ProgressEntry.objects.get())
    result = run_import(people["staff"], "target,period,value,note\nBX-IP,2025-Q3,0,n\n")
    assert (result.created, result.updated, result.unchanged) == (0, 0, 1)
    assert ProgressEntry.objects.get().status == "approved"


def test_an_import_as_approved_reassesses_all_its_targets_at_once(people):
    calls = []
    importing.entries_import(
        user=people["manager"],
        content=GOOD_CSV.encode(),
        filename="entries.csv",
        status="approved",
        after_approval=calls.append,
    )
    assert len(calls) == 1  # one evaluation run: one digest per recipient
    assert sorted(t.code for t in calls[0]) == ["BX-IP", "BX-OCC"]
