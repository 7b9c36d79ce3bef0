"""The "Explanation requests" section of the target page: ask, answer, accept or ask again,
each form shown to whom may use it, errors next to their fields, and any input answered
without a 500 (hypothesis)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from targets.models import ExplanationAnswer, ExplanationRequest, Role, Target, Unit
from targets.services import explanations as workflow
from tests.alerting import evaluate, lagging_occupancy
from tests.conftest import make_user, rolled_back

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def soon(days: int = 14) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


@pytest.fixture
def lagging(people, settings, tmp_path):
    """BX-OCC lagging (its latest assessment); its department has a staff member and a
    manager."""
    settings.MEDIA_ROOT = tmp_path
    lagging_occupancy(people)
    evaluate(timezone.localdate())
    people["ind_manager"] = make_user(
        "ind.manager", [(Unit.objects.get(code="LC-BATXAT-IND"), Role.MANAGER)])
    return people


def page(client, user, code="BX-OCC"):
    client.force_login(user)
    response = client.get(reverse("targets:target", args=[code]))
    assert response.status_code == 200
    return response


def section(response) -> dict:
    return response.context["explanations"]


def asked(people) -> ExplanationRequest:
    return workflow.explanation_ask(
        user=people["manager"], target_id=Target.objects.get(code="BX-OCC").pk,
        question="Why is the occupancy at 22 %?", due_date=timezone.localdate() + timedelta(7),
    )


SECTION = reverse("targets:target", args=["BX-OCC"]) + "#explanations"


def test_the_ask_form_is_for_managers_with_scope_of_a_lagging_target(client, lagging):
    assert "ask_form" in section(page(client, lagging["manager"]))
    assert "ask_form" in section(page(client, lagging["province"]))
    for who in ("dept_staff", "staff"):
        assert "ask_form" not in section(page(client, lagging[who]))
    # BX-IP has no approved report (no data): managers are told why they cannot ask.
    response = page(client, lagging["manager"], "BX-IP")
    assert "ask_form" not in section(response)
    assert b'id="explanation-ask-note"' in response.content


def test_ask_answer_accept_through_the_screens(client, lagging):
    client.force_login(lagging["manager"])
    response = client.post(reverse("targets:explanation-ask", args=["BX-OCC"]), {
        "ask-question": "Why is the occupancy at 22 %?", "ask-due_date": soon(),
    })
    assert (response.status_code, response["Location"]) == (302, SECTION)
    request = ExplanationRequest.objects.get()
    assert (request.requested_by, request.due_date.isoformat()) == (lagging["manager"], soon())

    response = page(client, lagging["dept_staff"])
    assert "answer_form" in section(response) and "ask_form" not in section(response)
    assert b"Why is the occupancy at 22 %?" in response.content
    assert "answer_form" not in section(page(client, lagging["manager"]))  # not the unit's

    client.force_login(lagging["dept_staff"])
    response = client.post(reverse("targets:explanation-answer", args=[request.pk]), {
        "answer-text": "Two investors postponed.", "answer-measures": "Offer the lots.",
        "answer-proposed_date": soon(200), "answer-proposed_value": "30",
        "answer-version": "1",
        "answer-evidence_file": SimpleUploadedFile("lease.pdf", PDF, "application/pdf"),
    })
    assert (response.status_code, response["Location"]) == (302, SECTION)
    answer = ExplanationAnswer.objects.get()
    assert answer.evidence_name == "lease.pdf"

    response = page(client, lagging["manager"])
    assert "accept_form" in section(response) and "again_form" in section(response)
    content = response.content.decode()
    assert "Two investors postponed." in content and "Offer the lots." in content
    assert "Proposed milestone: 30 % by" in content
    evidence_url = reverse("targets:explanation-evidence", args=[answer.pk])
    assert evidence_url in content
    download = client.get(evidence_url)
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert download["Content-Disposition"] == 'attachment; filename="lease.pdf"'

    response = client.post(reverse("targets:explanation-accept", args=[request.pk]), {
        "accept-note": "Agreed.", "accept-version": "2"})
    assert (response.status_code, response["Location"]) == (302, SECTION)
    request.refresh_from_db()
    assert request.state == "accepted"
    content = page(client, lagging["staff"]).content.decode()  # the commune's staff reads it
    assert content.count('class="explanation ') == 1
    for step in ("Asked", "Answered", "Accepted"):
        assert f"· {step} ·" in content


def test_a_bad_due_date_is_said_next_to_its_field_and_the_question_kept(client, lagging):
    client.force_login(lagging["manager"])
    response = client.post(reverse("targets:explanation-ask", args=["BX-OCC"]), {
        "ask-question": "Why so low?", "ask-due_date": timezone.localdate().isoformat()})
    assert response.status_code == 200
    form = section(response)["ask_form"]
    assert list(form.errors) == ["due_date"]
    assert "The answer must be due after today" in form.errors["due_date"][0]
    assert b"Why so low?" in response.content
    assert not ExplanationRequest.objects.exists()


def test_a_second_request_is_refused_with_a_message(client, lagging):
    asked(lagging)
    client.force_login(lagging["province"])
    response = client.post(reverse("targets:explanation-ask", args=["BX-OCC"]), {
        "ask-question": "Again?", "ask-due_date": soon()}, follow=True)
    assert "already has an explanation request" in response.content.decode()
    assert ExplanationRequest.objects.count() == 1


def test_an_answer_error_keeps_what_was_typed(client, lagging):
    request = asked(lagging)
    client.force_login(lagging["dept_staff"])
    response = client.post(reverse("targets:explanation-answer", args=[request.pk]), {
        "answer-text": "Because.", "answer-proposed_date": soon(30),
        "answer-proposed_value": "120", "answer-version": "1"})
    assert response.status_code == 200
    form = section(response)["answer_form"]
    assert list(form.errors) == ["proposed_value"]
    assert "120 is not a percentage between 0 and 100." in form.errors["proposed_value"]
    assert b"Because." in response.content
    assert not ExplanationAnswer.objects.exists()


def test_the_answers_author_is_told_another_manager_decides(client, lagging):
    request = asked(lagging)
    workflow.explanation_answer(user=lagging["ind_manager"], request_id=request.pk,
                                text="Leases postponed.")
    response = page(client, lagging["ind_manager"])
    assert "accept_form" not in section(response)
    assert section(response)["decision_note"] == (
        "You wrote this answer: another manager accepts it or asks again.")
    response = client.post(reverse("targets:explanation-accept", args=[request.pk]), {
        "accept-version": "2"}, follow=True)
    assert "You wrote this answer" in response.content.decode()
    assert ExplanationRequest.objects.get(pk=request.pk).state == "answered"


def test_a_stale_decision_is_refused_with_a_message(client, lagging):
    request = asked(lagging)
    workflow.explanation_answer(user=lagging["dept_staff"], request_id=request.pk, text="x")
    workflow.explanation_accept(user=lagging["province"], request_id=request.pk)
    client.force_login(lagging["manager"])
    response = client.post(reverse("targets:explanation-ask-again", args=[request.pk]), {
        "again-question": "More?", "again-due_date": soon(), "again-version": "2"},
        follow=True)
    assert "Someone else acted on the explanation request of BX-OCC" in (
        response.content.decode())
    assert ExplanationRequest.objects.count() == 1


def test_ask_again_opens_a_new_request_on_the_page(client, lagging):
    request = asked(lagging)
    workflow.explanation_answer(user=lagging["dept_staff"], request_id=request.pk, text="x")
    client.force_login(lagging["province"])
    response = client.post(reverse("targets:explanation-ask-again", args=[request.pk]), {
        "again-question": "Which firms?", "again-due_date": soon(), "again-version": "2"})
    assert (response.status_code, response["Location"]) == (302, SECTION)
    response = page(client, lagging["dept_staff"])
    assert [r.state for r in section(response)["requests"]] == ["open", "asked_again"]
    assert "answer_form" in section(response)


def test_the_evidence_of_an_answer_is_served_within_the_scope_only(client, lagging):
    request = asked(lagging)
    answer = workflow.explanation_answer(
        user=lagging["dept_staff"], request_id=request.pk, text="x",
        evidence_file=SimpleUploadedFile("a.pdf", PDF, "application/pdf"))
    url = reverse("targets:explanation-evidence", args=[answer.pk])
    client.force_login(lagging["outsider"])
    assert client.get(url).status_code == 404
    client.force_login(lagging["staff"])
    assert client.get(url).status_code == 200


# --- any input: field errors or a step done, never a 500 ---------------------------------------

FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
TEXT = st.text(max_size=40)
DATES = st.one_of(
    TEXT, st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(["", "2026-02-30", "31/12/2030", "9999-12-31", "0001-01-01", "1e9"]),
)


def snapshot() -> tuple:
    return (
        sorted(ExplanationRequest.objects.values_list("pk", "state", "version")),
        ExplanationAnswer.objects.count(),
    )


@FUZZ
@given(question=TEXT, due=DATES, language=st.sampled_from(["vi", "en"]))
def test_the_ask_form_answers_every_input(client, lagging, question, due, language):
    client.force_login(lagging["manager"])
    client.cookies["django_language"] = language
    before = snapshot()
    with rolled_back():
        response = client.post(reverse("targets:explanation-ask", args=["BX-OCC"]),
                               {"ask-question": question, "ask-due_date": due})
        assert response.status_code in (200, 302)
        if response.status_code == 200:
            assert section(response)["ask_form"].errors
            assert snapshot() == before
        else:
            assert ExplanationRequest.objects.filter(state="open").count() == 1
    assert snapshot() == before


@FUZZ
@given(text=TEXT, measures=TEXT, proposed_date=DATES,
       proposed_value=st.one_of(TEXT, st.sampled_from(["30", "30,5", "1.234,5", "-1", "1e400"])),
       version=st.sampled_from(["", "1", "2", "x", "-1"]),
       language=st.sampled_from(["vi", "en"]))
def test_the_answer_form_answers_every_input(
    client, lagging, text, measures, proposed_date, proposed_value, version, language
):
    # One request for every example (the fixture is the test's, not the example's).
    request = ExplanationRequest.objects.filter(state="open").first() or asked(lagging)
    client.force_login(lagging["dept_staff"])
    client.cookies["django_language"] = language
    before = snapshot()
    with rolled_back():
        response = client.post(
            reverse("targets:explanation-answer", args=[request.pk]),
            {"answer-text": text, "answer-measures": measures,
             "answer-proposed_date": proposed_date, "answer-proposed_value": proposed_value,
             "answer-version": version})
        assert response.status_code in (200, 302)
        if response.status_code == 200:
            assert section(response)["answer_form"].errors
            assert snapshot() == before
    assert snapshot() == before


def test_the_request_is_in_the_units_inbox_until_it_is_answered(client, lagging):
    request = asked(lagging)
    client.force_login(lagging["dept_staff"])
    content = client.get(reverse("targets:alerts")).content.decode()
    assert "bx.manager asks for an explanation by" in content
    assert "“Why is the occupancy at 22 %?”" in content
    workflow.explanation_answer(user=lagging["dept_staff"], request_id=request.pk, text="x")
    assert "asks for an explanation" not in client.get(reverse("targets:alerts")).content.decode()
    resolved = client.get(reverse("targets:alerts") + "?state=resolved").content.decode()
    assert "bx.manager asks for an explanation by" in resolved
