"""The status table: scope, filters, counts, export, formatting and query counts."""

import csv
import io

import openpyxl
import pytest
from django.urls import reverse

from targets.models import Unit
from targets.services.evaluation import targets_evaluate
from targets.services.plans import load_located, plan_import
from tests.conftest import TODAY, many_targets_plan, submitted_entry

pytestmark = pytest.mark.django_db
URL = reverse("targets:status")


def shown_codes(response) -> list[str]:
    return sorted(row.record.code for row in response.context["table"].page.object_list)


def test_signed_out_goes_to_the_login_page(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("staff", ["BX-IP", "BX-OCC"]),
        ("dept_staff", ["BX-OCC"]),
        ("manager", ["BX-IP", "BX-OCC"]),
        ("province", ["BX-IP", "BX-OCC"]),
        ("outsider", []),
        ("admin", ["BX-IP", "BX-OCC"]),
    ],
)
def test_each_role_sees_its_subtree(client, assessed, who, expected):
    client.force_login(assessed[who])
    response = client.get(URL)
    assert response.status_code == 200
    assert shown_codes(response) == expected


def test_filter_by_unit_includes_the_subtree(client, assessed, small_plan):
    client.force_login(assessed["province"])
    batxat = client.get(URL, {"unit": small_plan["LC-BATXAT"].pk})
    assert shown_codes(batxat) == ["BX-IP", "BX-OCC"]
    dept = client.get(URL, {"unit": small_plan["LC-BATXAT-IND"].pk})
    assert shown_codes(dept) == ["BX-OCC"]


def test_a_unit_outside_the_scope_is_not_a_choice(client, assessed, small_plan):
    client.force_login(assessed["dept_staff"])
    response = client.get(URL, {"unit": small_plan["LC-BATXAT"].pk})
    assert "unit" in response.context["filter"].form.errors
    units = list(response.context["filter"].form.fields["unit"].queryset)
    assert units == [Unit.objects.get(code="LC-BATXAT-IND")]


def test_filter_by_status_search_and_due_year(client, assessed):
    client.force_login(assessed["manager"])
    assert shown_codes(client.get(URL, {"status": "no_data"})) == ["BX-IP", "BX-OCC"]
    assert shown_codes(client.get(URL, {"status": "lagging"})) == []
    assert shown_codes(client.get(URL, {"q": "occupancy"})) == ["BX-OCC"]
    assert shown_codes(client.get(URL, {"q": "bx-ip"})) == ["BX-IP"]
    assert shown_codes(client.get(URL, {"due_year": "2030"})) == ["BX-IP", "BX-OCC"]
    assert shown_codes(client.get(URL, {"reporting": "overdue"})) == ["BX-IP", "BX-OCC"]


def test_counts_per_status_are_shown_above_the_table(client, assessed):
    client.force_login(assessed["manager"])
    response = client.get(URL, {"status": "lagging"})
    counts = {value: n for value, _label, n in response.context["status_counts"]}
    # The counts ignore the status filter itself: they say what each status would show.
    assert counts["no_data"] == 2
    assert counts["lagging"] == 0
    assert response.context["total"] == 2


def test_sorting_by_a_column(client, assessed):
    client.force_login(assessed["manager"])
    response = client.get(URL, {"sort": "-code"})
    rows = [row.record.code for row in response.context["table"].page.object_list]
    assert rows == ["BX-OCC", "BX-IP"]


