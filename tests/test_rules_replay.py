"""A replay of what the daily evaluation job sees over four years, with the rules alone
(DESIGN §3 version 2 and the alert transitions of §4): the acceptance test of the change
from version 1, under which 21 targets reported exactly on plan raised 161 alerts.

24 quarterly targets, baseline 2025-12-31, due 2029-12-31 (1461 days), grace 30 days. Each
quarter's report arrives 20 days after the quarter ends: from then on it is an approved
entry with the quarter's period end and its period counts as reported. The job runs every
14 days from 2026-01-01 (105 runs, the last on 2026-01-01 + 104 × 14 = 2029-12-27). An alert
is counted as §4 counts it: a worse status than the previous run's (the first run compared
with no_data), each newly missed milestone once, each newly overdue period once.

21 targets report exactly on plan; 3 fall behind and must be seen within about one report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cache

from targets.rules import (
    Aggregation,
    Direction,
    Judgement,
    Observation,
    Point,
    Status,
    TargetSpec,
    Trajectory,
    Transition,
    assess,
    expected_exact,
    transition,
)

D = Decimal
BASELINE = date(2025, 12, 31)
DUE = date(2029, 12, 31)
REPORT_DELAY = timedelta(days=20)
STEP = timedelta(days=14)
QUARTER_ENDS = [
    date(year, month, day)
    for year in range(2026, 2030)
    for month, day in ((3, 31), (6, 30), (9, 30), (12, 31))
]
RUNS = [date(2026, 1, 1) + STEP * k for k in range(105)]
YEAR_ENDS = [date(year, 12, 31) for year in range(2026, 2029)]


def days(q: date) -> int:
    """Days since the baseline date: 2026-03-31 → 90, 2027-06-30 → 546, 2029-12-31 → 1461."""
    return (q - BASELINE).days


def quarter_key(q: date) -> str:
    return f"{q.year}-Q{q.month // 3}"


def previous_quarter_end(q: date) -> date:
    i = QUARTER_ENDS.index(q)
    return QUARTER_ENDS[i - 1] if i else BASELINE


@dataclass
class Plan:
    code: str
    spec: TargetSpec
    level: Callable[[date], Decimal]  # the actual the target is at on a quarter end
    shortfall: date | None = None  # the first quarter end whose report falls short of plan
    alerts: list[tuple[date, str]] = field(default_factory=list)
    judgements: list[Judgement] = field(default_factory=list)

    def report(self, q: date) -> Decimal:
        """The value entered for the quarter ending ``q``: the level, or for ``sum`` the flow
        since the previous quarter (so that baseline + the flows is the level)."""
        if self.spec.aggregation == Aggregation.SUM:
            before = previous_quarter_end(q)
            previous = self.spec.baseline_value if before == BASELINE else self.level(before)
            return self.level(q) - previous
        return self.level(q)


def spec(
    baseline: object,
    target: object,
    *,
    trajectory: Trajectory = Trajectory.LINEAR,
    direction: Direction = Direction.AT_LEAST,
    aggregation: Aggregation = Aggregation.LATEST,
    milestones: tuple[tuple[date, object], ...] = (),
    tolerance: str = "0.10",
) -> TargetSpec:
    return TargetSpec(
        baseline_value=D(str(baseline)),
        baseline_date=BASELINE,
        target_value=D(str(target)),
        due_date=DUE,
        direction=direction,
        aggregation=aggregation,
        trajectory=trajectory,
        milestones=tuple(Point(d, D(str(v))) for d, v in milestones),
        grace_days=30,
        tolerance=D(tolerance),
    )


def linear(base: int, rate: int) -> Callable[[date], Decimal]:
    """On a linear plan from ``base`` to ``base + rate × 1461``: ``base + rate × days``."""
    return lambda q: D(base + rate * days(q))


def stepped(base: int, steps: list[tuple[date, int]]) -> Callable[[date], Decimal]:
    """On a step plan (``steps`` in date order): the value of the last step dated on or
    before ``q``, the baseline before the first."""

    def level(q: date) -> Decimal:
        value = base
        for when, step_value in steps:
            if when <= q:
                value = step_value
        return D(value)

    return level


def on_smooth_curve(s: TargetSpec) -> Callable[[date], Decimal]:
    """On a smooth plan: its expected value at the quarter end, entered to 2 decimals (the
    milestones are whole numbers, so on a milestone date this is exact)."""

    def level(q: date) -> Decimal:
        exact = expected_exact(s, q)
        return (D(exact.numerator) / D(exact.denominator)).quantize(D("0.01"))

    return level


def stalled(level: Callable[[date], Decimal], last_good: date) -> Callable[[date], Decimal]:
    """Reports on plan up to ``last_good``, then the same value again and again."""
    return lambda q: level(min(q, last_good))


def yearly(*values) -> tuple[tuple[date, object], ...]:
    return tuple(zip(YEAR_ENDS, values, strict=True))


def _smooth(baseline, target, *milestones, direction=Direction.AT_LEAST) -> TargetSpec:
    return spec(
        baseline,
        target,
        trajectory=Trajectory.SMOOTH,
        direction=direction,
        milestones=yearly(*milestones),
    )


S_CURVE = _smooth(0, 100, 10, 50, 90)


def plans() -> list[Plan]:
    parks = [(date(2027, 12, 31), 1)]
    four = [(date(2026, 12, 31), 1), (date(2027, 12, 31), 2), (date(2028, 12, 31), 3)]
    halves = [(date(2026, 6, 30), 1), (date(2028, 6, 30), 2)]
    smooth_plans = {
        "S-0-10-50-90-100": S_CURVE,
        "S-5-20-60-85-100": _smooth(5, 100, 20, 60, 85),
        "S-AT-MOST": _smooth(100, 10, 95, 70, 30, direction=Direction.AT_MOST),
        "S-WORKERS": _smooth(0, 20000, 1000, 6000, 15000),
        "S-OCCUPANCY": _smooth(40, 80, 42, 50, 70),
    }
    straight = spec(0, 1461, trajectory=Trajectory.SMOOTH)
    on_plan = [
        # linear: expected = baseline + rate × days, whole numbers on every quarter end
        Plan("L-UP", spec(0, 1461), linear(0, 1)),
        Plan("L-UP-2", spec(50, 50 + 2 * 1461), linear(50, 2)),
        Plan("L-SUM", spec(0, 1461, aggregation=Aggregation.SUM), linear(0, 1)),
        Plan("L-SUM-4", spec(100, 100 + 4 * 1461, aggregation=Aggregation.SUM), linear(100, 4)),
        Plan("L-DOWN", spec(2000, 2000 - 1461, direction=Direction.AT_MOST), linear(2000, -1)),
        Plan(
            "L-DOWN-TIGHT",
            spec(1461, 0, direction=Direction.AT_MOST, tolerance="0.05"),
            linear(1461, -1),
        ),
        Plan(
            "L-DOWN-SUM",
            spec(3000, 3000 - 1461, direction=Direction.AT_MOST, aggregation=Aggregation.SUM),
            linear(3000, -1),
        ),
        Plan("L-UP-3-TIGHT", spec(10, 10 + 3 * 1461, tolerance="0.05"), linear(10, 3)),
        # a milestone on the line itself: 2027-12-31 is day 730
        Plan(
            "L-UP-MILESTONE",
            spec(0, 1461, milestones=((date(2027, 12, 31), 730),)),
            linear(0, 1),
        ),
        # step: count-like commitments
        Plan(
            "P-PARKS",
            spec(0, 2, trajectory=Trajectory.STEP, milestones=tuple(parks)),
            stepped(0, parks),
        ),
        Plan(
            "P-YEARLY",
            spec(0, 4, trajectory=Trajectory.STEP, milestones=tuple(four)),
            stepped(0, four),
        ),
        Plan("P-RESORT", spec(0, 1, trajectory=Trajectory.STEP), stepped(0, [])),
        Plan(
            "P-DOWN",
            spec(
                5,
                1,
                trajectory=Trajectory.STEP,
                direction=Direction.AT_MOST,
                milestones=((date(2027, 12, 31), 3),),
            ),
            stepped(5, [(date(2027, 12, 31), 3)]),
        ),
        Plan(
            "P-SUM",
            spec(
                0,
                4,
                trajectory=Trajectory.STEP,
                aggregation=Aggregation.SUM,
                milestones=tuple(four),
            ),
            stepped(0, four),
        ),
        Plan(
            "P-HALVES",
            spec(0, 3, trajectory=Trajectory.STEP, milestones=tuple(halves)),
            stepped(0, halves),
        ),
        # smooth: S-curves entered as yearly milestones, and one without milestones
        *(Plan(code, s, on_smooth_curve(s)) for code, s in smooth_plans.items()),
        Plan("S-STRAIGHT", straight, linear(0, 1)),
    ]
    behind = [
        # linear, on plan to 2027-Q2 (day 546), then stuck at 546
        Plan(
            "X-LINEAR",
            spec(0, 1461),
            stalled(linear(0, 1), date(2027, 6, 30)),
            shortfall=date(2027, 9, 30),
        ),
        # smooth S-curve, on plan to 2027-12-31 (the milestone 50), then stuck at 50
        Plan(
            "X-SMOOTH",
            S_CURVE,
            stalled(on_smooth_curve(S_CURVE), date(2027, 12, 31)),
            shortfall=date(2028, 3, 31),
        ),
        # step 0 → 1 (2027) → 2 (2028) → 3: the first park comes on time, the second never
        Plan(
            "X-STEP",
            spec(
                0,
                3,
                trajectory=Trajectory.STEP,
                milestones=((date(2027, 12, 31), 1), (date(2028, 12, 31), 2)),
            ),
            stalled(
                stepped(0, [(date(2027, 12, 31), 1), (date(2028, 12, 31), 2)]), date(2028, 9, 30)
            ),
            shortfall=date(2028, 12, 31),
        ),
    ]
    return on_plan + behind


@cache
def replayed() -> tuple[Plan, ...]:
    result = plans()
    for plan in result:
        previous: Status | None = None
        seen_milestones: set[date] = set()
        seen_overdue: set[str] = set()
        for d in RUNS:
            arrived = [q for q in QUARTER_ENDS if q + REPORT_DELAY <= d]
            entries = [Observation(period_end=q, value=plan.report(q)) for q in arrived]
            j = assess(plan.spec, entries, [quarter_key(q) for q in arrived], d)
            plan.judgements.append(j)
            if transition(previous, j.status) == Transition.WORSENED:
                plan.alerts.append((d, f"worsened to {j.status}"))
            for m in j.milestones_missed:
                if m not in seen_milestones:
                    seen_milestones.add(m)
                    plan.alerts.append((d, f"milestone {m} missed"))
            for key in j.overdue_periods:
                if key not in seen_overdue:
                    seen_overdue.add(key)
                    plan.alerts.append((d, f"{key} overdue"))
            previous = j.status
    return tuple(result)


def on_plan() -> list[Plan]:
    return [p for p in replayed() if p.shortfall is None]


def behind() -> list[Plan]:
    return [p for p in replayed() if p.shortfall is not None]


def test_the_replay_covers_24_targets_over_105_runs():
    assert RUNS[-1] == date(2029, 12, 27)
    assert len(on_plan()) == 21, [p.code for p in on_plan()]
    assert len(behind()) == 3
    assert sum(len(p.judgements) for p in replayed()) == 24 * 105


def test_targets_on_plan_raise_no_alert_in_four_years():
    alerts = {p.code: p.alerts for p in on_plan() if p.alerts}
    count = sum(len(a) for a in alerts.values())
    assert count == 0, f"{count} alerts for targets exactly on plan: {alerts}"


def test_targets_on_plan_are_never_worse_than_on_track():
    seen = {
        p.code: sorted({j.status for j in p.judgements} - {Status.NO_DATA, Status.ON_TRACK})
        for p in on_plan()
    }
    seen = {code: statuses for code, statuses in seen.items() if statuses}
    assert seen == {}, f"statuses other than no_data/on_track on plan: {seen}"


def test_on_plan_targets_read_no_data_until_the_first_report_then_on_track():
    # the first report (2026-Q1, period end 03-31) arrives 2026-04-20; the runs before it are
    # 2026-01-01 + 14k for k ≤ 7 (k = 7 is 04-09, k = 8 is 04-23)
    for p in on_plan():
        statuses = [j.status for j in p.judgements]
        assert statuses[:8] == [Status.NO_DATA] * 8, p.code
        assert set(statuses[8:]) == {Status.ON_TRACK}, p.code


def test_smooth_s_curves_on_plan_are_never_lagging():
    smooth = [p for p in on_plan() if p.spec.trajectory == Trajectory.SMOOTH]
    assert len(smooth) == 6
    lagging = {
        p.code: [j.evaluated_on for j in p.judgements if j.status == Status.LAGGING] for p in smooth
    }
    assert all(not days_ for days_ in lagging.values()), f"smooth on plan but lagging: {lagging}"


def test_no_report_is_ever_overdue():
    # every report arrives 20 days after its quarter, inside the 30 grace days
    overdue = {p.code: [a for a in p.alerts if "overdue" in a[1]] for p in replayed()}
    assert all(not a for a in overdue.values()), overdue


def _first_alert(code: str) -> tuple[date, str]:
    plan = next(p for p in behind() if p.code == code)
    assert plan.alerts, f"{code} fell behind but raised no alert"
    return plan.alerts[0]


def _latest_allowed(shortfall: date) -> date:
    """The shortfall's report arrives at its quarter end + 20 days; it must be seen by the
    run after the next report: the next quarter's end + 20 days + 14 days."""
    following = QUARTER_ENDS[QUARTER_ENDS.index(shortfall) + 1]
    return following + REPORT_DELAY + STEP


