"""Evaluation: assessments stored at a date, and `evaluate_targets` as DESIGN §7 specifies."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from targets.models import Assessment, Target
from targets.services import entries as workflow
from targets.services.demo import demo_load
from targets.services.evaluation import targets_evaluate
from targets.services.plans import load_located, plan_import, plan_import_file

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def report(people, code: str, period: str, value: str, *, approve: bool = True) -> None:
    target = Target.objects.select_related("responsible_unit").get(code=code)
    entry = workflow.entry_save_draft(
        user=people["manager"], target=target, period=period, value=value
    )
    entry = workflow.entry_submit(user=people["manager"], entry=entry)
    if approve:
        workflow.entry_approve(user=people["province"], entry=entry)


@pytest.fixture
def reported(people):
    # BX-IP (step 0 → 1 by 2027-12-31 → 2 by 2030-12-31): four approved zeros.
    for period in ("2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2"):
        report(people, "BX-IP", period, "0")
    # BX-OCC (linear 20% on 2025-06-30 → 80% on 2030-12-31): three approved, one submitted.
    report(people, "BX-OCC", "2025-Q3", "22")
    report(people, "BX-OCC", "2025-Q4", "25")
    report(people, "BX-OCC", "2026-Q4", "31")
    report(people, "BX-OCC", "2027-Q1", "99", approve=False)  # submitted: reported, not counted
    return people


def evaluate_json(*args: str) -> dict:
    out = StringIO()
    call_command("evaluate_targets", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_evaluate_targets_json_follows_design_section_7(reported):
    result = evaluate_json("--date", "2027-06-30")

    assert result["date"] == "2027-06-30"
    # First assessments are compared with no_data: BX-OCC worsens to lagging (1 alert); BX-IP
    # stays at severity 0 (none); three overdue quarters each (6). No milestone is due yet and
    # no deadline falls within the 5 reminder days (2027-Q2 is due 2027-07-15).
    assert result["alerts_created"] == 7
    by_code = {t["code"]: t for t in result["targets"]}
    # BX-IP, step: the last point on or before 2027-06-30 is the baseline, so expected = 0 and
    # the ratio is 1 by definition → on_track. Four zeros: the trend is flat → "never";
    # projected 0. Overdue: 2026-Q3 (due 10-15), 2026-Q4 (01-15), 2027-Q1 (04-15);
    # 2027-Q2 ends on the evaluation date and is not overdue.
    assert by_code["BX-IP"] == {
        "code": "BX-IP",
        "status": "on_track",
        "actual": 0,
        "expected": 0,
        "ratio": 1.0,
        "projected": 0.0,
        "forecast": "never",
        "reporting": "overdue",
        "overdue_periods": ["2026-Q3", "2026-Q4", "2027-Q1"],
        "milestones_missed": [],
    }
    # BX-OCC, linear: 730 of 2010 days → expected = 20 + 60·730/2010 = 41.791044…;
    # actual = 31 (latest approved, 2026-Q4); ratio = 11 / 21.791044… = 22110/43800 = 0.504794…
    # → lagging. Trend through (0, 22), (92, 25), (457, 31) days from 2025-09-30:
    # x̄ = 183, ȳ = 26, Sxx = 116846, Sxy = 2193; at x = 1918 (2030-12-31)
    # projected = 26 + 2193·1735/116846 = 58.56299; 80 is reached at x = 183 + 54·116846/2193
    # = 3060.19 → day 3061 = 2034-02-16. Unreported: 2026-Q1, Q2, Q3.
    assert by_code["BX-OCC"] == {
        "code": "BX-OCC",
        "status": "lagging",
        "actual": 31,
        "expected": 41.791,
        "ratio": 0.5048,
        "projected": 58.563,
        "forecast": "2034-02-16",
        "reporting": "overdue",
        "overdue_periods": ["2026-Q1", "2026-Q2", "2026-Q3"],
        "milestones_missed": [],
    }


def test_evaluation_stores_assessments_and_points_targets_at_the_latest(reported):
    call_command("evaluate_targets", "--date", "2027-06-30", stdout=StringIO())

    occ = Target.objects.get(code="BX-OCC")
    assert occ.latest_assessment.evaluated_on == date(2027, 6, 30)
    assert occ.latest_assessment.status == "lagging"
    assert occ.latest_assessment.ratio == Decimal("0.504795")
    assert occ.latest_assessment.forecast_label == "2034-02-16"
    # An evaluation of an earlier date is stored but does not replace the latest.
    call_command("evaluate_targets", "--date", "2026-01-31", stdout=StringIO())
    occ.refresh_from_db()
    assert occ.latest_assessment.evaluated_on == date(2027, 6, 30)
    assert Assessment.objects.filter(target=occ).count() == 2


def test_rerunning_the_same_date_keeps_one_assessment_per_target(reported):
    call_command("evaluate_targets", "--date", "2027-06-30", stdout=StringIO())
    first = set(Assessment.objects.values_list("pk", flat=True))
    call_command("evaluate_targets", "--date", "2027-06-30", stdout=StringIO())
    assert set(Assessment.objects.values_list("pk", flat=True)) == first


def test_dry_run_records_nothing(reported):
    before = Assessment.objects.count()
    result = evaluate_json("--date", "2027-06-30", "--dry-run")
    assert len(result["targets"]) == 2
    assert Assessment.objects.count() == before


def test_milestone_missed_is_reported_after_its_date(reported):
    # BX-IP's milestone (1 park by 2027-12-31) was not met by the actual as of that date (0).
    result = evaluate_json("--date", "2028-01-15", "--dry-run")
    ip = next(t for t in result["targets"] if t["code"] == "BX-IP")
    # step: expected(2028-01-15) = 1; ratio = (0 − 0)/(1 − 0) = 0 → lagging
    assert (ip["status"], ip["expected"], ip["ratio"]) == ("lagging", 1, 0.0)
    assert ip["milestones_missed"] == ["2027-12-31"]


def test_after_the_due_date_an_unmet_target_is_missed(reported):
    result = evaluate_json("--date", "2031-01-01", "--dry-run")
    assert {t["code"]: t["status"] for t in result["targets"]} == {
        "BX-IP": "missed",
        "BX-OCC": "missed",
    }


def test_a_bad_date_is_refused():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="not YYYY-MM-DD"):
        call_command("evaluate_targets", "--date", "30/06/2027")


def test_evaluation_query_count_does_not_grow_with_targets(people, django_assert_max_num_queries):
    from tests.conftest import many_targets_plan

    plan_import(data=load_located(many_targets_plan(10)), filename="ten.yaml")
    # Judging, storing and recording alerts (with their recipients and digests) take a fixed
    # number of queries, whatever the number of targets.
    with django_assert_max_num_queries(17):
        targets_evaluate(on=date(2027, 6, 30))
    plan_import(data=load_located(many_targets_plan(200)), filename="more.yaml")
    with django_assert_max_num_queries(17):
        targets_evaluate(on=date(2027, 6, 30))


def test_seed_fixtures_and_demo_show_every_status_in_json(db):
    for name in ("bat-xat-2025-2030.yaml", "ma-lu-thang-2026-2030.yaml"):
        plan_import_file(FIXTURES / name)
    logins = demo_load(FIXTURES / "demo.yaml")
    assert any(login.username == "admin" for login in logins)

    result = evaluate_json("--date", "2026-11-24")

    statuses = {t["status"] for t in result["targets"]}
    assert statuses == {"achieved", "on_track", "at_risk", "lagging", "missed", "no_data"}
    assert any(t["reporting"] == "overdue" for t in result["targets"])
    assert any(t["reporting"] == "ok" for t in result["targets"])
    for target in result["targets"]:
        assert set(target) == {
            "code", "status", "actual", "expected", "ratio", "projected", "forecast",
            "reporting", "overdue_periods", "milestones_missed",
        }
        assert target["ratio"] is None or isinstance(target["ratio"], float)
    # Hand-checked in fixtures/demo.yaml: BX-OCC runs 20% → 60% milestone on 2027-12-31
    # (914 days); at 512 days expected = 20 + 40·512/914 = 42.40700 → 42.407.
    occ = next(t for t in result["targets"] if t["code"] == "BX-OCC")
    assert (occ["status"], occ["actual"], occ["expected"]) == ("on_track", 41.5, 42.407)


def test_loading_the_demo_twice_changes_nothing(db):
    for name in ("bat-xat-2025-2030.yaml", "ma-lu-thang-2026-2030.yaml"):
        plan_import_file(FIXTURES / name)
    demo_load(FIXTURES / "demo.yaml")
    from targets.models import ProgressEntry

    count = ProgressEntry.history.count()
    demo_load(FIXTURES / "demo.yaml")
    assert ProgressEntry.history.count() == count

