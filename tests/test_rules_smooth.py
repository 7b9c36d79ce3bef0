"""The ``smooth`` trajectory (DESIGN §3 rule 2): the monotone piecewise-cubic Hermite curve
through the plan's points (Fritsch–Carlson, SciPy's ``PchipInterpolator`` with x = days since
the baseline date).

Hand arithmetic, for reference:
- secants m_k = (y_{k+1} − y_k)/h_k with h_k = x_{k+1} − x_k;
- interior slope d_k = (w1 + w2)/(w1/m_{k−1} + w2/m_k), w1 = 2h_k + h_{k−1},
  w2 = h_k + 2h_{k−1}; 0 when m_{k−1}, m_k differ in sign or one is 0. With equal intervals
  this is the plain harmonic mean 2/(1/m_{k−1} + 1/m_k);
- end slope d = ((2h0 + h1)m0 − h0·m1)/(h0 + h1); 0 if sign(d) ≠ sign(m0); 3·m0 if
  sign(m0) ≠ sign(m1) and |d| > 3|m0|;
- on an interval of width h, with t = (x − x_k)/h: y_k·h00 + h·d_k·h10 + y_{k+1}·h01 +
  h·d_{k+1}·h11, h00 = 2t³ − 3t² + 1, h10 = t³ − 2t² + t, h01 = −2t³ + 3t², h11 = t³ − t².
  At t = 1/2: h00 = h01 = 1/2, h10 = 1/8, h11 = −1/8, so the midpoint is
  (y_k + y_{k+1})/2 + h·(d_k − d_{k+1})/8.

Dates are chosen so the day counts are round: 2025-01-01 + 50 = 02-20, + 100 = 04-11,
+ 150 = 05-31, + 200 = 07-20, + 250 = 09-08, + 300 = 10-28, + 350 = 12-17, + 400 = 2026-02-05.
"""

import dataclasses
import math
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.interpolate import PchipInterpolator

from targets.rules import (
    Point,
    TargetSpec,
    Trajectory,
    expected_at,
    expected_curve,
    expected_exact,
    pchip_slopes,
)

D = Decimal
F = Fraction
BASE = date(2025, 1, 1)


def day(n: int) -> date:
    return BASE + timedelta(days=n)


def smooth(*points: tuple[int, object]) -> TargetSpec:
    """A smooth plan through (day offset, value) points; the first is the baseline, the last
    the target, the ones between are milestones."""
    (x0, y0), *middle, (xn, yn) = points
    assert x0 == 0
    return TargetSpec(
        baseline_value=D(str(y0)),
        baseline_date=BASE,
        target_value=D(str(yn)),
        due_date=day(xn),
        trajectory=Trajectory.SMOOTH,
        milestones=tuple(Point(day(x), D(str(y))) for x, y in middle),
    )


def at(spec: TargetSpec, n: int) -> Fraction:
    return expected_exact(spec, day(n))


# --- no milestone: the straight line -----------------------------------------------------


def test_smooth_without_milestones_is_the_straight_line():
    spec = smooth((0, 0), (200, 200))
    # two points → both slopes are the secant 200/200 = 1 → the line y = x
    assert pchip_slopes((F(0), F(200)), (F(0), F(200))) == (F(1), F(1))
    assert at(spec, 1) == 1
    assert at(spec, 50) == 50
    assert at(spec, 150) == 150
    assert at(spec, 199) == 199


def test_smooth_without_milestones_keeps_a_repeating_rate_exact():
    spec = smooth((0, 0), (300, 100))
    # 100 × 100/300 = 100/3, exactly, and 100 × 250/300 = 250/3
    assert at(spec, 100) == F(100, 3)
    assert at(spec, 250) == F(250, 3)


# --- through the points --------------------------------------------------------------------


def test_smooth_passes_exactly_through_its_milestones():
    one = smooth((0, 0), (100, 20), (200, 100))
    assert at(one, 0) == 0
    assert at(one, 100) == 20
    assert at(one, 200) == 100
    several = smooth((0, 0), (100, 10), (200, 40), (300, "99.5"))
    assert at(several, 100) == 10
    assert at(several, 200) == 40
    assert expected_at(several, day(300)) == D("99.5")


def test_smooth_milestones_given_out_of_order_are_taken_in_date_order():
    spec = TargetSpec(
        baseline_value=D(0),
        baseline_date=BASE,
        target_value=D(100),
        due_date=day(300),
        trajectory=Trajectory.SMOOTH,
        milestones=(Point(day(200), D(40)), Point(day(100), D(10))),
    )
    # same curve as (0, 0), (100, 10), (200, 40), (300, 100) — see the next tests
    assert at(spec, 150) == F("21.875")


