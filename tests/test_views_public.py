"""The public pages of a published plan (issue 15): anyone reads its status table and each
target's chart, approved values and source, in Vietnamese or English, from a cacheable page;
nothing else of the plan, and nothing at all of a plan that is not published."""

from __future__ import annotations

import json
import re
from datetime import date
from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from targets.models import Plan, Target
from targets.services import entries as workflow
from targets.services import explanations
from targets.services.plans import load_located, plan_import, plans_set_public
from tests.alerting import RULES, evaluate, report
from tests.conftest import TODAY, many_targets_plan, plan_operator, submitted_entry

pytestmark = pytest.mark.django_db

PLAN = "BX-2025-2030"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

# A second plan, never published: its own target, in the same commune.
HIDDEN_PLAN = """
plans:
  - code: BX-HIDDEN
    name: "Kế hoạch nội bộ"
    name_en: "Internal plan"
    unit: LC-BATXAT
    start: 2025-07-01
    end: 2030-12-31
    areas:
      - {code: inside, name: "Nội bộ", name_en: "Inside"}
    targets:
      - code: BX-SECRET
        name: "Chỉ tiêu nội bộ"
        name_en: "Internal target"
        area: inside
        responsible_unit: LC-BATXAT
        measure: "km"
        value_type: decimal
        baseline: {value: 0, date: 2025-06-30}
        target: {value: 40, date: 2030-12-31}
        frequency: quarterly
"""

# What the plan's people and workflow hold that no public page may show.
NAMES = {
    "staff": ("Lý", "Seo Chứ"),
    "dept_staff": ("Lò", "Thị Hoa"),
    "manager": ("Vàng", "Văn Duyệt"),
    "province": ("Đỗ", "Văn Hải"),
    "admin": ("Hoàng", "Minh Tuấn"),
}
SECRETS = [
    # people: family and given names, usernames, email addresses
    *(part for family, first in NAMES.values() for part in (f"{family} {first}", first)),
    "bx.staff", "ind.staff", "bx.manager", "lc.manager", "@example.org",
    # values that are not approved: submitted, returned and draft (each way it is written)
    "61,37", "61.37", "47,93", "47.93", "58,61", "58.61",
    # notes, the reviewer's comment, the evidence, the explanation request
    "Ghi chú đã duyệt", "Báo cáo đang chờ", "Bản nháp chưa gửi", "Thiếu quyết định",
    "bien-ban-mat", "Vì sao tỷ lệ lấp đầy thấp",
    # the other plan
    "BX-HIDDEN", "BX-SECRET", "Kế hoạch nội bộ", "Internal plan",
    # the signed-in screens, their forms and the session's traces
    "/entries/", "/review/", "/targets/", "/alerts/", "/admin/", "csrfmiddlewaretoken",
    "Sign out", "Đăng xuất", "evidence", "minh chứng",
]


@pytest.fixture
def published(assessed, settings, tmp_path):
    """The small plan published, with everything the signed-in screens show of it in the
    database: named people, an owner, one approved report of BX-OCC (20.5 % at 2025-Q3, a
    lagging start) with a note, a submitted one, a returned one with a comment, a draft with an
    evidence file, alerts, an explanation request; and a second plan, never published."""
    settings.MEDIA_ROOT = tmp_path
    people = assessed
    for who, (family, first) in NAMES.items():
        get_user_model().objects.filter(pk=people[who].pk).update(
            last_name=family, first_name=first
        )
    Target.objects.filter(code="BX-IP").update(owner=people["staff"])
    staff, manager = people["dept_staff"], people["manager"]
    approved = submitted_entry(staff, "BX-OCC", "2025-Q3", "20.5", note="Ghi chú đã duyệt")
    workflow.entry_approve(user=manager, entry_id=approved.pk, reassess=None)
    submitted_entry(staff, "BX-OCC", "2025-Q4", "61.37", note="Báo cáo đang chờ")
    returned = submitted_entry(staff, "BX-OCC", "2026-Q1", "47.93")
    workflow.entry_return(user=manager, entry_id=returned.pk, comment="Thiếu quyết định")
    workflow.entry_save_draft(
        user=staff, target_id=Target.objects.get(code="BX-OCC").pk, period="2026-Q2",
        value="58.61", note="Bản nháp chưa gửi", today=date(2031, 1, 1),
        evidence_file=SimpleUploadedFile("bien-ban-mat.pdf", PDF,
                                         content_type="application/pdf"),
    )
    plan_import(data=load_located(HIDDEN_PLAN), filename="hidden.yaml", user=plan_operator())
    evaluate(TODAY)
    assert Target.objects.get(code="BX-OCC").latest_assessment.status == "lagging"
    explanations.explanation_ask(
        user=people["province"], target_id=Target.objects.get(code="BX-OCC").pk,
        question="Vì sao tỷ lệ lấp đầy thấp?", due_date=date(2026, 12, 15), today=TODAY,
    )
    plans_set_public(plan_ids=[Plan.objects.get(code=PLAN).pk], public=True,
                     user=people["admin"])
    return people


