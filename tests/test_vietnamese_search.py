"""Searches ignore case and accents: "lap day" finds "lấp đầy", "DUONG" finds "đường"."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.urls import reverse

from targets.models import Membership, Role, Unit
from targets.search import unaccent
from targets.services.plans import load_located, plan_import
from tests.conftest import make_user, plan_operator

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent
URL = reverse("targets:status")

VIETNAMESE_PLAN = """
units:
  - {code: LCH, name: "Tỉnh Lai Châu"}
  - {code: LCH-MLT, name: "Xã Mường Tè", parent: LCH}
  - {code: LCH-DV, name: "Xã Đồng Văn", parent: LCH}
plans:
  - code: MLT-2026-2030
    name: "Nghị quyết Đại hội Đảng bộ xã Mường Tè 2026–2030"
    unit: LCH-MLT
    start: 2026-01-01
    end: 2030-12-31
    areas:
      - {code: kinh-te, name: "Phát triển kinh tế"}
    targets:
      - code: MLT-OCC
        name: "Tỷ lệ lấp đầy khu công nghiệp"
        area: kinh-te
        responsible_unit: LCH-MLT
        measure: "%"
        value_type: percent
        baseline: {value: 0, date: 2025-12-31}
        target: {value: 80, date: 2030-12-31}
        frequency: yearly
      - code: MLT-INV
        name: "Vốn Đầu tư vào khu kinh tế"
        area: kinh-te
        responsible_unit: LCH-MLT
        measure: "tỷ đồng"
        value_type: decimal
        baseline: {value: 0, date: 2025-12-31}
        target: {value: 500, date: 2030-12-31}
        frequency: yearly
      - code: MLT-ROAD
        name: "Nâng cấp tuyến ĐƯỜNG biên giới"
        area: kinh-te
        responsible_unit: LCH-MLT
        measure: "km"
        value_type: decimal
        baseline: {value: 0, date: 2025-12-31}
        target: {value: 40, date: 2030-12-31}
        frequency: yearly
      - code: MLT-WORK
        name: "Số lao động có việc làm"
        description: "Người lao động tại cụm công nghiệp Nậm Hàng"
        area: kinh-te
        responsible_unit: LCH-MLT
        measure: "người"
        value_type: integer
        baseline: {value: 0, date: 2025-12-31}
        target: {value: 2000, date: 2030-12-31}
        frequency: yearly
