"""Migrations: the same whatever the environment; 0008 keys the alerts by target id."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import date
from importlib import import_module
from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from targets.models import Alert, ImportJob, Profile, Target
from tests.alerting import alert_key, evaluate

ROOT = Path(__file__).resolve().parent.parent
KEYS_BY_ID = "0008_language_default_alert_keys_by_id"
BEFORE = "0007_history_evidence_names_retries"
keys_migration = import_module(f"targets.migrations.{KEYS_BY_ID}")

D0 = date(2026, 11, 24)  # BX-IP and BX-OCC: 2025-Q3 … 2026-Q3 overdue, one alert each
QUARTERS = ["2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"]


@pytest.mark.parametrize("language", ["en", "vi"])
def test_the_migrations_do_not_depend_on_the_language_setting(language):
    result = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=ROOT,
        env={**os.environ, "LANGUAGE_CODE": language, "DATABASE_URL": "sqlite:///:memory:"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout


def test_the_demos_sqlite_database_migrates_from_nothing_with_its_triggers(tmp_path):
    """``make demo`` migrates a fresh SQLite file: every migration that rebuilds a table the
    cross-table triggers read must step them aside, and they must be back at the end."""
    database = tmp_path / "demo.sqlite3"
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "1", "DATABASE_URL": f"sqlite:///{database}"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    with sqlite3.connect(database) as db:
        triggers = {name for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert triggers == {
        "targets_milestone_check_insert", "targets_milestone_check_update",
        "targets_entry_check_insert", "targets_entry_check_update",
    }


@pytest.mark.parametrize("language", ["en", "vi"])
def test_new_rows_take_the_deployments_language_when_they_are_made(settings, language):
    settings.LANGUAGE_CODE = language
    assert Profile().language == language
    assert ImportJob().language == language


# --- 0008: alert keys by target id -------------------------------------------------------


def keys() -> set[str]:
    return set(Alert.objects.values_list("key", flat=True))


def key_by_code(alert: Alert) -> str:
    """An alert's key before 0008."""
    return f"{alert.target.code}:{alert.kind}:{alert.subject}"


@pytest.mark.django_db
def test_old_keys_are_rewritten_so_that_their_events_are_not_recorded_again(people):
    evaluate(D0)
    ip, occ = Target.objects.get(code="BX-IP"), Target.objects.get(code="BX-OCC")
    for alert in Alert.objects.select_related("target"):  # recorded before 0008
        Alert.objects.filter(pk=alert.pk).update(key=key_by_code(alert))
    # BX-OCC was then renamed, to a code that is BX-IP's id, and evaluated again: its events
    # were recorded a second time under the new code (the bug), with BX-IP's keys-to-be.
    Target.objects.filter(pk=occ.pk).update(code=str(ip.pk))
    again = []
    for alert in Alert.objects.filter(target=occ).order_by("pk"):
        alert.pk, alert.key = None, f"{ip.pk}:{alert.kind}:{alert.subject}"
        alert.save()
        again.append(alert.pk)
    assert len(keys()) == 15

    keys_migration.rewrite_alert_keys(Alert, Target, by="id")

    # BX-IP's own alerts take the keys BX-OCC's second copies held; BX-OCC's first alerts keep
    # the events; the second copies are kept, apart.
    by_id = {f"{ip.pk}:overdue:{q}" for q in QUARTERS} | {f"{occ.pk}:overdue:{q}" for q in QUARTERS}
    apart = {
        f"{occ.pk}:overdue:{subject}:duplicate-{pk}"
        for pk, subject in Alert.objects.filter(pk__in=again).values_list("pk", "subject")
    }
    assert len(apart) == 5
    assert keys() == by_id | apart
    # The events are known: evaluating again (the next day) records none of them.
    assert evaluate(date(2026, 11, 25)).alerts_created == 0
    assert len(keys()) == 15


@pytest.mark.django_db
def test_the_migration_keys_by_id_and_back_by_code(people):
    evaluate(D0)
    by_id = {alert_key(code, f"overdue:{q}") for code in ("BX-IP", "BX-OCC") for q in QUARTERS}
    assert keys() == by_id
    # The evaluation's rows wait for the deferred foreign-key checks at commit; PostgreSQL
    # alters no table with such checks pending (later migrations alter targets_target).
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    executor = MigrationExecutor(connection)
    executor.migrate([("targets", BEFORE)])
    assert keys() == {f"{code}:overdue:{q}" for code in ("BX-IP", "BX-OCC") for q in QUARTERS}
    executor.loader.build_graph()
    executor.migrate([("targets", KEYS_BY_ID)])
    assert keys() == by_id
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())  # the models' tables again
    assert evaluate(D0).alerts_created == 0