def public_url(name: str, language: str = "vi", **kwargs) -> str:
    return reverse(f"public:{name}", kwargs={"language": language, **kwargs})


def pages(language: str) -> list[str]:
    return [
        public_url("index", language),
        public_url("plan", language, plan=PLAN),
        public_url("plan", language, plan=PLAN) + "?details=1",
        public_url("target", language, plan=PLAN, code="BX-IP"),
        public_url("target", language, plan=PLAN, code="BX-OCC"),
    ]


def chart_of(html: str) -> dict:
    return json.loads(html.split('id="chart-data" type="application/json">')[1].split("<")[0])


# --- who may read them ------------------------------------------------------------------------


def test_the_addresses_put_the_language_first_for_english():
    assert public_url("index") == "/public/"
    assert public_url("index", "en") == "/en/public/"
    assert public_url("plan", plan="en") == "/public/en/"  # a plan may be coded "en"
    assert public_url("target", "en", plan="P", code="T") == "/en/public/P/T/"


@pytest.mark.parametrize("language", ["vi", "en"])
def test_an_anonymous_visitor_reads_every_public_page(client, published, language):
    for url in pages(language):
        response = client.get(url)
        assert response.status_code == 200, url
        assert f'<html lang="{language}">' in response.content.decode(), url


def test_the_status_table_shows_the_plans_targets_with_their_assessments(client, published):
    html = client.get(public_url("plan", "en", plan=PLAN)).content.decode()
    assert "Bat Xat commune 2025–2030 term" in html
    # The signed-in status table's look and columns, less the last entry and reporting.
    assert '<table class="table table-sm table-hover align-middle status-table">' in html
    headers = re.findall(r'<th [^>]*class="[^"]*col-(\w+)', html)
    assert headers == ["code", "name", "status", "progress", "figures"]
    assert "Industrial parks formed" in html and "Occupancy of industrial zones" in html
    # Each code links to its public page in the page's language.
    assert 'href="/en/public/BX-2025-2030/BX-OCC/"' in html
    # BX-OCC: 20.5 % approved as of 30/09/2025, 20 → 80 % on a straight line from 2025-06-30
    # to 2030-12-31 (2010 days): expected 20 + 60 × 92 / 2010 = 22.75 then; a ratio of
    # 0.5 / 2.75 = 18 %, lagging. Its share of the way: 0.5 / 60 = 1 %.
    row = re.search(r'<tr[^>]*>(?:(?!</tr>).)*BX-OCC(?:(?!</tr>).)*</tr>', html, re.S).group(0)
    assert "Lagging" in row and "20.5" in row and "expected 22.75" in row and ">1 %<" in row
    # The counts per status: BX-IP has no approved report, BX-OCC lags.
    counts = dict(re.findall(r'data-status="(\w+)">[^<]*<span class="count">(\d+)</span>', html))
    assert counts == {"achieved": "0", "on_track": "0", "at_risk": "0", "lagging": "1",
                      "missed": "0", "no_data": "1"}


def test_more_columns_add_the_details_but_not_the_plan(client, published):
    html = client.get(public_url("plan", "en", plan=PLAN) + "?details=1").content.decode()
    headers = re.findall(r'<th [^>]*class="[^"]*col-(\w+)', html)
    assert headers == ["code", "name", "status", "progress", "figures", "expected_now",
                       "due_date", "forecast", "area", "unit"]
    assert "Industry department" in html and "31 Dec 2030" in html


