"""DESIGN §3 — how progress is judged — as pure functions over plain values.

No ORM, no settings, no clock: every input is passed in, every number is a
Decimal, every date a ``datetime.date``. Services turn model rows into the
plain values below and store what comes back.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from functools import lru_cache
from itertools import pairwise

ONE = Decimal(1)
ZERO = Decimal(0)


class Direction(StrEnum):
    AT_LEAST = "at_least"
    AT_MOST = "at_most"


class Aggregation(StrEnum):
    LATEST = "latest"
    SUM = "sum"


class Trajectory(StrEnum):
    LINEAR = "linear"
    STEP = "step"


class Frequency(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    HALF_YEARLY = "half_yearly"
    YEARLY = "yearly"


class Status(StrEnum):
    ACHIEVED = "achieved"
    MISSED = "missed"
    NO_DATA = "no_data"
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    LAGGING = "lagging"


class Reporting(StrEnum):
    OK = "ok"  # every period that has ended is reported
    DUE = "due"  # a period has ended and is unreported, but still within its grace days
    OVERDUE = "overdue"  # a period's end + grace days has passed without a report


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


@dataclass(frozen=True)
class Forecast:
    projected: Decimal | None  # the trend line's value at the due date
    reached_on: date | None  # the day the trend line meets the target value
    never: bool  # the line does not move toward the target value
    projected_exact: Fraction | None = field(default=None, compare=False, repr=False)

    @property
    def label(self) -> str | None:
        if self.never:
            return "never"
        return self.reached_on.isoformat() if self.reached_on else None


NO_FORECAST = Forecast(projected=None, reached_on=None, never=False)


@dataclass(frozen=True)
class Judgement:
    """The assessment of one target at one date (DESIGN §3, rules 1–7)."""

    evaluated_on: date
    actual: Decimal
    expected: Decimal
    ratio: Decimal | None  # None when there is no approved entry yet
    status: Status
    reporting: Reporting
    overdue_periods: list[str] = field(default_factory=list)
    milestones_missed: list[date] = field(default_factory=list)
    forecast: Forecast = NO_FORECAST


# --- rule 1: actual -------------------------------------------------------


def observations_until(observations: Iterable[Observation], d: date) -> list[Observation]:
    """Approved observations whose period ended on or before ``d``, oldest first."""
    return sorted((o for o in observations if o.period_end <= d), key=lambda o: o.period_end)


def actual_at(spec: TargetSpec, observations: Iterable[Observation], d: date) -> Decimal | None:
    """Rule 1. None when no approved entry has ended by ``d`` (actual is then the baseline)."""
    counted = observations_until(observations, d)
    if not counted:
        return None
    if spec.aggregation == Aggregation.SUM:
        return spec.baseline_value + sum((o.value for o in counted), ZERO)
    return counted[-1].value


# --- rule 2: expected trajectory -----------------------------------------


def trajectory_points(spec: TargetSpec) -> list[Point]:
    milestones = sorted(spec.milestones, key=lambda p: p.date)
    return [
        Point(spec.baseline_date, spec.baseline_value),
        *milestones,
        Point(spec.due_date, spec.target_value),
    ]


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
    for left, right in pairwise(points):
        if left.date <= d <= right.date:
            span = (right.date - left.date).days
            if span == 0:
                return Fraction(right.value)
            elapsed = (d - left.date).days
            return Fraction(left.value) + (
                Fraction(right.value) - Fraction(left.value)
            ) * Fraction(elapsed, span)
    return Fraction(points[-1].value)  # unreachable: the clamps above cover every date


def expected_at(spec: TargetSpec, d: date) -> Decimal:
    """Rule 2: the expected value at ``d`` (to 28 significant digits)."""
    return _decimal(expected_exact(spec, d))


# --- rules 3 and 4: ratio and status --------------------------------------


def ratio_exact(
    spec: TargetSpec, actual: Decimal | Fraction, expected: Decimal | Fraction
) -> Fraction:
    """Rule 3. For ``at_most`` both differences flip sign, so one formula serves both."""
    baseline = Fraction(spec.baseline_value)
    if spec.direction == Direction.AT_MOST:
        done, due = baseline - Fraction(actual), baseline - Fraction(expected)
    else:
        done, due = Fraction(actual) - baseline, Fraction(expected) - baseline
    if due == 0:
        return Fraction(1)
    return done / due


def progress_ratio(
    spec: TargetSpec, actual: Decimal | Fraction, expected: Decimal | Fraction
) -> Decimal:
    """Rule 3 (to 28 significant digits)."""
    return _decimal(ratio_exact(spec, actual, expected))


def meets(direction: Direction, value: Decimal, threshold: Decimal) -> bool:
    if direction == Direction.AT_MOST:
        return value <= threshold
    return value >= threshold


def judge_status(
    spec: TargetSpec, *, actual: Decimal, ratio: Decimal | Fraction, has_data: bool, d: date
) -> Status:
    """Rule 4, first match wins."""
    if meets(spec.direction, actual, spec.target_value):
        return Status.ACHIEVED
    if d > spec.due_date:
        return Status.MISSED
    if not has_data:
        return Status.NO_DATA
    if ratio >= ONE - spec.tolerance:
        return Status.ON_TRACK
    if ratio >= ONE - 2 * spec.tolerance:
        return Status.AT_RISK
    return Status.LAGGING


# --- rule 5: milestones missed -------------------------------------------


def milestones_missed(
    spec: TargetSpec, observations: Iterable[Observation], d: date
) -> list[date]:
    """Milestones due by ``d`` whose value the actual as of the milestone date did not meet."""
    observations = list(observations)
    missed = []
    for milestone in sorted(spec.milestones, key=lambda p: p.date):
        if milestone.date > d:
            continue
        actual = actual_at(spec, observations, milestone.date)
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


def period_containing(frequency: Frequency, d: date) -> Period:
    months = _MONTHS_PER_PERIOD[frequency]
    first_month = (d.month - 1) // months * months + 1
    last_month = first_month + months - 1
    return Period(
        key=_period_key(frequency, d.year, first_month),
        start=date(d.year, first_month, 1),
        end=_month_end(d.year, last_month),
    )


@lru_cache(maxsize=4096)
def reporting_periods(
    frequency: Frequency, baseline_date: date, due_date: date
) -> tuple[Period, ...]:
    """The calendar periods that end after the baseline date and start on or before the due date.

    Cached: a pure function of three values that every rule about reporting asks for.
    """
    periods = []
    period = period_containing(frequency, baseline_date)
    if period.end <= baseline_date:
        period = period_containing(frequency, period.end + timedelta(days=1))
    while period.start <= due_date:
        periods.append(period)
        period = period_containing(frequency, period.end + timedelta(days=1))
    return tuple(periods)


def spec_periods(spec: TargetSpec) -> tuple[Period, ...]:
    return reporting_periods(spec.frequency, spec.baseline_date, spec.due_date)


def find_period(spec: TargetSpec, key: str) -> Period | None:
    """The target's reporting period written ``key`` (``2026-Q1``), or None if it has none such."""
    for period in spec_periods(spec):
        if period.key == key:
            return period
    return None


