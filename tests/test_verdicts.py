"""The reason sentence: each reason's words, with only the values that sentence uses formatted."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from targets import verdicts
from targets.verdicts import Verdict, reason_sentence

pytestmark = pytest.mark.usefixtures("in_english")

D = Decimal


def verdict(status: str, reason: str, **changes) -> Verdict:
    values = dict(
        status=status, reason=reason, actual=D("40"), as_of=date(2026, 9, 30),
        expected=D("50"), ratio=D("0.8"), projected=D("70"), target_value=D("100"),
        due_date=date(2030, 12, 31), tolerance=D("0.10"),
    )
    return Verdict(**(values | changes))


@pytest.mark.parametrize(
    ("status", "reason", "sentence"),
    [
        ("no_data", "no_data", "No data: no report has been approved yet."),
        ("lagging", "ratio",
         "Lagging: 40 against 50 expected as of 30 Sep 2026 (80 % of the planned progress, "
         "below 80 %)."),
        ("lagging", "pace",
         "Lagging: on the current pace 70 of 100 by 31 Dec 2030 (below 90 %)."),
    ],
)
def test_each_reason_has_its_sentence(status, reason, sentence):
    assert reason_sentence(verdict(status, reason)) == sentence


def test_only_the_values_the_sentence_uses_are_formatted(monkeypatch):
    calls = []

    def counted(value, places=None):
        calls.append(value)
        return str(value)

    monkeypatch.setattr(verdicts, "format_number", counted)
    reason_sentence(verdict("no_data", "no_data"))
    assert calls == []  # "no report has been approved yet" shows no number
    reason_sentence(verdict("achieved", "achieved", actual=D("100")))
    assert calls == [D("100"), D("100")]  # the actual and the target, nothing else
