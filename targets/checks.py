"""System checks (``manage.py check``, run at every start): settings a deployment gets wrong."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


@register()
def site_url_is_an_address(app_configs, **kwargs) -> list:
    """SITE_URL is the base of every link in an email: an address a reader can open."""
    parts = urlsplit(settings.SITE_URL)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        return [
            Error(
                f"SITE_URL={settings.SITE_URL!r} is not the site's address.",
                hint="Set SITE_URL to the address people open, e.g. https://tracker.example.vn",
                id="targets.E001",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def site_url_is_public(app_configs, **kwargs) -> list:
    """Links in emails to 127.0.0.1:8000 work only on the server itself."""
    parts = urlsplit(settings.SITE_URL)
    if parts.hostname in LOCAL_HOSTS or parts.hostname is None:
        return [
            Warning(
                f"SITE_URL={settings.SITE_URL!r}: the links in alert emails point at this "
                "machine.",
                hint="Set SITE_URL to the address people open, e.g. https://tracker.example.vn",
                id="targets.W001",
            )
        ]
    if settings.SECURE_SSL_REDIRECT and parts.scheme != "https":
        return [
            Warning(
                f"SITE_URL={settings.SITE_URL!r} is http while the site redirects to https.",
                id="targets.W002",
            )
        ]
    return []
