"""Unit tests for the progress rules (DESIGN §3 and the reporting periods of §7).

Pure functions only: no Django, no database. Every expected value below is worked
out by hand from DESIGN.md; the arithmetic is in the comment next to it.
"""

from datetime import date
from decimal import Decimal
from fractions import Fraction

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
    Reason,
    Reporting,
    Status,
    TargetSpec,
    Trajectory,
    Transition,
    actual_at,
    add_days,
    assess,
    clamp_percent,
    expected_at,
    find_period,
    forecast,
    is_problem,
    judge_status,
    milestones_missed,
    off_pace,
    overdue_periods,
    period_count,
    progress_ratio,
    reminder_due,
    report_deadline,
    reporting_periods,
    reporting_state,
    share_of_way,
    transition,
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
    # 100-day target (see HUNDRED_DAYS): the one entry ends 02-10 = day 40, so as_of is
    # 02-10 and the ratio is taken against expected(as_of) = 40, not against
    # expected(d) = 50 on d = 2025-02-20 (day 50). One entry → no forecast, no pace rule.
    spec = make_spec(**HUNDRED_DAYS)
    d = date(2025, 2, 20)
    e = date(2025, 2, 10)
    j = assess(spec, [ob(e, 36)], [], d)
    assert j.as_of == e
    assert j.expected == D(40)
    assert j.expected_now == D(50)
    assert j.ratio == D("0.9")  # 36/40
    assert j.status == Status.ON_TRACK  # 0.9 ≥ 1 − 0.1
    assert j.reason == Reason.RATIO
    assert assess(spec, [ob(e, "35.99")], [], d).status == Status.AT_RISK  # 35.99/40 = 0.89975
    assert assess(spec, [ob(e, 32)], [], d).status == Status.AT_RISK  # 32/40 = 0.8 ≥ 1 − 0.2
    assert assess(spec, [ob(e, "31.99")], [], d).status == Status.LAGGING  # 0.79975 < 0.8


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


def test_milestone_judged_by_actual_as_of_end_of_its_period_later_entry_does_not_rescue():
    spec = _milestone_target()
    entries = [ob(date(2025, 3, 31), 25), ob(date(2025, 6, 30), 40), ob(date(2025, 9, 30), 60)]
    # Quarterly: the milestones sit on the last days of 2025-Q1 and 2025-Q2, whose own entries
    # have spoken. 03-31: actual as of the end of Q1 = 25 ≥ 20 → met.  06-30: as of the end
    # of Q2 = 40 < 50 → missed, although 60 ≥ 50 arrives for Q3 (09-30).
    assert milestones_missed(spec, entries, date(2025, 10, 15)) == [date(2025, 6, 30)]


def test_milestone_met_by_entry_ending_before_the_milestone_date():
    spec = _milestone_target()
    entries = [ob(date(2025, 2, 28), 55)]
    # grace 0: on 10-15, Q1 (03-31 < 10-15) and Q2 (06-30 < 10-15) are past their deadlines,
    # so both milestones are judged; as of the end of Q1 and of Q2 the actual is 55 ≥ 20 and
    # ≥ 50 → nothing missed
    assert milestones_missed(spec, entries, date(2025, 10, 15)) == []


def test_milestones_after_evaluation_date_are_not_reported():
    spec = _milestone_target()
    entries = [ob(date(2025, 3, 31), 10)]
    # 03-31 is judged by Q1's own entry and missed (10 < 20); 06-30 is after d
    assert milestones_missed(spec, entries, date(2025, 5, 1)) == [date(2025, 3, 31)]


def test_milestone_on_evaluation_date_is_judged():
    spec = _milestone_target()
    # Q2's entry ends on the milestone date 06-30 = d: it counts (period ended on or before d),
    # so the period holding the milestone has spoken: 40 < 50 → missed on 06-30 itself.
    entries = [ob(date(2025, 3, 31), 10), ob(date(2025, 6, 30), 40)]
    assert milestones_missed(spec, entries, date(2025, 6, 30)) == [
        date(2025, 3, 31),
        date(2025, 6, 30),
    ]
    # the day before, 06-30 is still ahead (m > d) and the Q2 entry does not count yet
    assert milestones_missed(spec, entries, date(2025, 6, 29)) == [date(2025, 3, 31)]


def test_milestone_on_evaluation_date_without_its_entry_waits_for_the_deadline():
    spec = _milestone_target()  # grace 0
    entries = [ob(date(2025, 3, 31), 10)]
    # on 06-30 no entry ends on or after 06-30, and Q2's deadline 06-30 + 0 = 06-30 is not
    # < 06-30 → Q2 has not spoken, 06-30 is not judged yet
    assert milestones_missed(spec, entries, date(2025, 6, 30)) == [date(2025, 3, 31)]
    # on 07-01 the deadline has passed (06-30 < 07-01): judged with the actual as of the end of
    # Q2 = 10 (the Q1 entry) < 50 → missed
    assert milestones_missed(spec, entries, date(2025, 7, 1)) == [
        date(2025, 3, 31),
        date(2025, 6, 30),
    ]


def test_milestones_missed_without_any_entry_use_baseline():
    spec = _milestone_target()
    # grace 0: on 07-01 both Q1 (03-31 < 07-01) and Q2 (06-30 < 07-01) are past their
    # deadlines, so both milestones are judged; no entry → the baseline 0 < 20 and < 50
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
    # 71 > 70 → missed; 60 on 07-31 comes after the end of Q2 (the period holding the
    # milestone) and does not rescue it
    late = [ob(date(2025, 6, 30), 71), ob(date(2025, 7, 31), 60)]
    assert milestones_missed(spec, late, d) == [date(2025, 6, 30)]


