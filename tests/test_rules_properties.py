"""Properties of the progress rules (DESIGN §3 version 2, §7 reporting periods) over random
valid input.

Valid input: due date after the baseline date, any dates from 0001-01-01 to 9999-12-31
(the ends included), any direction, aggregation, trajectory and frequency, milestones strictly
between the baseline and due dates, values with up to 16 integer digits and 4 decimals,
tolerance 0–0.5, grace days 0–32767, either reporting calendar, a deadline of none or 0–10
working days, up to 8 approved entries with any period end, any
evaluation date. To keep the file fast, a plan spans at most ≈ 1970 reporting periods of its
frequency (tests/test_rules.py has example tests with a due date of 9999-12-31 and 31896
quarters).
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from targets.rules import (
    RULE4_REASONS,
    SEVERITY,
    Aggregation,
    Calendar,
    Direction,
    Frequency,
    Observation,
    Point,
    Reason,
    Reporting,
    Status,
    TargetSpec,
    Trajectory,
    assess,
    expected_curve,
    expected_exact,
    forecast,
    milestones_missed,
    period_containing,
    period_count,
    reporting_periods,
    reporting_state,
    share_of_way,
    spec_periods,
    trajectory_points,
)

FAST = settings(
    max_examples=250,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

ONE_DAY = timedelta(days=1)
LAST_DAY_BUT_ONE = date.max - ONE_DAY

# Days that make at most ≈ 1970 periods of each frequency (60 000 / 30.44, 180 000 / 91.3, …).
SPAN_CAP = {
    Frequency.MONTHLY: 60_000,
    Frequency.QUARTERLY: 180_000,
    Frequency.HALF_YEARLY: 360_000,
    Frequency.YEARLY: 720_000,
}
MONTHS = {
    Frequency.MONTHLY: 1,
    Frequency.QUARTERLY: 3,
    Frequency.HALF_YEARLY: 6,
    Frequency.YEARLY: 12,
}

BIG = Decimal("9999999999999999.9999")  # 16 integer digits, 4 decimals
values = st.decimals(min_value=-BIG, max_value=BIG, places=4, allow_nan=False, allow_infinity=False)
small_values = st.one_of(
    st.integers(min_value=-300, max_value=300).map(Decimal),
    st.decimals(min_value=-300, max_value=300, places=2, allow_nan=False, allow_infinity=False),
)
any_date = st.one_of(st.just(date.min), st.just(date.max), st.dates())


def shift(d: date, days: int) -> date:
    """``d`` + ``days`` kept inside the calendar (test-side helper)."""
    ordinal = min(max(d.toordinal() + days, date.min.toordinal()), date.max.toordinal())
    return date.fromordinal(ordinal)


@st.composite
def plan_dates(draw, frequency: Frequency, cap: int | None = None, everywhere: bool = True):
    """(baseline date, due date) with due > baseline, anywhere in the calendar, ends included
    (or, with ``everywhere=False``, a baseline in 1900–2100)."""
    cap = min(cap or SPAN_CAP[frequency], SPAN_CAP[frequency])
    if not everywhere:
        baseline = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
        return baseline, baseline + timedelta(days=draw(st.integers(min_value=1, max_value=cap)))
    anchor = draw(st.sampled_from(["free", "first day", "last day"]))
    if anchor == "first day":
        baseline = date.min
        due = baseline + timedelta(days=draw(st.integers(min_value=1, max_value=cap)))
    elif anchor == "last day":
        due = date.max
        baseline = due - timedelta(days=draw(st.integers(min_value=1, max_value=cap)))
    else:
        baseline = draw(st.dates(max_value=LAST_DAY_BUT_ONE))
        room = (date.max - baseline).days
        due = baseline + timedelta(days=draw(st.integers(min_value=1, max_value=min(cap, room))))
    return baseline, due


@st.composite
def specs(
    draw,
    *,
    direction=None,
    cap: int | None = None,
    value_strategy=values,
    trajectory=None,
    everywhere: bool = True,
) -> TargetSpec:
    frequency = draw(st.sampled_from(list(Frequency)))
    baseline_date, due_date = draw(plan_dates(frequency, cap, everywhere))
    span = (due_date - baseline_date).days
    offsets = (
        draw(st.lists(st.integers(min_value=1, max_value=span - 1), unique=True, max_size=4))
        if span >= 2
        else []
    )
    return TargetSpec(
        baseline_value=draw(value_strategy),
        baseline_date=baseline_date,
        target_value=draw(value_strategy),
        due_date=due_date,
        direction=direction or draw(st.sampled_from(list(Direction))),
        aggregation=draw(st.sampled_from(list(Aggregation))),
        trajectory=trajectory or draw(st.sampled_from(list(Trajectory))),
        milestones=tuple(
            Point(baseline_date + timedelta(days=n), draw(value_strategy)) for n in offsets
        ),
        frequency=frequency,
        grace_days=draw(st.integers(min_value=0, max_value=32767)),
        tolerance=draw(
            st.decimals(min_value=0, max_value=Decimal("0.5"), places=4, allow_nan=False)
        ),
        calendar=draw(st.sampled_from(list(Calendar))),
        # Few working days: each deadline steps through its days (the plan allows 100).
        deadline_working_days=draw(st.none() | st.integers(min_value=0, max_value=10)),
    )


def near(spec: TargetSpec):
    """Dates around the plan (where the rules have most to say), or anywhere at all."""
    span = (spec.due_date - spec.baseline_date).days
    around = st.integers(min_value=-120, max_value=span + 120).map(
        lambda n: shift(spec.baseline_date, n)
    )
    return st.one_of(around, any_date)


@st.composite
def cases(draw):
    spec = draw(specs())
    observations = draw(
        st.lists(st.builds(Observation, near(spec), values), min_size=0, max_size=8)
    )
    keys = [p.key for p in spec_periods(spec)]
    reported = draw(st.lists(st.sampled_from(keys), max_size=6))
    d = draw(near(spec))
    return spec, observations, reported, d


# --- (a) no valid input makes the rules raise ----------------------------------------------


@FAST
@given(cases())
def test_no_valid_input_makes_the_rules_raise(case):
    spec, observations, reported, d = case
    j = assess(spec, observations, reported, d)
    missed = milestones_missed(spec, observations, d)
    trend = forecast(spec, observations, d)
    state = reporting_state(spec, reported, d)
    expected_curve(spec)
    share_of_way(spec, j.actual)

    # …and what comes back is consistent with the rules it claims to follow
    counted = [o for o in observations if o.period_end <= d]
    assert j.evaluated_on == d
    assert (j.as_of is None) == (not counted) == (j.ratio is None)
    if counted:
        assert j.as_of == max(o.period_end for o in counted)
    else:
        assert j.actual == spec.baseline_value
        assert j.status in (Status.NO_DATA, Status.MISSED)
    if j.reason == Reason.PACE:
        assert j.status == Status.LAGGING
        assert spec.trajectory == Trajectory.LINEAR
    else:
        assert RULE4_REASONS[j.status] == j.reason
    assert j.milestones_missed == missed
    assert all(m <= d for m in missed)
    assert set(missed) <= {p.date for p in trajectory_points(spec)[1:-1]}
    assert j.forecast == trend
    assert j.reporting == state
    assert (state == Reporting.OVERDUE) == bool(j.overdue_periods)
    assert set(j.overdue_periods).isdisjoint(reported)
    if trend.never:
        assert trend.reached_on is None
    if len(counted) < 3:
        assert trend.projected is None


def test_due_date_9999_12_31_with_every_trajectory_and_frequency_does_not_raise():
    # an example-based companion to the property above, at the very end of the calendar
    for trajectory in Trajectory:
        for frequency in (Frequency.QUARTERLY, Frequency.YEARLY):
            spec = TargetSpec(
                baseline_value=Decimal(0),
                baseline_date=date(2025, 12, 31),
                target_value=Decimal(100),
                due_date=date.max,
                trajectory=trajectory,
                frequency=frequency,
                grace_days=32767,
                milestones=(Point(date(5000, 1, 1), Decimal(50)),),
            )
            entries = [
                Observation(date(2026, 3, 31), Decimal(1)),
                Observation(date(9999, 9, 30), Decimal(99)),
                Observation(date.max, Decimal(99)),
            ]
            for d in (date(2026, 4, 1), date(9999, 10, 1), date.max):
                j = assess(spec, entries, [], d)
                assert j.evaluated_on == d
            # on 9999-12-31: not after the due date, 99 < 100 → judged on the ratio
            assert j.status not in (Status.MISSED, Status.ACHIEVED, Status.NO_DATA)
            # every deadline saturates at 9999-12-31 or earlier; grace 32767 days ≈ 89.7
            # years, so periods that ended before ≈ 9910 are overdue, none after
            assert j.overdue_periods
            assert all(int(key[:4]) < 9911 for key in j.overdue_periods)


# --- (b) a better latest value never gives a worse status ---------------------------------


def toward_the_target(spec: TargetSpec) -> TargetSpec:
    """The same plan with the target and every milestone on the target's side of the baseline
    (≥ it for at_least, ≤ it for at_most): a plan that never expects going backwards."""
    sign = 1 if spec.direction == Direction.AT_LEAST else -1
    base = spec.baseline_value

    def side(value: Decimal) -> Decimal:
        return base + sign * abs(value - base)

    return dataclasses.replace(
        spec,
        target_value=side(spec.target_value),
        milestones=tuple(Point(m.date, side(m.value)) for m in spec.milestones),
    )


@st.composite
def monotone_cases(draw, direction: Direction):
    # Only plans that move toward the target: where expected(as_of) lies on the other side of
    # the baseline, rule 3 divides by a negative number and a better actual gives a lower
    # ratio — rule 3 as written, not something a better actual should do.
    spec = toward_the_target(
        draw(specs(direction=direction, cap=3000, value_strategy=small_values, everywhere=False))
    )
    span = (spec.due_date - spec.baseline_date).days
    ends = draw(
        st.lists(
            st.integers(min_value=-60, max_value=span + 60),
            unique=True,
            min_size=1,
            max_size=8,
        )
    )
    observations = [
        Observation(spec.baseline_date + timedelta(days=n), draw(small_values)) for n in ends
    ]
    latest = max(observations, key=lambda o: o.period_end)
    d = latest.period_end + timedelta(days=draw(st.integers(min_value=0, max_value=400)))
    a, b = draw(small_values), draw(small_values)
    return spec, [o for o in observations if o is not latest], latest.period_end, a, b, d


def _severity(spec, others, latest_end, value, d):
    j = assess(spec, [*others, Observation(latest_end, value)], [], d)
    return SEVERITY[j.status], j


@FAST
@given(monotone_cases(Direction.AT_LEAST))
def test_higher_latest_actual_never_gives_a_worse_status_at_least(case):
    spec, others, latest_end, a, b, d = case
    low, high = sorted((a, b))
    worse_low, j_low = _severity(spec, others, latest_end, low, d)
    worse_high, j_high = _severity(spec, others, latest_end, high, d)
    assert j_low.as_of == j_high.as_of == latest_end
    assert worse_high <= worse_low, (j_low.status, j_high.status)


@FAST
@given(monotone_cases(Direction.AT_MOST))
def test_lower_latest_actual_never_gives_a_worse_status_at_most(case):
    spec, others, latest_end, a, b, d = case
    low, high = sorted((a, b))
    worse_low, j_low = _severity(spec, others, latest_end, low, d)
    worse_high, j_high = _severity(spec, others, latest_end, high, d)
    assert worse_low <= worse_high, (j_low.status, j_high.status)


# --- (c) reporting periods tile the plan ---------------------------------------------------


@st.composite
def period_plans(draw):
    frequency = draw(st.sampled_from(list(Frequency)))
    baseline, due = draw(plan_dates(frequency))
    return frequency, baseline, due


@FAST
@given(period_plans())
def test_reporting_periods_tile_the_plan(plan):
    frequency, baseline, due = plan
    periods = reporting_periods(frequency, baseline, due)
    months = MONTHS[frequency]
    assert periods
    assert len(periods) == period_count(frequency, baseline, due)
    # DESIGN §7: the periods that end after the baseline date and start on or before the due
    # date. The first one holds the day after the baseline date (it starts on or before it and
    # ends after the baseline date); the last one holds the due date.
    first, last = periods[0], periods[-1]
    assert first.start <= baseline + ONE_DAY <= first.end
    assert first.end > baseline
    assert last.start <= due <= last.end
    for prev, nxt in pairwise(periods):
        assert nxt.start == prev.end + ONE_DAY  # no gap, no overlap
    for p in periods:
        # a calendar period of the frequency, written as DESIGN §7 says
        assert p.start.day == 1
        assert (p.start.month - 1) % months == 0
        assert p.end == date.max or (p.end + ONE_DAY).day == 1
        assert period_containing(frequency, p.start) == p
        assert period_containing(frequency, p.end) == p
        if p.start.year < 1000:
            continue  # §7 does not say how years before 1000 are written
        year = str(p.start.year)
        assert (
            p.key
            == {
                Frequency.MONTHLY: f"{year}-{p.start.month:02d}",
                Frequency.QUARTERLY: f"{year}-Q{(p.start.month - 1) // 3 + 1}",
                Frequency.HALF_YEARLY: f"{year}-H{(p.start.month - 1) // 6 + 1}",
                Frequency.YEARLY: year,
            }[frequency]
        )


# --- (d) the smooth curve stays between neighbouring points ---------------------------------


@st.composite
def smooth_specs(draw):
    n = draw(st.integers(min_value=2, max_value=6))
    gaps = draw(st.lists(st.integers(min_value=1, max_value=150), min_size=n - 1, max_size=n - 1))
    ys = draw(st.lists(st.one_of(small_values, values), min_size=n, max_size=n))
    baseline = draw(st.dates(min_value=date(1, 1, 1), max_value=date(9990, 1, 1)))
    offsets = [0]
    for gap in gaps:
        offsets.append(offsets[-1] + gap)
    return TargetSpec(
        baseline_value=ys[0],
        baseline_date=baseline,
        target_value=ys[-1],
        due_date=baseline + timedelta(days=offsets[-1]),
        trajectory=Trajectory.SMOOTH,
        direction=draw(st.sampled_from(list(Direction))),
        milestones=tuple(
            Point(baseline + timedelta(days=x), y)
            for x, y in zip(offsets[1:-1], ys[1:-1], strict=True)
        ),
    )


@settings(max_examples=120, deadline=None, database=None)
@given(smooth_specs())
def test_smooth_curve_stays_between_neighbouring_points_on_every_day(spec):
    points = trajectory_points(spec)
    for left, right in pairwise(points):
        low, high = sorted((left.value, right.value))
        day = left.date
        while day <= right.date:
            value = expected_exact(spec, day)
            assert low <= value <= high, (day, value, left, right)
            day += ONE_DAY


# --- the fast arithmetic gives exactly the straightforward results ------------------------


def _fraction_least_squares(points):
    """Rule 7's line summed in fractions, as the rules computed it before they summed integers."""
    from fractions import Fraction

    origin = points[0].date
    xs = [Fraction((p.date - origin).days) for p in points]
    ys = [Fraction(p.value) for p in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mean_x) ** 2 for x in xs)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    slope = sxy / sxx if sxx else Fraction(0)
    return mean_y - slope * mean_x, slope, origin