def test_the_target_page_shows_the_chart_the_approved_values_and_the_source(client, published):
    html = client.get(public_url("target", "en", plan=PLAN, code="BX-OCC")).content.decode()
    chart = chart_of(html)
    assert chart["actuals"] == [{"x": "2025-09-30", "y": 20.5}]  # the approved report only
    assert chart["as_of"]["x"] == "2025-09-30" and chart["as_of"]["y"] == 20.5
    assert "vendor/chartjs/chart.umd.min.js" in html and "js/trajectory.js" in html
    approved = re.search(r'id="approved-values".*?</section>', html, re.S).group(0)
    assert re.findall(r'<tr id="approved-([^"]+)"', approved) == ["2025-Q3"]
    assert "30 Sep 2025" in approved and "20.5 %" in approved
    assert "Lagging" in html and 'id="verdict"' in html
    # Not the reporting state: it counts the submitted entries too.
    assert "Reporting" not in html and "Overdue" not in html
    ip = client.get(public_url("target", "en", plan=PLAN, code="BX-IP")).content.decode()
    assert "attract investment in the construction of 2 industrial parks" in ip
    assert 'href="https://baolaocai.vn/x"' in ip
    assert 'id="milestones"' in ip and "31 Dec 2027" in ip
    assert "No report has been approved yet." in ip


def test_a_target_that_adds_up_its_reports_shows_each_value_and_the_total(client, published):
    Target.objects.filter(code="BX-OCC").update(aggregation="sum", value_type="decimal")
    report("BX-OCC", "2026-Q3", "2.25", author=published["dept_staff"],
           reviewer=published["manager"])
    html = client.get(public_url("target", "en", plan=PLAN, code="BX-OCC")).content.decode()
    rows = re.findall(r'<tr id="approved-([^"]+)">(.*?)</tr>', html, re.S)
    cells = [(period, re.findall(r'<td[^>]*>([^<]*)</td>', row)) for period, row in rows]
    # Baseline 20, then + 20.5 and + 2.25.
    assert cells == [
        ("2025-Q3", ["2025-Q3", "30 Sep 2025", "20.5 %", "40.5 %"]),
        ("2026-Q3", ["2026-Q3", "30 Sep 2026", "2.25 %", "42.75 %"]),
    ]


def test_nothing_but_approved_progress_appears_on_any_public_page(client, published):
    """Drafts, submitted and returned values, people, notes, comments, evidence, explanation
    requests, alerts and links into the signed-in screens: none of it, in either language,
    signed out or signed in."""
    signed_in = Client()
    signed_in.force_login(published["admin"])
    for visitor in (client, signed_in):
        for language in ("vi", "en"):
            for url in pages(language):
                html = visitor.get(url).content.decode()
                shown = [secret for secret in SECRETS if secret.lower() in html.lower()]
                assert not shown, (url, shown)
    assert published["manager"].alert_inbox.exists()  # there were alerts to leak


def test_a_plan_not_published_answers_404_everywhere_for_everyone(client, published):
    signed_in = Client()
    signed_in.force_login(published["admin"])  # a superuser sees it on the signed-in screens
    hidden = [
        public_url("plan", plan="BX-HIDDEN"),
        public_url("plan", "en", plan="BX-HIDDEN"),
        public_url("target", plan="BX-HIDDEN", code="BX-SECRET"),
        public_url("target", "en", plan="BX-HIDDEN", code="BX-SECRET"),
        # its target under the published plan's address, and the other way round
        public_url("target", plan=PLAN, code="BX-SECRET"),
        public_url("target", plan="BX-HIDDEN", code="BX-IP"),
        public_url("plan", plan="NO-SUCH-PLAN"),
        public_url("target", plan=PLAN, code="NO-SUCH-TARGET"),
    ]
    for visitor in (client, signed_in):
        for url in hidden:
            assert visitor.get(url).status_code == 404, url
        index = visitor.get(public_url("index")).content.decode()
        assert "BX-HIDDEN" not in index and PLAN in index


def test_a_withdrawn_plan_answers_404_again(client, published):
    plan = Plan.objects.get(code=PLAN)
    plans_set_public(plan_ids=[plan.pk], public=False, user=published["admin"])
    assert client.get(public_url("plan", plan=PLAN)).status_code == 404
    assert client.get(public_url("target", plan=PLAN, code="BX-IP")).status_code == 404
    index = client.get(public_url("index"))
    assert PLAN not in index.content.decode() and 'id="no-public-plans"' in index.content.decode()


