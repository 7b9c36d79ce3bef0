"""Real concurrent API requests: threads released together by a barrier, each with its own
client and PostgreSQL connection (as tests/test_races.py does for the services and screens).

Whichever request wins is up to the scheduler; what must hold whatever the order: no write is
lost or silently overwritten, the loser gets a 409 problem detail, and nothing answers 500.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection

from targets.models import EntryStatus, ProgressEntry
from tests.apiclients import api_client, token_of

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = ["2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2"]  # each round on its own period
ENTRIES = "/api/v1/entries/"


def race(*requests: Callable):
    """The responses of the requests, sent at once."""
    barrier = threading.Barrier(len(requests))
    responses: list = [None] * len(requests)

    def run(index: int, request: Callable) -> None:
        try:
            barrier.wait(timeout=10)
            responses[index] = request()
        except BaseException as exc:  # judged by the test
            responses[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, r)) for i, r in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a racing request hung"
    for response in responses:
        assert not isinstance(response, BaseException), response
        assert response.status_code < 500, response.content
    return responses


def by_status(responses) -> dict[int, list]:
    found: dict[int, list] = {}
    for response in responses:
        found.setdefault(response.status_code, []).append(response)
    return found


def test_two_systems_changing_one_draft_at_once_lose_no_write(people):
    staff, colleague = api_client(key=token_of(people["staff"])), api_client(
        key=token_of(people["staff2"]))
    for period in ROUNDS:
        created = staff.post(ENTRIES, {"target": "BX-IP", "period": period, "value": 1},
                             format="json").json()
        url = f"{ENTRIES}{created['id']}/"
        responses = race(
            lambda url=url: staff.patch(url, {"version": 1, "value": 0}, format="json"),
            lambda url=url: colleague.patch(url, {"version": 1, "value": 2}, format="json"),
        )
        found = by_status(responses)
        assert sorted(found) == [200, 409], period
        [won], [lost] = found[200], found[409]
        assert lost.json()["type"] == "urn:target-tracker:problem:stale-version"
        entry = ProgressEntry.objects.get(target__code="BX-IP", period=period)
        # The winner's value, at version 2: one write, the other refused, none overwritten.
        assert (entry.value, entry.version) == (Decimal(won.json()["value"]), 2)
        assert entry.last_editor.username == won.json()["last_editor"]


def test_two_first_entries_of_a_period_at_once_make_one_entry(people):
    staff, colleague = api_client(key=token_of(people["staff"])), api_client(
        key=token_of(people["staff2"]))
    for period in ROUNDS:
        responses = race(*(
            lambda client=client, value=value, period=period: client.post(
                ENTRIES, {"target": "BX-IP", "period": period, "value": value, "submit": True},
                format="json")
            for client, value in ((staff, 1), (colleague, 2))
        ))
        found = by_status(responses)
        assert sorted(found) == [201, 409], period
        entry = ProgressEntry.objects.get(target__code="BX-IP", period=period)
        assert entry.value == Decimal(found[201][0].json()["value"])
        assert entry.status == EntryStatus.SUBMITTED


def test_approving_and_returning_one_entry_at_once_reviews_it_once(people):
    from tests.conftest import submitted_entry

    manager, province = api_client(key=token_of(people["manager"])), api_client(
        key=token_of(people["province"]))
    for period in ROUNDS:
        entry = submitted_entry(people["staff"], code="BX-IP", period=period)
        url = f"{ENTRIES}{entry.pk}/"
        responses = race(
            lambda url=url: manager.post(f"{url}approve/", {"version": 2}, format="json"),
            lambda url=url: province.post(f"{url}return/", {"version": 2, "comment": "No"},
                                          format="json"),
        )
        found = by_status(responses)
        assert sorted(found) == [200, 409], period
        stored = ProgressEntry.objects.get(pk=entry.pk)
        assert (stored.status, stored.version) == (found[200][0].json()["status"], 3)
        assert ProgressEntry.history.filter(id=entry.pk, status=stored.status).count() == 1
