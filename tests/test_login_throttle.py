"""Sign-in throttling (django-axes): locked out after too many failures, on the site and the admin.

The lock counts failures per username (from any address) and per address (for any username);
the cool-off runs from the last failure; a success clears the count; an operator can unlock.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, ngettext

from targets.services.accounts import client_address

pytestmark = pytest.mark.django_db

LIMIT = 5
COOL_OFF = timedelta(minutes=15)
SITE = "/accounts/login/"
ADMIN = "/admin/login/"
A, B = "198.51.100.7", "203.0.113.9"


@pytest.fixture(autouse=True)
def _throttle(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = COOL_OFF
    settings.AXES_RESET_ON_SUCCESS = True
    settings.TRUSTED_PROXY_COUNT = 0


def sign_in(client, username: str, password: str, *, url: str = SITE, ip: str = A, **extra):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=ip, **extra)


def fail(client, username: str, times: int, *, url: str = SITE, ip: str = A):
    return [sign_in(client, username, "wrong", url=url, ip=ip) for _ in range(times)]


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def is_lock_out(response) -> bool:
    return response.status_code == 429 and "registration/locked_out.html" in [
        t.name for t in response.templates
    ]


def test_the_right_password_is_refused_after_too_many_wrong_ones(client, people):
    answers = fail(client, "bx.staff", LIMIT)
    assert [r.status_code for r in answers[:-1]] == [200] * (LIMIT - 1)
    assert all(r.context["form"].errors for r in answers[:-1])
    assert is_lock_out(answers[-1])  # the failure that reaches the limit already locks

    response = sign_in(client, "bx.staff", "pw-bx.staff")
    assert is_lock_out(response)
    assert not signed_in(client)


def test_the_admin_login_locks_out_too(client, people):
    answers = fail(client, "admin", LIMIT, url=ADMIN)
    assert [r.status_code for r in answers[:-1]] == [200] * (LIMIT - 1)
    response = sign_in(client, "admin", "pw-admin", url=ADMIN)
    assert is_lock_out(response)
    assert not signed_in(client)
    assert client.get(reverse("admin:index")).status_code == 302  # to the admin's login
    assert f'href="{ADMIN}"' in response.content.decode()  # "back to sign-in" goes there


def test_below_the_limit_the_right_password_works(client, people):
    fail(client, "bx.staff", LIMIT - 1)
    response = sign_in(client, "bx.staff", "pw-bx.staff")
    assert response.status_code == 302 and signed_in(client)


def test_the_lock_out_message_is_vietnamese_by_default(client, people):
    fail(client, "bx.staff", LIMIT)
    html = sign_in(client, "bx.staff", "pw-bx.staff").content.decode()
    with translation.override("vi"):
        heading = gettext("Too many failed sign-ins")
        advice = ngettext(
            "Try again in %(minutes)s minute, or ask an administrator to unlock it.",
            "Try again in %(minutes)s minutes, or ask an administrator to unlock it.",
            15,
        ) % {"minutes": 15}
    assert heading != "Too many failed sign-ins"  # translated
    assert '<html lang="vi">' in html and heading in html and advice in html


def test_the_lock_out_message_follows_the_english_ui(english, people):
    fail(english, "bx.staff", LIMIT)
    html = sign_in(english, "bx.staff", "pw-bx.staff").content.decode()
    assert "Too many failed sign-ins" in html
    assert "Try again in 15 minutes, or ask an administrator to unlock it." in html


def test_the_message_gives_the_configured_cool_off(english, people, settings):
    settings.AXES_COOLOFF_TIME = timedelta(minutes=1)
    fail(english, "bx.staff", LIMIT)
    html = sign_in(english, "bx.staff", "pw-bx.staff").content.decode()
    assert "Try again in 1 minute, or ask an administrator to unlock it." in html


def test_guessing_one_account_from_many_addresses_locks_that_account(client, people):
    for i in range(LIMIT):
        sign_in(client, "bx.staff", "wrong", ip=f"192.0.2.{i + 1}")
    assert is_lock_out(sign_in(client, "bx.staff", "pw-bx.staff", ip=B))
    # Another account, from the same addresses, is not affected.
    response = sign_in(client, "bx.manager", "pw-bx.manager", ip="192.0.2.1")
    assert response.status_code == 302 and signed_in(client)


def test_spraying_many_accounts_from_one_address_locks_that_address(client, people):
    for username in ["bx.staff", "bx.staff2", "ind.staff", "lc.manager", "nobody"][:LIMIT]:
        sign_in(client, username, "wrong", ip=A)
    assert is_lock_out(sign_in(client, "bx.manager", "pw-bx.manager", ip=A))
    # The same account from another address signs in: one client's failures lock only it.
    response = sign_in(client, "bx.manager", "pw-bx.manager", ip=B)
    assert response.status_code == 302 and signed_in(client)


def test_the_lock_ends_after_the_cool_off(client, people):
    fail(client, "bx.staff", LIMIT)

    # Just before the end of the cool-off: still locked (and this failure starts it again).
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time
                                 - COOL_OFF + timedelta(minutes=1))
    assert is_lock_out(sign_in(client, "bx.staff", "pw-bx.staff"))

    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - COOL_OFF - timedelta(seconds=1)
    )
    response = sign_in(client, "bx.staff", "pw-bx.staff")
    assert response.status_code == 302 and signed_in(client)


def test_a_success_clears_the_failures(client, people):
    fail(client, "bx.staff", LIMIT - 1)
    assert sign_in(client, "bx.staff", "pw-bx.staff").status_code == 302
    client.post(reverse("logout"))
    assert not AccessAttempt.objects.exists()

    answers = fail(client, "bx.staff", LIMIT - 1)  # would reach the limit without the reset
    assert not any(is_lock_out(r) for r in answers)
    assert sign_in(client, "bx.staff", "pw-bx.staff").status_code == 302


def test_an_operator_unlocks_a_user(client, people):
    fail(client, "bx.staff", LIMIT)
    assert is_lock_out(sign_in(client, "bx.staff", "pw-bx.staff"))
    call_command("axes_reset_username", "bx.staff")
    response = sign_in(client, "bx.staff", "pw-bx.staff")
    assert response.status_code == 302 and signed_in(client)


def test_the_admin_lists_the_attempts(client, people):
    fail(client, "bx.staff", 2)
    client.force_login(people["admin"])
    html = client.get(reverse("admin:axes_accessattempt_changelist")).content.decode()
    assert "bx.staff" in html


# --- the client's address behind a reverse proxy -------------------------------------------


def test_the_address_is_remote_addr_without_a_trusted_proxy():
    request = RequestFactory().get("/", REMOTE_ADDR=A, HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert client_address(request, proxies=0) == A


def test_behind_one_proxy_the_address_is_the_one_the_proxy_saw():
    # The client may send its own X-Forwarded-For; the proxy appends the address it saw.
    request = RequestFactory().get(
        "/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="10.9.9.9, " + B
    )
    assert client_address(request, proxies=1) == B
    assert client_address(request, proxies=2) == "10.9.9.9"
    bare = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1")
    assert client_address(bare, proxies=1) == "127.0.0.1"


def test_behind_a_proxy_one_client_does_not_lock_out_another(client, people, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    via_proxy = {"REMOTE_ADDR": "127.0.0.1"}
    for username in ["u1", "u2", "u3", "u4", "u5"][:LIMIT]:
        client.post(SITE, {"username": username, "password": "x"},
                    HTTP_X_FORWARDED_FOR=A, **via_proxy)
    refused = client.post(SITE, {"username": "bx.manager", "password": "pw-bx.manager"},
                          HTTP_X_FORWARDED_FOR="10.0.0.1, " + A, **via_proxy)  # spoof ignored
    assert is_lock_out(refused)
    response = client.post(SITE, {"username": "bx.manager", "password": "pw-bx.manager"},
                           HTTP_X_FORWARDED_FOR=B, **via_proxy)
    assert response.status_code == 302 and signed_in(client)
