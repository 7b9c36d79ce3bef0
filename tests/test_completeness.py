"""Who has not reported (issue 13): the completeness grid, its screen, exports and reminders.

The world: the small plan (BX-IP of the commune LC-BATXAT, BX-OCC of its industry department;
calendar quarters, deadline = the quarter's end + 15 days) and a Lai Chau plan on Decree-09
periods with a deadline of 2 working days: its 2026-Q1 runs 15/12/2025 – 14/03/2026, a
Saturday, so the deadline is Tuesday 17/03/2026 (Monday 16 is the first working day, Tuesday 17
the second). Everyone reads English.
"""

from __future__ import annotations

import codecs
import csv
import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.urls import reverse

from targets.errors import NotAllowed
from targets.models import (
    Alert,
    AlertKind,
    AlertRecipient,
    Profile,
    ProgressEntry,
    ReportingReminder,
    Role,
    Target,
    Unit,
)
from targets.notifications import action_link
from targets.services import completeness as service
from targets.services import delivery
from targets.services import entries as workflow
from targets.services.completeness import CellState, completeness
from targets.services.plans import load_located, plan_import
from tests.alerting import DELIVERY, report
from tests.conftest import make_user, many_targets_plan, plan_operator, submitted_entry
from tests.queueing import record_queued

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
LAI_CHAU_PLAN = """
plans:
  - code: LCH-2025-2030
    name: "Lai Chau border gate 2025–2030"
    unit: LCH
    start: 2025-07-01
    end: 2030-12-31
    reporting_calendar: decree_09
    deadline_working_days: 2
    areas:
      - {code: gate, name: "Border-gate economy"}
    targets:
      - code: LCH-TRADE
        name: "Import-export turnover"
        area: gate
        responsible_unit: LCH
        measure: "USD million"
        value_type: decimal
        baseline: {value: 163, date: 2025-06-30}
        target: {value: 300, date: 2030-12-31}
        frequency: quarterly
      - code: LCH-BUDGET
        name: "State budget revenue"
        area: gate
        responsible_unit: LCH
        measure: "billion VND"
        value_type: decimal
        baseline: {value: 210, date: 2025-06-30}
        target: {value: 400, date: 2030-12-31}
        frequency: quarterly
"""
Q1 = "2026-Q1"
DEADLINE = date(2026, 3, 17)  # 14/03/2026 (Sat) + 2 working days
AFTER = date(2026, 3, 18)


@pytest.fixture
def world(people):
    plan_import(data=load_located(LAI_CHAU_PLAN), filename="lch.yaml", user=plan_operator())
    lch = Unit.objects.get(code="LCH")
    people["lch_staff"] = make_user("lch.staff", [(lch, Role.STAFF)])
    people["lch"] = lch
    return people


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=HANOI)


def submitted_on(code: str, period: str, moment: datetime) -> None:
    """The entry's submission time, as the story says (the workflow stamps the real now)."""
    ProgressEntry.objects.filter(target__code=code, period=period).update(submitted_at=moment)


def approved(world, code: str, period: str, moment: datetime) -> None:
    report(code, period, 1, author=world["lch_staff"] if code.startswith("LCH") else
           world["staff"], reviewer=world["outsider"] if code.startswith("LCH") else
           world["manager"])
    submitted_on(code, period, moment)


def lch_cell(today: date, period: str = Q1):
    grid = completeness(units=[Unit.objects.get(code="LCH")], periods=[period], today=today)
    assert [row.unit.code for row in grid.rows] == ["LCH"]
    return grid.rows[0].cells[period]


# --- every state, with the working-day deadline across a weekend -------------------------------


def test_the_decree_09_deadline_is_two_working_days_after_saturday_14_march(world):
    cell = lch_cell(date(2026, 3, 1))
    assert (cell.deadline, cell.targets) == (DEADLINE, 2)


def test_nothing_submitted_is_not_yet_due_on_the_deadline_and_missing_the_day_after(world):
    assert lch_cell(DEADLINE).state == CellState.NOT_YET_DUE
    assert lch_cell(AFTER).state == CellState.MISSING


