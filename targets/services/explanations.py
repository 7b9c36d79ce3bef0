"""Explanation requests (issue 13, yêu cầu giải trình): ask → answer → accept, or ask again.

open ──answer──▶ answered ──accept──▶ accepted
  │                  └──ask again──▶ asked_again + a new open request (``previous``)
  └── not answered by its due date: escalated once (still open, still answerable)

A manager whose scope covers a target at risk, lagging or missed asks its responsible unit to
explain by a due date; the unit's own staff and managers answer, with evidence and optionally a
recovery plan; a manager with scope who did not write the answer (four eyes) accepts it or asks
again. Each step is one function here: it re-reads the request under a row lock, checks its
state, who may act (``targets.access``) and, when the caller passes the version it showed, that
nobody changed the request meanwhile (StaleRequest), then writes and adds one to the version.
Each step records its alert (``alerts.events_record``): the recipients see it in their inbox
and get it by email once, grouped by target like every digest.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from targets import access, evidence, rules
from targets.errors import NotAllowed, StaleRequest, WorkflowError
from targets.formatting import person_name
from targets.models import (
    EXPLANATION_ACTIVE,
    AlertKind,
    ExplanationAnswer,
    ExplanationRequest,
    ExplanationState,
    Membership,
    Role,
    Status,
    Target,
)
from targets.numbers import IMPORT, entry_value
from targets.services.alerts import Event, events_record, events_resolve
from targets.verdicts import status_label

# The statuses that call for an explanation.
ASKABLE = (Status.AT_RISK, Status.LAGGING, Status.MISSED)
QUESTION_SHOWN = 300  # characters of a question an alert keeps for its email
# Kinds that say "an answer is awaited": resolved once the request is answered.
AWAITING_ANSWER = (
    AlertKind.EXPLANATION_ASKED,
    AlertKind.EXPLANATION_ASKED_AGAIN,
    AlertKind.EXPLANATION_ESCALATED,
)


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise NotAllowed(message)


def _text(value: Any, field: str, message: str) -> str:
    text = str(value or "").strip()
    if not text:
        raise WorkflowError(message, field)
    return text


def _check_due(due_date: date | None, today: date) -> date:
    if not isinstance(due_date, date):
        raise WorkflowError(_("Give the date the answer is due by."), "due_date")
    if due_date <= today:
        raise WorkflowError(
            _("The answer must be due after today (%(today)s).")
            % {"today": today.isoformat()},
            "due_date",
        )
    if due_date > rules.LATEST_DATE:
        raise WorkflowError(
            _("A date up to %(last)s, please.") % {"last": rules.LATEST_DATE.isoformat()},
            "due_date",
        )
    return due_date


def _status_now(target: Target) -> str:
    assessment = target.latest_assessment
    return assessment.status if assessment is not None else ""


def _unit_members(target: Target) -> frozenset[int]:
    return frozenset(
        Membership.objects.filter(unit_id=target.responsible_unit_id).values_list(
            "user_id", flat=True
        )
    )


def _parent_managers(target: Target) -> frozenset[int]:
    parent_id = target.responsible_unit.parent_id
    if parent_id is None:
        return frozenset()
    return frozenset(
        Membership.objects.filter(unit_id=parent_id, role=Role.MANAGER).values_list(
            "user_id", flat=True
        )
    )


def _event(
    request: ExplanationRequest, kind: AlertKind, *, by, users: frozenset[int], **params: Any
) -> Event:
    """The alert of one step of ``request``, keyed by the request: each happens once."""
    target = request.target
    return Event(
        target=target,
        kind=kind,
        subject=str(request.pk),
        status=_status_now(target) or request.target_status,
        user_ids=users - {by.pk} if by is not None else users,  # not told what one just did
        params={
            "request": request.pk,
            "due": request.due_date.isoformat(),
            "by": person_name(by),
            **params,
        },
    )


def _asked_params(request: ExplanationRequest) -> dict[str, str]:
    question = request.question
    if len(question) > QUESTION_SHOWN:
        question = question[: QUESTION_SHOWN - 1].rstrip() + "…"
    return {"question": question}


def _active(target_id: int) -> QuerySet[ExplanationRequest]:
    return ExplanationRequest.objects.filter(target_id=target_id, state__in=EXPLANATION_ACTIVE)


def _already_active(target: Target) -> WorkflowError:
    return WorkflowError(
        _("%(code)s already has an explanation request waiting for its answer or for a "
          "decision on it: one request at a time.") % {"code": target.code}
    )


def _create(request: ExplanationRequest, user) -> ExplanationRequest:
    request._history_user = user
    try:
        with transaction.atomic():  # a savepoint: the caller's transaction stays usable
            request.save()
    except IntegrityError:
        # Two managers asking at once: the second insert breaks the one-active constraint.
        if _active(request.target_id).exists():
            raise _already_active(request.target) from None
        raise
    return request


def _locked(request_id: int) -> ExplanationRequest:
    found = (
        ExplanationRequest.objects.select_for_update(of=("self",))
        .select_related("target__responsible_unit", "target__latest_assessment", "requested_by")
        .filter(pk=request_id)
        .first()
    )
    if found is None:
        raise WorkflowError(_("This explanation request no longer exists."))
    return found


def _require_version(request: ExplanationRequest, version: int | None) -> None:
    if version is not None and request.version != version:
        raise StaleRequest(
            _("Someone else acted on the explanation request of %(code)s since you opened it, "
              "so nothing was changed: look at it again as it is now.")
            % {"code": request.target.code}
        )


def _save(request: ExplanationRequest, fields: list[str], user) -> None:
    request.version += 1  # under the row lock
    request._history_user = user
    request.save(update_fields=[*fields, "version", "updated_at"])


# --- asking ------------------------------------------------------------------------------------


@transaction.atomic
def explanation_ask(
    *, user, target_id: int, question: str, due_date: date | None, today: date | None = None
) -> ExplanationRequest:
    """A manager whose scope covers the target asks its responsible unit to explain its status
    by ``due_date`` (after ``today``, the local date unless given). Only for a target whose
    latest assessment is at risk, lagging or missed, and one request at a time per target.
    The unit's staff and managers are told."""
    target = Target.objects.select_related("responsible_unit", "latest_assessment").get(
        pk=target_id
    )
    _require(
        access.can_ask_explanation(user, target),
        _("You may not ask for an explanation of this target."),
    )
    status = _status_now(target)
    if status not in ASKABLE:
        raise WorkflowError(
            _("%(code)s is %(status)s: an explanation is asked only of a target at risk, "
              "lagging or missed.")
            % {"code": target.code,
               "status": status_label(status).lower() if status else _("not judged")}
        )
    question = _text(question, "question", _("Write what the unit should explain."))
    today = today or timezone.localdate()
    due_date = _check_due(due_date, today)
    if _active(target.pk).exists():
        raise _already_active(target)
    request = _create(
        ExplanationRequest(
            target=target, requested_by=user, question=question, due_date=due_date,
            target_status=status,
        ),
        user,
    )
    events_record(
        events=[_event(request, AlertKind.EXPLANATION_ASKED, by=user,
                       users=_unit_members(target), **_asked_params(request))],
        on=today,
    )
    return request


