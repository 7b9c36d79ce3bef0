"""Reporting calendars (calendar periods or Decree 09/2019/NĐ-CP's cut-off periods) and
deadlines in working days (weekends and Vietnam's public holidays skipped): the rules, the
plan file's keys, and a Decree-09 target judged, reminded and reported at the right dates.

Every expected date is counted by hand. The holidays used are those the ``holidays``
package (requirements.txt) gives for Vietnam:
- Tết 2026: Mon 16/02 – Fri 20/02/2026 (eve, days 1–4);
- Tết 2027: Thu 04/02 – Wed 10/02/2027 (29 Tết, eve, days 1–5);
- 2026: Mon 31/08 off, swapped with Saturday 22/08, which is worked.
"""

from __future__ import annotations

import textwrap
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise

import pytest
from django.utils.formats import date_format
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from targets.errors import ImportFailed
from targets.forms import period_label
from targets.models import Alert, AlertKind, Plan, ProgressEntry, Target
from targets.rules import (
    AlertKind as RuleAlertKind,
)
from targets.rules import (
    Calendar,
    Frequency,
    Observation,
    Period,
    Point,
    Reporting,
    Status,
    TargetSpec,
    add_working_days,
    alert_condition_holds,
    assess,
    expected_exact,
    find_period,
    is_working_day,
    key_frequency,
    milestones_missed,
    overdue_periods,
    period_by_key,
    period_containing,
    period_count,
    reminder_periods,
    report_deadline,
    reporting_periods,
    reporting_state,
    spec_deadline,
    spec_periods,
)
from targets.services import imports as importing
from targets.services.plans import load_located, plan_import
from tests.alerting import alert_key, evaluate, report
from tests.conftest import SMALL_PLAN, plan_operator

D09 = Calendar.DECREE_09


def p09(key: str, start: date, end: date) -> Period:
    return Period(key, start, end, D09)


# --- Decree 09 periods, by hand ----------------------------------------------------------


def test_monthly_periods_run_from_the_15th_to_the_14th_across_the_new_year():
    assert reporting_periods(Frequency.MONTHLY, date(2025, 11, 20), date(2026, 2, 1), D09) == (
        p09("2025-12", date(2025, 11, 15), date(2025, 12, 14)),
        p09("2026-01", date(2025, 12, 15), date(2026, 1, 14)),
        p09("2026-02", date(2026, 1, 15), date(2026, 2, 14)),
    )


def test_quarter_1_runs_from_15_december_to_14_march():
    assert reporting_periods(
        Frequency.QUARTERLY, date(2025, 12, 14), date(2026, 12, 14), D09
    ) == (
        p09("2026-Q1", date(2025, 12, 15), date(2026, 3, 14)),
        p09("2026-Q2", date(2026, 3, 15), date(2026, 6, 14)),
        p09("2026-Q3", date(2026, 6, 15), date(2026, 9, 14)),
        p09("2026-Q4", date(2026, 9, 15), date(2026, 12, 14)),
    )


def test_half_years_run_15_december_to_14_june_and_15_june_to_14_december():
    assert reporting_periods(
        Frequency.HALF_YEARLY, date(2025, 12, 20), date(2027, 1, 5), D09
    ) == (
        p09("2026-H1", date(2025, 12, 15), date(2026, 6, 14)),
        p09("2026-H2", date(2026, 6, 15), date(2026, 12, 14)),
        p09("2027-H1", date(2026, 12, 15), date(2027, 6, 14)),
    )


def test_a_year_runs_from_15_december_of_the_year_before_to_14_december():
    assert reporting_periods(Frequency.YEARLY, date(2025, 12, 14), date(2027, 12, 14), D09) == (
        p09("2026", date(2025, 12, 15), date(2026, 12, 14)),
        p09("2027", date(2026, 12, 15), date(2027, 12, 14)),
    )


