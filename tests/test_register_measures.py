# ruff: noqa: E501 (a register file in the tests: one flow mapping per row, as the fixture writes them)
"""Targets that count themselves (issue 14): register-derived actuals at a date for every
measure kind, hand-computed; project reports through the workflow with its scoping, four eyes
and versions; an approved stage change re-assessing and alerting; query counts that do not
grow with the register."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.utils import translation

from register.loading import register_load
from register.measures import measure_at, register_history
from register.models import Project, ProjectReport, TargetMeasure
from register.services import (
    project_report_approve,
    project_report_return,
    project_report_save_draft,
    project_report_submit,
)
from targets.errors import NotAllowed, StaleEntry, WorkflowError
from targets.models import Alert, Target
from targets.services.entries import entry_save_draft
from targets.services.evaluation import targets_evaluate
from targets.services.plans import load_located
from tests.alerting import RULES
from tests.conftest import plan_operator

pytestmark = pytest.mark.django_db

# Quarter ends: D0 before the register, D1 its opening (as_of 2026-03-31), D2 after the Q2 reports.
D0, D1, D2 = date(2025, 12, 31), date(2026, 3, 31), date(2026, 6, 30)

REGISTER = """
as_of: 2026-03-31
parks:
  - {code: P1, name: Park one, kind: industrial_park, unit: LC-BATXAT, industrial_land_ha: 100}
  - {code: P2, name: Park two, kind: industrial_park, unit: LC-BATXAT-IND, industrial_land_ha: 50}
  - {code: C1, name: Cluster, kind: industrial_cluster, unit: LC-BATXAT, industrial_land_ha: 20, leased_ha: 5}
  - {code: X1, name: Elsewhere, kind: industrial_park, unit: LCH, industrial_land_ha: 999}
projects:
  - {code: I1, name: Infra one, investor: A, investor_country: VN, sector: infrastructure, unit: LC-BATXAT, park: P1, registered_capital: 100, disbursed_capital: 10, land_area_ha: 100, jobs_filled: 0, stage: certificate_issued, stage_date: 2026-02-01}
  - {code: I2, name: Infra two, investor: B, investor_country: VN, sector: infrastructure, unit: LC-BATXAT-IND, park: P2, registered_capital: 200, disbursed_capital: 50, land_area_ha: 50, jobs_filled: 5, stage: under_construction, stage_date: 2026-01-15}
  - {code: T1, name: Tenant one, investor: C, investor_country: KR, sector: industry, unit: LC-BATXAT, park: P1, registered_capital: 30, disbursed_capital: 3, land_area_ha: 20, jobs_filled: 12, stage: land_handed_over, stage_date: 2026-03-01}
  - {code: T2, name: Tenant two, investor: D, investor_country: VN, sector: industry, unit: LC-BATXAT, park: P1, registered_capital: 40, land_area_ha: 10, stage: policy_approved, stage_date: 2026-03-10}
  - {code: T3, name: Depot, investor: E, investor_country: CN, sector: logistics, unit: LC-BATXAT, registered_capital: 7, registered_currency: USD, disbursed_capital: 2, jobs_filled: 30, stage: operating, stage_date: 2025-12-01}
  - {code: T4, name: Revoked, investor: F, investor_country: VN, sector: industry, unit: LC-BATXAT-IND, park: P2, registered_capital: 500, land_area_ha: 25, jobs_filled: 99, stage: revoked, stage_date: 2026-01-05}
  - {code: Z1, name: Far, investor: G, investor_country: VN, sector: industry, unit: LCH, registered_capital: 1000, jobs_filled: 1000, stage: operating, stage_date: 2025-01-01}
