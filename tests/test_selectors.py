"""The reads behind the screens: scoping, annotations, counts, history, chart series."""

from datetime import date
from decimal import Decimal
from itertools import pairwise

import pytest

from targets import selectors
from targets.models import EntryStatus, Status, Target
from targets.services import entries as workflow
from targets.services.evaluation import targets_evaluate
from targets.services.plans import load_located, plan_import
from tests.alerting import RULES
from tests.conftest import TODAY, plan_operator, submitted_entry

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
    workflow.entry_approve(user=p["manager"], entry_id=entry.pk, reassess=RULES)
    counts = selectors.status_counts(selectors.targets_status_rows(user=p["manager"]))
    assert counts[Status.ACHIEVED] == 1
    assert counts[Status.NO_DATA] == 1


def test_entries_carry_their_workflow_history(people):
    p = people
    entry = submitted_entry(p["staff"], "BX-IP", "2025-Q3", "0")
    workflow.entry_return(user=p["manager"], entry_id=entry.pk, comment="Attach the decision")
    workflow.entry_save_draft(
        user=p["staff"], target_id=entry.target_id, period="2025-Q3", value="1"
    )
    workflow.entry_submit(user=p["staff"], entry_id=entry.pk)
    workflow.entry_approve(user=p["manager"], entry_id=entry.pk, reassess=None)
    [shown] = selectors.target_entries(target=Target.objects.get(code="BX-IP"))
    assert [(e.status, e.edited) for e in shown.events] == [
        ("draft", False), ("submitted", False), ("returned", False), ("returned", True),
        ("submitted", False), ("approved", False),
    ]
    # Every step names who took it, even without a request (the services set it).
    assert [e.history_user for e in shown.events] == [
        p["staff"], p["staff"], p["manager"], p["staff"], p["staff"], p["manager"],
    ]


def test_chart_data_has_the_expected_line_actuals_and_forecast(people):
    p = people
    target = Target.objects.get(code="BX-OCC")
    for period, value in [("2025-Q3", "22"), ("2025-Q4", "24"), ("2026-Q1", "26")]:
        entry = submitted_entry(p["dept_staff"], "BX-OCC", period, value)
        workflow.entry_approve(user=p["manager"], entry_id=entry.pk, reassess=None)
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
    # The commitment as a point of its own; the axes' natural bounds and whole ticks.
    assert (data["target"], data["integer"], data["y_min"], data["y_max"]) == (
        {"x": "2030-12-31", "y": 80.0}, False, 0.0, 100.0  # a percentage: 0–100
    )
    assert (step["target"], step["integer"], step["y_min"], step["y_max"]) == (
        {"x": "2030-12-31", "y": 2.0}, True, 0.0, None  # 2 parks: whole ticks from 0
    )


SMOOTH_PLAN = """
plans:
  - code: SMOOTH
    name: "A plan that starts slowly"
    unit: LC-BATXAT
    start: 2025-07-01
    end: 2030-12-31
    areas:
      - {code: misc, name: "Miscellaneous"}
    targets:
      - code: S-CURVE
        name: "Workers attracted"
        area: misc
        responsible_unit: LC-BATXAT
        measure: "workers"
        value_type: integer
        trajectory: smooth
        baseline: {value: 0, date: 2026-01-01}
        target: {value: 30, date: 2026-07-20}
        frequency: monthly
        milestones:
          - {date: 2026-04-11, value: 10}
"""


