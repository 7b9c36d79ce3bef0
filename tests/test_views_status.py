"""The status table: scope, filters, counts, export, formatting and query counts."""

import csv
import io
import re

import openpyxl
import pytest
from django import forms
from django.template import RequestContext, Template
from django.urls import reverse
from django_tables2 import RequestConfig

from targets.models import Area, Unit
from targets.services import entries as workflow
from targets.services.evaluation import targets_evaluate
from targets.services.plans import load_located, plan_import
from targets.tables import StatusTable
from tests.alerting import RULES
from tests.conftest import TODAY, many_targets_plan, plan_operator, submitted_entry

pytestmark = pytest.mark.django_db
URL = reverse("targets:status")


def exported(response) -> bytes:
    """The body of an export: streamed (CSV) or sent from a file (XLSX)."""
    assert response.streaming
    return b"".join(response.streaming_content)


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
    rows = list(csv.reader(io.StringIO(exported(response).decode("utf-8-sig"))))
    assert len(rows) == 2  # header + BX-OCC
    assert rows[1][0] == "BX-OCC"
    assert rows[1][rows[0].index("Target value")] == "80"


def test_csv_export_headers_follow_the_language(client, assessed):
    client.force_login(assessed["manager"])
    response = client.get(URL, {"_export": "csv"})
    header = exported(response).decode("utf-8-sig").splitlines()[0]
    assert "Giá trị mục tiêu" in header


def test_xlsx_export_holds_exactly_the_filtered_rows(client, assessed):
    client.force_login(assessed["admin"])
    response = client.get(URL, {"unit": Unit.objects.get(code="LC-BATXAT-IND").pk,
                                "_export": "xlsx"})
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(exported(response))).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert [row[0] for row in values[1:]] == ["BX-OCC"]


def test_outsider_export_is_empty(client, assessed):
    client.force_login(assessed["outsider"])
    response = client.get(URL, {"_export": "csv"})
    rows = list(csv.reader(io.StringIO(exported(response).decode("utf-8-sig"))))
    assert len(rows) == 1


def test_numbers_are_written_the_vietnamese_way(client, people):
    plan_import(data=load_located(many_targets_plan(1)), filename="many.yaml", user=plan_operator())
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
    plan_import(
        data=load_located(many_targets_plan(count)), filename="many.yaml", user=plan_operator()
    )
    targets_evaluate(on=TODAY, alert_settings=RULES)


# A ceiling for these tests; the exact counts (one membership lookup a request) are asserted
# in test_views_queries.py.
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
    assert exported(response).decode("utf-8-sig").count("\n") == count + 2 + 1


def test_badges_are_coloured_by_status_and_reporting_state(client, assessed):
    client.force_login(assessed["manager"])
    html = client.get(URL).content.decode()
    assert '<span class="badge text-bg-danger">Quá hạn</span>' in html
    assert (
        '<span class="badge text-bg-secondary" '
        'title="Chưa có số liệu: chưa có báo cáo nào được duyệt.">Chưa có số liệu</span>'
    ) in html


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
    # The forecast is one of the details: a column on demand.
    assert "không đạt nếu giữ tốc độ hiện tại" not in client.get(URL).content.decode()
    response = client.get(URL, {"details": "1"})
    assert _forecast_cell(response, "BX-OCC") == "không đạt nếu giữ tốc độ hiện tại"
    assert "không đạt nếu giữ tốc độ hiện tại" in response.content.decode()


def test_a_never_forecast_is_written_in_the_csv(english, client, assessed):
    _forecast_never("BX-OCC")
    client.force_login(assessed["manager"])
    response = client.get(URL, {"q": "occupancy", "_export": "csv"})
    rows = list(csv.reader(io.StringIO(exported(response).decode("utf-8-sig"))))
    assert rows[1][rows[0].index("Forecast")] == "never on the current pace"


def _export_row(response, code: str, fmt: str) -> dict:
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(exported(response).decode("utf-8-sig"))))
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(exported(response))).active
        rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    return next(dict(zip(rows[0], row, strict=True)) for row in rows[1:] if row[0] == code)