@FAST
@given(st.lists(st.tuples(st.dates(), values), min_size=1, max_size=6))
def test_least_squares_in_integers_is_the_line_summed_in_fractions(pairs):
    from targets.rules import least_squares

    points = [Point(day, value) for day, value in sorted(pairs)]
    assert least_squares(points) == _fraction_least_squares(points)


@FAST
@given(cases())
def test_the_trend_of_the_counted_window_is_the_trend_of_all_points(case):
    from targets.rules import _trend_line_of, observations_until, trend_points

    spec, observations, _, d = case
    counted = observations_until(observations, d)
    line = _trend_line_of(spec, counted)
    if len(counted) < 3:
        assert line is None
        return
    points = trend_points(spec, counted)[-4:]
    assert (line.intercept, line.slope, line.origin, line.first) == (
        *_fraction_least_squares(points), points[0].date
    )


@settings(max_examples=120, deadline=None, database=None)
@given(smooth_specs(), st.integers(min_value=0, max_value=10_000))
def test_the_hermite_cubic_in_integers_is_the_textbook_one(spec, day):
    """The smooth curve at a day, against h00·y0 + h10·w·m0 + h01·y1 + h11·w·m1 in t."""
    from fractions import Fraction

    from targets.rules import pchip_slopes

    points = trajectory_points(spec)
    d = spec.baseline_date + timedelta(days=day % max(1, (spec.due_date - spec.baseline_date).days))
    xs = tuple(Fraction((p.date - points[0].date).days) for p in points)
    ys = tuple(Fraction(p.value) for p in points)
    m = pchip_slopes(xs, ys)
    x = Fraction((d - points[0].date).days)
    k = max(i for i in range(len(xs) - 1) if xs[i] <= x)
    w = xs[k + 1] - xs[k]
    t = (x - xs[k]) / w
    textbook = (
        (2 * t**3 - 3 * t**2 + 1) * ys[k] + (t**3 - 2 * t**2 + t) * w * m[k]
        + (-2 * t**3 + 3 * t**2) * ys[k + 1] + (t**3 - t**2) * w * m[k + 1]
    )
    assert expected_exact(spec, d) == textbook


