"""Unit tests for the progress rules (DESIGN §3 and the reporting periods of §7).

Pure functions only: no Django, no database. Every expected value below is worked
out by hand from DESIGN.md; the arithmetic is in the comment next to it.
"""

from datetime import date
from decimal import Decimal

from targets.rules import (
    NO_FORECAST,
    SEVERITY,
    Aggregation,
    Direction,
    Forecast,
    Frequency,
    Observation,
    Period,
    Point,
    Reporting,
    Status,
    TargetSpec,
    Trajectory,
    actual_at,
    assess,
    expected_at,
    find_period,
    forecast,
    judge_status,
    milestones_missed,
    overdue_periods,
    progress_ratio,
    reporting_periods,
    reporting_state,
)

D = Decimal


def ob(d: date, value) -> Observation:
    return Observation(period_end=d, value=D(str(value)))


def make_spec(**overrides) -> TargetSpec:
    """Baseline 0 on 2025-01-01, target 100 on 2025-01-11: 10 days, 10 per day."""
    fields = {
        "baseline_value": D(0),
        "baseline_date": date(2025, 1, 1),
        "target_value": D(100),
        "due_date": date(2025, 1, 11),
    }
    fields.update(overrides)
    return TargetSpec(**fields)


# A 100-day linear target: baseline 0 on 2025-01-01, target 100 on 2025-04-11
# (Jan 31 + Feb 28 + Mar 31 = 90 days to 04-01, +10 = 100), so expected(d) = day number.
HUNDRED_DAYS = {"due_date": date(2025, 4, 11), "grace_days": 15}


# --- rule 1: actual ----------------------------------------------------------------


def test_latest_actual_is_value_of_entry_with_latest_period_end_regardless_of_order():
    spec = make_spec(due_date=date(2025, 12, 31))
    entries = [ob(date(2025, 3, 31), 30), ob(date(2025, 9, 30), 20), ob(date(2025, 6, 30), 50)]
    # latest period end is 2025-09-30 → 20 (even though it is neither last nor largest)
    assert actual_at(spec, entries, date(2025, 12, 31)) == D(20)


def test_latest_actual_ignores_entries_ending_after_evaluation_date():
    spec = make_spec(due_date=date(2025, 12, 31))
    entries = [ob(date(2025, 9, 30), 20), ob(date(2025, 6, 30), 50), ob(date(2025, 3, 31), 30)]
    # on 2025-08-01 only 03-31 and 06-30 have ended → latest is 06-30 → 50
    assert actual_at(spec, entries, date(2025, 8, 1)) == D(50)


def test_entry_ending_on_evaluation_date_counts():
    spec = make_spec(due_date=date(2025, 12, 31))
    entries = [ob(date(2025, 6, 30), 50), ob(date(2025, 9, 30), 20)]
    assert actual_at(spec, entries, date(2025, 9, 30)) == D(20)
    assert actual_at(spec, entries, date(2025, 9, 29)) == D(50)


def test_sum_actual_is_baseline_plus_sum_of_entries():
    spec = make_spec(baseline_value=D(10), aggregation=Aggregation.SUM, due_date=date(2025, 12, 31))
    entries = [ob(date(2025, 6, 30), 7), ob(date(2025, 3, 31), 5), ob(date(2025, 9, 30), 3)]
    # 10 + 5 + 7 + 3 = 25
    assert actual_at(spec, entries, date(2025, 12, 31)) == D(25)


def test_sum_actual_ignores_entries_ending_after_evaluation_date():
    spec = make_spec(baseline_value=D(10), aggregation=Aggregation.SUM, due_date=date(2025, 12, 31))
    entries = [ob(date(2025, 6, 30), 7), ob(date(2025, 3, 31), 5), ob(date(2025, 9, 30), 3)]
    # on 2025-07-01: 10 + 5 + 7 = 22 (the 09-30 entry is not counted)
    assert actual_at(spec, entries, date(2025, 7, 1)) == D(22)


def test_no_entry_gives_no_actual():
    spec = make_spec()
    assert actual_at(spec, [], date(2025, 1, 5)) is None


def test_only_future_entries_give_no_actual():
    spec = make_spec(aggregation=Aggregation.SUM)
    assert actual_at(spec, [ob(date(2025, 1, 10), 5)], date(2025, 1, 9)) is None


def test_no_entry_assess_uses_baseline_as_actual_and_status_no_data():
    spec = make_spec(baseline_value=D(20), target_value=D(70))
    j = assess(spec, [], [], date(2025, 1, 3))
    assert j.actual == D(20)
    assert j.status == Status.NO_DATA
    assert j.ratio is None


# --- rule 2: expected trajectory -----------------------------------------------------


def test_linear_expected_is_baseline_on_baseline_date_and_target_on_due_date():
    spec = make_spec()
    assert expected_at(spec, date(2025, 1, 1)) == D(0)
    assert expected_at(spec, date(2025, 1, 11)) == D(100)


def test_linear_expected_midpoints():
    spec = make_spec()
    assert expected_at(spec, date(2025, 1, 6)) == D(50)  # 5/10 days × 100
    assert expected_at(spec, date(2025, 1, 4)) == D(30)  # 3/10 × 100
    assert expected_at(spec, date(2025, 1, 2)) == D(10)  # 1/10 × 100


def test_linear_expected_with_nonzero_baseline():
    spec = make_spec(baseline_value=D(20), target_value=D(70))
    # 20 + (70 − 20) × 2/10 = 30
    assert expected_at(spec, date(2025, 1, 3)) == D(30)


def test_linear_expected_for_at_most_goes_down():
    spec = make_spec(baseline_value=D(100), target_value=D(40), direction=Direction.AT_MOST)
    # 100 + (40 − 100) × 5/10 = 70
    assert expected_at(spec, date(2025, 1, 6)) == D(70)


def test_linear_expected_is_clamped_before_baseline_and_after_due_date():
    spec = make_spec(baseline_value=D(20), target_value=D(70))
    assert expected_at(spec, date(2024, 12, 1)) == D(20)
    assert expected_at(spec, date(2024, 12, 31)) == D(20)
    assert expected_at(spec, date(2025, 1, 12)) == D(70)
    assert expected_at(spec, date(2030, 6, 1)) == D(70)


def _milestone_spec(trajectory: Trajectory) -> TargetSpec:
    # points: (01-01, 0), (01-11, 20), (01-21, 80), (01-31, 100); milestones given out of order
    return make_spec(
        due_date=date(2025, 1, 31),
        trajectory=trajectory,
        milestones=(Point(date(2025, 1, 21), D(80)), Point(date(2025, 1, 11), D(20))),
    )