def test_xlsx_export_holds_numbers_and_dates(english, client, assessed):
    import datetime

    from targets.services import entries as workflow

    entry = submitted_entry(assessed["dept_staff"], "BX-OCC", "2026-Q3", "41.5")
    workflow.entry_approve(user=assessed["manager"], entry_id=entry.pk, reassess=None)
    targets_evaluate(on=TODAY, alert_settings=RULES)
    client.force_login(assessed["manager"])
    row = _export_row(client.get(URL, {"_export": "xlsx"}), "BX-OCC", "xlsx")
    csv_row = _export_row(client.get(URL, {"_export": "csv"}), "BX-OCC", "csv")
    assert row["Target value"] == 80 and isinstance(row["Target value"], int | float)
    assert row["Due date"] == datetime.datetime(2030, 12, 31)
    for column in ("Progress", "Actual", "Expected as of report", "Expected now"):
        assert isinstance(row[column], int | float), column
        assert row[column] == pytest.approx(float(csv_row[column]))
    assert row["Actual"] == 41.5
    assert row["As of"] == datetime.datetime(2026, 9, 30) and csv_row["As of"] == "2026-09-30"
    # The share of the way: (41.5 − 20) / (80 − 20) = 0.3583.
    assert row["Progress"] == pytest.approx(0.3583)
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


SCREEN_COLUMNS = ["code", "name", "status", "progress", "figures", "reporting", "last_entry"]
DETAIL_COLUMNS = ["expected_now", "due_date", "forecast", "plan", "area", "unit"]


def test_the_screen_shows_the_columns_that_matter_and_the_details_on_demand(
    english, client, assessed
):
    client.force_login(assessed["manager"])
    response = client.get(URL)
    assert [column.name for column in response.context["table"].columns] == SCREEN_COLUMNS
    page = response.content.decode()
    assert "Expected now" not in page and "Responsible unit</th>" not in page
    assert 'href="?details=1"' in page and ">More columns</a>" in page
    # Asked for, the details come after the figures, and sorting, paging and filtering keep
    # them asked for.
    response = client.get(URL, {"details": "1", "sort": "status"})
    columns = [column.name for column in response.context["table"].columns]
    assert columns == [*SCREEN_COLUMNS[:5], "expected_now", "due_date", "reporting",
                       "forecast", "last_entry", "plan", "area", "unit"]
    page = response.content.decode()
    assert 'href="?sort=status">Fewer columns</a>' in page
    assert '<input type="hidden" name="details" value="1">' in page
    assert "?details=1&amp;sort=-status" in page  # the status header's sort link
    # The exports hold every figure in a column of its own, whatever the screen shows.
    header = next(csv.reader(io.StringIO(
        exported(client.get(URL, {"_export": "csv"})).decode("utf-8-sig")
    )))
    assert header == [
        "Code", "Target", "Status", "Reason", "Progress", "Actual", "As of",
        "Expected as of report", "Expected now", "Target value", "Unit of measure", "Due date",
        "Reporting", "Forecast", "Last entry", "Plan", "Area", "Responsible unit",
    ]


def test_each_cell_says_its_column_for_the_phone_card(english, client, assessed):
    client.force_login(assessed["manager"])
    page = client.get(URL).content.decode()
    assert '<td class="col-figures num text-end" data-label="Actual of target">' in page
    assert '<td data-label="Last entry" class="col-last_entry">' in page
    # The reason is under the badge on a phone (a tooltip is out of a finger's reach).
    assert '<div class="small reason d-md-none">no report has been approved yet.</div>' in page


# --- what the verdict means (DESIGN §3 rule 8, §5) --------------------------------------

BRIDGE_PLAN = """
plans:
  - code: BX-BRIDGE-PLAN
    name: "Red River road bridge"
    unit: LC-BATXAT
    start: 2025-07-01
    end: 2030-12-31
    areas:
      - {code: infra, name: "Infrastructure"}
    targets:
      - code: BX-BRIDGE
        name: "Red River road bridge built"
        area: infra
        responsible_unit: LC-BATXAT
        measure: "bridges"
        value_type: integer
        trajectory: step
        baseline: {value: 0, date: 2025-06-30}
        target: {value: 1, date: 2030-12-31}
        frequency: quarterly
        grace_days: 15
"""