@pytest.mark.parametrize(
    ("frequency", "day", "expected"),
    [
        # The 14th belongs to the month's own period, the 15th to the next one.
        (Frequency.MONTHLY, date(2026, 1, 14), ("2026-01", date(2025, 12, 15), date(2026, 1, 14))),
        (Frequency.MONTHLY, date(2026, 1, 15), ("2026-02", date(2026, 1, 15), date(2026, 2, 14))),
        (Frequency.MONTHLY, date(2025, 12, 31), ("2026-01", date(2025, 12, 15), date(2026, 1, 14))),
        (Frequency.QUARTERLY, date(2025, 12, 14),
         ("2025-Q4", date(2025, 9, 15), date(2025, 12, 14))),
        (Frequency.QUARTERLY, date(2025, 12, 15),
         ("2026-Q1", date(2025, 12, 15), date(2026, 3, 14))),
        (Frequency.QUARTERLY, date(2026, 3, 31),
         ("2026-Q2", date(2026, 3, 15), date(2026, 6, 14))),
        (Frequency.HALF_YEARLY, date(2026, 6, 15),
         ("2026-H2", date(2026, 6, 15), date(2026, 12, 14))),
        (Frequency.YEARLY, date(2026, 12, 31), ("2027", date(2026, 12, 15), date(2027, 12, 14))),
        # At the ends of the calendar the period is cut, never an error.
        (Frequency.YEARLY, date(9999, 12, 20), ("10000", date(9999, 12, 15), date.max)),
        (Frequency.QUARTERLY, date.min, ("1-Q1", date.min, date(1, 3, 14))),
    ],
)
def test_the_period_holding_a_day(frequency, day, expected):
    assert period_containing(frequency, day, D09) == p09(*expected)


def test_the_calendar_calendar_is_unchanged():
    assert period_containing(Frequency.QUARTERLY, date(2026, 3, 14)) == Period(
        "2026-Q1", date(2026, 1, 1), date(2026, 3, 31)
    )
    assert period_containing(Frequency.QUARTERLY, date(2026, 3, 14), Calendar.CALENDAR) == (
        period_containing(Frequency.QUARTERLY, date(2026, 3, 14))
    )


def test_a_due_date_after_the_14th_of_december_opens_the_next_years_first_quarter():
    # 31/12/2030 lies in 2031-Q1 (15/12/2030 – 14/03/2031): its report is that quarter's.
    periods = reporting_periods(Frequency.QUARTERLY, date(2025, 6, 30), date(2030, 12, 31), D09)
    assert periods[0] == p09("2025-Q3", date(2025, 6, 15), date(2025, 9, 14))
    assert periods[-1] == p09("2031-Q1", date(2030, 12, 15), date(2031, 3, 14))
    assert len(periods) == 23  # 2025-Q3 … 2030-Q4 (22) and 2031-Q1
    assert period_count(Frequency.QUARTERLY, date(2025, 6, 30), date(2030, 12, 31), D09) == 23
    # The calendar quarters of the same target: 2025-Q3 … 2030-Q4.
    assert period_count(Frequency.QUARTERLY, date(2025, 6, 30), date(2030, 12, 31)) == 22


@pytest.mark.parametrize(
    ("frequency", "baseline", "due", "count"),
    [
        (Frequency.MONTHLY, date(2025, 12, 14), date(2026, 12, 14), 12),
        (Frequency.MONTHLY, date(2025, 12, 15), date(2026, 12, 15), 13),
        (Frequency.QUARTERLY, date(2025, 12, 14), date(2026, 12, 14), 4),
        # 2025-H2 (to 14/12/2025, after the baseline), 2026-H1, 2026-H2, 2027-H1 (from 15/12)
        (Frequency.HALF_YEARLY, date(2025, 12, 1), date(2026, 12, 20), 4),
        (Frequency.YEARLY, date(2025, 12, 14), date(2030, 12, 14), 5),
        (Frequency.YEARLY, date(2025, 12, 14), date(2025, 12, 15), 1),
    ],
)
def test_period_count_agrees_with_the_list(frequency, baseline, due, count):
    assert period_count(frequency, baseline, due, D09) == count
    assert len(reporting_periods(frequency, baseline, due, D09)) == count


# --- working days -------------------------------------------------------------------------