def test_linear_expected_passes_through_milestones_in_date_order():
    spec = _milestone_spec(Trajectory.LINEAR)
    assert expected_at(spec, date(2025, 1, 6)) == D(10)  # 0 + 20 × 5/10
    assert expected_at(spec, date(2025, 1, 11)) == D(20)  # on the milestone
    assert expected_at(spec, date(2025, 1, 16)) == D(50)  # 20 + 60 × 5/10
    assert expected_at(spec, date(2025, 1, 21)) == D(80)  # on the milestone
    assert expected_at(spec, date(2025, 1, 26)) == D(90)  # 80 + 20 × 5/10
    assert expected_at(spec, date(2025, 1, 31)) == D(100)
    assert expected_at(spec, date(2025, 2, 28)) == D(100)  # clamped


def test_step_expected_is_value_of_last_point_on_or_before_date():
    spec = _milestone_spec(Trajectory.STEP)
    assert expected_at(spec, date(2024, 12, 31)) == D(0)  # clamped before baseline
    assert expected_at(spec, date(2025, 1, 1)) == D(0)
    assert expected_at(spec, date(2025, 1, 10)) == D(0)  # day before first milestone
    assert expected_at(spec, date(2025, 1, 11)) == D(20)  # milestone date exactly
    assert expected_at(spec, date(2025, 1, 20)) == D(20)
    assert expected_at(spec, date(2025, 1, 21)) == D(80)
    assert expected_at(spec, date(2025, 1, 30)) == D(80)  # day before due: still 80
    assert expected_at(spec, date(2025, 1, 31)) == D(100)  # from the due date on: target
    assert expected_at(spec, date(2026, 1, 1)) == D(100)


def test_step_expected_without_milestones_stays_at_baseline_until_due_date():
    spec = make_spec(trajectory=Trajectory.STEP, baseline_value=D(5))
    assert expected_at(spec, date(2025, 1, 10)) == D(5)
    assert expected_at(spec, date(2025, 1, 11)) == D(100)


# --- rule 3: progress ratio ----------------------------------------------------------


def test_ratio_at_least():
    spec = make_spec()
    assert progress_ratio(spec, D(45), D(50)) == D("0.9")  # (45 − 0) / (50 − 0)


def test_ratio_at_least_with_nonzero_baseline():
    spec = make_spec(baseline_value=D(20), target_value=D(70))
    assert progress_ratio(spec, D(38), D(40)) == D("0.9")  # (38 − 20) / (40 − 20) = 18/20


def test_ratio_at_most_flips_signs():
    spec = make_spec(baseline_value=D(100), target_value=D(40), direction=Direction.AT_MOST)
    assert progress_ratio(spec, D(76), D(70)) == D("0.8")  # (100 − 76) / (100 − 70) = 24/30
    assert progress_ratio(spec, D(55), D(70)) == D("1.5")  # (100 − 55) / 30 = 45/30


def test_ratio_at_most_moving_the_wrong_way_is_negative():
    spec = make_spec(baseline_value=D(100), target_value=D(40), direction=Direction.AT_MOST)
    assert progress_ratio(spec, D(106), D(70)) == D("-0.2")  # (100 − 106) / 30 = −6/30


def test_ratio_is_one_when_expected_equals_baseline():
    spec = make_spec(baseline_value=D(20), target_value=D(70))
    assert progress_ratio(spec, D(20), D(20)) == D(1)
    assert progress_ratio(spec, D(25), D(20)) == D(1)
    at_most = make_spec(baseline_value=D(100), target_value=D(40), direction=Direction.AT_MOST)
    assert progress_ratio(at_most, D(90), D(100)) == D(1)


# --- rule 4: status ------------------------------------------------------------------


def _status(spec, actual, ratio, d, has_data=True):
    return judge_status(spec, actual=D(str(actual)), ratio=D(str(ratio)), has_data=has_data, d=d)


BEFORE_DUE = date(2025, 1, 6)
ON_DUE = date(2025, 1, 11)
AFTER_DUE = date(2025, 1, 12)


def test_actual_meeting_target_before_due_date_is_achieved():
    assert _status(make_spec(), 100, "0.5", BEFORE_DUE) == Status.ACHIEVED


def test_achieved_beats_missed_after_due_date():
    # d after due date, but 101 ≥ 100 → achieved wins (first match)
    assert _status(make_spec(), 101, "1.01", AFTER_DUE) == Status.ACHIEVED


def test_not_achieved_after_due_date_is_missed():
    assert _status(make_spec(), 99, "0.99", AFTER_DUE) == Status.MISSED


def test_missed_beats_no_data_past_due_date():
    assert _status(make_spec(), 0, 1, AFTER_DUE, has_data=False) == Status.MISSED


def test_on_due_date_itself_is_not_missed():
    # d == due date is not "after" it: 95/100 = 0.95 ≥ 0.9 → on_track
    assert _status(make_spec(), 95, "0.95", ON_DUE) == Status.ON_TRACK
    assert _status(make_spec(), 50, "0.5", ON_DUE) == Status.LAGGING


def test_no_data_beats_on_track():
    assert _status(make_spec(), 0, 1, BEFORE_DUE, has_data=False) == Status.NO_DATA


def test_ratio_exactly_at_tolerance_is_on_track():
    assert _status(make_spec(), 45, "0.9", BEFORE_DUE) == Status.ON_TRACK  # 0.9 ≥ 1 − 0.1


def test_ratio_above_one_is_on_track():
    assert _status(make_spec(), 60, "1.2", BEFORE_DUE) == Status.ON_TRACK


def test_ratio_just_below_tolerance_is_at_risk():
    assert _status(make_spec(), 44, "0.8999", BEFORE_DUE) == Status.AT_RISK


def test_ratio_exactly_at_twice_tolerance_is_at_risk():
    assert _status(make_spec(), 40, "0.8", BEFORE_DUE) == Status.AT_RISK  # 0.8 ≥ 1 − 2 × 0.1


def test_ratio_just_below_twice_tolerance_is_lagging():
    assert _status(make_spec(), 39, "0.7999", BEFORE_DUE) == Status.LAGGING


def test_negative_ratio_is_lagging():
    assert _status(make_spec(), -5, "-0.1", BEFORE_DUE) == Status.LAGGING


def test_tolerance_of_point_two_shifts_boundaries_to_point_eight_and_point_six():
    spec = make_spec(tolerance=D("0.2"))
    assert _status(spec, 40, "0.8", BEFORE_DUE) == Status.ON_TRACK  # 0.8 ≥ 1 − 0.2
    assert _status(spec, 39, "0.7999", BEFORE_DUE) == Status.AT_RISK
    assert _status(spec, 30, "0.6", BEFORE_DUE) == Status.AT_RISK  # 0.6 ≥ 1 − 2 × 0.2
    assert _status(spec, 29, "0.5999", BEFORE_DUE) == Status.LAGGING