def test_sum_milestone_uses_cumulative_actual_as_of_end_of_its_period():
    spec = make_spec(
        baseline_value=D(10),
        aggregation=Aggregation.SUM,
        due_date=date(2025, 12, 31),
        milestones=(Point(date(2025, 6, 30), D(50)),),
    )
    d = date(2025, 9, 1)
    # actual as of the end of Q2 (06-30, which holds the milestone): 10 + 20 + 20 = 50 ≥ 50 → met
    assert milestones_missed(spec, [ob(date(2025, 3, 31), 20), ob(date(2025, 6, 30), 20)], d) == []
    # 10 + 20 + 19 = 49 < 50 → missed; the +100 on 07-31 is after the end of Q2
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
    # rule 4: as_of = 02-10 = d = day 40 → expected(as_of) 40; actual 40 → ratio 1 → on_track.
    # trend: x from 01-21 = 0, 10, 20; slope 0.1, intercept 38; due 04-11 is x = 80
    # → projected 38 + 8 = 46; projected ratio 46/100 = 0.46 < 0.9 → lagging (rule 7: pace)
    assert j.as_of == date(2025, 2, 10)
    assert j.expected == D(40)
    assert j.ratio == D(1)
    assert j.forecast.projected == D(46)
    # 100 at x = 62/0.1 = 620 → 01-21 + 365 = 2026-01-21, + 255 = 2026-10-03
    assert j.forecast.label == "2026-10-03"
    assert j.status == Status.LAGGING
    assert j.reason == Reason.PACE


def test_stall_does_not_change_a_step_target():
    spec = make_spec(trajectory=Trajectory.STEP, **HUNDRED_DAYS)
    j = assess(spec, STALL, [], date(2025, 2, 10))
    # step, no milestones: expected(as_of 02-10) = baseline 0 → ratio 1 (rule 3) → on_track;
    # same projection 46, but rule 7 applies to linear trajectories only
    assert j.expected == D(0)
    assert j.ratio == D(1)
    assert j.forecast.projected == D(46)
    assert j.status == Status.ON_TRACK
    assert j.reason == Reason.RATIO


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
# due 04-11); grace 15 days; tolerance 0.10. d = 2025-02-20 is day 50 → expected_now 50;
# the latest entry ends 2025-02-10 (day 40), so as_of = 02-10 and expected(as_of) = 40 is what
# the actual is measured against (version 2; version 1 used 50).


def test_assess_on_track():
    spec = make_spec(**HUNDRED_DAYS)
    j = assess(spec, [ob(date(2025, 1, 31), 30), ob(date(2025, 2, 10), 37)], [], date(2025, 2, 20))
    assert j.evaluated_on == date(2025, 2, 20)
    assert j.actual == D(37)
    assert j.as_of == date(2025, 2, 10)
    assert j.expected == D(40)
    assert j.expected_now == D(50)
    assert j.ratio == D("0.925")  # 37/40 ≥ 0.9 (against expected_now: 37/50 = 0.74)
    assert j.status == Status.ON_TRACK
    assert j.reason == Reason.RATIO
    assert j.reporting == Reporting.OK  # no period has ended
    assert j.overdue_periods == []
    assert j.milestones_missed == []
    assert j.forecast == NO_FORECAST  # two entries only
    assert j.share == D("0.37")  # 37 of the way 0 → 100


def test_assess_at_risk():
    spec = make_spec(**HUNDRED_DAYS)
    j = assess(spec, [ob(date(2025, 1, 31), 30), ob(date(2025, 2, 10), 34)], [], date(2025, 2, 20))
    assert j.actual == D(34)
    assert j.as_of == date(2025, 2, 10)
    assert j.expected == D(40)
    assert j.expected_now == D(50)
    assert j.ratio == D("0.85")  # 34/40, between 0.8 and 0.9
    assert j.status == Status.AT_RISK
    assert j.reason == Reason.RATIO
    assert j.forecast.label is None


def test_assess_lagging():
    spec = make_spec(**HUNDRED_DAYS)
    j = assess(spec, [ob(date(2025, 2, 10), 30)], [], date(2025, 2, 20))
    assert j.actual == D(30)
    assert j.as_of == date(2025, 2, 10)
    assert j.expected == D(40)
    assert j.expected_now == D(50)
    assert j.ratio == D("0.75")  # 30/40 < 0.8
    assert j.status == Status.LAGGING
    assert j.reason == Reason.RATIO


def test_assess_no_data():
    spec = make_spec(**HUNDRED_DAYS)
    # an entry ending after d does not count
    j = assess(spec, [ob(date(2025, 3, 31), 60)], [], date(2025, 2, 20))
    assert j.actual == D(0)  # the baseline
    assert j.as_of is None
    assert j.expected == D(50)  # no approved entry: expected at d (day 50)
    assert j.expected_now == D(50)
    assert j.ratio is None
    assert j.status == Status.NO_DATA
    assert j.reason == Reason.NO_DATA
    assert j.reporting == Reporting.OK
    assert j.forecast == NO_FORECAST


def test_assess_achieved_with_report_due():
    spec = make_spec(**HUNDRED_DAYS)
    j = assess(spec, [ob(date(2025, 3, 31), "106.8")], [], date(2025, 4, 1))
    # as_of 03-31 = day 89 (Jan 31 + Feb 28 + 30) → expected 89; d 04-01 = day 90
    # 106.8 ≥ 100 with an approved entry → achieved; ratio 106.8/89 = 1.2
    # 2025-Q1 ended 03-31 < 04-01, unreported, within grace (04-15) → due
    assert j.actual == D("106.8")
    assert j.as_of == date(2025, 3, 31)
    assert j.expected == D(89)
    assert j.expected_now == D(90)
    assert j.ratio == D("1.2")
    assert j.status == Status.ACHIEVED
    assert j.reason == Reason.ACHIEVED
    assert j.reporting == Reporting.DUE
    assert j.overdue_periods == []


