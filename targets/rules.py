"""DESIGN §3 (version 2) — how progress is judged — as pure functions over plain values.

No ORM, no settings, no clock: every input is passed in, every number is a
Decimal, every date a ``datetime.date``. Services turn model rows into the
plain values below and store what comes back. The one table consulted is Vietnam's
public holidays, from the pinned ``holidays`` package: a deadline in working days
depends on nothing else than the dates given.

Total by construction: no valid input makes these functions raise. Dates are
added with saturation (a deadline past 9999-12-31 is 9999-12-31), a forecast
that would land outside the calendar is "never" or null, and a trajectory
whose points share a date keeps the later one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from functools import lru_cache
from itertools import pairwise

import holidays

ONE = Decimal(1)
ZERO = Decimal(0)

# What a plan may hold (the plan checker and the admin refuse the rest). The rules themselves
# accept any date; these bounds keep plans to what people mean and what screens can draw.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2200, 12, 31)
MAX_REPORTING_PERIODS = 600  # fifty years of monthly reports


class Direction(StrEnum):
    AT_LEAST = "at_least"
    AT_MOST = "at_most"


class Aggregation(StrEnum):
    LATEST = "latest"
    SUM = "sum"


class Trajectory(StrEnum):
    LINEAR = "linear"
    STEP = "step"
    SMOOTH = "smooth"


class Frequency(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    HALF_YEARLY = "half_yearly"
    YEARLY = "yearly"


class Calendar(StrEnum):
    """How a plan cuts time into reporting periods."""

    CALENDAR = "calendar"  # calendar months, quarters, halves and years
    # Decree 09/2019/NĐ-CP Art. 12: data from the 15th of the month before a period to the
    # 14th of its last month (2026-Q1 is 15/12/2025 – 14/03/2026).
    DECREE_09 = "decree_09"


class Status(StrEnum):
    ACHIEVED = "achieved"
    MISSED = "missed"
    NO_DATA = "no_data"
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    LAGGING = "lagging"


class Reason(StrEnum):
    """Rule 8: the rule that decided a status."""

    ACHIEVED = "achieved"
    MISSED = "missed"
    NO_DATA = "no_data"
    RATIO = "ratio"  # rule 4 on the progress ratio
    PACE = "pace"  # rule 7 turned the target lagging


class Transition(StrEnum):
    """DESIGN §4: how a new status compares with the previous one."""

    WORSENED = "worsened"
    RECOVERED = "recovered"


class AlertKind(StrEnum):
    """DESIGN §4: the events an evaluation records."""

    WORSENED = "worsened"
    MILESTONE_MISSED = "milestone_missed"
    OVERDUE = "overdue"
    RECOVERED = "recovered"
    ESCALATED = "escalated"
    REMINDER = "reminder"
    # Explanation requests (issue 13): recorded by the request's workflow, not by an
    # evaluation; news that the workflow itself resolves (alert_condition_holds: always true).
    EXPLANATION_ASKED = "explain_asked"
    EXPLANATION_ANSWERED = "explain_answered"
    EXPLANATION_ACCEPTED = "explain_accepted"
    EXPLANATION_ASKED_AGAIN = "explain_asked_again"
    EXPLANATION_ESCALATED = "explain_escalated"
    # A manager's reminder from the completeness screen (issue 13): news, settled once the
    # period's report is submitted.
    REPORT_REQUESTED = "report_requested"


class Reporting(StrEnum):
    OK = "ok"  # every period that has ended is reported
    DUE = "due"  # a period has ended and is unreported, but its deadline has not passed
    OVERDUE = "overdue"  # a period's deadline has passed without a report


SEVERITY: dict[Status, int] = {
    Status.ACHIEVED: 0,
    Status.ON_TRACK: 0,
    Status.NO_DATA: 0,
    Status.AT_RISK: 1,
    Status.LAGGING: 2,
    Status.MISSED: 3,
}


@dataclass(frozen=True)
class Point:
    date: date
    value: Decimal


@dataclass(frozen=True)
class TargetSpec:
    """Everything about a target that the rules need."""

    baseline_value: Decimal
    baseline_date: date
    target_value: Decimal
    due_date: date
    direction: Direction = Direction.AT_LEAST
    aggregation: Aggregation = Aggregation.LATEST
    trajectory: Trajectory = Trajectory.LINEAR
    milestones: tuple[Point, ...] = ()
    frequency: Frequency = Frequency.QUARTERLY
    grace_days: int = 0
    tolerance: Decimal = Decimal("0.10")
    calendar: Calendar = Calendar.CALENDAR
    # The deadline in working days after a period's end; None: end + grace_days.
    deadline_working_days: int | None = None


@dataclass(frozen=True)
class Observation:
    """One approved entry: the end of its reporting period and its value."""

    period_end: date
    value: Decimal


@dataclass(frozen=True)
class Period:
    key: str
    start: date
    end: date
    calendar: Calendar = Calendar.CALENDAR


@dataclass(frozen=True)
class Forecast:
    projected: Decimal | None  # the trend line's value at the due date
    reached_on: date | None  # the day the trend line meets the target value
    never: bool  # the line does not move toward the target value
    projected_exact: Fraction | None = field(default=None, compare=False, repr=False)

    @property
    def label(self) -> str | None:
        return forecast_label(self.reached_on, never=self.never)


def forecast_label(reached_on: date | None, *, never: bool) -> str | None:
    """DESIGN §7's ``forecast``: the reach date, ``"never"``, or None without a forecast."""
    if never:
        return "never"
    return reached_on.isoformat() if reached_on else None


