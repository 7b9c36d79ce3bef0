"""Our period keys ↔ DHIS2 period identifiers (dhis2.periods), hand-computed."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dhis2.periods import NotExchangeable, dhis2_period, from_dhis2, to_dhis2
from targets.rules import Calendar, Frequency, Period, reporting_periods

pytestmark = pytest.mark.usefixtures("in_english")
CAL, D09 = Calendar.CALENDAR, Calendar.DECREE_09


@pytest.mark.parametrize(
    ("key", "calendar", "dhis2", "start", "end"),
    [
        # Calendar periods are DHIS2's own.
        ("2026-03", CAL, "202603", date(2026, 3, 1), date(2026, 3, 31)),
        ("2026-12", CAL, "202612", date(2026, 12, 1), date(2026, 12, 31)),
        ("2026-Q1", CAL, "2026Q1", date(2026, 1, 1), date(2026, 3, 31)),
        ("2026-Q4", CAL, "2026Q4", date(2026, 10, 1), date(2026, 12, 31)),
        ("2026-H1", CAL, "2026S1", date(2026, 1, 1), date(2026, 6, 30)),
        ("2026-H2", CAL, "2026S2", date(2026, 7, 1), date(2026, 12, 31)),
        ("2026", CAL, "2026", date(2026, 1, 1), date(2026, 12, 31)),
        # Decree 09: the DHIS2 period that holds the cut-off (the period's last day).
        # 2026-01 is 15/12/2025 – 14/01/2026: its cut-off 14/01/2026 lies in January 2026.
        ("2026-01", D09, "202601", date(2026, 1, 1), date(2026, 1, 31)),
        # 2026-Q1 is 15/12/2025 – 14/03/2026 → 2026Q1, though it starts in 2025's Q4.
        ("2026-Q1", D09, "2026Q1", date(2026, 1, 1), date(2026, 3, 31)),
        # 2026-Q3 is 15/06 – 14/09/2026 → 2026Q3.
        ("2026-Q3", D09, "2026Q3", date(2026, 7, 1), date(2026, 9, 30)),
        # The halves: 15/12/2025 – 14/06/2026 and 15/06 – 14/12/2026.
        ("2026-H1", D09, "2026S1", date(2026, 1, 1), date(2026, 6, 30)),
        ("2026-H2", D09, "2026S2", date(2026, 7, 1), date(2026, 12, 31)),
        # The year 15/12/2025 – 14/12/2026 → 2026.
        ("2026", D09, "2026", date(2026, 1, 1), date(2026, 12, 31)),
    ],
)
def test_our_period_goes_to_the_dhis2_period_its_end_falls_in(key, calendar, dhis2, start, end):
    found = to_dhis2(key, calendar)
    assert (found.id, found.start, found.end) == (dhis2, start, end)


@pytest.mark.parametrize(
    ("dhis2", "calendar", "key", "start", "end"),
    [
        ("202603", CAL, "2026-03", date(2026, 3, 1), date(2026, 3, 31)),
        ("2026Q2", CAL, "2026-Q2", date(2026, 4, 1), date(2026, 6, 30)),
        ("2026S2", CAL, "2026-H2", date(2026, 7, 1), date(2026, 12, 31)),
        ("2026", CAL, "2026", date(2026, 1, 1), date(2026, 12, 31)),
        ("202601", D09, "2026-01", date(2025, 12, 15), date(2026, 1, 14)),
        ("2026Q1", D09, "2026-Q1", date(2025, 12, 15), date(2026, 3, 14)),
        ("2026S1", D09, "2026-H1", date(2025, 12, 15), date(2026, 6, 14)),
        ("2026", D09, "2026", date(2025, 12, 15), date(2026, 12, 14)),
        (" 2026Q4 ", D09, "2026-Q4", date(2026, 9, 15), date(2026, 12, 14)),
    ],
)
def test_a_dhis2_period_comes_back_as_ours_whose_end_it_holds(dhis2, calendar, key, start, end):
    assert from_dhis2(dhis2, calendar) == Period(key, start, end, calendar)


@pytest.mark.parametrize("calendar", [CAL, D09])
def test_the_nine_month_period_is_refused_with_the_reason(calendar):
    with pytest.raises(NotExchangeable) as refused:
        to_dhis2("2026-9M", calendar)
    assert refused.value.message == (
        "DHIS2 has no nine-month period type: 2026-9M cannot be exchanged. Choose its months, "
        "quarters or year instead."
    )


@pytest.mark.parametrize(
    ("period_id", "kind"),
    [
        ("20260301", "daily"),
        ("2026W5", "weekly"),
        ("2026SunW12", "weekly"),
        ("2026BiW3", "bi-weekly"),
        ("202601B", "bi-monthly"),
        ("2026NovQ1", "quarterly from November"),
        ("2026AprilS1", "six-monthly from April or November"),
        ("2026July", "financial year"),
    ],
)
def test_other_dhis2_period_types_are_named_when_refused(period_id, kind):
    with pytest.raises(NotExchangeable) as refused:
        dhis2_period(period_id)
    assert refused.value.message == (
        f"{period_id} is a {kind} DHIS2 period; targets here report monthly (202603), "
        "quarterly (2026Q1), six-monthly (2026S1) or yearly (2026)."
    )


@pytest.mark.parametrize("period_id", ["2026-Q1", "2026Q5", "202613", "2026S3", "0001", "", "x"])
def test_what_is_no_dhis2_period_is_refused(period_id):
    with pytest.raises(NotExchangeable) as refused:
        dhis2_period(period_id)
    assert "is not a DHIS2 period: write 202603 (a month)" in refused.value.message


def test_dhis2_period_gives_the_frequency_and_calendar_dates():
    found = dhis2_period("2024Q1")
    assert (found.frequency, found.start, found.end) == (
        Frequency.QUARTERLY, date(2024, 1, 1), date(2024, 3, 31))
    assert dhis2_period("202402").end == date(2024, 2, 29)  # a leap year


@given(
    frequency=st.sampled_from(list(Frequency)),
    calendar=st.sampled_from(list(Calendar)),
    baseline=st.dates(date(1950, 1, 1), date(2150, 12, 31)),
    days=st.integers(1, 800),
)
def test_every_reporting_period_goes_to_dhis2_and_back_unchanged(
    frequency, calendar, baseline, days
):
    due = date.fromordinal(baseline.toordinal() + days)
    seen = set()
    for period in reporting_periods(frequency, baseline, due, calendar):
        dhis2 = to_dhis2(period.key, calendar)
        assert dhis2.frequency == frequency
        assert dhis2.start <= period.end <= dhis2.end  # the cut-off lies in it
        assert dhis2.id not in seen  # one of ours per DHIS2 period
        seen.add(dhis2.id)
        assert from_dhis2(dhis2.id, calendar) == period
