"""The benchmark harness itself (``make bench``): its data has the shape it claims and is the
same every time, and a run of the smallest tier goes start to finish and writes its figures.
The timings are not judged here; ``docs/benchmarks.md`` holds them."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import psycopg
import pytest

from benchmarks import dataset
from targets.models import EntryStatus, Membership, Milestone, ProgressEntry, Target, Unit
from tests.conftest import rolled_back

ROOT = Path(__file__).resolve().parent.parent
TINY = dataset.SCALES["tiny"]


def fingerprint() -> str:
    rows = ProgressEntry.objects.order_by("target__code", "period").values_list(
        "target__code", "period", "value", "status"
    )
    return hashlib.sha256(repr(list(rows)).encode()).hexdigest()


@pytest.mark.django_db
def test_the_synthetic_data_has_the_real_shape_and_is_the_same_every_time():
    with rolled_back():
        made = dataset.generate(TINY)
        first = fingerprint()
    made_again = dataset.generate(TINY)
    assert fingerprint() == first and made_again == made
    assert made.targets == Target.objects.count() == 400
    assert made.entries == ProgressEntry.objects.count()
    # 10 communes of 40 targets under one province; one staff and one manager per commune.
    assert Unit.objects.filter(parent__isnull=False).count() == 10
    assert Membership.objects.filter(unit__code=made.commune).count() == 2
    assert Membership.objects.get(user__username=made.province_manager).unit.code == made.top
    targets = Target.objects.all()
    for field in ("value_type", "direction", "aggregation", "trajectory"):
        assert len(Counter(targets.values_list(field, flat=True))) >= 2, field
    with_milestones = Milestone.objects.values("target").distinct().count()
    assert 0.2 < with_milestones / 400 < 0.45  # about a third
    # Quarterly reports from 2025-Q3 to 2030-Q1, some of them not approved or missing.
    statuses = Counter(ProgressEntry.objects.values_list("status", flat=True))
    assert statuses[EntryStatus.APPROVED] > 0.9 * made.entries
    assert statuses[EntryStatus.SUBMITTED] and statuses[EntryStatus.DRAFT]
    assert made.entries < 400 * 19
    periods = set(ProgressEntry.objects.values_list("period", flat=True))
    assert min(periods) == "2025-Q3" and max(periods) == "2030-Q1"


def test_a_run_of_the_tiny_tier_measures_the_evaluation_and_writes_its_figures(tmp_path):
    from benchmarks.run import database_url

    base = os.environ["DATABASE_URL"]  # the server of the suite's database
    try:
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.run", "--scale", "tiny", "--db-suffix", "test",
             "--only", "floor,evaluate_first,evaluate_rerun,naive", "--out", str(tmp_path)],
            cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
        )
    finally:
        with psycopg.connect(database_url(base, "postgres"), autocommit=True) as admin:
            admin.execute('DROP DATABASE IF EXISTS "tracker_bench_tiny_test" WITH (FORCE)')
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads((tmp_path / "tiny-latest.json").read_text())
    results = report["results"]
    assert list(results) == ["setup", "floor", "evaluate_first", "evaluate_rerun", "naive"]
    assert results["setup"]["targets"] == 400
    assert results["floor"]["rows"] == 400  # every target has an approved entry
    first, again = results["evaluate_first"], results["evaluate_rerun"]
    assert first["targets"] == again["targets"] == results["naive"]["targets"] == 400
    assert first["alerts_created"] > 0 and again["alerts_created"] == 0
    assert first["digests"] > 0 and again["digests"] == 0
    assert first["queries"] < 100 and results["naive"]["queries"] > 400 * 5
    assert set(report["ratios"]) >= {"evaluate_first_over_floor", "naive_over_evaluate_first"}
