"""Helpers for the API tests: a token per person, a DRF client that sends it."""

from __future__ import annotations

from rest_framework.test import APIClient

from api.services import token_create


def token_of(user, name: str = "test system", days: int = 30) -> str:
    """A fresh API token's key for ``user``, made through the service."""
    return token_create(user=user, name=name, days=days).key


def api_client(user=None, *, key: str | None = None, language: str = "en") -> APIClient:
    """A client speaking ``language`` that sends ``user``'s new token (or ``key``)."""
    client = APIClient()
    headers = {"HTTP_ACCEPT_LANGUAGE": language}
    if user is not None or key is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {key or token_of(user)}"
    client.credentials(**headers)
    return client


def problem_of(response) -> dict:
    """The response's problem detail, checked to be one (RFC 9457)."""
    assert response["Content-Type"] == "application/problem+json", response["Content-Type"]
    body = response.json()
    assert body["status"] == response.status_code
    assert {"type", "title", "status", "detail"} <= set(body)
    return body
