"""The investment register, first slice (issue 14): the register file and its loader, the demo
register's totals, the register screen's scoping, filters, exports, queries and labels."""

from __future__ import annotations

import csv
import io
import os
import textwrap
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import yaml
from django.db import IntegrityError, transaction
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from register.loading import _form_value as form_value
from register.loading import register_load, register_load_file
from register.models import Park, Project
from targets.errors import ImportFailed
from targets.models import Role, Unit
from targets.plan_yaml import load_located
from tests.conftest import make_user, plan_operator, rolled_back

pytestmark = pytest.mark.django_db

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "register-demo.yaml"
BILLION = Decimal(10) ** 9


def _units() -> dict[str, Unit]:
    """The units the demo register names, as the plan files make them."""
    lc = Unit.objects.create(code="LC", name="Tỉnh Lào Cai", name_en="Lao Cai province")
    bx = Unit.objects.create(code="LC-BATXAT", name="Xã Bát Xát", name_en="Bat Xat commune",
                             parent=lc)
    lch = Unit.objects.create(code="LCH", name="Tỉnh Lai Châu", name_en="Lai Chau province")
    mlt = Unit.objects.create(code="LCH-MLT", name="Khu kinh tế cửa khẩu Ma Lù Thàng",
                              name_en="Ma Lu Thang border gate economic zone", parent=lch)
    return {unit.code: unit for unit in (lc, bx, lch, mlt)}


@pytest.fixture
def demo_register(db):
    """The demo's register on the demo's plans (its measures name their targets)."""
    from targets.services.plans import plan_import_file

    for name in ("bat-xat-2025-2030.yaml", "ma-lu-thang-2026-2030.yaml"):
        plan_import_file(FIXTURE.parent / name, user=plan_operator())
    register_load_file(FIXTURE, user=plan_operator())
    return {unit.code: unit for unit in Unit.objects.all()}


# --- the demo register ------------------------------------------------------------------------


def test_the_demo_register_has_ma_lu_thangs_49_projects_over_6800_billion(demo_register):
    mlt = Project.objects.filter(unit__code="LCH-MLT")
    assert mlt.count() == 49
    assert set(mlt.values_list("registered_currency", flat=True)) == {"VND"}
    total = sum(mlt.values_list("registered_capital", flat=True))
    # The fixture's comment: VND 6,852.4 billion, over the article's 6,800 billion.
    assert total == Decimal("6852400000000")
    assert total > 6800 * BILLION
    assert all(mlt.values_list("demo", flat=True))
    assert set(mlt.values_list("sector", flat=True)) == {
        "trade", "services", "logistics", "agricultural_processing", "hydropower",
        "supporting_industries",
    }


def test_the_demo_register_has_bat_xats_parks_with_their_land(demo_register):
    parks = {park.code: park for park in Park.objects.filter(unit__code="LC-BATXAT")}
    assert {code: (park.kind, park.industrial_land_ha) for code, park in parks.items()} == {
        "BX-KCN-BANQUA": ("industrial_park", Decimal(95)),
        "BX-KCN-XNK": ("industrial_park", Decimal(222)),
        "BX-LOG-KTBV": ("logistics_centre", Decimal(332)),
        "BX-CCN-01": ("industrial_cluster", Decimal(50)),
    }
    ban_qua = Project.objects.get(park__code="BX-KCN-BANQUA", sector="infrastructure")
    assert (ban_qua.stage, ban_qua.stage_date) == ("certificate_issued", date(2026, 6, 15))


def test_loading_the_register_again_changes_nothing(demo_register):
    history = Project.history.count()
    result = register_load_file(FIXTURE, user=plan_operator())
    # 4 parks, 56 projects, 5 target measures.
    assert (result.created, result.updated, result.unchanged) == (0, 0, 65)
    assert Project.history.count() == history


def test_a_loaded_project_has_its_history_row_naming_the_operator(demo_register):
    row = Project.history.get(code="MLT-DA-01")
    assert row.history_user.username == "plan.operator"
    assert row.history_change_reason == "register file register-demo.yaml"