def test_at_most_achieved_when_actual_at_or_below_target():
    spec = make_spec(baseline_value=D(100), target_value=D(40), direction=Direction.AT_MOST)
    assert _status(spec, 40, "1.2", BEFORE_DUE) == Status.ACHIEVED
    assert _status(spec, 39, "1.2", AFTER_DUE) == Status.ACHIEVED
    assert _status(spec, 41, "0.98", AFTER_DUE) == Status.MISSED


def test_status_boundaries_from_real_numbers_via_assess():
    # 100-day target, d = 2025-02-20 = day 50 → expected 50 (see HUNDRED_DAYS)
    spec = make_spec(**HUNDRED_DAYS)
    d = date(2025, 2, 20)
    e = date(2025, 2, 10)
    assert assess(spec, [ob(e, 45)], [], d).status == Status.ON_TRACK  # 45/50 = 0.9
    assert assess(spec, [ob(e, "44.99")], [], d).status == Status.AT_RISK  # 0.8998
    assert assess(spec, [ob(e, 40)], [], d).status == Status.AT_RISK  # 40/50 = 0.8
    assert assess(spec, [ob(e, "39.99")], [], d).status == Status.LAGGING  # 0.7998


def test_severity_orders_statuses():
    assert SEVERITY[Status.ACHIEVED] == SEVERITY[Status.ON_TRACK] == SEVERITY[Status.NO_DATA] == 0
    assert SEVERITY[Status.AT_RISK] == 1
    assert SEVERITY[Status.LAGGING] == 2
    assert SEVERITY[Status.MISSED] == 3


# --- rule 5: milestones missed -------------------------------------------------------


def _milestone_target(**overrides) -> TargetSpec:
    fields = {
        "due_date": date(2025, 12, 31),
        # out of order on purpose
        "milestones": (Point(date(2025, 6, 30), D(50)), Point(date(2025, 3, 31), D(20))),
    }
    fields.update(overrides)
    return make_spec(**fields)


def test_milestone_judged_by_actual_as_of_its_date_later_entry_does_not_rescue():
    spec = _milestone_target()
    entries = [ob(date(2025, 3, 31), 25), ob(date(2025, 6, 30), 40), ob(date(2025, 9, 30), 60)]
    # 03-31: actual as of 03-31 = 25 ≥ 20 → met.  06-30: as of 06-30 = 40 < 50 → missed,
    # although 60 ≥ 50 arrives on 09-30.
    assert milestones_missed(spec, entries, date(2025, 10, 15)) == [date(2025, 6, 30)]


def test_milestone_met_by_entry_ending_before_the_milestone_date():
    spec = _milestone_target()
    entries = [ob(date(2025, 2, 28), 55)]
    # as of 03-31 and as of 06-30 the actual is 55 ≥ 20 and ≥ 50 → nothing missed
    assert milestones_missed(spec, entries, date(2025, 10, 15)) == []


def test_milestones_after_evaluation_date_are_not_reported():
    spec = _milestone_target()
    entries = [ob(date(2025, 3, 31), 10)]
    # 03-31 is missed (10 < 20); 06-30 is after d
    assert milestones_missed(spec, entries, date(2025, 5, 1)) == [date(2025, 3, 31)]


def test_milestone_on_evaluation_date_is_judged():
    spec = _milestone_target()
    entries = [ob(date(2025, 3, 31), 10)]
    assert milestones_missed(spec, entries, date(2025, 6, 30)) == [
        date(2025, 3, 31),
        date(2025, 6, 30),
    ]
    assert milestones_missed(spec, entries, date(2025, 6, 29)) == [date(2025, 3, 31)]


def test_milestones_missed_without_any_entry_use_baseline():
    spec = _milestone_target()
    # baseline 0 < 20 and < 50
    assert milestones_missed(spec, [], date(2025, 7, 1)) == [date(2025, 3, 31), date(2025, 6, 30)]


def test_at_most_milestone_met_at_or_below_its_value():
    spec = make_spec(
        baseline_value=D(100),
        target_value=D(40),
        direction=Direction.AT_MOST,
        due_date=date(2025, 12, 31),
        milestones=(Point(date(2025, 6, 30), D(70)),),
    )
    d = date(2025, 8, 15)
    assert milestones_missed(spec, [ob(date(2025, 6, 30), 70)], d) == []  # 70 ≤ 70
    assert milestones_missed(spec, [ob(date(2025, 6, 30), 65)], d) == []
    # 71 > 70 → missed; 60 on 07-31 comes after the milestone date and does not rescue it
    late = [ob(date(2025, 6, 30), 71), ob(date(2025, 7, 31), 60)]
    assert milestones_missed(spec, late, d) == [date(2025, 6, 30)]


def test_sum_milestone_uses_cumulative_actual_as_of_milestone_date():
    spec = make_spec(
        baseline_value=D(10),
        aggregation=Aggregation.SUM,
        due_date=date(2025, 12, 31),
        milestones=(Point(date(2025, 6, 30), D(50)),),
    )
    d = date(2025, 9, 1)
    # 10 + 20 + 20 = 50 ≥ 50 → met
    assert milestones_missed(spec, [ob(date(2025, 3, 31), 20), ob(date(2025, 6, 30), 20)], d) == []
    # 10 + 20 + 19 = 49 < 50 → missed; the +100 on 07-31 is after the milestone date
    short = [ob(date(2025, 3, 31), 20), ob(date(2025, 6, 30), 19), ob(date(2025, 7, 31), 100)]
    assert milestones_missed(spec, short, d) == [date(2025, 6, 30)]


# --- DESIGN §7: reporting periods ------------------------------------------------------


def _keys(periods):
    return [p.key for p in periods]


def test_monthly_periods_start_with_the_month_containing_the_baseline_date():
    periods = reporting_periods(Frequency.MONTHLY, date(2025, 12, 15), date(2026, 3, 10))
    # 2025-12 ends 12-31 > 12-15; 2026-03 starts 03-01 ≤ 03-10
    assert _keys(periods) == ["2025-12", "2026-01", "2026-02", "2026-03"]
    assert periods[0] == Period("2025-12", date(2025, 12, 1), date(2025, 12, 31))
    assert periods[2] == Period("2026-02", date(2026, 2, 1), date(2026, 2, 28))


def test_monthly_baseline_on_period_end_starts_with_next_period():
    periods = reporting_periods(Frequency.MONTHLY, date(2025, 12, 31), date(2026, 3, 1))
    # 2025-12 ends on the baseline date, not after it; 2026-03 starts on the due date
    assert _keys(periods) == ["2026-01", "2026-02", "2026-03"]


def test_monthly_february_in_leap_year_ends_on_29th():
    periods = reporting_periods(Frequency.MONTHLY, date(2028, 1, 31), date(2028, 2, 1))
    assert list(periods) == [Period("2028-02", date(2028, 2, 1), date(2028, 2, 29))]


