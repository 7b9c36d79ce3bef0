"""Contract tests: schemathesis generates requests for every operation of the live schema
(/api/schema/, served by the app itself through WSGI), valid ones and invalid ones, with a
staff token and with a manager token, and checks that no answer is a server error and that
every answer — its status, content type and body — is one the schema describes.

Deterministic (hypothesis derandomized) and bounded (EXAMPLES per operation and mode). The
lazy pytest integration of schemathesis does not run under pytest 9, so the operations are
walked here, each with its own hypothesis run; every failure is reported, not only the first.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.apiclients import token_of
from tests.conftest import submitted_entry

pytestmark = pytest.mark.django_db

EXAMPLES = 8
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@pytest.fixture
def wsgi_app():
    """The site's WSGI application, called in the test's thread and transaction: as Django's
    test client does, without the end of each request closing the test's connection."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from tracker.wsgi import application

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield application
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def contract_site(assessed, settings) -> dict:
    """The small plan, assessed, with something to read and act on: a submitted entry of each
    target; the rate limits out of the way (they have tests of their own)."""
    settings.API_THROTTLE_RATES = {"token": "100000/minute", "anonymous": "100000/minute"}
    submitted_entry(assessed["staff"], code="BX-IP", period="2026-Q2", value="1")
    submitted_entry(assessed["dept_staff"], code="BX-OCC", period="2026-Q2", value="30")
    return assessed


def run_operation(operation, mode: GenerationMode, key: str) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
        phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
    )
    def call(case) -> None:
        case.call_and_validate(headers={"Authorization": f"Bearer {key}"}, checks=CHECKS)

    call()


@pytest.mark.parametrize("role", ["staff", "manager"])
def test_every_operation_answers_within_its_schema_and_never_5xx(contract_site, wsgi_app, role):
    key = token_of(contract_site[role])
    schema = schemathesis.openapi.from_wsgi("/api/schema/", wsgi_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 18  # every operation of the API, none silently dropped
    failures = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                run_operation(operation, mode, key)
            except Exception as exc:  # collected, then reported together
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    assert not failures, "\n\n".join(failures)
