"""Alert recording (DESIGN §4): transitions, keys, escalation, reminders, auto-resolution.

Targets of the small plan (tests/conftest.py): BX-IP (LC-BATXAT, step 0 → 1 @2027-12-31 → 2
@2030-12-31) and BX-OCC (LC-BATXAT-IND, linear 20 → 80 %), both quarterly with 15 grace days,
baseline 2025-06-30. Quarter deadlines: 2025-Q3 → 2025-10-15, 2025-Q4 → 2026-01-15,
2026-Q1 → 2026-04-15, 2026-Q2 → 2026-07-15, 2026-Q3 → 2026-10-15, 2026-Q4 → 2027-01-15.
"""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connection

from targets.models import Alert, AlertKind, AlertRecipient, Digest, Target
from targets.services.alerts import AlertSettings
from targets.services.evaluation import run_json
from tests.alerting import (
    EVALUATION_QUERIES,
    RULES,
    alert_key,
    evaluate,
    lagging_occupancy,
    report,
    report_bx_ip_until_q3,
)
from tests.conftest import plan_operator

pytestmark = pytest.mark.django_db

D0 = date(2026, 11, 24)


def keys() -> set[str]:
    return set(Alert.objects.values_list("key", flat=True))


def test_unreported_quarters_become_one_overdue_alert_each(people):
    run = evaluate(D0)
    # Both targets: 2025-Q3 … 2026-Q3 are past their deadlines; no entry → no_data, no worsening.
    quarters = ["2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"]
    expected = {alert_key(code, f"overdue:{q}") for code in ("BX-IP", "BX-OCC") for q in quarters}
    assert keys() == expected
    assert run.alerts_created == 10
    assert run_json(run)["alerts_created"] == 10


def test_rerunning_the_same_date_records_nothing(people):
    lagging_occupancy(people)
    first = evaluate(D0)
    assert first.alerts_created == 6  # BX-IP: 5 overdue quarters; BX-OCC: worsened to lagging
    before = keys()
    again = evaluate(D0)
    assert again.alerts_created == 0
    assert keys() == before
    assert Digest.objects.count() == len(first.digest_ids)
    assert again.digest_ids == ()


def test_a_renamed_target_keeps_its_alerts(people):
    lagging_occupancy(people)
    assert evaluate(D0).alerts_created == 6
    before = keys()
    for code in ("BX-IP", "BX-OCC"):
        target = Target.objects.get(code=code)
        target.code = f"{code}-2026"
        target.save(update_fields=["code"])
    # The same events (five overdue quarters, the worsening), the next day and at the same date.
    assert evaluate(date(2026, 11, 25)).alerts_created == 0
    assert evaluate(D0).alerts_created == 0
    assert keys() == before


def test_first_assessment_is_compared_with_no_data(people):
    lagging_occupancy(people)
    evaluate(D0)
    alert = Alert.objects.get(target__code="BX-OCC")
    assert alert.key == alert_key("BX-OCC", "worsened:2026-11-24:lagging")
    assert (alert.kind, alert.previous_status, alert.status, alert.severity) == (
        AlertKind.WORSENED, "no_data", "lagging", 2,
    )
    # The verdict is kept with the alert, for its email to say why: the actual 22 as of
    # 2026-09-30, when 20 + 60·457/2010 = 33.6418 was expected (shown to 2 places);
    # ratio 2/13.6418 = 0.146608… (stored to 6 places by the assessment, here in full).
    params = alert.params
    assert (params["status"], params["reason"], params["actual"], params["as_of"]) == (
        "lagging", "ratio", "22", "2026-09-30"
    )
    assert params["expected"] == "33.64"
    assert params["ratio"].startswith("0.14660831")
    assert (params["target"], params["due"], params["tolerance"]) == ("80", "2030-12-31", "0.1")


def test_alert_goes_to_owner_and_managers_of_the_responsible_unit(people):
    report_bx_ip_until_q3(people)
    lagging_occupancy(people)
    Target.objects.filter(code="BX-OCC").update(owner=people["staff2"])
    evaluate(D0)
    alert = Alert.objects.get(key=alert_key("BX-OCC", "worsened:2026-11-24:lagging"))
    # LC-BATXAT-IND has no manager: only the owner; the commune manager is not a manager of it.
    assert {r.user.username for r in alert.recipients.all()} == {"bx.staff2"}


def test_one_digest_per_recipient_per_run(people):
    run = evaluate(D0)
    # BX-IP's 5 overdue alerts go to the LC-BATXAT manager; BX-OCC has no owner, no manager.
    digest = Digest.objects.get()
    assert digest.user == people["manager"]
    assert run.digest_ids == (digest.pk,)
    assert digest.items.count() == 5
    assert AlertRecipient.objects.filter(user=people["manager"]).count() == 5