def test_working_days_skip_weekends_tet_and_keep_a_swapped_saturday():
    assert is_working_day(date(2026, 2, 13))  # Friday before Tết
    assert not is_working_day(date(2026, 2, 14))  # Saturday
    assert not any(is_working_day(date(2026, 2, d)) for d in range(16, 21))  # Tết 2026
    assert is_working_day(date(2026, 2, 23))
    assert not is_working_day(date(2026, 4, 27))  # Hùng Kings' day (Sun 26/04) in lieu
    assert is_working_day(date(2026, 8, 22))  # a Saturday worked for Mon 31/08
    assert not is_working_day(date(2026, 8, 31))
    # Beyond the years the package knows (1901–2100): weekends only.
    assert is_working_day(date(2150, 1, 1))  # a Thursday


def test_two_working_days_after_a_cut_off_on_a_saturday_before_tet_2026():
    # 2026-02 (Decree 09) ends Sat 14/02; Sun 15 weekend, Mon 16 – Fri 20 Tết, Sat 21 and
    # Sun 22 weekend: Mon 23/02 is the first working day, Tue 24/02 the second.
    period = p09("2026-02", date(2026, 1, 15), date(2026, 2, 14))
    assert report_deadline(period, 15, 2) == date(2026, 2, 24)
    assert report_deadline(period, 15) == date(2026, 3, 1)  # grace days: 14/02 + 15


def test_five_working_days_across_tet_2027():
    # January 2027 (calendar) ends Sun 31/01: Mon 1, Tue 2, Wed 3 (3 days), Thu 4 – Wed 10
    # Tết (Sat 6 and Sun 7 among them), then Thu 11 (4) and Fri 12/02 (5).
    period = Period("2027-01", date(2027, 1, 1), date(2027, 1, 31))
    assert report_deadline(period, 0, 5) == date(2027, 2, 12)


def test_working_days_across_a_weekend_only():
    # 2026-Q1 (Decree 09) ends Sat 14/03: Mon 16/03 (1), Tue 17/03 (2).
    assert add_working_days(date(2026, 3, 14), 2) == date(2026, 3, 17)
    # Fri 14/08/2026 + 6: Mon 17 … Fri 21 (5), Sat 22 worked (6).
    assert add_working_days(date(2026, 8, 14), 6) == date(2026, 8, 22)
    assert add_working_days(date(2026, 3, 14), 0) == date(2026, 3, 14)
    assert add_working_days(date(9999, 12, 30), 5) == date.max


# --- a Decree-09 target judged by the rules -------------------------------------------------

# Baseline 0 on 14/12/2025, 100 on 14/12/2026, quarterly on Decree 09, linear: 2026-Q1 …
# 2026-Q4 end 14/03, 14/06, 14/09, 14/12/2026. 14/12/2025 → 14/03/2026 is 31 + 31 + 28 = 90
# days of 365.
def _decree_target(**changes) -> TargetSpec:
    values = {
        "baseline_value": Decimal(0),
        "baseline_date": date(2025, 12, 14),
        "target_value": Decimal(100),
        "due_date": date(2026, 12, 14),
        "frequency": Frequency.QUARTERLY,
        "grace_days": 15,
        "calendar": D09,
        **changes,
    }
    return TargetSpec(**values)


def test_an_entry_for_2026_q1_speaks_for_14_march_2026():
    spec = _decree_target()
    q1 = find_period(spec, "2026-Q1")
    assert q1 == p09("2026-Q1", date(2025, 12, 15), date(2026, 3, 14))
    judgement = assess(spec, [Observation(q1.end, Decimal(30))], ["2026-Q1"], date(2026, 4, 1))
    assert judgement.as_of == date(2026, 3, 14)
    assert expected_exact(spec, date(2026, 3, 14)) == Fraction(9000, 365)
    # 30 / (9000/365) = 10950/9000 ≥ 0.9
    assert judgement.ratio == Decimal(10950) / Decimal(9000)
    assert judgement.status == Status.ON_TRACK