def test_assess_missed_with_overdue_period():
    spec = make_spec(**HUNDRED_DAYS)
    j = assess(spec, [ob(date(2025, 3, 31), 89)], [], date(2025, 5, 1))
    # as_of 03-31 = day 89 → expected(as_of) 89 → ratio 89/89 = 1: on plan when it spoke,
    # but d = 05-01 is after the due date 04-11 and 89 < 100 → missed (rule 4, before the
    # ratio); expected_now is clamped to the target 100.
    # 2025-Q1: 03-31 + 15 = 04-15 < 05-01, not reported → overdue; Q2 (ends 06-30) not ended
    assert j.actual == D(89)
    assert j.as_of == date(2025, 3, 31)
    assert j.expected == D(89)
    assert j.expected_now == D(100)
    assert j.ratio == D(1)
    assert j.status == Status.MISSED
    assert j.reason == Reason.MISSED
    assert j.reporting == Reporting.OVERDUE
    assert j.overdue_periods == ["2025-Q1"]
    j = assess(spec, [ob(date(2025, 3, 31), 89)], ["2025-Q1"], date(2025, 5, 1))
    assert j.reporting == Reporting.OK
    assert j.overdue_periods == []


def test_assess_missed_without_data_past_due():
    spec = make_spec(**HUNDRED_DAYS)
    j = assess(spec, [], [], date(2025, 4, 12))
    assert j.actual == D(0)
    assert j.as_of is None
    assert j.expected == D(100)
    assert j.ratio is None
    assert j.status == Status.MISSED
    assert j.reason == Reason.MISSED


def test_assess_on_track_with_milestone_missed_and_forecast():
    # points (01-01, 0), (01-31, 36), (04-11, 100): 01-31 is day 30, 01-31 → 04-11 is 70 days
    spec = make_spec(milestones=(Point(date(2025, 1, 31), D(36)),), **HUNDRED_DAYS)
    entries = [ob(date(2025, 1, 11), 18), ob(date(2025, 1, 21), 28), ob(date(2025, 1, 31), 35)]
    j = assess(spec, entries, [], date(2025, 1, 31))
    # as_of 01-31 = d: expected(as_of) = the milestone 36; ratio 35/36 = 0.9722… → on_track
    # milestone 01-31 lies in 2025-Q1; the entry ending 01-31 (on or after the milestone,
    # on or before d) means Q1 has spoken; actual as of the end of Q1 over the entries
    # counted at d = 35 < 36 → missed
    # trend: x = 0, 10, 20; y = 18, 28, 35 → mean x 10, mean y 27;
    # Sxy = (−10)(−9) + 0 + 10 × 8 = 170; Sxx = 200 → slope 0.85, intercept 27 − 8.5 = 18.5
    # due 04-11 is x = 90 → projected 18.5 + 76.5 = 95 → 0.95 ≥ 0.9, no stall
    # 100 at x = 81.5/0.85 = 95.88… → first whole day 96 → 01-11 + 96 = 2025-04-17
    assert j.evaluated_on == date(2025, 1, 31)
    assert j.actual == D(35)
    assert j.as_of == date(2025, 1, 31)
    assert j.expected == D(36)
    assert j.expected_now == D(36)
    assert D("0.972") < j.ratio < D("0.973")
    assert j.status == Status.ON_TRACK
    assert j.reason == Reason.RATIO
    assert j.reporting == Reporting.OK
    assert j.overdue_periods == []
    assert j.milestones_missed == [date(2025, 1, 31)]
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
    # rule 4: as_of = d = 01-17 is day 16 → expected(as_of) 16, actual 62 → on_track.
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


# =========================================================================================
# Version 2 of DESIGN §3, rule by rule
# =========================================================================================

# A four-year quarterly plan whose linear expectation is the day count: baseline 0 on
# 2025-12-31, target 1461 on 2029-12-31 (365 + 365 + 366 + 365 = 1461 days), grace 30 days.
# So expected(t) = days since 2025-12-31: 2026-03-31 → 90 (31 + 28 + 31), 2026-05-15 → 135
# (90 + 30 + 15), 2026-06-30 → 181 (90 + 30 + 31 + 30), 2026-07-20 → 201, 2026-07-31 → 212.
FOUR_YEARS = {
    "baseline_date": date(2025, 12, 31),
    "due_date": date(2029, 12, 31),
    "target_value": D(1461),
    "grace_days": 30,
}


# --- rule 3 (v2): the ratio is taken at the as-of date -------------------------------------


def test_linear_target_on_plan_at_its_last_report_stays_on_track_weeks_later():
    spec = make_spec(**FOUR_YEARS)
    entries = [ob(date(2026, 3, 31), 90)]  # exactly on plan for 2026-Q1
    j = assess(spec, entries, ["2026-Q1"], date(2026, 5, 15))
    # as_of 03-31 → expected(as_of) 90 → ratio 90/90 = 1; expected_now has moved on to 135
    # (version 1: 90/135 = 0.67 → lagging)
    assert j.as_of == date(2026, 3, 31)
    assert j.expected == D(90)
    assert j.expected_now == D(135)
    assert j.ratio == D(1)
    assert j.status == Status.ON_TRACK
    assert j.reason == Reason.RATIO
    assert j.reporting == Reporting.OK
    # at the end of Q2 (day 181) the same report is still judged against 90
    j = assess(spec, entries, ["2026-Q1"], date(2026, 6, 30))
    assert (j.expected, j.expected_now, j.ratio, j.status) == (
        D(90),
        D(181),
        D(1),
        Status.ON_TRACK,
    )


