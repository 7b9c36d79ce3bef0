"""The register's screens (issue 14): the project page and its report form, project reports in
the entry screen and the review queue, a register target's page, the pipeline; their scoping,
four eyes, versions and query counts.

The register is loaded from a register file whose figures speak for the quarter before the one
whose report is due today (``DUE``), so that a report of ``DUE`` changes a target's actual
whatever the day the tests run.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from register.loading import register_load
from register.models import Project, ProjectReport
from register.selectors import due_quarter
from register.services import (
    opening_record,
    period_holding,
    project_report_save_draft,
    project_report_submit,
)
from targets.models import EntryStatus, Role, Status, Target, Unit
from targets.plan_yaml import load_located
from targets.services.evaluation import targets_reassess
from targets.services.plans import plan_import
from tests.alerting import RULES
from tests.conftest import make_user, plan_operator, rolled_back

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DUE = due_quarter(TODAY)  # the last quarter that ended: its report is due
FILED = period_holding(DUE.start - timedelta(days=1))  # the quarter the register file speaks for
RUNNING = period_holding(TODAY)
BILLION = 10**9

# A target of the commune that counts its operating industrial parks, on a straight line: 0 of
# them is lagging as soon as the line has risen, 1 of 2 is ahead of it (until 2030).
LINEAR_PLAN = """
plans:
  - code: BX-REG
    name: "Sổ đăng ký"
    unit: LC-BATXAT
    start: 2025-07-01
    end: 2030-12-31
    areas:
      - {code: parks, name: "Khu công nghiệp"}
    targets:
      - code: BX-PARKS
        name: "Khu công nghiệp đi vào hoạt động"
        name_en: "Industrial parks operating"
        area: parks
        responsible_unit: LC-BATXAT
        measure: "khu"
        value_type: integer
        baseline: {value: 0, date: 2025-06-30}
        target: {value: 2, date: 2030-12-31}
        frequency: quarterly
        grace_days: 15
"""


def register_file() -> str:
    """Two industrial parks of Bat Xat with their infrastructure projects (Ban Qua: certificate
    issued; the import-export park: land handed over), a factory of 10 ha in Ban Qua (USD), and
    a project of Lai Chau province; BX-IP and BX-PARKS count the operating parks, BX-OCC the
    occupancy of the parks."""
    day = FILED.start.isoformat()
    return f"""
as_of: {FILED.end.isoformat()}
parks:
  - {{code: P-BANQUA, name: "Khu công nghiệp Bản Qua", name_en: "Ban Qua industrial park",
     kind: industrial_park, unit: LC-BATXAT, industrial_land_ha: 95}}
  - {{code: P-XNK, name: "Khu công nghiệp xuất nhập khẩu", name_en: "Import-export park",
     kind: industrial_park, unit: LC-BATXAT, industrial_land_ha: 222}}
projects:
  - {{code: D-BANQUA, name: "Hạ tầng Khu công nghiệp Bản Qua", name_en: "Ban Qua infrastructure",
     investor: "Công ty Bản Qua", investor_country: VN, sector: infrastructure, unit: LC-BATXAT,
     park: P-BANQUA, registered_capital: {1450 * BILLION}, disbursed_capital: {100 * BILLION},
     land_area_ha: 95, jobs_planned: 500, jobs_filled: 20, stage: certificate_issued,
     stage_date: {day}}}
  - {{code: D-XNK, name: "Hạ tầng Khu công nghiệp xuất nhập khẩu", investor: "Công ty XNK",
     investor_country: VN, sector: infrastructure, unit: LC-BATXAT, park: P-XNK,
     registered_capital: {2900 * BILLION}, stage: land_handed_over, stage_date: {day}}}
  - {{code: D-FACTORY, name: "Nhà máy phụ trợ", name_en: "Supporting factory",
     investor: "Factory Co", investor_country: KR, sector: supporting_industries,
     unit: LC-BATXAT, park: P-BANQUA, registered_capital: 15000000, registered_currency: USD,
     land_area_ha: 10, stage: land_handed_over, stage_date: {day}}}
  - {{code: D-LCH, name: "Dự án Lai Châu", investor: "Công ty Lai Châu", investor_country: VN,
     sector: trade, unit: LCH, registered_capital: {50 * BILLION}, stage: proposed,
     stage_date: {day}}}
