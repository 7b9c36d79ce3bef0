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
from tests.conftest import TODAY, submitted_entry

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
    """The small plan, assessed (with alerts), with something to read and act on: a submitted
    entry of each target, drafts, a project; the rate limits out of the way (they have tests
    of their own)."""
    from register.models import Project
    from targets.models import Target, Unit
    from targets.services import entries as workflow

    settings.API_THROTTLE_RATES = {"token": "100000/minute", "anonymous": "100000/minute"}
    submitted = [
        submitted_entry(assessed["staff"], code="BX-IP", period="2026-Q2", value="1"),
        submitted_entry(assessed["staff"], code="BX-IP", period="2026-Q1", value="1"),
        submitted_entry(assessed["dept_staff"], code="BX-OCC", period="2026-Q2", value="30"),
    ]
    draft = workflow.entry_save_draft(
        user=assessed["staff"], target_id=Target.objects.get(code="BX-IP").pk,
        period="2025-Q4", value="0",
    )
    Project.objects.create(
        code="BX-P1", name="Kho ngoại quan", investor="Công ty", investor_country="VN",
        sector="logistics", unit=Unit.objects.get(code="LC-BATXAT"), registered_capital=10**9,
        stage="proposed", stage_date=TODAY,
    )
    return {**assessed, "submitted": submitted, "draft": draft}


def known_good_cases(schema, site: dict) -> list:
    """One request per operation that names real objects and valid input (generated ones
    mostly miss): the successful answers are checked against the schema too. Whether a role
    may do it is the server's business; the answer must be documented either way."""
    from targets.models import Alert

    operations = {op.label: op for op in (r.ok() for r in schema.get_all_operations())}
    entry, other, _occ = site["submitted"]
    draft = site["draft"]
    cases = [
        ("GET /api/v1/units/{code}/", {"path_parameters": {"code": "LC-BATXAT"}}),
        ("GET /api/v1/plans/{code}/", {"path_parameters": {"code": "BX-2025-2030"}}),
        ("GET /api/v1/targets/", {"query": {"unit": "LC-BATXAT", "q": "khu", "due_year": 2030}}),
        ("GET /api/v1/targets/{code}/", {"path_parameters": {"code": "BX-IP"}}),
        ("GET /api/v1/targets/{code}/assessments/", {"path_parameters": {"code": "BX-OCC"}}),
        ("GET /api/v1/projects/{code}/", {"path_parameters": {"code": "BX-P1"}}),
        ("GET /api/v1/alerts/{id}/", {"path_parameters": {"id": Alert.objects.first().pk}}),
        ("GET /api/v1/entries/{id}/", {"path_parameters": {"id": entry.pk}}),
        ("POST /api/v1/entries/", {"body": {"target": "BX-IP", "period": "2026-Q3",
                                            "value": 1, "note": "Khu thứ nhất"}}),
        ("PATCH /api/v1/entries/{id}/", {"path_parameters": {"id": draft.pk},
                                         "body": {"version": draft.version, "value": 1}}),
        ("POST /api/v1/entries/{id}/submit/", {"path_parameters": {"id": draft.pk},  # changed
                                               "body": {"version": draft.version + 1}}),
        ("POST /api/v1/entries/{id}/approve/", {"path_parameters": {"id": entry.pk},
                                                "body": {"version": entry.version}}),
        ("POST /api/v1/entries/{id}/return/", {"path_parameters": {"id": other.pk},
                                               "body": {"version": other.version,
                                                        "comment": "Thiếu minh chứng"}}),
    ]
    return [operations[label].Case(**given) for label, given in cases]


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
    statuses = []
    for case in known_good_cases(schema, contract_site):
        try:
            response = case.call_and_validate(
                headers={"Authorization": f"Bearer {key}"}, checks=CHECKS)
            statuses.append(response.status_code)
        except Exception as exc:  # collected, then reported together
            failures.append(f"{case.operation.label} [known good]: {exc}")
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                run_operation(operation, mode, key)
            except Exception as exc:  # collected, then reported together
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    assert not failures, "\n\n".join(failures)
    # The known-good requests succeed, but for what the role may not do: a staff member
    # approves and returns nothing (403).
    expected = [200] * 8 + [201, 200, 200] + ([403, 403] if role == "staff" else [200, 200])
    assert statuses == expected