"""


@pytest.fixture
def register(people):
    register_load(data=load_located(REGISTER), filename="r.yaml", user=plan_operator())
    return people


def q2_reports(people) -> None:
    """Q2: T2's land handed over, I1 operating (P1 becomes operating), approved."""
    for code, figures in {
        "T2": {"stage": "land_handed_over", "stage_date": "2026-05-05",
               "registered_capital": 40, "disbursed_capital": 8, "jobs_filled": 4},
        "I1": {"stage": "operating", "stage_date": "2026-06-20", "registered_capital": 120,
               "disbursed_capital": 90, "jobs_filled": 7},
    }.items():
        report = project_report_save_draft(
            user=people["staff"], project_id=Project.objects.get(code=code).pk,
            period="2026-Q2", today=date(2026, 7, 5), **figures,
        )
        project_report_submit(user=people["staff"], report_id=report.pk)
        project_report_approve(user=people["manager"], report_id=report.pk, reassess=None)


def value(on: date, unit: str = "LC-BATXAT", **measure) -> D | None:
    measured = measured_at(on, unit, **measure)
    return measured.value


def measured_at(on: date, unit: str = "LC-BATXAT", **measure):
    from targets.models import Unit

    unit_row = Unit.objects.get(code=unit)
    spec = TargetMeasure(unit=unit_row, **measure)
    return measure_at(spec, unit_row.path, register_history([unit_row.path]), on)


def test_counts_of_projects_that_reached_a_stage(register):
    q2_reports(register)
    wanted = {"kind": "count", "counted": "projects", "stage": "under_construction"}
    # D1: I2 (under construction) and T3 (operating); I1, T1, T2 have not got there, T4 is
    # revoked and Z1 is another unit's.
    assert [value(day, **wanted) for day in (D0, D1, D2)] == [D(0), D(2), D(3)]
    # Every project in the register (no stage): five at D1 (not T4).
    assert value(D1, kind="count", counted="projects") == 5
    # A sector, and a unit below: only what lies under it.
    assert value(D1, kind="count", counted="projects", sector="logistics") == 1
    assert value(D1, "LC-BATXAT-IND", kind="count", counted="projects") == 1


def test_counts_of_parks_by_their_infrastructure_and_the_pipeline(register):
    q2_reports(register)
    wanted = {"kind": "count", "counted": "parks", "park_kind": "industrial_park",
              "stage": "operating"}
    assert [value(day, **wanted) for day in (D0, D1, D2)] == [D(0), D(0), D(1)]
    measured = measured_at(D2, **wanted)
    # P1 operating (I1), P2 under construction (I2); X1 is Lai Chau's.
    assert measured.pipeline == {"operating": 1, "under_construction": 1}
    assert [(i.code, i.stage, i.counted) for i in measured.items] == [
        ("P1", "operating", True), ("P2", "under_construction", False)]
    # Before the register's history starts, no park has a stage.
    assert measured_at(D0, **wanted).pipeline == {"": 2}


def test_capital_sums_in_one_currency(register):
    q2_reports(register)
    vnd = {"kind": "registered_capital", "currency": "VND"}
    # D1: I1 100 + I2 200 + T1 30 + T2 40 = 370 (T3 is in USD, T4 revoked); D2: I1 is 120.
    assert [value(day, **vnd) for day in (D0, D1, D2)] == [D(0), D(370), D(390)]
    assert measured_at(D1, **vnd).other_currency == 1
    disbursed = {"kind": "disbursed_capital", "currency": "VND"}
    # D1: 10 + 50 + 3 + 0 = 63; D2: I1 90, T2 8 → 90 + 50 + 3 + 8 = 151.
    assert [value(day, **disbursed) for day in (D1, D2)] == [D(63), D(151)]
    assert value(D1, kind="registered_capital", currency="USD") == D(7)
    # Only what reached a stage: I2 and T3 are under construction or beyond at D1 (VND: I2).
    assert value(D1, stage="under_construction", **vnd) == D(200)


def test_jobs_filled(register):
    q2_reports(register)
    # D1: I1 0 + I2 5 + T1 12 + T2 0 + T3 30 = 47 (T4 revoked); D2: I1 7, T2 4 → 58.
    assert [value(day, kind="jobs_filled") for day in (D0, D1, D2)] == [D(0), D(47), D(58)]