def test_no_plan_is_public_by_default(client, assessed):
    assert not Plan.objects.filter(public=True).exists()
    assert client.get(public_url("plan", plan=PLAN)).status_code == 404
    assert "No plan has been published yet." not in client.get(public_url("index")).content.decode()
    assert client.get(public_url("index", "en")).content.decode().count(
        "No plan has been published yet.") == 1


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=st.text(max_size=50), code=st.text(max_size=50))
def test_any_address_of_a_plan_not_published_answers_404(client, assessed, plan, code):
    """Whatever the codes (accents, spaces, slashes, NUL): 404, never a page or an error."""
    for url in (f"/public/{quote(plan, safe='')}/", f"/en/public/{quote(plan, safe='')}/",
                f"/public/{quote(plan, safe='')}/{quote(code, safe='')}/"):
        assert client.get(url).status_code == 404, url


def test_only_get_and_head_are_answered(client, published):
    url = public_url("plan", plan=PLAN)
    assert client.head(url).status_code == 200
    assert client.post(url).status_code == 405


def test_an_unknown_or_hidden_sort_is_ignored(client, published):
    for sort in ("last_entry", "reporting", "nonsense", "-status"):
        response = client.get(public_url("plan", plan=PLAN) + f"?sort={sort}&page=99")
        assert response.status_code == 200, sort


# --- languages and caching ----------------------------------------------------------------------


def test_the_language_is_the_addresses_not_the_cookies(client, published):
    client.cookies["django_language"] = "en"
    vietnamese = client.get(public_url("plan", plan=PLAN))
    html = vietnamese.content.decode()
    assert '<html lang="vi">' in html and "Chậm tiến độ" in html and "Lagging" not in html
    assert vietnamese["Content-Language"] == "vi"
    # The switcher links to the same page in the other language, and the head says so.
    assert 'href="/en/public/BX-2025-2030/" hreflang="en"' in html
    assert '<link rel="alternate" hreflang="en" href="/en/public/BX-2025-2030/">' in html
    english = client.get(public_url("plan", "en", plan=PLAN))
    assert english["Content-Language"] == "en" and "Lagging" in english.content.decode()
    # The cookie's language still rules the signed-in screens.
    assert client.get(reverse("login"))["Content-Language"] == "en"


def test_the_pages_are_cacheable_by_anyone_and_revalidated_by_etag(client, published):
    for url in pages("vi"):
        response = client.get(url)
        cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
        assert cache_control == {"public", "max-age=300"}, url
        assert "Cookie" not in response.get("Vary", ""), url
        assert not response.cookies, url  # no session, no CSRF cookie
        etag = response["ETag"]
        again = client.get(url, HTTP_IF_NONE_MATCH=etag)
        assert again.status_code == 304 and again.content == b"", url
        assert "max-age=300" in again["Cache-Control"], url


def test_every_visitor_of_an_address_gets_the_same_page(client, published):
    """Signed in or not, with or without a language cookie: the same bytes, the same ETag."""
    signed_in = Client()
    signed_in.force_login(published["staff"])
    signed_in.cookies["django_language"] = "en"
    for url in pages("vi") + pages("en"):
        anonymous, member = client.get(url), signed_in.get(url)
        assert anonymous.content == member.content, url
        assert anonymous["ETag"] == member["ETag"], url


def test_a_404_is_not_sent_as_cacheable(client, published):
    response = client.get(public_url("plan", plan="BX-HIDDEN"))
    assert "public" not in response.get("Cache-Control", "")


def test_a_new_approval_changes_the_etag(client, published):
    url = public_url("target", plan=PLAN, code="BX-OCC")
    before = client.get(url)["ETag"]
    report("BX-OCC", "2026-Q3", "30", author=published["dept_staff"],
           reviewer=published["manager"])
    response = client.get(url, HTTP_IF_NONE_MATCH=before)
    assert response.status_code == 200 and response["ETag"] != before
    assert {"x": "2026-09-30", "y": 30.0} in chart_of(response.content.decode())["actuals"]


# --- queries ------------------------------------------------------------------------------------

# The plan; the counts per status; the page's rows (the assessments joined). Nothing of the
# session or the user.
PLAN_PAGE_QUERIES = 3
# The target with its plan, area, unit and assessment; its milestones; its approved entries.
TARGET_PAGE_QUERIES = 3


