"""End-to-end fixtures: Debian's Chromium driven by Playwright against pytest-django's live server.

Playwright's sync API runs an event loop in the test's thread, and Django refuses database
calls from a thread with a running loop unless told that this is fine — it is, in tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.alerting import RULES

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.path):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture
def playwright() -> Iterator:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test` (it installs Debian's chromium).")
    with sync_playwright() as p:
        yield p


@pytest.fixture
def open_browser(playwright, tmp_path, request):
    """Open a fresh browser (its own user-data dir) with a viewport; close them all at the end."""
    contexts = []

    def open_(viewport: dict | None = None, name: str = "browser"):
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / f"profile-{len(contexts)}-{name}"),
            executable_path=CHROMIUM,
            args=ARGS,
            headless=True,
            viewport=viewport or DESKTOP,
            accept_downloads=True,
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.pages[0] if context.pages else context.new_page()
        return page

    yield open_
    for context in contexts:
        context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(scope="session")
def end_server_sessions(django_db_setup, django_db_blocker) -> Iterator[None]:
    """At the end of the session, end the database sessions the live server leaves behind.

    Threads serving a browser's keep-alive connections keep their database connections
    open; without this the test database cannot be dropped ("being accessed by other users").
    """
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture
def site(end_server_sessions, transactional_db, live_server):
    """The small plan, its people and an evaluation, on the live server's database."""
    from targets.models import Role, Unit
    from targets.services.evaluation import target_reassess
    from targets.services.plans import load_located, plan_import
    from tests.conftest import SMALL_PLAN, make_user, plan_operator

    plan_import(data=load_located(SMALL_PLAN), filename="small.yaml", user=plan_operator())
    units = {u.code: u for u in Unit.objects.all()}
    people = {
        "staff": make_user("bx.staff", [(units["LC-BATXAT"], Role.STAFF)],
                           first_name="Hoa", last_name="Lò"),
        "manager": make_user("bx.manager", [(units["LC-BATXAT"], Role.MANAGER)],
                             first_name="Sơn", last_name="Vàng"),
    }
    from targets.models import Target

    for target in Target.objects.all():
        target_reassess(target, alert_settings=RULES)
    return {"url": live_server.url, **people}


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"pw-{username}")
    page.click("#sign-in")
    page.wait_for_url(f"{base}/")
