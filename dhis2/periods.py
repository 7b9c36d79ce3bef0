"""Our reporting periods ↔ DHIS2 period identifiers, as pure functions (no ORM).

DHIS2 writes a month ``202603``, a quarter ``2026Q1``, a half year ``2026S1`` (its
"six-monthly" type) and a year ``2026``, always over calendar months. We write ``2026-03``,
``2026-Q1``, ``2026-H1`` and ``2026``, over calendar months or over the Decree 09/2019 cut-off
periods (15th of the month before to the 14th: our ``2026-Q1`` of a Decree-09 plan is
15/12/2025 – 14/03/2026).

A period of ours is exchanged under **the DHIS2 period of its frequency that holds its end**,
the cut-off day its data speak for: a Decree-09 ``2026-Q1`` (ending 14/03/2026) is ``2026Q1``,
a Decree-09 ``2026-01`` (ending 14/01/2026) is ``202601``. Each DHIS2 period holds the end of
exactly one period of ours of its frequency, in either calendar, so the mapping goes back
without loss. The nine-month period (``2026-9M``) has no DHIS2 period type: it is refused with
that reason, never mapped to something else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from targets import rules
from targets.numbers import shown

# The four DHIS2 period types a target here can report in.
DHIS2_PERIOD = re.compile(r"(?P<year>\d{4})(?:(?P<m>0[1-9]|1[0-2])|Q(?P<q>[1-4])|S(?P<s>[12]))?")

# Other DHIS2 period types, recognised to say why they are refused.
OTHER_TYPES = (
    (re.compile(r"\d{8}"), gettext_lazy("daily")),
    (re.compile(r"\d{4}(?:Wed|Thu|Sat|Sun)?W\d{1,2}"), gettext_lazy("weekly")),
    (re.compile(r"\d{4}BiW\d{1,2}"), gettext_lazy("bi-weekly")),
    (re.compile(r"\d{6}B"), gettext_lazy("bi-monthly")),
    (re.compile(r"\d{4}NovQ[1-4]"), gettext_lazy("quarterly from November")),
    (re.compile(r"\d{4}(?:April|Nov)S[12]"), gettext_lazy("six-monthly from April or November")),
    (re.compile(r"\d{4}(?:April|July|Sep|Oct|Nov)"), gettext_lazy("financial year")),
)

FREQUENCY_NAMES = {
    rules.Frequency.MONTHLY: gettext_lazy("monthly"),
    rules.Frequency.QUARTERLY: gettext_lazy("quarterly"),
    rules.Frequency.HALF_YEARLY: gettext_lazy("six-monthly"),
    rules.Frequency.YEARLY: gettext_lazy("yearly"),
}


class NotExchangeable(ValueError):
    """A period that has no counterpart on the other side, with the reason."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Dhis2Period:
    """A DHIS2 period: its identifier, frequency and calendar dates."""

    id: str
    frequency: rules.Frequency
    start: date
    end: date


def _calendar_key(period_id: str) -> str | None:
    """Our calendar key of a DHIS2 identifier (``2026Q1`` → ``2026-Q1``), None if it is not one
    of the four types."""
    match = DHIS2_PERIOD.fullmatch(period_id)
    if match is None:
        return None
    year = match["year"]
    if match["m"]:
        return f"{year}-{match['m']}"
    if match["q"]:
        return f"{year}-Q{match['q']}"
    if match["s"]:
        return f"{year}-H{match['s']}"
    return year


def _dhis2_id(calendar_key: str) -> str:
    """The DHIS2 identifier of one of our calendar keys (``2026-H1`` → ``2026S1``)."""
    return calendar_key.replace("-H", "S").replace("-", "")


def dhis2_period(period_id: str) -> Dhis2Period:
    """The DHIS2 period ``period_id`` names, or NotExchangeable saying why it cannot be used."""
    text = period_id.strip() if isinstance(period_id, str) else ""
    key = _calendar_key(text)
    period = rules.period_by_key(key) if key else None
    if period is None:
        for pattern, kind in OTHER_TYPES:
            if pattern.fullmatch(text):
                raise NotExchangeable(
                    _("%(period)s is a %(kind)s DHIS2 period; targets here report monthly "
                      "(202603), quarterly (2026Q1), six-monthly (2026S1) or yearly (2026).")
                    % {"period": text, "kind": kind}
                )
        raise NotExchangeable(
            _("“%(period)s” is not a DHIS2 period: write 202603 (a month), 2026Q1 (a quarter), "
              "2026S1 (a half year) or 2026 (a year).") % {"period": shown(text)}
        )
    return Dhis2Period(
        id=text, frequency=rules.key_frequency(period.key), start=period.start, end=period.end
    )


def to_dhis2(key: str, calendar: rules.Calendar = rules.Calendar.CALENDAR) -> Dhis2Period:
    """The DHIS2 period our period ``key`` (in ``calendar``) is exchanged under: the one of its
    frequency that holds its end. NotExchangeable for the nine-month period and non-keys."""
    period = rules.period_by_key(key, calendar)
    if period is None:
        raise NotExchangeable(_("“%(period)s” is not a reporting period.") % {
            "period": shown(key)})
    frequency = rules.key_frequency(period.key)
    if frequency is None:
        raise NotExchangeable(
            _("DHIS2 has no nine-month period type: %(period)s cannot be exchanged. Choose its "
              "months, quarters or year instead.") % {"period": period.key}
        )
    holding = rules.period_containing(frequency, period.end, rules.Calendar.CALENDAR)
    return Dhis2Period(
        id=_dhis2_id(holding.key), frequency=frequency, start=holding.start, end=holding.end
    )


def from_dhis2(period_id: str, calendar: rules.Calendar = rules.Calendar.CALENDAR) -> rules.Period:
    """Our period (in ``calendar``) whose end lies in the DHIS2 period ``period_id``: the one
    exchanged under it. NotExchangeable when ``period_id`` is not a usable DHIS2 period."""
    found = dhis2_period(period_id)
    # The period of ours with the same name ends in it: a calendar period is the DHIS2 period
    # itself; a Decree-09 period ends on the 14th of its last month, inside the calendar one.
    # (tests/test_dhis2_periods.py checks it for every period of both calendars).
    return rules.period_by_key(_calendar_key(found.id), calendar)