def test_chart_data_draws_a_smooth_plan_as_its_sampled_curve(people):
    """Points 100 days apart: (0, 0), (100, 10), (200, 30). The secants are 0.1 and 0.2 a day;
    Fritsch–Carlson gives the slopes 0.05, 2/15 and 0.25 a day, and a Hermite cubic at the
    middle of an interval is (y0 + y1) / 2 + h × (d0 − d1) / 8: 5 − 25/24 on day 50 and
    20 − 35/24 on day 150 — below the straight lines, as a plan that speeds up should be."""
    plan_import(data=load_located(SMOOTH_PLAN), filename="smooth.yaml", user=plan_operator())
    data = selectors.chart_data(target=Target.objects.get(code="S-CURVE"), today=TODAY)
    assert data["stepped"] is False
    curve = {point["x"]: point["y"] for point in data["expected"]}
    # 47 samples between the ends, one of them on the milestone, and the three points.
    assert len(data["expected"]) == 49
    assert list(curve) == sorted(curve)
    # Through the baseline, the milestone and the target exactly.
    assert curve["2026-01-01"] == 0.0
    assert curve["2026-04-11"] == 10.0
    assert curve["2026-07-20"] == 30.0
    assert curve["2026-02-20"] == pytest.approx(5 - 25 / 24, abs=1e-9)
    assert curve["2026-05-31"] == pytest.approx(20 - 35 / 24, abs=1e-9)
    # Monotone: it never dips or overshoots between two points.
    values = list(curve.values())
    assert all(a <= b for a, b in pairwise(values))
    assert data["milestones"] == [{"x": "2026-04-11", "y": 10.0}]


def test_chart_data_marks_the_latest_reports_as_of_point(people):
    p = people
    target = Target.objects.get(code="BX-OCC")
    assert selectors.chart_data(target=target, today=TODAY)["as_of"] is None  # never assessed
    for period, value in [("2025-Q3", "22"), ("2025-Q4", "24"), ("2026-Q1", "26")]:
        entry = submitted_entry(p["dept_staff"], "BX-OCC", period, value)
        workflow.entry_approve(user=p["manager"], entry_id=entry.pk, reassess=None)
    targets_evaluate(on=TODAY, alert_settings=RULES)
    target = Target.objects.select_related("latest_assessment").get(code="BX-OCC")
    data = selectors.chart_data(target=target, today=TODAY)
    # 2026-03-31 is 274 days after the baseline: expected 20 + 60 × 274/2010 = 28.179104.
    assert data["as_of"] == {"x": "2026-03-31", "y": 26.0, "expected": pytest.approx(28.179104)}


def test_a_falling_percent_forecast_stops_at_0(people):
    """BX-OCC reported 60, 40, 20 on days 0, 92 and 182 after 2025-09-30: least squares give
    60.072 − 0.21977 a day (sxy = −3640, sxx = 16562.67), about −300 % by the due date; drawn,
    the line meets 0 and stays there."""
    p = people
    target = Target.objects.get(code="BX-OCC")
    for period, value in [("2025-Q3", "60"), ("2025-Q4", "40"), ("2026-Q1", "20")]:
        entry = submitted_entry(p["dept_staff"], "BX-OCC", period, value)
        workflow.entry_approve(user=p["manager"], entry_id=entry.pk, reassess=None)
    forecast = selectors.chart_data(target=target, today=TODAY)["forecast"]
    assert all(0 <= point["y"] <= 100 for point in forecast)
    start, crossing, end = forecast
    assert start["x"] == "2025-09-30" and start["y"] == pytest.approx(60, abs=0.2)
    assert crossing["y"] == 0 and end == {"x": "2030-12-31", "y": 0.0}
    # 60.072 / 0.21977 = 273.3: the nearest whole day is day 273, 2026-06-30.
    assert date.fromisoformat(crossing["x"]) == date(2026, 6, 30)


def test_review_list_is_the_managers_subtree(people):
    p = people
    submitted_entry(p["staff"], "BX-IP", "2025-Q3", "0")
    submitted_entry(p["dept_staff"], "BX-OCC", "2025-Q3", "21")
    assert len(selectors.entries_to_review(user=p["manager"])) == 2
    assert len(selectors.entries_to_review(user=p["province"])) == 2
    assert len(selectors.entries_to_review(user=p["outsider"])) == 0
    assert len(selectors.entries_to_review(user=p["staff"])) == 0