# --- answering ---------------------------------------------------------------------------------


def _proposal(
    target: Target, proposed_date: date | None, proposed_value: Any, today: date
) -> tuple[date | None, Decimal | None]:
    """A revised milestone: both a date (today or later) and a value fitting the target, or
    neither."""
    has_value = proposed_value is not None and str(proposed_value).strip() != ""
    if proposed_date is None and not has_value:
        return None, None
    if proposed_date is None:
        raise WorkflowError(_("Give the date of the proposed milestone too."), "proposed_date")
    if not has_value:
        raise WorkflowError(
            _("Give the value expected by the proposed date too."), "proposed_value"
        )
    if not (today <= proposed_date <= rules.LATEST_DATE):
        raise WorkflowError(
            _("A proposed milestone lies between today (%(today)s) and %(last)s.")
            % {"today": today.isoformat(), "last": rules.LATEST_DATE.isoformat()},
            "proposed_date",
        )
    try:
        value = entry_value(proposed_value, target=target, language=None, source=IMPORT)
    except WorkflowError as exc:
        raise WorkflowError(exc.message, "proposed_value") from None
    return proposed_date, value


@transaction.atomic
def explanation_answer(
    *,
    user,
    request_id: int,
    text: str,
    evidence_file: File | None = None,
    measures: str = "",
    proposed_date: date | None = None,
    proposed_value: Any = None,
    version: int | None = None,
    today: date | None = None,
) -> ExplanationAnswer:
    """The unit's answer to an open request (escalated or not): its text, an evidence file
    (checked as an entry's is) and optionally a recovery plan — measures and a proposed
    milestone (date and value). By a staff member or manager of the responsible unit itself.
    The requester is told; the alerts that awaited the answer are resolved."""
    request = _locked(request_id)
    _require_version(request, version)
    target = request.target
    _require(access.is_unit_member(user, target), access.answer_refusal(user, request))
    if request.state != ExplanationState.OPEN:
        raise WorkflowError(access.answer_refusal(user, request))
    text = _text(text, "text", _("Write the explanation."))
    today = today or timezone.localdate()
    proposed_date, proposed_value = _proposal(target, proposed_date, proposed_value, today)
    answer = ExplanationAnswer(
        request=request, author=user, text=text, measures=str(measures or "").strip(),
        proposed_date=proposed_date, proposed_value=proposed_value,
    )
    if evidence_file is None:
        return _answered(request, answer, user, today)
    problem = evidence.content_problem(evidence_file)
    if problem:
        raise WorkflowError(problem, "evidence_file")
    field = ExplanationAnswer._meta.get_field("evidence_file")
    answer.evidence_name = evidence.original_name(evidence_file.name)
    answer.evidence_file = stored = evidence.store(evidence_file, field=field)
    try:
        return _answered(request, answer, user, today)
    except BaseException:
        evidence.discard(stored, storage=field.storage)
        raise


