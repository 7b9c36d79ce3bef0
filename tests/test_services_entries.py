"""The entry workflow (who may make which transition) and the entries file import."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from targets.errors import ImportFailed, NotAllowed, StaleEntry, WorkflowError
from targets.models import Alert, EntryStatus, ProgressEntry, Role, Target
from targets.numbers import parse_value
from targets.services import entries as workflow
from targets.services import imports as importing
from tests.alerting import RULES
from tests.conftest import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]


def ip() -> Target:
    return Target.objects.select_related("responsible_unit").get(code="BX-IP")


def occ() -> Target:
    return Target.objects.select_related("responsible_unit").get(code="BX-OCC")


def draft(user, target=None, period="2026-Q1", value="1", note="n", **kwargs):
    return workflow.entry_save_draft(
        user=user, target_id=(target or ip()).pk, period=period, value=value, note=note,
        **kwargs,
    )


def submit(user, entry, **kwargs):
    return workflow.entry_submit(user=user, entry_id=entry.pk, **kwargs)


def submitted(user, **kwargs):
    return submit(user, draft(user, **kwargs))


def approve(user, entry, **kwargs):
    return workflow.entry_approve(
        user=user, entry_id=entry.pk, **{"reassess": RULES, **kwargs}
    )


def give_back(user, entry, comment="Check it", **kwargs):
    return workflow.entry_return(user=user, entry_id=entry.pk, comment=comment, **kwargs)


def stored(entry) -> ProgressEntry:
    return ProgressEntry.objects.get(pk=entry.pk)


# --- creating and submitting ------------------------------------------------------


def test_staff_saves_a_draft_for_their_units_target(people):
    entry = draft(people["staff"])
    assert entry.status == EntryStatus.DRAFT
    assert (entry.period, entry.period_start, entry.period_end) == (
        "2026-Q1", date(2026, 1, 1), date(2026, 3, 31)
    )
    assert entry.value == Decimal(1) and entry.author == people["staff"]
    assert (entry.last_editor, entry.version) == (people["staff"], 1)


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
    assert entry.submitted_by == people["staff"]


def test_a_colleague_of_the_same_unit_may_submit_the_draft(people):
    entry = draft(people["staff"])
    assert submit(people["staff2"], entry).status == "submitted"


def test_an_outsider_may_not_submit(people):
    entry = draft(people["staff"])
    with pytest.raises(NotAllowed):
        submit(people["outsider"], entry)


def test_a_submitted_entry_cannot_be_changed_or_submitted_again(people):
    entry = submitted(people["staff"])
    with pytest.raises(WorkflowError):
        submit(people["staff"], entry)
    with pytest.raises(WorkflowError):
        draft(people["staff"], value="2")
    assert stored(entry).value == Decimal(1)


def test_one_entry_per_target_and_period(people):
    first = draft(people["staff"])
    again = draft(people["staff2"], value="2")  # same target and period: the same draft, changed
    assert again.pk == first.pk and again.value == Decimal(2)
    assert again.last_editor == people["staff2"] and again.author == people["staff"]
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


# --- versions: no lost update -------------------------------------------------------


def test_every_write_adds_one_to_the_version(people):
    entry = draft(people["staff"])
    assert entry.version == 1
    assert draft(people["staff"], value="2").version == 2
    assert draft(people["staff"], value="2").version == 2  # nothing changed: nothing written
    assert submit(people["staff"], entry).version == 3
    assert give_back(people["manager"], entry).version == 4
    assert draft(people["staff"], value="1").version == 5
    assert submit(people["staff"], entry).version == 6
    assert approve(people["manager"], entry, reassess=None).version == 7
    assert stored(entry).version == 7


def test_saving_what_is_saved_writes_nothing(people):
    entry = draft(people["staff"], value="1", note="n")
    history = ProgressEntry.history.count()
    again = draft(people["manager"], value="1.0", note="n", version=1)
    assert again.version == 1 and again.last_editor == people["staff"]
    assert ProgressEntry.history.count() == history
    assert stored(entry).last_editor == people["staff"]  # the manager changed nothing


def test_a_change_writes_only_the_changed_fields(people):
    draft(people["staff"], value="1", note="n")
    with CaptureQueriesContext(connection) as queries:
        draft(people["staff2"], value="2", note="n", version=1)
    [update] = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "targets_progressentry"')]
    assigned = update.split(" SET ", 1)[1].split(" WHERE ", 1)[0]
    assert {part.split(" = ")[0] for part in assigned.split(", ")} == {
        '"value"', '"last_editor_id"', '"version"', '"updated_at"'
    }


def test_a_save_over_a_stale_version_is_refused_and_writes_nothing(people):
    draft(people["staff"], value="1")  # version 1: both open the form now
    draft(people["staff2"], value="2", version=1)  # version 2
    with pytest.raises(StaleEntry) as error:
        draft(people["staff"], value="3", version=1)
    assert error.value.message == (
        "Someone else changed BX-IP 2026-Q1 since you opened it, so nothing was changed: "
        "look at it again as it is now."
    )
    entry = ProgressEntry.objects.get()
    assert (entry.value, entry.version, entry.last_editor) == (2, 2, people["staff2"])


def test_a_form_that_showed_no_entry_does_not_overwrite_one_entered_meanwhile(people):
    draft(people["staff2"], value="2")
    with pytest.raises(StaleEntry, match="Someone else entered BX-IP 2026-Q1 since you opened it"):
        draft(people["staff"], value="3", version=0)
    assert ProgressEntry.objects.get().value == 2


def test_a_submission_over_a_stale_version_is_refused(people):
    entry = draft(people["staff"])
    draft(people["staff2"], value="2", version=1)
    with pytest.raises(StaleEntry):
        submit(people["staff"], entry, version=1)
    assert stored(entry).status == EntryStatus.DRAFT


def test_approving_a_value_the_reviewer_did_not_see_is_refused(people):
    entry = submitted(people["staff"], value="1")  # the manager opens it at version 2
    give_back(people["province"], entry, version=2)
    draft(people["staff"], value="2")
    submit(people["staff"], entry)
    with pytest.raises(StaleEntry):
        approve(people["manager"], entry, version=2)
    with pytest.raises(StaleEntry):
        give_back(people["manager"], entry, version=2)
    assert (stored(entry).status, stored(entry).value) == (EntryStatus.SUBMITTED, 2)
    assert approve(people["manager"], entry, version=5).value == 2  # seen as it is: approved


# --- review -------------------------------------------------------------------------


def test_a_manager_approves_a_submitted_entry(people):
    entry = approve(people["manager"], submitted(people["staff"]))
    assert entry.status == EntryStatus.APPROVED
    assert entry.reviewer == people["manager"] and entry.reviewed_at is not None


def test_a_manager_of_an_ancestor_unit_approves(people):
    entry = approve(people["province"], submitted(people["staff"]))
    assert entry.status == EntryStatus.APPROVED


def test_nobody_approves_their_own_entry(people):
    entry = submitted(people["manager"])
    with pytest.raises(NotAllowed, match="You set this value: another manager approves it"):
        approve(people["manager"], entry)
    admin_entry = submitted(people["admin"], period="2026-Q2")
    with pytest.raises(NotAllowed):
        approve(people["admin"], admin_entry)
    assert ProgressEntry.objects.filter(status=EntryStatus.APPROVED).count() == 0


@pytest.mark.parametrize("reviewer", ["staff2", "dept_staff", "outsider"])
def test_staff_and_outsiders_may_not_approve_or_return(people, reviewer):
    entry = submitted(people["staff"])
    with pytest.raises(NotAllowed):
        approve(people[reviewer], entry)
    with pytest.raises(NotAllowed):
        give_back(people[reviewer], entry, comment="no")
    assert stored(entry).status == EntryStatus.SUBMITTED


def test_a_department_manager_may_not_review_the_communes_target(people, small_plan):
    from targets.models import Role
    from tests.conftest import make_user

    dept_manager = make_user("ind.manager", [(small_plan["LC-BATXAT-IND"], Role.MANAGER)])
    with pytest.raises(NotAllowed):
        approve(dept_manager, submitted(people["staff"]))


def test_drafts_and_approved_entries_cannot_be_approved(people):
    entry = draft(people["staff"])
    with pytest.raises(WorkflowError):
        approve(people["manager"], entry)
    entry = submit(people["staff"], entry)
    approve(people["manager"], entry)
    with pytest.raises(WorkflowError):
        approve(people["province"], entry)
    with pytest.raises(WorkflowError):
        give_back(people["province"], entry, comment="late")
    with pytest.raises(WorkflowError):
        draft(people["staff"], value="5")


def test_return_needs_a_comment(people):
    entry = submitted(people["staff"])
    with pytest.raises(WorkflowError) as error:
        give_back(people["manager"], entry, comment="  ")
    assert error.value.field == "comment"
    assert stored(entry).status == EntryStatus.SUBMITTED


def test_returned_entry_is_fixed_and_resubmitted_then_approved(people):
    entry = submitted(people["staff"], value="3")
    entry = give_back(people["manager"], entry, comment="3 parks? Only 1 is formed.")
    assert entry.status == EntryStatus.RETURNED
    assert entry.review_comment == "3 parks? Only 1 is formed."

    fixed = draft(people["staff"], value="1")
    assert fixed.status == EntryStatus.RETURNED and fixed.value == Decimal(1)
    resubmitted = submit(people["staff"], fixed)
    assert resubmitted.status == EntryStatus.SUBMITTED
    approved = approve(people["manager"], resubmitted)
    assert approved.status == EntryStatus.APPROVED
    # The audit history keeps every step.
    states = [h.status for h in ProgressEntry.history.filter(id=entry.pk).order_by("history_id")]
    assert states == ["draft", "submitted", "returned", "returned", "submitted", "approved"]


def test_approval_reassesses_the_target_at_once(people):
    entry = submitted(people["staff"], period="2025-Q3", value="2")
    approve(people["manager"], entry)
    target = ip()
    assert target.latest_assessment is not None
    assert target.latest_assessment.status == "achieved"  # 2 parks ≥ target 2


def test_bulk_approval_approves_what_it_may_and_says_why_not_for_the_rest(people):
    theirs = submitted(people["staff"], period="2025-Q3", value="0")
    own = submitted(people["manager"], period="2025-Q4", value="1")
    unsubmitted = draft(people["staff"], period="2026-Q1")
    reviewed = workflow.entries_approve(
        user=people["manager"], entry_ids=[theirs.pk, own.pk, unsubmitted.pk, 999_999],
        reassess=RULES,
    )
    assert [e.pk for e in reviewed.done] == [theirs.pk]
    assert [str(r) for r in reviewed.refused] == [
        "BX-IP 2025-Q4: You set this value: another manager approves it.",
        "BX-IP 2026-Q1: An entry that is draft cannot be approved.",
        "This entry no longer exists.",
    ]
    assert dict(ProgressEntry.objects.values_list("period", "status")) == {
        "2025-Q3": "approved", "2025-Q4": "submitted", "2026-Q1": "draft",
    }


def test_bulk_approval_reassesses_all_its_targets_in_one_run(people, monkeypatch):
    runs = []
    monkeypatch.setattr(
        workflow, "targets_reassess",
        lambda targets, on, alert_settings: runs.append(targets),
    )
    entries = [
        submitted(people["staff"], period="2025-Q3", value="0"),
        submitted(people["staff"], period="2025-Q4", value="1"),
        submitted(people["dept_staff"], target=occ(), period="2025-Q3", value="25"),
    ]
    workflow.entries_approve(
        user=people["province"], entry_ids=[e.pk for e in entries], reassess=RULES
    )
    assert len(runs) == 1  # one evaluation run: one digest per recipient
    assert sorted(t.code for t in runs[0]) == ["BX-IP", "BX-OCC"]


def test_bulk_return_returns_what_it_may_with_one_comment(people):
    theirs = submitted(people["staff"], period="2025-Q3", value="0")
    own = submitted(people["manager"], period="2025-Q4", value="1")
    reviewed = workflow.entries_return(
        user=people["manager"], entry_ids=[theirs.pk, own.pk], comment=" Attach it "
    )
    assert [(e.pk, e.review_comment) for e in reviewed.done] == [(theirs.pk, "Attach it")]
    assert [r.entry_id for r in reviewed.refused] == [own.pk]
    assert stored(own).status == EntryStatus.SUBMITTED


# --- the entries file ---------------------------------------------------------------

GOOD_CSV = (
    "target,period,value,note\n"
    "BX-IP,2025-Q3,0,planning\n"
    "BX-IP,2025-Q4,1,Ban Qua formed\n"
    "BX-OCC,2025-Q3,22.5,\n"
)
TODAY = date(2026, 12, 2)  # the date the file's periods must have begun by


def run_import(user, content: str | bytes, filename="entries.csv", status="submitted", **kw):
    data = content.encode("utf-8") if isinstance(content, str) else content
    return importing.entries_import(
        user=user, content=data, filename=filename, status=status, today=TODAY,
        **{"reassess": RULES, **kw},
    )


def problems_of(user, content: str | bytes, **kw) -> list[str]:
    with pytest.raises(ImportFailed) as failed:
        run_import(user, content, **kw)
    return [str(p) for p in failed.value.problems]


def xlsx(*rows) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_valid_csv_creates_entries_submitted_by_the_importer(people):
    result = run_import(people["manager"], GOOD_CSV)
    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    rows = list(
        ProgressEntry.objects.order_by("target__code", "period").values_list(
            "target__code", "period", "value", "status", "author__username",
            "last_editor__username", "submitted_by__username",
        )
    )
    manager = ("bx.manager",) * 3
    assert rows == [
        ("BX-IP", "2025-Q3", Decimal(0), "submitted", *manager),
        ("BX-IP", "2025-Q4", Decimal(1), "submitted", *manager),
        ("BX-OCC", "2025-Q3", Decimal("22.5"), "submitted", *manager),
    ]
    # The audit history has a row for each, naming the file and the person.
    assert set(ProgressEntry.history.values_list("history_change_reason", "history_user")) == {
        ("import of entries.csv", people["manager"].pk)
    }


def test_importing_the_same_entries_twice_changes_nothing(people):
    run_import(people["manager"], GOOD_CSV)
    history = ProgressEntry.history.count()
    result = run_import(people["manager"], GOOD_CSV)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 3)
    assert ProgressEntry.history.count() == history


def test_valid_xlsx_is_read_like_csv(people):
    content = xlsx(
        ["target", "period", "value", "note"],
        ["BX-IP", "2025-Q3", 0, "planning"],
        ["BX-OCC", "2025-Q3", 22.5, None],
    )
    result = run_import(people["manager"], content, filename="entries.xlsx")
    assert result.created == 2
    assert ProgressEntry.objects.get(target__code="BX-OCC").value == Decimal("22.5")


def test_a_number_typed_into_a_spreadsheet_cell_is_never_a_question_of_notation(people):
    # 1.234 as text is ambiguous (1234 in Vietnamese); as a number cell it is what it is.
    run_import(people["manager"], xlsx(["target", "period", "value"], ["BX-OCC", "2025-Q3", 1.234]),
               filename="typed.xlsx")
    assert ProgressEntry.objects.get().value == Decimal("1.234")


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
    assert problems_of(people["manager"], BAD_CSV) == [
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
    assert problems_of(people["manager"], content, filename="gaps.csv") == [
        "gaps.csv row 4 (BX-IP 2025-Q4): value: “x” is not a number.",
        "gaps.csv row 5 (BX-IP 2026-Q1): This row has 5 cells; the header has 4 columns.",
    ]


# --- values checked against the target -----------------------------------------------------


def test_values_outside_the_targets_range_are_refused(people):
    Target.objects.filter(code="BX-OCC").update(max_value=Decimal(90))
    content = (
        "target,period,value\n"
        "BX-IP,2025-Q3,-1\n"  # a count below 0
        "BX-IP,2025-Q4,1.5\n"  # not a whole number of parks
        "BX-OCC,2025-Q3,95\n"  # above the plan's largest value
        "BX-OCC,2025-Q4,-5 %\n"  # a percentage below 0
    )
    assert problems_of(people["manager"], content) == [
        "entries.csv row 2 (BX-IP 2025-Q3): value: -1 is below 0, the smallest value of this "
        "target.",
        "entries.csv row 3 (BX-IP 2025-Q4): value: 1.5 is not a whole number.",
        "entries.csv row 4 (BX-OCC 2025-Q3): value: 95 lies outside 0 – 90 for this target.",
        "entries.csv row 5 (BX-OCC 2025-Q4): value: -5 is not a percentage between 0 and 100.",
    ]


def test_a_yes_no_target_takes_only_0_or_1(people):
    Target.objects.filter(code="BX-IP").update(min_value=0, max_value=1)
    assert problems_of(people["manager"], "target,period,value\nBX-IP,2025-Q3,15\n") == [
        "entries.csv row 2 (BX-IP 2025-Q3): value: 15 lies outside 0 – 1 for this target."
    ]


def test_a_target_without_a_minimum_takes_negative_values(people):
    Target.objects.filter(code="BX-IP").update(min_value=None)
    run_import(people["manager"], "target,period,value\nBX-IP,2025-Q3,−2\n")
    assert ProgressEntry.objects.get().value == Decimal(-2)


def test_a_period_that_has_not_started_is_refused(people):
    problems = problems_of(people["manager"], "target,period,value\nBX-IP,2029-Q4,1\n")
    assert problems == [
        "entries.csv row 2 (BX-IP 2029-Q4): period: 2029-Q4 has not started yet: it can be "
        "reported from 1 Oct 2029."
    ]
    # The period running today may be reported.
    run_import(people["manager"], "target,period,value\nBX-IP,2026-Q4,1\n")


def test_a_percentage_cell_may_carry_a_percent_sign(people):
    run_import(people["manager"], 'target,period,value\nBX-OCC,2025-Q3,"22,5 %"\n')
    assert ProgressEntry.objects.get().value == Decimal("22.5")


# --- numbers in files (the whole table: tests/test_numbers.py) --------------------------------


def test_an_entries_file_may_use_the_decimal_comma(people):
    run_import(people["manager"], 'target,period,value\nBX-OCC,2025-Q3,"22,5"\n')
    assert ProgressEntry.objects.get(target__code="BX-OCC").value == Decimal("22.5")


@pytest.mark.parametrize("language", ["vi", "en"])
def test_a_thousands_group_without_decimals_is_refused_in_any_language(people, language):
    # 1.250 is 1250 in Vietnamese but 1.25 in English: never a thousand times off in silence.
    from django.utils import translation

    with translation.override(language):
        problems = problems_of(people["manager"], "target,period,value\nBX-OCC,2025-Q3,1.250\n")
    assert len(problems) == 1 and "1250" in problems[0] and "1" in problems[0]
    assert ProgressEntry.objects.count() == 0


def test_plan_values_are_read_without_a_language(people):
    assert parse_value("1.234,5", "decimal") == Decimal("1234.5")
    with pytest.raises(WorkflowError, match="can be read two ways"):
        parse_value("1.250", "decimal")


def test_a_percent_formatted_xlsx_cell_is_read_as_the_percentage_it_shows(people):
    content = xlsx(["target", "period", "value"], ["BX-OCC", "2025-Q3", 0.855])
    book = openpyxl.load_workbook(io.BytesIO(content))
    book.active["C2"].number_format = "0.0%"  # Excel shows 85.5 %
    buffer = io.BytesIO()
    book.save(buffer)
    run_import(people["manager"], buffer.getvalue(), filename="percent.xlsx")
    assert ProgressEntry.objects.get(target__code="BX-OCC").value == Decimal("85.5")


# --- files that are not what they should be ---------------------------------------------------


def test_a_semicolon_separated_file_is_read(people):
    content = "target;period;value;note\nBX-OCC;2025-Q3;22,5;xuất khẩu từ Excel\n"
    run_import(people["manager"], content)
    entry = ProgressEntry.objects.get()
    assert (entry.value, entry.note) == (Decimal("22.5"), "xuất khẩu từ Excel")


def test_a_tab_separated_utf16_file_is_read(people):
    content = "target\tperiod\tvalue\nBX-IP\t2025-Q3\t1\n".encode("utf-16")
    run_import(people["manager"], content, filename="unicode.txt")
    assert ProgressEntry.objects.get().value == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("target,period,value,note\nBX-IP,2025-Q3,1,Bát Xát\n".encode("cp1258"),
         "not UTF-8 text (line 2)"),
        ("target,period,value\nBX-IP,2025-Q3,1\n".encode("utf-16-le"), "not UTF-8 text"),
        (b"", "no rows"),
        (b"\n\n", "no rows"),
        (b"target,period,value\n", "no rows"),
        (b"target,period,value,value\nBX-IP,2025-Q3,1,2\n", "named twice"),
        (b"PK\x03\x04broken", "Cannot read the XLSX workbook"),
        (b"target,period,value\nBX-IP,2025-Q3,\"1\n", "row 2: Cannot read this line"),
        (b"target,period,value\nBX-IP,2025-Q3,\"1\"2\n", "row 2: Cannot read this line"),
    ],
)
def test_a_file_that_cannot_be_read_says_why(people, content, message):
    problems = problems_of(people["manager"], content)
    assert len(problems) == 1 and message in problems[0], problems


def test_a_broken_xlsx_is_a_problem_not_a_crash(people):
    problems = problems_of(people["manager"], b"not a workbook", filename="entries.xlsx")
    assert "not an XLSX workbook" in problems[0]


def test_an_xlsx_named_csv_is_read_as_xlsx(people):
    run_import(people["manager"], xlsx(["target", "period", "value"], ["BX-IP", "2025-Q3", 1]))
    assert ProgressEntry.objects.count() == 1


def test_control_characters_and_overlong_cells_are_problems(people):
    code = "BX" + "W" * 60
    content = (
        "target,period,value,note\n"
        "BX\x00WARD,2025-Q3,1,\n"
        "BX-IP,2025-Q3,1,a NUL \x00 in the note\n"
        f"{code},2025-Q3,1,\n"
        "BX-IP,2025-Q4-and-much-more-than-a-period,1,\n"
        "BX-IP,2026-Q1,12345678901234567,\n"
        "BX-IP,2026-Q2,1\x002,\n"
        'BX-IP,2026-Q3,1,"tabs\tand\nnew lines are fine in a note"\n'
    )
    problems = problems_of(people["manager"], content)
    assert [p.split(": ", 1)[1] for p in problems] == [
        "target: Contains control characters (such as a NUL byte): remove them.",
        "note: Contains control characters (such as a NUL byte): remove them.",
        f"target: Unknown target “{code[:39]}…”.",
        "period: “2025-Q4-and-much-more-than-a-period” is not a reporting period of BX-IP "
        "(2025-Q3 … 2030-Q4).",
        "value: 12345678901234567 has too many digits (at most 16 before and 4 after the point).",
        "value: Contains control characters (such as a NUL byte): remove them.",
    ]
    assert "\x00" not in "".join(problems)  # places quote codes without the NUL
    assert ProgressEntry.objects.count() == 0


def test_preview_lists_every_row_with_its_problems(people):
    rows = importing.entries_preview(
        user=people["manager"], content=BAD_CSV.encode(), filename="bad.csv", today=TODAY
    )
    assert [r.number for r in rows] == [2, 3, 4, 5, 6, 7]
    assert [len(r.problems) for r in rows] == [1, 1, 1, 1, 0, 1]


def test_targets_outside_the_users_scope_read_as_unknown(people):
    problems = problems_of(people["outsider"], GOOD_CSV)
    assert len(problems) == 3 and all("Unknown target" in p for p in problems)


def test_missing_header_column_is_reported(people):
    problems = problems_of(people["manager"], "target,value\nBX-IP,1\n")
    assert "Missing column(s): period" in problems[0]


# --- an import over recorded entries follows the workflow's permissions -----------------------


def test_an_already_approved_entry_is_not_overwritten(people):
    entry = submitted(people["staff"], period="2025-Q3", value="0")
    approve(people["manager"], entry)
    problems = problems_of(people["manager"], "target,period,value\nBX-IP,2025-Q3,1\n")
    assert "already has a approved entry for 2025-Q3" in problems[0]
    assert stored(entry).value == Decimal(0)


def test_an_import_submits_a_colleagues_draft_and_records_who_set_the_value(people):
    entry = draft(people["staff"], period="2025-Q3", value="0")
    result = run_import(people["staff2"], "target,period,value\nBX-IP,2025-Q3,1\n")
    assert (result.created, result.updated) == (0, 1)
    entry = stored(entry)
    assert (entry.status, entry.value, entry.note) == ("submitted", Decimal(1), "n")  # note kept
    assert (entry.author, entry.last_editor, entry.submitted_by) == (
        people["staff"], people["staff2"], people["staff2"])
    assert entry.version == 2


def test_an_import_resolves_the_overdue_alert_of_the_period_it_reports(people):
    from targets.services.evaluation import targets_evaluate

    targets_evaluate(on=TODAY, alert_settings=RULES)
    overdue = Alert.objects.filter(target__code="BX-IP", kind="overdue", subject="2025-Q3")
    assert overdue.get().resolved_at is None
    run_import(people["staff"], "target,period,value\nBX-IP,2025-Q3,0\n")
    assert overdue.get().resolved_at is not None
    still_open = Alert.objects.filter(target__code="BX-IP", kind="overdue", subject="2025-Q4")
    assert still_open.get().resolved_at is None


def test_an_import_as_approved_approves_the_entries_others_submitted(people):
    run_import(people["staff"], GOOD_CSV.replace("BX-OCC", "BX-IP").replace("2025-Q3,22.5",
                                                                               "2026-Q1,1"))
    result = run_import(people["manager"], GOOD_CSV.replace("BX-OCC", "BX-IP").replace(
        "2025-Q3,22.5", "2026-Q1,1"), status="approved")
    assert (result.created, result.approved) == (0, 3)
    entries = ProgressEntry.objects.all()
    assert {(e.status, e.author_id, e.reviewer_id) for e in entries} == {
        ("approved", people["staff"].pk, people["manager"].pk)
    }
    assert all(e.version == 2 for e in entries)
    # Approved, the targets are re-assessed at once.
    assert ip().latest_assessment is not None


def test_an_import_as_approved_approves_nothing_its_importer_entered(people):
    submitted(people["manager"], period="2025-Q3", value="0")
    draft(people["staff"], period="2025-Q4", value="1")
    problems = problems_of(
        people["manager"],
        "target,period,value\nBX-IP,2025-Q3,0\nBX-IP,2025-Q4,1\nBX-IP,2026-Q1,1\n",
        status="approved",
    )
    assert [p.split(": ", 2)[2] for p in problems] == [
        "You set this value: another manager approves it. (BX-IP 2025-Q3)",
        "BX-IP has a draft entry for 2025-Q4: it is reviewed in the review queue once submitted.",
        "Nothing to approve: BX-IP has no submitted entry for 2026-Q1. Import it as submitted; "
        "another manager approves it.",
    ]
    assert set(ProgressEntry.objects.values_list("status", flat=True)) == {"submitted", "draft"}


def test_an_import_as_approved_approves_only_the_value_that_was_submitted(people):
    entry = submitted(people["staff"], period="2025-Q3", value="0")
    problems = problems_of(people["manager"], "target,period,value\nBX-IP,2025-Q3,1\n",
                           status="approved")
    assert "The file says 1 but the submitted entry says 0" in problems[0]
    assert stored(entry).status == "submitted"


def test_import_as_approved_needs_a_manager(people):
    submitted(people["staff"], period="2025-Q3", value="0")
    problems = problems_of(people["staff2"], "target,period,value\nBX-IP,2025-Q3,0\n",
                           status="approved")
    assert "You may not approve entries of BX-IP" in problems[0]


def test_reimporting_after_approval_changes_nothing(people):
    run_import(people["staff"], "target,period,value,note\nBX-IP,2025-Q3,0,n\n")
    approve(people["manager"], ProgressEntry.objects.get())
    result = run_import(people["staff"], "target,period,value,note\nBX-IP,2025-Q3,0,n\n")
    assert (result.created, result.updated, result.unchanged) == (0, 0, 1)
    assert ProgressEntry.objects.get().status == "approved"


def test_an_import_as_approved_reassesses_all_its_targets_at_once(people, monkeypatch):
    run_import(people["staff"], "target,period,value\nBX-IP,2025-Q3,0\n")
    run_import(people["dept_staff"], "target,period,value\nBX-OCC,2025-Q3,30\n")
    calls = []
    monkeypatch.setattr(
        importing, "targets_reassess", lambda targets, alert_settings: calls.append(targets)
    )
    run_import(people["manager"], "target,period,value\nBX-IP,2025-Q3,0\nBX-OCC,2025-Q3,30\n",
               status="approved")
    assert len(calls) == 1  # one evaluation run: one digest per recipient
    assert sorted(t.code for t in calls[0]) == ["BX-IP", "BX-OCC"]


# --- never a partial write, never a traceback --------------------------------------------------


def test_entries_recorded_between_the_check_and_the_write_are_checked_again(people, monkeypatch):
    checked = importing._checked

    def meanwhile(**kwargs):
        found = checked(**kwargs)
        submitted(people["staff2"], period="2025-Q4", value="2")  # someone else, just now
        return found

    monkeypatch.setattr(importing, "_checked", meanwhile)
    content = "target,period,value\nBX-IP,2025-Q3,0\nBX-IP,2025-Q4,1\n"
    problems = problems_of(people["staff"], content)
    assert problems == ["entries.csv row 3 (BX-IP 2025-Q4): period: BX-IP already has a "
                        "submitted entry for 2025-Q4."]
    assert ProgressEntry.objects.count() == 1  # theirs only


def test_a_concurrent_insert_is_a_problem_and_nothing_is_written(people, monkeypatch):
    from django.db import IntegrityError

    def collide(*args, **kwargs):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(importing.bulk, "insert_with_history", collide)
    problems = problems_of(people["manager"], GOOD_CSV)
    assert "were recorded while the file was imported" in problems[0]
    assert ProgressEntry.objects.count() == 0


def test_the_number_of_queries_does_not_grow_with_the_rows(people, django_assert_max_num_queries):
    def rows(count: int) -> str:
        quarters = [f"{y}-Q{q}" for y in (2025, 2026) for q in range(1, 5)][2:]
        lines = [f"BX-IP,{p},{i % 3}" for i, p in enumerate(quarters)]
        lines += [f"BX-OCC,{p},{30 + i}" for i, p in enumerate(quarters)]
        return "target,period,value\n" + "\n".join(lines[:count]) + "\n"

    with CaptureQueriesContext(connection) as few:
        run_import(people["manager"], rows(2))
    ProgressEntry.objects.all().delete()
    with django_assert_max_num_queries(len(few.captured_queries)):
        run_import(people["manager"], rows(12))
    assert ProgressEntry.objects.count() == 12


# --- the command -----------------------------------------------------------------------------


def test_import_entries_command(people, tmp_path, capsys):
    path = tmp_path / "entries.csv"
    path.write_text(GOOD_CSV, encoding="utf-8")
    call_command("import_entries", str(path), "--user", "bx.manager")
    assert "3 created" in capsys.readouterr().out
    assert set(ProgressEntry.objects.values_list("status", "submitted_by__username")) == {
        ("submitted", "bx.manager")
    }
    call_command("import_entries", str(path), "--user", "lc.manager", "--status", "approved")
    assert "3 approved" in capsys.readouterr().out
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


def test_import_entries_command_needs_a_user(people, tmp_path):
    path = tmp_path / "entries.csv"
    path.write_text(GOOD_CSV, encoding="utf-8")
    with pytest.raises(CommandError, match="--user"):
        call_command("import_entries", str(path))
    # A user named `import` is a user like any other: no special meaning, no scope.
    make_user("import")
    with pytest.raises(CommandError, match="3 problems"):
        call_command("import_entries", str(path), "--user", "import")
    assert ProgressEntry.objects.count() == 0


def test_an_operator_account_that_cannot_sign_in_imports_in_its_scope(people, small_plan,
                                                                      tmp_path, client):
    operator = make_user("stats-office", [(small_plan["LC"], Role.MANAGER)])
    operator.set_unusable_password()
    operator.save()
    path = tmp_path / "entries.csv"
    path.write_text(GOOD_CSV, encoding="utf-8")
    call_command("import_entries", str(path), "--user", "stats-office")
    assert set(ProgressEntry.objects.values_list("author__username", flat=True)) == {
        "stats-office"}
    # Through the sign-in form: axes' backend needs the request that Client.login() lacks.
    response = client.post("/accounts/login/", {"username": "stats-office", "password": "x"})
    assert response.status_code == 200 and "_auth_user_id" not in client.session


def test_import_entries_command_rejects_unknown_user(people, tmp_path):
    path = tmp_path / "entries.csv"
    path.write_text(GOOD_CSV, encoding="utf-8")
    with pytest.raises(CommandError, match="No active user"):
        call_command("import_entries", str(path), "--user", "nobody")


def test_a_target_seen_but_not_reported_on_says_so_and_names_who_reports(people, in_english):
    # bx.staff sees its department's BX-OCC (below its unit) but reports only on its own unit's.
    problems = problems_of(people["staff"], GOOD_CSV)
    assert problems == [
        "entries.csv row 4 (BX-OCC 2025-Q3): target: You may not report on BX-OCC: its "
        "reports come from Industry department."
    ]