@pytest.fixture
def bridge(people):
    """A bridge, 0 of 1 built, reported as such for 2026-Q3 and judged at TODAY (2026-11-24):
    a step plan expects 0 until the due date, so the ratio is 1 (on track) — and the share of
    the way is 0."""
    from targets.services import entries as workflow

    plan_import(data=load_located(BRIDGE_PLAN), filename="bridge.yaml", user=plan_operator())
    entry = submitted_entry(people["staff"], "BX-BRIDGE", "2026-Q3", "0")
    workflow.entry_approve(user=people["manager"], entry_id=entry.pk, reassess=None)
    targets_evaluate(on=TODAY, alert_settings=RULES)
    return people


def _cell(response, code: str, column: str) -> str:
    table = response.context["table"]
    row = next(r for r in table.page.object_list if r.record.code == code)
    return str(row.get_cell(column))


def test_the_bridge_not_yet_built_shows_an_empty_bar(english, client, bridge):
    client.force_login(bridge["manager"])
    response = client.get(URL, {"q": "BX-BRIDGE"})
    progress = _cell(response, "BX-BRIDGE", "progress")
    assert 'aria-valuenow="0"' in progress and ' bar-0"' in progress
    assert '<span class="small num share">0 %</span>' in progress
    # The header says what the bar is.
    assert 'title="Share of the way from the baseline to the target value"' in (
        response.content.decode()
    )
    # The badge says why the bridge is on track nonetheless: in its tooltip, and on a phone
    # under it.
    reason = "On track: 0 against 0 expected as of 30 Sep 2026 (100 % of the planned progress)."
    assert _cell(response, "BX-BRIDGE", "status") == (
        f'<span class="badge text-bg-success" title="{reason}">On track</span>'
        f'<div class="small reason d-md-none">{reason.removeprefix("On track: ")}</div>'
    )


def test_a_bar_is_clamped_but_its_label_is_not(english, client, assessed):
    from targets.models import Assessment

    Assessment.objects.filter(target__code="BX-OCC").update(share="1.25")
    Assessment.objects.filter(target__code="BX-IP").update(share="-0.5")
    client.force_login(assessed["manager"])
    response = client.get(URL)
    over = _cell(response, "BX-OCC", "progress")
    assert ' bar-100"' in over and ">125 %</span>" in over
    under = _cell(response, "BX-IP", "progress")
    assert ' bar-0"' in under and ">-50 %</span>" in under


def test_the_figures_say_actual_of_target_and_the_date_they_speak_for(client, bridge):
    from targets.services import entries as workflow

    entry = submitted_entry(bridge["dept_staff"], "BX-OCC", "2026-Q3", "41.5")
    workflow.entry_approve(user=bridge["manager"], entry_id=entry.pk, reassess=None)
    targets_evaluate(on=TODAY, alert_settings=RULES)
    client.force_login(bridge["manager"])
    client.cookies["django_language"] = "en"
    response = client.get(URL, {"details": "1"})
    # 20 + 60 × 457/2010 = 33.64 expected as of 30/09/2026 (the line 20 → 80).
    assert _cell(response, "BX-OCC", "figures") == (
        '<span class="actual fw-semibold">41.5</span> <span class="text-body-secondary">'
        '/ 80 %</span><div class="small text-body-secondary as-of"><span class="text-nowrap">'
        'expected 33.64</span> · <span class="text-nowrap">as of 30 Sep 2026</span></div>'
    )
    # Without an approved report no actual is shown (the rules count the baseline, but a
    # figure would read as a reported one), and no value is expected "then".
    assert _cell(response, "BX-IP", "figures") == (
        '<span class="actual">—</span> <span class="text-body-secondary">/ 2 industrial parks'
        '</span><div class="small text-body-secondary as-of">no approved report</div>'
    )
    client.cookies["django_language"] = "vi"
    response = client.get(URL)
    assert ">kế hoạch 33,64</span> · <span class=\"text-nowrap\">tính đến 30/09/2026<" in (
        _cell(response, "BX-OCC", "figures")
    )
    assert 'title="Đúng tiến độ: thực tế 0 so với kế hoạch 0 tính đến 30/09/2026 ' in (
        response.content.decode()
    )