def test_occupancy_with_its_numerator_and_denominator(register):
    q2_reports(register)
    parks = {"kind": "occupancy", "counted": "parks", "park_kind": "industrial_park"}
    # P1 + P2 = 150 ha. D1: T1's 20 ha handed over (T4 revoked) → 20/150 = 13.33 %;
    # D2: T2's 10 ha too → 30/150 = 20.00 %. Infrastructure projects are not tenants.
    at_d1, at_d2 = measured_at(D1, **parks), measured_at(D2, **parks)
    assert (at_d1.value, at_d1.numerator, at_d1.denominator) == (D("13.33"), D(20), D(150))
    assert (at_d2.value, at_d2.numerator, at_d2.denominator) == (D("20.00"), D(30), D(150))
    # With the cluster, whose leased land is recorded (5 of 20 ha): 35/170 = 20.588… → 20.59 %.
    every = measured_at(D2, kind="occupancy", counted="parks")
    assert (every.value, every.numerator, every.denominator) == (D("20.59"), D(35), D(170))


def test_a_project_reports_figures_become_the_projects_once_approved(register):
    q2_reports(register)
    project = Project.objects.get(code="I1")
    assert (project.stage, project.registered_capital, project.jobs_filled) == (
        "operating", D(120), 7)
    # The register file's row stays the project's 2026-Q1 report.
    opening = ProjectReport.objects.get(project=project, period="2026-Q1")
    assert opening.from_file and opening.stage == "certificate_issued"


# --- the workflow: scoping, four eyes, versions -----------------------------------------------


def draft(user, code="T1", period="2026-Q2", **changes):
    figures = {"stage": "under_construction", "stage_date": "2026-05-01",
               "registered_capital": 30, "disbursed_capital": 9, "jobs_filled": 20}
    figures.update(changes)
    return project_report_save_draft(
        user=user, project_id=Project.objects.get(code=code).pk, period=period,
        today=date(2026, 7, 5), **figures)


def test_only_the_projects_unit_and_its_managers_report_on_it(register):
    with pytest.raises(NotAllowed):
        draft(register["outsider"])
    with pytest.raises(NotAllowed):  # staff of a department do not report for the commune
        draft(register["dept_staff"])
    assert draft(register["staff"]).status == "draft"
    assert draft(register["province"], code="T2").status == "draft"  # a manager above


def test_the_author_submitter_or_editor_never_approves(register):
    report = draft(register["manager"])
    project_report_submit(user=register["manager"], report_id=report.pk)
    with translation.override("vi"), pytest.raises(NotAllowed, match="Bạn đã nhập các số liệu"):
        project_report_approve(user=register["manager"], report_id=report.pk, reassess=None)
    with pytest.raises(NotAllowed):  # staff never review
        project_report_approve(user=register["staff"], report_id=report.pk, reassess=None)
    with pytest.raises(NotAllowed):  # outside the scope
        project_report_approve(user=register["outsider"], report_id=report.pk, reassess=None)
    approved = project_report_approve(user=register["province"], report_id=report.pk,
                                      reassess=None)
    assert approved.status == "approved" and approved.reviewer == register["province"]


def test_a_returned_report_is_fixed_and_resubmitted(register):
    report = draft(register["staff"])
    project_report_submit(user=register["staff"], report_id=report.pk)
    with pytest.raises(WorkflowError) as refused:
        project_report_return(user=register["manager"], report_id=report.pk, comment=" ")
    assert refused.value.field == "comment"
    project_report_return(user=register["manager"], report_id=report.pk,
                          comment="Thiếu hợp đồng thuê đất")
    fixed = draft(register["staff"], jobs_filled=25)
    assert (fixed.status, fixed.jobs_filled) == ("returned", 25)
    assert project_report_submit(user=register["staff"], report_id=report.pk).status == "submitted"
    project_report_approve(user=register["manager"], report_id=report.pk, reassess=None)
    with pytest.raises(WorkflowError):  # approved reports no longer change
        draft(register["staff"])


def test_a_stale_version_writes_nothing(register):
    report = draft(register["staff"])
    draft(register["staff2"], jobs_filled=21, version=report.version)
    with pytest.raises(StaleEntry):
        draft(register["staff"], jobs_filled=22, version=report.version)
    assert ProjectReport.objects.get(pk=report.pk).jobs_filled == 21
    with pytest.raises(StaleEntry):  # "there was none" when there is one
        draft(register["staff"], version=0)