def test_a_quarter_is_overdue_the_day_after_its_grace_days():
    spec = _decree_target()  # 2026-Q1: 14/03 + 15 days = 29/03/2026
    assert overdue_periods(spec, [], date(2026, 3, 29)) == []
    assert reporting_state(spec, [], date(2026, 3, 29)) == Reporting.DUE
    assert overdue_periods(spec, [], date(2026, 3, 30)) == ["2026-Q1"]


def test_a_quarter_is_overdue_the_day_after_its_working_day_deadline():
    spec = _decree_target(deadline_working_days=2)  # 2026-Q1: Tue 17/03/2026
    assert reporting_state(spec, [], date(2026, 3, 14)) == Reporting.OK  # not ended yet
    assert reporting_state(spec, [], date(2026, 3, 17)) == Reporting.DUE
    assert overdue_periods(spec, [], date(2026, 3, 18)) == ["2026-Q1"]
    assert overdue_periods(spec, ["2026-Q1"], date(2026, 3, 18)) == []


def test_a_milestone_is_judged_when_its_period_is_overdue_by_working_days():
    # Milestone 50 on 01/06/2026 lies in 2026-Q2 (15/03 – Sun 14/06/2026); two working days:
    # Mon 15/06, Tue 16/06. Unreported: judged missed from 17/06, with the baseline.
    spec = _decree_target(
        deadline_working_days=2, milestones=(Point(date(2026, 6, 1), Decimal(50)),)
    )
    assert milestones_missed(spec, [], date(2026, 6, 16)) == []
    assert milestones_missed(spec, [], date(2026, 6, 17)) == [date(2026, 6, 1)]
    # With grace days instead (14/06 + 15 = 29/06) it waits until 30/06.
    spec = _decree_target(milestones=(Point(date(2026, 6, 1), Decimal(50)),))
    assert milestones_missed(spec, [], date(2026, 6, 29)) == []
    assert milestones_missed(spec, [], date(2026, 6, 30)) == [date(2026, 6, 1)]


def test_reminders_follow_the_working_day_deadline():
    spec = _decree_target(deadline_working_days=2)
    args = (spec.frequency, spec.baseline_date, spec.due_date, spec.grace_days)
    q1 = find_period(spec, "2026-Q1")
    # Deadline 17/03/2026, 5 reminder days: the window opens on 12/03.
    assert reminder_periods(*args, date(2026, 3, 11), 5, D09, 2) == ()
    assert reminder_periods(*args, date(2026, 3, 12), 5, D09, 2) == ((q1, date(2026, 3, 17)),)
    judgement = assess(spec, [], [], date(2026, 3, 17))
    holds = {
        day: alert_condition_holds(
            RuleAlertKind.REMINDER, "2026-Q1", judgement, reported=set(), period=q1,
            grace_days=15, d=day, working_days=2,
        )
        for day in (date(2026, 3, 17), date(2026, 3, 18))
    }
    assert holds == {date(2026, 3, 17): True, date(2026, 3, 18): False}


def test_the_end_of_the_calendar_with_decree_09_and_100_working_days_does_not_raise():
    spec = _decree_target(
        baseline_date=date(9990, 1, 1), due_date=date.max, deadline_working_days=100,
    )
    assert spec_periods(spec)[-1] == p09("10000-Q1", date(9999, 12, 15), date.max)
    # After 2100 only weekends are skipped: 100 working days after Monday 14/06/9999 are 20
    # weeks, Monday 01/11/9999; after Tuesday 14/09/9999 they would fall in 10000.
    q2, q3 = find_period(spec, "9999-Q2"), find_period(spec, "9999-Q3")
    assert spec_deadline(spec, q2) == date(9999, 11, 1)
    assert spec_deadline(spec, q3) == date.max
    judgement = assess(spec, [Observation(date(9999, 12, 14), Decimal(99))], [], date.max)
    assert judgement.as_of == date(9999, 12, 14)
    assert "9999-Q2" in judgement.overdue_periods
    assert "9999-Q3" not in judgement.overdue_periods


# --- the tiling, over random input --------------------------------------------------------

