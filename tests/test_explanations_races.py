"""Explanation requests decided by two managers at once, for real (threads released together,
each with its own PostgreSQL connection; tests.test_races.race): whatever the order, the
request is decided once — accepted or asked again, never both — at most one request of the
target is active, and the loser is told (a stale page or a decided request), never a 500."""

from __future__ import annotations

from datetime import date

import pytest

from targets.errors import StaleRequest, WorkflowError
from targets.models import (
    EXPLANATION_ACTIVE,
    Alert,
    AlertKind,
    ExplanationRequest,
    Role,
    Target,
    Unit,
)
from targets.services import explanations as workflow
from tests.alerting import evaluate, lagging_occupancy
from tests.conftest import make_user
from tests.test_races import race, split

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("in_english")]

TODAY = date(2026, 11, 24)
DUE = date(2026, 12, 8)
ROUNDS = 4


@pytest.fixture
def lagging(people):
    lagging_occupancy(people)
    evaluate(TODAY)
    people["ind_manager"] = make_user(
        "ind.manager", [(Unit.objects.get(code="LC-BATXAT-IND"), Role.MANAGER)])
    return people


def occ() -> Target:
    return Target.objects.get(code="BX-OCC")


def answered(people) -> ExplanationRequest:
    """A request of BX-OCC asked by its department's manager and answered by its staff."""
    request = workflow.explanation_ask(
        user=people["ind_manager"], target_id=occ().pk, question="Why?", due_date=DUE,
        today=TODAY,
    )
    workflow.explanation_answer(user=people["dept_staff"], request_id=request.pk,
                                text="Leases postponed.", version=1, today=TODAY)
    return ExplanationRequest.objects.get(pk=request.pk)


def accept(user, request, version):
    return lambda: workflow.explanation_accept(user=user, request_id=request.pk,
                                               version=version, today=TODAY)


def ask_again(user, request, version):
    return lambda: workflow.explanation_ask_again(
        user=user, request_id=request.pk, question="Which firms?", due_date=DUE,
        version=version, today=TODAY)


def close(people) -> None:
    """End the round so that the next one may ask again: accept whatever is active."""
    for active in ExplanationRequest.objects.filter(target=occ(), state__in=EXPLANATION_ACTIVE):
        if active.state == "open":
            workflow.explanation_answer(user=people["dept_staff"], request_id=active.pk,
                                        text="Done.", today=TODAY)
        workflow.explanation_accept(user=people["manager"], request_id=active.pk, today=TODAY)


@pytest.mark.parametrize("version", [2, None], ids=["form", "no-version"])
def test_accept_against_ask_again_decides_once(lagging, version):
    for _round in range(ROUNDS):
        request = answered(lagging)
        won, lost = split(race(
            accept(lagging["manager"], request, version),
            ask_again(lagging["province"], request, version),
        ))
        assert len(won) == 1 and len(lost) == 1
        # With the version the page showed, the loser's page is stale; without one, the
        # request it finds is decided already.
        assert isinstance(lost[0], StaleRequest if version else WorkflowError)
        request.refresh_from_db()
        follow_ups = ExplanationRequest.objects.filter(previous=request)
        assert request.version == 3
        if request.state == "accepted":
            assert not follow_ups.exists()
        else:
            assert request.state == "asked_again" and follow_ups.count() == 1
        assert ExplanationRequest.objects.filter(
            target=occ(), state__in=EXPLANATION_ACTIVE).count() == (
            0 if request.state == "accepted" else 1)
        close(lagging)


def test_two_managers_accepting_at_once_accept_once(lagging):
    for _round in range(ROUNDS):
        request = answered(lagging)
        won, lost = split(race(
            accept(lagging["manager"], request, 2), accept(lagging["province"], request, 2),
        ))
        assert len(won) == 1 and isinstance(lost[0], StaleRequest)
        request.refresh_from_db()
        assert (request.state, request.version, request.decided_by) == (
            "accepted", 3, won[0].decided_by)


def test_two_managers_asking_at_once_make_one_request(lagging):
    for _round in range(ROUNDS):
        won, lost = split(race(*(
            (lambda who=who: workflow.explanation_ask(
                user=lagging[who], target_id=occ().pk, question=f"{who} asks", due_date=DUE,
                today=TODAY))
            for who in ("manager", "province")
        )))
        assert len(won) == 1 and len(lost) == 1
        assert "already has an explanation request" in lost[0].message
        assert ExplanationRequest.objects.filter(
            target=occ(), state__in=EXPLANATION_ACTIVE).count() == 1
        close(lagging)


def test_two_escalation_runs_at_once_escalate_once(lagging):
    workflow.explanation_ask(user=lagging["ind_manager"], target_id=occ().pk, question="Why?",
                             due_date=DUE, today=TODAY)
    counts = race(*(lambda: workflow.explanations_escalate(on=date(2026, 12, 9))
                    for _ in range(2)))
    assert sorted(counts) == [0, 1]
    assert Alert.objects.filter(kind=AlertKind.EXPLANATION_ESCALATED).count() == 1
