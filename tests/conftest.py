"""Shared fixtures: users with memberships and a small plan, built through the real services."""

from __future__ import annotations

import os
from contextlib import contextmanager
from datetime import date
from decimal import Decimal

import pytest

from tests.alerting import RULES


def pytest_configure(config: pytest.Config) -> None:
    if config.pluginmanager.hasplugin("django") and "postgres" not in os.environ.get(
        "DATABASE_URL", ""
    ):
        raise pytest.UsageError(
            "The suite runs against PostgreSQL: run `make test` "
            "(or set DATABASE_URL=postgres://postgres@127.0.0.1:5432/tracker)."
        )

@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness is for production, not for building test users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """Each test counts reset requests in an empty cache of its own process, never in a Redis
    database a deployment (or another test run) uses; test_password_reset.py also runs the
    limits against the real Redis."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    from django.core.cache import cache

    cache.clear()


# Vietnamese content first, with the English translation (BX-OCC's measure, "%", has none).
SMALL_PLAN = """
units:
  - {code: LC, name: "Tỉnh Lào Cai", name_en: "Lao Cai province"}
  - {code: LC-BATXAT, name: "Xã Bát Xát", name_en: "Bat Xat commune", parent: LC}
  - {code: LC-BATXAT-IND, name: Phòng Công nghiệp, name_en: Industry department, parent: LC-BATXAT}
  - {code: LCH, name: "Tỉnh Lai Châu", name_en: "Lai Chau province"}
plans:
  - code: BX-2025-2030
    name: "Xã Bát Xát nhiệm kỳ 2025–2030"
    name_en: "Bat Xat commune 2025–2030 term"
    unit: LC-BATXAT
    start: 2025-07-01
    end: 2030-12-31
    areas:
      - {code: industry, name: "Công nghiệp và logistics", name_en: "Industry and logistics"}
    targets:
      - code: BX-IP
        name: "Khu công nghiệp được hình thành"
        name_en: "Industrial parks formed"
        area: industry
        responsible_unit: LC-BATXAT
        measure: "khu công nghiệp"
        measure_en: "industrial parks"
        value_type: integer
        direction: at_least
        aggregation: latest
        trajectory: step
        baseline: {value: 0, date: 2025-06-30}
        target: {value: 2, date: 2030-12-31}
        frequency: quarterly
        grace_days: 15
        tolerance: 0.10
        source: {text: "attract investment in the construction of 2 industrial parks", url: "https://baolaocai.vn/x"}
        milestones:
          - {date: 2027-12-31, value: 1}
      - code: BX-OCC
        name: "Tỷ lệ lấp đầy các khu công nghiệp"
        name_en: "Occupancy of industrial zones"
        area: industry
        responsible_unit: LC-BATXAT-IND
        measure: "%"
        value_type: percent
        baseline: {value: 20, date: 2025-06-30}
        target: {value: 80, date: 2030-12-31}
        frequency: quarterly
        grace_days: 15
"""


def plan_operator():
    """The account the tests' plan imports are recorded for (every history row names one)."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get_or_create(username="plan.operator")[0]


@pytest.fixture
def small_plan(db):
    from targets.models import Unit
    from targets.services.plans import load_located, plan_import

    plan_import(data=load_located(SMALL_PLAN), filename="small.yaml", user=plan_operator())
    return {u.code: u for u in Unit.objects.all()}


def make_user(username: str, memberships=(), **extra):
    from django.contrib.auth import get_user_model

    from targets.models import Membership

    user = get_user_model().objects.create_user(
        username=username, password="pw-" + username, email=f"{username}@example.org", **extra
    )
    for unit, role in memberships:
        Membership.objects.create(user=user, unit=unit, role=role)
    return user


