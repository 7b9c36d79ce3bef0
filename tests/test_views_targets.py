"""The target page: chart data, milestones, entries with history, alerts, source; 404 outside."""

import json
from datetime import date

import pytest
from django.urls import reverse

from targets.services import entries as workflow
from tests.alerting import RULES, alert_key, evaluate, lagging_occupancy
from tests.conftest import submitted_entry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def url(code: str) -> str:
    return reverse("targets:target", args=[code])


@pytest.mark.parametrize("who", ["staff", "dept_staff", "manager", "province", "admin"])
def test_members_of_the_subtree_see_the_page(client, assessed, who):
    client.force_login(assessed[who])
    response = client.get(url("BX-OCC"))
    assert response.status_code == 200
    assert response.context["target"].code == "BX-OCC"


@pytest.mark.parametrize(("who", "code"), [("outsider", "BX-IP"), ("dept_staff", "BX-IP")])
def test_a_target_outside_the_scope_is_404(client, assessed, who, code):
    client.force_login(assessed[who])
    assert client.get(url(code)).status_code == 404


def test_an_unknown_target_is_404(client, assessed):
    client.force_login(assessed["admin"])
    assert client.get(url("NOPE")).status_code == 404


def test_signed_out_goes_to_login(client, assessed):
    assert client.get(url("BX-IP")).status_code == 302


def test_page_shows_chart_milestones_source_and_entries(client, assessed):
    p = assessed
    entry = submitted_entry(p["staff"], "BX-IP", "2025-Q3", "0", note="Site cleared")
    workflow.entry_return(user=p["manager"], entry_id=entry.pk, comment="Attach the decision")
    client.force_login(p["manager"])
    response = client.get(url("BX-IP"))
    html = response.content.decode()
    chart = json.loads(html.split('id="chart-data" type="application/json">')[1].split("<")[0])
    assert chart["expected"][0] == {"x": "2025-06-30", "y": 0.0}
    assert chart["milestones"] == [{"x": "2027-12-31", "y": 1.0}]
    assert "vendor/chartjs/chart.umd.min.js" in html
    assert "https://baolaocai.vn/x" in html
    assert "attract investment in the construction of 2 industrial parks" in html
    assert 'id="milestones"' in html and "31 Dec 2027" in html
    assert "Attach the decision" in html
    [shown] = response.context["entries"]
    assert [e.status for e in shown.events] == ["draft", "submitted", "returned"]


def test_alerts_section_lists_the_recorded_alerts(client, assessed, english):
    client.force_login(assessed["manager"])
    html = client.get(url("BX-IP")).content.decode()
    # Evaluated at 2026-11-24 with no entry: 2025-Q3 … 2026-Q3 are overdue, one alert each.
    assert html.count(f'data-alert="{alert_key("BX-IP", "overdue:")}') == 5
    assert f'data-alert="{alert_key("BX-IP", "overdue:2026-Q3")}"' in html
    assert "The report for 2026-Q3 is overdue" in html
    assert "Report overdue: " not in html  # what happened is said once, not kind then event
    # Another target's alerts are not shown here.
    assert f'data-alert="{alert_key("BX-OCC", "")}' not in html


def test_report_button_only_for_who_may_enter(client, assessed):
    client.force_login(assessed["staff"])
    assert 'id="report-link"' in client.get(url("BX-IP")).content.decode()
    # Staff of the commune see the department's target but do not report on it.
    assert 'id="report-link"' not in client.get(url("BX-OCC")).content.decode()


def test_a_percent_projection_is_shown_within_0_and_100(client, assessed):
    from targets.models import Target
    from targets.services.evaluation import targets_evaluate
    from tests.conftest import TODAY

    for period, value in (("2025-Q3", "30"), ("2025-Q4", "40"), ("2026-Q1", "50")):
        entry = submitted_entry(assessed["dept_staff"], "BX-OCC", period, value)
        workflow.entry_approve(user=assessed["manager"], entry_id=entry.pk, reassess=None)
    targets_evaluate(on=TODAY, alert_settings=RULES)
    stored = Target.objects.get(code="BX-OCC").latest_assessment
    assert stored.projected > 100 and stored.forecast_reached_on  # the rules' own value stays
    client.force_login(assessed["manager"])
    response = client.get(url("BX-OCC"))
    assert response.context["projected"] == 100
    assert "projected at due date: 100" in response.content.decode()
    forecast = response.context["chart"]["forecast"]
    assert max(point["y"] for point in forecast) == 100
    assert forecast[-1] == {"x": "2030-12-31", "y": 100.0}
    start, crossing, end = forecast  # rises to 100, then stays there
    assert start["y"] < 100 and crossing["y"] == 100 and start["x"] < crossing["x"] < end["x"]