def test_recipient_without_email_gets_the_alert_in_the_app_only(people):
    people["manager"].email = ""
    people["manager"].save(update_fields=["email"])
    evaluate(D0)
    assert AlertRecipient.objects.filter(user=people["manager"], digest=None).count() == 5
    assert not Digest.objects.exists()


def test_a_later_worsening_is_a_new_event(people):
    report_bx_ip_until_q3(people)
    lagging_occupancy(people)
    evaluate(D0)
    report("BX-OCC", "2026-Q4", 40, author=people["dept_staff"], reviewer=people["manager"])
    # 2026-Q4 = 40 speaks for 2026-12-31 (549 days): expected 20 + 60 × 549/2010 = 36.3881,
    # ratio = 20 / 16.3881 = 1.22 → on_track: a recovery.
    recovered = evaluate(date(2027, 1, 5))
    assert alert_key("BX-OCC", "recovered:2027-01-05:on_track") in keys()
    assert recovered.alerts_created == 1
    # Without a new report nothing changes (2027-Q1 is overdue, which is its own alert) …
    evaluate(date(2027, 5, 1))
    assert not {k for k in keys() if ":worsened:2027" in k}
    # … until a report shows the slip: 2027-Q2 = 38 speaks for 2027-06-30 (730 days), when
    # 20 + 60 × 730/2010 = 41.7910 was expected: ratio = 18 / 21.7910 = 0.826 → at_risk, a new
    # worsening with its own key. (The trend through 21, 22, 40, 38 projects about 109 ≥ 80.)
    report("BX-OCC", "2027-Q2", 38, author=people["dept_staff"], reviewer=people["manager"])
    evaluate(date(2027, 9, 1))
    assert {k for k in keys() if ":worsened:" in k} == {
        alert_key("BX-OCC", "worsened:2026-11-24:lagging"),
        alert_key("BX-OCC", "worsened:2027-09-01:at_risk"),
    }


def test_recovery_resolves_the_worsening_and_escalation(people):
    report_bx_ip_until_q3(people)
    lagging_occupancy(people)
    evaluate(D0)
    evaluate(date(2026, 12, 24))  # 30 days after the first lagging alert → escalation
    report("BX-OCC", "2026-Q4", 40, author=people["dept_staff"], reviewer=people["manager"])
    evaluate(date(2027, 1, 5))
    worsened = Alert.objects.get(key=alert_key("BX-OCC", "worsened:2026-11-24:lagging"))
    escalated = Alert.objects.get(key=alert_key("BX-OCC", "escalated:2026-11-24"))
    assert worsened.resolved_at is not None
    assert escalated.resolved_at is not None
    assert Alert.objects.get(kind=AlertKind.RECOVERED).resolved_at is None


def test_escalation_after_the_set_delay_once_to_the_parent_units_managers(people):
    report_bx_ip_until_q3(people)
    lagging_occupancy(people)
    evaluate(D0)
    # 29 days later: still lagging, not yet escalated.
    assert evaluate(date(2026, 12, 23)).alerts_created == 0
    # 30 days: expected 20 + 60 × 542/2010 = 36.18, actual 22 → still lagging → escalates.
    run = evaluate(date(2026, 12, 24))
    assert run.alerts_created == 1
    escalated = Alert.objects.get(kind=AlertKind.ESCALATED)
    assert escalated.key == alert_key("BX-OCC", "escalated:2026-11-24")
    assert escalated.params == {"since": "2026-11-24", "days": 30}
    # Parent of LC-BATXAT-IND is LC-BATXAT: its manager, not the province.
    assert [r.user.username for r in escalated.recipients.all()] == ["bx.manager"]
    # Later days and a re-run escalate no more.
    assert evaluate(date(2026, 12, 25)).alerts_created == 0
    assert evaluate(date(2026, 12, 24)).alerts_created == 0
    assert Alert.objects.filter(kind=AlertKind.ESCALATED).count() == 1


def test_escalation_days_is_a_setting(people):
    report_bx_ip_until_q3(people)
    lagging_occupancy(people)
    evaluate(D0)
    run = evaluate(date(2026, 11, 27), AlertSettings(escalation_days=3, reminder_days=5))
    assert run.alerts_created == 1
    assert Alert.objects.get(kind=AlertKind.ESCALATED).params["days"] == 3


