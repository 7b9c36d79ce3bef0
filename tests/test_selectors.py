"""The reads behind the screens: scoping, annotations, counts, history, chart series."""

from decimal import Decimal

import pytest

from targets import selectors
from targets.models import EntryStatus, Status, Target
from targets.services import entries as workflow
from targets.services.evaluation import targets_reassess
from tests.conftest import TODAY, submitted_entry

pytestmark = pytest.mark.django_db


def codes(rows) -> list[str]:
    return sorted(t.code for t in rows)


def test_status_rows_follow_the_scope(assessed):
    p = assessed
    assert codes(selectors.targets_status_rows(user=p["staff"])) == ["BX-IP", "BX-OCC"]
    assert codes(selectors.targets_status_rows(user=p["dept_staff"])) == ["BX-OCC"]
    assert codes(selectors.targets_status_rows(user=p["province"])) == ["BX-IP", "BX-OCC"]
    assert codes(selectors.targets_status_rows(user=p["outsider"])) == []
    assert codes(selectors.targets_status_rows(user=p["admin"])) == ["BX-IP", "BX-OCC"]


def test_status_rows_carry_the_last_entry_and_status(assessed):
    p = assessed
    submitted_entry(p["staff"], "BX-IP", "2025-Q3", "0")
    submitted_entry(p["staff"], "BX-IP", "2025-Q4", "1")
    rows = {t.code: t for t in selectors.targets_status_rows(user=p["manager"])}
    assert rows["BX-IP"].last_entry_period == "2025-Q4"
    assert rows["BX-IP"].last_entry_status == EntryStatus.SUBMITTED
    assert rows["BX-IP"].last_entry_value == Decimal(1)
    assert rows["BX-OCC"].last_entry_period is None
    assert rows["BX-OCC"].current_status == Status.NO_DATA


def test_a_target_never_assessed_counts_as_no_data(people):
    counts = selectors.status_counts(selectors.targets_status_rows(user=people["admin"]))
    assert counts[Status.NO_DATA] == 2
    assert sum(counts.values()) == 2


def test_status_counts_after_an_approval(assessed):
    p = assessed
    entry = submitted_entry(p["staff"], "BX-IP", "2025-Q3", "2")
    workflow.entry_approve(user=p["manager"], entry=entry, after_approval=targets_reassess)
    counts = selectors.status_counts(selectors.targets_status_rows(user=p["manager"]))
    assert counts[Status.ACHIEVED] == 1
    assert counts[Status.NO_DATA] == 1


def test_entries_carry_their_workflow_history(people):
    p = people
    entry = submitted_entry(p["staff"], "BX-IP", "2025-Q3", "0")
    workflow.entry_return(user=p["manager"], entry=entry, comment="Attach the decision")
    entry.refresh_from_db()
    workflow.entry_save_draft(
        user=p["staff"], target=entry.target, period="2025-Q3", value="1", entry=entry
    )
    workflow.entry_submit(user=p["staff"], entry=entry)
    workflow.entry_approve(user=p["manager"], entry=entry)
    [shown] = selectors.target_entries(target=Target.objects.get(code="BX-IP"))
    assert [(e.status, e.edited) for e in shown.events] == [
        ("draft", False), ("submitted", False), ("returned", False), ("returned", True),
        ("submitted", False), ("approved", False),
    ]
    assert shown.events[-1].history_user is None  # no request: the service ran in a test


def test_chart_data_has_the_expected_line_actuals_and_forecast(people):
    p = people
    target = Target.objects.get(code="BX-OCC")
    for period, value in [("2025-Q3", "22"), ("2025-Q4", "24"), ("2026-Q1", "26")]:
        entry = submitted_entry(p["dept_staff"], "BX-OCC", period, value)
        workflow.entry_approve(user=p["manager"], entry=entry)
    data = selectors.chart_data(target=target, today=TODAY)
    assert data["expected"] == [
        {"x": "2025-06-30", "y": 20.0}, {"x": "2030-12-31", "y": 80.0},
    ]
    assert [a["y"] for a in data["actuals"]] == [22.0, 24.0, 26.0]
    # Least squares through (0, 22), (92, 24), (182, 26): a line from 2025-09-30 to the due date.
    assert [f["x"] for f in data["forecast"]] == ["2025-09-30", "2030-12-31"]
    assert data["forecast"][0]["y"] == pytest.approx(22.0, abs=0.05)
    assert data["stepped"] is False
    step = selectors.chart_data(target=Target.objects.get(code="BX-IP"), today=TODAY)
    assert step["stepped"] is True
    assert step["milestones"] == [{"x": "2027-12-31", "y": 1.0}]
    assert step["forecast"] == []


def test_review_list_is_the_managers_subtree(people):
    p = people
    submitted_entry(p["staff"], "BX-IP", "2025-Q3", "0")
    submitted_entry(p["dept_staff"], "BX-OCC", "2025-Q3", "21")
    assert len(selectors.entries_to_review(user=p["manager"])) == 2
    assert len(selectors.entries_to_review(user=p["province"])) == 2
    assert len(selectors.entries_to_review(user=p["outsider"])) == 0
    assert len(selectors.entries_to_review(user=p["staff"])) == 0