def test_each_target_that_falls_behind_is_alerted_within_one_report():
    for plan in behind():
        when, what = _first_alert(plan.code)
        arrives = plan.shortfall + REPORT_DELAY
        assert arrives <= when <= _latest_allowed(plan.shortfall), (
            f"{plan.code}: shortfall reported for {plan.shortfall}, arrives {arrives}; "
            f"first alert {when} ({what}); all alerts {plan.alerts}"
        )


def test_stalled_linear_target_is_alerted_on_the_first_run_after_its_q3_report():
    # 2027-Q3's report (still 546, expected(2027-09-30) = day 638) arrives 2027-10-20; the
    # runs fall on 2026-01-01 + 14k: 2027-10-20 is day 657, so k = 47 → day 658 = 2027-10-21.
    # ratio 546/638 = 0.856 < 0.9 → at_risk at least → worse than on_track
    when, what = _first_alert("X-LINEAR")
    assert when == date(2027, 10, 21), what
    assert what.startswith("worsened")


def test_stalled_smooth_target_is_alerted_the_day_its_2028_q1_report_arrives():
    # 2028-Q1 reports 50 again; 2028-04-20 is day 840 = 14 × 60, a run day.
    # expected(2028-03-31) on (2027-12-31, 50)–(2028-12-31, 90), h = 366, t = 91/366 = 0.2486:
    # slopes 2193/20038.5 = 0.10944 and 2193/50068.9 = 0.04380 (weights 1097/1096, secants
    # 40/365, 40/366, 10/365); h00 = 0.84528, h10 = 0.14037, h01 = 0.15472, h11 = −0.04645
    # → 42.264 + 5.622 + 13.925 − 0.745 = 61.07; ratio 50/61.07 = 0.819 → at_risk
    when, what = _first_alert("X-SMOOTH")
    assert when == date(2028, 4, 20), what
    assert what == f"worsened to {Status.AT_RISK}"
    plan = next(p for p in behind() if p.code == "X-SMOOTH")
    j = next(j for j in plan.judgements if j.evaluated_on == when)
    assert D("61.06") < j.expected < D("61.08")


def test_stalled_step_target_is_alerted_the_first_run_after_its_2028_q4_report():
    # 2028-Q4 reports 1 where the plan steps to 2 on 2028-12-31; it arrives 2029-01-20
    # (day 1115); the next run is k = 80, day 1120 = 2029-01-25: ratio (1 − 0)/(2 − 0) = 0.5
    # → lagging, and the milestone 2028-12-31 (2) is missed as of the end of 2028-Q4
    plan = next(p for p in behind() if p.code == "X-STEP")
    first_day = [a for a in plan.alerts if a[0] == plan.alerts[0][0]]
    assert first_day == [
        (date(2029, 1, 25), f"worsened to {Status.LAGGING}"),
        (date(2029, 1, 25), "milestone 2028-12-31 missed"),
    ]


def test_alert_counts_for_the_targets_that_fall_behind_are_few():
    # once behind, a target may worsen step by step (at_risk → lagging) and miss a milestone
    # or two, but never floods: at most four alerts each
    counts = {p.code: len(p.alerts) for p in behind()}
    assert all(1 <= n <= 4 for n in counts.values()), counts