NO_FORECAST = Forecast(projected=None, reached_on=None, never=False)


@dataclass(frozen=True)
class Judgement:
    """The assessment of one target at one date (DESIGN §3, rules 1–8)."""

    evaluated_on: date
    actual: Decimal
    as_of: date | None  # the period end of the latest counted approved entry (rule 1)
    expected: Decimal  # expected(as_of); expected(evaluated_on) when there is no approved entry
    expected_now: Decimal  # expected(evaluated_on)
    ratio: Decimal | None  # None when there is no approved entry yet
    status: Status
    reason: Reason
    reporting: Reporting
    overdue_periods: list[str] = field(default_factory=list)
    milestones_missed: list[date] = field(default_factory=list)
    forecast: Forecast = NO_FORECAST
    share: Decimal | None = None  # the share of the way from baseline to target (not a rule)


# --- dates that cannot overflow -------------------------------------------


def add_days(d: date, days: int) -> date:
    """``d`` + ``days``, saturated at the ends of the calendar instead of raising."""
    try:
        return d + timedelta(days=days)
    except OverflowError:  # past 9999-12-31 or before 0001-01-01 (or beyond timedelta itself)
        return date.max if days > 0 else date.min


def _day_after(d: date) -> date | None:
    return None if d == date.max else d + timedelta(days=1)


# --- rule 1: actual -------------------------------------------------------


def observations_until(observations: Iterable[Observation], d: date) -> list[Observation]:
    """Approved observations whose period ended on or before ``d``, oldest first."""
    return sorted((o for o in observations if o.period_end <= d), key=lambda o: o.period_end)


def actual_at(spec: TargetSpec, observations: Iterable[Observation], d: date) -> Decimal | None:
    """Rule 1. None when no approved entry has ended by ``d`` (actual is then the baseline)."""
    return _actual_of(spec, observations_until(observations, d))


def _actual_of(spec: TargetSpec, counted: Sequence[Observation]) -> Decimal | None:
    """Rule 1 over the observations counted at a date, oldest first."""
    if not counted:
        return None
    if spec.aggregation == Aggregation.SUM:
        return spec.baseline_value + sum((o.value for o in counted), ZERO)
    return counted[-1].value


def as_of_date(observations: Iterable[Observation], d: date) -> date | None:
    """Rule 1: the period end of the latest approved entry counted at ``d`` (None if none)."""
    counted = observations_until(observations, d)
    return counted[-1].period_end if counted else None


# --- rule 2: expected trajectory -----------------------------------------


def trajectory_points(spec: TargetSpec) -> list[Point]:
    """Baseline, the milestones in date order, and the target: the points the plan goes through.

    A milestone outside the open interval (baseline date, due date), which the plan checker
    refuses, is left out rather than bending the curve backwards; of two milestones on one
    date the later listed wins.
    """
    inside = {
        m.date: m
        for m in spec.milestones
        if spec.baseline_date < m.date < spec.due_date
    }
    return [
        Point(spec.baseline_date, spec.baseline_value),
        *(inside[day] for day in sorted(inside)),
        Point(spec.due_date, spec.target_value),
    ]


def _sign(value: Fraction) -> int:
    return (value > 0) - (value < 0)


def _pchip_edge(h0: Fraction, h1: Fraction, m0: Fraction, m1: Fraction) -> Fraction:
    """The end slope of the Fritsch–Carlson curve: a one-sided three-point estimate, kept
    shape-preserving (Moler, *Numerical Computing with MATLAB* §3.6, as SciPy does)."""
    d = ((2 * h0 + h1) * m0 - h0 * m1) / (h0 + h1)
    if _sign(d) != _sign(m0):
        return Fraction(0)
    if _sign(m0) != _sign(m1) and abs(d) > 3 * abs(m0):
        return 3 * m0
    return d


@lru_cache(maxsize=4096)
def pchip_slopes(xs: tuple[Fraction, ...], ys: tuple[Fraction, ...]) -> tuple[Fraction, ...]:
    """The slopes at each point of the monotone piecewise-cubic Hermite curve (Fritsch–Carlson),
    exactly as SciPy's ``PchipInterpolator`` computes them, in exact arithmetic.

    ``xs`` strictly increase. Where the data turn (neighbouring secants of opposite sign, or
    a flat secant) the slope is 0, so the curve never overshoots between two points.
    """
    h = [b - a for a, b in pairwise(xs)]
    m = [(y1 - y0) / dx for (y0, y1), dx in zip(pairwise(ys), h, strict=True)]
    if len(xs) == 2:
        return (m[0], m[0])
    slopes = [Fraction(0)] * len(xs)
    for k in range(1, len(xs) - 1):
        before, after = m[k - 1], m[k]
        if before == 0 or after == 0 or _sign(before) != _sign(after):
            continue
        # Weighted harmonic mean of the secants, weights from the interval lengths.
        w1 = 2 * h[k] + h[k - 1]
        w2 = h[k] + 2 * h[k - 1]
        slopes[k] = (w1 + w2) / (w1 / before + w2 / after)
    slopes[0] = _pchip_edge(h[0], h[1], m[0], m[1])
    slopes[-1] = _pchip_edge(h[-1], h[-2], m[-1], m[-2])
    return tuple(slopes)