def _answered(
    request: ExplanationRequest, answer: ExplanationAnswer, user, today: date
) -> ExplanationAnswer:
    answer._history_user = user
    answer.save()
    request.state = ExplanationState.ANSWERED
    _save(request, ["state"], user)
    events_resolve(target_id=request.target_id, kinds=AWAITING_ANSWER, subject=str(request.pk))
    events_record(
        events=[_event(request, AlertKind.EXPLANATION_ANSWERED, by=user,
                       users=frozenset({request.requested_by_id}))],
        on=today,
    )
    return answer


# --- deciding: accept, or ask again -----------------------------------------------------------


def _decidable(
    user, request_id: int, version: int | None
) -> tuple[ExplanationRequest, ExplanationAnswer]:
    """The request under its lock with its answer, if ``user`` may decide on it now."""
    request = _locked(request_id)
    _require_version(request, version)
    _require(access.can_review(user, request.target), access.decision_refusal(user, request, None))
    answer = ExplanationAnswer.objects.filter(request=request).first()
    refusal = access.decision_refusal(user, request, answer)
    if answer is not None and user.pk == answer.author_id:
        raise NotAllowed(refusal)  # four eyes
    if refusal:
        raise WorkflowError(refusal)
    return request, answer


def _decided(request: ExplanationRequest, state: str, user, note: str) -> None:
    request.state = state
    request.decided_by = user
    request.decided_at = timezone.now()
    request.decision_note = note
    _save(request, ["state", "decided_by", "decided_at", "decision_note"], user)
    events_resolve(
        target_id=request.target_id, kinds=(AlertKind.EXPLANATION_ANSWERED,),
        subject=str(request.pk),
    )


@transaction.atomic
def explanation_accept(
    *,
    user,
    request_id: int,
    note: str = "",
    version: int | None = None,
    today: date | None = None,
) -> ExplanationRequest:
    """answered → accepted, by a manager whose scope covers the target and who did not write
    the answer; ``note``: an optional comment. The answer's author is told."""
    request, answer = _decidable(user, request_id, version)
    _decided(request, ExplanationState.ACCEPTED, user, str(note or "").strip())
    events_record(
        events=[_event(request, AlertKind.EXPLANATION_ACCEPTED, by=user,
                       users=frozenset({answer.author_id}))],
        on=today or timezone.localdate(),
    )
    return request


@transaction.atomic
def explanation_ask_again(
    *,
    user,
    request_id: int,
    question: str,
    due_date: date | None,
    version: int | None = None,
    today: date | None = None,
) -> ExplanationRequest:
    """answered → asked_again, and a new open request follows it (``previous``) with the new
    question and due date, whatever the target's status now: the answer did not explain
    enough. By a manager whose scope covers the target and who did not write the answer. The
    answer's author and the unit's staff and managers are told. Returns the new request."""
    request, answer = _decidable(user, request_id, version)
    question = _text(question, "question", _("Write what is still to be explained."))
    today = today or timezone.localdate()
    due_date = _check_due(due_date, today)
    _decided(request, ExplanationState.ASKED_AGAIN, user, question)
    follow_up = _create(
        ExplanationRequest(
            target=request.target, previous=request, requested_by=user, question=question,
            due_date=due_date, target_status=_status_now(request.target) or request.target_status,
        ),
        user,
    )
    events_record(
        events=[_event(follow_up, AlertKind.EXPLANATION_ASKED_AGAIN, by=user,
                       users=_unit_members(request.target) | {answer.author_id},
                       **_asked_params(follow_up))],
        on=today,
    )
    return follow_up


# --- escalating: the daily step ----------------------------------------------------------------


def explanations_escalate(*, on: date) -> int:
    """Escalate, once, every open request whose due date is before ``on`` (the day after the
    due date at the earliest) to the managers of the target's parent unit; how many.

    Run by the daily task. The requests are locked, and ``escalated_at`` re-checked under the
    lock, so two runs at once escalate each request once; its alert's key is unique besides.
    A request answered meanwhile is not open and is left alone.
    """
    with transaction.atomic():
        due = list(
            ExplanationRequest.objects.select_for_update(of=("self",))
            .filter(state=ExplanationState.OPEN, escalated_at__isnull=True, due_date__lt=on)
            .select_related("target__responsible_unit", "target__latest_assessment",
                            "requested_by")
            .order_by("pk")
        )
        if not due:
            return 0
        now = timezone.now()
        events = []
        for request in due:
            # Not a new version: an answer being written meanwhile still answers the same
            # question, and is not refused as stale because the request was escalated.
            request.escalated_at = now
            request._history_user = None  # the daily task, nobody
            request.save(update_fields=["escalated_at", "updated_at"])
            events.append(
                _event(request, AlertKind.EXPLANATION_ESCALATED, by=None,
                       users=_parent_managers(request.target),
                       requested_by=person_name(request.requested_by),
                       asked_on=timezone.localdate(request.created_at).isoformat())
            )
        events_record(events=events, on=on)
    return len(due)