@pytest.mark.parametrize("count", [10, 120])
def test_the_plan_pages_queries_do_not_grow_with_its_targets(
    client, people, django_assert_num_queries, count
):
    plan_import(data=load_located(many_targets_plan(count)), filename="many.yaml",
                user=plan_operator())
    evaluate(TODAY, RULES)
    plans_set_public(plan_ids=[Plan.objects.get(code="MANY").pk], public=True,
                     user=people["admin"])
    with django_assert_num_queries(PLAN_PAGE_QUERIES):
        response = client.get(public_url("plan", plan="MANY"))
    assert response.status_code == 200
    assert len(response.context["table"].page.object_list) == min(count, 100)
    with django_assert_num_queries(1):  # the plans with their counts of targets
        client.get(public_url("index"))


def test_the_target_pages_queries_do_not_grow_with_its_reports(
    client, published, django_assert_num_queries
):
    for period in ["2025-Q3", "2025-Q4", "2026-Q1"]:
        report("BX-IP", period, "1", author=published["staff2"], reviewer=published["manager"])
    with django_assert_num_queries(TARGET_PAGE_QUERIES):
        response = client.get(public_url("target", plan=PLAN, code="BX-IP"))
    assert len(response.context["approved"]) == 3


# --- switching a plan public ---------------------------------------------------------------------


def test_publishing_is_recorded_in_the_history_and_repeating_it_changes_nothing(people):
    plan = Plan.objects.get(code=PLAN)
    when = timezone.now()
    changed = plans_set_public(plan_ids=[plan.pk], public=True, user=people["admin"], now=when)
    assert [p.code for p in changed] == [PLAN]
    plan.refresh_from_db()
    assert plan.public and plan.published_at == when
    last = plan.history.latest("history_date")
    assert last.public and last.history_user == people["admin"]
    rows = plan.history.count()
    assert plans_set_public(plan_ids=[plan.pk], public=True, user=people["admin"]) == []
    assert plan.history.count() == rows
    plans_set_public(plan_ids=[plan.pk], public=False, user=people["admin"])
    plan.refresh_from_db()
    assert not plan.public and plan.published_at is None
    assert plan.history.count() == rows + 1


def test_importing_the_plan_file_again_keeps_it_published(people):
    from tests.conftest import SMALL_PLAN

    plan = Plan.objects.get(code=PLAN)
    plans_set_public(plan_ids=[plan.pk], public=True, user=people["admin"])
    changed = SMALL_PLAN.replace("Xã Bát Xát nhiệm kỳ 2025–2030", "Xã Bát Xát, nhiệm kỳ mới")
    plan_import(data=load_located(changed), filename="small.yaml", user=plan_operator())
    plan.refresh_from_db()
    assert plan.name == "Xã Bát Xát, nhiệm kỳ mới" and plan.public


def test_the_admin_publishes_and_withdraws_with_its_actions(client, people):
    client.force_login(people["admin"])
    plan = Plan.objects.get(code=PLAN)
    changelist = reverse("admin:targets_plan_changelist")
    response = client.post(changelist, {"action": "publish", "_selected_action": [plan.pk]},
                           follow=True)
    assert response.status_code == 200
    plan.refresh_from_db()
    assert plan.public and plan.published_at is not None
    assert plan.history.latest("history_date").history_user == people["admin"]
    assert client.get(public_url("plan", plan=PLAN)).status_code == 200
    client.post(changelist, {"action": "unpublish", "_selected_action": [plan.pk]})
    plan.refresh_from_db()
    assert not plan.public and plan.published_at is None
    assert client.get(public_url("plan", plan=PLAN)).status_code == 404


def test_the_admins_form_switches_the_plan_and_stamps_the_time(client, people):
    client.force_login(people["admin"])
    plan = Plan.objects.get(code=PLAN)
    url = reverse("admin:targets_plan_change", args=[plan.pk])
    form = client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update({
        "unit": plan.unit_id, "start": "2025-07-01", "end": "2030-12-31", "public": "on",
        "areas-TOTAL_FORMS": "0", "areas-INITIAL_FORMS": "0",
    })
    data.pop("published_at", None)
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    plan.refresh_from_db()
    assert plan.public and plan.published_at is not None


def test_the_sign_in_page_links_to_the_public_plans(client, english):
    html = client.get(reverse("login")).content.decode()
    assert 'href="/en/public/" id="public-plans-link"' in html