def test_missing_report_is_overdue_not_lagging():
    spec = make_spec(**FOUR_YEARS)
    entries = [ob(date(2026, 3, 31), 90)]
    # 07-20 (day 201): Q2 ended 06-30 unreported, deadline 06-30 + 30 = 07-30 → due
    j = assess(spec, entries, ["2026-Q1"], date(2026, 7, 20))
    assert j.reporting == Reporting.DUE
    assert j.status == Status.ON_TRACK  # 90/90
    # 07-31 (day 212): 07-30 < 07-31 → Q2 overdue; still judged on the Q1 report → on_track
    j = assess(spec, entries, ["2026-Q1"], date(2026, 7, 31))
    assert j.expected_now == D(212)
    assert j.reporting == Reporting.OVERDUE
    assert j.overdue_periods == ["2026-Q2"]
    assert j.ratio == D(1)
    assert j.status == Status.ON_TRACK


def test_at_most_target_on_plan_at_its_last_report_stays_on_track():
    # 1461 → 0 over the four years: expected(t) = 1461 − days
    spec = make_spec(
        **{**FOUR_YEARS, "baseline_value": D(1461), "target_value": D(0)},
        direction=Direction.AT_MOST,
    )
    j = assess(spec, [ob(date(2026, 3, 31), 1371)], ["2026-Q1"], date(2026, 5, 15))
    # expected(03-31) = 1461 − 90 = 1371; ratio (1461 − 1371)/(1461 − 1371) = 1
    # expected_now = 1461 − 135 = 1326
    assert j.expected == D(1371)
    assert j.expected_now == D(1326)
    assert j.ratio == D(1)
    assert j.status == Status.ON_TRACK


def test_later_report_short_of_plan_at_its_own_date_lowers_the_ratio():
    spec = make_spec(**FOUR_YEARS)
    entries = [ob(date(2026, 3, 31), 90), ob(date(2026, 6, 30), 150)]
    # as_of 06-30 → expected 181; 150/181 = 0.8287… → at_risk
    j = assess(spec, entries, ["2026-Q1", "2026-Q2"], date(2026, 7, 20))
    assert j.as_of == date(2026, 6, 30)
    assert j.expected == D(181)
    assert D("0.828") < j.ratio < D("0.829")
    assert j.status == Status.AT_RISK


# --- rule 3: ratio 1 when expected(as_of) is the baseline --------------------------------

# A count-like plan: 0 parks on 2025-12-31, 1 by 2027-12-31, 2 by 2029-12-31, step.
PARKS = {
    **FOUR_YEARS,
    "target_value": D(2),
    "trajectory": Trajectory.STEP,
    "milestones": (Point(date(2027, 12, 31), D(1)),),
}


def test_step_target_before_its_first_step_has_ratio_one():
    spec = make_spec(**PARKS)
    entries = [ob(date(2026, 3, 31), 0), ob(date(2027, 6, 30), 0), ob(date(2027, 9, 30), 0)]
    j = assess(spec, entries, [], date(2028, 1, 10))
    # as_of 2027-09-30: expected(as_of) = 0 = baseline → ratio 1 → on_track, although the
    # plan expects 1 park now (2028-01-10 ≥ 2027-12-31); the Q4 report is not in yet
    assert j.expected == D(0)
    assert j.expected_now == D(1)
    assert j.ratio == D(1)
    assert j.status == Status.ON_TRACK
    assert j.reason == Reason.RATIO
    # when 2027-Q4 reports 0, expected(as_of 2027-12-31) = 1: ratio (0 − 0)/(1 − 0) = 0
    j = assess(spec, [*entries, ob(date(2027, 12, 31), 0)], [], date(2028, 1, 20))
    assert j.expected == D(1)
    assert j.ratio == D(0)
    assert j.status == Status.LAGGING


def test_ratio_is_one_whatever_the_actual_when_expected_as_of_is_the_baseline():
    # at_most step 5 → 3 (2027-12-31) → 1: as of 2026-06-30 the plan still expects 5; an
    # actual of 6 (the wrong way) still gives ratio 1 by rule 3 (the difference is divided
    # by nothing); the target is not achieved (6 > 1)
    spec = make_spec(
        **{
            **PARKS,
            "baseline_value": D(5),
            "target_value": D(1),
            "milestones": (Point(date(2027, 12, 31), D(3)),),
        },
        direction=Direction.AT_MOST,
    )
    j = assess(spec, [ob(date(2026, 6, 30), 6)], [], date(2026, 7, 10))
    assert j.expected == D(5)
    assert j.ratio == D(1)
    assert j.status == Status.ON_TRACK


# --- rule 4 (v2): achieved needs an approved entry ----------------------------------------


def test_baseline_already_meeting_target_without_entry_is_no_data():
    # baseline 120 ≥ target 100 (at_least), but nothing has been reported
    spec = make_spec(
        baseline_value=D(120), baseline_date=date(2025, 12, 31), due_date=date(2026, 12, 31)
    )
    j = assess(spec, [], [], date(2026, 5, 1))
    assert j.actual == D(120)
    assert j.as_of is None
    assert j.ratio is None
    assert j.status == Status.NO_DATA
    assert j.reason == Reason.NO_DATA


def test_baseline_already_meeting_target_without_entry_after_due_is_missed():
    spec = make_spec(
        baseline_value=D(120), baseline_date=date(2025, 12, 31), due_date=date(2026, 12, 31)
    )
    j = assess(spec, [], [], date(2027, 1, 1))
    assert j.actual == D(120)
    assert j.status == Status.MISSED
    assert j.reason == Reason.MISSED