def test_quarterly_periods():
    periods = reporting_periods(Frequency.QUARTERLY, date(2025, 5, 15), date(2026, 4, 1))
    # 2025-Q2 ends 06-30 > 05-15; 2026-Q2 starts 04-01 ≤ 04-01
    assert _keys(periods) == ["2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2"]
    assert periods[0] == Period("2025-Q2", date(2025, 4, 1), date(2025, 6, 30))
    assert periods[3] == Period("2026-Q1", date(2026, 1, 1), date(2026, 3, 31))
    assert periods[2] == Period("2025-Q4", date(2025, 10, 1), date(2025, 12, 31))


def test_quarterly_periods_of_plan_example():
    # baseline 2025-06-30 (a quarter end) → first 2025-Q3; due 2030-12-31 → last 2030-Q4
    periods = reporting_periods(Frequency.QUARTERLY, date(2025, 6, 30), date(2030, 12, 31))
    assert periods[0] == Period("2025-Q3", date(2025, 7, 1), date(2025, 9, 30))
    assert periods[-1] == Period("2030-Q4", date(2030, 10, 1), date(2030, 12, 31))
    assert len(periods) == 22  # 2 quarters of 2025 + 5 years × 4


def test_quarterly_due_date_day_before_quarter_start_excludes_that_quarter():
    periods = reporting_periods(Frequency.QUARTERLY, date(2025, 6, 30), date(2025, 12, 31))
    assert _keys(periods) == ["2025-Q3", "2025-Q4"]


def test_half_yearly_periods():
    periods = reporting_periods(Frequency.HALF_YEARLY, date(2025, 6, 30), date(2027, 3, 31))
    assert _keys(periods) == ["2025-H2", "2026-H1", "2026-H2", "2027-H1"]
    assert periods[1] == Period("2026-H1", date(2026, 1, 1), date(2026, 6, 30))
    assert periods[2] == Period("2026-H2", date(2026, 7, 1), date(2026, 12, 31))


def test_half_yearly_baseline_on_first_day_of_half_and_due_on_its_last_day():
    periods = reporting_periods(Frequency.HALF_YEARLY, date(2025, 7, 1), date(2026, 6, 30))
    # 2025-H2 ends 12-31 > 07-01; 2026-H2 starts 07-01 > 06-30
    assert _keys(periods) == ["2025-H2", "2026-H1"]


def test_yearly_periods():
    periods = reporting_periods(Frequency.YEARLY, date(2025, 12, 31), date(2030, 12, 31))
    assert _keys(periods) == ["2026", "2027", "2028", "2029", "2030"]
    assert periods[0] == Period("2026", date(2026, 1, 1), date(2026, 12, 31))


def test_yearly_periods_baseline_mid_year_due_on_new_year():
    periods = reporting_periods(Frequency.YEARLY, date(2025, 6, 30), date(2030, 1, 1))
    assert _keys(periods) == ["2025", "2026", "2027", "2028", "2029", "2030"]


def test_find_period_returns_the_period_or_none():
    spec = make_spec(
        baseline_date=date(2025, 6, 30),
        due_date=date(2026, 12, 31),
        frequency=Frequency.QUARTERLY,
    )
    assert find_period(spec, "2026-Q1") == Period("2026-Q1", date(2026, 1, 1), date(2026, 3, 31))
    assert find_period(spec, "2025-Q3") == Period("2025-Q3", date(2025, 7, 1), date(2025, 9, 30))
    assert find_period(spec, "2025-Q2") is None  # ends on the baseline date
    assert find_period(spec, "2027-Q1") is None  # after the due date
    assert find_period(spec, "2026-03") is None  # a monthly key for a quarterly target
    assert find_period(spec, "2026-H1") is None
    assert find_period(spec, "2026") is None


def test_find_period_for_monthly_and_yearly_targets():
    monthly = make_spec(
        baseline_date=date(2025, 12, 31), due_date=date(2026, 6, 30), frequency=Frequency.MONTHLY
    )
    assert find_period(monthly, "2026-03") == Period("2026-03", date(2026, 3, 1), date(2026, 3, 31))
    assert find_period(monthly, "2025-12") is None
    assert find_period(monthly, "2026-07") is None
    yearly = make_spec(
        baseline_date=date(2025, 12, 31), due_date=date(2030, 12, 31), frequency=Frequency.YEARLY
    )
    assert find_period(yearly, "2028") == Period("2028", date(2028, 1, 1), date(2028, 12, 31))
    assert find_period(yearly, "2025") is None
    assert find_period(yearly, "2031") is None


# --- rule 6: overdue reporting ---------------------------------------------------------


def _reporting_spec(grace_days=15) -> TargetSpec:
    # quarterly 2026-Q1 … 2026-Q4
    return make_spec(
        baseline_date=date(2025, 12, 31),
        due_date=date(2026, 12, 31),
        frequency=Frequency.QUARTERLY,
        grace_days=grace_days,
    )


def test_period_is_not_overdue_on_the_last_grace_day():
    spec = _reporting_spec()
    # 2026-Q1 ends 03-31; 03-31 + 15 days = 04-15; 04-15 < 04-15 is false
    assert overdue_periods(spec, [], date(2026, 4, 15)) == []


def test_period_is_overdue_the_day_after_grace_ends():
    spec = _reporting_spec()
    # 04-15 < 04-16
    assert overdue_periods(spec, [], date(2026, 4, 16)) == ["2026-Q1"]


def test_reported_period_is_not_overdue():
    spec = _reporting_spec()
    assert overdue_periods(spec, ["2026-Q1"], date(2026, 4, 16)) == []


def test_several_overdue_periods_are_listed():
    spec = _reporting_spec()
    # Q1: 04-15 < 07-20; Q2: 06-30 + 15 = 07-15 < 07-20
    assert overdue_periods(spec, [], date(2026, 7, 20)) == ["2026-Q1", "2026-Q2"]
    assert overdue_periods(spec, ["2026-Q1"], date(2026, 7, 20)) == ["2026-Q2"]


def test_overdue_with_zero_grace_days():
    spec = _reporting_spec(grace_days=0)
    assert overdue_periods(spec, [], date(2026, 3, 31)) == []  # 03-31 < 03-31 is false
    assert overdue_periods(spec, [], date(2026, 4, 1)) == ["2026-Q1"]


def test_no_period_after_due_date_becomes_overdue():
    spec = _reporting_spec()
    # long after the due date only the target's own periods count (no 2027-Q1 …)
    assert overdue_periods(spec, ["2026-Q1", "2026-Q2", "2026-Q3"], date(2027, 12, 31)) == [
        "2026-Q4"
    ]


def test_reporting_state_ok_before_any_period_ends():
    assert reporting_state(_reporting_spec(), [], date(2026, 3, 15)) == Reporting.OK


