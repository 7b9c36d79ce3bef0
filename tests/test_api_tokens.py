"""API tokens on the account page and in the admin: made (the key shown once), stored only as
a hash, revoked by their user or an administrator; the form never fails on any input."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.models import ApiToken
from api.services import token_create
from targets.errors import NotAllowed, WorkflowError
from tests.apiclients import api_client
from tests.conftest import rolled_back

pytestmark = pytest.mark.django_db
PAGE = reverse("api-tokens")
KEY = re.compile(r'value="(tt_[A-Za-z0-9_-]+)"')


def shown_key(response) -> str | None:
    found = KEY.search(response.content.decode())
    return found.group(1) if found else None


def test_the_page_needs_a_signed_in_user(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_a_new_token_is_shown_once_stored_as_a_hash_and_works(english, people):
    english.force_login(people["manager"])
    response = english.post(PAGE, {"name": "Lao Cai reporting", "days": "90"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    key = shown_key(response)
    assert key and "Copy it now: it is shown only this once" in response.content.decode()
    token = ApiToken.objects.get()
    assert (token.user, token.created_by, token.name) == (
        people["manager"], people["manager"], "Lao Cai reporting")
    assert token.digest == hashlib.sha256(key.encode()).hexdigest()
    assert (token.expires_at - token.created_at).days == 90
    assert shown_key(english.get(PAGE)) is None  # never again
    assert "Lao Cai reporting" in english.get(PAGE).content.decode()
    assert api_client(key=key).get("/api/v1/targets/").status_code == 200


def test_revoking_a_token_stops_it_at_once(english, people):
    created = token_create(user=people["staff"], name="script", days=30)
    english.force_login(people["staff"])
    response = english.post(reverse("api-token-revoke", args=[created.token.pk]))
    assert response.status_code == 302
    token = ApiToken.objects.get()
    assert token.revoked_at is not None and token.revoked_by == people["staff"]
    assert api_client(key=created.key).get("/api/v1/targets/").status_code == 401
    assert "Revoked" in english.get(PAGE).content.decode()


def test_nobody_revokes_or_sees_someone_elses_token_on_the_page(english, people):
    created = token_create(user=people["staff"], name="Nightly loader", days=30)
    english.force_login(people["staff2"])
    assert "Nightly loader" not in english.get(PAGE).content.decode()
    response = english.post(reverse("api-token-revoke", args=[created.token.pk]))
    assert response.status_code == 404
    assert ApiToken.objects.get().revoked_at is None


def test_only_an_administrator_makes_a_token_for_someone_else(people):
    with pytest.raises(NotAllowed):
        token_create(user=people["manager"], owner=people["staff"], name="x")
    made = token_create(user=people["admin"], owner=people["staff"], name="x")
    assert (made.token.user, made.token.created_by) == (people["staff"], people["admin"])


@pytest.mark.parametrize(("name", "days", "field"), [
    ("", 30, "name"), ("   ", 30, "name"), ("x" * 101, 30, "name"), ("ok", 0, "days"),
    ("ok", 366, "days"),
])
def test_the_service_refuses_a_token_without_a_name_or_beyond_a_year(people, name, days, field):
    with pytest.raises(WorkflowError) as refused:
        token_create(user=people["staff"], name=name, days=days)
    assert refused.value.field == field
    assert not ApiToken.objects.exists()


def test_the_admin_makes_a_token_for_a_user_and_shows_its_key_once(client, people):
    client.cookies["django_language"] = "en"
    client.force_login(people["admin"])
    response = client.post(
        reverse("admin:api_apitoken_add"),
        {"user": people["staff"].pk, "name": "Commune import", "days": "30"},
    )
    assert response.status_code == 200, response.content
    key = shown_key(response)
    token = ApiToken.objects.get()
    assert key and token.digest == hashlib.sha256(key.encode()).hexdigest()
    assert (token.user, token.created_by) == (people["staff"], people["admin"])
    assert "no-store" in response["Cache-Control"]
    change = client.get(reverse("admin:api_apitoken_change", args=[token.pk]))
    assert key not in change.content.decode() and token.digest not in change.content.decode()
    response = client.post(
        reverse("admin:api_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_by == people["admin"]
    assert api_client(key=key).get("/api/v1/targets/").status_code == 401


def test_the_admin_lists_tokens_for_superusers_only(client, people):
    from django.contrib.auth.models import Permission

    manager = people["manager"]
    manager.is_staff = True
    manager.save(update_fields=["is_staff"])
    manager.user_permissions.set(Permission.objects.filter(codename__endswith="apitoken"))
    client.force_login(manager)
    assert client.get(reverse("admin:api_apitoken_changelist")).status_code == 403


def test_the_page_speaks_vietnamese_by_default(client, people):
    client.force_login(people["staff"])
    html = client.get(PAGE).content.decode()
    assert "Mã truy cập API" in html and "Tạo mã truy cập" in html and "Thời hạn" in html


@given(name=st.text(max_size=120), days=st.one_of(st.sampled_from(["30", "90", "180", "365"]),
                                                  st.text(max_size=5)))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
def test_any_input_to_the_form_makes_a_token_or_says_why_never_a_500(client, people, name, days):
    client.force_login(people["staff"])
    with rolled_back():
        response = client.post(PAGE, {"name": name, "days": days})
        assert response.status_code == 200
        made = ApiToken.objects.count()
        valid = bool(name.strip()) and "\x00" not in name and len(name.strip()) <= 100 and \
            days in ("30", "90", "180", "365")
        assert made == (1 if valid else 0), (name, days)
        assert (shown_key(response) is not None) == valid
        if valid:
            assert ApiToken.objects.get().name == name.strip()
