"""How long judging targets that count themselves takes with a large register.

2,000 projects in 40 parks, each with 8 approved quarterly reports (16,000 reports), and one
register target of each measure kind over the whole register: judging them reads the register
in a fixed number of queries and computes each quarter end's value. `make bench` runs this; no
test asserts a time.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from register.models import Park, Project, ProjectReport, TargetMeasure
from targets import rules
from targets.models import EntryStatus, Target, Unit
from targets.services.evaluation import evaluation_targets, judge_targets
from targets.services.plans import load_located, plan_import

PARKS = 40
PROJECTS = 2000
QUARTERS = rules.reporting_periods(rules.Frequency.QUARTERLY, date(2024, 12, 31),
                                   date(2026, 12, 31))[:8]  # 2025-Q1 … 2026-Q4
STAGES = ["proposed", "policy_approved", "certificate_issued", "land_handed_over",
          "under_construction", "operating"]

PLAN = """
units:
  - {code: LC, name: Lao Cai}
  - {code: LC-BATXAT, name: Bat Xat, parent: LC}
plans:
  - {code: P, name: P, unit: LC-BATXAT, start: 2025-01-01, end: 2030-12-31,
     areas: [{code: a, name: A}], targets: [
      {code: COUNT, name: C, area: a, responsible_unit: LC-BATXAT, measure: x, value_type: integer,
       frequency: quarterly, baseline: {value: 0, date: 2024-12-31}, target: {value: 2000, date: 2030-12-31}},
      {code: CAPITAL, name: K, area: a, responsible_unit: LC-BATXAT, measure: x, value_type: decimal,
       frequency: quarterly, baseline: {value: 0, date: 2024-12-31}, target: {value: 5000000000000, date: 2030-12-31}},
      {code: JOBS, name: J, area: a, responsible_unit: LC-BATXAT, measure: x, value_type: integer,
       frequency: quarterly, baseline: {value: 0, date: 2024-12-31}, target: {value: 500000, date: 2030-12-31}},
      {code: OCCUPANCY, name: O, area: a, responsible_unit: LC-BATXAT, measure: x, value_type: percent,
       frequency: quarterly, baseline: {value: 0, date: 2024-12-31}, target: {value: 80, date: 2030-12-31}},
     ]}
"""  # noqa: E501 (a plan file)


@pytest.fixture
def register(db):
    operator = get_user_model().objects.create_user("bench.operator")
    plan_import(data=load_located(PLAN), filename="bench.yaml", user=operator)
    unit = Unit.objects.get(code="LC-BATXAT")
    parks = Park.objects.bulk_create(
        Park(code=f"P{i}", name=f"P{i}", kind="industrial_park", unit=unit,
             industrial_land_ha=Decimal(500))
        for i in range(PARKS)
    )
    projects = Project.objects.bulk_create(
        Project(code=f"D{i}", name=f"D{i}", investor="I", investor_country="VN",
                sector="infrastructure" if i < PARKS else "industry", unit=unit,
                park=parks[i % PARKS], registered_capital=Decimal(10**9 + i),
                land_area_ha=Decimal(2), stage="proposed", stage_date=date(2025, 1, 1))
        for i in range(PROJECTS)
    )
    ProjectReport.objects.bulk_create(
        ProjectReport(
            project=project, period=quarter.key, period_start=quarter.start,
            period_end=quarter.end, stage=STAGES[min(q + i % 3, len(STAGES) - 1)],
            stage_date=quarter.start, registered_capital=project.registered_capital,
            disbursed_capital=Decimal(q * 10**7), jobs_filled=q * 3, status=EntryStatus.APPROVED,
            from_file=True, author=operator,
        )
        for i, project in enumerate(projects)
        for q, quarter in enumerate(QUARTERS)
    )
    measures = {
        "COUNT": {"kind": "count", "counted": "projects", "stage": "under_construction"},
        "CAPITAL": {"kind": "registered_capital", "currency": "VND"},
        "JOBS": {"kind": "jobs_filled"},
        "OCCUPANCY": {"kind": "occupancy", "counted": "parks"},
    }
    for code, spec in measures.items():
        TargetMeasure.objects.create(target=Target.objects.get(code=code), unit=unit, **spec)


def test_bench_judge_register_targets_over_2000_projects(benchmark, register):
    on = date(2027, 1, 20)
    judged = benchmark.pedantic(
        lambda: judge_targets(list(evaluation_targets()), on), rounds=3, iterations=1
    )
    by_code = {target.code: judgement for target, judgement, _ in judged}
    assert all(judgement is not None for judgement in by_code.values())
    # Every project's last report (2026-Q4, the 8th quarter) has 7 × 3 jobs filled.
    assert by_code["JOBS"].actual == PROJECTS * 7 * 3