def test_baseline_meeting_target_is_achieved_once_an_entry_says_so():
    spec = make_spec(
        baseline_value=D(120), baseline_date=date(2025, 12, 31), due_date=date(2026, 12, 31)
    )
    j = assess(spec, [ob(date(2026, 3, 31), 120)], [], date(2026, 5, 1))
    # 120 ≥ 100 → achieved (first match). The ratio is still computed: expected(03-31) =
    # 120 − 20 × 90/365; ratio (120 − 120)/(expected − 120) = 0
    assert j.status == Status.ACHIEVED
    assert j.reason == Reason.ACHIEVED
    assert j.ratio == D(0)


def test_at_most_baseline_already_below_target_without_entry_is_no_data():
    spec = make_spec(baseline_value=D(30), target_value=D(40), direction=Direction.AT_MOST)
    assert assess(spec, [], [], date(2025, 1, 5)).status == Status.NO_DATA  # 30 ≤ 40, no entry
    assert assess(spec, [ob(date(2025, 1, 5), 30)], [], date(2025, 1, 5)).status == (
        Status.ACHIEVED
    )


# --- rule 5 (v2): a milestone waits for the period that holds it -------------------------


# Baseline 0 on 2025-12-31, 100 by 2026-12-31, quarterly, grace 15; milestone 30 on
# 2026-02-15, which lies in 2026-Q1 (01-01 … 03-31, deadline 03-31 + 15 = 04-15).
def _mid_quarter_milestone(**overrides) -> TargetSpec:
    fields = {
        "baseline_date": date(2025, 12, 31),
        "due_date": date(2026, 12, 31),
        "grace_days": 15,
        "milestones": (Point(date(2026, 2, 15), D(30)),),
    }
    fields.update(overrides)
    return make_spec(**fields)


def test_milestone_is_not_judged_before_its_period_has_spoken():
    spec = _mid_quarter_milestone()
    # 02-20: the milestone date has passed but Q1 has neither ended nor been reported
    assert milestones_missed(spec, [], date(2026, 2, 20)) == []
    # 04-15: Q1 has ended, but its deadline 04-15 is not < 04-15 → still waiting
    assert milestones_missed(spec, [], date(2026, 4, 15)) == []
    # 04-16: 04-15 < 04-16 → Q1 is overdue and has spoken; baseline 0 < 30 → missed
    assert milestones_missed(spec, [], date(2026, 4, 16)) == [date(2026, 2, 15)]
    j = assess(spec, [], [], date(2026, 4, 16))
    assert j.milestones_missed == [date(2026, 2, 15)]
    assert j.overdue_periods == ["2026-Q1"]


def test_milestone_is_judged_by_the_actual_at_the_end_of_the_period_holding_it():
    spec = _mid_quarter_milestone()
    # Q1's report 35 (period end 03-31 ≥ 02-15): actual as of 03-31 = 35 ≥ 30 → met,
    # although on 02-15 itself nothing had been reported (version 1: baseline 0 → missed)
    assert milestones_missed(spec, [ob(date(2026, 3, 31), 35)], date(2026, 3, 31)) == []
    # a Q1 report of 25 < 30 → missed as soon as it counts (on 03-31)
    short = [ob(date(2026, 3, 31), 25)]
    assert milestones_missed(spec, short, date(2026, 3, 31)) == [date(2026, 2, 15)]
    # the day before, the report has not ended and Q1 has not spoken
    assert milestones_missed(spec, short, date(2026, 3, 30)) == []


def test_milestone_is_judged_via_a_later_entry_when_its_own_period_has_none():
    # milestone 50 on 2026-06-30 (end of Q2); grace 120 → Q2's deadline is 06-30 + 120 =
    # 10-28 (31 + 31 + 30 = 92 days to 09-30, + 28)
    spec = _mid_quarter_milestone(grace_days=120, milestones=(Point(date(2026, 6, 30), D(50)),))
    entries = [ob(date(2026, 3, 31), 40), ob(date(2026, 9, 30), 70)]
    # 10-15: no Q2 entry and Q2 not overdue, but the Q3 entry ends 09-30 ≥ 06-30 → spoken;
    # actual as of the end of Q2 = the Q1 value 40 < 50 → missed (70 on 09-30 is too late)
    assert milestones_missed(spec, entries, date(2026, 10, 15)) == [date(2026, 6, 30)]
    # without the Q3 entry, Q2 has not spoken on 10-15 …
    assert milestones_missed(spec, entries[:1], date(2026, 10, 15)) == []
    # … and has on 10-29 (10-28 < 10-29)
    assert milestones_missed(spec, entries[:1], date(2026, 10, 29)) == [date(2026, 6, 30)]
    # a Q1 value of 55 ≥ 50 carries the milestone through the unreported Q2
    met = [ob(date(2026, 3, 31), 55), ob(date(2026, 9, 30), 70)]
    assert milestones_missed(spec, met, date(2026, 10, 15)) == []


# --- rule 7 (v2): "never" past the calendar, a due date of 9999-12-31, linear only -------


def test_forecast_is_never_when_the_line_reaches_the_target_only_after_9999():
    spec = make_spec(baseline_date=date(2024, 12, 31), due_date=date(2026, 12, 31))
    entries = [
        ob(date(2025, 3, 31), 10),
        ob(date(2025, 6, 30), 10),
        ob(date(2025, 9, 30), "10.0001"),
    ]
    f = forecast(spec, entries, date(2025, 10, 1))
    # x from 03-31 = 0, 91, 183 (30 + 31 + 30; + 31 + 31 + 30); mean x 274/3; y mean
    # 30.0001/3 = 10.0000333…
    # Sxy = Σ (x − x̄)·y = (−274·10 − 1·10 + 275·10.0001)/3 = 0.0275/3
    # Sxx = (274² + 1² + 275²)/9 = (75076 + 1 + 75625)/9 = 150702/9
    # slope = 0.0825/150702 ≈ 5.474e-7 per day (rising, toward 100 → not "never" for that)
    # intercept = 10.0000333 − 5.474e-7 × 91.33 ≈ 9.99998
    # 100 at x ≈ 90.00002 / 5.474e-7 ≈ 1.644e8 days (≈ 450 000 years), while 9999-12-31 is
    # only ≈ 7975 × 365.2425 ≈ 2.913e6 days after 2025-03-31 → "never"
    # projected at the due date (x = 275 + 365 = 640): 10.0000333 + 5.474e-7 × (640 − 91.33)
    # = 10.0000333 + 0.0003004 = 10.0003337
    assert f.never is True
    assert f.reached_on is None
    assert f.label == "never"
    assert D("10.00033") < f.projected < D("10.00034")