def test_reminder_before_the_deadline_to_the_units_staff(people):
    report_bx_ip_until_q3(people)
    lagging_occupancy(people)
    evaluate(D0)
    # 2026-Q4 is due 2027-01-15; with 5 reminder days the window opens on 2027-01-10.
    evaluate(date(2027, 1, 9))
    assert not Alert.objects.filter(kind=AlertKind.REMINDER).exists()
    evaluate(date(2027, 1, 10))
    reminders = Alert.objects.filter(kind=AlertKind.REMINDER).order_by("target__code")
    assert [a.key for a in reminders] == [
        alert_key("BX-IP", "reminder:2026-Q4"), alert_key("BX-OCC", "reminder:2026-Q4")
    ]
    bx_ip = reminders[0]
    assert {r.user.username for r in bx_ip.recipients.all()} == {"bx.staff", "bx.staff2"}
    assert [r.user.username for r in reminders[1].recipients.all()] == ["ind.staff"]
    # One reminder only: the next days of the window add nothing.
    assert evaluate(date(2027, 1, 12)).alerts_created == 0


def test_no_reminder_once_an_entry_is_submitted(people):
    report_bx_ip_until_q3(people)
    lagging_occupancy(people)
    evaluate(D0)
    report("BX-IP", "2026-Q4", 0, author=people["staff"])  # submitted, not approved
    evaluate(date(2027, 1, 10))
    assert [a.key for a in Alert.objects.filter(kind=AlertKind.REMINDER)] == [
        alert_key("BX-OCC", "reminder:2026-Q4")
    ]


def test_reminder_resolves_when_the_report_arrives(people):
    report_bx_ip_until_q3(people)
    lagging_occupancy(people)
    evaluate(D0)
    evaluate(date(2027, 1, 10))
    report("BX-IP", "2026-Q4", 0, author=people["staff"])
    evaluate(date(2027, 1, 11))
    assert Alert.objects.get(key=alert_key("BX-IP", "reminder:2026-Q4")).resolved_at is not None
    assert Alert.objects.get(key=alert_key("BX-OCC", "reminder:2026-Q4")).resolved_at is None


def test_overdue_alert_resolves_when_the_report_arrives(people):
    evaluate(D0)
    report("BX-IP", "2026-Q3", 0, author=people["staff"])  # submitted is enough, at once
    assert Alert.objects.get(key=alert_key("BX-IP", "overdue:2026-Q3")).resolved_at is not None
    assert Alert.objects.get(key=alert_key("BX-IP", "overdue:2026-Q2")).resolved_at is None
    evaluate(date(2026, 11, 25))  # and the next evaluation agrees
    assert Alert.objects.get(key=alert_key("BX-IP", "overdue:2026-Q3")).resolved_at is not None


def test_a_returned_report_reopens_its_overdue_alert(people):
    from targets.services import entries as workflow

    evaluate(D0)
    entry = report("BX-IP", "2026-Q3", 0, author=people["staff"])
    workflow.entry_return(
        user=people["manager"], entry_id=entry.pk, comment="Attach the decision."
    )
    run = evaluate(date(2026, 11, 25))
    assert run.alerts_created == 0  # the same event: no second alert, the first one reopens
    assert Alert.objects.get(key=alert_key("BX-IP", "overdue:2026-Q3")).resolved_at is None


def test_approval_reassesses_and_records_alerts(people):
    from targets.services.evaluation import target_reassess

    lagging_occupancy(people)
    run = target_reassess(Target.objects.get(code="BX-OCC"), on=D0, alert_settings=RULES)
    assert run.alerts_created == 1
    assert keys() == {alert_key("BX-OCC", "worsened:2026-11-24:lagging")}


def test_milestone_missed_once(people):
    # BX-IP milestone 1 by 2027-12-31; actual 0 → missed. Report every quarter with 0.
    quarters = [f"{y}-Q{q}" for y in (2025, 2026, 2027) for q in (1, 2, 3, 4)][2:]
    for period in quarters:
        report("BX-IP", period, 0, author=people["staff"], reviewer=people["manager"])
    evaluate(date(2028, 1, 5))
    evaluate(date(2028, 1, 6))
    assert Alert.objects.filter(kind=AlertKind.MILESTONE_MISSED).count() == 1
    assert alert_key("BX-IP", "milestone_missed:2027-12-31") in keys()


def test_dry_run_records_no_alert(people):
    from targets.services.evaluation import targets_evaluate

    run = targets_evaluate(on=D0, dry_run=True, alert_settings=RULES)
    assert run.alerts_created == 0
    assert not Alert.objects.exists()


def test_evaluation_queries_do_not_grow_with_alerts(people, django_assert_num_queries):
    report_bx_ip_until_q3(people)
    lagging_occupancy(people)
    # One batch, and the first worsening of the lagging target read for escalation.
    with django_assert_num_queries(len(EVALUATION_QUERIES) + 1):
        evaluate(D0)