# --- between the points ------------------------------------------------------------------


def test_smooth_with_one_milestone_between_points():
    # (0, 0), (100, 20), (200, 100): h = 100, 100; m = 0.2, 0.8
    # interior d1 = 2/(1/0.2 + 1/0.8) = 2/(5 + 1.25) = 0.32
    # start d0 = (300 × 0.2 − 100 × 0.8)/200 = −0.1: sign differs from m0 → 0
    # end d2 = (300 × 0.8 − 100 × 0.2)/200 = 220/200 = 1.1 (same sign as m1, m0 → kept)
    assert pchip_slopes((F(0), F(100), F(200)), (F(0), F(20), F(100))) == (
        F(0),
        F("0.32"),
        F("1.1"),
    )
    spec = smooth((0, 0), (100, 20), (200, 100))
    # day 50: (0 + 20)/2 + 100 × (0 − 0.32)/8 = 10 − 4 = 6 (the straight line gives 10)
    assert at(spec, 50) == 6
    assert expected_at(spec, date(2025, 2, 20)) == D(6)
    # day 150: (20 + 100)/2 + 100 × (0.32 − 1.1)/8 = 60 − 9.75 = 50.25
    assert at(spec, 150) == F("50.25")


def test_smooth_with_unequal_intervals_uses_the_weighted_harmonic_mean():
    # (0, 0), (100, 20), (300, 100): h0 = 100, h1 = 200; m0 = 0.2, m1 = 0.4
    # w1 = 2·200 + 100 = 500, w2 = 200 + 2·100 = 400
    # d1 = 900/(500/0.2 + 400/0.4) = 900/(2500 + 1000) = 9/35
    # d0 = ((200 + 200)·0.2 − 100·0.4)/300 = 40/300 = 2/15
    # d2 = ((400 + 100)·0.4 − 200·0.2)/300 = 160/300 = 8/15
    assert pchip_slopes((F(0), F(100), F(300)), (F(0), F(20), F(100))) == (
        F(2, 15),
        F(9, 35),
        F(8, 15),
    )
    spec = smooth((0, 0), (100, 20), (300, 100))
    # day 50: 10 + 100 × (2/15 − 9/35)/8 = 10 + 12.5 × (14 − 27)/105 = 10 − 65/42 = 355/42
    assert at(spec, 50) == F(355, 42)
    # day 200 (midpoint of a 200-day interval): 60 + 200 × (9/35 − 8/15)/8
    # = 60 + 25 × (27 − 56)/105 = 60 − 145/21 = 1115/21
    assert at(spec, 200) == F(1115, 21)


def test_smooth_with_several_milestones():
    # (0, 0), (100, 10), (200, 40), (300, 100): h = 100 each; m = 0.1, 0.3, 0.6
    # d1 = 2/(10 + 10/3) = 0.15; d2 = 2/(10/3 + 5/3) = 0.4
    # d0 = (300·0.1 − 100·0.3)/200 = 0 → 0; d3 = (300·0.6 − 100·0.3)/200 = 0.75
    assert pchip_slopes((F(0), F(100), F(200), F(300)), (F(0), F(10), F(40), F(100))) == (
        F(0),
        F("0.15"),
        F("0.4"),
        F("0.75"),
    )
    spec = smooth((0, 0), (100, 10), (200, 40), (300, 100))
    assert at(spec, 50) == F("3.125")  # 5 + 12.5 × (0 − 0.15) = 5 − 1.875
    assert at(spec, 150) == F("21.875")  # 25 + 12.5 × (0.15 − 0.4) = 25 − 3.125
    assert at(spec, 250) == F("65.625")  # 70 + 12.5 × (0.4 − 0.75) = 70 − 4.375
    # day 125, t = 1/4 on (100, 10)–(200, 40): h00 = 2/64 − 3/16 + 1 = 0.84375,
    # h10 = 1/64 − 2/16 + 1/4 = 0.140625, h01 = −2/64 + 3/16 = 0.15625, h11 = 1/64 − 1/16
    # = −0.046875 → 0.84375·10 + 0.140625·100·0.15 + 0.15625·40 − 0.046875·100·0.4
    # = 8.4375 + 2.109375 + 6.25 − 1.875 = 14.921875
    assert at(spec, 125) == F("14.921875")
    assert expected_at(spec, date(2025, 5, 6)) == D("14.921875")


