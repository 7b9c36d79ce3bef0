"""Backup and restore (scripts/backup.sh, scripts/restore.sh) against the real PostgreSQL.

The data is built through the services and committed (transactional_db), so that pg_dump,
another process, sees it; the archive is restored into a database of its own and compared
table by table, row by row.
"""

from __future__ import annotations

import os
import subprocess
import tarfile
from datetime import date
from pathlib import Path

import psycopg
import pytest
from django.core.files.base import ContentFile
from django.db import connection

from targets.models import ProgressEntry, Target
from targets.services import entries as workflow
from targets.services.evaluation import targets_evaluate
from tests.alerting import RULES
from tests.conftest import TODAY, submitted_entry

ROOT = Path(__file__).resolve().parent.parent
# The smallest file the PDF signature check accepts: the magic bytes, then anything.
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + bytes(range(256))


def url_of(name: str) -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
    return (f"postgres://{s['USER'] or 'postgres'}{password}@{s['HOST'] or '127.0.0.1'}"
            f":{s['PORT'] or 5432}/{name}")


def admin_sql(sql: str) -> None:
    with psycopg.connect(url_of("postgres"), autocommit=True) as conn:
        conn.execute(sql)


def run(script: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ROOT / "scripts" / script), *args], env={**os.environ, **env},
        capture_output=True, text=True, timeout=120,
    )


def fingerprint(url: str) -> dict[str, tuple[int, str]]:
    """Every table of the public schema: its row count and a checksum of all its rows."""
    with psycopg.connect(url) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )]
        return {
            table: conn.execute(
                f'SELECT count(*), coalesce(md5(string_agg(t::text, E\'\\n\' ORDER BY t::text)), '
                f"'') FROM \"{table}\" t"
            ).fetchone()
            for table in tables
        }


def latest_statuses(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        return dict(conn.execute(
            "SELECT t.code, a.status FROM targets_target t "
            "JOIN targets_assessment a ON a.id = t.latest_assessment_id"
        ).fetchall())


@pytest.mark.django_db(transaction=True)
def test_a_backup_restored_into_a_new_database_has_the_same_rows_statuses_and_files(
    people, settings, tmp_path
):
    settings.MEDIA_ROOT = media = tmp_path / "media"
    # A small story: approved quarters, one with its evidence file, one entry still submitted.
    for period, value in [("2025-Q3", "0"), ("2025-Q4", "1")]:
        entry = submitted_entry(people["staff"], period=period, value=value)
        workflow.entry_approve(user=people["manager"], entry_id=entry.pk, reassess=None)
    with_file = workflow.entry_save_draft(
        user=people["dept_staff"], target_id=Target.objects.get(code="BX-OCC").pk,
        period="2025-Q3", value="21.5", evidence_file=ContentFile(PDF, name="biên bản.pdf"),
        today=date(2031, 1, 1),
    )
    workflow.entry_submit(user=people["dept_staff"], entry_id=with_file.pk)
    workflow.entry_approve(user=people["province"], entry_id=with_file.pk, reassess=None)
    submitted_entry(people["staff2"], period="2026-Q1", value="1")
    targets_evaluate(on=TODAY, alert_settings=RULES)
    stored = ProgressEntry.objects.get(pk=with_file.pk).evidence_file.name
    assert (media / stored).read_bytes() == PDF

    source = url_of(connection.settings_dict["NAME"])
    backups = tmp_path / "backups"
    made = run("backup.sh", env={"DATABASE_URL": source, "MEDIA_ROOT": str(media),
                                 "BACKUP_DIR": str(backups)})
    assert made.returncode == 0, made.stderr
    archive = Path(made.stdout.strip().splitlines()[-1])
    assert archive.parent == backups and archive.name.startswith("tracker-backup-")
    with tarfile.open(archive) as tar:
        manifest = tar.extractfile("manifest.txt").read().decode()
    assert "targets.0001_initial" in manifest

    restored_name = f"{connection.settings_dict['NAME']}_restored"
    restored = url_of(restored_name)
    restored_media = tmp_path / "restored-media"
    admin_sql(f'DROP DATABASE IF EXISTS "{restored_name}" WITH (FORCE)')
    admin_sql(f'CREATE DATABASE "{restored_name}"')
    try:
        env = {"DATABASE_URL": restored, "MEDIA_ROOT": str(restored_media)}
        done = run("restore.sh", str(archive), env=env)
        assert done.returncode == 0, done.stderr

        before, after = fingerprint(source), fingerprint(restored)
        assert after == before
        assert before["targets_progressentry"][0] == 4
        assert before["targets_historicalprogressentry"][0] > 4
        assert before["targets_assessment"][0] == 2
        statuses = latest_statuses(source)
        assert set(statuses) == {"BX-IP", "BX-OCC"} and all(statuses.values())
        assert latest_statuses(restored) == statuses
        assert (restored_media / stored).read_bytes() == PDF

        # A second restore over the restored database is refused, and changes nothing.
        again = run("restore.sh", str(archive), env=env)
        assert again.returncode != 0
        assert "is not empty" in again.stderr and "--force" in again.stderr
        assert fingerprint(restored) == before
        forced = run("restore.sh", "--force", str(archive), env=env)
        assert forced.returncode == 0, forced.stderr
        assert fingerprint(restored) == before
    finally:
        admin_sql(f'DROP DATABASE IF EXISTS "{restored_name}" WITH (FORCE)')


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path):
    bogus = tmp_path / "notes.tar"
    with tarfile.open(bogus, "w") as tar:
        tar.add(__file__, arcname="notes.py")
    done = run("restore.sh", str(bogus), env={"DATABASE_URL": "postgres://x@127.0.0.1/none"})
    assert done.returncode != 0
    assert "has no manifest.txt: not an archive of scripts/backup.sh" in done.stderr