"""


@pytest.fixture
def vietnamese_plan(db) -> dict[str, object]:
    plan_import(data=load_located(VIETNAMESE_PLAN), filename="mlt.yaml", user=plan_operator())
    manager = make_user(
        "mlt.manager",
        [(Unit.objects.get(code="LCH"), Role.MANAGER)],
        first_name="Văn Hải",
        last_name="Đỗ",
    )
    admin = make_user("admin", is_superuser=True, is_staff=True)
    return {"manager": manager, "admin": admin}


def found(client, text: str) -> list[str]:
    response = client.get(URL, {"q": text})
    assert response.status_code == 200
    return sorted(row.record.code for row in response.context["table"].page.object_list)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("lap day", ["MLT-OCC"]),  # without diacritics
        ("dau tu", ["MLT-INV"]),  # "Đầu tư": đ is d
        ("DUONG", ["MLT-ROAD"]),  # "ĐƯỜNG", uppercase against uppercase
        ("duong", ["MLT-ROAD"]),  # lowercase against "ĐƯỜNG"
        ("lấp đầy", ["MLT-OCC"]),  # with diacritics, as stored
        ("ĐẦU TƯ", ["MLT-INV"]),  # uppercase with diacritics against "Đầu tư"
        ("đường", ["MLT-ROAD"]),  # lowercase with diacritics against "ĐƯỜNG"
        ("lâp", ["MLT-OCC"]),  # other diacritics: accents are ignored on both sides
        ("la\u0302\u0301p", ["MLT-OCC"]),  # "lấp" typed decomposed (letter + combining marks)
        ("cong nghiep", ["MLT-OCC", "MLT-WORK"]),  # a name, and MLT-WORK's description
        ("nguoi nam hang", ["MLT-WORK"]),  # every word, in the description
        ("lap tu", []),  # every word must be found: none has both
        ("mlt-inv", ["MLT-INV"]),  # the code, as before
        ("lộ trình", []),
    ],
)
def test_the_status_table_search_ignores_case_and_accents(client, vietnamese_plan, typed, expected):
    client.force_login(vietnamese_plan["manager"])
    assert found(client, typed) == expected


def test_the_search_stays_within_the_users_scope(client, vietnamese_plan):
    outsider = make_user("dv.staff", [(Unit.objects.get(code="LCH-DV"), Role.STAFF)])
    client.force_login(outsider)
    assert found(client, "lap day") == []


def test_the_database_compares_through_unaccent_without_more_queries(
    client, vietnamese_plan, django_assert_max_num_queries
):
    client.force_login(vietnamese_plan["manager"])
    client.get(URL)  # the session and the like, once
    with django_assert_max_num_queries(100) as unfiltered:
        client.get(URL)
    with django_assert_max_num_queries(len(unfiltered.captured_queries)) as searched:
        client.get(URL, {"q": "lap day"})
    compared = [q["sql"] for q in searched.captured_queries if "UNACCENT" in q["sql"]]
    assert compared and all("UPPER(UNACCENT(" in sql for sql in compared)


@pytest.mark.parametrize(
    ("model", "typed", "shown", "hidden"),
    [
        ("target", "lap day", "MLT-OCC", "MLT-INV"),
        ("target", "DUONG", "MLT-ROAD", "MLT-OCC"),
        ("target", "đầu tư", "MLT-INV", "MLT-ROAD"),
        ("unit", "muong te", "LCH-MLT", "LCH-DV"),
        ("unit", "dong van", "LCH-DV", "LCH-MLT"),
        ("plan", "dai hoi dang bo", "MLT-2026-2030", "nothing else"),
        ("area", "phat trien", "kinh-te", "nothing else"),
    ],
)
def test_admin_searches_ignore_case_and_accents(
    client, vietnamese_plan, model, typed, shown, hidden
):
    client.force_login(vietnamese_plan["admin"])
    response = client.get(reverse(f"admin:targets_{model}_changelist"), {"q": typed})
    assert response.status_code == 200
    codes = {str(getattr(row, "code", "")) for row in response.context["cl"].result_list}
    assert shown in codes and hidden not in codes
    assert len(codes) == 1


def test_admin_user_search_finds_a_vietnamese_name_without_accents(client, vietnamese_plan):
    make_user("mlt.staff", first_name="Thị Lan", last_name="Hoàng")
    client.force_login(vietnamese_plan["admin"])
    response = client.get(reverse("admin:auth_user_changelist"), {"q": "do van hai"})
    assert [u.username for u in response.context["cl"].result_list] == ["mlt.manager"]
    response = client.get(reverse("admin:auth_user_changelist"), {"q": "HOANG"})
    assert [u.username for u in response.context["cl"].result_list] == ["mlt.staff"]


def test_admin_membership_search_and_the_user_autocomplete(client, vietnamese_plan):
    client.force_login(vietnamese_plan["admin"])
    response = client.get(reverse("admin:targets_membership_changelist"), {"q": "đo hai"})
    assert [m.user.username for m in response.context["cl"].result_list] == ["mlt.manager"]
    # Choosing a target's owner: the user admin's search answers the autocomplete.
    response = client.get(
        reverse("admin:autocomplete"),
        {"term": "Do Van", "app_label": "targets", "model_name": "target", "field_name": "owner"},
    )
    assert [r["text"] for r in response.json()["results"]] == ["mlt.manager"]
    assert Membership.objects.count() == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tỷ lệ lấp đầy", "Ty le lap day"),
        ("Đầu tư ĐƯỜNG", "Dau tu DUONG"),
        ("Nậm Hàng, Mường Tè", "Nam Hang, Muong Te"),
        ("ơ ư ỹ Ỹ", "o u y Y"),
        ("la\u0302\u0301p", "lap"),
        ("BX-IP 2026", "BX-IP 2026"),
        (None, None),
    ],
)
def test_unaccent_in_python_writes_what_postgresql_writes(text, expected):
    from django.db import connection

    assert unaccent(text) == expected
    with connection.cursor() as cursor:
        cursor.execute("SELECT UNACCENT(%s)", [text])
        assert cursor.fetchone()[0] == expected


def test_the_demos_sqlite_searches_without_accents_too():
    """``make demo`` runs on SQLite, which has no unaccent: the app defines it there."""
    script = textwrap.dedent("""
        from django.db import connection
        from targets.models import Unit
        from targets.search import NAMED_FIELDS, words_in
        with connection.schema_editor() as editor:
            editor.create_model(Unit)
        Unit.objects.bulk_create([
            Unit(code="LCH-MLT", name="Xã Mường Tè", path="LCH-MLT/"),
            Unit(code="LCH-DV", name="Xã Đồng Văn", path="LCH-DV/"),
        ])
        for typed in ("muong TE", "đồng", "DONG", "xa"):
            print(typed, sorted(Unit.objects.filter(words_in(NAMED_FIELDS, typed))
                                .values_list("code", flat=True)))
    """)
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", script],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": "sqlite:///:memory:"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "muong TE ['LCH-MLT']",
        "đồng ['LCH-DV']",
        "DONG ['LCH-DV']",
        "xa ['LCH-DV', 'LCH-MLT']",
    ]
