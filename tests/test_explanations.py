"""Explanation requests (issue 13): ask → answer → accept or ask again; an unanswered request
escalates once after its due date; every step reaches its recipients by email exactly once.

The story: BX-OCC (the industry department LC-BATXAT-IND, under the commune LC-BATXAT) is
lagging at 2026-11-24 (tests.alerting.lagging_occupancy). The department has a staff member
(ind.staff) and a manager (ind.manager); the commune's manager (bx.manager) and the
province's (lc.manager) cover it from above. Everyone reads English.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation
from django.utils.formats import date_format

from targets.errors import NotAllowed, StaleRequest, WorkflowError
from targets.models import (
    Alert,
    AlertKind,
    AlertRecipient,
    DeliveryState,
    Digest,
    ExplanationAnswer,
    ExplanationRequest,
    Profile,
    Role,
    Target,
    Unit,
)
from targets.selectors import explanation_requests
from targets.services import delivery
from targets.services import explanations as workflow
from tests.alerting import DELIVERY, evaluate, lagging_occupancy, report_bx_ip_until_q3
from tests.conftest import make_user
from tests.queueing import record_queued

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]

ASKED_ON = date(2026, 11, 24)
DUE = date(2026, 12, 8)
SITE = DELIVERY.site_url
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def story(people):
    lagging_occupancy(people)
    ind = Unit.objects.get(code="LC-BATXAT-IND")
    people["ind_manager"] = make_user("ind.manager", [(ind, Role.MANAGER)])
    for user in people.values():
        Profile.objects.create(user=user, language="en")
    evaluate(ASKED_ON)
    Digest.objects.update(state=DeliveryState.SENT)  # the evaluation's own mail is not ours
    people["occ"] = Target.objects.get(code="BX-OCC")
    return people


@pytest.fixture
def mail(monkeypatch, django_capture_on_commit_callbacks, mailoutbox):
    """Run a step as the deployment does: its digests are queued once it commits, and a
    worker sends what was queued. Returns the emails the step produced."""
    queued = record_queued(monkeypatch, delivery.SEND_DIGESTS)

    def step(action):
        with django_capture_on_commit_callbacks(execute=True):
            result = action()
        ids = [pk for (batch,) in queued for pk in batch]
        queued.clear()
        sent_before = len(mailoutbox)
        delivery.digests_deliver(digest_ids=ids, policy=DELIVERY)
        return result, mailoutbox[sent_before:]

    return step


def day(value: date) -> str:
    with translation.override("en"):
        return date_format(value, "SHORT_DATE_FORMAT")


def ask(story, by="manager", question="Why is the occupancy at 22 %?", due=DUE, **kw):
    return workflow.explanation_ask(
        user=story[by], target_id=story["occ"].pk, question=question, due_date=due,
        today=kw.pop("today", ASKED_ON), **kw,
    )


def answer(story, request, by="dept_staff", **kw):
    kw.setdefault("text", "Two investors postponed their leases to 2027.")
    return workflow.explanation_answer(
        user=story[by], request_id=request.pk, today=kw.pop("today", date(2026, 11, 30)), **kw
    )


def recipients(kind: str) -> list[str]:
    return sorted(AlertRecipient.objects.filter(alert__kind=kind).values_list(
        "user__username", flat=True))


def addressed(messages) -> list[str]:
    return sorted(address for m in messages for address in m.to)


# --- the cycle: ask → answer → accept, with its emails -----------------------------------------


def test_ask_answer_accept_with_the_emails_of_each_step(story, mail, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    request, sent = mail(lambda: ask(story))
    assert (request.state, request.version, request.target_status) == ("open", 1, "lagging")
    # Asked: the department's staff and manager, each one email; not the asker.
    assert addressed(sent) == ["ind.manager@example.org", "ind.staff@example.org"]
    assert sent[0].subject == f"[Target Tracker] 1 new alert ({day(ASKED_ON)})"
    assert (
        f"You have 1 new alert ({day(ASKED_ON)}):\n\n"
        "* BX-OCC — Occupancy of industrial zones\n"
        f"  - bx.manager asks for an explanation by {day(DUE)}: “Why is the occupancy at 22 %?”\n"
        f"  {SITE}/targets/BX-OCC/\n"
    ) in sent[0].body
    assert "The evaluation of" not in sent[0].body  # not the evaluation's news
    html = sent[0].alternatives[0][0]
    assert html.count('class="target"') == 1 and "<strong>BX-OCC</strong>" in html
    assert "asks for an explanation by" in html

    evidence = SimpleUploadedFile("biên bản.pdf", PDF, content_type="application/pdf")
    given, sent = mail(lambda: answer(
        story, request, evidence_file=evidence, measures="Offer the vacant lots to two "
        "logistics firms.", proposed_date=date(2027, 6, 30), proposed_value="30",
    ))
    assert given.evidence_name == "biên bản.pdf" and given.evidence_file.read() == PDF
    assert (given.proposed_date, given.proposed_value) == (date(2027, 6, 30), Decimal(30))
    assert [m.to for m in sent] == [["bx.manager@example.org"]]  # the asker
    assert "  - ind.staff answered the explanation request.\n" in sent[0].body
    request.refresh_from_db()
    assert (request.state, request.version) == ("answered", 2)
    # The alerts that awaited the answer are resolved: the inbox's open list moves on.
    asked = Alert.objects.get(kind=AlertKind.EXPLANATION_ASKED)
    assert asked.resolved_at is not None

    decided, sent = mail(lambda: workflow.explanation_accept(
        user=story["ind_manager"], request_id=request.pk, note="Agreed.", version=2,
        today=date(2026, 12, 1),
    ))
    assert (decided.state, decided.decided_by, decided.decision_note, decided.version) == (
        "accepted", story["ind_manager"], "Agreed.", 3)
    assert [m.to for m in sent] == [["ind.staff@example.org"]]  # the answer's author
    assert "  - ind.manager accepted the explanation.\n" in sent[0].body
    assert sent[0].subject == f"[Target Tracker] 1 new alert ({day(date(2026, 12, 1))})"

    # Exactly once: nothing is left to send, and the daily step has nothing to escalate.
    assert delivery.digests_due(policy=DELIVERY) == []
    assert workflow.explanations_escalate(on=DUE + timedelta(days=30)) == 0
    assert recipients(AlertKind.EXPLANATION_ASKED) == ["ind.manager", "ind.staff"]
    assert recipients(AlertKind.EXPLANATION_ANSWERED) == ["bx.manager"]
    assert recipients(AlertKind.EXPLANATION_ACCEPTED) == ["ind.staff"]


def test_the_history_and_answer_are_read_back_for_the_target_and_the_unit(story):
    request = ask(story)
    answer(story, request, measures="Lease the vacant lots.")
    workflow.explanation_accept(user=story["manager"], request_id=request.pk)
    [read] = explanation_requests(target=story["occ"])
    assert [(e.what, e.who) for e in read.events] == [
        ("Asked", "bx.manager"), ("Answered", "ind.staff"), ("Accepted", "bx.manager")]
    assert read.answer_or_none.measures == "Lease the vacant lots."
    assert read.answer_or_none.has_recovery_plan
    commune = Unit.objects.get(code="LC-BATXAT")
    assert [r.pk for r in explanation_requests(unit=commune)] == [request.pk]  # its subtree
    assert explanation_requests(unit=commune, subtree=False) == []  # not its own target
    assert explanation_requests(unit=commune, states=["open"]) == []


def test_the_selector_reads_any_number_of_requests_in_two_queries(
    story, django_assert_num_queries
):
    first = ask(story)
    answer(story, first)
    workflow.explanation_ask_again(user=story["manager"], request_id=first.pk,
                                   question="And the third investor?", due_date=DUE,
                                   today=ASKED_ON)
    with django_assert_num_queries(2):
        found = explanation_requests(target=story["occ"])
        assert [len(r.events) for r in found] == [1, 3]
        assert [r.answer_or_none is not None for r in found] == [False, True]


# --- ask again ----------------------------------------------------------------------------------


def test_ask_again_closes_the_round_and_opens_a_new_request(story, mail):
    first = ask(story)
    answer(story, first, by="ind_manager")
    follow_up, sent = mail(lambda: workflow.explanation_ask_again(
        user=story["province"], request_id=first.pk, question="Which firms, and when?",
        due_date=date(2026, 12, 20), version=2, today=date(2026, 12, 2),
    ))
    first.refresh_from_db()
    assert (first.state, first.decided_by, first.version) == ("asked_again", story["province"], 3)
    assert (follow_up.state, follow_up.previous, follow_up.due_date) == (
        "open", first, date(2026, 12, 20))
    assert follow_up.question == "Which firms, and when?"
    # The answer's author and the department's people: the new question is theirs to answer.
    assert addressed(sent) == ["ind.manager@example.org", "ind.staff@example.org"]
    assert (f"  - lc.manager asks again for an explanation by {day(date(2026, 12, 20))}: "
            "“Which firms, and when?”\n") in sent[0].body
    # The new round is answered like the first.
    answer(story, follow_up, text="Two logistics firms, by March.")
    assert ExplanationRequest.objects.get(pk=follow_up.pk).state == "answered"


# --- escalation ------------------------------------------------------------------------------


def test_an_unanswered_request_escalates_the_day_after_its_due_date_exactly_once(story, mail):
    request, _sent = mail(lambda: ask(story, by="ind_manager"))
    assert workflow.explanations_escalate(on=DUE) == 0  # the due date itself: still in time
    count, sent = mail(lambda: workflow.explanations_escalate(on=DUE + timedelta(days=1)))
    assert count == 1
    # The parent unit's (the commune's) managers.
    assert [m.to for m in sent] == [["bx.manager@example.org"]]
    asked_on = day(timezone.localdate(request.created_at))  # the day it was really asked
    assert (
        f"  - The explanation ind.manager asked for on {asked_on} was not answered "
        f"by {day(DUE)}: escalated to the managers of the parent unit.\n"
    ) in sent[0].body
    request.refresh_from_db()
    assert request.escalated_at is not None and request.state == "open"
    assert request.version == 1  # an answer being written is not refused as stale
    # The next days, and a second run of the same day, escalate nothing again.
    for later in (1, 2, 30):
        count, sent = mail(lambda d=later: workflow.explanations_escalate(
            on=DUE + timedelta(days=d)))
        assert (count, sent) == (0, [])
    assert recipients(AlertKind.EXPLANATION_ESCALATED) == ["bx.manager"]
    # Still answerable; its answer resolves the escalation.
    answer(story, request, version=1)
    assert Alert.objects.get(kind=AlertKind.EXPLANATION_ESCALATED).resolved_at is not None


def test_answered_requests_do_not_escalate(story):
    request = ask(story)
    answer(story, request)
    assert workflow.explanations_escalate(on=DUE + timedelta(days=1)) == 0


def test_the_daily_task_escalates(story, mail):
    from targets.tasks import evaluate_all

    ask(story)
    _created, sent = mail(lambda: evaluate_all((DUE + timedelta(days=1)).isoformat()))
    assert ["bx.manager@example.org"] in [m.to for m in sent]
    assert ExplanationRequest.objects.get().escalated_at is not None


def test_a_unit_without_a_parent_escalates_to_nobody(story):
    Target.objects.filter(pk=story["occ"].pk).update(
        responsible_unit=Unit.objects.get(code="LC"))
    story["occ"].refresh_from_db()
    ask(story, by="province")
    assert workflow.explanations_escalate(on=DUE + timedelta(days=1)) == 1
    assert recipients(AlertKind.EXPLANATION_ESCALATED) == []


# --- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["staff", "dept_staff", "outsider"])
def test_only_managers_with_scope_ask(story, who):
    with pytest.raises(NotAllowed):
        ask(story, by=who)
    assert not ExplanationRequest.objects.exists()


@pytest.mark.parametrize("who", ["manager", "province", "ind_manager", "admin"])
def test_managers_with_scope_and_superusers_ask(story, who):
    assert ask(story, by=who).requested_by == story[who]


def test_a_target_on_track_is_not_asked_to_explain(story):
    report_bx_ip_until_q3(story)
    evaluate(ASKED_ON)
    ip = Target.objects.get(code="BX-IP")
    assert ip.latest_assessment.status == "on_track"
    with pytest.raises(WorkflowError, match="BX-IP is on track: an explanation is asked only"):
        workflow.explanation_ask(user=story["manager"], target_id=ip.pk, question="Why?",
                                 due_date=DUE, today=ASKED_ON)


@pytest.mark.parametrize("due", [ASKED_ON, ASKED_ON - timedelta(days=1), None])
def test_the_due_date_lies_after_today(story, due):
    with pytest.raises(WorkflowError) as refused:
        ask(story, due=due)
    assert refused.value.field == "due_date"


def test_a_question_is_required(story):
    with pytest.raises(WorkflowError) as refused:
        ask(story, question="  ")
    assert refused.value.field == "question"


def test_one_open_request_per_target(story):
    first = ask(story)
    with pytest.raises(WorkflowError, match="already has an explanation request"):
        ask(story, by="province")
    answer(story, first)
    with pytest.raises(WorkflowError, match="already has an explanation request"):
        ask(story, by="province")  # answered, awaiting its decision: still one at a time
    workflow.explanation_accept(user=story["manager"], request_id=first.pk)
    assert ask(story, by="province").state == "open"  # a new one once it is closed


@pytest.mark.parametrize("who", ["manager", "province", "admin", "staff", "outsider"])
def test_only_the_units_own_members_answer(story, who):
    request = ask(story, by="ind_manager") if who == "manager" else ask(story)
    with pytest.raises(NotAllowed):
        answer(story, request, by=who)
    assert not ExplanationAnswer.objects.exists()


def test_an_answer_needs_text_and_a_whole_proposal(story):
    request = ask(story)
    cases = [
        ({"text": ""}, "text"),
        ({"proposed_date": date(2027, 6, 30)}, "proposed_value"),
        ({"proposed_value": "30"}, "proposed_date"),
        ({"proposed_date": date(2027, 6, 30), "proposed_value": "120"}, "proposed_value"),
        ({"proposed_date": date(2026, 11, 29), "proposed_value": "30"}, "proposed_date"),
    ]
    for changes, field in cases:
        with pytest.raises(WorkflowError) as refused:
            answer(story, request, **changes)
        assert refused.value.field == field, changes
    assert not ExplanationAnswer.objects.exists()


def test_evidence_that_is_not_what_it_says_is_refused_and_leaves_no_file(
    story, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    request = ask(story)
    fake = SimpleUploadedFile("report.pdf", PNG, content_type="application/pdf")
    with pytest.raises(WorkflowError) as refused:
        answer(story, request, evidence_file=fake)
    assert refused.value.field == "evidence_file"
    assert "its content is PNG, not PDF" in refused.value.message
    assert not any(path.is_file() for path in tmp_path.rglob("*"))


def test_an_answered_request_is_not_answered_twice(story):
    request = ask(story)
    answer(story, request)
    with pytest.raises(WorkflowError, match="not waiting for an answer"):
        answer(story, request, by="ind_manager")


def test_four_eyes_the_answers_author_does_not_decide(story):
    request = ask(story)
    answer(story, request, by="ind_manager")
    with pytest.raises(NotAllowed, match="You wrote this answer"):
        workflow.explanation_accept(user=story["ind_manager"], request_id=request.pk)
    with pytest.raises(NotAllowed, match="You wrote this answer"):
        workflow.explanation_ask_again(user=story["ind_manager"], request_id=request.pk,
                                       question="More?", due_date=DUE, today=ASKED_ON)
    assert ExplanationRequest.objects.get(pk=request.pk).state == "answered"
    workflow.explanation_accept(user=story["manager"], request_id=request.pk)  # another one


@pytest.mark.parametrize("who", ["dept_staff", "staff", "outsider"])
def test_only_managers_with_scope_decide(story, who):
    request = ask(story)
    answer(story, request, by="ind_manager")
    with pytest.raises(NotAllowed):
        workflow.explanation_accept(user=story[who], request_id=request.pk)


def test_an_open_request_has_nothing_to_decide(story):
    request = ask(story)
    with pytest.raises(WorkflowError, match="no answer waiting for a decision"):
        workflow.explanation_accept(user=story["province"], request_id=request.pk)


def test_a_stale_version_is_refused_and_writes_nothing(story):
    request = ask(story)
    with pytest.raises(StaleRequest):
        answer(story, request, version=2)
    answer(story, request, version=1)
    workflow.explanation_accept(user=story["manager"], request_id=request.pk, version=2)
    # A colleague's page still showed version 2: refused, not applied a second time.
    with pytest.raises(StaleRequest, match="Someone else acted on the explanation request"):
        workflow.explanation_ask_again(user=story["province"], request_id=request.pk,
                                       question="More?", due_date=DUE, version=2,
                                       today=ASKED_ON)
    with pytest.raises(WorkflowError, match="no answer waiting"):  # without a version
        workflow.explanation_accept(user=story["province"], request_id=request.pk)
    request.refresh_from_db()
    assert (request.state, request.decided_by, request.version) == (
        "accepted", story["manager"], 3)
    assert ExplanationRequest.objects.count() == 1


def test_a_refused_step_records_no_alert(story):
    request = ask(story)
    alerts = Alert.objects.count()
    with pytest.raises(NotAllowed):
        answer(story, request, by="manager")
    with pytest.raises(WorkflowError):
        ask(story, by="province")
    assert Alert.objects.count() == alerts
