"""The production profile: settings from the environment, the headers they put on responses,
`check --deploy`, and gunicorn serving a page and its CSS through WhiteNoise.

The suite itself runs with HTTPS=0 (pyproject's pytest `env`); these tests read the settings
module afresh under an environment of their own, or start processes with one.
"""

from __future__ import annotations

import http.client
import os
import re
import runpy
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.core.exceptions import ImproperlyConfigured

BASE = Path(__file__).resolve().parents[1]
SETTINGS = BASE / "tracker" / "settings.py"
# Every variable the profile reads: unset unless a test sets it.
PROFILE_VARIABLES = (
    "DEBUG", "HTTPS", "SECURE_SSL_REDIRECT", "SECURE_PROXY_SSL_HEADER", "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD", "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "CSRF_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE", "CSRF_COOKIE_SAMESITE", "SECURE_REFERRER_POLICY",
    "SECURE_CONTENT_TYPE_NOSNIFF", "CSP_REPORT_ONLY", "CSP_REPORT_URI", "STATIC_MANIFEST",
    "STATIC_ROOT", "SECRET_KEY", "ALLOWED_HOSTS",
)
# What a deployment behind a TLS proxy sets.
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "tracker.example.vn",
    "SITE_URL": "https://tracker.example.vn",
    "HTTPS": "1",
    "SECURE_PROXY_SSL_HEADER": "1",
    "SECURE_HSTS_PRELOAD": "1",
}
ONE_YEAR = 365 * 24 * 3600


def profile(monkeypatch, **env: str) -> dict:
    """The settings module's values under exactly ``env`` (the database aside)."""
    for name in PROFILE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS))


def process_env(**env: str) -> dict[str, str]:
    """This process's environment less the test profile (HTTPS=0…), plus ``env``."""
    # The end-to-end tests' conftest allows Django calls from Playwright's event loop: a test
    # setting, which `check --deploy` rightly refuses (async.E001).
    dropped = {*PROFILE_VARIABLES, "DJANGO_ALLOW_ASYNC_UNSAFE"}
    base = {k: v for k, v in os.environ.items() if k not in dropped}
    return {**base, "DJANGO_SETTINGS_MODULE": "tracker.settings", **env}


# --- the settings ---------------------------------------------------------------------------