# --- the loader: bad rows ---------------------------------------------------------------------

GOOD = textwrap.dedent("""\
    parks:
      - {code: P1, name: "Khu công nghiệp Một", kind: industrial_park, unit: LC-BATXAT,
         industrial_land_ha: 100, leased_ha: 40}
    projects:
      - code: D1
        name: "Dự án Một"
        name_en: "Project one"
        investor: "Công ty A"
        investor_country: VN
        sector: trade
        unit: LC-BATXAT
        park: P1
        registered_capital: 50000000000
        disbursed_capital: 1000000000
        stage: operating
        stage_date: 2026-01-15
    """)


def test_a_valid_file_is_loaded_with_its_defaults(db):
    _units()
    result = register_load(data=load_located(GOOD), filename="good.yaml", user=plan_operator())
    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    project = Project.objects.get(code="D1")
    assert (project.registered_currency, project.disbursed_currency) == ("VND", "VND")
    assert (project.jobs_planned, project.jobs_filled, project.demo) == (0, 0, False)
    assert project.park.code == "P1"
    assert Park.objects.get(code="P1").leased_ha == Decimal(40)


BAD = textwrap.dedent("""\
    parks:
      - {code: P1, name: "Khu một", kind: industrial_park, unit: LC-BATXAT,
         industrial_land_ha: 100, leased_ha: 140}
    projects:
      - code: D1
        name: "Dự án Một"
        investor: "Công ty A"
        investor_country: XX
        sector: trade
        unit: LC-BATXAT
        registered_capital: -5
        stage: operating
        stage_date: 2026-01-15
      - code: D2
        name: "Dự án Hai"
        investor: "Công ty B"
        investor_country: CN
        sector: mining
        unit: NO-SUCH-UNIT
        registered_capital: 100
        registered_currency: USD
        disbursed_capital: 10
        disbursed_currency: VND
        stage: operating
        stage_date: 2026-02-30
        colour: red
      - code: D3
        name: "Dự án Ba"
        investor: "Công ty C"
        investor_country: VN
        sector: trade
        unit: LC-BATXAT
        registered_capital: 100
        registered_currency: USD
        disbursed_capital: 10
        disbursed_currency: VND
        stage: operating
        stage_date: 2026-02-01
    """)


def test_bad_rows_are_refused_with_their_line_and_field_and_nothing_is_written(db, in_english):
    _units()
    with pytest.raises(ImportFailed) as failed:
        register_load(data=load_located(BAD), filename="bad.yaml", user=plan_operator())
    found = {(p.line, p.field) for p in failed.value.problems}
    assert found == {
        (3, "leased_ha"),  # 140 ha leased of 100
        (8, "investor_country"),  # XX
        (11, "registered_capital"),  # -5
        (26, "colour"),  # unknown field: the row is not checked further
        (36, "disbursed_currency"),  # USD registered, VND disbursed
    }
    messages = {p.field: p.message for p in failed.value.problems}
    assert messages["investor_country"] == (
        "“XX” is not an ISO 3166 country code (two capital letters, e.g. VN)."
    )
    assert messages["colour"] == "unknown field"
    assert "bad.yaml:36 project D3" in str(failed.value.problems[-1])
    assert (Park.objects.count(), Project.objects.count()) == (0, 0)


def test_a_row_without_unknown_fields_reports_every_field(db, in_english):
    _units()
    text = BAD.replace("    colour: red\n", "")
    with pytest.raises(ImportFailed) as failed:
        register_load(data=load_located(text), filename="bad.yaml", user=plan_operator())
    found = {(p.line, p.field) for p in failed.value.problems if p.line in range(14, 26)}
    assert found == {(18, "sector"), (19, "unit"), (23, "disbursed_currency"),
                     (25, "stage_date")}
    assert Project.objects.count() == 0


def test_the_command_prints_every_problem_and_fails(db, tmp_path, capsys, in_english):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    _units()
    plan_operator()
    path = tmp_path / "bad.yaml"
    path.write_text(BAD, encoding="utf-8")
    with pytest.raises(CommandError, match=r"5 problems in .*nothing was written"):
        call_command("load_register", str(path), user="plan.operator")
    assert "bad.yaml:8 project D1: investor_country:" in capsys.readouterr().err


