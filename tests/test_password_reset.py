"""Password reset: the request queues a task and answers the same for every address; the worker
mails a working link in the user's language; requests are limited per address and per client."""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.core.cache import caches
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, ngettext
from kombu.exceptions import OperationalError

from targets import tasks
from targets.models import Profile
from targets.services import accounts
from tests.conftest import make_user
from tests.queueing import record_queued

pytestmark = pytest.mark.django_db

RESET = "/accounts/password_reset/"
KNOWN, UNKNOWN = "bx.staff@example.org", "nobody@example.org"
A, B = "198.51.100.7", "203.0.113.9"
SITE_URL = "https://tracker.example.gov.vn"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.PASSWORD_RESET_LIMIT_PER_ADDRESS = 3
    settings.PASSWORD_RESET_LIMIT_PER_CLIENT = 10
    settings.PASSWORD_RESET_LIMIT_WINDOW = 3600
    settings.TRUSTED_PROXY_COUNT = 0
    settings.SITE_URL = SITE_URL


@pytest.fixture
def queued(monkeypatch) -> list[tuple]:
    """The arguments of every queued reset task (the broker is not involved)."""
    return record_queued(monkeypatch, accounts.SEND_PASSWORD_RESET)


def ask(client, email: str, ip: str = A, **extra):
    return client.post(RESET, {"email": email}, REMOTE_ADDR=ip, **extra)


def without_csrf(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


def reset_link(message: mail.EmailMessage) -> str:
    return next(line for line in message.body.splitlines() if "/accounts/reset/" in line)


# --- the request ---------------------------------------------------------------------------


def test_the_view_queues_the_task_and_sends_no_mail(client, people, queued):
    response = ask(client, KNOWN)
    assert response.status_code == 302 and response.url == reverse("password_reset_done")
    assert mail.outbox == []
    assert queued == [(KNOWN,)]


def test_the_view_looks_no_account_up(client, people, queued, django_assert_max_num_queries):
    # No query at all: nothing in the answer (content or time) can depend on the account.
    with django_assert_max_num_queries(0):
        ask(client, KNOWN)
        ask(client, UNKNOWN)
    assert queued == [(KNOWN,), (UNKNOWN,)]


def test_an_existing_and_an_unknown_address_get_the_same_answer(client, people, queued):
    known = ask(client, KNOWN, follow=True)
    unknown = ask(client, UNKNOWN, follow=True)
    assert known.redirect_chain == unknown.redirect_chain == [(reverse("password_reset_done"), 302)]
    assert known.status_code == unknown.status_code == 200
    assert [t.name for t in known.templates] == [t.name for t in unknown.templates]
    assert "registration/password_reset_done.html" in [t.name for t in known.templates]
    assert without_csrf(known.content.decode()) == without_csrf(unknown.content.decode())


def test_a_broker_outage_answers_the_same(client, people, monkeypatch, caplog):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    record_queued(monkeypatch, accounts.SEND_PASSWORD_RESET, send=broker_down)
    response = ask(client, KNOWN)
    assert response.status_code == 302 and response.url == reverse("password_reset_done")
    assert "Could not queue a password reset mail" in caplog.text
    assert mail.outbox == []


def test_an_invalid_address_is_a_form_error_and_queues_nothing(english, people, queued):
    response = ask(english, "not an address")
    assert response.status_code == 200
    assert "Enter a valid email address." in response.context["form"].errors["email"]
    assert queued == []


# --- the task ------------------------------------------------------------------------------


def test_the_task_mails_a_working_link_to_the_right_user(client, people):
    assert tasks.send_password_reset(KNOWN) == 1
    [message] = mail.outbox
    assert message.to == [KNOWN]
    link = reset_link(message)
    assert link.startswith(SITE_URL + "/accounts/reset/")  # the site's address, not a request's

    form_page = client.get(urlsplit(link).path, follow=True)
    assert form_page.context["validlink"] is True
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a-Long-new-pass-42", "new_password2": "a-Long-new-pass-42"},
    )
    assert done.status_code == 302 and done.url == reverse("password_reset_complete")
    people["staff"].refresh_from_db()
    assert people["staff"].check_password("a-Long-new-pass-42")
    assert client.get(urlsplit(link).path, follow=True).context["validlink"] is False  # once
    signed_in = client.post(
        reverse("login"), {"username": "bx.staff", "password": "a-Long-new-pass-42"}
    )
    assert signed_in.status_code == 302


def test_an_unknown_address_gets_no_mail(people):
    assert tasks.send_password_reset(UNKNOWN) == 0
    assert mail.outbox == []


def test_an_inactive_account_gets_no_mail(people):
    people["staff"].is_active = False
    people["staff"].save(update_fields=["is_active"])
    assert tasks.send_password_reset(KNOWN) == 0
    assert mail.outbox == []