def _fraction_ratio(spec, actual, expected):
    from fractions import Fraction

    baseline = Fraction(spec.baseline_value)
    done, due = Fraction(actual) - baseline, Fraction(expected) - baseline
    if spec.direction == Direction.AT_MOST:
        done, due = -done, -due
    return done / due if due else Fraction(1)


@FAST
@given(cases(), values, values)
def test_the_ratio_in_integers_is_the_fraction_formula(case, actual, expected):
    from fractions import Fraction

    from targets.rules import ratio_exact

    spec = case[0]
    assert ratio_exact(spec, actual, expected) == _fraction_ratio(spec, actual, expected)
    third = Fraction(expected) / 3  # an expected value between two Decimals
    assert ratio_exact(spec, actual, third) == _fraction_ratio(spec, actual, third)


@FAST
@given(cases())
def test_the_linear_trajectory_in_integers_is_the_fraction_formula(case):
    from fractions import Fraction

    spec, _, _, d = case
    spec = dataclasses.replace(spec, trajectory=Trajectory.LINEAR)
    points = trajectory_points(spec)
    if not points[0].date < d < points[-1].date:
        return
    left, right = next((a, b) for a, b in pairwise(points) if a.date <= d <= b.date)
    straight = Fraction(left.value) + (Fraction(right.value) - Fraction(left.value)) * Fraction(
        (d - left.date).days, (right.date - left.date).days
    )
    assert expected_exact(spec, d) == straight
