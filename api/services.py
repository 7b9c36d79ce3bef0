"""API tokens: made, checked and revoked here only (the token page, the admin and the API's
authentication call these)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from api.models import ApiToken
from targets.errors import NotAllowed, WorkflowError

KEY_PREFIX = "tt_"  # says what a leaked string is (secret scanners match on it)
PREFIX_SHOWN = 8  # characters of the key kept in clear to tell tokens apart, prefix included
MAX_DAYS = 365
DEFAULT_DAYS = 90
# How stale ``last_used_at`` may be: a token used all day costs one UPDATE a minute, not one
# per request.
LAST_USED_PRECISION = timedelta(minutes=1)


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class CreatedToken:
    token: ApiToken
    key: str  # the secret, to show once: it is nowhere else


def may_manage_token(user, token: ApiToken) -> bool:
    """A user manages his own tokens; a superuser (the administrators) everyone's."""
    return user.is_authenticated and (user.is_superuser or token.user_id == user.pk)


def token_create(*, user, owner=None, name: str, days: int = DEFAULT_DAYS) -> CreatedToken:
    """A new token for ``owner`` (``user`` himself unless given: only an administrator makes
    tokens for someone else), valid ``days`` days (1 – MAX_DAYS)."""
    owner = owner or user
    if owner.pk != user.pk and not user.is_superuser:
        raise NotAllowed(_("Only an administrator makes tokens for someone else."))
    name = (name or "").strip()
    if not name:
        raise WorkflowError(_("Name the token: what will use it?"), "name")
    if len(name) > ApiToken._meta.get_field("name").max_length:
        raise WorkflowError(_("At most 100 characters, please."), "name")
    if not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise WorkflowError(
            _("A token is valid from 1 to %(max)d days.") % {"max": MAX_DAYS}, "days"
        )
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    token = ApiToken.objects.create(
        user=owner, name=name, prefix=key[:PREFIX_SHOWN], digest=key_digest(key),
        created_at=now, created_by=user, expires_at=now + timedelta(days=days),
    )
    return CreatedToken(token=token, key=key)


@transaction.atomic
def token_revoke(*, user, token_id: int) -> ApiToken:
    """Revoke a token at once (its next request is refused); revoking it again changes
    nothing. Outside what ``user`` manages: ApiToken.DoesNotExist, as if it were not there."""
    token = ApiToken.objects.select_for_update().get(pk=token_id)
    if not may_manage_token(user, token):
        raise ApiToken.DoesNotExist
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.revoked_by = user
        token.save(update_fields=["revoked_at", "revoked_by"])
    return token


def token_authenticate(key: str) -> ApiToken | None:
    """The usable token of ``key`` with its active user, or None; notes when it was used."""
    if not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    token = (
        ApiToken.objects.usable()
        .select_related("user")
        .filter(digest=key_digest(key), user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_PRECISION:
        # A conditional update: many requests at once write it once, and none waits on a lock.
        ApiToken.objects.filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_PRECISION),
            pk=token.pk,
        ).update(last_used_at=now)
        token.last_used_at = now
    return token


def tokens_of(*, user):
    """The user's tokens, newest first (revoked and expired ones too, marked so)."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-pk")
