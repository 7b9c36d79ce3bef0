"""Two reminder clicks at once, for real (threads with their own PostgreSQL connections and
clients; tests.test_races.race): the unit is reminded once, the other click is told when the
next reminder may go, and no alert is recorded twice."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from targets.models import Alert, AlertKind, ReportingReminder, Unit
from targets.services import completeness as service
from tests.test_races import client_of, race, split

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("in_english")]

ROUNDS = ["2025-Q3", "2025-Q4", "2026-Q1"]  # each round races on its own period


def test_two_managers_reminding_at_once_remind_once(people):
    unit = Unit.objects.get(code="LC-BATXAT")
    for period in ROUNDS:
        won, lost = split(race(*(
            (lambda who=who, period=period: service.reminder_send(
                user=people[who], unit_id=unit.pk, period=period, today=date(2026, 6, 1)))
            for who in ("manager", "province")
        )))
        assert len(won) == 1 and len(lost) == 1
        assert isinstance(lost[0], service.ReminderTooSoon)
        assert ReportingReminder.objects.filter(unit=unit, period=period).count() == 1
        assert Alert.objects.filter(
            kind=AlertKind.REPORT_REQUESTED, subject__startswith=f"{period}:").count() == 1


def test_two_clicks_on_the_screen_at_once_send_once(people):
    unit = Unit.objects.get(code="LC-BATXAT")
    url = reverse("targets:completeness-remind")
    clients = [client_of(people["province"]), client_of(people["province"])]
    responses = race(*(
        (lambda client=client: client.post(
            url, {"cell": f"{unit.pk}:2025-Q3", "query": "start=2025-07-01&end=2025-09-30"}))
        for client in clients
    ))
    assert [r.status_code for r in responses] == [302, 302]
    assert ReportingReminder.objects.filter(unit=unit, period="2025-Q3").count() == 1
    said = sorted(
        str(m) for client in clients
        for m in client.get(reverse("targets:completeness")).context["messages"]
    )
    assert said[0].startswith("Bat Xat commune was reminded of 2025-Q3 on")
    assert said[1] == "Reminder sent to Bat Xat commune for 2025-Q3 (3 people)."