@pytest.fixture
def people(small_plan):
    from targets.models import Role

    units = small_plan
    return {
        "staff": make_user("bx.staff", [(units["LC-BATXAT"], Role.STAFF)]),
        "staff2": make_user("bx.staff2", [(units["LC-BATXAT"], Role.STAFF)]),
        "dept_staff": make_user("ind.staff", [(units["LC-BATXAT-IND"], Role.STAFF)]),
        "manager": make_user("bx.manager", [(units["LC-BATXAT"], Role.MANAGER)]),
        "province": make_user("lc.manager", [(units["LC"], Role.MANAGER)]),
        "outsider": make_user("lch.manager", [(units["LCH"], Role.MANAGER)]),
        "admin": make_user("admin", is_superuser=True, is_staff=True),
    }


D = Decimal
TODAY = date(2026, 11, 24)


@pytest.fixture
def assessed(people):
    """The small plan evaluated at TODAY, so every target has a latest assessment."""
    from targets.services.evaluation import targets_evaluate

    targets_evaluate(on=TODAY, alert_settings=RULES)
    return people


class _RolledBack(Exception):
    pass


@contextmanager
def rolled_back():
    """Whatever the block writes is undone (a hypothesis example must not see the last one's)."""
    from django.db import transaction

    try:
        with transaction.atomic():
            yield
            raise _RolledBack
    except _RolledBack:
        pass


def submitted_entry(author, code: str = "BX-IP", period: str = "2026-Q3", value="1", note=""):
    """An entry saved as a draft and submitted through the workflow."""
    from targets.models import Target
    from targets.services import entries as workflow

    target = Target.objects.get(code=code)
    entry = workflow.entry_save_draft(
        user=author, target_id=target.pk, period=period, value=value, note=note,
        today=date(2031, 1, 1),  # written when the test's story says: the period has begun
    )
    return workflow.entry_submit(user=author, entry_id=entry.pk)


def many_targets_plan(count: int, unit: str = "LC-BATXAT") -> str:
    """A plan file with ``count`` linear targets in the small plan's units (codes M0000…)."""
    lines = [
        "plans:",
        "  - code: MANY",
        '    name: "Many targets"',
        f"    unit: {unit}",
        "    start: 2025-07-01",
        "    end: 2030-12-31",
        "    areas:",
        '      - {code: misc, name: "Miscellaneous"}',
        "    targets:",
    ]
    for i in range(count):
        lines += [
            f"      - code: M{i:04d}",
            f'        name: "Target number {i}"',
            "        area: misc",
            f"        responsible_unit: {unit}",
            '        measure: "units"',
            "        value_type: decimal",
            "        baseline: {value: 0, date: 2025-06-30}",
            "        target: {value: 1234.5, date: 2030-12-31}",
            "        frequency: yearly",
        ]
    return "\n".join(lines) + "\n"


@pytest.fixture
def in_english():
    """Services speak the active language (Vietnamese by default); assert their English."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def english(client):
    """The test client speaks English (the UI's default is Vietnamese), for asserting messages."""
    client.cookies["django_language"] = "en"
    return client


# --- a real Celery worker against the real Redis ------------------------------------------------


def purge_test_broker() -> None:
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    # The tests flush their broker database: never the default one, which a deployment may use.
    assert client.connection_pool.connection_kwargs.get("db", 0) != 0, "use a test Redis db"
    client.flushdb()


@pytest.fixture
def embedded_worker():
    """An embedded worker thread (celery.contrib.testing) consuming from the real Redis.

    Without the start-up dispatch of pending digests: here it would race with the test's own
    queueing (worker processes that run it are tested in test_tasks_delivery.py).
    """
    from celery.contrib.testing.worker import start_worker
    from celery.signals import worker_ready
    from django.db import connection

    from tracker.celery import app, dispatch_on_start

    purge_test_broker()
    worker_ready.disconnect(dispatch_on_start)
    try:
        with start_worker(
            app, pool="solo", concurrency=1, perform_ping_check=False, shutdown_timeout=30,
            loglevel="WARNING",
        ) as running:
            yield running
    finally:
        worker_ready.connect(dispatch_on_start)
    connection.close()
