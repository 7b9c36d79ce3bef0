"""The API's one way in: ``Authorization: Bearer <key>`` (or ``Token <key>``) of an API token."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from api.services import token_authenticate

KEYWORDS = (b"bearer", b"token")


class ApiTokenAuthentication(BaseAuthentication):
    """``request.user`` is the token's user, ``request.auth`` the token; an unknown, expired
    or revoked key, or a deactivated user, is refused with 401. No header: anonymous (and
    every endpoint but the schema then answers 401)."""

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                _("Send the key as “Authorization: Bearer <key>”.")
            )
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            key = ""
        token = token_authenticate(key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("The token is unknown, expired or revoked."))
        return token.user, token

    def authenticate_header(self, request) -> str:
        # 401 (not 403) without a token, telling the client how to send one.
        return 'Bearer realm="api"'
