"""How long the nightly evaluation takes for a province-sized set of targets.

`make bench` runs this; no test asserts a time (timing is measured, not judged).
"""

from datetime import date

import pytest
from django.contrib.auth import get_user_model

from targets.models import EntryStatus, Membership, ProgressEntry, Role, Target, Unit
from targets.services.evaluation import targets_evaluate
from targets.services.plans import load_located, plan_import

TARGETS = 1000
PERIODS = ["2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"]


def plan_text(n: int) -> str:
    lines = [
        "units:",
        "  - {code: LC, name: Lao Cai}",
        "  - {code: LC-BATXAT, name: Bat Xat, parent: LC}",
        "plans:",
        "  - {code: P, name: P, unit: LC-BATXAT, start: 2025-07-01, end: 2030-12-31,",
        "     areas: [{code: a, name: A}], targets: [",
    ]
    for i in range(n):
        trajectory = "step" if i % 3 == 0 else "linear"
        lines.append(
            f"      {{code: T{i}, name: T{i}, area: a, responsible_unit: LC-BATXAT, measure: x,"
            f" trajectory: {trajectory}, baseline: {{value: 0, date: 2025-06-30}},"
            " target: {value: 100, date: 2030-12-31},"
            " milestones: [{date: 2027-12-31, value: 40}]},"
        )
    lines.append("     ]}")
    return "\n".join(lines)


@pytest.fixture
def province(db):
    author = get_user_model().objects.create_user("author")
    plan_import(data=load_located(plan_text(TARGETS)), filename="bench.yaml", user=author)
    Membership.objects.create(user=author, unit=Unit.objects.get(code="LC-BATXAT"), role=Role.STAFF)
    periods = {p.key: p for p in Target.objects.first().reporting_periods()}
    ProgressEntry.objects.bulk_create(
        ProgressEntry(
            target=target,
            period=key,
            period_start=periods[key].start,
            period_end=periods[key].end,
            value=10 * (i + 1) + target.pk % 7,
            status=EntryStatus.APPROVED,
            author=author,
        )
        for target in Target.objects.all()
        for i, key in enumerate(PERIODS)
    )


def test_bench_evaluate_1000_targets(benchmark, province):
    # Each round re-evaluates the same date: the upsert path of the nightly job, alerts included.
    run = benchmark.pedantic(
        targets_evaluate, kwargs={"on": date(2026, 11, 24)}, rounds=5, iterations=1
    )
    assert len(run.results) == TARGETS


def test_bench_status_table_and_csv_export_of_1000_targets(benchmark, province, client):
    """A provincial manager opens the home page, then exports all rows as CSV."""
    targets_evaluate(on=date(2026, 11, 24))
    manager = get_user_model().objects.create_user("manager")
    Membership.objects.create(user=manager, unit=Unit.objects.get(code="LC"), role=Role.MANAGER)
    client.force_login(manager)

    def open_and_export():
        page = client.get("/")
        export = client.get("/", {"_export": "csv"})
        return page, export

    page, export = benchmark.pedantic(open_and_export, rounds=5, iterations=1)
    assert page.status_code == 200
    body = b"".join(export.streaming_content) if export.streaming else export.content
    assert body.count(b"\n") == TARGETS + 1  # the header and every row