def test_due_date_9999_12_31_is_assessed_without_raising():
    # baseline 9998-12-31 → due 9999-12-31 (365 days; 9999 is not a leap year), target 100,
    # quarterly, grace 30, milestone 40 on 9999-06-30
    spec = make_spec(
        baseline_date=date(9998, 12, 31),
        due_date=date(9999, 12, 31),
        grace_days=30,
        milestones=(Point(date(9999, 6, 30), D(40)),),
    )
    periods = reporting_periods(Frequency.QUARTERLY, spec.baseline_date, spec.due_date)
    assert _keys(periods) == ["9999-Q1", "9999-Q2", "9999-Q3", "9999-Q4"]
    assert periods[-1] == Period("9999-Q4", date(9999, 10, 1), date(9999, 12, 31))
    entries = [ob(date(9999, 3, 31), 20), ob(date(9999, 6, 30), 45), ob(date(9999, 9, 30), 70)]
    j = assess(spec, entries, [], date.max)
    # linear through (06-30, 40): 06-30 → 12-31 is 184 days (31+31+30+31+30+31), 06-30 →
    # 09-30 is 92 → expected(as_of 09-30) = 40 + 60 × 92/184 = 70; ratio 70/70 = 1 → on_track
    # (d = the due date, which is not after it)
    assert j.as_of == date(9999, 9, 30)
    assert j.expected == D(70)
    assert j.expected_now == D(100)
    assert j.ratio == D(1)
    assert j.status == Status.ON_TRACK
    # overdue: Q1–Q3 unreported, deadlines 04-30, 07-30, 10-30 < 12-31; Q4's 12-31 + 30 days
    # saturates at 9999-12-31, not < 9999-12-31 → not overdue
    assert j.overdue_periods == ["9999-Q1", "9999-Q2", "9999-Q3"]
    assert j.milestones_missed == []  # 45 ≥ 40 as of the end of Q2
    # trend: x = 0, 91, 183; y = 20, 45, 70; x̄ = 274/3, ȳ = 45
    # Sxy = (−274·20 − 1·45 + 275·70)/3 = (−5480 − 45 + 19250)/3 = 4575; Sxx = 150702/9
    # slope = 41175/150702 = 0.27322…, intercept = 45 − 0.27322 × 91.33 = 20.0457
    # 100 at x = 79.954/0.27322 = 292.6 → day 293, but 9999-03-31 + 275 is 9999-12-31 → never
    # projected at x = 275: 20.0457 + 75.137 = 95.18 → 0.95 ≥ 0.9, no pace override
    assert j.forecast.never is True
    assert j.forecast.label == "never"
    assert D("95.18") < j.forecast.projected < D("95.19")
    assert j.reason == Reason.RATIO


def test_due_date_9999_12_31_from_2025_lists_every_quarter_to_the_end_of_the_calendar():
    spec = make_spec(**{**FOUR_YEARS, "due_date": date(9999, 12, 31)})
    periods = reporting_periods(Frequency.QUARTERLY, spec.baseline_date, spec.due_date)
    # 2026-Q1 … 9999-Q4: 4 × (9999 − 2026 + 1) = 4 × 7974 = 31896 quarters
    assert len(periods) == 31896
    assert period_count(Frequency.QUARTERLY, spec.baseline_date, spec.due_date) == 31896
    assert periods[-1] == Period("9999-Q4", date(9999, 10, 1), date(9999, 12, 31))
    j = assess(spec, [ob(date(2026, 3, 31), 1)], ["2026-Q1"], date.max)
    # all but 2026-Q1 are unreported; 9999-Q4's deadline saturates at 9999-12-31 → 31894
    assert len(j.overdue_periods) == 31894
    assert j.overdue_periods[0] == "2026-Q2"
    assert j.overdue_periods[-1] == "9999-Q3"
    # 2025-12-31 → 9999-12-31: 7974 years × 365 + 1933 leap days (1993 multiples of 4 from
    # 2028 to 9996, less the 60 centuries 2100 … 9900 not divisible by 400) = 2912443 days;
    # expected(2026-03-31) = 1461 × 90/2912443 = 0.0451…; ratio 1/0.0451… = 2912443/131490
    # = 22.15 → on_track on the due date itself
    assert D("22.14") < j.ratio < D("22.16")
    assert j.status == Status.ON_TRACK


