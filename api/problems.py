"""Every error of the API as an RFC 9457 problem detail (``application/problem+json``):
``type``, ``title``, ``status``, ``detail``, ``instance`` and, for bad input, ``errors`` — one
``{"field", "message"}`` per problem, in the user's language.

The services' errors become HTTP statuses here, in one place: a version that moved on
(StaleEntry) is 409, a transition the entry's state does not allow is 409, bad input for a
field is 400 next to that field, and NotAllowed is 403.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from targets.errors import StaleEntry, WorkflowError

MEDIA_TYPE = "application/problem+json"
# Problem types a client may tell apart; the others are "about:blank" (the status says it).
TYPE_BASE = "urn:target-tracker:problem:"
VALIDATION = TYPE_BASE + "validation-error"
STALE = TYPE_BASE + "stale-version"
STATE_CONFLICT = TYPE_BASE + "workflow-conflict"
NON_FIELD = None  # the field of a problem that belongs to no field


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"

    def __init__(self, detail: str, problem_type: str) -> None:
        super().__init__(detail)
        self.problem_type = problem_type


def _field_errors(detail: Any, prefix: str = "") -> list[dict[str, str | None]]:
    """DRF's nested error detail as a flat list: ``{"field": "value", "message": "…"}``."""
    if isinstance(detail, dict):
        found = []
        for key, value in detail.items():
            name = "" if key in ("non_field_errors", "__all__") else str(key)
            found += _field_errors(value, f"{prefix}.{name}" if prefix and name else
                                   (prefix or name))
        return found
    if isinstance(detail, list):
        found = []
        for index, value in enumerate(detail):
            if isinstance(value, dict | list) and not isinstance(value, str):
                found += _field_errors(value, f"{prefix}.{index}" if prefix else str(index))
            else:
                found.append({"field": prefix or NON_FIELD, "message": str(value)})
        return found
    return [{"field": prefix or NON_FIELD, "message": str(detail)}]


def problem(
    status_code: int, *, detail: str = "", problem_type: str = "about:blank",
    errors: list[dict] | None = None, instance: str = "",
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": problem_type,
        "title": _title(status_code, problem_type),
        "status": status_code,
        "detail": detail or _title(status_code, problem_type),
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    return body


def _title(status_code: int, problem_type: str) -> str:
    if problem_type == VALIDATION:
        return _("The request has invalid input.")
    if problem_type == STALE:
        return _("The entry changed since you read it.")
    if problem_type == STATE_CONFLICT:
        return _("The entry's state does not allow this.")
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return str(status_code)


def _translated(exc: Exception) -> Exception:
    """The services' errors as the API's."""
    if isinstance(exc, StaleEntry):
        return Conflict(exc.message, STALE)
    if isinstance(exc, WorkflowError):
        if exc.field:
            return exceptions.ValidationError({exc.field: [exc.message]})
        return Conflict(exc.message, STATE_CONFLICT)
    return exc


def problem_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's EXCEPTION_HANDLER: DRF's own handling (status, Retry-After, WWW-Authenticate),
    then the body rewritten as a problem detail. Anything else is a 500 left to Django."""
    exc = _translated(exc)
    response = exception_handler(exc, context)
    if response is None:
        return None
    request = context.get("request")
    instance = request.get_full_path() if request is not None else ""
    if isinstance(exc, exceptions.ValidationError):
        errors = _field_errors(exc.detail)
        body = problem(
            response.status_code, problem_type=VALIDATION, errors=errors, instance=instance,
            detail=" ".join(
                f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors
            ),
        )
    else:
        if isinstance(exc, Http404):
            detail = _("Not found.")
        elif isinstance(exc, PermissionDenied):
            detail = str(exc) or _("You may not do this.")
        elif isinstance(exc, exceptions.APIException):
            detail = str(exc.detail)
        else:
            detail = ""
        body = problem(
            response.status_code, detail=detail, instance=instance,
            problem_type=getattr(exc, "problem_type", "about:blank"),
        )
    response.data = body
    response.content_type = MEDIA_TYPE
    return response


@csrf_exempt  # a program's POST to a wrong address is told 404, not a CSRF page
def not_found(request: HttpRequest, *args, **kwargs) -> JsonResponse:
    """404 for any address under /api/ that names no endpoint, as a problem detail."""
    return JsonResponse(
        problem(404, detail=_("No API endpoint at this address."),
                instance=request.get_full_path()),
        status=404, content_type=MEDIA_TYPE, json_dumps_params={"ensure_ascii": False},
    )