def test_the_database_refuses_a_disbursement_in_another_currency(demo_register):
    with pytest.raises(IntegrityError), transaction.atomic():
        Project.objects.filter(code="MLT-DA-01").update(disbursed_currency="USD")
    with pytest.raises(IntegrityError), transaction.atomic():
        Project.objects.filter(code="MLT-DA-01").update(registered_capital=-1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Park.objects.filter(code="BX-KCN-BANQUA").update(leased_ha=96)


# --- the loader: whatever a row holds, a load or problems with their line, never a partial write

FUZZ = settings(
    max_examples=int(os.environ.get("REGISTER_FUZZ_EXAMPLES", "40")),
    deadline=None, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
BASE = yaml.safe_load(GOOD)
FIELDS = sorted(set(BASE["projects"][0]) | {"latitude", "longitude", "jobs_planned",
                                            "land_area_ha", "registered_currency", "demo"})
VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-10**25, max_value=10**25),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.sampled_from(["VN", "XX", "vn", "USD", "VND", "LC-BATXAT", "LCH", "P1", "P2", "operating",
                     "2026-02-30", "1e400", "-0", "NaN"]),
    st.lists(st.integers(), max_size=2), st.dates(),
)


def _database() -> tuple:
    return (list(Park.objects.order_by("pk").values_list()),
            list(Project.objects.order_by("pk").values_list()), Project.history.count())


PARK_FIELDS = sorted(set(BASE["parks"][0]) | {"name_en", "demo"})


@FUZZ
@given(
    changes=st.dictionaries(st.sampled_from(FIELDS), VALUES, min_size=1, max_size=3),
    park_changes=st.dictionaries(st.sampled_from(PARK_FIELDS), VALUES, max_size=2),
)
def test_a_mutated_row_is_loaded_or_refused_with_its_line(demo_register, changes, park_changes):
    data = {
        "parks": [{**BASE["parks"][0], **park_changes}],
        "projects": [{**BASE["projects"][0], **changes}],
    }
    text = yaml.safe_dump(data, allow_unicode=True)
    before = _database()
    with rolled_back():
        try:
            located = load_located(text)
        except yaml.YAMLError:
            return  # the dumper wrote what the reader refuses (a float the file cannot hold)
        try:
            result = register_load(data=located, filename="f.yaml", user=plan_operator())
        except ImportFailed as failed:
            assert failed.problems
            assert all(problem.line > 0 for problem in failed.problems), failed.problems
            assert _database() == before
        else:
            assert result.created + result.updated + result.unchanged == 2
            code = form_value(data["projects"][0]["code"])
            assert Project.objects.filter(code=code).exists()


# --- the screen: scoping ----------------------------------------------------------------------


@pytest.fixture
def members(demo_register):
    units = demo_register
    return {
        "bx staff": make_user("bx.staff", [(units["LC-BATXAT"], Role.STAFF)]),
        "mlt manager": make_user("mlt.manager", [(units["LCH-MLT"], Role.MANAGER)]),
        "lch manager": make_user("lch.manager", [(units["LCH"], Role.MANAGER)]),
        "admin": make_user("admin", is_superuser=True, is_staff=True),
    }


def _codes(response) -> set[str]:
    return {row.record.code for row in response.context["table"].paginated_rows}


def _all_codes(client, query: str = "") -> set[str]:
    response = client.get(reverse("register:projects") + "?per_page=100" + query)
    assert response.status_code == 200
    return _codes(response)


BX_PROJECTS = {"BX-DA-BANQUA", "BX-DA-XNK", "BX-DA-LOG2", "BX-DA-KHO", "BX-DA-CCN",
               "BX-DA-DONG", "BX-DA-RESORT"}