FAST = settings(max_examples=300, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(
    frequency=st.sampled_from(list(Frequency)),
    baseline=st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 30)),
    span=st.integers(min_value=1, max_value=3000),
)
def test_decree_09_periods_tile_the_timeline(frequency, baseline, span):
    due = min(baseline + timedelta(days=min(span, (date.max - baseline).days)), date.max)
    periods = reporting_periods(frequency, baseline, due, D09)
    assert len(periods) == period_count(frequency, baseline, due, D09)
    assert periods, "a target with a due date after its baseline has a period"
    # The first holds the day after the baseline, the last the due date.
    assert periods[0].start <= baseline + timedelta(days=1) <= periods[0].end
    assert periods[-1].start <= due <= periods[-1].end
    for before, after in pairwise(periods):
        assert after.start == before.end + timedelta(days=1)  # no gap, no overlap
        assert after.key != before.key
    for period in periods:
        assert period.start <= period.end
        assert period.start.day == 15 or period.start == date.min
        assert period.end.day == 14 or period.end == date.max
        assert period_containing(frequency, period.start, D09) == period
        assert period_containing(frequency, period.end, D09) == period


@FAST
@given(frequency=st.sampled_from(list(Frequency)), day=st.dates())
def test_every_day_lies_in_its_decree_09_period(frequency, day):
    period = period_containing(frequency, day, D09)
    assert period.start <= day <= period.end


@FAST
@given(day=st.dates(min_value=date(1990, 1, 1), max_value=date(2110, 12, 31)),
       count=st.integers(min_value=0, max_value=30))
def test_a_working_day_deadline_is_a_working_day_count_days_on(day, count):
    deadline = add_working_days(day, count)
    between = [day + timedelta(days=i) for i in range(1, (deadline - day).days + 1)]
    assert sum(is_working_day(d) for d in between) == count
    assert count == 0 or is_working_day(deadline)


# --- labels -------------------------------------------------------------------------------


@pytest.mark.usefixtures("in_english")
def test_a_decree_09_period_is_labelled_with_its_cut_off_dates():
    def short(day: date) -> str:
        return date_format(day, "SHORT_DATE_FORMAT")

    label = period_label(p09("2026-Q1", date(2025, 12, 15), date(2026, 3, 14)))
    assert label == (
        f"2026-Q1 (data cut-off {short(date(2025, 12, 15))} – {short(date(2026, 3, 14))})"
    )
    calendar = period_label(Period("2026-Q1", date(2026, 1, 1), date(2026, 3, 31)))
    assert calendar == f"2026-Q1 ({short(date(2026, 1, 1))} – {short(date(2026, 3, 31))})"


# --- the plan file ------------------------------------------------------------------------

DECREE_KEYS = "    reporting_calendar: decree_09\n    deadline_working_days: 2\n"


def plan_text(plan_keys: str = DECREE_KEYS, target_keys: str = "", other_keys: str = "") -> str:
    """SMALL_PLAN with ``plan_keys`` on the plan, ``target_keys`` on BX-IP and ``other_keys``
    on BX-OCC."""
    text = SMALL_PLAN.replace("    end: 2030-12-31\n", "    end: 2030-12-31\n" + plan_keys, 1)
    text = text.replace(
        "        tolerance: 0.10\n", "        tolerance: 0.10\n" + target_keys, 1
    )
    return text.replace("        measure: \"%\"\n", "        measure: \"%\"\n" + other_keys, 1)


def import_text(text: str, filename: str = "plan.yaml"):
    return plan_import(
        data=load_located(textwrap.dedent(text)), filename=filename, user=plan_operator()
    )


def problems(text: str) -> list[str]:
    with pytest.raises(ImportFailed) as failed:
        import_text(text)
    return [str(p) for p in failed.value.problems]