# --- an S-curve ----------------------------------------------------------------------------

# (0, 0), (100, 10), (200, 50), (300, 90), (400, 100): slow, fast, slow.
# m = 0.1, 0.4, 0.4, 0.1; d1 = 2/(10 + 2.5) = 0.16, d2 = 0.4, d3 = 0.16;
# d0 = (300·0.1 − 100·0.4)/200 = −0.05 → sign differs from m0 → 0; d4 likewise 0.
S_CURVE = ((0, 0), (100, 10), (200, 50), (300, 90), (400, 100))


def test_s_curve_slopes_are_flat_at_both_ends():
    xs = tuple(F(x) for x, _ in S_CURVE)
    ys = tuple(F(y) for _, y in S_CURVE)
    assert pchip_slopes(xs, ys) == (F(0), F("0.16"), F("0.4"), F("0.16"), F(0))


def test_s_curve_follows_a_slow_start_and_a_slow_finish():
    spec = smooth(*S_CURVE)
    assert at(spec, 50) == 3  # 5 + 12.5 × (0 − 0.16) = 5 − 2
    assert at(spec, 150) == 27  # 30 + 12.5 × (0.16 − 0.4) = 30 − 3
    assert at(spec, 250) == 73  # 70 + 12.5 × (0.4 − 0.16) = 70 + 3
    assert at(spec, 350) == 97  # 95 + 12.5 × (0.16 − 0) = 95 + 2
    # day 1, t = 0.01: h01 = −2e-6 + 3e-4 = 0.000298, h11 = 1e-6 − 1e-4 = −0.000099
    # → 0.000298 × 10 − 0.000099 × 100 × 0.16 = 0.00298 − 0.001584 = 0.001396
    assert at(spec, 1) == F("0.001396")
    # by symmetry, day 399 is 100 − 0.001396
    assert at(spec, 399) == F("99.998604")


def test_s_curve_is_monotone_on_every_day():
    spec = smooth(*S_CURVE)
    values = [at(spec, n) for n in range(401)]
    assert all(a <= b for a, b in pairwise(values))
    assert values[0] == 0
    assert values[-1] == 100


def test_s_curve_for_at_most_mirrors_the_rising_one():
    # y → 100 − y flips every secant and slope, so day 150 gives 100 − 27 = 73
    spec = smooth((0, 100), (100, 90), (200, 50), (300, 10), (400, 0))
    assert at(spec, 150) == 73
    assert at(spec, 350) == 3


# --- a plan that goes up and then down ---------------------------------------------------

# (0, 0), (100, 100), (200, 40): m0 = 1, m1 = −0.6 → signs differ → d1 = 0 (flat at the turn)
# d0 = (300·1 − 100·(−0.6))/200 = 1.8 (≤ 3·|m0| = 3, kept)
# d2 = (300·(−0.6) − 100·1)/200 = −1.4 (same sign as m1; |−1.4| ≤ 3 × 0.6 = 1.8, kept)
UP_DOWN = ((0, 0), (100, 100), (200, 40))


def test_turning_point_has_slope_zero():
    assert pchip_slopes((F(0), F(100), F(200)), (F(0), F(100), F(40))) == (
        F("1.8"),
        F(0),
        F("-1.4"),
    )


def test_up_then_down_curve_is_flat_at_the_turning_point_and_does_not_overshoot():
    spec = smooth(*UP_DOWN)
    assert at(spec, 50) == F("72.5")  # 50 + 12.5 × (1.8 − 0)
    assert at(spec, 150) == F("87.5")  # 70 + 12.5 × (0 − (−1.4))
    # day 99, t = 0.99: h10 = 0.970299 − 1.9602 + 0.99 = 0.000099,
    # h01 = −1.940598 + 2.9403 = 0.999702 → 0.000099 × 100 × 1.8 + 0.999702 × 100
    # = 0.01782 + 99.9702 = 99.98802
    assert at(spec, 99) == F("99.98802")
    # day 101, t = 0.01: h00 = 0.999702, h01 = 0.000298, h11 = −0.000099
    # → 99.9702 + 0.000298 × 40 + (−0.000099) × 100 × (−1.4) = 99.9702 + 0.01192 + 0.01386
    # = 99.99598: a drop of 0.004 in the first day (the secant alone would drop 0.6)
    assert at(spec, 101) == F("99.99598")
    assert at(spec, 100) == 100
    # never above the turning point's 100, never below the end's 40 after it
    assert max(at(spec, n) for n in range(201)) == 100
    assert all(0 <= at(spec, n) <= 100 for n in range(101))
    assert all(40 <= at(spec, n) <= 100 for n in range(100, 201))