def test_pace_override_applies_to_linear_only_not_smooth_or_step():
    # STALL on the 100-day plan: actual 40 on 02-10 = expected 40 → ratio 1 → on_track by
    # rule 4; projected 46 → 0.46 < 0.9 (see test_stall_turns_on_track_linear_target_lagging)
    linear = assess(make_spec(**HUNDRED_DAYS), STALL, [], date(2025, 2, 10))
    assert (linear.status, linear.reason) == (Status.LAGGING, Reason.PACE)
    # smooth without milestones is the same straight line: expected(02-10) = 40, ratio 1,
    # projected 46 — but the pace rule is never for smooth
    smooth = assess(
        make_spec(trajectory=Trajectory.SMOOTH, **HUNDRED_DAYS), STALL, [], date(2025, 2, 10)
    )
    assert smooth.expected == D(40)
    assert smooth.forecast.projected == D(46)
    assert (smooth.status, smooth.reason) == (Status.ON_TRACK, Reason.RATIO)
    # step: expected(02-10) = 0 = baseline → ratio 1; never overridden either
    step = assess(
        make_spec(trajectory=Trajectory.STEP, **HUNDRED_DAYS), STALL, [], date(2025, 2, 10)
    )
    assert step.forecast.projected == D(46)
    assert (step.status, step.reason) == (Status.ON_TRACK, Reason.RATIO)


def test_off_pace_is_false_for_smooth_and_step_with_the_same_forecast():
    for trajectory, expected in (
        (Trajectory.LINEAR, True),
        (Trajectory.SMOOTH, False),
        (Trajectory.STEP, False),
    ):
        spec = make_spec(trajectory=trajectory, **HUNDRED_DAYS)
        # projected 46 of 100 → 0.46 < 0.9
        assert off_pace(spec, forecast(spec, STALL, date(2025, 2, 10))) is expected


# --- rule 8: every judgement names the rule that decided it ------------------------------


def test_reason_achieved():
    j = assess(make_spec(**HUNDRED_DAYS), [ob(date(2025, 2, 10), 100)], [], date(2025, 2, 20))
    assert (j.status, j.reason) == (Status.ACHIEVED, Reason.ACHIEVED)  # 100 ≥ 100


def test_reason_missed():
    # d 04-12 is after the due date 04-11, 99 < 100
    j = assess(make_spec(**HUNDRED_DAYS), [ob(date(2025, 3, 31), 99)], [], date(2025, 4, 12))
    assert (j.status, j.reason) == (Status.MISSED, Reason.MISSED)


def test_reason_no_data():
    j = assess(make_spec(**HUNDRED_DAYS), [], [], date(2025, 2, 20))
    assert (j.status, j.reason) == (Status.NO_DATA, Reason.NO_DATA)


def test_reason_ratio_for_each_ratio_status():
    spec = make_spec(**HUNDRED_DAYS)
    e, d = date(2025, 2, 10), date(2025, 2, 20)  # expected(as_of 02-10) = 40
    j = assess(spec, [ob(e, 40)], [], d)  # 40/40 = 1
    assert (j.status, j.reason) == (Status.ON_TRACK, Reason.RATIO)
    j = assess(spec, [ob(e, 33)], [], d)  # 33/40 = 0.825
    assert (j.status, j.reason) == (Status.AT_RISK, Reason.RATIO)
    j = assess(spec, [ob(e, 20)], [], d)  # 20/40 = 0.5
    assert (j.status, j.reason) == (Status.LAGGING, Reason.RATIO)


def test_reason_pace():
    # rule 4 says on_track (ratio 1), rule 7 turns it lagging (projected 46 of 100)
    j = assess(make_spec(**HUNDRED_DAYS), STALL, [], date(2025, 2, 10))
    assert (j.status, j.reason) == (Status.LAGGING, Reason.PACE)


def test_lagging_by_ratio_keeps_reason_ratio_even_when_also_off_pace():
    # 10, 11, 12 on 01-21, 01-31, 02-10: ratio 12/40 = 0.3 → lagging by rule 4 already;
    # trend slope 0.1 → projected 10 + 8 = 18 (off pace too), but rule 7 only turns
    # on_track / at_risk into lagging, so the deciding rule is the ratio
    entries = [ob(date(2025, 1, 21), 10), ob(date(2025, 1, 31), 11), ob(date(2025, 2, 10), 12)]
    j = assess(make_spec(**HUNDRED_DAYS), entries, [], date(2025, 2, 10))
    assert j.forecast.projected == D(18)
    assert (j.status, j.reason) == (Status.LAGGING, Reason.RATIO)


# --- DESIGN §7: period_count agrees with the listed periods ---------------------------------


def test_period_count_equals_the_number_of_listed_periods():
    cases = [
        # (frequency, baseline, due, hand count)
        (Frequency.MONTHLY, date(2025, 12, 15), date(2026, 3, 10), 4),  # 2025-12 … 2026-03
        (Frequency.MONTHLY, date(2025, 12, 31), date(2026, 3, 1), 3),  # 2026-01 … 2026-03
        (Frequency.QUARTERLY, date(2025, 6, 30), date(2030, 12, 31), 22),  # 2 + 5 × 4
        (Frequency.QUARTERLY, date(2025, 5, 15), date(2026, 4, 1), 5),  # 2025-Q2 … 2026-Q2
        (Frequency.HALF_YEARLY, date(2025, 6, 30), date(2027, 3, 31), 4),  # 2025-H2 … 2027-H1
        (Frequency.HALF_YEARLY, date(2025, 7, 1), date(2026, 6, 30), 2),  # 2025-H2, 2026-H1
        (Frequency.YEARLY, date(2025, 6, 30), date(2030, 1, 1), 6),  # 2025 … 2030
        (Frequency.YEARLY, date(2025, 12, 31), date(2030, 12, 31), 5),  # 2026 … 2030
        (Frequency.MONTHLY, date(1, 1, 1), date(1, 3, 1), 3),  # 0001-01 … 0001-03
        (Frequency.YEARLY, date(9998, 12, 31), date(9999, 12, 31), 1),  # 9999
    ]
    for frequency, baseline, due, count in cases:
        assert len(reporting_periods(frequency, baseline, due)) == count, (frequency, baseline)
        assert period_count(frequency, baseline, due) == count, (frequency, baseline)