def test_reporting_state_due_when_ended_unreported_within_grace():
    spec = _reporting_spec()
    assert reporting_state(spec, [], date(2026, 4, 1)) == Reporting.DUE
    assert reporting_state(spec, [], date(2026, 4, 15)) == Reporting.DUE  # last grace day


def test_reporting_state_overdue_after_grace():
    assert reporting_state(_reporting_spec(), [], date(2026, 4, 16)) == Reporting.OVERDUE


def test_reporting_state_ok_when_ended_periods_are_reported():
    assert reporting_state(_reporting_spec(), ["2026-Q1"], date(2026, 4, 16)) == Reporting.OK


def test_reporting_state_overdue_wins_over_due():
    spec = _reporting_spec()
    # on 07-05: Q1 overdue (04-15 < 07-05), Q2 ended 06-30 but within grace (07-15)
    assert reporting_state(spec, [], date(2026, 7, 5)) == Reporting.OVERDUE
    assert reporting_state(spec, ["2026-Q1"], date(2026, 7, 5)) == Reporting.DUE


# --- rule 7: forecast -------------------------------------------------------------------


def test_fewer_than_three_entries_give_no_forecast():
    spec = make_spec(due_date=date(2025, 12, 31))
    f = forecast(spec, [ob(date(2025, 1, 11), 10), ob(date(2025, 1, 21), 20)], date(2025, 6, 1))
    assert f.projected is None
    assert f.reached_on is None
    assert f.never is False
    assert f.label is None


def test_entries_after_evaluation_date_do_not_count_toward_the_three():
    spec = make_spec(due_date=date(2025, 12, 31))
    entries = [ob(date(2025, 1, 11), 10), ob(date(2025, 1, 21), 20), ob(date(2025, 1, 31), 30)]
    f = forecast(spec, entries, date(2025, 1, 30))
    assert f.projected is None
    assert f.label is None


def test_rising_trend_gives_reach_date_and_projected_value():
    spec = make_spec(baseline_date=date(2024, 12, 31), due_date=date(2025, 12, 31))
    entries = [ob(date(2025, 1, 31), 30), ob(date(2025, 1, 11), 10), ob(date(2025, 1, 21), 20)]
    f = forecast(spec, entries, date(2025, 2, 1))
    # x (days from 01-11) = 0, 10, 20; y = 10, 20, 30 → slope 1/day, intercept 10.
    # 100 reached at x = (100 − 10)/1 = 90 → 01-11 + 90 = 2025-04-11
    # (01-11 +20 → 01-31, +28 → 02-28, +31 → 03-31, +11 → 04-11).
    # due 2025-12-31 is x = 364 − 10 = 354 → projected 10 + 354 = 364.
    assert f.never is False
    assert f.reached_on == date(2025, 4, 11)
    assert f.label == "2025-04-11"
    assert f.projected == D(364)


def test_forecast_is_least_squares_not_first_to_last():
    spec = make_spec(baseline_date=date(2024, 12, 31), due_date=date(2025, 12, 31))
    entries = [
        ob(date(2025, 1, 1), 10),
        ob(date(2025, 1, 11), 10),
        ob(date(2025, 1, 21), 30),
        ob(date(2025, 1, 31), 30),
    ]
    f = forecast(spec, entries, date(2025, 2, 1))
    # x = 0, 10, 20, 30 (mean 15); y = 10, 10, 30, 30 (mean 20)
    # Sxy = (−15)(−10) + (−5)(−10) + 5·10 + 15·10 = 400; Sxx = 225 + 25 + 25 + 225 = 500
    # slope 0.8, intercept 20 − 0.8 × 15 = 8.
    # 100 at x = 92/0.8 = 115 → 2025-01-01 + 115 = 2025-04-26 (04-01 is +90)
    # due 2025-12-31: x = 364 → 8 + 0.8 × 364 = 8 + 291.2 = 299.2
    assert f.reached_on == date(2025, 4, 26)
    assert f.projected == D("299.2")


def test_reach_date_is_first_whole_day_on_which_line_meets_target():
    spec = make_spec(
        baseline_date=date(2024, 12, 31), target_value=D(50), due_date=date(2025, 12, 31)
    )
    entries = [
        ob(date(2025, 1, 1), 10),
        ob(date(2025, 1, 11), 10),
        ob(date(2025, 1, 21), 30),
        ob(date(2025, 1, 31), 30),
    ]
    f = forecast(spec, entries, date(2025, 2, 1))
    # same line y = 8 + 0.8x; 50 at x = 42/0.8 = 52.5: day 52 gives 49.6, day 53 gives 50.4
    # → 2025-01-01 + 53 = 2025-02-23 (02-01 is +31)
    assert f.reached_on == date(2025, 2, 23)


def test_forecast_with_quarter_end_period_ends():
    spec = make_spec(
        baseline_date=date(2024, 12, 31), target_value=D(500), due_date=date(2026, 12, 31)
    )
    # quarter ends: x from 2025-03-31 = 0, 91, 183, 275; values on y = x
    entries = [
        ob(date(2025, 3, 31), 0),
        ob(date(2025, 6, 30), 91),
        ob(date(2025, 9, 30), 183),
        ob(date(2025, 12, 31), 275),
    ]
    f = forecast(spec, entries, date(2026, 1, 15))
    # slope 1, intercept 0; 500 at x = 500: 2025-03-31 + 276 = 2026-01-01, + 224 = 2026-08-13
    # (01-01 + 212 = 08-01). due 2026-12-31: x = 275 + 365 = 640 → projected 640
    assert f.reached_on == date(2026, 8, 13)
    assert f.projected == D(640)


def test_flat_trend_never_reaches_target():
    spec = make_spec(baseline_date=date(2024, 12, 31), due_date=date(2025, 12, 31))
    entries = [ob(date(2025, 1, 11), 50), ob(date(2025, 1, 21), 50), ob(date(2025, 1, 31), 50)]
    f = forecast(spec, entries, date(2025, 2, 1))
    assert f.never is True
    assert f.reached_on is None
    assert f.label == "never"
    assert f.projected == D(50)


def test_falling_trend_for_at_least_never_reaches_target():
    spec = make_spec(baseline_date=date(2024, 12, 31), due_date=date(2025, 12, 31))
    entries = [ob(date(2025, 1, 11), 30), ob(date(2025, 1, 21), 20), ob(date(2025, 1, 31), 10)]
    f = forecast(spec, entries, date(2025, 2, 1))
    # slope −1, intercept 30; due x = 354 → 30 − 354 = −324
    assert f.never is True
    assert f.label == "never"
    assert f.projected == D(-324)