def _more_targets(n: int, start: int) -> None:
    from targets.services.plans import load_located, plan_import

    lines = ["plans:", "  - code: BX-2025-2030", "    name: Bat Xat", "    unit: LC-BATXAT",
             "    start: 2025-07-01", "    end: 2030-12-31", "    targets:"]
    for i in range(start, start + n):
        lines += [
            f"      - {{code: T{i}, name: T{i}, area: industry, responsible_unit: LC-BATXAT,",
            "          measure: x, baseline: {value: 0, date: 2025-06-30},",
            "          target: {value: 10, date: 2030-12-31}}",
        ]
    plan_import(data=load_located("\n".join(lines)), filename="more.yaml", user=plan_operator())


def test_recording_alerts_takes_the_same_queries_for_many_targets(people):
    from django.test.utils import CaptureQueriesContext

    _more_targets(3, 0)
    with CaptureQueriesContext(connection) as few:
        small = evaluate(D0)
    _more_targets(60, 3)
    with CaptureQueriesContext(connection) as many:
        large = evaluate(date(2026, 11, 25))
    # 5 targets × 5 overdue quarters, then the 60 new targets × 5 more.
    assert (small.alerts_created, large.alerts_created) == (25, 300)
    assert len(many.captured_queries) == len(few.captured_queries)


@pytest.mark.django_db(transaction=True)
def test_two_evaluations_at_once_record_each_alert_once(people):
    barrier = threading.Barrier(2)
    created: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            created.append(evaluate(D0).alerts_created)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert Alert.objects.count() == 10
    assert sorted(created) in ([0, 10], [5, 5], [4, 6], [3, 7], [2, 8], [1, 9])
    assert sum(created) == 10
    assert Digest.objects.count() == 1  # the manager's, from whichever run recorded BX-IP


def test_statements_stay_small_whatever_the_number_of_targets(people):
    """Resolving cleared alerts once built one OR clause per target: SQLite (the demo's
    database) refused it past ~250 targets ("Expression tree is too large")."""
    from django.test.utils import CaptureQueriesContext

    from targets.services.plans import load_located, plan_import
    from tests.conftest import many_targets_plan

    plan_import(
        data=load_located(many_targets_plan(300)), filename="many.yaml", user=plan_operator()
    )
    evaluate(D0)  # 302 targets, each with overdue periods: alerts to resolve next time
    with CaptureQueriesContext(connection) as queries:
        evaluate(date(2026, 11, 25))
    longest = max(len(q["sql"]) for q in queries.captured_queries)
    # The IN lists grow with the rows (bounded by chunks of 500 ids); no statement may carry a
    # clause per target: 300 targets of OR-ed conditions took well over 60,000 characters.
    assert longest < 40_000, longest


def test_a_second_assessment_the_same_day_is_compared_with_the_first(people):
    # BX-OCC (linear 20 → 80 over 2010 days from 2025-06-30) reported on plan to 2026-Q2:
    # 31 speaks for 2026-06-30 (365 days), when 20 + 60 × 365/2010 = 30.8955 was expected:
    # ratio 11 / 10.8955 = 1.0096 → on_track.
    for period, value in [("2025-Q3", 23), ("2025-Q4", 26), ("2026-Q1", 29), ("2026-Q2", 31)]:
        report("BX-OCC", period, value, author=people["dept_staff"], reviewer=people["manager"])
    evaluate(date(2026, 9, 1))
    # 2026-Q3 = 22 (as of 2026-09-30: 2 / 13.6418 = 0.1466) → lagging in the morning run.
    report("BX-OCC", "2026-Q3", 22, author=people["dept_staff"], reviewer=people["manager"])
    evaluate(date(2027, 1, 5))
    assert alert_key("BX-OCC", "worsened:2027-01-05:lagging") in keys()
    # The same day, 2026-Q4 = 45 is approved and the target re-assessed: as of 2026-12-31
    # ratio 25 / 16.3881 = 1.53, and the trend through 29, 31, 22, 45 (x = 0, 91, 183, 275
    # days from 2026-03-31; slope 1791.25/42044.75 = 0.0426) projects 31.75 + 0.0426 × 1598.75
    # = 99.9 ≥ 80 at 2030-12-31 → on_track. It is compared with that morning's lagging (not
    # with 2026-09-01's on_track): a recovery.
    report("BX-OCC", "2026-Q4", 45, author=people["dept_staff"], reviewer=people["manager"])
    run = evaluate(date(2027, 1, 5))
    assert run.alerts_created >= 1
    assert alert_key("BX-OCC", "recovered:2027-01-05:on_track") in keys()
    worsened = Alert.objects.get(key=alert_key("BX-OCC", "worsened:2027-01-05:lagging"))
    assert worsened.resolved_at is not None


def test_evaluating_an_earlier_date_records_no_alert(people):
    lagging_occupancy(people)
    evaluate(D0)
    before = keys()
    backfill = evaluate(date(2026, 11, 20))
    assert backfill.alerts_created == 0
    assert keys() == before
    assert Target.objects.get(code="BX-OCC").latest_assessment.evaluated_on == D0
