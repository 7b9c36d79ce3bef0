"""Dates and numbers as each language's readers write them: Vietnamese as Decree 30/2020 does
(05/01/2026 in tables and forms, "ngày 05 tháng 01 năm 2026" in running text, 1.234,5),
English without the United States' month-first dates (5 Jan 2026, 1,234.5)."""

from datetime import date, datetime

import pytest
from django import forms
from django.utils import translation
from django.utils.formats import date_format, localize

from targets.formatting import format_number

DAY = date(2026, 1, 5)


@pytest.mark.parametrize(("language", "short", "long", "number"), [
    ("vi", "05/01/2026", "ngày 05 tháng 01 năm 2026", "1.234,5"),
    ("en", "5 Jan 2026", "5 January 2026", "1,234.5"),
])
def test_dates_and_numbers_in_each_language(language, short, long, number):
    with translation.override(language):
        assert date_format(DAY, "SHORT_DATE_FORMAT") == short
        assert date_format(DAY, "DATE_FORMAT") == long
        assert localize(DAY) == long
        assert format_number("1234.5") == number


def test_times_keep_the_24_hour_clock():
    moment = datetime(2026, 12, 31, 14, 5)
    with translation.override("vi"):
        assert date_format(moment, "SHORT_DATETIME_FORMAT") == "14:05 31/12/2026"
    with translation.override("en"):
        assert date_format(moment, "SHORT_DATETIME_FORMAT") == "31 Dec 2026, 14:05"


class DayForm(forms.Form):
    day = forms.DateField()


@pytest.mark.parametrize(("language", "typed", "read"), [
    ("vi", "05/01/2026", DAY),  # day first, always
    ("vi", "2026-01-05", DAY),
    ("vi", "5-1-2026", DAY),
    ("en", "2026-01-05", DAY),
    ("en", "5 Jan 2026", DAY),
    ("en", "5 January 2026", DAY),
])
def test_a_date_field_reads_the_languages_forms(language, typed, read):
    with translation.override(language):
        form = DayForm({"day": typed})
        assert form.is_valid(), form.errors
        assert form.cleaned_data["day"] == read


def test_an_english_date_field_refuses_a_date_that_reads_two_ways():
    with translation.override("en"):
        assert not DayForm({"day": "01/05/2026"}).is_valid()