@lru_cache(maxsize=4096)
def _hermite(points: tuple[tuple[int, Decimal], ...]
             ) -> tuple[tuple[int, ...], tuple[Fraction, ...], tuple[Fraction, ...]]:
    """The days, values and slopes of a smooth trajectory through (day, value) points."""
    xs = tuple(x for x, _ in points)
    ys = tuple(Fraction(y) for _, y in points)
    return xs, ys, pchip_slopes(tuple(Fraction(x) for x in xs), ys)


def _smooth_at(points: list[Point], d: date) -> Fraction:
    """Rule 2 ``smooth``: the Hermite cubic of the interval holding ``d`` (inside the ends).

    With t = a / w (a days into an interval of w days) the four Hermite basis functions are
    polynomials in a and w over w³: their integer coefficients are computed as integers.
    """
    origin = points[0].date
    xs, ys, slopes = _hermite(tuple(((p.date - origin).days, p.value) for p in points))
    x = (d - origin).days
    k = max(i for i in range(len(xs) - 1) if xs[i] <= x)
    w = xs[k + 1] - xs[k]
    a = x - xs[k]
    a2, a3, w2 = a * a, a * a * a, w * w
    levels = Fraction(
        ys[k] * (2 * a3 - 3 * a2 * w + w2 * w) + ys[k + 1] * (3 * a2 * w - 2 * a3)
    ) / (w2 * w)
    bends = (slopes[k] * (a3 - 2 * a2 * w + a * w2) + slopes[k + 1] * (a3 - a2 * w)) / w2
    return levels + bends


def expected_exact(spec: TargetSpec, d: date) -> Fraction:
    """Rule 2 in exact arithmetic: the expected value at ``d``, clamped to the trajectory's ends.

    Exact, because a boundary such as a ratio of exactly 0.9 must not fall to 0.8999… by
    rounding an interpolated value.
    """
    points = trajectory_points(spec)
    if d <= points[0].date:
        return Fraction(points[0].value)
    if d >= points[-1].date:
        return Fraction(points[-1].value)
    if spec.trajectory == Trajectory.STEP:
        return Fraction([p for p in points if p.date <= d][-1].value)
    if spec.trajectory == Trajectory.SMOOTH:
        return _smooth_at(points, d)
    for left, right in pairwise(points):
        if left.date <= d <= right.date:
            # left + (right − left) × elapsed / span, over integers: one fraction made.
            elapsed = (d - left.date).days
            span = (right.date - left.date).days
            ln, ld = left.value.as_integer_ratio()
            rn, rd = right.value.as_integer_ratio()
            return Fraction(ln * rd * span + (rn * ld - ln * rd) * elapsed, ld * rd * span)
    return Fraction(points[-1].value)  # unreachable: the clamps above cover every date


def expected_at(spec: TargetSpec, d: date) -> Decimal:
    """Rule 2: the expected value at ``d`` (to 28 significant digits)."""
    return _decimal(expected_exact(spec, d))