def test_the_register_asks_to_sign_in(client):
    response = client.get(reverse("register:projects"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_a_bat_xat_staff_sees_no_ma_lu_thang_project(client, members):
    client.force_login(members["bx staff"])
    assert _all_codes(client) == BX_PROJECTS
    export = client.get(reverse("register:projects") + "?_export=csv")
    assert b"MLT-DA" not in b"".join(export.streaming_content)


def test_managers_see_their_subtree_and_the_superuser_everything(client, members):
    client.force_login(members["lch manager"])
    assert _all_codes(client) == {f"MLT-DA-{n:02d}" for n in range(1, 50)}
    client.force_login(members["admin"])
    assert len(_all_codes(client)) == 56


# --- the screen: filters ----------------------------------------------------------------------


def test_filters(client, members):
    client.force_login(members["admin"])
    assert _all_codes(client, "&sector=hydropower") == {f"MLT-DA-{n:02d}" for n in range(1, 8)}
    bat_xat = Unit.objects.get(code="LC-BATXAT").pk
    assert _all_codes(client, f"&stage=certificate_issued&unit={bat_xat}") == {
        "BX-DA-BANQUA", "BX-DA-LOG2"}
    # CN investors: every sixth Ma Lu Thang project.
    assert _all_codes(client, "&country=CN") == {f"MLT-DA-{n:02d}" for n in (6, 12, 18, 24, 30,
                                                                             36, 42, 48)}
    # USD 5–50 million: the bonded warehouse (15), the copper plant (25), the resort (35).
    assert _all_codes(client, "&capital=usd-5-50") == {"BX-DA-KHO", "BX-DA-DONG",
                                                        "BX-DA-RESORT"}
    # VND 1,000 billion or more: Ban Qua (1,450) and the import-export park (2,900).
    assert _all_codes(client, "&capital=vnd-1000") == {"BX-DA-BANQUA", "BX-DA-XNK"}
    # Without accents: "thuy dien" finds "Thủy điện"; "kho ngoai quan" the bonded warehouse.
    assert len(_all_codes(client, "&q=thuy+dien")) == 7
    assert _all_codes(client, "&q=KHO+NGOAI+quan") == {"BX-DA-KHO"}


def test_an_invalid_filter_shows_its_error_not_a_500(client, members, english):
    client.force_login(members["admin"])
    response = client.get(reverse("register:projects") + "?sector=mining")
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert _codes(response) == set()


def test_the_totals_per_currency_follow_the_filters(client, members):
    client.force_login(members["mlt manager"])
    response = client.get(reverse("register:projects"))
    (vnd,) = response.context["totals"]
    assert (vnd["currency"], vnd["count"], vnd["registered"]) == (
        "VND", 49, Decimal("6852400000000"))
    # In Vietnamese notation: dots between thousands.
    assert "6.852.400.000.000" in response.content.decode()
    client.force_login(members["admin"])
    response = client.get(reverse("register:projects") + "?unit="
                          + str(Unit.objects.get(code="LC-BATXAT").pk))
    totals = {row["currency"]: row for row in response.context["totals"]}
    # VND: 1,450 + 2,900 + 980 + 320 billion; USD: 15 + 25 + 35 million.
    assert totals["VND"]["registered"] == Decimal("5650000000000")
    # Disbursed: Ban Qua 120 + the import-export park 150 + the logistics centre 210 billion.
    assert totals["VND"]["disbursed"] == Decimal("480000000000")
    assert (totals["USD"]["count"], totals["USD"]["registered"]) == (3, Decimal("75000000"))


# --- the exports --------------------------------------------------------------------------------


def test_the_csv_export_has_its_bom_and_plain_numbers(client, members, english):
    client.force_login(members["admin"])
    response = client.get(reverse("register:projects") + "?_export=csv&q=banqua")
    body = b"".join(response.streaming_content)
    assert response["Content-Disposition"] == 'attachment; filename="register.csv"'
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    header, *records = rows
    assert header[:3] == ["Code", "Project", "Investor"]
    ban_qua = dict(zip(header, records[0], strict=True))
    assert ban_qua["Code"] == "BX-DA-BANQUA"
    assert ban_qua["Project"] == (
        "Construction and operation of the Ban Qua industrial park infrastructure")
    assert ban_qua["Registered capital"] == "1450000000000"
    assert ban_qua["Stage"] == "Investment registration certificate issued"
    assert ban_qua["Stage date"] == "2026-06-15"


def test_the_xlsx_export_keeps_numbers_numbers(client, members):
    client.force_login(members["admin"])
    response = client.get(reverse("register:projects") + "?_export=xlsx&sector=hydropower")
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    header, *rows = list(book.active.iter_rows(values_only=True))
    assert len(rows) == 7
    capital = header.index("Vốn đăng ký")
    # MLT-DA-01: VND 232.2 billion.
    assert rows[0][0] == "MLT-DA-01"
    assert rows[0][capital] == 232200000000
    assert isinstance(rows[0][capital], int | float)


# --- queries and languages ----------------------------------------------------------------------


def _projects(count: int, unit: Unit) -> None:
    Project.objects.bulk_create(
        Project(code=f"Q{i:03d}", name=f"Dự án {i}", investor="Công ty", investor_country="VN",
                sector="trade", unit=unit, registered_capital=i * BILLION, stage="proposed",
                stage_date=date(2026, 1, 1))
        for i in range(count)
    )


@pytest.mark.parametrize("count", [5, 60])
def test_the_register_page_queries_do_not_grow(client, db, django_assert_max_num_queries, count):
    unit = Unit.objects.create(code="LC", name="Tỉnh Lào Cai")
    _projects(count, unit)
    client.force_login(make_user("lc.manager", [(unit, Role.MANAGER)]))
    # Session, user, memberships, the unit choices, count, rows, totals…: 8 whatever the rows.
    with django_assert_max_num_queries(8):
        response = client.get(reverse("register:projects") + "?per_page=100")
    assert len(response.context["table"].paginated_rows) == count


def test_labels_in_vietnamese_and_in_english(client, members):
    client.force_login(members["bx staff"])
    page = client.get(reverse("register:projects") + "?q=banqua").content.decode()
    assert "Sổ đăng ký đầu tư" in page
    assert "Đã cấp giấy chứng nhận đăng ký đầu tư" in page
    assert "Đầu tư xây dựng và kinh doanh hạ tầng Khu công nghiệp Bản Qua" in page
    client.cookies["django_language"] = "en"
    page = client.get(reverse("register:projects") + "?q=banqua").content.decode()
    assert "Investment register" in page
    assert "Investment registration certificate issued" in page
    assert "Construction and operation of the Ban Qua industrial park infrastructure" in page
    assert "1,450,000,000,000" in page


def test_sorting_by_the_shown_name_and_unit(client, members, english):
    client.force_login(members["admin"])
    response = client.get(reverse("register:projects") + "?sort=-name&per_page=100")
    names = [row.record.localized("name") for row in response.context["table"].paginated_rows]
    assert names == sorted(names, reverse=True)
    response = client.get(reverse("register:projects") + "?sort=unit&per_page=100")
    units = [row.record.unit.code for row in response.context["table"].paginated_rows]
    # "Bat Xat commune" before "Ma Lu Thang border gate economic zone".
    assert units == ["LC-BATXAT"] * 7 + ["LCH-MLT"] * 49


def test_an_export_never_holds_a_formula(client, members):
    Project.objects.filter(code="BX-DA-KHO").update(name="=HYPERLINK(\"http://x\")", name_en="")
    client.force_login(members["admin"])
    response = client.get(reverse("register:projects") + "?_export=csv&q=BX-DA-KHO")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "'=HYPERLINK" in body


def test_the_admin_searches_projects_without_accents(client, members):
    client.force_login(members["admin"])
    response = client.get(reverse("admin:register_project_changelist") + "?q=kho+ngoai+quan")
    assert [project.code for project in response.context["cl"].result_list] == ["BX-DA-KHO"]
    response = client.get(reverse("admin:register_park_changelist") + "?q=ban+qua")
    assert [park.code for park in response.context["cl"].result_list] == ["BX-KCN-BANQUA"]
