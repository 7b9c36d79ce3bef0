"""Explanation requests on the target page (issue 13): ask, answer, accept, ask again.

Thin views over ``targets.services.explanations``: a request out of the user's scope is 404
(its existence is not revealed), a role that may not take the step is 403, and a refusal of the
service (a stale page, the target's status, four eyes) is said on the target page — next to
its field when it is about one, the typed text kept.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.forms import Form
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from targets import access
from targets.errors import NotAllowed, WorkflowError
from targets.evidence import served_type
from targets.forms import (
    ExplanationAcceptForm,
    ExplanationAnswerForm,
    ExplanationAskAgainForm,
    ExplanationAskForm,
)
from targets.models import ExplanationAnswer, ExplanationRequest, Target
from targets.services import explanations as workflow
from targets.views.targets import render_target_page, visible_target


def _section(target: Target) -> str:
    return reverse("targets:target", args=[target.code]) + "#explanations"


def _visible_request(request: HttpRequest, pk: int) -> ExplanationRequest:
    return get_object_or_404(
        ExplanationRequest.objects.filter(
            target__in=access.targets_visible_to(request.user)
        ).select_related("target__responsible_unit"),
        pk=pk,
    )


def _refused(request: HttpRequest, target: Target, form: Form, name: str,
             exc: WorkflowError | NotAllowed) -> HttpResponse:
    """A refusal about one of the form's fields is shown next to it, on the page again; any
    other is a message on the page as it is now."""
    message = exc.message if isinstance(exc, WorkflowError) else str(exc)
    field = getattr(exc, "field", None)
    if field in form.fields:
        form.add_error(field, message)
        return _again(request, target, form, name)
    messages.error(request, message)
    return redirect(_section(target))


def _again(request: HttpRequest, target: Target, form: Form, name: str) -> HttpResponse:
    if request.FILES and name == "answer":
        messages.warning(request, _("Choose the evidence file again: browsers do not keep "
                                    "a chosen file when a form comes back with errors."))
    page = visible_target(request, target.code)
    return render_target_page(request, page, {name: form})


@login_required
@require_POST
def explanation_ask(request: HttpRequest, code: str) -> HttpResponse:
    target = visible_target(request, code)
    if not access.can_ask_explanation(request.user, target):
        raise PermissionDenied(_("You may not ask for an explanation of this target."))
    form = ExplanationAskForm(request.POST, prefix="ask")
    if not form.is_valid():
        return _again(request, target, form, "ask")
    try:
        workflow.explanation_ask(
            user=request.user, target_id=target.pk, question=form.cleaned_data["question"],
            due_date=form.cleaned_data["due_date"],
        )
    except (WorkflowError, NotAllowed) as exc:
        return _refused(request, target, form, "ask", exc)
    messages.success(request, _("Explanation requested from %(unit)s.")
                     % {"unit": target.responsible_unit.localized("name")})
    return redirect(_section(target))


@login_required
@require_POST
def explanation_answer(request: HttpRequest, pk: int) -> HttpResponse:
    asked = _visible_request(request, pk)
    target = asked.target
    if not access.is_unit_member(request.user, target):
        raise PermissionDenied(access.answer_refusal(request.user, asked))
    form = ExplanationAnswerForm(request.POST, request.FILES, prefix="answer", target=target)
    if not form.is_valid():
        return _again(request, target, form, "answer")
    data = form.cleaned_data
    try:
        workflow.explanation_answer(
            user=request.user, request_id=asked.pk, text=data["text"],
            evidence_file=data["evidence_file"] or None, measures=data["measures"],
            proposed_date=data["proposed_date"], proposed_value=data["proposed_value"],
            version=data["version"],
        )
    except (WorkflowError, NotAllowed) as exc:
        return _refused(request, target, form, "answer", exc)
    messages.success(request, _("Your explanation was sent."))
    return redirect(_section(target))


def _deciding(request: HttpRequest, pk: int) -> ExplanationRequest:
    asked = _visible_request(request, pk)
    if not access.can_review(request.user, asked.target):
        raise PermissionDenied(_("You may not decide on this explanation."))
    return asked


@login_required
@require_POST
def explanation_accept(request: HttpRequest, pk: int) -> HttpResponse:
    asked = _deciding(request, pk)
    form = ExplanationAcceptForm(request.POST, prefix="accept")
    if not form.is_valid():
        return _again(request, asked.target, form, "accept")
    try:
        workflow.explanation_accept(
            user=request.user, request_id=asked.pk, note=form.cleaned_data["note"],
            version=form.cleaned_data["version"],
        )
    except (WorkflowError, NotAllowed) as exc:
        return _refused(request, asked.target, form, "accept", exc)
    messages.success(request, _("Explanation accepted."))
    return redirect(_section(asked.target))


@login_required
@require_POST
def explanation_ask_again(request: HttpRequest, pk: int) -> HttpResponse:
    asked = _deciding(request, pk)
    form = ExplanationAskAgainForm(request.POST, prefix="again")
    if not form.is_valid():
        return _again(request, asked.target, form, "again")
    try:
        workflow.explanation_ask_again(
            user=request.user, request_id=asked.pk, question=form.cleaned_data["question"],
            due_date=form.cleaned_data["due_date"], version=form.cleaned_data["version"],
        )
    except (WorkflowError, NotAllowed) as exc:
        return _refused(request, asked.target, form, "again", exc)
    messages.success(request, _("Asked again: the unit has a new request to answer."))
    return redirect(_section(asked.target))


@login_required
def explanation_evidence(request: HttpRequest, pk: int) -> FileResponse:
    """An answer's evidence file, for those who may see its target (404 for anyone else); a
    download under its uploaded name, typed from its checked extension (as an entry's)."""
    answer = get_object_or_404(
        ExplanationAnswer.objects.filter(
            request__target__in=access.targets_visible_to(request.user)
        ),
        pk=pk,
    )
    if not answer.evidence_file:
        raise Http404
    try:
        content = answer.evidence_file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        content, as_attachment=True,
        filename=answer.evidence_name or answer.evidence_file.name.rsplit("/", 1)[-1],
        content_type=served_type(answer.evidence_file.name),
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