def test_period_count_is_zero_when_due_is_not_after_baseline():
    assert period_count(Frequency.QUARTERLY, date(2026, 1, 1), date(2026, 1, 1)) == 0
    assert period_count(Frequency.YEARLY, date(2026, 1, 1), date(2025, 1, 1)) == 0


# --- dates saturate at the ends of the calendar -------------------------------------------


def test_add_days_saturates_at_the_ends_of_the_calendar():
    assert add_days(date(2026, 1, 1), 0) == date(2026, 1, 1)
    assert add_days(date(2026, 1, 1), 31) == date(2026, 2, 1)
    assert add_days(date(9999, 12, 1), 30) == date(9999, 12, 31)  # exactly the last day
    assert add_days(date(9999, 12, 1), 31) == date.max  # one past it
    assert add_days(date(9999, 12, 1), 10**9) == date.max
    assert add_days(date.max, 1) == date.max
    assert add_days(date(1, 1, 10), -9) == date(1, 1, 1)
    assert add_days(date(1, 1, 10), -10) == date.min
    assert add_days(date.min, -(10**9)) == date.min


def test_report_deadline_saturates_at_9999_12_31():
    q3 = Period("9999-Q3", date(9999, 7, 1), date(9999, 9, 30))
    assert report_deadline(q3, 91) == date(9999, 12, 30)  # 31 + 30 + 30 = 91 → 12-30
    assert report_deadline(q3, 92) == date(9999, 12, 31)
    assert report_deadline(q3, 32767) == date.max
    q4 = Period("9999-Q4", date(9999, 10, 1), date(9999, 12, 31))
    assert report_deadline(q4, 0) == date.max
    assert report_deadline(q4, 32767) == date.max
    q1 = Period("2026-Q1", date(2026, 1, 1), date(2026, 3, 31))
    assert report_deadline(q1, 15) == date(2026, 4, 15)


# --- DESIGN §4: transitions between statuses, and the helpers around alerts ---------------


def test_a_higher_severity_is_a_worsening():
    # severities: on_track/achieved/no_data 0 < at_risk 1 < lagging 2 < missed 3
    assert transition(Status.ON_TRACK, Status.AT_RISK) == Transition.WORSENED  # 0 → 1
    assert transition(Status.AT_RISK, Status.LAGGING) == Transition.WORSENED  # 1 → 2
    assert transition(Status.LAGGING, Status.MISSED) == Transition.WORSENED  # 2 → 3
    assert transition(Status.ACHIEVED, Status.LAGGING) == Transition.WORSENED  # 0 → 2


def test_a_first_assessment_is_compared_with_no_data():
    assert transition(None, Status.AT_RISK) == Transition.WORSENED  # 0 → 1
    assert transition(None, Status.MISSED) == Transition.WORSENED  # 0 → 3
    assert transition(None, Status.ON_TRACK) is None  # 0 → 0
    assert transition(None, Status.NO_DATA) is None


def test_back_to_severity_zero_from_one_or_more_is_a_recovery():
    assert transition(Status.AT_RISK, Status.ON_TRACK) == Transition.RECOVERED  # 1 → 0
    assert transition(Status.MISSED, Status.ACHIEVED) == Transition.RECOVERED  # 3 → 0
    assert transition(Status.LAGGING, Status.NO_DATA) == Transition.RECOVERED  # 2 → 0


def test_same_severity_or_better_but_not_zero_is_no_transition():
    assert transition(Status.LAGGING, Status.AT_RISK) is None  # 2 → 1
    assert transition(Status.MISSED, Status.LAGGING) is None  # 3 → 2
    assert transition(Status.AT_RISK, Status.AT_RISK) is None  # 1 → 1
    assert transition(Status.ON_TRACK, Status.ACHIEVED) is None  # 0 → 0
    assert transition(Status.NO_DATA, Status.ON_TRACK) is None  # 0 → 0


def test_only_lagging_and_missed_are_problems():
    assert {s for s in Status if is_problem(s)} == {Status.LAGGING, Status.MISSED}


def test_reminder_is_due_in_the_days_before_the_deadline_inclusive():
    q1 = Period("2026-Q1", date(2026, 1, 1), date(2026, 3, 31))
    # deadline 03-31 + 15 = 04-15; 5 reminder days → 04-10 … 04-15
    assert reminder_due(q1, 15, date(2026, 4, 9), 5) is False
    assert reminder_due(q1, 15, date(2026, 4, 10), 5) is True
    assert reminder_due(q1, 15, date(2026, 4, 15), 5) is True
    assert reminder_due(q1, 15, date(2026, 4, 16), 5) is False
    q4 = Period("9999-Q4", date(9999, 10, 1), date(9999, 12, 31))
    # deadline saturates at 9999-12-31; 3 reminder days → 12-28 … 12-31
    assert reminder_due(q4, 30, date(9999, 12, 27), 3) is False
    assert reminder_due(q4, 30, date(9999, 12, 28), 3) is True
    assert reminder_due(q4, 30, date.max, 3) is True


def test_clamp_percent_keeps_a_percentage_within_0_and_100():
    assert clamp_percent(D(-5)) == D(0)
    assert clamp_percent(D("55.5")) == D("55.5")
    assert clamp_percent(D(123)) == D(100)


def test_share_of_way_is_the_part_of_the_way_from_baseline_to_target():
    up = make_spec(baseline_value=D(20), target_value=D(70))
    assert share_of_way(up, D(45)) == Fraction(1, 2)  # (45 − 20)/(70 − 20)
    down = make_spec(baseline_value=D(100), target_value=D(40), direction=Direction.AT_MOST)
    assert share_of_way(down, D(70)) == Fraction(1, 2)  # (100 − 70)/(100 − 40)
    assert share_of_way(down, D(106)) == Fraction(-1, 10)  # (100 − 106)/60
