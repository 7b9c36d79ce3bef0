"""The evaluation at scale: targets are judged and stored in batches, so the queries grow with
the batches, no statement grows with the targets, and the stored verdicts are the judged ones."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from django.db import connection
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from targets.models import Assessment, Target
from targets.services import alerts as alerting
from targets.services import evaluation
from targets.services.demo import demo_load
from targets.services.evaluation import evaluation_targets, judge_targets, targets_evaluate
from targets.services.plans import load_located, plan_import, plan_import_file
from tests.alerting import RULES
from tests.conftest import many_targets_plan, plan_operator

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
BATCH = 50
ON = date(2027, 6, 30)
# Per batch: its targets (locked), their milestones, their entries, their previous assessments,
# their assessments stored (a temporary table made or emptied, COPY — not counted — and one
# upsert from it) and one UPDATE of their latest assessment.
PER_BATCH = 8
# Once per run, after its last batch: the digests of the alerts' recipients (who has an
# address, INSERT the digests, UPDATE the recipients, read the pending ones back).
PER_RUN = 4
# Per batch with alerts to record (and no lagging target to escalate): its open alerts, the
# keys that exist, INSERT the new alerts, read them back, the members of the units concerned,
# INSERT the recipients.
ALERTS_PER_BATCH = 6


@contextmanager
def storage_queries(monkeypatch):
    """Capture the evaluation's queries, leaving out those of recording alerts (alerts.py,
    measured by its own tests)."""
    skipped: list[range] = []
    record = alerting.alerts_record

    def counted_apart(**kwargs):
        start = len(context.captured_queries)
        recorded = record(**kwargs)
        skipped.append(range(start, len(context.captured_queries)))
        return recorded

    monkeypatch.setattr(alerting, "alerts_record", counted_apart)
    with CaptureQueriesContext(connection) as context:
        captured: list[dict] = []
        yield captured
    captured.extend(
        q for i, q in enumerate(context.captured_queries) if not any(i in r for r in skipped)
    )


def many(count: int) -> None:
    plan_import(data=load_located(many_targets_plan(count)), filename="many.yaml",
                user=plan_operator())


def codes_from(first: int, last: int):
    return evaluation_targets().filter(code__gte=f"M{first:04d}", code__lt=f"M{last:04d}")


def test_queries_grow_with_batches_not_targets(people, monkeypatch):
    many(480)
    with storage_queries(monkeypatch) as few:
        targets_evaluate(
            on=ON, targets=codes_from(0, 120), batch_size=BATCH, alert_settings=RULES
        )
    with storage_queries(monkeypatch) as more:
        targets_evaluate(
            on=ON, targets=codes_from(120, 480), batch_size=BATCH, alert_settings=RULES
        )
    # 120 targets: batches of 50, 50, 20; 360 targets: seven of 50 and one of 10. The run's
    # own savepoint adds two (the test runs in a transaction).
    assert len(few) == 2 + PER_BATCH * 3 + PER_RUN
    assert len(more) == 2 + PER_BATCH * 8 + PER_RUN


def test_a_batch_that_ends_the_targets_exactly_costs_one_more_read(people, monkeypatch):
    many(100)
    with storage_queries(monkeypatch) as queries:
        run = targets_evaluate(
            on=ON, targets=codes_from(0, 100), batch_size=BATCH, alert_settings=RULES
        )
    assert len(run.results) == 100
    assert len(queries) == 2 + PER_BATCH * 2 + 1 + PER_RUN  # and the empty third page


def test_the_whole_run_takes_the_same_queries_per_batch_alerts_included(people):
    many(480)
    with CaptureQueriesContext(connection) as few:
        small = targets_evaluate(
            on=ON, targets=codes_from(0, 120), batch_size=BATCH, alert_settings=RULES
        )
    with CaptureQueriesContext(connection) as more:
        large = targets_evaluate(
            on=ON, targets=codes_from(120, 480), batch_size=BATCH, alert_settings=RULES
        )
    assert (small.alerts_created, large.alerts_created) == (240, 720)  # 2025 and 2026 overdue
    assert len(more) - len(few) == (PER_BATCH + ALERTS_PER_BATCH) * (8 - 3)


def test_no_statement_grows_with_the_targets(people, monkeypatch):
    many(800)

    def longest(first: int, last: int, on: date) -> int:
        with storage_queries(monkeypatch) as queries:
            targets_evaluate(
            on=on, targets=codes_from(first, last), batch_size=BATCH, alert_settings=RULES
        )
        return max(len(q["sql"]) for q in queries)

    first_runs = longest(0, 200, ON), longest(200, 800, ON)
    reruns = longest(0, 200, ON), longest(200, 800, ON)
    # A CASE bulk_update of 600 targets alone took over 30,000 characters.
    for small, large in (first_runs, reruns):
        assert large <= small + 200, (small, large)  # ids one digit longer, nothing more
        assert large < 15_000


def stored_rows(on: date) -> dict[int, dict]:
    return {
        a.target_id: model_to_dict(a, exclude=["id", "computed_at"])
        for a in Assessment.objects.filter(evaluated_on=on)
    }


def test_rerunning_the_same_date_stores_the_same_assessments(people):
    many(120)
    targets_evaluate(on=ON, batch_size=BATCH, alert_settings=RULES)
    first = {a.target_id: a.pk for a in Assessment.objects.all()}
    rows = stored_rows(ON)
    targets_evaluate(on=ON, batch_size=BATCH, alert_settings=RULES)
    assert {a.target_id: a.pk for a in Assessment.objects.all()} == first
    assert stored_rows(ON) == rows
    assert dict(Target.objects.values_list("pk", "latest_assessment_id")) == first


def load_fixtures_and_demo() -> None:
    for name in ("bat-xat-2025-2030.yaml", "ma-lu-thang-2026-2030.yaml"):
        plan_import_file(FIXTURES / name, user=plan_operator())
    demo_load(FIXTURES / "demo.yaml", operator=plan_operator())


def test_stored_assessments_are_what_judging_gives_batch_by_batch(db):
    load_fixtures_and_demo()
    # Out of order: the backfilled date must not take a target's latest assessment.
    dates = [date(2026, 11, 24), date(2027, 6, 30), date(2026, 3, 31), date(2031, 1, 15)]
    for done, on in enumerate(dates, start=1):
        # The pure judging path, over all targets at once, before anything of this date is stored.
        expected = {
            t.pk: model_to_dict(evaluation._assessment(t, j, e, on), exclude=["id", "computed_at"])
            for t, j, e in judge_targets(evaluation_targets(), on)
        }
        # Many batches, one of them short:
        run = targets_evaluate(on=on, batch_size=3, alert_settings=RULES)
        assert stored_rows(on) == expected
        assert len(run.results) == len(expected)
        assert [r.target.code for r in run.results] == sorted(r.target.code for r in run.results)
        newest = dict(Assessment.objects.filter(evaluated_on=max(dates[:done]))
                      .values_list("target_id", "pk"))
        assert dict(Target.objects.values_list("pk", "latest_assessment_id")) == newest
    statuses = {row["status"] for row in stored_rows(date(2026, 11, 24)).values()}
    assert statuses == {"achieved", "on_track", "at_risk", "lagging", "missed", "no_data"}


def test_a_dry_run_in_batches_judges_every_target_and_stores_nothing(db):
    load_fixtures_and_demo()
    run = targets_evaluate(on=ON, dry_run=True, batch_size=4, alert_settings=RULES)
    judged = {t.code: j for t, j, _ in judge_targets(evaluation_targets(), ON)}
    assert {r.target.code: r.judgement for r in run.results} == judged
    assert not Assessment.objects.exists()
