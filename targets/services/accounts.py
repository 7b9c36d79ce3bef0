"""Signing in and resetting a password without helping an attacker.

- *Sign-in throttling* is django-axes (settings ``AXES_*``); this module gives it the client's
  address (``client_ip``), the same one the reset limits count.
- *Password reset*: the request only validates the address, counts it against the limits and
  queues ``tasks.send_password_reset``; the worker looks the accounts up and sends the mail. The
  answer is the same, in the same time, whether or not an account has that address.
- *Reset limits*: fixed-window counters in the shared cache (Redis in production, so that every
  gunicorn worker counts together), per address and per client.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from celery import current_app
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext, ngettext, override

from targets.models import Profile

log = logging.getLogger(__name__)

SEND_PASSWORD_RESET = "targets.tasks.send_password_reset"
SUBJECT_TEMPLATE = "registration/password_reset_subject.txt"
EMAIL_TEMPLATE = "registration/password_reset_email.html"


def client_ip(request: HttpRequest) -> str:
    """The client's address as the deployment sees it (``AXES_CLIENT_IP_CALLABLE``)."""
    return client_address(request, proxies=settings.TRUSTED_PROXY_COUNT)


def client_address(request: HttpRequest, *, proxies: int) -> str:
    """REMOTE_ADDR, or behind ``proxies`` reverse proxies the address the outermost of them
    saw (X-Forwarded-For counted from the right).

    Entries further left are whatever the client sent and are never trusted. Behind a proxy
    without this setting every client shares the proxy's address, and a few failures by
    anyone lock everyone out.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    if proxies <= 0:
        return remote
    forwarded = [
        part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    ]
    forwarded = [part for part in forwarded if part]
    return forwarded[-proxies] if len(forwarded) >= proxies else remote


# --- rate limits ------------------------------------------------------------------


@dataclass(frozen=True)
class ResetLimits:
    """Built at the edge (the view) with ``from_settings``: the defaults live in the settings."""

    per_address: int
    per_client: int
    window: int  # seconds

    @classmethod
    def from_settings(cls) -> ResetLimits:
        return cls(
            per_address=settings.PASSWORD_RESET_LIMIT_PER_ADDRESS,
            per_client=settings.PASSWORD_RESET_LIMIT_PER_CLIENT,
            window=settings.PASSWORD_RESET_LIMIT_WINDOW,
        )


def _key(kind: str, value: str) -> str:
    # Hashed: an address may hold characters a cache key must not, and keys stay short.
    return f"password-reset:{kind}:{hashlib.sha256(value.encode()).hexdigest()}"


def _count(key: str, window: int) -> int:
    """Count one request in a window that starts with the first one."""
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key)
    except ValueError:  # the window ended between add and incr
        cache.set(key, 1, timeout=window)
        return 1


def password_reset_limited(*, email: str, client: str, limits: ResetLimits) -> str | None:
    """Count a reset request; the message to show when it is over a limit, else None.

    The address is counted whether or not an account has it, so the answer tells nothing.
    If the cache is unreachable the request goes on (logged): the broker is then most likely
    down as well, and nothing is sent anyway.
    """
    try:
        by_address = _count(_key("address", email.strip().lower()), limits.window)
        by_client = _count(_key("client", client), limits.window)
    except Exception as exc:  # the cache backend's own connection errors
        log.warning("Password reset limits not checked (%s)", exc)
        return None
    minutes = max(1, limits.window // 60)
    if by_address > limits.per_address:
        return ngettext(
            "Too many password reset requests for this address. "
            "Try again in at most %(minutes)d minute.",
            "Too many password reset requests for this address. "
            "Try again in at most %(minutes)d minutes.",
            minutes,
        ) % {"minutes": minutes}
    if by_client > limits.per_client:
        return ngettext(
            "Too many password reset requests from your connection. "
            "Try again in at most %(minutes)d minute.",
            "Too many password reset requests from your connection. "
            "Try again in at most %(minutes)d minutes.",
            minutes,
        ) % {"minutes": minutes}
    return None


# --- queueing and sending ---------------------------------------------------------


def password_reset_enqueue(email: str) -> bool:
    """Queue the reset mail. A broker outage is logged, not raised: the page answers the
    same, and the person can ask again."""
    try:
        # By name: services sit below the tasks and never import them.
        current_app.send_task(
            SEND_PASSWORD_RESET, args=[email], retry=True,
            retry_policy={"max_retries": 2, "interval_start": 0.2},
        )
    except Exception as exc:  # kombu raises several kinds for an unreachable broker
        log.warning("Could not queue a password reset mail (%s)", exc)
        return False
    return True


def password_reset_send(*, email: str, site_url: str, from_email: str) -> int:
    """Mail a reset link to every active account with this address, each in its language.

    Django's own logic (``PasswordResetForm.get_users`` and ``send_mail``, the same
    templates); the link points at ``site_url``, never at a host a request named.
    Returns the number of mails sent (0 for an unknown address).
    """
    form = PasswordResetForm()
    site = urlsplit(site_url)
    email_field = get_user_model().get_email_field_name()
    users = list(form.get_users(email))
    languages = dict(
        Profile.objects.filter(user__in=users).values_list("user_id", "language")
    )
    for user in users:
        user_email = getattr(user, email_field)
        with override(languages.get(user.pk, settings.LANGUAGE_CODE)):
            context = {
                "email": user_email,
                "domain": site.netloc,
                "site_name": gettext("Target Tracker"),
                "protocol": site.scheme,
                "site_url": site_url.rstrip("/"),
                "uid": urlsafe_base64_encode(force_bytes(user.pk)),
                "user": user,
                "token": default_token_generator.make_token(user),
            }
            form.send_mail(SUBJECT_TEMPLATE, EMAIL_TEMPLATE, context, from_email, user_email)
    return len(users)
