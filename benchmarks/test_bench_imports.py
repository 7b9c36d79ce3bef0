"""How long the command-line import of a large entries file takes (DESIGN §7).

100,000 rows: 1,000 monthly targets × 100 months, as new submitted entries, through
`manage.py import_entries` (reading, checking every row, writing with its audit history).
`make bench` runs this; no test asserts a time.
"""

from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection

from targets import rules
from targets.models import Membership, ProgressEntry, Role, Unit
from targets.services.plans import load_located, plan_import

TARGETS = 1000
MONTHS = 100  # 2017-01 … 2025-04, all begun
ROWS = TARGETS * MONTHS


def plan_text(n: int) -> str:
    lines = [
        "units:",
        "  - {code: LC, name: Lao Cai}",
        "  - {code: LC-BATXAT, name: Bat Xat, parent: LC}",
        "plans:",
        "  - {code: P, name: P, unit: LC-BATXAT, start: 2017-01-01, end: 2030-12-31,",
        "     areas: [{code: a, name: A}], targets: [",
    ]
    for i in range(n):
        lines.append(
            f"      {{code: T{i}, name: T{i}, area: a, responsible_unit: LC-BATXAT, measure: x,"
            " value_type: decimal, frequency: monthly,"
            " baseline: {value: 0, date: 2016-12-31}, target: {value: 100000, date: 2030-12-31}},"
        )
    lines.append("     ]}")
    return "\n".join(lines)


@pytest.fixture
def entries_file(db, tmp_path):
    staff = get_user_model().objects.create_user("bench.staff")
    plan_import(data=load_located(plan_text(TARGETS)), filename="bench.yaml", user=staff)
    Membership.objects.create(user=staff, unit=Unit.objects.get(code="LC-BATXAT"), role=Role.STAFF)
    months = rules.reporting_periods(
        rules.Frequency.MONTHLY, date(2016, 12, 31), date(2030, 12, 31)
    )[:MONTHS]
    path = tmp_path / "entries.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write("target,period,value,note\n")
        for i in range(TARGETS):
            for m, month in enumerate(months):
                # Vietnamese decimal commas, as a spreadsheet in a Vietnamese locale writes them.
                out.write(f'T{i},{month.key},"{m * 10 + i % 7},5",monthly report\n')
    return path


def _clear() -> None:
    # Plain DELETEs: QuerySet.delete() would record a history row per deleted entry.
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {ProgressEntry.history.model._meta.db_table}")
        cursor.execute(f"DELETE FROM {ProgressEntry._meta.db_table}")


def test_bench_import_100000_entries_from_the_command_line(benchmark, entries_file, capsys):
    benchmark.pedantic(
        call_command,
        args=("import_entries", str(entries_file), "--user", "bench.staff"),
        setup=_clear,
        rounds=3,
        iterations=1,
    )
    assert f"{ROWS} created" in capsys.readouterr().out
    assert ProgressEntry.objects.count() == ROWS
    assert ProgressEntry.history.count() == ROWS


@pytest.fixture
def upload_of_2_mb(entries_file) -> bytes:
    """The largest file the browser accepts (forms.IMPORT_MAX_BYTES), cut at a whole row."""
    from targets.forms import IMPORT_MAX_BYTES

    content = entries_file.read_bytes()[: IMPORT_MAX_BYTES - 1]
    return content[: content.rindex(b"\n") + 1]


def test_bench_preview_of_the_largest_upload(benchmark, upload_of_2_mb):
    """The browser's preview request: reading and checking every row of a 2 MB file."""
    from targets.services.import_jobs import import_preview

    staff = get_user_model().objects.get(username="bench.staff")
    preview = benchmark.pedantic(
        import_preview,
        kwargs={"user": staff, "content": upload_of_2_mb, "filename": "entries.csv",
                "status": "submitted", "language": "vi"},
        rounds=3,
        iterations=1,
    )
    assert preview.problem_count == 0 and preview.total_rows > 50_000