def test_without_debug_and_without_variables_every_protection_is_on(monkeypatch):
    values = profile(monkeypatch)
    assert values["DEBUG"] is False and values["HTTPS"] is True
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SESSION_COOKIE_SECURE"] is True and values["CSRF_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is True and values["CSRF_COOKIE_HTTPONLY"] is True
    assert values["SESSION_COOKIE_SAMESITE"] == "Lax" == values["CSRF_COOKIE_SAMESITE"]
    assert values["SECURE_HSTS_SECONDS"] == ONE_YEAR
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_HSTS_PRELOAD"] is False  # asking for the preload list is a choice
    assert values["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert values["SECURE_REFERRER_POLICY"] == "same-origin"
    assert values["X_FRAME_OPTIONS"] == "DENY"
    # Trusting X-Forwarded-Proto without a proxy that sets it would let anyone claim HTTPS.
    assert values["SECURE_PROXY_SSL_HEADER"] is None
    directives = values["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]
    assert directives["script-src"] == ["'self'"] and directives["style-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"] and directives["object-src"] == ["'none'"]
    assert directives["upgrade-insecure-requests"] is True
    assert "CONTENT_SECURITY_POLICY_REPORT_ONLY" not in values
    assert values["STORAGES"]["staticfiles"]["BACKEND"] == (
        "whitenoise.storage.CompressedManifestStaticFilesStorage"
    )
    assert values["WHITENOISE_USE_FINDERS"] is False  # what collectstatic gathered, only


def test_debug_serves_the_demo_over_plain_http(monkeypatch):
    values = profile(monkeypatch, DEBUG="1")
    assert values["HTTPS"] is False
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SESSION_COOKIE_SECURE"] is False and values["CSRF_COOKIE_SECURE"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0
    assert values["STORAGES"]["staticfiles"]["BACKEND"] == (
        "django.contrib.staticfiles.storage.StaticFilesStorage"
    )
    assert values["WHITENOISE_USE_FINDERS"] is True  # nothing to collect first
    # What does not depend on the scheme stays on.
    assert values["SESSION_COOKIE_HTTPONLY"] is True and values["X_FRAME_OPTIONS"] == "DENY"
    assert values["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["script-src"] == ["'self'"]


def test_https_0_switches_redirect_secure_cookies_and_hsts_off_together(monkeypatch):
    values = profile(monkeypatch, HTTPS="0")
    assert values["DEBUG"] is False
    assert (values["SECURE_SSL_REDIRECT"], values["SESSION_COOKIE_SECURE"],
            values["CSRF_COOKIE_SECURE"], values["SECURE_HSTS_SECONDS"]) == (False, False, False, 0)


def test_each_protection_has_its_own_variable_over_https(monkeypatch):
    values = profile(
        monkeypatch, HTTPS="1", SECURE_SSL_REDIRECT="0", SESSION_COOKIE_SECURE="no",
        SECURE_HSTS_SECONDS="600", SECURE_HSTS_INCLUDE_SUBDOMAINS="off",
        SESSION_COOKIE_SAMESITE="Strict", SECURE_REFERRER_POLICY="no-referrer",
    )
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SESSION_COOKIE_SECURE"] is False
    assert values["CSRF_COOKIE_SECURE"] is True  # not named: follows HTTPS
    assert values["SECURE_HSTS_SECONDS"] == 600
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is False
    assert values["SESSION_COOKIE_SAMESITE"] == "Strict"
    assert values["SECURE_REFERRER_POLICY"] == "no-referrer"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", ("HTTP_X_FORWARDED_PROTO", "https")),
        ("HTTP_X_FORWARDED_PROTO,https", ("HTTP_X_FORWARDED_PROTO", "https")),
        ("X-Forwarded-Proto, https", ("HTTP_X_FORWARDED_PROTO", "https")),
        ("X-Forwarded-Ssl,on", ("HTTP_X_FORWARDED_SSL", "on")),
        ("0", None),
    ],
)
def test_the_proxy_header_is_named_by_its_variable(monkeypatch, value, expected):
    assert profile(monkeypatch, SECURE_PROXY_SSL_HEADER=value)["SECURE_PROXY_SSL_HEADER"] == (
        expected
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HTTPS", "ture"),
        ("SESSION_COOKIE_SECURE", "maybe"),
        ("SECURE_HSTS_SECONDS", "a year"),
        ("SESSION_COOKIE_SAMESITE", "None"),
        ("SECURE_REFERRER_POLICY", "everyone"),
        ("SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto"),
    ],
)
def test_a_mistyped_value_stops_the_start_instead_of_switching_a_protection_off(
    monkeypatch, name, value
):
    with pytest.raises(ImproperlyConfigured, match=name):
        profile(monkeypatch, **{name: value})


def test_csp_report_only_reports_the_same_policy_without_enforcing_it(monkeypatch):
    enforced = profile(monkeypatch)["CONTENT_SECURITY_POLICY"]
    values = profile(monkeypatch, CSP_REPORT_ONLY="1", CSP_REPORT_URI="/csp-report/")
    assert values["CONTENT_SECURITY_POLICY"] is None
    reported = values["CONTENT_SECURITY_POLICY_REPORT_ONLY"]["DIRECTIVES"]
    assert reported["report-uri"] == "/csp-report/"
    assert {k: v for k, v in reported.items() if k != "report-uri"} == {
        k: v for k, v in enforced["DIRECTIVES"].items() if k != "report-uri"
    }


def test_without_the_manifest_whitenoise_serves_the_files_where_they_lie(client, settings):
    # The suite's own profile (STATIC_MANIFEST=0): no collectstatic has run.
    assert settings.STATIC_MANIFEST is False
    response = client.get("/static/css/tracker.css")
    assert response.status_code == 200
    assert b".bar-100 { width: 100%; }" in b"".join(response.streaming_content)


# --- manage.py check --deploy ---------------------------------------------------------------


def check_deploy(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE, env=process_env(**env), capture_output=True, text=True, timeout=120,
    )