def test_nothing_submitted_before_the_period_ends_is_not_yet_due_and_not_remindable(world):
    cell = lch_cell(date(2026, 3, 14))  # the cut-off day itself: the period has not ended
    assert (cell.state, cell.unreported) == (CellState.NOT_YET_DUE, ())
    assert len(lch_cell(date(2026, 3, 15)).unreported) == 2  # ended: both may be reminded


def test_approved_and_submitted_by_23h_on_the_deadline_is_on_time(world):
    # 23:00 in Hanoi is 16:00 UTC: the day is the deployment's, not UTC's.
    approved(world, "LCH-TRADE", Q1, at(DEADLINE, 23))
    approved(world, "LCH-BUDGET", Q1, at(date(2026, 3, 16)))
    assert lch_cell(AFTER).state == CellState.ON_TIME


def test_approved_but_submitted_after_the_deadline_is_late(world):
    approved(world, "LCH-TRADE", Q1, at(DEADLINE))
    approved(world, "LCH-BUDGET", Q1, at(AFTER, 0))
    assert lch_cell(date(2026, 4, 1)).state == CellState.LATE


def test_submitted_and_waiting_for_approval_is_submitted_even_after_the_deadline(world):
    approved(world, "LCH-TRADE", Q1, at(DEADLINE))
    submitted_entry(world["lch_staff"], "LCH-BUDGET", Q1, "1")
    submitted_on("LCH-BUDGET", Q1, at(date(2026, 3, 20)))
    assert lch_cell(date(2026, 4, 1)).state == CellState.SUBMITTED


def test_one_target_still_owing_makes_the_cell_not_yet_due_then_missing(world):
    submitted_entry(world["lch_staff"], "LCH-TRADE", Q1, "1")
    submitted_on("LCH-TRADE", Q1, at(date(2026, 3, 16)))
    assert lch_cell(DEADLINE).state == CellState.NOT_YET_DUE
    cell = lch_cell(AFTER)
    assert cell.state == CellState.MISSING
    assert cell.unreported == (Target.objects.get(code="LCH-BUDGET").pk,)


def test_a_returned_entry_or_a_draft_is_nothing_submitted(world):
    returned = submitted_entry(world["lch_staff"], "LCH-TRADE", Q1, "1")
    workflow.entry_return(user=world["outsider"], entry_id=returned.pk, comment="Wrong figure")
    workflow.entry_save_draft(
        user=world["lch_staff"], target_id=Target.objects.get(code="LCH-BUDGET").pk,
        period=Q1, value="1", today=date(2031, 1, 1),
    )
    assert len(lch_cell(AFTER).unreported) == 2
    assert lch_cell(AFTER).state == CellState.MISSING


def test_calendar_quarters_with_grace_days(world):
    # BX-IP 2025-Q3 ends 30/09/2025; + 15 days: due by 15/10/2025.
    approved(world, "BX-IP", "2025-Q3", at(date(2025, 10, 15), 17))
    approved(world, "BX-IP", "2025-Q4", at(date(2026, 1, 16)))  # due 15/01/2026
    grid = completeness(units=[world["staff"].memberships.get().unit],
                        periods=["2025-Q3", "2025-Q4"], today=date(2026, 2, 1))
    cells = grid.rows[0].cells
    assert (cells["2025-Q3"].deadline, cells["2025-Q3"].state) == (date(2025, 10, 15), "on_time")
    assert (cells["2025-Q4"].deadline, cells["2025-Q4"].state) == (date(2026, 1, 15), "late")


# --- counts and the on-time rate ------------------------------------------------------------------