measures:
  - {{target: BX-IP, kind: count, counted: parks, unit: LC-BATXAT, park_kind: industrial_park,
     stage: operating}}
  - {{target: BX-PARKS, kind: count, counted: parks, unit: LC-BATXAT,
     park_kind: industrial_park, stage: operating}}
  - {{target: BX-OCC, kind: occupancy, counted: parks, unit: LC-BATXAT,
     park_kind: industrial_park}}
"""


@pytest.fixture
def register(people, english):
    plan_import(data=load_located(LINEAR_PLAN), filename="linear.yaml", user=plan_operator())
    register_load(data=load_located(register_file()), filename="register.yaml",
                  user=plan_operator())
    units = {u.code: u for u in Unit.objects.all()}
    people["lc staff"] = make_user("lc.staff", [(units["LC"], Role.STAFF)])
    targets_reassess(Target.objects.all(), alert_settings=RULES)
    return people


def project_url(code: str = "D-BANQUA", query: str = "") -> str:
    return reverse("register:project", args=[code]) + query


def report_data(period: str = DUE.key, *, stage: str = "operating",
                stage_date: date | None = None, registered: str = "1450000000000",
                disbursed: str = "300000000000", jobs: str = "120", note: str = "",
                version: int = 0, action: str = "draft", opened: str | None = None) -> dict:
    return {
        "period": period, "stage": stage,
        "stage_date": (stage_date or DUE.start + timedelta(days=10)).isoformat(),
        "registered_capital": registered, "disbursed_capital": disbursed, "jobs_filled": jobs,
        "note": note, "version": str(version), "opened_period": opened or period,
        "action": action,
    }


def report_of(code: str = "D-BANQUA", period: str = DUE.key) -> ProjectReport:
    return ProjectReport.objects.get(project__code=code, period=period)


def submitted(author, code: str = "D-BANQUA", period: str = DUE.key, **figures
              ) -> ProjectReport:
    """A report written and submitted through the workflow."""
    data = {"stage": "operating", "stage_date": DUE.start + timedelta(days=10),
            "registered_capital": 1450 * BILLION, "disbursed_capital": 300 * BILLION,
            "jobs_filled": 120, **figures}
    draft = project_report_save_draft(user=author, project_id=Project.objects.get(code=code).pk,
                                      period=period, **data)
    return project_report_submit(user=author, report_id=draft.pk)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- scoping ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "code", "status"), [
    ("staff", "D-BANQUA", 200), ("staff", "D-LCH", 404),
    ("outsider", "D-LCH", 200), ("outsider", "D-BANQUA", 404),
    ("dept_staff", "D-BANQUA", 404),  # the department sees its own subtree only
    ("province", "D-BANQUA", 200), ("admin", "D-LCH", 200),
    ("staff", "NO-SUCH", 404),
])
def test_the_project_page_is_404_outside_the_scope(client, register, who, code, status):
    client.force_login(register[who])
    assert client.get(project_url(code)).status_code == status
    if status == 404:
        assert client.post(project_url(code), report_data()).status_code == 404
        assert not ProjectReport.objects.filter(period=DUE.key).exists()


def test_the_project_page_asks_to_sign_in(client, register):
    response = client.get(project_url())
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_who_sees_a_project_but_may_not_report_gets_no_form_and_403(client, register):
    client.force_login(register["lc staff"])  # staff of the province: sees, reports for LC only
    page = client.get(project_url())
    assert page.status_code == 200
    assert "report-form" not in page.content.decode()
    assert client.post(project_url(), report_data()).status_code == 403
    assert not ProjectReport.objects.filter(period=DUE.key).exists()


def test_a_review_page_outside_the_scope_is_404_and_403_for_staff(client, register):
    report = submitted(register["staff"])
    review = reverse("register:review-report", args=[report.pk])
    approve = reverse("register:approve-report", args=[report.pk])
    client.force_login(register["outsider"])
    assert client.get(review).status_code == 404
    assert client.post(approve, {"version": report.version}).status_code == 404
    client.force_login(register["staff"])
    assert client.get(review).status_code == 403
    assert client.post(approve, {"version": report.version}).status_code == 403
    assert report_of().status == EntryStatus.SUBMITTED


# --- the project page ---------------------------------------------------------------------------


def test_the_project_page_shows_facts_timeline_capital_and_reports(client, register):
    submitted(register["staff"])
    client.force_login(register["manager"])
    response = client.get(project_url())
    page = response.content.decode()
    assert "Ban Qua infrastructure" in page
    assert "1,450,000,000,000 VND" in page  # the registered capital with its currency
    assert "20 filled of 500 planned" in page
    timeline = response.context["timeline"]
    assert [(s.stage, s.period) for s in timeline] == [("certificate_issued", FILED.key)]
    (point,) = response.context["capital"]  # the approved report only
    assert (point.period, point.registered, point.disbursed, point.disbursed_share) == (
        FILED.key, 1450 * BILLION, 100 * BILLION, 7)  # 100 / 1,450 = 6.9 %
    assert [(r.period, r.status) for r in response.context["reports"]] == [
        (DUE.key, "submitted"), (FILED.key, "approved")]
    # The manager may report too: the due quarter's report is submitted, so the form opens on
    # the running quarter.
    assert response.context["form"].initial["period"] == RUNNING.key


def test_the_form_opens_on_the_due_quarter_with_the_projects_figures(client, register):
    client.force_login(register["staff"])
    response = client.get(project_url())
    form = response.context["form"]
    assert form.initial["period"] == DUE.key
    assert form.initial["version"] == 0
    assert (form.initial["stage"], form.initial["registered_capital"]) == (
        "certificate_issued", Decimal(1450 * BILLION))
    choices = [key for key, _label in form.fields["period"].choices]
    assert choices[:3] == [RUNNING.key, DUE.key, FILED.key]
    assert client.get(project_url(query="?period=2019-Q9")).status_code == 404


def test_bad_figures_are_shown_next_to_their_field_and_nothing_is_written(client, register):
    client.force_login(register["staff"])
    response = client.post(project_url(), report_data(
        registered="1,5", disbursed="-3", jobs="2.5",
        stage_date=DUE.end + timedelta(days=1),
    ))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["registered_capital"] == [
        "“1,5” is not a number in English notation (1,234.5). In Vietnamese notation (1.234,5) "
        "it is 1.5: if that is what you mean, write 1.5."]
    assert errors["disbursed_capital"] == ["Give an amount, 0 or more."]
    assert errors["jobs_filled"] == ["Give a whole number, 0 or more."]
    assert errors["stage_date"][0].startswith(
        f"The stage date must be on or before the end of {DUE.key} (")
    assert not ProjectReport.objects.filter(period=DUE.key).exists()


def test_vietnamese_figures_are_read_in_vietnamese(client, register):
    client.cookies["django_language"] = "vi"
    client.force_login(register["staff"])
    response = client.post(project_url(), report_data(registered="1.450.000.000.000",
                                                       disbursed="250.000.000.000,5"))
    assert response.status_code == 302
    report = report_of()
    assert (report.registered_capital, report.disbursed_capital) == (
        Decimal(1450 * BILLION), Decimal("250000000000.5"))


def test_a_stale_version_is_refused_with_a_message_and_nothing_is_lost(client, register):
    client.force_login(register["staff"])
    opened = client.get(project_url()).context["form"].initial["version"]  # 0: none yet
    # Meanwhile a colleague saves the quarter's draft.
    project_report_save_draft(
        user=register["staff2"], project_id=Project.objects.get(code="D-BANQUA").pk,
        period=DUE.key, stage="under_construction", stage_date=DUE.start,
        registered_capital=1450 * BILLION, disbursed_capital=200 * BILLION, jobs_filled=50,
    )
    response = client.post(project_url(), report_data(version=opened, jobs="999"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Someone else changed the report of D-BANQUA for " + DUE.key in page
    assert 'id="conflict"' in page
    form = response.context["form"]
    assert form.data["jobs_filled"] == "999"  # what the user typed is kept
    assert form.data["version"] == "1"  # and now stands for the saved report
    report = report_of()
    assert (report.stage, report.jobs_filled, report.version) == ("under_construction", 50, 1)
    # Saving again replaces it knowingly.
    again = client.post(project_url(), {**form.data.dict(), "action": "draft"})
    assert again.status_code == 302
    assert (report_of().jobs_filled, report_of().version) == (999, 2)


def test_a_submitted_report_cannot_be_changed_from_the_form(client, register):
    report = submitted(register["staff"])
    client.force_login(register["staff"])
    response = client.get(project_url(query=f"?period={DUE.key}"))
    assert response.context["editable"] is False
    assert response.context["form"].fields["stage"].disabled
    response = client.post(project_url(), report_data(version=report.version))
    assert response.context["form"].errors["period"] == [
        f"The report for {DUE.key} is submitted and can no longer be changed; choose another "
        "quarter."]
    assert report_of().version == report.version


# --- the whole cycle through the screens ---------------------------------------------------------


def test_draft_submit_return_fix_approve_reassesses_the_target(client, register):
    staff, manager = register["staff"], register["manager"]
    parks = Target.objects.get(code="BX-PARKS")
    before = parks.latest_assessment
    assert (before.actual, before.status) == (0, Status.LAGGING)

    # The staff member writes a draft, then submits it.
    client.force_login(staff)
    saved = client.post(project_url(), report_data(action="draft"))
    assert saved.status_code == 302
    assert saved.url == project_url(query=f"?period={DUE.key}#report")
    report = report_of()
    assert (report.status, report.version, report.author) == ("draft", 1, staff)
    done = client.post(project_url(), report_data(action="submit", version=1))
    assert done.status_code == 302
    assert report_of().status == "submitted"

    # The manager finds it in the queue and returns it with a comment (required).
    client.force_login(manager)
    queue = client.get(reverse("targets:review"))
    assert [r.pk for r in queue.context["project_reports"]] == [report.pk]
    assert f'id="review-report-D-BANQUA-{DUE.key}"' in queue.content.decode()
    back = reverse("register:return-report", args=[report.pk])
    refused = client.post(back, {"comment": "  ", "version": 2})
    assert refused.context["return_form"].errors["comment"] == [
        "Say what needs fixing: a comment is required."]
    assert report_of().status == "submitted"
    returned = client.post(back, {"comment": "Attach the operating licence", "version": 2})
    assert returned.url == reverse("targets:review")
    assert report_of().status == "returned"

    # The staff member sees it to fix, with the comment, and fixes it.
    client.force_login(staff)
    entries = client.get(reverse("targets:enter")).content.decode()
    assert f'id="to-fix-D-BANQUA-{DUE.key}"' in entries
    assert "Attach the operating licence" in entries
    page = client.get(project_url(query=f"?period={DUE.key}"))
    assert page.context["report"].review_comment == "Attach the operating licence"
    fixed = client.post(project_url(), report_data(action="submit", version=3,
                                                   note="Licence attached"))
    assert fixed.status_code == 302
    report = report_of()
    assert (report.status, report.note, report.version) == ("submitted", "Licence attached", 5)

    # The manager approves it: Ban Qua is operating, the target counts 1 park at once.
    client.force_login(manager)
    approved = client.post(reverse("register:approve-report", args=[report.pk]),
                           {"version": report.version})
    assert approved.url == reverse("targets:review")
    assert report_of().status == "approved"
    assert Project.objects.get(code="D-BANQUA").stage == "operating"
    after = Target.objects.get(code="BX-PARKS").latest_assessment
    assert (after.actual, after.as_of, after.status) == (1, DUE.end, Status.ON_TRACK)
    assert Target.objects.get(code="BX-IP").latest_assessment.actual == 1


def test_a_stale_approval_is_refused_with_a_message(client, register):
    report = submitted(register["staff"])
    client.force_login(register["manager"])
    response = client.post(reverse("register:approve-report", args=[report.pk]),
                           {"version": report.version - 1}, follow=True)
    assert any("Someone else changed the report of D-BANQUA" in m
               for m in messages_of(response))
    assert report_of().status == "submitted"


# --- four eyes ----------------------------------------------------------------------------------


def test_four_eyes_the_refusal_is_shown_instead_of_the_buttons_and_enforced(client, register):
    manager = register["manager"]
    own = submitted(manager)  # the manager wrote and submitted it himself
    client.force_login(manager)
    queue = client.get(reverse("targets:review")).content.decode()
    row = re.search(rf'<tr id="review-report-D-BANQUA-{DUE.key}">.*?</tr>', queue, re.S)[0]
    assert "You set these figures: another manager approves them." in row
    assert 'name="entries"' not in row  # no box to tick
    review = client.get(reverse("register:review-report", args=[own.pk])).content.decode()
    assert 'id="cannot-review"' in review
    assert 'id="approve"' not in review and 'id="return-form"' not in review
    # Posting anyway is refused.
    response = client.post(reverse("register:approve-report", args=[own.pk]),
                           {"version": own.version}, follow=True)
    assert any("another manager approves" in m for m in messages_of(response))
    bulk = client.post(reverse("register:review-reports"),
                       {"entries": [own.pk], f"version-{own.pk}": own.version,
                        "action": "approve"}, follow=True)
    assert any("Not reviewed" in m for m in messages_of(bulk))
    assert report_of().status == "submitted"
    # Another manager (the province's) approves it.
    client.force_login(register["province"])
    review = client.get(reverse("register:review-report", args=[own.pk])).content.decode()
    assert 'id="approve"' in review
    client.post(reverse("register:approve-report", args=[own.pk]), {"version": own.version})
    assert report_of().status == "approved"


def test_the_review_page_shows_the_previous_approved_report_beside(client, register):
    report = submitted(register["staff"])
    client.force_login(register["manager"])
    response = client.get(reverse("register:review-report", args=[report.pk]))
    assert response.context["previous"].period == FILED.key
    page = response.content.decode()
    stage_row = re.search(r'<tr id="compare-stage".*?</tr>', page, re.S)[0]
    assert "changed" in stage_row
    assert "Investment registration certificate issued" in stage_row
    assert "Operating" in stage_row
    registered_row = re.search(r'<tr id="compare-registered".*?</tr>', page, re.S)[0]
    assert "changed" not in registered_row  # 1,450 billion before and after


def test_bulk_return_needs_a_comment_and_returns_the_ticked(client, register):
    one = submitted(register["staff"])
    two = submitted(register["staff"], code="D-XNK", stage="under_construction")
    client.force_login(register["manager"])
    url = reverse("register:review-reports")
    ticked = {"entries": [one.pk, two.pk], f"version-{one.pk}": one.version,
              f"version-{two.pk}": two.version}
    response = client.post(url, {**ticked, "action": "return", "comment": ""}, follow=True)
    assert "Say what needs fixing: a comment is required." in messages_of(response)
    assert set(ProjectReport.objects.filter(period=DUE.key).values_list("status", flat=True)) \
        == {"submitted"}
    response = client.post(url, {**ticked, "action": "return", "comment": "Dates?"},
                           follow=True)
    assert "2 project reports returned." in messages_of(response)
    assert set(ProjectReport.objects.filter(period=DUE.key).values_list("status", flat=True)) \
        == {"returned"}


# --- the entry screen -----------------------------------------------------------------------------


def test_the_entry_screen_lists_the_projects_to_report(client, register):
    submitted(register["staff"], code="D-XNK", stage="under_construction")
    client.force_login(register["staff"])
    response = client.get(reverse("targets:enter"))
    projects = {p.code: p for p in response.context["projects"]}
    assert set(projects) == {"D-BANQUA", "D-XNK", "D-FACTORY"}
    # D-BANQUA: the file's approved report; the due quarter's is still to write.
    assert (projects["D-BANQUA"].latest_period, projects["D-BANQUA"].latest_status,
            projects["D-BANQUA"].report_period) == (FILED.key, "approved", DUE.key)
    # D-XNK: the due quarter's report is submitted; the next one to write is the running one.
    assert (projects["D-XNK"].latest_status, projects["D-XNK"].report_period) == (
        "submitted", RUNNING.key)
    page = response.content.decode()
    assert project_url(query=f"?period={DUE.key}#report") in page
    # D-BANQUA's due report is missing: by the 10th of the month after the quarter, then late.
    assert projects["D-BANQUA"].report_deadline is not None
    assert ("report-late" in page) == projects["D-BANQUA"].report_late
    client.force_login(register["outsider"])
    assert {p.code for p in client.get(reverse("targets:enter")).context["projects"]} == {
        "D-LCH"}


# --- a register target's page ---------------------------------------------------------------------


def test_the_target_page_lists_the_parks_behind_the_count(client, register):
    client.force_login(register["staff"])
    response = client.get(reverse("targets:target", args=["BX-IP"]))
    page = response.content.decode()
    assert response.context["may_enter"] is False
    assert 'id="report-link"' not in page
    assert "takes its actual from the investment register" in page
    section = response.context["register"]
    assert section.measured.on == DUE.end
    assert [(i.code, i.name, i.stage, i.counted) for i in section.items] == [
        ("P-BANQUA", "Ban Qua industrial park", "Investment registration certificate issued",
         False),
        ("P-XNK", "Import-export park", "Land handed over", False),
    ]
    assert section.sentence == "0 of 2 — 1 with an investment certificate, 1 land handed over"
    assert "0 of 2 — 1 with an investment certificate, 1 land handed over" in page
    # The chart's actuals are the register's, one per ended quarter: 0 each.
    chart = response.context["chart"]
    assert chart["actuals"] and {point["y"] for point in chart["actuals"]} == {0.0}


def test_the_target_page_of_occupancy_shows_leased_and_industrial_land(client, register):
    client.force_login(register["admin"])
    response = client.get(reverse("targets:target", args=["BX-OCC"]))
    section = response.context["register"]
    # Ban Qua: the factory's 10 ha leased of 95; the import-export park: 0 of 222.
    assert [(i.code, i.amount, i.land) for i in section.items] == [
        ("P-BANQUA", Decimal(10), Decimal(95)), ("P-XNK", Decimal(0), Decimal(222))]
    assert (section.measured.numerator, section.measured.denominator, section.measured.value) \
        == (Decimal(10), Decimal(317), Decimal("3.15"))  # 10 / 317 = 3.1546 %
    assert "10 ha leased of 317 ha of industrial land: 3.15 %" in response.content.decode()


def test_the_target_page_of_a_target_with_entries_is_unchanged(client, register):
    Target.objects.get(code="BX-OCC").register_measure.delete()
    client.force_login(register["staff"])
    response = client.get(reverse("targets:target", args=["BX-OCC"]))
    assert response.context["register"] is None
    assert 'id="register-measure"' not in response.content.decode()


# --- the pipeline --------------------------------------------------------------------------------


def test_the_pipeline_counts_projects_per_unit_and_stage(client, register):
    client.force_login(register["province"])
    response = client.get(reverse("register:pipeline"))
    rows = {(row.unit.code if row.unit else "total"): row for row in response.context["rows"]}
    # The province's row holds every project shown: no total row repeats it.
    assert list(rows) == ["LC", "LC-BATXAT"]
    assert [row.depth for row in rows.values()] == [0, 1]
    stages = [stage for stage, _label in response.context["stages"]]
    bx = rows["LC-BATXAT"]
    cells = dict(zip(stages, bx.cells, strict=True))
    assert cells["certificate_issued"].count == 1
    assert cells["certificate_issued"].amounts == [("VND", Decimal(1450 * BILLION))]
    # Land handed over: the import-export park's infrastructure (VND) and the factory (USD),
    # each currency on its own.
    assert cells["land_handed_over"].count == 2
    assert cells["land_handed_over"].amounts == [("VND", Decimal(2900 * BILLION)),
                                                 ("USD", Decimal(15000000))]
    assert (bx.total.count, rows["LC"].total.count) == (3, 3)
    # The superuser sees two provinces, and their total.
    client.force_login(register["admin"])
    rows = client.get(reverse("register:pipeline")).context["rows"]
    assert [(row.unit.code if row.unit else "total", row.total.count) for row in rows] == [
        ("LC", 3), ("LC-BATXAT", 3), ("LCH", 1), ("total", 4)]
    client.force_login(register["province"])
    response = client.get(reverse("register:pipeline"))
    page = response.content.decode()
    bat_xat = Unit.objects.get(code="LC-BATXAT").pk
    assert f"{reverse('register:projects')}?unit={bat_xat}&amp;stage=land_handed_over" in page
    assert "2,900 billion VND" in page and "15 million USD" in page


def test_the_pipeline_filters_by_sector_and_unit(client, register):
    client.force_login(register["admin"])
    response = client.get(reverse("register:pipeline") + "?sector=infrastructure")
    # The two infrastructure projects, both in Bat Xat: Lai Chau has none, so no total row.
    assert [(row.unit.code, row.total.count) for row in response.context["rows"]] == [
        ("LC", 2), ("LC-BATXAT", 2)]
    lch = Unit.objects.get(code="LCH").pk
    response = client.get(reverse("register:pipeline") + f"?unit={lch}")
    assert [row.unit.code for row in response.context["rows"]] == ["LCH"]
    response = client.get(reverse("register:pipeline") + "?sector=mining")
    assert response.status_code == 200
    assert response.context["rows"] == []


def test_the_register_table_links_each_code_to_its_page(client, register):
    client.force_login(register["staff"])
    page = client.get(reverse("register:projects")).content.decode()
    assert f'<a href="{project_url()}">D-BANQUA</a>' in page


# --- query counts -----------------------------------------------------------------------------


def _quarters(count: int) -> list:
    periods, period = [], FILED
    for _i in range(count):
        period = period_holding(period.start - timedelta(days=1))
        periods.append(period)
    return periods


@pytest.mark.parametrize("reports", [1, 12])
def test_the_project_page_queries_do_not_grow(client, register, django_assert_max_num_queries,
                                             reports):
    project = Project.objects.get(code="D-BANQUA")
    project.stage_date = date(2015, 1, 1)
    project.save()
    for period in _quarters(reports):
        opening_record(project=project, period=period, user=plan_operator())
    client.force_login(register["staff"])
    # Session, user, memberships, the project, its reports, their history, the messages' flag.
    with django_assert_max_num_queries(7):
        response = client.get(project_url())
    assert len(response.context["reports"]) == reports + 1


def _submitted_reports(count: int, author) -> None:
    unit = Unit.objects.get(code="LC-BATXAT")
    for i in range(count):
        project = Project.objects.create(
            code=f"Q{i:03d}", name=f"Dự án {i}", investor="Công ty", investor_country="VN",
            sector="trade", unit=unit, registered_capital=BILLION, stage="proposed",
            stage_date=FILED.start,
        )
        submitted(author, code=project.code, stage="proposed", stage_date=FILED.start)


@pytest.mark.parametrize("count", [2, 15])
def test_the_review_queue_queries_do_not_grow_with_project_reports(
        client, register, django_assert_max_num_queries, count):
    _submitted_reports(count, register["staff"])
    client.force_login(register["manager"])
    # Session, user, memberships, the entries, the project reports and their authors in one.
    with django_assert_max_num_queries(6):
        response = client.get(reverse("targets:review"))
    assert len(response.context["project_reports"]) == count


@pytest.mark.parametrize("count", [2, 15])
def test_the_entry_screen_queries_do_not_grow_with_projects(
        client, register, django_assert_max_num_queries, count):
    _submitted_reports(count, register["staff"])
    client.force_login(register["staff"])
    # …, the targets, the entries to fix, the projects with their latest reports in one query,
    # the reports to fix.
    with django_assert_max_num_queries(8):
        response = client.get(reverse("targets:enter"))
    assert len(response.context["projects"]) == count + 3


@pytest.mark.parametrize("count", [5, 60])
def test_the_pipeline_queries_do_not_grow(client, register, django_assert_max_num_queries,
                                          count):
    unit = Unit.objects.get(code="LC-BATXAT")
    Project.objects.bulk_create(
        Project(code=f"P{i:03d}", name=f"Dự án {i}", investor="Công ty", investor_country="VN",
                sector="trade", unit=unit, registered_capital=i * BILLION,
                stage=["proposed", "operating", "revoked"][i % 3], stage_date=FILED.start)
        for i in range(count)
    )
    client.force_login(register["province"])
    # …, the unit choices, the projects grouped by unit, stage and currency, the units.
    with django_assert_max_num_queries(7):
        response = client.get(reverse("register:pipeline"))
    assert response.context["rows"][0].total.count == count + 3  # the province's row


# --- the form: whatever is typed, a report or errors next to fields, never a 500 -----------------

TYPED = st.one_of(
    st.text(max_size=25),
    st.sampled_from(["0", "1,5", "1.5", "1.450.000", "-1", "1e9", "NaN", "10000000000000000000",
                     "2026-02-30", "", " ", "operating", "moved", DUE.key, "2019-Q9",
                     DUE.start.isoformat(), (DUE.end + timedelta(days=1)).isoformat()]),
)
FORM_FIELDS = ["period", "stage", "stage_date", "registered_capital", "disbursed_capital",
               "jobs_filled", "version", "opened_period"]
FUZZ = settings(max_examples=40, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


@FUZZ
@given(changes=st.dictionaries(st.sampled_from(FORM_FIELDS), TYPED, min_size=1, max_size=4),
       action=st.sampled_from(["draft", "submit"]))
def test_any_posted_report_is_saved_or_refused_next_to_its_fields(client, register, changes,
                                                                   action):
    client.force_login(register["staff"])
    with rolled_back():
        response = client.post(project_url(), {**report_data(action=action), **changes})
        assert response.status_code in (200, 302)
        written = ProjectReport.objects.filter(project__code="D-BANQUA").exclude(
            period=FILED.key)
        if response.status_code == 200:
            form = response.context["form"]
            assert form.errors
            assert not written.exists()
        else:
            (report,) = written
            assert report.status == ("submitted" if action == "submit" else "draft")
            assert report.stage_date <= min(report.period_end, TODAY)
            assert report.registered_capital >= 0 and report.disbursed_capital >= 0


def test_the_screens_speak_vietnamese(client, register):
    client.cookies["django_language"] = "vi"
    client.force_login(register["staff"])
    page = client.get(reverse("targets:target", args=["BX-IP"])).content.decode()
    assert "0/2 — 1 đã có giấy chứng nhận đăng ký đầu tư, 1 đã bàn giao đất" in page
    assert "Khu công nghiệp Bản Qua" in page
    page = client.get(project_url()).content.decode()
    assert "Báo cáo về dự án" in page and "1.450.000.000.000 VND" in page
    client.force_login(register["province"])
    page = client.get(reverse("register:pipeline")).content.decode()
    assert "1.450 tỷ VND" in page and "15 triệu USD" in page


def test_a_new_project_may_report_the_due_quarter(client, register):
    """A project that entered the register this quarter may still report the last one."""
    Project.objects.create(
        code="D-NEW", name="Dự án mới", investor="Công ty", investor_country="VN",
        sector="trade", unit=Unit.objects.get(code="LC-BATXAT"), registered_capital=BILLION,
        stage="proposed", stage_date=RUNNING.start,
    )
    client.force_login(register["staff"])
    projects = {p.code: p for p in client.get(reverse("targets:enter")).context["projects"]}
    assert (projects["D-NEW"].latest_period, projects["D-NEW"].report_period) == (None, DUE.key)
    form = client.get(project_url("D-NEW", f"?period={DUE.key}")).context["form"]
    assert [key for key, _label in form.fields["period"].choices] == [RUNNING.key, DUE.key]


@pytest.mark.parametrize("count", [2, 30])
def test_a_register_targets_page_queries_do_not_grow(client, register,
                                                     django_assert_max_num_queries, count):
    """More projects in the counted parks, each with its approved reports: the same queries."""
    park = Project.objects.get(code="D-BANQUA").park
    unit = Unit.objects.get(code="LC-BATXAT")
    projects = Project.objects.bulk_create(
        Project(code=f"F{i:03d}", name=f"Nhà máy {i}", investor="Công ty",
                investor_country="VN", sector="supporting_industries", unit=unit, park=park,
                registered_capital=BILLION, land_area_ha=1, stage="land_handed_over",
                stage_date=FILED.start)
        for i in range(count)
    )
    ProjectReport.objects.bulk_create(
        ProjectReport(project=project, period=FILED.key, period_start=FILED.start,
                      period_end=FILED.end, stage="land_handed_over", stage_date=FILED.start,
                      registered_capital=BILLION, disbursed_capital=0, status="approved",
                      from_file=True, author=plan_operator())
        for project in projects
    )
    client.force_login(register["staff"])
    # The target page's own (its alerts, entries, explanations…), the register's three reads
    # for the items and three for the chart's observations.
    with django_assert_max_num_queries(18):
        response = client.get(reverse("targets:target", args=["BX-OCC"]))
    # Ban Qua: the first factory's 10 ha and 1 ha for each new one.
    assert response.context["register"].items[0].amount == 10 + count


@FUZZ
@given(params=st.dictionaries(st.sampled_from(["unit", "sector", "page", "x"]), TYPED,
                              max_size=3))
def test_any_pipeline_filter_answers_with_a_page(client, register, params):
    client.force_login(register["staff"])
    response = client.get(reverse("register:pipeline"), params)
    assert response.status_code == 200


@FUZZ
@given(entries=st.lists(st.one_of(st.integers(-5, 10**6).map(str), TYPED), max_size=3),
       action=st.one_of(st.sampled_from(["approve", "return"]), TYPED), comment=TYPED)
def test_any_bulk_review_of_project_reports_is_done_or_refused(client, register, entries,
                                                                action, comment):
    report = submitted(register["staff"]) if not ProjectReport.objects.filter(
        period=DUE.key).exists() else report_of()
    client.force_login(register["manager"])
    with rolled_back():
        response = client.post(reverse("register:review-reports"),
                               {"entries": entries, "action": action, "comment": comment,
                                f"version-{report.pk}": report.version})
        assert response.status_code == 302
        assert response.url == reverse("targets:review")
        status = report_of().status
        ticked = str(report.pk) in entries
        if not ticked or action not in ("approve", "return") or (
                action == "return" and not comment.strip()):
            assert status == "submitted"
        else:
            assert status == ("approved" if action == "approve" else "returned")