def overdue_periods(spec: TargetSpec, reported: Iterable[str], d: date) -> list[str]:
    """Rule 6: periods whose end + grace days < ``d`` with no submitted or approved entry."""
    reported = set(reported)
    grace = timedelta(days=spec.grace_days)
    return [
        p.key for p in spec_periods(spec) if p.end + grace < d and p.key not in reported
    ]


def reporting_state(spec: TargetSpec, reported: Iterable[str], d: date) -> Reporting:
    reported = set(reported)
    if overdue_periods(spec, reported, d):
        return Reporting.OVERDUE
    if any(p.end < d and p.key not in reported for p in spec_periods(spec)):
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
    day the line meets the target by one.
    """
    origin = points[0].date
    xs = [Fraction((p.date - origin).days) for p in points]
    ys = [Fraction(p.value) for p in points]
    n = len(points)
    mean_x = sum(xs, Fraction(0)) / n
    mean_y = sum(ys, Fraction(0)) / n
    sxx = sum(((x - mean_x) ** 2 for x in xs), Fraction(0))
    sxy = sum(((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)), Fraction(0))
    slope = sxy / sxx if sxx else Fraction(0)
    return mean_y - slope * mean_x, slope, origin


def _decimal(value: Fraction) -> Decimal:
    return Decimal(value.numerator) / Decimal(value.denominator)


def forecast(spec: TargetSpec, observations: Iterable[Observation], d: date) -> Forecast:
    """Rule 7: the trend of the last four actuals, projected to the due date."""
    counted = observations_until(observations, d)
    if len(counted) < FORECAST_MIN_ENTRIES:
        return NO_FORECAST
    points = trend_points(spec, counted)[-FORECAST_WINDOW:]
    intercept, slope, origin = least_squares(points)
    exact = intercept + slope * (spec.due_date - origin).days
    projected = _decimal(exact)
    toward = slope > 0 if spec.direction == Direction.AT_LEAST else slope < 0
    if not toward:
        return Forecast(projected=projected, reached_on=None, never=True, projected_exact=exact)
    # The first whole day on which the line meets the target value.
    day = math.ceil((Fraction(spec.target_value) - intercept) / slope)
    return Forecast(
        projected=projected,
        reached_on=origin + timedelta(days=day),
        never=False,
        projected_exact=exact,
    )


def projected_ratio(spec: TargetSpec, projected: Decimal | Fraction) -> Fraction:
    """Rule 7's ratio of the projected value to the whole way from baseline to target."""
    return ratio_exact(spec, projected, spec.target_value)


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
    observations = list(observations)
    reported_periods = set(reported_periods)
    actual = actual_at(spec, observations, d)
    has_data = actual is not None
    if actual is None:
        actual = spec.baseline_value
    expected = expected_exact(spec, d)
    ratio = ratio_exact(spec, actual, expected)
    # Statuses are judged on the exact ratio; Decimals are only for showing and storing.
    status = judge_status(spec, actual=actual, ratio=ratio, has_data=has_data, d=d)
    trend = forecast(spec, observations, d)
    if (
        spec.trajectory == Trajectory.LINEAR
        and status in (Status.ON_TRACK, Status.AT_RISK)
        and trend.projected_exact is not None
        and projected_ratio(spec, trend.projected_exact) < ONE - spec.tolerance
    ):
        status = Status.LAGGING
    return Judgement(
        evaluated_on=d,
        actual=actual,
        expected=_decimal(expected),
        ratio=_decimal(ratio) if has_data else None,
        status=status,
        reporting=reporting_state(spec, reported_periods, d),
        overdue_periods=overdue_periods(spec, reported_periods, d),
        milestones_missed=milestones_missed(spec, observations, d),
        forecast=trend,
    )
