"""How the layers hold together: services queue tasks by name and never import them; policies
are built at the edges from the settings, which alone hold their defaults."""

from __future__ import annotations

import ast
import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

from iati.export import IatiDefaults
from targets.services import accounts, delivery
from targets.services.alerts import AlertSettings

SERVICES = Path(__file__).resolve().parent.parent / "targets" / "services"
POLICIES = [AlertSettings, delivery.DeliveryPolicy, accounts.ResetLimits, IatiDefaults]


def _is_tasks(name: str) -> bool:
    return name == "targets.tasks" or name.startswith("targets.tasks.")


def _absolute(node: ast.ImportFrom, package: str) -> str:
    """The module an ImportFrom reads from, relative imports resolved against ``package``."""
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    parts = parts[: len(parts) - node.level + 1]
    return ".".join([*parts, node.module] if node.module else parts)


def imports_tasks(source: str, package: str = "targets.services") -> list[str]:
    """The imports of ``targets.tasks`` in a module of ``package``, however spelled."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if _is_tasks(a.name)]
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(node, package)
            names = [module, *(f"{module}.{a.name}" for a in node.names)]
            found += [name for name in names if _is_tasks(name)]
    return found


@pytest.mark.parametrize(
    "source",
    [
        "from targets.tasks import send_digest",
        "import targets.tasks",
        "from targets import tasks",
        "def f():\n    from targets.tasks import send_digest\n",
        "from .. import tasks",
        "from ..tasks import send_digest",
    ],
)
def test_the_check_sees_every_spelling_of_the_import(source):
    assert imports_tasks(source)


def test_the_check_lets_other_imports_be():
    assert not imports_tasks(
        "from targets import rules\nfrom targets.services import alerts\nfrom . import imports\n"
        "import targets.taskspace\n"
    )


def test_no_service_imports_the_tasks():
    modules = sorted(SERVICES.glob("*.py"))
    assert len(modules) > 5
    offenders = {
        path.name: found
        for path in modules
        if (found := imports_tasks(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


def calls_from_settings(source: str) -> list[int]:
    """The lines of a module that build a policy from the settings (``X.from_settings()``)."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "from_settings"
    ]


def test_the_from_settings_check_sees_a_call():
    assert calls_from_settings("def f():\n    return AlertSettings.from_settings()\n") == [2]
    assert calls_from_settings("def from_settings(cls):\n    return cls()\n") == []


def test_no_service_builds_a_policy_from_the_settings():
    """Policies are built at the edges (views, tasks, commands, admin) and passed in: a
    service that read the settings itself would hold a second copy of the defaults."""
    offenders = {
        path.name: lines
        for path in sorted(SERVICES.glob("*.py"))
        if (lines := calls_from_settings(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


def test_the_tasks_queued_by_name_exist():
    from tracker.celery import app

    app.loader.import_default_modules()
    assert delivery.SEND_DIGEST in app.tasks
    assert delivery.SEND_DIGESTS in app.tasks
    assert accounts.SEND_PASSWORD_RESET in app.tasks


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.__name__)
def test_a_policy_has_no_defaults_of_its_own(policy):
    for field in dataclasses.fields(policy):
        assert field.default is dataclasses.MISSING, field.name
        assert field.default_factory is dataclasses.MISSING, field.name
    with pytest.raises(TypeError):
        policy()


def test_the_policies_come_from_the_settings(settings):
    settings.ESCALATION_DAYS, settings.REMINDER_DAYS = 21, 3
    settings.ALERT_SENDING_LEASE = 600
    settings.ALERT_DELIVERY_RETRY_DELAY, settings.ALERT_DELIVERY_RETRY_DELAY_MAX = 30, 1800
    settings.ALERT_DELIVERY_MAX_ATTEMPTS = 12
    settings.SITE_URL = "https://tracker.example.gov.vn"
    settings.DEFAULT_FROM_EMAIL = "Theo dõi <tracker@example.gov.vn>"
    settings.PASSWORD_RESET_LIMIT_PER_ADDRESS = 2
    settings.PASSWORD_RESET_LIMIT_PER_CLIENT = 7
    settings.PASSWORD_RESET_LIMIT_WINDOW = 900
    assert AlertSettings.from_settings() == AlertSettings(escalation_days=21, reminder_days=3)
    assert delivery.DeliveryPolicy.from_settings() == delivery.DeliveryPolicy(
        lease=timedelta(minutes=10),
        retry_delay=timedelta(seconds=30),
        retry_delay_max=timedelta(minutes=30),
        max_attempts=12,
        site_url="https://tracker.example.gov.vn",
        from_email="Theo dõi <tracker@example.gov.vn>",
    )
    assert accounts.ResetLimits.from_settings() == accounts.ResetLimits(
        per_address=2, per_client=7, window=900
    )
