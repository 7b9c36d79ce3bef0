"""What every page's navigation needs to know about the user."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from targets import access


def roles(request: HttpRequest) -> dict:
    # Lazy: the query runs only on pages that show the navigation.
    return {"is_manager": SimpleLazyObject(lambda: access.may_review_any(request.user))}