def test_check_deploy_is_clean_with_production_values():
    result = check_deploy(**PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_names_what_plain_http_leaves_off():
    result = check_deploy(**{**PRODUCTION, "HTTPS": "0"})
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr


# --- the responses --------------------------------------------------------------------------


@pytest.fixture
def production(monkeypatch, settings):
    """The production values switched on for this test's requests (the test client)."""
    values = profile(monkeypatch, **PRODUCTION)
    monkeypatch.undo()  # the environment back as it was; the values stay
    for name, value in values.items():
        if name.startswith(("SECURE_", "SESSION_COOKIE_", "CSRF_COOKIE_", "CONTENT_SECURITY")) or (
            name == "X_FRAME_OPTIONS"
        ):
            setattr(settings, name, value)
    return values


def test_plain_http_is_redirected_to_https(production, client):
    response = client.get("/accounts/login/?next=/review/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/accounts/login/?next=/review/"


def test_https_through_the_proxy_is_served_with_every_protective_header(production, client):
    response = client.get("/accounts/login/", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == (
        f"max-age={ONE_YEAR}; includeSubDomains; preload"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    policy = dict(
        part.strip().partition(" ")[::2] for part in response["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["img-src"] == "'self' data:"
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert policy["base-uri"] == "'self'" and policy["form-action"] == "'self'"
    assert "upgrade-insecure-requests" in policy
    assert "unsafe" not in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_signing_in_over_https_sets_secure_http_only_cookies(production, client):
    from tests.conftest import make_user

    make_user("bx.staff")
    https = {"X-Forwarded-Proto": "https"}
    client.get("/accounts/login/", headers=https)
    response = client.post(
        "/accounts/login/", {"username": "bx.staff", "password": "pw-bx.staff"}, headers=https
    )
    assert response.status_code == 302, response.content[:500]
    session = response.cookies["sessionid"]
    assert session["secure"] is True and session["httponly"] is True
    assert session["samesite"] == "Lax"
    csrf = response.cookies["csrftoken"]
    assert csrf["secure"] is True and csrf["httponly"] is True


# --- gunicorn and WhiteNoise ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fetch(port: int, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


@pytest.fixture
def gunicorn(tmp_path, django_db_setup):
    """`make serve`'s last two steps on a free loopback port: collectstatic, then gunicorn."""
    from django.db import connection

    database = urlsplit(os.environ["DATABASE_URL"])._replace(
        path="/" + connection.settings_dict["NAME"]  # the test database: nothing else is touched
    )
    port = free_port()
    env = process_env(**{
        **PRODUCTION, "ALLOWED_HOSTS": "127.0.0.1", "STATIC_ROOT": str(tmp_path / "static"),
        "DATABASE_URL": urlunsplit(database), "SERVE_ADDR": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
    })
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=BASE, env=env, check=True, timeout=120,
    )
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"],
        cwd=BASE, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail("gunicorn did not start:\n" + (tmp_path / "gunicorn.log").read_text())
            time.sleep(0.1)
    yield port
    server.terminate()
    server.wait(timeout=30)
    log.close()


def test_gunicorn_serves_a_page_and_whitenoise_its_hashed_compressed_css(gunicorn):
    status, headers, _ = fetch(gunicorn, "/accounts/login/", {})
    assert status == 301 and headers["location"] == f"https://127.0.0.1:{gunicorn}/accounts/login/"

    https = {"X-Forwarded-Proto": "https"}
    status, headers, body = fetch(gunicorn, "/accounts/login/", https)
    assert status == 200
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["strict-transport-security"].startswith(f"max-age={ONE_YEAR}")
    # The manifest's content-hashed name: a changed file gets a new address.
    stylesheet = re.search(rb'href="(/static/css/tracker\.[0-9a-f]{12}\.css)"', body)
    assert stylesheet, body[:1000]

    status, headers, css = fetch(gunicorn, stylesheet[1].decode(), https)
    assert status == 200
    assert headers["content-type"].startswith("text/css")
    assert b".status-table" in css and b".bar-100 { width: 100%; }" in css
    assert "immutable" in headers["cache-control"]  # hashed: cached for good

    status, headers, _ = fetch(
        gunicorn, stylesheet[1].decode(), {**https, "Accept-Encoding": "gzip"}
    )
    assert status == 200 and headers["content-encoding"] == "gzip"


def test_check_deploy_warns_when_email_links_point_at_this_machine():
    production = {k: v for k, v in PRODUCTION.items() if k != "SITE_URL"}
    result = check_deploy(**production)  # SITE_URL left at its default, 127.0.0.1:8000
    assert result.returncode != 0 and "targets.W001" in result.stderr
    result = check_deploy(**{**PRODUCTION, "SITE_URL": "http://tracker.example.vn"})
    assert result.returncode != 0 and "targets.W002" in result.stderr  # http behind https


@pytest.mark.parametrize("url", ["tracker.example.vn", "https://", "ftp://x.vn", "https://x.vn/?a=1"])
def test_a_site_url_that_is_no_address_stops_the_start(url):
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=BASE,
        env=process_env(**{**PRODUCTION, "SITE_URL": url}), capture_output=True, text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "targets.E001" in result.stderr