def test_sorting_by_progress_sorts_by_the_share_of_the_way(client, bridge):
    from targets.services import entries as workflow

    entry = submitted_entry(bridge["dept_staff"], "BX-OCC", "2026-Q3", "50")
    workflow.entry_approve(user=bridge["manager"], entry_id=entry.pk, reassess=None)
    # BX-OCC: (50 − 20) / 60 = 0.5; the bridge and BX-IP: 0
    targets_evaluate(on=TODAY, alert_settings=RULES)
    client.force_login(bridge["manager"])
    rows = client.get(URL, {"sort": "-progress"}).context["table"].page.object_list
    assert rows[0].record.code == "BX-OCC"


def test_exports_carry_the_reason_and_the_as_of_date(english, client, bridge):
    client.force_login(bridge["manager"])
    row = _export_row(client.get(URL, {"_export": "csv"}), "BX-BRIDGE", "csv")
    assert row["Status"] == "On track"
    assert row["Reason"] == (
        "On track: 0 against 0 expected as of 30 Sep 2026 (100 % of the planned progress)."
    )
    assert row["As of"] == "2026-09-30"
    assert row["Progress"] == "0.0000"
    no_report = _export_row(client.get(URL, {"_export": "csv"}), "BX-OCC", "csv")
    assert no_report["Reason"] == "No data: no report has been approved yet."
    assert no_report["As of"] == "" and no_report["Expected as of report"] == ""


def test_a_target_that_could_not_be_judged_says_so(english, client, people, monkeypatch):
    from targets import rules

    judge = rules.assess

    def failing(spec, *args, **kwargs):
        if spec.baseline_value == 20:  # BX-OCC
            raise ArithmeticError("a defect")
        return judge(spec, *args, **kwargs)

    monkeypatch.setattr(rules, "assess", failing)
    targets_evaluate(on=TODAY, alert_settings=RULES)
    client.force_login(people["manager"])
    response = client.get(URL)
    assert _cell(response, "BX-OCC", "status") == (
        '<span class="badge text-bg-secondary" '
        'title="Could not be judged: ArithmeticError: a defect">Not judged</span>'
        '<div class="small reason d-md-none">Could not be judged: ArithmeticError: a defect'
        '</div>'
    )
    assert _cell(response, "BX-OCC", "progress") == "—"
    assert ">No data</span>" in _cell(response, "BX-IP", "status")
    row = _export_row(client.get(URL, {"_export": "csv"}), "BX-OCC", "csv")
    assert row["Status"] == "Not judged"
    assert row["Reason"] == "Could not be judged: ArithmeticError: a defect"


def test_the_reason_costs_no_query_per_row(client, people, django_assert_max_num_queries):
    _targets(200)
    client.force_login(people["manager"])
    with django_assert_max_num_queries(QUERY_BOUND):
        response = client.get(URL, {"per_page": 500})
    assert response.content.decode().count('title="Chưa có số liệu: ') == 202


def test_the_csv_export_of_the_small_plan_whole(english, client, assessed):
    """Every column of every row, as the export wrote them before it was streamed."""
    from targets.services import entries as workflow

    entry = submitted_entry(assessed["dept_staff"], "BX-OCC", "2026-Q3", "41.5")
    workflow.entry_approve(user=assessed["manager"], entry_id=entry.pk, reassess=None)
    targets_evaluate(on=TODAY, alert_settings=RULES)
    client.force_login(assessed["manager"])
    response = client.get(URL, {"_export": "csv"})
    assert response["Content-Disposition"] == 'attachment; filename="targets.csv"'
    # Expected as of 30/09/2026 on the line 20 → 80 (30/06/2025 → 31/12/2030, 2,010 days):
    # 20 + 60 × 457/2010 = 33.641791; now (24/11/2026): 20 + 60 × 512/2010 = 35.283582.
    assert exported(response).decode("utf-8-sig").split("\r\n") == [
        "Code,Target,Status,Reason,Progress,Actual,As of,Expected as of report,Expected now,"
        "Target value,Unit of measure,Due date,Reporting,Forecast,Last entry,Plan,Area,"
        "Responsible unit",
        "BX-IP,Industrial parks formed,No data,No data: no report has been approved yet.,0.0000,"
        "0,,,0,2,industrial parks,2030-12-31,Overdue,,,BX-2025-2030,Industry and logistics,"
        "Bat Xat commune",
        "BX-OCC,Occupancy of industrial zones,On track,On track: 41.5 against 33.64 expected as "
        "of 30 Sep 2026 (158 % of the planned progress).,0.3583,41.5,2026-09-30,33.641791,"
        "35.283582,80,%,2030-12-31,Overdue,,2026-Q3 41.5 (Approved),BX-2025-2030,"
        "Industry and logistics,Industry department",
        "",
    ]