def expected_curve(spec: TargetSpec, *, samples: int = 48) -> list[Point]:
    """The expected trajectory as points to draw: its own points for ``linear`` and ``step``
    (the chart joins or steps them), and ``samples`` days spread along a ``smooth`` curve
    besides its points."""
    points = trajectory_points(spec)
    if spec.trajectory != Trajectory.SMOOTH or len(points) == 2:
        return points
    span = (spec.due_date - spec.baseline_date).days
    days = {p.date for p in points}
    days.update(
        add_days(spec.baseline_date, span * i // samples) for i in range(1, samples)
    )
    return [Point(day, expected_at(spec, day)) for day in sorted(days)]


# --- rules 3 and 4: ratio and status --------------------------------------


def ratio_exact(
    spec: TargetSpec, actual: Decimal | Fraction, expected: Decimal | Fraction
) -> Fraction:
    """Rule 3. For ``at_most`` both differences flip sign, so one formula serves both.

    (actual − baseline) / (expected − baseline) over integers: one fraction made."""
    bn, bd = spec.baseline_value.as_integer_ratio()
    an, ad = actual.as_integer_ratio()
    en, ed = expected.as_integer_ratio()
    done_n, done_d = an * bd - bn * ad, ad * bd  # actual − baseline
    due_n, due_d = en * bd - bn * ed, ed * bd  # expected − baseline
    if due_n == 0:
        return Fraction(1)
    # The flip of both signs for at_most cancels in the quotient.
    return Fraction(done_n * due_d, done_d * due_n)


def progress_ratio(
    spec: TargetSpec, actual: Decimal | Fraction, expected: Decimal | Fraction
) -> Decimal:
    """Rule 3 (to 28 significant digits)."""
    return _decimal(ratio_exact(spec, actual, expected))


def meets(direction: Direction, value: Decimal | Fraction, threshold: Decimal | Fraction) -> bool:
    if direction == Direction.AT_MOST:
        return value <= threshold
    return value >= threshold


def judge_status(
    spec: TargetSpec,
    *,
    actual: Decimal,
    ratio: Decimal | Fraction | None,
    has_data: bool,
    d: date,
) -> Status:
    """Rule 4, first match wins."""
    if has_data and meets(spec.direction, actual, spec.target_value):
        return Status.ACHIEVED
    if d > spec.due_date:
        return Status.MISSED
    if not has_data or ratio is None:
        return Status.NO_DATA
    if ratio >= ONE - spec.tolerance:
        return Status.ON_TRACK
    if ratio >= ONE - 2 * spec.tolerance:
        return Status.AT_RISK
    return Status.LAGGING


RULE4_REASONS = {
    Status.ACHIEVED: Reason.ACHIEVED,
    Status.MISSED: Reason.MISSED,
    Status.NO_DATA: Reason.NO_DATA,
    Status.ON_TRACK: Reason.RATIO,
    Status.AT_RISK: Reason.RATIO,
    Status.LAGGING: Reason.RATIO,
}


def share_of_way(spec: TargetSpec, actual: Decimal | Fraction) -> Fraction:
    """How far ``actual`` has come from the baseline toward the target value (1 = there).

    What a progress bar shows; it is rule 7's projected ratio applied to the actual, and
    the same formula for both directions.
    """
    return ratio_exact(spec, actual, spec.target_value)


# --- rule 5: milestones missed -------------------------------------------


def milestones_missed(
    spec: TargetSpec, observations: Iterable[Observation], d: date
) -> list[date]:
    """Milestones dated by ``d`` whose reporting period has spoken — an approved entry ends on
    or after the milestone (by ``d``), or the period holding it is past its deadline — and
    whose value the actual as of that period's end does not meet."""
    counted = observations_until(observations, d)
    missed = []
    for milestone in trajectory_points(spec)[1:-1]:
        if milestone.date > d:
            continue
        period = period_containing(spec.frequency, milestone.date, spec.calendar)
        spoken = any(o.period_end >= milestone.date for o in counted) or (
            spec_deadline(spec, period) < d
        )
        if not spoken:
            continue
        actual = actual_at(spec, counted, period.end)
        if actual is None:
            actual = spec.baseline_value
        if not meets(spec.direction, actual, milestone.value):
            missed.append(milestone.date)
    return missed


# --- rule 6 and DESIGN §7: reporting periods ------------------------------

_MONTHS_PER_PERIOD = {
    Frequency.MONTHLY: 1,
    Frequency.QUARTERLY: 3,
    Frequency.HALF_YEARLY: 6,
    Frequency.YEARLY: 12,
}

# Decree 09: a reporting month's data run from the 15th of the month before to its 14th.
DECREE_09_CUT_OFF_DAY = 14


def _month_end(year: int, month: int) -> date:
    if month == 12:
        return date(year, 12, 31)
    return date(year, month + 1, 1) - timedelta(days=1)


def _period_key(frequency: Frequency, year: int, first_month: int) -> str:
    if frequency == Frequency.MONTHLY:
        return f"{year}-{first_month:02d}"
    if frequency == Frequency.QUARTERLY:
        return f"{year}-Q{(first_month - 1) // 3 + 1}"
    if frequency == Frequency.HALF_YEARLY:
        return f"{year}-H{(first_month - 1) // 6 + 1}"
    return f"{year}"


def _reporting_month(d: date, calendar: Calendar) -> int:
    """The month ``d``'s data are reported in, counted in months since year 0 (12 × year +
    month − 1): its own month, or under Decree 09 the next one from the 15th on."""
    index = d.year * 12 + d.month - 1
    if calendar == Calendar.DECREE_09 and d.day > DECREE_09_CUT_OFF_DAY:
        index += 1
    return index


def _day_in_month(month_index: int, day: int) -> date:
    """Day ``day`` of the month ``month_index`` (as ``_reporting_month`` counts), saturated at
    the ends of the calendar."""
    year, month = divmod(month_index, 12)
    if year < date.min.year:
        return date.min
    if year > date.max.year:
        return date.max
    return date(year, month + 1, day)


def period_containing(
    frequency: Frequency, d: date, calendar: Calendar = Calendar.CALENDAR
) -> Period:
    """The reporting period of ``frequency`` whose data include the day ``d``."""
    months = _MONTHS_PER_PERIOD[frequency]
    if calendar == Calendar.DECREE_09:
        first = _reporting_month(d, calendar) // months * months
        last = first + months - 1
        year = first // 12
        return Period(
            key=_period_key(frequency, year, first % 12 + 1),
            start=_day_in_month(first - 1, DECREE_09_CUT_OFF_DAY + 1),
            end=_day_in_month(last, DECREE_09_CUT_OFF_DAY),
            calendar=calendar,
        )
    first_month = (d.month - 1) // months * months + 1
    last_month = first_month + months - 1
    return Period(
        key=_period_key(frequency, d.year, first_month),
        start=date(d.year, first_month, 1),
        end=_month_end(d.year, last_month),
    )


NINE_MONTHS_SUFFIX = "9M"
# A period's key: 2026-03 (month), 2026-Q1, 2026-H1, 2026-9M (nine months) or 2026 (year).
PERIOD_KEY = re.compile(
    r"(?P<year>\d{4})(?:-(?:(?P<m>0[1-9]|1[0-2])|Q(?P<q>[1-4])|H(?P<h>[12])|(?P<nine>9M)))?"
)


def key_frequency(key: str) -> Frequency | None:
    """The frequency a period key is written in (``2026-Q1``: quarterly); None for the
    nine-month period and for anything that is not a key."""
    match = PERIOD_KEY.fullmatch(key)
    if match is None or match["nine"]:
        return None
    if match["m"]:
        return Frequency.MONTHLY
    if match["q"]:
        return Frequency.QUARTERLY
    return Frequency.HALF_YEARLY if match["h"] else Frequency.YEARLY


def nine_months(year: int, calendar: Calendar = Calendar.CALENDAR) -> Period:
    """The nine-month period some provinces report on (key ``2026-9M``): January to
    September, or under Decree 09 the data from 15/12 of the year before to 14/09."""
    if calendar == Calendar.DECREE_09:
        start = date(year - 1, 12, DECREE_09_CUT_OFF_DAY + 1)
        end = date(year, 9, DECREE_09_CUT_OFF_DAY)
    else:
        start, end = date(year, 1, 1), date(year, 9, 30)
    return Period(key=f"{year}-{NINE_MONTHS_SUFFIX}", start=start, end=end, calendar=calendar)


def period_by_key(key: str, calendar: Calendar = Calendar.CALENDAR) -> Period | None:
    """The period written ``key`` — ``2026-03``, ``2026-Q1``, ``2026-H1``, ``2026-9M`` or
    ``2026`` — in ``calendar``; None for anything else."""
    match = PERIOD_KEY.fullmatch(key.strip())
    if match is None:
        return None
    year = int(match["year"])
    if not 2 <= year <= 9998:
        return None
    if match["nine"]:
        return nine_months(year, calendar)
    frequency = key_frequency(match[0])
    first_month = (
        int(match["m"]) if match["m"]
        else 3 * int(match["q"]) - 2 if match["q"]
        else 6 * int(match["h"]) - 5 if match["h"]
        else 1
    )
    # The period containing the first month's 14th: under Decree 09 that day's reporting
    # month is the month itself (its data end on its 14th).
    return period_containing(frequency, date(year, first_month, DECREE_09_CUT_OFF_DAY), calendar)


@lru_cache(maxsize=4096)
def reporting_periods(
    frequency: Frequency,
    baseline_date: date,
    due_date: date,
    calendar: Calendar = Calendar.CALENDAR,
) -> tuple[Period, ...]:
    """The periods that end after the baseline date and start on or before the due date.

    Cached: a pure function of four values that every rule about reporting asks for.
    """
    periods = []
    period: Period | None = period_containing(frequency, baseline_date, calendar)
    if period.end <= baseline_date:
        period = _next_period(frequency, period)
    while period is not None and period.start <= due_date:
        periods.append(period)
        period = _next_period(frequency, period)
    return tuple(periods)


def _next_period(frequency: Frequency, period: Period) -> Period | None:
    """The period after ``period`` (in its calendar); None after the calendar's last day."""
    following = _day_after(period.end)
    return None if following is None else period_containing(frequency, following, period.calendar)


def period_count(
    frequency: Frequency,
    baseline_date: date,
    due_date: date,
    calendar: Calendar = Calendar.CALENDAR,
) -> int:
    """How many reporting periods a target has, without listing them (for the plan checker)."""
    if due_date <= baseline_date:
        return 0
    months = _MONTHS_PER_PERIOD[frequency]
    first_index = _reporting_month(baseline_date, calendar) // months
    if period_containing(frequency, baseline_date, calendar).end <= baseline_date:
        first_index += 1
    last_index = _reporting_month(due_date, calendar) // months
    return max(0, last_index - first_index + 1)


# --- working days: Vietnam's weekends and public holidays ---------------------------


@lru_cache(maxsize=512)
def _days_off(year: int) -> tuple[frozenset[date], frozenset[date]]:
    """Vietnam's public holidays in ``year`` (Tết and Hùng Kings' day by the lunar calendar,
    the days off in lieu and the days swapped with a Saturday included), and the Saturdays
    worked in exchange. The ``holidays`` package knows 1901–2100; outside it, weekends only.
    """
    if not 1901 <= year <= 2100:
        return frozenset(), frozenset()
    found = holidays.country_holidays("VN", years=year)
    off = frozenset(day for day in found if day.year == year)
    worked = frozenset(day for day in found.weekend_workdays if day.year == year)
    return off, worked


def is_working_day(d: date) -> bool:
    """Monday to Friday and no public holiday, or a Saturday worked in exchange for one."""
    off, worked = _days_off(d.year)
    if d in worked:
        return True
    return d.weekday() < 5 and d not in off


@lru_cache(maxsize=4096)
def add_working_days(d: date, count: int) -> date:
    """The ``count``-th working day after ``d`` (``d`` itself for 0), saturated at 9999-12-31."""
    day = d
    for _ in range(count):
        day = _day_after(day)
        while day is not None and not is_working_day(day):
            day = _day_after(day)
        if day is None:
            return date.max
    return day


def report_deadline(period: Period, grace_days: int, working_days: int | None = None) -> date:
    """The last day a period's report is on time: ``working_days`` working days after its end
    when given, its end + grace days otherwise."""
    if working_days is not None:
        return add_working_days(period.end, working_days)
    return add_days(period.end, grace_days)


def spec_deadline(spec: TargetSpec, period: Period) -> date:
    """The last day the target's report for ``period`` is on time."""
    return report_deadline(period, spec.grace_days, spec.deadline_working_days)


def spec_periods(spec: TargetSpec) -> tuple[Period, ...]:
    return reporting_periods(spec.frequency, spec.baseline_date, spec.due_date, spec.calendar)


def find_period(spec: TargetSpec, key: str) -> Period | None:
    """The target's reporting period written ``key`` (``2026-Q1``), or None if it has none such."""
    for period in spec_periods(spec):
        if period.key == key:
            return period
    return None


@lru_cache(maxsize=4096)
def _deadlines(
    frequency: Frequency,
    baseline_date: date,
    due_date: date,
    grace_days: int,
    calendar: Calendar = Calendar.CALENDAR,
    working_days: int | None = None,
) -> tuple[tuple[str, date, date], ...]:
    """(key, end, deadline) of each reporting period: what rule 6 asks of every target, each
    evaluation, computed once per kind of target."""
    return tuple(
        (p.key, p.end, report_deadline(p, grace_days, working_days))
        for p in reporting_periods(frequency, baseline_date, due_date, calendar)
    )


def period_deadlines(
    frequency: Frequency,
    baseline_date: date,
    due_date: date,
    grace_days: int,
    calendar: Calendar = Calendar.CALENDAR,
    working_days: int | None = None,
) -> tuple[tuple[str, date, date], ...]:
    """(key, end, deadline) of each reporting period of a kind of target, computed once per
    kind (the completeness screen asks it of every target it counts)."""
    return _deadlines(frequency, baseline_date, due_date, grace_days, calendar, working_days)


def _spec_deadlines(spec: TargetSpec) -> tuple[tuple[str, date, date], ...]:
    return _deadlines(
        spec.frequency, spec.baseline_date, spec.due_date, spec.grace_days, spec.calendar,
        spec.deadline_working_days,
    )


def overdue_periods(spec: TargetSpec, reported: Iterable[str], d: date) -> list[str]:
    """Rule 6: periods whose deadline < ``d`` with no submitted or approved entry."""
    reported = set(reported)
    return [
        key for key, _, deadline in _spec_deadlines(spec) if deadline < d and key not in reported
    ]


def reporting_state(spec: TargetSpec, reported: Iterable[str], d: date) -> Reporting:
    reported = set(reported)
    return _reporting(spec, reported, d, overdue_periods(spec, reported, d))


def _reporting(spec: TargetSpec, reported: set[str], d: date, overdue: list[str]) -> Reporting:
    if overdue:
        return Reporting.OVERDUE
    if any(end < d and key not in reported for key, end, _ in _spec_deadlines(spec)):
        return Reporting.DUE
    return Reporting.OK


# --- rule 7: forecast -----------------------------------------------------

FORECAST_MIN_ENTRIES = 3
FORECAST_WINDOW = 4


def trend_points(spec: TargetSpec, observations: Sequence[Observation]) -> list[Point]:
    """(period end, actual) for each approved entry — cumulative for ``sum``."""
    points = []
    running = spec.baseline_value
    for o in sorted(observations, key=lambda o: o.period_end):
        if spec.aggregation == Aggregation.SUM:
            running += o.value
            points.append(Point(o.period_end, running))
        else:
            points.append(Point(o.period_end, o.value))
    return points


def least_squares(points: Sequence[Point]) -> tuple[Fraction, Fraction, date]:
    """Intercept and slope (per day) of the line through ``points``, x counted from the first.

    Exact rational arithmetic: a slope of 1/3 rounded to a Decimal would move the
    day the line meets the target by one. The sums are taken over integers (days, and the
    values scaled by their common denominator), and one fraction is made of them at the end:
    the same line as summing fractions, at a fraction of the cost.
    """
    origin = points[0].date
    xs = [(p.date - origin).days for p in points]
    ratios = [p.value.as_integer_ratio() for p in points]
    scale = math.lcm(*(d for _, d in ratios))
    ys = [n * (scale // d) for n, d in ratios]
    n = len(points)
    sum_x, sum_y = sum(xs), sum(ys)
    spread = n * sum(x * x for x in xs) - sum_x * sum_x  # n² × the variance of x
    if spread:
        co = n * sum(x * y for x, y in zip(xs, ys, strict=True)) - sum_x * sum_y
        slope = Fraction(co, spread * scale)
    else:
        slope = Fraction(0)
    return Fraction(sum_y, n * scale) - slope * Fraction(sum_x, n), slope, origin


def _decimal(value: Fraction) -> Decimal:
    return Decimal(value.numerator) / Decimal(value.denominator)


@dataclass(frozen=True)
class TrendLine:
    """Rule 7's least-squares line: ``value(day) = intercept + slope × (day − origin)``."""

    intercept: Fraction
    slope: Fraction  # per day
    origin: date
    first: date  # the first point the line was fitted through

    def at(self, day: date) -> Fraction:
        return self.intercept + self.slope * (day - self.origin).days


def trend_line(
    spec: TargetSpec, observations: Iterable[Observation], d: date
) -> TrendLine | None:
    """Rule 7's line through the last four (period end, actual) points counted at ``d``;
    None with fewer than three approved entries."""
    return _trend_line_of(spec, observations_until(observations, d))


def _trend_line_of(spec: TargetSpec, counted: Sequence[Observation]) -> TrendLine | None:
    """``trend_line`` over observations already counted and sorted: only the window's points
    are made (a sum runs through the earlier flows first)."""
    if len(counted) < FORECAST_MIN_ENTRIES:
        return None
    window = counted[-FORECAST_WINDOW:]
    if spec.aggregation == Aggregation.SUM:
        running = spec.baseline_value
        for o in counted[: len(counted) - len(window)]:
            running += o.value
        points = []
        for o in window:
            running += o.value
            points.append(Point(o.period_end, running))
    else:
        points = [Point(o.period_end, o.value) for o in window]
    intercept, slope, origin = least_squares(points)
    return TrendLine(intercept=intercept, slope=slope, origin=origin, first=points[0].date)


def forecast(spec: TargetSpec, observations: Iterable[Observation], d: date) -> Forecast:
    """Rule 7: the trend of the last four actuals, projected to the due date."""
    return _forecast_of(spec, observations_until(observations, d))


def _forecast_of(spec: TargetSpec, counted: Sequence[Observation]) -> Forecast:
    line = _trend_line_of(spec, counted)
    if line is None:
        return NO_FORECAST
    exact = line.at(spec.due_date)
    projected = _decimal(exact)
    toward = line.slope > 0 if spec.direction == Direction.AT_LEAST else line.slope < 0
    if not toward:
        return Forecast(projected=projected, reached_on=None, never=True, projected_exact=exact)
    # The first whole day on which the line meets the target value.
    day = math.ceil((Fraction(spec.target_value) - line.intercept) / line.slope)
    if day > (date.max - line.origin).days:
        # It would reach the target only after 9999-12-31: never, as far as a calendar goes.
        return Forecast(projected=projected, reached_on=None, never=True, projected_exact=exact)
    if day < (date.min - line.origin).days:
        return Forecast(projected=projected, reached_on=None, never=False, projected_exact=exact)
    return Forecast(
        projected=projected,
        reached_on=line.origin + timedelta(days=day),
        never=False,
        projected_exact=exact,
    )


def projected_ratio(spec: TargetSpec, projected: Decimal | Fraction) -> Fraction:
    """Rule 7's ratio of the projected value to the whole way from baseline to target."""
    return ratio_exact(spec, projected, spec.target_value)


def off_pace(spec: TargetSpec, trend: Forecast) -> bool:
    """Rule 7's override: a ``linear`` plan whose projection falls short by more than the
    tolerance."""
    return (
        spec.trajectory == Trajectory.LINEAR
        and trend.projected_exact is not None
        and projected_ratio(spec, trend.projected_exact) < ONE - spec.tolerance
    )


def clamp_percent(value: Decimal) -> Decimal:
    """A percentage as shown: within 0–100. The rules keep the line's own value (123 % tells
    how fast it moves); screens show what a percentage can be."""
    return min(max(value, ZERO), Decimal(100))


# --- all rules together ---------------------------------------------------


def assess(
    spec: TargetSpec,
    observations: Iterable[Observation],
    reported_periods: Iterable[str],
    d: date,
) -> Judgement:
    """Judge one target at ``d``.

    ``observations`` are the target's approved entries (any period end; later
    ones are ignored); ``reported_periods`` are the keys of periods that have a
    submitted or approved entry.
    """
    observations = observations_until(observations, d)  # sorted once for every rule below
    reported_periods = set(reported_periods)
    actual = _actual_of(spec, observations)
    as_of = observations[-1].period_end if observations else None
    has_data = actual is not None
    if actual is None:
        actual = spec.baseline_value
    expected_now = expected_exact(spec, d)
    # Version 2: the latest report is judged against the plan at the date it speaks for.
    expected = expected_exact(spec, as_of) if as_of is not None else expected_now
    ratio = ratio_exact(spec, actual, expected) if has_data else None
    # Statuses are judged on the exact ratio; Decimals are only for showing and storing.
    status = judge_status(spec, actual=actual, ratio=ratio, has_data=has_data, d=d)
    reason = RULE4_REASONS[status]
    trend = _forecast_of(spec, observations)
    if status in (Status.ON_TRACK, Status.AT_RISK) and off_pace(spec, trend):
        status, reason = Status.LAGGING, Reason.PACE
    overdue = overdue_periods(spec, reported_periods, d)
    return Judgement(
        evaluated_on=d,
        actual=actual,
        as_of=as_of,
        expected=_decimal(expected),
        expected_now=_decimal(expected_now),
        ratio=_decimal(ratio) if ratio is not None else None,
        status=status,
        reason=reason,
        reporting=_reporting(spec, reported_periods, d, overdue),
        overdue_periods=overdue,
        milestones_missed=milestones_missed(spec, observations, d),
        forecast=trend,
        share=_decimal(share_of_way(spec, actual)),
    )


# --- DESIGN §4: what a new status means next to the previous one -------------------


def transition(previous: Status | None, current: Status) -> Transition | None:
    """A worse status (higher severity), a recovery (back to 0 from 1 or more), or nothing.
    A target's first assessment is compared with ``no_data``."""
    before = SEVERITY[previous if previous is not None else Status.NO_DATA]
    now = SEVERITY[current]
    if now > before:
        return Transition.WORSENED
    if now == 0 and before > 0:
        return Transition.RECOVERED
    return None


def is_problem(status: Status) -> bool:
    """Still ``lagging`` or ``missed``: what escalates, and what keeps an escalation open."""
    return status in (Status.LAGGING, Status.MISSED)


def reminder_due(
    period: Period,
    grace_days: int,
    d: date,
    reminder_days: int,
    working_days: int | None = None,
) -> bool:
    """Whether ``d`` lies within ``reminder_days`` (calendar days) before the period's deadline
    (inclusive)."""
    deadline = report_deadline(period, grace_days, working_days)
    return add_days(deadline, -reminder_days) <= d <= deadline


@lru_cache(maxsize=4096)
def reminder_periods(
    frequency: Frequency,
    baseline_date: date,
    due_date: date,
    grace_days: int,
    d: date,
    reminder_days: int,
    calendar: Calendar = Calendar.CALENDAR,
    working_days: int | None = None,
) -> tuple[tuple[Period, date], ...]:
    """The reporting periods whose reminder is due on ``d`` (``reminder_due``), each with its
    deadline: the same for every target of a kind, so asked once per kind and day."""
    return tuple(
        (p, report_deadline(p, grace_days, working_days))
        for p in reporting_periods(frequency, baseline_date, due_date, calendar)
        if reminder_due(p, grace_days, d, reminder_days, working_days)
    )


def alert_condition_holds(
    kind: AlertKind,
    subject: str,
    judgement: Judgement,
    *,
    reported: set[str],
    period: Period | None,
    grace_days: int,
    d: date,
    working_days: int | None = None,
) -> bool:
    """Whether the condition an open alert reports still holds at ``judgement`` (at ``d``).

    ``subject`` is the alert's subject (a period key, a milestone date); ``period`` is the
    reporting period a reminder is about, if the target still has it.
    """
    status = Status(judgement.status)
    if kind == AlertKind.WORSENED:
        return SEVERITY[status] > 0
    if kind == AlertKind.ESCALATED:
        return is_problem(status)
    if kind == AlertKind.OVERDUE:
        return subject in judgement.overdue_periods
    if kind == AlertKind.MILESTONE_MISSED:
        return subject in {m.isoformat() for m in judgement.milestones_missed}
    if kind == AlertKind.REMINDER:
        # Settled once its period is reported, or overdue (the overdue alert takes over).
        if subject in reported:
            return False
        return period is not None and report_deadline(period, grace_days, working_days) >= d
    return True  # a recovery is news, not a condition: it stays as it is


# --- drawing a trend line (additive: screens' arithmetic kept with the rules) -------------


def line_within(
    line: TrendLine,
    start: date,
    end: date,
    low: Decimal | None = None,
    high: Decimal | None = None,
) -> list[Point]:
    """``line`` from ``start`` to ``end`` as points to draw, kept within [``low``, ``high``]
    when given: where it crosses a bound it goes on flat along it (a percentage's forecast
    stays within 0–100). A crossing falls on the nearest whole day, at the bound itself.
    """
    bounds = [Fraction(b) for b in (low, high) if b is not None]

    def kept(value: Fraction) -> Fraction:
        if low is not None:
            value = max(value, Fraction(low))
        if high is not None:
            value = min(value, Fraction(high))
        return value

    points = {day: kept(line.at(day)) for day in (start, end)}
    if line.slope:
        for bound in bounds:
            day = add_days(line.origin, round((bound - line.intercept) / line.slope))
            if start < day < end:
                points[day] = bound
    return [Point(day, _decimal(points[day])) for day in sorted(points)]


# --- which periods may be reported (additive: the entry form and the entries file) --------


def period_started(period: Period, today: date) -> bool:
    """Whether ``period`` may have an entry on ``today``: it has begun. A report for a period
    that has not started would speak for the future (and pass for the latest report)."""
    return period.start <= today