def test_only_last_four_entries_count_for_forecast():
    spec = make_spec(baseline_date=date(2024, 12, 31), due_date=date(2025, 12, 31))
    entries = [
        ob(date(2025, 1, 1), 1000),
        ob(date(2025, 1, 11), -500),
        ob(date(2025, 1, 21), 10),
        ob(date(2025, 1, 31), 20),
        ob(date(2025, 2, 10), 30),
        ob(date(2025, 2, 20), 40),
    ]
    f = forecast(spec, entries, date(2025, 3, 1))
    # last four from 01-21: x = 0, 10, 20, 30; y = 10..40 → slope 1, intercept 10
    # 100 at x = 90 → 01-21 + 90 = 2025-04-21 (+10 → 01-31, +28 → 02-28, +31 → 03-31, +21)
    # due 2025-12-31: x = 364 − 20 = 344 → 354
    assert f.reached_on == date(2025, 4, 21)
    assert f.projected == D(354)


def test_forecast_for_sum_uses_cumulative_actuals_including_older_entries():
    spec = make_spec(
        baseline_value=D(10),
        baseline_date=date(2024, 12, 31),
        target_value=D(200),
        due_date=date(2025, 12, 31),
        aggregation=Aggregation.SUM,
    )
    entries = [
        ob(date(2025, 1, 1), 100),
        ob(date(2025, 1, 11), 5),
        ob(date(2025, 1, 21), 5),
        ob(date(2025, 1, 31), 5),
        ob(date(2025, 2, 10), 5),
    ]
    f = forecast(spec, entries, date(2025, 3, 1))
    # cumulative actuals: 110, 115, 120, 125, 130; last four from 01-11: 115 … 130
    # slope 5/10 = 0.5, intercept 115; 200 at x = 85/0.5 = 170 → 01-11 + 170 = 2025-06-30
    # (+20 → 01-31, +28 → 02-28, +31 → 03-31, +30 → 04-30, +31 → 05-31, +30 → 06-30)
    # due x = 354 → 115 + 177 = 292
    assert f.reached_on == date(2025, 6, 30)
    assert f.projected == D(292)


def test_at_most_falling_toward_target_gives_reach_date():
    spec = make_spec(
        baseline_value=D(100),
        baseline_date=date(2024, 12, 31),
        target_value=D(40),
        due_date=date(2025, 12, 31),
        direction=Direction.AT_MOST,
    )
    entries = [ob(date(2025, 1, 1), 90), ob(date(2025, 1, 11), 89), ob(date(2025, 1, 21), 88)]
    f = forecast(spec, entries, date(2025, 2, 1))
    # slope −0.1, intercept 90; 40 at x = −50/−0.1 = 500 → 2025-01-01 + 500:
    # +365 → 2026-01-01, +31 → 02-01, +28 → 03-01, +31 → 04-01, +30 → 05-01, +15 → 2026-05-16
    # due x = 364 → 90 − 36.4 = 53.6
    assert f.never is False
    assert f.reached_on == date(2026, 5, 16)
    assert f.label == "2026-05-16"
    assert f.projected == D("53.6")


def test_at_most_rising_never_reaches_target():
    spec = make_spec(
        baseline_value=D(100),
        baseline_date=date(2024, 12, 31),
        target_value=D(40),
        due_date=date(2025, 12, 31),
        direction=Direction.AT_MOST,
    )
    entries = [ob(date(2025, 1, 1), 88), ob(date(2025, 1, 11), 89), ob(date(2025, 1, 21), 90)]
    f = forecast(spec, entries, date(2025, 2, 1))
    # slope +0.1 (away from 40), intercept 88; due x = 364 → 88 + 36.4 = 124.4
    assert f.never is True
    assert f.label == "never"
    assert f.projected == D("124.4")


def test_forecast_label_property():
    assert Forecast(projected=D(1), reached_on=date(2031, 9, 30), never=False).label == "2031-09-30"
    assert Forecast(projected=D(1), reached_on=None, never=True).label == "never"
    assert NO_FORECAST.label is None


# --- rule 7: a stall turns a linear target lagging ---------------------------------------

# 100-day target (expected = day number); entries 01-21 → 38, 01-31 → 39, 02-10 → 40
STALL = [ob(date(2025, 1, 21), 38), ob(date(2025, 1, 31), 39), ob(date(2025, 2, 10), 40)]


def test_stall_turns_on_track_linear_target_lagging():
    spec = make_spec(**HUNDRED_DAYS)
    j = assess(spec, STALL, [], date(2025, 2, 10))
    # rule 4: d = day 40 → expected 40; actual 40 → ratio 1 → on_track.
    # trend: x from 01-21 = 0, 10, 20; slope 0.1, intercept 38; due 04-11 is x = 80
    # → projected 38 + 8 = 46; projected ratio 46/100 = 0.46 < 0.9 → lagging
    assert j.expected == D(40)
    assert j.ratio == D(1)
    assert j.forecast.projected == D(46)
    # 100 at x = 62/0.1 = 620 → 01-21 + 365 = 2026-01-21, + 255 = 2026-10-03
    assert j.forecast.label == "2026-10-03"
    assert j.status == Status.LAGGING


def test_stall_does_not_change_a_step_target():
    spec = make_spec(trajectory=Trajectory.STEP, **HUNDRED_DAYS)
    j = assess(spec, STALL, [], date(2025, 2, 10))
    # step, no milestones: expected on 02-10 = baseline 0 → ratio 1 → on_track; same
    # projection 46, but rule 7 applies to linear trajectories only
    assert j.expected == D(0)
    assert j.ratio == D(1)
    assert j.forecast.projected == D(46)
    assert j.status == Status.ON_TRACK


def test_stall_turns_at_risk_linear_target_lagging():
    spec = make_spec(**HUNDRED_DAYS)
    entries = [ob(date(2025, 1, 21), 30), ob(date(2025, 1, 31), 31), ob(date(2025, 2, 10), 32)]
    j = assess(spec, entries, [], date(2025, 2, 10))
    # rule 4: 32/40 = 0.8 → at_risk; trend slope 0.1, intercept 30 → projected 30 + 8 = 38
    # → 0.38 < 0.9 → lagging
    assert j.ratio == D("0.8")
    assert j.forecast.projected == D(38)
    assert j.status == Status.LAGGING


def test_healthy_trend_keeps_at_risk_linear_target_at_risk():
    spec = make_spec(**HUNDRED_DAYS)
    entries = [ob(date(2025, 1, 21), 12), ob(date(2025, 1, 31), 22), ob(date(2025, 2, 10), 32)]
    j = assess(spec, entries, [], date(2025, 2, 10))
    # rule 4: 32/40 = 0.8 → at_risk; trend slope 1, intercept 12 → projected 12 + 80 = 92
    # → projected ratio 0.92 ≥ 0.9 → stays at_risk
    assert j.ratio == D("0.8")
    assert j.forecast.projected == D(92)
    assert j.status == Status.AT_RISK


