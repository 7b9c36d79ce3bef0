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
from tests.alerting import EVALUATION_QUERIES, RULES
from tests.conftest import plan_operator

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def report(people, code: str, period: str, value: str, *, approve: bool = True) -> None:
    target = Target.objects.select_related("responsible_unit").get(code=code)
    entry = workflow.entry_save_draft(
        user=people["manager"], target_id=target.pk, period=period, value=value,
        today=date(2031, 1, 1),  # written when the test's story says: the period has begun
    )
    entry = workflow.entry_submit(user=people["manager"], entry_id=entry.pk)
    if approve:
        workflow.entry_approve(user=people["province"], entry_id=entry.pk, reassess=None)


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
    # BX-IP, step: the latest approved entry is 2026-Q2, so the actual 0 speaks for 2026-06-30;
    # the last point on or before it (and on or before 2027-06-30) is the baseline, so expected
    # = expected now = 0 and the ratio is 1 by definition → on_track (reason: ratio). Four
    # zeros: the trend is flat → "never"; projected 0. Overdue: 2026-Q3 (due 10-15), 2026-Q4
    # (01-15), 2027-Q1 (04-15); 2027-Q2 ends on the evaluation date and is not overdue.
    assert by_code["BX-IP"] == {
        "code": "BX-IP",
        "status": "on_track",
        "reason": "ratio",
        "as_of": "2026-06-30",
        "actual": 0,
        "expected": 0,
        "expected_now": 0,
        "ratio": 1.0,
        "projected": 0.0,
        "forecast": "never",
        "reporting": "overdue",
        "overdue_periods": ["2026-Q3", "2026-Q4", "2027-Q1"],
        "milestones_missed": [],
    }
    # BX-OCC, linear over 2010 days: actual = 31 (latest approved, 2026-Q4) as of 2026-12-31,
    # 549 days after the baseline → expected(as of) = 20 + 60·549/2010 = 36.388059…;
    # ratio = 11 / 16.388059… = 22110/32940 = 0.671220… < 0.8 → lagging (reason: ratio).
    # Expected now (730 days) = 20 + 60·730/2010 = 41.791044…. Trend through (0, 22),
    # (92, 25), (457, 31) days from 2025-09-30:
    # x̄ = 183, ȳ = 26, Sxx = 116846, Sxy = 2193; at x = 1918 (2030-12-31)
    # projected = 26 + 2193·1735/116846 = 58.56299; 80 is reached at x = 183 + 54·116846/2193
    # = 3060.19 → day 3061 = 2034-02-16. Unreported: 2026-Q1, Q2, Q3.
    assert by_code["BX-OCC"] == {
        "code": "BX-OCC",
        "status": "lagging",
        "reason": "ratio",
        "as_of": "2026-12-31",
        "actual": 31,
        "expected": 36.3881,
        "expected_now": 41.791,
        "ratio": 0.6712,
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
    assert occ.latest_assessment.ratio == Decimal("0.671220")
    assert occ.latest_assessment.as_of == date(2026, 12, 31)
    assert occ.latest_assessment.expected == Decimal("36.388060")
    assert occ.latest_assessment.expected_now == Decimal("41.791045")
    assert occ.latest_assessment.reason == "ratio"
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


def test_milestone_missed_is_reported_once_its_period_has_spoken(reported):
    # BX-IP's milestone (1 park by 2027-12-31) lies in 2027-Q4, due with its 15 grace days by
    # 2028-01-15. Nothing has been approved since 2026-Q2, so on 2028-01-15 the period has not
    # spoken yet: the milestone waits, and the last report (0 as of 2026-06-30, when 0 was
    # expected) is on plan → on_track, expected 0, expected now 1.
    result = evaluate_json("--date", "2028-01-15", "--dry-run")
    ip = next(t for t in result["targets"] if t["code"] == "BX-IP")
    assert (ip["status"], ip["expected"], ip["expected_now"], ip["ratio"]) == (
        "on_track", 0, 1, 1.0
    )
    assert ip["milestones_missed"] == []
    assert "2027-Q4" not in ip["overdue_periods"]
    # The day after, 2027-Q4 is overdue: the milestone is judged on the actual as of the end of
    # its period (0, from 2026-Q2) < 1 → missed; the status still speaks for 2026-06-30.
    result = evaluate_json("--date", "2028-01-16", "--dry-run")
    ip = next(t for t in result["targets"] if t["code"] == "BX-IP")
    assert ip["milestones_missed"] == ["2027-12-31"]
    assert "2027-Q4" in ip["overdue_periods"]
    assert ip["status"] == "on_track"


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


def test_evaluation_query_count_does_not_grow_with_targets(people, django_assert_num_queries):
    from tests.conftest import many_targets_plan

    plan_import(data=load_located(many_targets_plan(10)), filename="ten.yaml", user=plan_operator())
    # Judging, storing and recording alerts (with their recipients and digests) take a fixed
    # number of queries, whatever the number of targets.
    with django_assert_num_queries(len(EVALUATION_QUERIES)):
        targets_evaluate(on=date(2027, 6, 30), alert_settings=RULES)
    plan_import(
        data=load_located(many_targets_plan(200)), filename="more.yaml", user=plan_operator()
    )
    with django_assert_num_queries(len(EVALUATION_QUERIES)):
        targets_evaluate(on=date(2027, 6, 30), alert_settings=RULES)


def test_seed_fixtures_and_demo_show_every_status_in_json(db):
    for name in ("bat-xat-2025-2030.yaml", "ma-lu-thang-2026-2030.yaml"):
        plan_import_file(FIXTURES / name, user=plan_operator())
    logins = demo_load(FIXTURES / "demo.yaml", operator=plan_operator())
    assert any(login.username == "admin" for login in logins)

    result = evaluate_json("--date", "2026-11-24")

    statuses = {t["status"] for t in result["targets"]}
    assert statuses == {"achieved", "on_track", "at_risk", "lagging", "missed", "no_data"}
    assert any(t["reporting"] == "overdue" for t in result["targets"])
    assert any(t["reporting"] == "ok" for t in result["targets"])
    for target in result["targets"]:
        assert set(target) == {
            "code", "status", "reason", "as_of", "actual", "expected", "expected_now", "ratio",
            "projected", "forecast", "reporting", "overdue_periods", "milestones_missed",
        }
        assert target["ratio"] is None or isinstance(target["ratio"], float)
    # Hand-checked in fixtures/demo.yaml: BX-OCC runs 20% → 60% milestone on 2027-12-31
    # (914 days); its latest report (41.5) speaks for 2026-09-30, 457 days in: expected
    # 20 + 40·457/914 = 40; now, at 512 days, 20 + 40·512/914 = 42.40700 → 42.407.
    occ = next(t for t in result["targets"] if t["code"] == "BX-OCC")
    assert (occ["status"], occ["as_of"], occ["actual"], occ["expected"], occ["expected_now"]) == (
        "on_track", "2026-09-30", 41.5, 40, 42.407
    )
    # Each reason of rule 8 shows in the demo.
    reasons = {t["code"]: t["reason"] for t in result["targets"]}
    assert reasons["MLT-CAPITAL"] == "pace"  # on_track by its ratio, lagging on its pace
    assert reasons["MLT-BUDGET"] == "ratio"
    assert set(reasons.values()) == {"achieved", "missed", "no_data", "ratio", "pace"}


def test_loading_the_demo_twice_changes_nothing(db):
    for name in ("bat-xat-2025-2030.yaml", "ma-lu-thang-2026-2030.yaml"):
        plan_import_file(FIXTURES / name, user=plan_operator())
    demo_load(FIXTURES / "demo.yaml", operator=plan_operator())
    from targets.models import ProgressEntry

    count = ProgressEntry.history.count()
    demo_load(FIXTURES / "demo.yaml", operator=plan_operator())
    assert ProgressEntry.history.count() == count



def test_a_target_that_cannot_be_judged_is_recorded_and_the_others_are_assessed(
    reported, monkeypatch, caplog
):
    """The rules are total; should one target still fail, it must not stop the others."""
    from targets import rules

    real = rules.assess

    def failing_for_occupancy(spec, observations, reported_periods, d):
        if spec.baseline_value == 20:  # BX-OCC
            raise ArithmeticError("a defect in the rules")
        return real(spec, observations, reported_periods, d)

    monkeypatch.setattr(rules, "assess", failing_for_occupancy)
    with caplog.at_level("ERROR", logger="targets.services.evaluation"):
        result = evaluate_json("--date", "2027-06-30")

    by_code = {t["code"]: t for t in result["targets"]}
    assert by_code["BX-OCC"] == {
        "code": "BX-OCC", "status": None, "error": "ArithmeticError: a defect in the rules",
    }
    assert by_code["BX-IP"]["status"] == "on_track"
    occ = Target.objects.select_related("latest_assessment").get(code="BX-OCC")
    failed = occ.latest_assessment
    assert (failed.status, failed.actual, failed.error) == (
        "", None, "ArithmeticError: a defect in the rules"
    )
    assert Target.objects.get(code="BX-IP").latest_assessment.status == "on_track"
    assert "BX-OCC could not be judged at 2027-06-30" in caplog.text
    # BX-OCC's three overdue quarters are not announced on a run that could not judge it.
    from targets.models import Alert

    assert not Alert.objects.filter(target__code="BX-OCC").exists()
    # The next run that can judge it compares with the last verdict (none: no_data).
    monkeypatch.setattr(rules, "assess", real)
    again = evaluate_json("--date", "2027-07-01")
    assert {t["code"]: t["status"] for t in again["targets"]}["BX-OCC"] == "lagging"
    assert Alert.objects.filter(target__code="BX-OCC", kind="worsened").count() == 1


def test_plans_at_the_ends_of_the_calendar_do_not_stop_the_evaluation(reported):
    """Rows no plan file accepts (the checker bounds dates to 1900–2200) but a database may
    hold: a due date of 9999-12-31 with a near-flat trend whose line would meet the target
    only after 9999-12-31, and a steep trend whose projection is too large to store."""
    occ = Target.objects.get(code="BX-OCC")
    far = Target.objects.create(
        code="FAR", name="Far", plan=occ.plan, area=occ.area,
        responsible_unit=occ.responsible_unit, measure="x", value_type="decimal",
        baseline_value=0, baseline_date=date(2025, 6, 30),
        target_value=100, due_date=date(9999, 12, 31), frequency="quarterly",
    )
    steep = Target.objects.create(
        code="STEEP", name="Steep", plan=occ.plan, area=occ.area,
        responsible_unit=occ.responsible_unit, measure="x", value_type="decimal",
        baseline_value=0, baseline_date=date(2025, 6, 30),
        target_value=Decimal("9999999999999999"), due_date=date(2200, 12, 31),
        frequency="quarterly",
    )
    people = reported
    for period, value in [("2025-Q3", "10"), ("2025-Q4", "10"), ("2026-Q1", "10.0001")]:
        report(people, "FAR", period, value)
    for period, value in [("2025-Q3", "0"), ("2025-Q4", "5000000000000000"),
                          ("2026-Q1", "9000000000000000")]:
        report(people, "STEEP", period, value)

    result = evaluate_json("--date", "2026-06-01")

    by_code = {t["code"]: t for t in result["targets"]}
    # FAR: the line through (0, 10), (92, 10), (182, 10.0001) days from 2025-09-30 has
    # Sxy = 0.009067, Sxx = 16562.7: a slope of 5.47·10⁻⁷ a day, so the 90 still missing take
    # some 1.6·10⁸ days — far past 9999-12-31: "never".
    # Projected at 9999-12-31, some 2.91·10⁶ days on: 10 + 5.47·10⁻⁷ × 2.91·10⁶ = 11.6 of 100,
    # below 90 % of
    # the way → lagging on its pace (rule 4 alone would say on_track: far ahead of a plan
    # that expects 100 over eight thousand years).
    assert by_code["FAR"]["forecast"] == "never"
    assert (by_code["FAR"]["status"], by_code["FAR"]["reason"]) == ("lagging", "pace")
    assert 10 < by_code["FAR"]["projected"] < 12
    # STEEP: 9·10¹⁵ in 274 days projects to about 10¹⁹ by 2200 — more than an assessment
    # holds (10¹⁸): stored as null, printed as the number it is.
    assert by_code["STEEP"]["projected"] > 1e18
    assert Target.objects.get(pk=steep.pk).latest_assessment.projected is None
    assert Target.objects.get(pk=far.pk).latest_assessment.forecast_never is True
    assert by_code["BX-IP"]["status"] == "on_track"