def test_every_account_with_the_address_gets_its_own_link(people):
    other = make_user("bx.staff.old")
    other.email = KNOWN.upper()  # the address matches whatever its case
    other.save(update_fields=["email"])
    assert tasks.send_password_reset(KNOWN) == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted([KNOWN, KNOWN.upper()])
    assert reset_link(mail.outbox[0]) != reset_link(mail.outbox[1])


def test_the_mail_speaks_the_users_language(people):
    Profile.objects.create(user=people["manager"], language="en")
    tasks.send_password_reset(KNOWN)  # no profile: the default language, Vietnamese
    tasks.send_password_reset("bx.manager@example.org")
    vietnamese, english = mail.outbox
    with translation.override("vi"):
        assert vietnamese.subject == gettext("Target Tracker: reset your password")
    assert vietnamese.subject != "Target Tracker: reset your password"
    assert english.subject == "Target Tracker: reset your password"
    assert "Choose a new password here:" in english.body


# --- rate limits ---------------------------------------------------------------------------


@pytest.mark.parametrize("email", [KNOWN, UNKNOWN])
def test_requests_are_limited_per_address(english, people, queued, email):
    answers = [ask(english, email, ip=f"192.0.2.{i}") for i in range(4)]  # from four clients
    assert [r.status_code for r in answers] == [302, 302, 302, 429]
    refused = answers[-1]
    message = "Too many password reset requests for this address. Try again in at most 60 minutes."
    assert refused.context["form"].non_field_errors() == [message]
    assert message in refused.content.decode()
    assert "registration/password_reset_form.html" in [t.name for t in refused.templates]
    assert queued == [(email,)] * 3


def test_the_refusal_is_the_same_for_an_existing_and_an_unknown_address(client, people, queued):
    for _ in range(3):
        ask(client, KNOWN)
        ask(client, UNKNOWN)
    known, unknown = ask(client, KNOWN), ask(client, UNKNOWN)
    assert known.status_code == unknown.status_code == 429
    assert without_csrf(known.content.decode()).replace(KNOWN, "@") == without_csrf(
        unknown.content.decode()
    ).replace(UNKNOWN, "@")


def test_the_address_limit_ignores_case_and_spaces(client, people, queued):
    for email in [KNOWN, KNOWN.upper(), " Bx.Staff@Example.org "]:
        assert ask(client, email).status_code == 302
    assert ask(client, KNOWN).status_code == 429


def test_requests_are_limited_per_client(english, people, queued):
    answers = [ask(english, f"person{i}@example.org", ip=A) for i in range(11)]
    assert [r.status_code for r in answers] == [302] * 10 + [429]
    message = (
        "Too many password reset requests from your connection. "
        "Try again in at most 60 minutes."
    )
    assert message in answers[-1].content.decode()
    assert ask(english, "person99@example.org", ip=B).status_code == 302  # another client
    assert len(queued) == 11


def test_the_refusal_is_vietnamese_by_default(client, people, queued):
    answers = [ask(client, KNOWN) for _ in range(4)]
    with translation.override("vi"):
        message = ngettext(
            "Too many password reset requests for this address. "
            "Try again in at most %(minutes)d minute.",
            "Too many password reset requests for this address. "
            "Try again in at most %(minutes)d minutes.",
            60,
        ) % {"minutes": 60}
    assert not message.startswith("Too many")  # translated
    assert answers[-1].status_code == 429 and message in answers[-1].content.decode()


def test_the_limits_count_in_a_shared_redis_across_workers(english, people, queued, settings):
    # As in production: the counts live in Redis, and every request gets a fresh cache
    # client, as another gunicorn worker would.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": settings.CELERY_BROKER_URL,  # the tests' own Redis database
            "KEY_PREFIX": f"test-{uuid.uuid4()}",
            "TIMEOUT": 60,
        }
    }
    settings.PASSWORD_RESET_LIMIT_WINDOW = 60  # the keys do not outlive the test for long
    statuses = []
    for i in range(4):
        statuses.append(ask(english, KNOWN, ip=f"192.0.2.{i}").status_code)
        del caches["default"]
    assert statuses == [302, 302, 302, 429]


def test_a_cache_outage_does_not_break_the_form(client, people, queued, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }
    response = ask(client, KNOWN)
    assert response.status_code == 302 and queued == [(KNOWN,)]


# --- a real worker -------------------------------------------------------------------------


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_mail(client, people, embedded_worker):
    from tests.mailserver import wait_until

    assert ask(client, KNOWN).status_code == 302
    assert ask(client, UNKNOWN).status_code == 302
    assert wait_until(lambda: len(mail.outbox) >= 1, timeout=30)
    [message] = mail.outbox
    assert message.to == [KNOWN] and reset_link(message).startswith(SITE_URL)