def test_healthy_trend_keeps_on_track():
    spec = make_spec(**HUNDRED_DAYS)
    entries = [ob(date(2025, 1, 21), 50), ob(date(2025, 1, 31), 70), ob(date(2025, 2, 10), 90)]
    # actual 90, expected 40 → ratio 2.25 → on_track (not achieved: 90 < 100)
    # trend: slope 2, intercept 50 → projected 50 + 2 × 80 = 210 → no stall
    j = assess(spec, entries, [], date(2025, 2, 10))
    assert j.ratio == D("2.25")
    assert j.forecast.projected == D(210)
    assert j.status == Status.ON_TRACK


def test_projected_ratio_exactly_at_tolerance_keeps_on_track():
    spec = make_spec(**HUNDRED_DAYS)
    entries = [ob(date(2025, 1, 21), 82), ob(date(2025, 1, 31), 83), ob(date(2025, 2, 10), 84)]
    # rule 4: 84/40 = 2.1 → on_track
    # slope 0.1, intercept 82 → projected 82 + 0.1 × 80 = 90 → 90/100 = 0.9, not < 0.9
    j = assess(spec, entries, [], date(2025, 2, 10))
    assert j.forecast.projected == D(90)
    assert j.status == Status.ON_TRACK


def test_projected_ratio_just_below_tolerance_turns_lagging():
    spec = make_spec(**HUNDRED_DAYS)
    entries = [
        ob(date(2025, 1, 21), "81.9"),
        ob(date(2025, 1, 31), "82.9"),
        ob(date(2025, 2, 10), "83.9"),
    ]
    # slope 0.1, intercept 81.9 → projected 89.9 → 0.899 < 0.9 → lagging
    j = assess(spec, entries, [], date(2025, 2, 10))
    assert j.forecast.projected == D("89.9")
    assert j.status == Status.LAGGING


def test_stall_turns_at_most_linear_target_lagging():
    spec = make_spec(
        baseline_value=D(100), target_value=D(40), direction=Direction.AT_MOST, **HUNDRED_DAYS
    )
    entries = [ob(date(2025, 1, 21), 82), ob(date(2025, 1, 31), 81), ob(date(2025, 2, 10), 80)]
    j = assess(spec, entries, [], date(2025, 2, 10))
    # expected day 40: 100 − 60 × 40/100 = 76; ratio (100 − 80)/(100 − 76) = 20/24 ≈ 0.83
    # → at_risk by rule 4; trend slope −0.1, intercept 82 → projected 82 − 8 = 74
    # projected ratio (100 − 74)/(100 − 40) = 26/60 ≈ 0.43 < 0.9 → lagging
    assert j.expected == D(76)
    assert j.forecast.projected == D(74)
    assert j.status == Status.LAGGING


def test_stall_does_not_turn_missed_or_achieved_into_lagging():
    spec = make_spec(**HUNDRED_DAYS)
    achieved = [ob(date(2025, 1, 21), 100), ob(date(2025, 1, 31), 100), ob(date(2025, 2, 10), 100)]
    assert assess(spec, achieved, [], date(2025, 2, 10)).status == Status.ACHIEVED
    missed = [ob(date(2025, 3, 1), 50), ob(date(2025, 3, 11), 50), ob(date(2025, 3, 21), 50)]
    assert assess(spec, missed, [], date(2025, 5, 1)).status == Status.MISSED


# --- assess(): one full example per status ------------------------------------------------
# HUNDRED_DAYS target: quarterly periods 2025-Q1 (ends 03-31) and 2025-Q2 (starts 04-01 ≤
# due 04-11); grace 15 days; tolerance 0.10. d = 2025-02-20 is day 50 → expected 50.


def test_assess_on_track():
    spec = make_spec(**HUNDRED_DAYS)
    j = assess(spec, [ob(date(2025, 1, 31), 30), ob(date(2025, 2, 10), 46)], [], date(2025, 2, 20))
    assert j.evaluated_on == date(2025, 2, 20)
    assert j.actual == D(46)
    assert j.expected == D(50)
    assert j.ratio == D("0.92")  # 46/50
    assert j.status == Status.ON_TRACK
    assert j.reporting == Reporting.OK  # no period has ended
    assert j.overdue_periods == []
    assert j.milestones_missed == []
    assert j.forecast == NO_FORECAST  # two entries only


def test_assess_at_risk():
    spec = make_spec(**HUNDRED_DAYS)
    j = assess(spec, [ob(date(2025, 1, 31), 30), ob(date(2025, 2, 10), 42)], [], date(2025, 2, 20))
    assert j.actual == D(42)
    assert j.expected == D(50)
    assert j.ratio == D("0.84")  # 42/50, between 0.8 and 0.9
    assert j.status == Status.AT_RISK
    assert j.forecast.label is None


def test_assess_lagging():
    spec = make_spec(**HUNDRED_DAYS)
    j = assess(spec, [ob(date(2025, 2, 10), 30)], [], date(2025, 2, 20))
    assert j.actual == D(30)
    assert j.expected == D(50)
    assert j.ratio == D("0.6")  # 30/50 < 0.8
    assert j.status == Status.LAGGING


def test_assess_no_data():
    spec = make_spec(**HUNDRED_DAYS)
    # an entry ending after d does not count
    j = assess(spec, [ob(date(2025, 3, 31), 60)], [], date(2025, 2, 20))
    assert j.actual == D(0)  # the baseline
    assert j.expected == D(50)
    assert j.ratio is None
    assert j.status == Status.NO_DATA
    assert j.reporting == Reporting.OK
    assert j.forecast == NO_FORECAST


def test_assess_achieved_with_report_due():
    spec = make_spec(**HUNDRED_DAYS)
    j = assess(spec, [ob(date(2025, 3, 31), 108)], [], date(2025, 4, 1))
    # d = day 90 → expected 90; 108 ≥ 100 → achieved; ratio 108/90 = 1.2
    # 2025-Q1 ended 03-31 < 04-01, unreported, within grace (04-15) → due
    assert j.actual == D(108)
    assert j.expected == D(90)
    assert j.ratio == D("1.2")
    assert j.status == Status.ACHIEVED
    assert j.reporting == Reporting.DUE
    assert j.overdue_periods == []


def test_assess_missed_with_overdue_period():
    spec = make_spec(**HUNDRED_DAYS)
    j = assess(spec, [ob(date(2025, 3, 31), 80)], [], date(2025, 5, 1))
    # after the due date: expected clamped to 100; 80 < 100 → missed; ratio 80/100
    # 2025-Q1: 03-31 + 15 = 04-15 < 05-01, not reported → overdue; Q2 not ended
    assert j.actual == D(80)
    assert j.expected == D(100)
    assert j.ratio == D("0.8")
    assert j.status == Status.MISSED
    assert j.reporting == Reporting.OVERDUE
    assert j.overdue_periods == ["2025-Q1"]
    j = assess(spec, [ob(date(2025, 3, 31), 80)], ["2025-Q1"], date(2025, 5, 1))
    assert j.reporting == Reporting.OK
    assert j.overdue_periods == []