def test_counts_and_on_time_rate_of_a_unit(world):
    # BX-IP, due 15/10/2025, 15/01, 15/04, 15/07 and 15/10/2026; on 20/07/2026 four have passed:
    # on time, late, on time, missing → 2 of 4; 2026-Q3 (not yet due) does not count.
    approved(world, "BX-IP", "2025-Q3", at(date(2025, 10, 1)))
    approved(world, "BX-IP", "2025-Q4", at(date(2026, 2, 1)))
    approved(world, "BX-IP", "2026-Q1", at(date(2026, 4, 15)))
    periods = ["2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"]
    units = list(Unit.objects.filter(code__in=["LC", "LC-BATXAT"]).order_by("path"))
    grid = completeness(units=units, periods=periods, today=date(2026, 7, 20))
    assert [row.unit.code for row in grid.rows] == ["LC-BATXAT"]  # LC has no target: no row
    row = grid.rows[0]
    assert [row.cells[key].state for key in periods] == [
        "on_time", "late", "on_time", "missing", "not_yet_due"]
    assert row.counts == {"on_time": 2, "late": 1, "submitted": 0, "missing": 1,
                          "not_yet_due": 1}
    assert (row.on_time, row.due, row.on_time_rate) == (2, 4, Decimal("0.5"))
    assert row.remindable == ["2026-Q2"]


def test_the_on_time_rate_is_none_while_no_deadline_has_passed(world):
    grid = completeness(units=[Unit.objects.get(code="LC-BATXAT")], periods=["2025-Q3"],
                        today=date(2025, 10, 15))
    row = grid.rows[0]
    assert (row.due, row.on_time_rate, row.cells["2025-Q3"].state) == (0, None, "not_yet_due")


def test_a_period_the_unit_has_no_target_in_has_no_cell(world):
    # BX-IP's first quarter is 2025-Q3 (baseline 30/06/2025): 2025-Q2 is none of its periods.
    grid = completeness(units=[Unit.objects.get(code="LC-BATXAT")],
                        periods=["2025-Q2", "2025-Q3"], today=date(2026, 1, 1))
    assert grid.rows[0].cells["2025-Q2"] is None
    assert grid.rows[0].counts["missing"] == 1


def test_period_keys_of_a_range():
    assert service.period_keys(service.rules.Frequency.QUARTERLY, date(2025, 11, 3),
                               date(2026, 5, 1)) == ["2025-Q4", "2026-Q1", "2026-Q2"]
    assert service.period_keys(service.rules.Frequency.MONTHLY, date(2025, 12, 31),
                               date(2026, 1, 1)) == ["2025-12", "2026-01"]


def test_the_grid_reads_two_queries_whatever_the_numbers(world, django_assert_max_num_queries):
    plan_import(data=load_located(many_targets_plan(60)), filename="many.yaml",
                user=plan_operator())
    for code in ("M0001", "M0002"):
        report(code, "2026", 1, author=world["staff"], reviewer=world["manager"])
    units = list(Unit.objects.all())
    periods = [f"{y}-Q{q}" for y in (2025, 2026, 2027) for q in (1, 2, 3, 4)] + ["2026"]
    with django_assert_max_num_queries(2):
        grid = completeness(units=units, periods=periods, today=date(2027, 3, 1))
    by_unit = {row.unit.code: row for row in grid.rows}
    assert by_unit["LC-BATXAT"].cells["2026"].targets == 60
    assert by_unit["LC-BATXAT"].cells["2026"].state == "missing"  # due 15/01/2027, 58 owe it


# --- the screen ---------------------------------------------------------------------------------


def page(client, user, query=""):
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client.get(reverse("targets:completeness") + query)


def test_staff_get_403_and_managers_their_subtree(world, client):
    assert page(client, world["staff"]).status_code == 403
    response = page(client, world["manager"], "?start=2025-07-01&end=2025-09-30")
    assert response.status_code == 200
    rows = [row.unit.code for row in response.context["grid"].rows]
    assert rows == ["LC-BATXAT", "LC-BATXAT-IND"]  # not Lai Chau's
    assert b"Who has not reported" in response.content


def test_the_status_table_links_to_the_screen_for_managers_only(world, client):
    link = reverse("targets:completeness").encode()
    client.force_login(world["manager"])
    assert link in client.get(reverse("targets:status")).content
    client.force_login(world["staff"])
    assert link not in client.get(reverse("targets:status")).content