@pytest.mark.parametrize(("changes", "field"), [
    ({"stage": "built"}, "stage"),
    ({"stage_date": "2026-07-02"}, "stage_date"),  # after the quarter's end
    ({"stage_date": "31/05/2026"}, "stage_date"),
    ({"registered_capital": "-1"}, "registered_capital"),
    ({"disbursed_capital": "nhiều"}, "disbursed_capital"),
    ({"jobs_filled": "2.5"}, "jobs_filled"),
])
def test_bad_figures_name_their_field_and_write_nothing(register, changes, field):
    with pytest.raises(WorkflowError) as refused:
        draft(register["staff"], **changes)
    assert refused.value.field == field
    assert not ProjectReport.objects.filter(from_file=False).exists()


def test_a_quarter_is_the_reporting_period(register):
    for period in ("2026-06", "2026", "Q2", "2027-Q1"):  # 2027-Q1 has not started
        with pytest.raises(WorkflowError) as refused:
            draft(register["staff"], period=period)
        assert refused.value.field == "period"


# --- register targets in the evaluation ---------------------------------------------------------


def occupancy_target(people) -> Target:
    """BX-OCC (linear 20 % on 2025-06-30 → 80 % on 2030-12-31) takes P1 + P2's occupancy."""
    register_load(data=load_located("""
measures:
  - {target: BX-OCC, kind: occupancy, counted: parks, unit: LC-BATXAT, park_kind: industrial_park}
"""), filename="m.yaml", user=plan_operator())
    return Target.objects.get(code="BX-OCC")


def test_a_register_target_refuses_entries(register):
    target = occupancy_target(register)
    with pytest.raises(WorkflowError, match="BX-OCC"):
        entry_save_draft(user=register["manager"], target_id=target.pk, period="2026-Q1",
                         value="30")


def test_an_approved_stage_change_reassesses_and_alerts_at_once(register):
    """P1 + P2 = 150 ha; a tenant of 46.5 ha handed over by 2026-03-31 → 31 %. On 2026-07-20 the
    latest quarter end is 2026-06-30: expected = 20 + 60 × 365/2010 = 30.8955…, ratio
    (31 − 20)/(30.8955 − 20) = 1.0096 → on_track. Approving its Q2 report saying it was revoked
    leaves 0 ha → 0 %, ratio −1.84 → lagging at once, with a "worsened" alert."""
    target = occupancy_target(register)
    register_load(data=load_located("""
as_of: 2026-03-31
projects:
  - {code: T5, name: Big tenant, investor: H, investor_country: JP, sector: industry, unit: LC-BATXAT, park: P1, registered_capital: 9, land_area_ha: 46.5, stage: land_handed_over, stage_date: 2026-03-20}
  - {code: T1, name: Tenant one, investor: C, investor_country: KR, sector: industry, unit: LC-BATXAT, park: P1, registered_capital: 30, disbursed_capital: 3, land_area_ha: 20, jobs_filled: 12, stage: proposed, stage_date: 2026-03-01}
"""), filename="t5.yaml", user=plan_operator())
    on = date(2026, 7, 20)
    targets_evaluate(on=on, alert_settings=RULES)
    target.refresh_from_db()
    assessment = target.latest_assessment
    assert (assessment.status, assessment.actual, assessment.as_of) == (
        "on_track", D(31), date(2026, 6, 30))
    assert assessment.reporting == "ok"  # nobody reports a register target: never overdue

    report = draft(register["staff"], code="T5", stage="revoked", stage_date="2026-06-10",
                   registered_capital=9, disbursed_capital=0, jobs_filled=0)
    project_report_submit(user=register["staff"], report_id=report.pk)
    project_report_approve(user=register["manager"], report_id=report.pk, reassess=RULES, on=on)
    target.refresh_from_db()
    assert (target.latest_assessment.status, target.latest_assessment.actual) == ("lagging", D(0))
    assert Alert.objects.filter(target=target, kind="worsened").count() == 1