def test_assess_missed_without_data_past_due():
    spec = make_spec(**HUNDRED_DAYS)
    j = assess(spec, [], [], date(2025, 4, 12))
    assert j.actual == D(0)
    assert j.expected == D(100)
    assert j.ratio is None
    assert j.status == Status.MISSED


def test_assess_on_track_with_milestone_missed_and_forecast():
    # points (01-01, 0), (01-21, 30), (04-11, 100): 01-21 → 04-11 is 80 days
    spec = make_spec(milestones=(Point(date(2025, 1, 21), D(30)),), **HUNDRED_DAYS)
    entries = [ob(date(2025, 1, 11), 18), ob(date(2025, 1, 21), 28), ob(date(2025, 1, 31), 35)]
    j = assess(spec, entries, [], date(2025, 1, 31))
    # expected 01-31: 30 + 70 × 10/80 = 38.75; ratio 35/38.75 = 0.9032… → on_track
    # milestone 01-21: actual as of 01-21 = 28 < 30 → missed
    # trend: x = 0, 10, 20; y = 18, 28, 35 → mean x 10, mean y 27;
    # Sxy = (−10)(−9) + 0 + 10 × 8 = 170; Sxx = 200 → slope 0.85, intercept 27 − 8.5 = 18.5
    # due 04-11 is x = 90 → projected 18.5 + 76.5 = 95 → 0.95 ≥ 0.9, no stall
    # 100 at x = 81.5/0.85 = 95.88… → first whole day 96 → 01-11 + 96 = 2025-04-17
    assert j.evaluated_on == date(2025, 1, 31)
    assert j.actual == D(35)
    assert j.expected == D("38.75")
    assert D("0.903") < j.ratio < D("0.904")
    assert j.status == Status.ON_TRACK
    assert j.reporting == Reporting.OK
    assert j.overdue_periods == []
    assert j.milestones_missed == [date(2025, 1, 21)]
    assert j.forecast.projected == D(95)
    assert j.forecast.reached_on == date(2025, 4, 17)
    assert j.forecast.label == "2025-04-17"


def test_reach_date_is_exact_when_slope_is_a_repeating_decimal():
    spec = make_spec(baseline_date=date(2024, 12, 31), due_date=date(2025, 12, 31))
    entries = [ob(date(2025, 1, 1), 0), ob(date(2025, 1, 31), 10), ob(date(2025, 3, 2), 20)]
    # x = 0, 30, 60 (Jan 31 days → 01-31 is +30; +29 → 03-01 is +59; 03-02 is +60)
    # y = 0, 10, 20 → slope 1/3 per day, intercept 0; 100 is met exactly on day 300:
    # 2025-01-01 + 300 = 2025-10-28 (10-01 is +273, +27)
    # due 2025-12-31: x = 364 → projected 364/3 = 121.33…
    f = forecast(spec, entries, date(2025, 3, 31))
    assert f.reached_on == date(2025, 10, 28)
    assert D("121.333") < f.projected < D("121.334")


def test_reach_date_is_exact_for_thirty_day_spacing_with_slope_one_third():
    spec = make_spec(
        baseline_date=date(2024, 12, 31), target_value=D(33), due_date=date(2025, 12, 31)
    )
    # x = 0, 30, 60, 90 (01-01, 01-31, 03-02, 04-01); y = 0, 10, 20, 30
    # mean x 45, mean y 15; Sxy = 675 + 75 + 75 + 675 = 1500; Sxx = 2025 + 225 + 225 + 2025
    # = 4500 → slope 1/3, intercept 15 − 15 = 0. 33 is met exactly at x = 99:
    # 2025-01-01 + 99 = 2025-04-10 (04-01 is +90). Day 98 gives 32.67 < 33.
    entries = [
        ob(date(2025, 1, 1), 0),
        ob(date(2025, 1, 31), 10),
        ob(date(2025, 3, 2), 20),
        ob(date(2025, 4, 1), 30),
    ]
    f = forecast(spec, entries, date(2025, 4, 1))
    assert f.reached_on == date(2025, 4, 10)


def test_projected_ratio_exactly_at_tolerance_with_slope_one_third_keeps_on_track():
    spec = make_spec(**HUNDRED_DAYS)
    entries = [ob(date(2025, 1, 11), 60), ob(date(2025, 1, 14), 61), ob(date(2025, 1, 17), 62)]
    # rule 4: d = 01-17 is day 16 → expected 16, actual 62 → on_track.
    # trend: x = 0, 3, 6 → slope 1/3, intercept 60; due 04-11 is x = 90 → projected 90
    # → projected ratio exactly 0.9, not below → on_track.  100 at x = 120 → 2025-05-11.
    j = assess(spec, entries, [], date(2025, 1, 17))
    assert j.status == Status.ON_TRACK
    assert D("89.999999") < j.forecast.projected < D("90.000001")
    assert j.forecast.reached_on == date(2025, 5, 11)


def test_interpolated_ratio_of_exactly_0_9_is_on_track():
    # Baseline 0 on 2025-01-01, target 7 on 2025-02-27 (57 days); on 2025-02-08 (38 days)
    # expected = 7·38/57 = 14/3 = 4.666…, a repeating decimal. Actual 4.2:
    # ratio = 4.2 / (14/3) = 12.6/14 = 0.9 exactly → on_track (rounding 14/3 first gave
    # 0.8999… and at_risk).
    spec = TargetSpec(
        baseline_value=D(0),
        baseline_date=date(2025, 1, 1),
        target_value=D(7),
        due_date=date(2025, 2, 27),
        frequency=Frequency.MONTHLY,
    )
    judgement = assess(spec, [ob(date(2025, 2, 8), "4.2")], [], date(2025, 2, 8))
    assert judgement.status == Status.ON_TRACK
    assert judgement.ratio == D("0.9")
    assert round(judgement.expected, 6) == D("4.666667")


def test_interpolated_ratio_just_below_0_8_is_lagging():
    # Same trajectory; actual 3.7333 → ratio = 3.7333 / (14/3) = 11.1999/14 = 0.79999… → lagging
    # (0.8 exactly would be 3.7333…: the actual 3.7334 gives 0.800014… → at_risk).
    spec = TargetSpec(
        baseline_value=D(0),
        baseline_date=date(2025, 1, 1),
        target_value=D(7),
        due_date=date(2025, 2, 27),
        frequency=Frequency.MONTHLY,
    )
    on = date(2025, 2, 8)
    assert assess(spec, [ob(on, "3.7333")], [], on).status == Status.LAGGING
    assert assess(spec, [ob(on, "3.7334")], [], on).status == Status.AT_RISK