def _assessment_card(html: str) -> str:
    """The assessment card's markup, its whitespace collapsed."""
    return " ".join(html.split('<h2 class="h5">')[2].split("</dl>")[0].split())


def test_the_page_says_what_the_verdict_means(client, people):
    """BX-OCC at 2026-11-24: 22 % reported for 2026-Q3, while the plan expected 20 + 60 ×
    457/2010 = 33.64 at 2026-09-30 and 35.28 today; ratio 2 / 13.64 = 15 % (lagging, below
    80 %); share of the way 2 / 60 = 3 %."""
    lagging_occupancy(people)
    evaluate(date(2026, 11, 24))
    client.force_login(people["manager"])
    response = client.get(url("BX-OCC"))
    html = response.content.decode()
    assert response.context["reason"] == (
        "Lagging: 22 against 33.64 expected as of 30 Sep 2026 "
        "(15 % of the planned progress, below 80 %)."
    )
    assert (
        '<div class="alert alert-danger py-2" id="verdict" role="status">Lagging: 22 against '
        "33.64 expected as of 30 Sep 2026 (15 % of the planned progress, below 80 %).</div>"
    ) in html
    card = _assessment_card(html)
    muted = '<div class="small text-body-secondary">'
    assert f'id="actual">22 % {muted}as of 30 Sep 2026</div>' in card
    assert f'id="expected">33.64 % {muted}as of 30 Sep 2026</div>' in card
    assert 'id="expected-now">35.28 %' in card and "as of 24 Nov 2026" in card
    assert 'id="share">3 %' in card and 'id="ratio">15 %' in card
    assert "Progress ratio" in card and "100 % = on plan" in card
    # The alert on the same page says it as well.
    assert "Status worsened from No data to Lagging. Lagging: 22 against 33.64" in html

    client.cookies["django_language"] = "vi"
    html = client.get(url("BX-OCC")).content.decode()
    assert (
        "Chậm tiến độ: thực tế 22 so với kế hoạch 33,64 tính đến 30/09/2026 "
        "(đạt 15 % tiến độ kế hoạch, dưới 80 %)."
    ) in html
    assert "tính đến 30/09/2026" in _assessment_card(html)
    assert "Tỷ lệ tiến độ" in html


def test_without_a_report_the_actual_is_the_baseline(client, assessed):
    client.force_login(assessed["manager"])
    response = client.get(url("BX-OCC"))
    card = _assessment_card(response.content.decode())
    assert response.context["reason"] == "No data: no report has been approved yet."
    assert "baseline: no approved report yet" in card
    assert 'id="expected"' not in card and 'id="expected-now">' in card


def test_a_target_that_could_not_be_judged_says_why(client, people, monkeypatch):
    from targets import rules

    monkeypatch.setattr(rules, "assess", lambda *args, **kwargs: 1 / 0)
    evaluate(date(2026, 11, 24))
    client.force_login(people["manager"])
    html = client.get(url("BX-IP")).content.decode()
    assert (
        '<div class="alert alert-secondary py-2" id="verdict" role="status">'
        "Could not be judged: ZeroDivisionError: division by zero</div>"
    ) in html
    assert 'id="ratio"' not in html


def test_the_chart_marks_the_as_of_point(client, people):
    lagging_occupancy(people)
    evaluate(date(2026, 11, 24))
    client.force_login(people["manager"])
    chart = client.get(url("BX-OCC")).context["chart"]
    assert chart["as_of"] == {"x": "2026-09-30", "y": 22.0, "expected": 33.641791}
    assert chart["labels"]["as_of"] == "Latest report (as of 30 Sep 2026)"
    client.cookies["django_language"] = "vi"
    chart = client.get(url("BX-OCC")).context["chart"]
    assert chart["labels"]["as_of"] == "Báo cáo gần nhất (tính đến 30/09/2026)"
