"""Sign-in, sign-out, password change and reset, the language switch and the layout."""

from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.urls import reverse

from targets import tasks
from targets.models import Profile
from targets.services import accounts
from tests.queueing import record_queued

pytestmark = pytest.mark.django_db


def test_login_page_and_sign_in(client, people):
    assert client.get(reverse("login")).status_code == 200
    response = client.post(reverse("login"), {"username": "bx.staff", "password": "pw-bx.staff"})
    assert response.status_code == 302 and response.url == "/"
    assert client.get("/").status_code == 200


def test_wrong_password_is_refused(client, people):
    response = client.post(reverse("login"), {"username": "bx.staff", "password": "nope"})
    assert response.status_code == 200
    assert response.context["form"].errors


def test_sign_in_speaks_the_profile_language(client, people):
    Profile.objects.create(user=people["staff"], language="en")
    response = client.post(reverse("login"), {"username": "bx.staff", "password": "pw-bx.staff"})
    assert response.cookies["django_language"].value == "en"


def test_sign_out(client, people):
    client.force_login(people["staff"])
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_password_change(client, people):
    client.force_login(people["staff"])
    assert client.get(reverse("password_change")).status_code == 200
    response = client.post(
        reverse("password_change"),
        {"old_password": "pw-bx.staff", "new_password1": "a-Long-new-pass-42",
         "new_password2": "a-Long-new-pass-42"},
    )
    assert response.status_code == 302
    people["staff"].refresh_from_db()
    assert people["staff"].check_password("a-Long-new-pass-42")


def test_password_reset_by_email(client, people, monkeypatch):
    queued = record_queued(monkeypatch, accounts.SEND_PASSWORD_RESET)
    response = client.post(reverse("password_reset"), {"email": "bx.staff@example.org"})
    assert response.status_code == 302 and mail.outbox == []
    tasks.send_password_reset(*queued[0])  # what the worker does (tests/test_password_reset.py)
    [message] = mail.outbox
    assert "/accounts/reset/" in message.body
    link = next(line for line in message.body.splitlines() if "/accounts/reset/" in line)
    confirm = client.get(urlsplit(link).path, follow=True)
    assert confirm.context["validlink"] is True


def test_language_switch(client, people):
    client.force_login(people["staff"])
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert client.get("/").context["LANGUAGE_CODE"] == "en"
    client.post(reverse("set_language"), {"language": "vi", "next": "/"})
    assert client.get("/").context["LANGUAGE_CODE"] == "vi"


@pytest.mark.parametrize(("who", "shown"), [("staff", False), ("manager", True), ("admin", True)])
def test_the_review_link_is_for_managers(client, people, who, shown):
    client.force_login(people[who])
    html = client.get("/").content.decode()
    assert (reverse("targets:review") in html) is shown
    assert "/alerts/" in html and reverse("targets:import") in html


def test_the_layout_uses_local_static_files_only(client, people):
    client.force_login(people["staff"])
    html = client.get("/").content.decode()
    assert "/static/vendor/bootstrap/bootstrap.min.css" in html
    assert "cdn" not in html.lower() and "https://" not in html