def test_filters_plan_frequency_unit_and_range(world, client, django_assert_max_num_queries):
    admin = world["admin"]
    response = page(client, admin, "?start=2026-01-01&end=2026-06-30")
    grid = response.context["grid"]
    assert grid.periods == ["2026-Q1", "2026-Q2"]
    assert [r.unit.code for r in grid.rows] == ["LC-BATXAT", "LC-BATXAT-IND", "LCH"]
    plan = world["lch"].plans.get().pk
    grid = page(client, admin, f"?plan={plan}&start=2026-01-01&end=2026-06-30").context["grid"]
    assert [r.unit.code for r in grid.rows] == ["LCH"]
    unit = Unit.objects.get(code="LC-BATXAT-IND").pk
    grid = page(client, admin, f"?unit={unit}&start=2026-01-01&end=2026-06-30").context["grid"]
    assert [r.unit.code for r in grid.rows] == ["LC-BATXAT-IND"]
    grid = page(client, admin, "?frequency=yearly&start=2026-01-01&end=2026-06-30"
                ).context["grid"]
    assert (grid.periods, grid.rows) == (["2026"], [])  # no yearly target
    approved(world, "BX-IP", "2025-Q3", at(date(2025, 10, 1)))
    url = reverse("targets:completeness") + "?frequency=monthly&start=2025-07-01&end=2027-06-30"
    # The session, the user, the units, the targets, their entries, the unread alerts, and the
    # plan and unit choices: the same for any number of units, targets and periods.
    with django_assert_max_num_queries(8):
        assert client.get(url).status_code == 200


def test_a_bad_range_is_said_next_to_its_field(world, client):
    response = page(client, world["manager"], "?start=2026-06-30&end=2026-01-01")
    assert response.status_code == 200 and response.context["grid"] is None
    assert response.context["filter"].form.errors["end"] == [
        "The end of the range comes before its start."]
    response = page(client, world["manager"], "?frequency=monthly&start=2020-01-01&end=2026-01-01")
    assert response.context["filter"].form.errors["end"] == [
        "At most 24 periods at once: choose a shorter range."]
    assert page(client, world["manager"], "?start=yesterday").status_code == 200


def test_the_csv_export_has_the_bom_each_cell_counts_and_rate(world, client):
    approved(world, "BX-IP", "2025-Q3", at(date(2025, 10, 1)))
    response = page(client, world["manager"], "?start=2025-07-01&end=2025-12-31&_export=csv")
    content = b"".join(response.streaming_content)
    assert content.startswith(codecs.BOM_UTF8)
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0] == ["Unit code", "Unit", "2025-Q3", "2025-Q4", "Reported on time",
                       "Reported late", "Submitted, not approved", "Missing", "Not yet due",
                       "On-time rate"]
    # BX-OCC has no entry: both its quarters are missing (due 15/10/2025 and 15/01/2026).
    assert rows[1:] == [
        ["LC-BATXAT", "Bat Xat commune", "Reported on time", "Missing", "1", "0", "0", "1", "0",
         "0.5000"],
        ["LC-BATXAT-IND", "Industry department", "Missing", "Missing", "0", "0", "0", "2", "0",
         "0.0000"],
    ]