@pytest.mark.django_db
@pytest.mark.usefixtures("in_english")
def test_the_plan_file_sets_the_calendar_and_the_working_day_deadline_of_its_targets():
    import_text(plan_text(target_keys="        deadline_working_days: 5\n"))
    plan = Plan.objects.get(code="BX-2025-2030")
    assert (plan.reporting_calendar, plan.deadline_working_days) == ("decree_09", 2)
    ip, occ = Target.objects.get(code="BX-IP"), Target.objects.get(code="BX-OCC")
    assert (ip.reporting_calendar, ip.deadline_working_days) == ("decree_09", 5)  # its own
    assert (occ.reporting_calendar, occ.deadline_working_days) == ("decree_09", 2)  # the plan's
    assert occ.reporting_periods()[0] == p09("2025-Q3", date(2025, 6, 15), date(2025, 9, 14))
    # A target may keep its grace days: ``null``.
    import_text(plan_text(target_keys="        deadline_working_days: null\n"))
    assert Target.objects.get(code="BX-IP").deadline_working_days is None
    # Nothing said: today's behaviour.
    import_text(SMALL_PLAN)
    plan.refresh_from_db()
    assert (plan.reporting_calendar, plan.deadline_working_days) == ("calendar", None)
    assert set(Target.objects.values_list("reporting_calendar", "deadline_working_days")) == {
        ("calendar", None)
    }


@pytest.mark.django_db
@pytest.mark.usefixtures("in_english")
@pytest.mark.parametrize(
    ("plan_keys", "target_keys", "key", "message"),
    [
        ("    reporting_calendar: lunar\n", "", "reporting_calendar",
         "“lunar” is not one of calendar, decree_09"),
        ("    deadline_working_days: -1\n", "", "deadline_working_days",
         "“-1” is not a whole number of working days ≥ 0"),
        ("    deadline_working_days: two\n", "", "deadline_working_days",
         "“two” is not a whole number of working days ≥ 0"),
        ("    deadline_working_days: 101\n", "", "deadline_working_days",
         "101 working days: at most 100"),
        ("", "        deadline_working_days: 1.5\n", "deadline_working_days",
         "“1.5” is not a whole number of working days ≥ 0"),
        ("", "        reporting_calendar: decree_09\n", "reporting_calendar",
         "is the plan's: every target of a plan reports on the plan's calendar"),
    ],
)
def test_the_plan_file_refuses_bad_calendar_and_deadline_keys(plan_keys, target_keys, key,
                                                              message):
    found = problems(plan_text(plan_keys, target_keys))
    assert len(found) == 1, found
    assert f" {key}: {message}" in found[0], found
    assert Plan.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.usefixtures("in_english")
def test_a_calendar_cannot_change_under_reported_entries(people):
    report("BX-OCC", "2025-Q3", 22, author=people["dept_staff"])
    found = problems(plan_text())
    assert len(found) == 1, found
    assert " reporting_calendar: 1 entry was reported for the periods of another calendar" in (
        found[0]
    )
    assert Target.objects.get(code="BX-OCC").reporting_calendar == "calendar"


@pytest.mark.django_db
def test_targets_the_file_leaves_out_follow_the_plans_calendar(small_plan):
    only_ip = plan_text().split("      - code: BX-OCC")[0]
    import_text(only_ip)
    assert Target.objects.get(code="BX-OCC").reporting_calendar == "decree_09"
    assert Target.objects.get(code="BX-OCC").history.first().history_change_reason == (
        "import of plan.yaml"
    )


# --- a Decree-09 plan in the services -------------------------------------------------------


@pytest.fixture
def decree_plan(people):
    import_text(plan_text())
    return people


@pytest.mark.django_db
def test_an_entry_is_stamped_with_its_decree_09_period(decree_plan):
    entry = report("BX-OCC", "2025-Q3", 22, author=decree_plan["dept_staff"],
                   reviewer=decree_plan["manager"])
    assert (entry.period_start, entry.period_end) == (date(2025, 6, 15), date(2025, 9, 14))
    assert Target.objects.get(code="BX-OCC").latest_assessment is None
    evaluate(date(2025, 9, 20))
    occ = Target.objects.select_related("latest_assessment").get(code="BX-OCC")
    assert occ.latest_assessment.as_of == date(2025, 9, 14)