def test_end_slope_is_limited_to_three_times_the_secant():
    # (0, 100), (100, 110), (200, 10): m0 = 0.1, m1 = −1
    # d0 = (300 × 0.1 − 100 × (−1))/200 = 130/200 = 0.65 > 3 × 0.1 and the secants differ in
    # sign → d0 = 3 × 0.1 = 0.3; d1 = 0 (turn); d2 = (300 × (−1) − 100 × 0.1)/200 = −1.55
    assert pchip_slopes((F(0), F(100), F(200)), (F(100), F(110), F(10))) == (
        F("0.3"),
        F(0),
        F("-1.55"),
    )
    spec = smooth((0, 100), (100, 110), (200, 10))
    # day 50: 105 + 12.5 × (0.3 − 0) = 108.75 ≤ 110 (with 0.65 it would be 113.125 > 110)
    assert at(spec, 50) == F("108.75")


# --- clamped to the ends ------------------------------------------------------------------


def test_smooth_is_clamped_before_the_baseline_and_after_the_due_date():
    spec = smooth(*S_CURVE)
    assert expected_at(spec, date(2024, 12, 31)) == D(0)
    assert expected_at(spec, date.min) == D(0)
    assert expected_at(spec, day(401)) == D(100)
    assert expected_at(spec, date.max) == D(100)


# --- the curve to draw --------------------------------------------------------------------


def test_expected_curve_samples_a_smooth_plan_and_keeps_a_linear_one_to_its_points():
    spec = smooth(*S_CURVE)
    # 400 days × i/8 → days 50, 100, …, 350, plus the points 0 … 400 (100 … 300 coincide)
    curve = expected_curve(spec, samples=8)
    assert [(p.date - BASE).days for p in curve] == [0, 50, 100, 150, 200, 250, 300, 350, 400]
    assert [p.value for p in curve] == [D(v) for v in (0, 3, 10, 27, 50, 73, 90, 97, 100)]
    linear = dataclasses.replace(spec, trajectory=Trajectory.LINEAR)
    assert [(p.date - BASE).days for p in expected_curve(linear)] == [0, 100, 200, 300, 400]


# --- SciPy as the oracle -----------------------------------------------------------------


def _scipy_agrees(spec: TargetSpec, offsets: list[int], values: list, days: list[int]) -> None:
    curve = PchipInterpolator([float(x) for x in offsets], [float(v) for v in values])
    scale = max(abs(float(v)) for v in values) or 1.0
    for n in days:
        ours = float(at(spec, n))
        theirs = float(curve(float(n)))
        assert math.isclose(ours, theirs, rel_tol=1e-9, abs_tol=1e-9 * scale), (n, ours, theirs)


def test_hand_computed_curves_agree_with_scipy_on_every_day():
    for points in (
        S_CURVE,
        UP_DOWN,
        ((0, 0), (100, 20), (300, 100)),
        ((0, 100), (100, 110), (200, 10)),
    ):
        offsets = [x for x, _ in points]
        values = [y for _, y in points]
        _scipy_agrees(smooth(*points), offsets, values, list(range(offsets[-1] + 1)))


values_strategy = st.one_of(
    st.integers(min_value=-1_000_000, max_value=1_000_000),
    st.decimals(
        min_value=-1_000_000, max_value=1_000_000, places=4, allow_nan=False, allow_infinity=False
    ),
)


@st.composite
def smooth_plans(draw):
    n = draw(st.integers(min_value=2, max_value=6))
    gaps = draw(st.lists(st.integers(min_value=1, max_value=400), min_size=n - 1, max_size=n - 1))
    offsets = [0]
    for gap in gaps:
        offsets.append(offsets[-1] + gap)
    values = draw(st.lists(values_strategy, min_size=n, max_size=n))
    extra = draw(st.lists(st.integers(min_value=0, max_value=offsets[-1]), max_size=12))
    return offsets, values, extra


@settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(smooth_plans())
def test_smooth_matches_scipy_pchip_on_random_plans(plan):
    offsets, values, extra = plan
    spec = smooth(*zip(offsets, values, strict=True))
    _scipy_agrees(spec, offsets, values, [*offsets, *extra])
