"""Rate limits (DRF throttles): per token for programs, per client address for anonymous
requests. The rates are the settings' ``API_THROTTLE_RATES``, read at each request (so that a
change of the settings, or a test, takes effect without reloading the classes)."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from api.models import ApiToken


class _SettingsRate(SimpleRateThrottle):
    def get_rate(self) -> str | None:
        return settings.API_THROTTLE_RATES.get(self.scope)


class TokenRateThrottle(_SettingsRate):
    """Each token its own budget: one system's batch does not slow down another's."""

    scope = "token"

    def get_cache_key(self, request, view) -> str | None:
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AnonymousRateThrottle(_SettingsRate):
    """Requests without a valid token (the schema, the docs): per client address."""

    scope = "anonymous"

    def get_cache_key(self, request, view) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def get_ident(self, request) -> str:
        # The address django-axes and the reset limits use (TRUSTED_PROXY_COUNT aware).
        from targets.services.accounts import client_ip

        return client_ip(request)
