"""What every page's navigation needs to know about the user."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from targets import access
from targets.services import inbox


def roles(request: HttpRequest) -> dict:
    # Lazy: the queries run only on pages that show the navigation.
    return {
        "is_manager": SimpleLazyObject(lambda: access.may_review_any(request.user)),
        "unread_alerts": SimpleLazyObject(
            lambda: inbox.unread_count(user=request.user) if request.user.is_authenticated else 0
        ),
    }