def test_csv_export_holds_exactly_the_filtered_rows(english, client, assessed):
    client.force_login(assessed["manager"])
    response = client.get(URL, {"q": "occupancy", "_export": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 2  # header + BX-OCC
    assert rows[1][0] == "BX-OCC"
    assert rows[1][rows[0].index("Target value")] == "80"


def test_csv_export_headers_follow_the_language(client, assessed):
    client.force_login(assessed["manager"])
    response = client.get(URL, {"_export": "csv"})
    header = response.content.decode("utf-8-sig").splitlines()[0]
    assert "Giá trị mục tiêu" in header


def test_xlsx_export_holds_exactly_the_filtered_rows(client, assessed):
    client.force_login(assessed["admin"])
    response = client.get(URL, {"unit": Unit.objects.get(code="LC-BATXAT-IND").pk,
                                "_export": "xlsx"})
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert [row[0] for row in values[1:]] == ["BX-OCC"]


def test_outsider_export_is_empty(client, assessed):
    client.force_login(assessed["outsider"])
    response = client.get(URL, {"_export": "csv"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 1


def test_numbers_are_written_the_vietnamese_way(client, people):
    plan_import(data=load_located(many_targets_plan(1)), filename="many.yaml")
    client.force_login(people["admin"])
    vietnamese = client.get(URL, {"q": "M0000"})
    assert "1.234,5" in vietnamese.content.decode()
    client.cookies["django_language"] = "en"
    english = client.get(URL, {"q": "M0000"})
    assert "1,234.5" in english.content.decode()


def test_vietnamese_is_the_default_whatever_the_browser_asks(client, people):
    client.force_login(people["staff"])
    response = client.get(URL, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response.context["LANGUAGE_CODE"] == "vi"
    assert "Tình hình thực hiện chỉ tiêu" in response.content.decode()


def _targets(count: int) -> None:
    plan_import(data=load_located(many_targets_plan(count)), filename="many.yaml")
    targets_evaluate(on=TODAY)


# Session, user, the scope (membership paths, asked once per scoped queryset), the filter
# choices, the counts and the page: a constant number, the same for 10 and for 500 rows.
QUERY_BOUND = 24


@pytest.mark.parametrize("count", [10, 500])
def test_status_table_queries_do_not_grow_with_rows(
    client, people, django_assert_max_num_queries, count
):
    _targets(count)
    client.force_login(people["manager"])
    with django_assert_max_num_queries(QUERY_BOUND):
        response = client.get(URL, {"per_page": 500})
    assert response.status_code == 200
    assert len(response.context["table"].page.object_list) == min(count + 2, 500)


@pytest.mark.parametrize("count", [10, 500])
def test_export_queries_do_not_grow_with_rows(
    client, people, django_assert_max_num_queries, count
):
    _targets(count)
    client.force_login(people["manager"])
    with django_assert_max_num_queries(QUERY_BOUND):
        response = client.get(URL, {"_export": "csv"})
    assert response.content.decode("utf-8-sig").count("\n") == count + 2 + 1


def test_badges_are_coloured_by_status_and_reporting_state(client, assessed):
    client.force_login(assessed["manager"])
    html = client.get(URL).content.decode()
    assert '<span class="badge text-bg-danger">Quá hạn</span>' in html
    assert '<span class="badge text-bg-secondary">Chưa có số liệu</span>' in html


def _forecast_never(code: str) -> None:
    from targets.models import Target

    target = Target.objects.select_related("latest_assessment").get(code=code)
    assessment = target.latest_assessment
    assessment.forecast_never, assessment.forecast_reached_on = True, None
    assessment.save(update_fields=["forecast_never", "forecast_reached_on"])


def _forecast_cell(response, code: str) -> str:
    table = response.context["table"]
    row = next(r for r in table.page.object_list if r.record.code == code)
    return str(row.get_cell("forecast"))


def test_a_never_forecast_is_shown_in_the_table(client, assessed):
    _forecast_never("BX-OCC")
    client.force_login(assessed["manager"])
    client.cookies["django_language"] = "en"
    assert _forecast_cell(client.get(URL), "BX-OCC") == "never on the current pace"
    client.cookies["django_language"] = "vi"
    response = client.get(URL)
    assert _forecast_cell(response, "BX-OCC") == "không đạt nếu giữ tốc độ hiện tại"
    assert "không đạt nếu giữ tốc độ hiện tại" in response.content.decode()


def test_a_never_forecast_is_written_in_the_csv(english, client, assessed):
    _forecast_never("BX-OCC")
    client.force_login(assessed["manager"])
    response = client.get(URL, {"q": "occupancy", "_export": "csv"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[1][rows[0].index("Forecast")] == "never on the current pace"


def _export_row(response, code: str, fmt: str) -> dict:
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    return next(dict(zip(rows[0], row, strict=True)) for row in rows[1:] if row[0] == code)


def test_xlsx_export_holds_numbers_and_dates(english, client, assessed):
    import datetime

    from targets.services import entries as workflow

    entry = submitted_entry(assessed["dept_staff"], "BX-OCC", "2026-Q3", "41.5")
    workflow.entry_approve(user=assessed["manager"], entry=entry)
    targets_evaluate(on=TODAY)
    client.force_login(assessed["manager"])
    row = _export_row(client.get(URL, {"_export": "xlsx"}), "BX-OCC", "xlsx")
    csv_row = _export_row(client.get(URL, {"_export": "csv"}), "BX-OCC", "csv")
    assert row["Target value"] == 80 and isinstance(row["Target value"], int | float)
    assert row["Due date"] == datetime.datetime(2030, 12, 31)
    for column in ("Progress", "Actual", "Expected now"):
        assert isinstance(row[column], int | float), column
        assert row[column] == pytest.approx(float(csv_row[column]))
    assert row["Actual"] == 41.5
    # The CSV keeps its plain text.
    assert csv_row["Target value"] == "80" and csv_row["Due date"] == "2030-12-31"


def test_a_later_page_of_a_chosen_page_size(client, people):
    _targets(12)
    client.force_login(people["manager"])
    response = client.get(URL, {"per_page": 5, "page": 2})
    assert response.status_code == 200
    rows = [row.record.code for row in response.context["table"].page.object_list]
    assert rows == ["M0003", "M0004", "M0005", "M0006", "M0007"]
    last = client.get(URL, {"per_page": 5, "page": 3})
    assert len(last.context["table"].page.object_list) == 4
    assert len(client.get(URL).context["table"].page.object_list) == 14  # 25 a page by default


def test_status_and_progress_follow_the_code(client, assessed):
    client.force_login(assessed["manager"])
    table = client.get(URL).context["table"]
    assert [column.name for column in table.columns][:3] == ["code", "status", "progress"]
    for name in ("area", "unit", "measure"):
        classes = table.columns[name].attrs["th"]["class"].split()
        assert {"d-none", "d-md-table-cell"} <= set(classes)
