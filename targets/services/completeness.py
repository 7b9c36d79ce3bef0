"""Reporting completeness (issue 13, "who has not reported"): units × periods, and reminders.

A unit's **cell** for a period (a key such as ``2026-Q1``) aggregates the unit's own targets
(those whose responsible unit it is) that have that reporting period. Each target, on
``today``, with its entry for the period (if any) and the period's deadline (``rules``: the
period's end + grace days, or the working days after it; a Decree-09 period ends on the 14th):

- *on time* — its entry is approved and was submitted on or before the deadline;
- *late* — its entry is approved but was submitted after the deadline;
- *submitted* — its entry is submitted and waits for approval (whenever it was submitted);
- *missing* — nothing submitted (no entry, a draft, or an entry returned for correction) and
  the deadline has passed (deadline < today: the deadline day itself is still on time);
- *not yet due* — nothing submitted and the deadline has not passed.

"Submitted" is the day (in the deployment's time zone) of the entry's ``submitted_at``: its
last submission, so an entry returned and submitted again after the deadline is late. An
approved entry without a submission time (written outside the workflow) counts its review
time, else its creation.

The cell takes the first of its targets' states in this order: missing, not yet due,
submitted, late, on time. So a cell is *on time* only when every target is; *late* when every
target is approved and one came late; *submitted* when every target has been submitted and one
still waits for approval; *not yet due* when a target still owes its report but none is
overdue; *missing* as soon as one target's report is overdue. A unit with no target in a period
has no cell there (None), and a unit with no target in any of the periods asked has no row.

A cell's deadline is the latest deadline of its targets. A unit's **on-time rate** is its on-time
cells among its cells whose deadline has passed (deadline < today): the share of the reports
already due that came on time. None (shown "—") while no cell's deadline has passed.

``completeness`` reads two queries (the targets, their entries for the periods) whatever the
number of units, targets and periods: the screen, its exports and the periodic report use it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import QuerySet
from django.db.models.functions import Coalesce
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from targets import access, rules
from targets.errors import NotAllowed, WorkflowError
from targets.formatting import person_name
from targets.models import (
    AlertKind,
    EntryStatus,
    Membership,
    ProgressEntry,
    ReportingReminder,
    Target,
    Unit,
)
from targets.services.alerts import Event, events_record

# One reminder per unit and period in this time: a second click says when the next may go.
REMINDER_INTERVAL = timedelta(hours=24)
MAX_PERIODS = 24  # columns of one grid


class CellState:
    """The state of a unit's report for a period (the module's docstring defines each)."""

    ON_TIME = "on_time"
    LATE = "late"
    SUBMITTED = "submitted"
    MISSING = "missing"
    NOT_YET_DUE = "not_yet_due"

    # The order in which a cell takes its targets' states: the first one any target has.
    PRECEDENCE = (MISSING, NOT_YET_DUE, SUBMITTED, LATE, ON_TIME)
    # The screen's and the exports' order.
    ORDER = (ON_TIME, LATE, SUBMITTED, MISSING, NOT_YET_DUE)
    LABELS = {
        ON_TIME: gettext_lazy("Reported on time"),
        LATE: gettext_lazy("Reported late"),
        SUBMITTED: gettext_lazy("Submitted, not approved"),
        MISSING: gettext_lazy("Missing"),
        NOT_YET_DUE: gettext_lazy("Not yet due"),
    }

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(state, cls.LABELS[state]) for state in cls.ORDER]


# --- period keys -------------------------------------------------------------------------------

def period_keys(frequency: rules.Frequency, start: date, end: date) -> list[str]:
    """The keys of the periods of ``frequency`` from the one holding ``start`` to the one
    holding ``end`` (calendar periods: a Decree-09 period has the same key), at most
    MAX_PERIODS + 1 (a caller refuses more)."""
    keys: list[str] = []
    period = rules.period_containing(frequency, start)
    last = rules.period_containing(frequency, end).key
    while len(keys) <= MAX_PERIODS:
        keys.append(period.key)
        if period.key == last or period.end >= date.max:
            break
        period = rules.period_containing(frequency, period.end + timedelta(days=1))
    return keys


# --- the grid ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    state: str  # a CellState
    targets: int  # the unit's targets with this period
    deadline: date  # the latest of their deadlines
    # The targets with nothing submitted whose period has ended: what a reminder is about.
    unreported: tuple[int, ...] = ()

    @property
    def label(self) -> str:
        return str(CellState.LABELS[self.state])

    def deadline_passed(self, today: date) -> bool:
        return self.deadline < today


@dataclass
class Row:
    unit: Unit
    cells: dict[str, Cell | None]  # by period key, None: no target in that period
    counts: dict[str, int] = field(default_factory=dict)  # by CellState
    due: int = 0  # cells whose deadline has passed
    on_time: int = 0  # of those, on time
    on_time_rate: Decimal | None = None  # on_time / due, None when due is 0

    @property
    def remindable(self) -> list[str]:
        """The periods this unit may be reminded of: some target's report is missing, or its
        period has ended and nothing is submitted yet."""
        return [key for key, cell in self.cells.items() if cell is not None and cell.unreported]


@dataclass
class Grid:
    periods: list[str]
    today: date
    rows: list[Row]

    def totals(self) -> dict[str, int]:
        totals = dict.fromkeys(CellState.ORDER, 0)
        for row in self.rows:
            for state, count in row.counts.items():
                totals[state] += count
        return totals


def _target_state(status: str | None, submitted_on: date | None, deadline: date,
                  today: date) -> str:
    if status == EntryStatus.APPROVED:
        if submitted_on is not None and submitted_on > deadline:
            return CellState.LATE
        return CellState.ON_TIME
    if status == EntryStatus.SUBMITTED:
        return CellState.SUBMITTED
    # No entry, a draft or a returned entry: nothing submitted (rule 6 reads it so too).
    return CellState.MISSING if deadline < today else CellState.NOT_YET_DUE


def _rate(on_time: int, due: int) -> Decimal | None:
    if not due:
        return None
    return (Decimal(on_time) / Decimal(due)).quantize(Decimal("0.0001"))


def completeness(
    *,
    units: Iterable[Unit],
    periods: Sequence[str],
    today: date,
    targets: QuerySet[Target] | None = None,
) -> Grid:
    """The completeness of ``units``' reports for ``periods`` (keys, one frequency or several)
    on ``today``. ``targets``: the targets to count (a plan's, the user's scope); all by
    default — only those of ``units`` with the periods' frequencies are read.

    Two queries whatever the numbers of units, targets and periods.
    """
    units = list(units)
    periods = list(dict.fromkeys(periods))
    frequencies = {rules.key_frequency(key) for key in periods} - {None}
    if not units or not frequencies:
        return Grid(periods=periods, today=today, rows=[])
    counted = (targets if targets is not None else Target.objects.all()).filter(
        responsible_unit__in=[unit.pk for unit in units], frequency__in=sorted(frequencies),
        register_measure__isnull=True,  # the register reports those
    )
    wanted = set(periods)
    # target id -> unit id, and each of its periods asked: (end, deadline)
    owners: dict[int, int] = {}
    deadlines: dict[int, dict[str, tuple[date, date]]] = {}
    for pk, unit_id, frequency, baseline, due, grace, calendar, working in counted.order_by(
    ).values_list("pk", "responsible_unit_id", "frequency", "baseline_date", "due_date",
                  "grace_days", "reporting_calendar", "deadline_working_days"):
        found = {
            key: (end, deadline)
            for key, end, deadline in rules.period_deadlines(
                rules.Frequency(frequency), baseline, due, grace, rules.Calendar(calendar),
                working,
            )
            if key in wanted
        }
        if found:
            owners[pk] = unit_id
            deadlines[pk] = found
    entries: dict[tuple[int, str], tuple[str, date | None]] = {}
    if owners:
        for target_id, key, status, submitted in (
            ProgressEntry.objects.filter(target__in=counted, period__in=periods)
            .order_by()
            .values_list(
                "target_id", "period", "status",
                Coalesce("submitted_at", "reviewed_at", "created_at"),
            )
        ):
            entries[target_id, key] = (
                status, timezone.localdate(submitted) if submitted else None
            )
    # unit id -> key -> [(target id, state, end, deadline)]
    found: dict[int, dict[str, list[tuple[int, str, date, date]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for target_id, by_key in deadlines.items():
        for key, (end, deadline) in by_key.items():
            status, submitted_on = entries.get((target_id, key), (None, None))
            state = _target_state(status, submitted_on, deadline, today)
            found[owners[target_id]][key].append((target_id, state, end, deadline))
    rows = []
    for unit in units:
        by_key = found.get(unit.pk)
        if not by_key:
            continue
        row = Row(unit=unit, cells={}, counts=dict.fromkeys(CellState.ORDER, 0))
        for key in periods:
            parts = by_key.get(key)
            if not parts:
                row.cells[key] = None
                continue
            states = {state for _pk, state, _end, _deadline in parts}
            state = next(s for s in CellState.PRECEDENCE if s in states)
            cell = Cell(
                state=state,
                targets=len(parts),
                deadline=max(deadline for *_rest, deadline in parts),
                unreported=tuple(sorted(
                    pk for pk, s, end, _deadline in parts
                    if s in (CellState.MISSING, CellState.NOT_YET_DUE) and end < today
                )),
            )
            row.cells[key] = cell
            row.counts[state] += 1
            if cell.deadline_passed(today):
                row.due += 1
                row.on_time += state == CellState.ON_TIME
        row.on_time_rate = _rate(row.on_time, row.due)
        rows.append(row)
    return Grid(periods=periods, today=today, rows=rows)


# --- reminders ---------------------------------------------------------------------------------


class ReminderTooSoon(WorkflowError):
    """The unit was reminded of the period less than REMINDER_INTERVAL ago: nothing sent."""

    def __init__(self, message: str, next_at: datetime) -> None:
        super().__init__(message)
        self.next_at = next_at


def _when(moment: datetime) -> str:
    local = timezone.localtime(moment)
    return (f"{formats.date_format(local, 'SHORT_DATE_FORMAT')} "
            f"{formats.time_format(local, 'H:i')}")


@transaction.atomic
def reminder_send(
    *, user, unit_id: int, period: str, today: date | None = None, now: datetime | None = None
) -> ReportingReminder:
    """Remind the members (staff and managers) of a unit of its report for ``period``: one
    alert per target with nothing submitted whose period has ended, in their inboxes and by
    email (one digest each), and a ReportingReminder row recording it.

    By a manager whose subtree holds the unit. At most once per unit and period in
    REMINDER_INTERVAL: the unit's row is locked while the last reminder is read, so two
    clicks at once send once; the second raises ReminderTooSoon and writes nothing.
    """
    unit = Unit.objects.select_for_update().filter(pk=unit_id).first()
    if unit is None:
        raise WorkflowError(_("This unit no longer exists."))
    if not access.can_remind(user, unit):
        raise NotAllowed(_("You may not remind this unit."))
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    last = (
        ReportingReminder.objects.filter(unit=unit, period=period)
        .order_by("-sent_at").values_list("sent_at", flat=True).first()
    )
    if last is not None and now < last + REMINDER_INTERVAL:
        next_at = last + REMINDER_INTERVAL
        raise ReminderTooSoon(
            _("%(unit)s was reminded of %(period)s on %(last)s; the next reminder may be sent "
              "from %(next)s.")
            % {"unit": unit.localized("name"), "period": period, "last": _when(last),
               "next": _when(next_at)},
            next_at,
        )
    grid = completeness(units=[unit], periods=[period], today=today)
    cell = grid.rows[0].cells.get(period) if grid.rows else None
    if cell is None or not cell.unreported:
        raise WorkflowError(
            _("%(unit)s has nothing left to report for %(period)s.")
            % {"unit": unit.localized("name"), "period": period}
        )
    members = frozenset(
        Membership.objects.filter(unit=unit, user__is_active=True).values_list(
            "user_id", flat=True
        )
    ) - {user.pk}
    if not members:
        raise WorkflowError(_("%(unit)s has nobody to remind.") % {"unit": unit.localized("name")})
    reminder = ReportingReminder.objects.create(
        unit=unit, period=period, sent_by=user, sent_at=now, recipients=len(members),
        targets=len(cell.unreported),
    )
    events = []
    for target in Target.objects.filter(pk__in=cell.unreported).select_related(
        "latest_assessment"
    ).order_by("code"):
        found = rules.find_period(target.spec(milestones=[]), period)
        deadline = target.report_deadline(found) if found is not None else cell.deadline
        assessment = target.latest_assessment
        events.append(Event(
            target=target, kind=AlertKind.REPORT_REQUESTED, subject=f"{period}:{reminder.pk}",
            status=assessment.status if assessment is not None else "",
            user_ids=members,
            params={"period": period, "deadline": deadline.isoformat(), "by": person_name(user)},
        ))
    events_record(events=events, on=today)
    return reminder


@dataclass
class Reminded:
    """What a click on "remind" did: the reminders sent, and the units not reminded and why."""

    sent: list[ReportingReminder] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def reminders_send(
    *, user, cells: Sequence[tuple[int, str]], today: date | None = None
) -> Reminded:
    """Remind each (unit id, period) of ``cells``, each in its own transaction: one refused
    (too soon, nothing left to report) does not stop the others."""
    done = Reminded()
    for unit_id, period in dict.fromkeys(cells):
        try:
            done.sent.append(
                reminder_send(user=user, unit_id=unit_id, period=period, today=today)
            )
        except WorkflowError as exc:
            done.refused.append(exc.message)
    return done