@pytest.mark.django_db
def test_the_entries_file_takes_the_targets_decree_09_periods(decree_plan):
    rows = importing.entries_preview(
        user=decree_plan["manager"], filename="e.csv", today=date(2031, 1, 1),
        content=b"target,period,value,note\nBX-OCC,2031-Q1,30,\nBX-IP,2031-Q2,1,\n",
    )
    assert rows[0].problems == []
    assert rows[0].found_period == p09("2031-Q1", date(2030, 12, 15), date(2031, 3, 14))
    assert len(rows[1].problems) == 1 and "2031-Q2" in str(rows[1].problems[0])


@pytest.mark.django_db
def test_overdue_alerts_and_reminders_follow_the_working_day_deadline(decree_plan):
    # 2025-Q3 ends Sun 14/09/2025; two working days: Mon 15/09, Tue 16/09.
    evaluate(date(2025, 9, 10))
    assert not Alert.objects.filter(kind=AlertKind.REMINDER).exists()
    evaluate(date(2025, 9, 11))  # 5 reminder days before 16/09
    reminder = Alert.objects.get(kind=AlertKind.REMINDER, target__code="BX-OCC")
    assert reminder.params["deadline"] == "2025-09-16"
    evaluate(date(2025, 9, 16))
    assert not Alert.objects.filter(kind=AlertKind.OVERDUE).exists()
    evaluate(date(2025, 9, 17))
    overdue = Alert.objects.get(kind=AlertKind.OVERDUE, target__code="BX-OCC")
    assert overdue.key == alert_key("BX-OCC", "overdue:2025-Q3")
    assert overdue.params["deadline"] == "2025-09-16"
    reminder.refresh_from_db()
    assert reminder.resolved_at is not None  # the overdue alert takes over
    assert ProgressEntry.objects.count() == 0


# --- periods named by key, and the nine-month period ----------------------------------


@pytest.mark.parametrize(
    ("key", "calendar", "start", "end"),
    [
        ("2026-01", Calendar.CALENDAR, date(2026, 1, 1), date(2026, 1, 31)),
        ("2026-01", Calendar.DECREE_09, date(2025, 12, 15), date(2026, 1, 14)),
        ("2026-Q1", Calendar.CALENDAR, date(2026, 1, 1), date(2026, 3, 31)),
        ("2026-Q1", Calendar.DECREE_09, date(2025, 12, 15), date(2026, 3, 14)),
        ("2026-Q4", Calendar.DECREE_09, date(2026, 9, 15), date(2026, 12, 14)),
        ("2026-H2", Calendar.CALENDAR, date(2026, 7, 1), date(2026, 12, 31)),
        ("2026-H2", Calendar.DECREE_09, date(2026, 6, 15), date(2026, 12, 14)),
        ("2026-9M", Calendar.CALENDAR, date(2026, 1, 1), date(2026, 9, 30)),
        ("2026-9M", Calendar.DECREE_09, date(2025, 12, 15), date(2026, 9, 14)),
        ("2026", Calendar.CALENDAR, date(2026, 1, 1), date(2026, 12, 31)),
        ("2026", Calendar.DECREE_09, date(2025, 12, 15), date(2026, 12, 14)),
    ],
)
def test_period_by_key(key, calendar, start, end):
    period = period_by_key(key, calendar)
    assert (period.key, period.start, period.end, period.calendar) == (key, start, end, calendar)


@pytest.mark.parametrize("key", ["", "2026-13", "2026-00", "2026-Q5", "2026-H3", "26-Q1", "2026-8M",
                                 "2026Q1", "0001-9M", "2026-q1x"])
def test_period_by_key_refuses_other_keys(key):
    assert period_by_key(key, Calendar.DECREE_09) is None


@given(d=st.dates(min_value=date(1902, 1, 1), max_value=date(2098, 12, 31)),
       frequency=st.sampled_from(list(Frequency)), calendar=st.sampled_from(list(Calendar)))
def test_period_by_key_reads_back_every_reporting_period(d, frequency, calendar):
    period = period_containing(frequency, d, calendar)
    assert period_by_key(period.key, calendar) == period
    assert key_frequency(period.key) == frequency


def test_the_nine_month_period_has_no_frequency_of_entries():
    assert key_frequency("2026-9M") is None and key_frequency("2026-13") is None