def test_evaluating_register_targets_takes_the_same_queries_whatever_the_register(
    register, django_assert_max_num_queries
):
    occupancy_target(register)
    register_load(data=load_located("""
measures:
  - {target: BX-IP, kind: count, counted: parks, unit: LC-BATXAT, park_kind: industrial_park, stage: operating}
"""), filename="m2.yaml", user=plan_operator())
    on = date(2026, 7, 20)
    targets_evaluate(on=on, alert_settings=RULES)  # the first run records its alerts
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        targets_evaluate(on=on, alert_settings=RULES)
    many = "\n".join(
        f"  - {{code: N{i}, name: N{i}, investor: N, investor_country: VN, sector: industry, "
        f"unit: LC-BATXAT, park: P1, registered_capital: {i}, land_area_ha: 0.5, "
        f"stage: land_handed_over, stage_date: 2026-03-0{1 + i % 9}}}"
        for i in range(60)
    )
    register_load(data=load_located(f"as_of: 2026-03-31\nprojects:\n{many}\n"),
                  filename="many.yaml", user=plan_operator())
    targets_evaluate(on=on, alert_settings=RULES)  # records what the new projects changed
    with django_assert_max_num_queries(len(small.captured_queries)):
        targets_evaluate(on=on, alert_settings=RULES)


def test_a_quarters_report_is_due_by_the_10th_of_the_month_after(register):
    from register.selectors import projects_to_report

    def t1(today: date):
        return next(p for p in projects_to_report(user=register["staff"], today=today)
                    if p.code == "T1")

    # 2026-Q1's report is the register file's, approved: nothing due, the running quarter next.
    early = t1(date(2026, 4, 5))
    assert (early.report_period, early.report_deadline, early.report_late) == (
        "2026-Q2", None, False)
    # 2026-Q2 (ended 30/06) is due by 10/07/2026: on time that day, late the day after.
    on_time, late = t1(date(2026, 7, 10)), t1(date(2026, 7, 11))
    assert (on_time.report_period, on_time.report_deadline, on_time.report_late) == (
        "2026-Q2", date(2026, 7, 10), False)
    assert (late.report_deadline, late.report_late) == (date(2026, 7, 10), True)
    # A draft is still late; once submitted it is not.
    report = draft(register["staff"])
    assert t1(date(2026, 7, 11)).report_late is True
    project_report_submit(user=register["staff"], report_id=report.pk)
    assert t1(date(2026, 7, 11)).report_late is False


def test_a_unit_below_counts_its_projects_in_a_park_of_the_unit_above(register):
    """T4 and I2 lie in the department (LC-BATXAT-IND); P2 is the department's, and a tenant of
    the commune's P1 may be the department's too: the department's measure reads P1's kind."""
    register_load(data=load_located("""
as_of: 2026-03-31
projects:
  - {code: T6, name: Dept tenant, investor: J, investor_country: VN, sector: industry, unit: LC-BATXAT-IND, park: P1, registered_capital: 11, land_area_ha: 3, stage: proposed, stage_date: 2026-03-02}
"""), filename="t6.yaml", user=plan_operator())
    # Projects of the department in industrial parks: I2 and T4 (P2) are its own park's, T6 is
    # in the commune's P1; T4 is revoked. Registered VND: I2 200 + T6 11 = 211.
    assert value(D1, "LC-BATXAT-IND", kind="registered_capital", currency="VND",
                 park_kind="industrial_park") == D(211)


def test_an_entries_file_cannot_report_a_register_target(register):
    """Even a manager importing approved values: the row names the register, nothing is written."""
    from targets.errors import ImportFailed
    from targets.services.imports import entries_import

    occupancy_target(register)
    with translation.override("en"), pytest.raises(ImportFailed) as failed:
        entries_import(user=register["province"], filename="e.csv", status="approved",
                       reassess=RULES, content=b"target,period,value,note\nBX-OCC,2026-Q1,30,\n")
    assert [(p.field, "investment register" in p.message) for p in failed.value.problems] == [
        ("target", True)]
    assert not Target.objects.get(code="BX-OCC").entries.exists()