# --- the page's HTML written in Python is the HTML django-tables2 and Django would write ------


def _tags(html: str) -> str:
    return re.sub(r">\s+<", "><", html).strip()


def _tbody(html: str) -> str:
    return _tags(html.split("<tbody", 1)[1].split("</tbody>", 1)[0])


@pytest.mark.parametrize("who", ["manager", "outsider"])  # rows, and the empty table
def test_the_rows_are_those_django_tables2_writes(client, bridge, who):
    entry = submitted_entry(bridge["dept_staff"], "BX-OCC", "2026-Q3", "41.5")
    workflow.entry_approve(user=bridge["manager"], entry_id=entry.pk, reassess=None)
    targets_evaluate(on=TODAY, alert_settings=RULES)
    client.force_login(bridge[who])
    response = client.get(URL, {"sort": "-progress"})
    # The same rows and order, in a table of their own (a table counts its rows as it writes
    # them: odd, even).
    table = StatusTable(response.context["view"].object_list)
    RequestConfig(response.wsgi_request, paginate={"per_page": 25}).configure(table)
    stock = Template(
        '{% load django_tables2 %}{% render_table table "django_tables2/bootstrap5.html" %}'
    ).render(RequestContext(response.wsgi_request, {"table": table}))
    assert _tbody(response.content.decode()) == _tbody(stock)
    assert _tbody(stock).count("<tr") == (3 if who == "manager" else 1)


def test_the_filter_options_are_those_django_writes(client, assessed, small_plan):
    client.force_login(assessed["province"])
    area = Area.objects.get(targets__code="BX-OCC")
    response = client.get(URL, {"area": area.pk, "unit": small_plan["LC-BATXAT"].pk})
    form = response.context["filter"].form
    for name in ("plan", "area", "unit"):
        field = form[name]
        widget = field.field.widget
        django = field.as_widget(forms.Select(attrs=widget.attrs, choices=field.field.choices))
        assert _tags(str(field)) == _tags(django)
    assert f'<option value="{area.pk}" selected>BX-2025-2030 · {area.name}</option>' in str(
        form["area"]
    )


@pytest.mark.parametrize("code", ["BX-IP", "Mã số 1", "A%20B?c#d&e"])
def test_a_row_links_to_its_target_as_reverse_would(code):
    assert StatusTable([])._target_url(code) == reverse("targets:target", args=[code])


def test_sorting_by_status_follows_severity_not_the_keys(client, people):
    from targets.models import Assessment

    plan_import(
        data=load_located(many_targets_plan(7)), filename="many.yaml", user=plan_operator()
    )
    targets_evaluate(on=TODAY, alert_settings=RULES)
    # One target per status, and one that could not be judged, in an order no key sort gives.
    statuses = ["missed", "on_track", "", "at_risk", "no_data", "achieved", "lagging"]
    for index, status in enumerate(statuses):
        Assessment.objects.filter(target__code=f"M{index:04d}").update(
            status=status, error="" if status else "a defect"
        )
    client.force_login(people["province"])
    rows = client.get(URL, {"sort": "status", "q": "M00"}).context["table"].page.object_list
    shown = [statuses[int(row.record.code[1:])] for row in rows]
    assert shown == ["achieved", "on_track", "at_risk", "lagging", "missed", "no_data", ""]
    rows = client.get(URL, {"sort": "-status", "q": "M00"}).context["table"].page.object_list
    assert [statuses[int(row.record.code[1:])] for row in rows] == shown[::-1]


def test_the_filters_offer_all_as_their_empty_choice(client, assessed):
    client.force_login(assessed["manager"])
    client.cookies["django_language"] = "en"
    html = client.get(URL).content.decode()
    assert "---------" not in html
    empty = r'<option value=""( selected)?>{}</option>'
    # Plan, area, unit, status, reporting, due year:
    assert len(re.findall(empty.format("All"), html)) == 6
    client.cookies["django_language"] = "vi"
    assert len(re.findall(empty.format("Tất cả"), client.get(URL).content.decode())) == 6
