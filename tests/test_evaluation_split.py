"""A large day split into batches across workers (a Celery chord) records what one process
would, each alert once and one digest per recipient, whatever the order of its batches, a
batch delivered twice or a batch lost with its worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from targets.models import Alert, AlertRecipient, Assessment, Digest, EvaluationDay, Target
from targets.services import daily
from targets.services.plans import load_located, plan_import
from tests.alerting import RULES
from tests.conftest import many_targets_plan, plan_operator, purge_test_broker, rolled_back
from tests.mailserver import wait_until

ON = date(2027, 6, 30)  # 2025 and 2026 overdue for every yearly target of the many-targets plan
LEASE = timedelta(minutes=30)
SPLIT = {"split_above": 0, "batch_size": 7, "resume_after": LEASE}
IN_PROCESS = {"split_above": 10_000, "batch_size": 7, "resume_after": LEASE}
ROOT = Path(__file__).resolve().parent.parent


def many(count: int) -> None:
    plan_import(
        data=load_located(many_targets_plan(count)), filename="many.yaml", user=plan_operator()
    )


def outcome() -> tuple:
    """What a day's evaluation leaves, without the ids and run ids that differ between runs."""
    return (
        sorted(
            Assessment.objects.filter(evaluated_on=ON).values_list(
                "target__code", "status", "reason", "actual", "ratio", "reporting"
            )
        ),
        sorted(Alert.objects.values_list("key", "kind", "subject", "status")),
        sorted(AlertRecipient.objects.values_list("alert__key", "user__username")),
        sorted(Digest.objects.values_list("user__username", flat=True)),
        sorted(
            AlertRecipient.objects.filter(digest__isnull=False).values_list(
                "alert__key", "digest__user__username"
            )
        ),
    )


@pytest.mark.django_db
def test_a_split_day_records_what_one_process_records_in_any_order(people):
    many(30)  # with the small plan's 2 targets: 32 targets, batches of 7, 7, 7, 7, 4
    with rolled_back():
        daily.evaluation_day_run(day=ON, alert_settings=RULES, **IN_PROCESS)
        expected = outcome()
    assert expected[1] and expected[3]  # alerts and digests to compare

    split = daily.evaluation_day_run(day=ON, alert_settings=RULES, **SPLIT)
    assert isinstance(split, daily.Split) and split.batches == [0, 1, 2, 3, 4]
    with pytest.raises(daily.NotFinished):
        daily.evaluation_day_finish(day=ON)
    for index in reversed(split.batches):
        daily.evaluation_batch_run(day=ON, index=index, alert_settings=RULES)
    digest_ids = daily.evaluation_day_finish(day=ON)
    assert outcome() == expected
    assert sorted(digest_ids) == sorted(Digest.objects.values_list("pk", flat=True))
    row = EvaluationDay.objects.get(day=ON)
    assert row.finished_at is not None and sorted(row.batches_done) == [0, 1, 2, 3, 4]
    assert set(Alert.objects.values_list("run", flat=True)) == {row.run}


@pytest.mark.django_db
def test_a_batch_or_finish_delivered_twice_records_nothing_twice(people):
    many(10)
    split = daily.evaluation_day_run(day=ON, alert_settings=RULES, **SPLIT)
    created = [
        daily.evaluation_batch_run(day=ON, index=i, alert_settings=RULES) for i in split.batches
    ]
    assert sum(created) == Alert.objects.count() > 0
    daily.evaluation_day_finish(day=ON)
    before = outcome()
    assert daily.evaluation_batch_run(day=ON, index=0, alert_settings=RULES) == 0
    assert daily.evaluation_day_finish(day=ON) == []
    assert outcome() == before


@pytest.mark.django_db
def test_a_batch_lost_with_its_worker_is_run_again_after_the_lease(people):
    many(10)  # 12 targets: batches of 7 and 5
    split = daily.evaluation_day_run(day=ON, alert_settings=RULES, **SPLIT)
    daily.evaluation_batch_run(day=ON, index=0, alert_settings=RULES)  # batch 1 was lost
    catch_up = {"through": ON, "catch_up_days": 7, "alert_settings": RULES, **SPLIT}
    now = timezone.now()
    # Within the lease the day is still running: nothing starts, nothing is missed.
    assert daily.evaluations_catch_up(**catch_up) == []
    assert not daily.evaluation_missed(now=now, hour=6, resume_after=LEASE)
    EvaluationDay.objects.filter(day=ON).update(started_at=now - LEASE - timedelta(seconds=1))
    assert daily.evaluation_missed(now=now, hour=6, resume_after=LEASE)
    [resumed] = daily.evaluations_catch_up(**catch_up)
    assert resumed == daily.Split(ON, split.run, [1])
    daily.evaluation_batch_run(day=ON, index=1, alert_settings=RULES)
    daily.evaluation_day_finish(day=ON)
    assert Assessment.objects.filter(evaluated_on=ON).count() == Target.objects.count() == 12


def start_worker(log: Path, concurrency: int) -> subprocess.Popen:
    settings = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{settings['USER'] or 'postgres'}@127.0.0.1:"
        f"{settings['PORT'] or 5432}/{settings['NAME']}",
        "EVALUATION_SPLIT_ABOVE": "0",
        "EVALUATION_BATCH_SIZE": "5",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tracker", "worker", "--pool=prefork",
         f"--concurrency={concurrency}", "--without-gossip", "--without-mingle",
         "--without-heartbeat", "-l", "info"],
        cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_two_worker_processes_run_a_split_day_as_a_chord(people, tmp_path, settings):
    from targets.tasks import evaluate_all

    many(40)  # 42 targets: 9 batches of at most 5
    purge_test_broker()
    log = tmp_path / "worker.log"
    worker = start_worker(log, concurrency=2)
    try:
        evaluate_all.delay(ON.isoformat())

        def finished() -> bool:
            return EvaluationDay.objects.filter(day=ON, finished_at__isnull=False).exists()

        assert wait_until(finished, timeout=90), log.read_text()[-3000:]
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
    row = EvaluationDay.objects.get(day=ON)
    assert len(row.batches) == 9 and sorted(row.batches_done) == list(range(9))
    assert Assessment.objects.filter(evaluated_on=ON).count() == Target.objects.count() == 42
    assert Alert.objects.count() > 0
    assert set(Alert.objects.values_list("run", flat=True)) == {row.run}
    # Every recipient with an address is in exactly one digest of the run, and every inbox
    # row of a user with a digest points at it.
    recipients = set(
        AlertRecipient.objects.exclude(user__email="").values_list("user_id", flat=True)
    )
    digests = Digest.objects.filter(run=row.run).values_list("user_id", flat=True)
    assert sorted(digests) == sorted(recipients)
    assert not AlertRecipient.objects.filter(
        digest__isnull=True, user_id__in=recipients
    ).exists()