def test_the_xlsx_export_shows_the_rate_as_a_percentage(world, client):
    approved(world, "BX-IP", "2025-Q3", at(date(2025, 10, 1)))
    response = page(client, world["manager"], "?start=2025-07-01&end=2025-09-30&_export=xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1] == ("LC-BATXAT", "Bat Xat commune", "Reported on time", 1, 0, 0, 0, 0, 1)
    assert sheet["I2"].number_format == "0%"


# --- reminders -----------------------------------------------------------------------------------


@pytest.fixture
def mail(monkeypatch, django_capture_on_commit_callbacks, mailoutbox):
    """A step run as the deployment runs it: its digests queued on commit, then sent."""
    queued = record_queued(monkeypatch, delivery.SEND_DIGESTS)

    def step(action):
        with django_capture_on_commit_callbacks(execute=True):
            result = action()
        ids = [pk for (batch,) in queued for pk in batch]
        queued.clear()
        before = len(mailoutbox)
        delivery.digests_deliver(digest_ids=ids, policy=DELIVERY)
        return result, mailoutbox[before:]

    return step


def test_a_reminder_is_recorded_and_reaches_the_units_members_once(world, mail):
    lch = world["lch"]
    for person in ("lch_staff", "outsider"):
        Profile.objects.create(user=world[person], language="en")
    reminder, sent = mail(lambda: service.reminder_send(
        user=world["admin"], unit_id=lch.pk, period=Q1, today=AFTER))
    assert (reminder.unit, reminder.period, reminder.sent_by) == (lch, Q1, world["admin"])
    # The unit's members, the sender excepted: its staff member and its manager.
    assert (reminder.recipients, reminder.targets) == (2, 2)
    assert sorted(m.to[0] for m in sent) == ["lch.manager@example.org", "lch.staff@example.org"]
    body = sent[0].body
    assert "LCH-TRADE" in body and "LCH-BUDGET" in body
    assert "admin reminds you: the report for 2026-Q1 (due by 17 Mar 2026) has not been " \
           "submitted." in body
    assert AlertRecipient.objects.filter(alert__kind=AlertKind.REPORT_REQUESTED).count() == 4


def test_a_reminders_email_links_each_target_to_its_entry_screen_for_the_period(
    world, mail, client
):
    """Beside the target page, each reminded target links to where the unit reports it: the
    entry screen on the period it was reminded of, in the text and the HTML, in the reader's
    language."""
    Profile.objects.create(user=world["lch_staff"], language="en")
    Profile.objects.create(user=world["outsider"], language="vi")  # LCH's manager
    _reminder, sent = mail(lambda: service.reminder_send(
        user=world["admin"], unit_id=world["lch"].pk, period=Q1, today=AFTER))
    by_reader = {m.to[0]: m for m in sent}
    site = "https://tracker.example.vn"
    links = [
        f"{site}/targets/{code}/report/?period=2026-Q1" for code in ("LCH-BUDGET", "LCH-TRADE")
    ]
    english, vietnamese = by_reader["lch.staff@example.org"], by_reader["lch.manager@example.org"]
    for link in links:
        assert f"    Enter the report: {link}\n" in english.body
        assert f"    Nhập báo cáo: {link}\n" in vietnamese.body
        assert f'<a class="action" href="{link}"' in english.alternatives[0][0]
    html = english.alternatives[0][0]
    assert html.count(">Enter the report</a>") == 2
    assert vietnamese.alternatives[0][0].count(">Nhập báo cáo</a>") == 2
    # The target page stays linked too.
    assert f"  {site}/targets/LCH-TRADE/\n" in english.body
    # The link opens the entry form on the period reminded of.
    client.force_login(world["lch_staff"])
    response = client.get(links[1].removeprefix(site))
    assert response.status_code == 200
    assert response.context["form"]["period"].value() == Q1


def test_only_a_report_request_links_the_entry_screen(world):
    """The evaluation's own reminder already names its deadline and links the target page:
    only the manager's request to report gets the entry-screen link."""
    alert = Alert(kind=AlertKind.REMINDER, target=Target.objects.get(code="LCH-TRADE"),
                  params={"period": Q1})
    assert action_link("https://tracker.example.vn", alert) == ""
    alert.kind = AlertKind.REPORT_REQUESTED
    assert action_link("https://tracker.example.vn/", alert) == (
        "https://tracker.example.vn/targets/LCH-TRADE/report/?period=2026-Q1")


def test_a_second_reminder_within_24_hours_says_when_and_writes_nothing(world):
    lch = world["lch"]
    first = service.reminder_send(user=world["admin"], unit_id=lch.pk, period=Q1, today=AFTER,
                                  now=at(AFTER, 10))
    alerts = Alert.objects.count()
    with pytest.raises(service.ReminderTooSoon) as refused:
        service.reminder_send(user=world["admin"], unit_id=lch.pk, period=Q1, today=AFTER,
                              now=at(date(2026, 3, 19), 9))
    assert refused.value.next_at == at(date(2026, 3, 19), 10)
    assert refused.value.message == (
        "Lai Chau province was reminded of 2026-Q1 on 18 Mar 2026 10:00; the next reminder may "
        "be sent from 19 Mar 2026 10:00.")
    assert list(ReportingReminder.objects.all()) == [first] and Alert.objects.count() == alerts
    service.reminder_send(user=world["admin"], unit_id=lch.pk, period=Q1, today=AFTER,
                          now=at(date(2026, 3, 19), 10))
    assert ReportingReminder.objects.count() == 2


def test_a_submitted_report_settles_its_reminder(world):
    service.reminder_send(user=world["admin"], unit_id=world["lch"].pk, period=Q1, today=AFTER)
    submitted_entry(world["lch_staff"], "LCH-TRADE", Q1, "1")
    open_ = Alert.objects.filter(kind=AlertKind.REPORT_REQUESTED, resolved_at__isnull=True)
    assert [a.target.code for a in open_] == ["LCH-BUDGET"]


def test_nothing_to_remind_and_outside_the_subtree_are_refused(world):
    approved(world, "LCH-TRADE", Q1, at(DEADLINE))
    approved(world, "LCH-BUDGET", Q1, at(DEADLINE))
    with pytest.raises(service.WorkflowError, match="nothing left to report for 2026-Q1"):
        service.reminder_send(user=world["admin"], unit_id=world["lch"].pk, period=Q1,
                              today=AFTER)
    with pytest.raises(NotAllowed):
        service.reminder_send(user=world["manager"], unit_id=world["lch"].pk, period="2026-Q2",
                              today=date(2026, 7, 1))
    assert not ReportingReminder.objects.exists()


def test_remind_from_the_screen_one_cell_then_all(world, client, mail):
    client.force_login(world["province"])
    client.cookies["django_language"] = "en"
    query = "start=2025-07-01&end=2025-12-31"
    bx = Unit.objects.get(code="LC-BATXAT")
    url = reverse("targets:completeness-remind")
    response, sent = mail(lambda: client.post(
        url, {"cell": f"{bx.pk}:2025-Q3", "query": query}, follow=True))
    assert response.redirect_chain[-1][0] == reverse("targets:completeness") + "?" + query
    assert "Reminder sent to Bat Xat commune for 2025-Q3 (3 people)." in [
        str(m) for m in response.context["messages"]]
    assert sorted(m.to[0] for m in sent) == [
        "bx.manager@example.org", "bx.staff2@example.org", "bx.staff@example.org"]
    response, sent = mail(lambda: client.post(url, {"all": "1", "query": query}, follow=True))
    said = [str(m) for m in response.context["messages"]]
    # The clicked cell was reminded a moment ago; the three others go now.
    assert sum(s.startswith("Reminder sent to") for s in said) == 3
    assert any(s.startswith("Bat Xat commune was reminded of 2025-Q3 on") for s in said)
    assert sorted(ReportingReminder.objects.values_list("unit__code", "period")) == [
        ("LC-BATXAT", "2025-Q3"), ("LC-BATXAT", "2025-Q4"),
        ("LC-BATXAT-IND", "2025-Q3"), ("LC-BATXAT-IND", "2025-Q4")]


def test_staff_may_not_remind_and_a_cell_outside_the_subtree_is_ignored(world, client):
    client.force_login(world["staff"])
    url = reverse("targets:completeness-remind")
    assert client.post(url, {"cell": f"{world['lch'].pk}:2025-Q3"}).status_code == 403
    client.force_login(world["manager"])
    client.post(url, {"cell": f"{world['lch'].pk}:2025-Q3", "query": "start=2025-07-01"})
    assert not ReportingReminder.objects.exists()


def test_the_screen_speaks_vietnamese(world, client):
    client.force_login(world["manager"])
    client.cookies["django_language"] = "vi"
    response = client.get(reverse("targets:completeness") + "?start=2025-07-01&end=2025-09-30")
    text = response.content.decode()
    assert "Đơn vị chưa báo cáo" in text and "Tỷ lệ đúng hạn" in text
    assert "Chưa báo cáo (quá hạn)" in text  # BX-IP's and BX-OCC's 2025-Q3: nothing submitted
