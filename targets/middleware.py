"""Vietnamese by default (DESIGN §5), whatever language the browser asks for."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class DefaultLanguageMiddleware:
    """Drop the browser's Accept-Language so LocaleMiddleware falls back to LANGUAGE_CODE.

    Commune officers' phones are often set to English; the deployment's language is
    Vietnamese. The choice in the language switcher (a cookie) and the language of the
    user's profile (set at sign-in) still win. Place it before LocaleMiddleware.

    The REST API (/api/) keeps the header: a program that sends it means it (api/views.py).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith("/api/"):
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


