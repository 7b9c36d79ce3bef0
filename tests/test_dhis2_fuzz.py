"""Fuzzing the DHIS2 importer and the exchange screen's forms: never an uncaught exception,
never a partial write, and the dry run tells exactly what the import does.

Every example runs in a savepoint that is rolled back, over the same recorded entries (a draft,
a submitted and an approved one) and the same mappings.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from dhis2.exporting import ExportRefused, dhis2_export
from dhis2.forms import ExportForm
from dhis2.importing import dhis2_dry_run, dhis2_import
from dhis2.models import DataElementMapping, Dhis2Upload, OrgUnitMapping
from targets.errors import ImportFailed
from targets.models import ProgressEntry, Target, Unit
from tests.alerting import RULES
from tests.conftest import rolled_back, submitted_entry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
TODAY = date(2026, 12, 2)


def snapshot() -> tuple:
    return (
        sorted(ProgressEntry.objects.values_list("pk", "period", "value", "note", "status",
                                                 "version")),
        ProgressEntry.history.count(),
        Dhis2Upload.objects.count(),
    )


@pytest.fixture
def recorded(people):
    """A draft, a submitted and an approved entry of BX-IP; BX-IP and LC-BATXAT mapped."""
    from targets.services import entries as workflow

    target = Target.objects.get(code="BX-IP")
    workflow.entry_save_draft(user=people["staff"], target_id=target.pk, period="2025-Q3",
                              value="0")
    submitted_entry(people["staff"], "BX-IP", "2025-Q4", "1")
    approved = submitted_entry(people["staff"], "BX-IP", "2026-Q1", "1", note="QĐ 12")
    workflow.entries_approve(user=people["manager"], entry_ids=[approved.pk], reassess=None)
    OrgUnitMapping.objects.create(unit=Unit.objects.get(code="LC-BATXAT"), uid="DiszpKrYNg8")
    DataElementMapping.objects.create(target=target, uid="fbfJHSPpUQD", code="DE_IP",
                                      category_option_combo="Prlt0C1RF0s")
    return people


# --- documents: mostly plausible, sometimes anything -------------------------------------------

ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=12,
)
ELEMENTS = st.sampled_from(["BX-IP", "BX-OCC", "fbfJHSPpUQD", "DE_IP", "NOPE", "", " BX-IP",
                            "bx-ip", "X" * 300])
PERIODS = st.sampled_from(["2025Q3", "2025Q4", "2026Q1", "2026Q2", "2026Q4", "202603", "2026",
                           "2026S1", "2026W5", "2026-Q1", "2019Q1", "2031Q1", "9999Q1", ""])
UNITS = st.sampled_from(["LC-BATXAT", "LC-BATXAT-IND", "DiszpKrYNg8", "LCH", "NOWHERE", ""])
VALUES = st.sampled_from(["0", "1", "2", "1.5", "22.5", "-1", "120", "abc", "1e5", "1e999",
                          "1,5", "", " 7 ", "0.00001", 1, 2.5, 10**30, True, None])
COMBOS = st.sampled_from(["HllvX50cXC0", "Prlt0C1RF0s", "default", "abc", ""])
TEXT = st.text(max_size=20)


def maybe(key: str, values) -> st.SearchStrategy:
    return st.one_of(st.just({}), values.map(lambda v: {key: v}))


@st.composite
def data_values(draw) -> object:
    if draw(st.integers(0, 9)) == 0:
        return draw(ANY_JSON)
    value: dict = {}
    for key, values in (
        ("dataElement", st.one_of(ELEMENTS, ANY_JSON)), ("period", st.one_of(PERIODS, TEXT)),
        ("orgUnit", st.one_of(UNITS, TEXT)), ("value", st.one_of(VALUES, ANY_JSON)),
        ("comment", st.one_of(st.none(), TEXT, ANY_JSON)),
        ("categoryOptionCombo", COMBOS), ("attributeOptionCombo", COMBOS),
        ("deleted", st.booleans()), ("storedBy", TEXT),
    ):
        value.update(draw(maybe(key, values)) if key not in (
            "dataElement", "period", "orgUnit", "value") else {key: draw(values)})
    return value


# Values BX-IP takes (its mapping has a category option combo): documents of them import.
GOOD_VALUES = st.fixed_dictionaries(
    {"dataElement": st.sampled_from(["BX-IP", "fbfJHSPpUQD", "DE_IP"]),
     "period": st.sampled_from(["2025Q3", "2025Q4", "2026Q1", "2026Q2", "2026Q3"]),
     "orgUnit": st.sampled_from(["LC-BATXAT", "DiszpKrYNg8"]),
     "categoryOptionCombo": st.just("Prlt0C1RF0s"),
     "value": st.sampled_from(["0", "1", "2", 1])},
    optional={"comment": st.sampled_from(["", "QĐ 12", "khác"]),
              "attributeOptionCombo": st.just("HllvX50cXC0")},
)
SCHEMES = st.sampled_from(["UID", "uid", "CODE", "code", "ID", "NAME", "", 3])
DOCUMENTS = st.one_of(
    st.fixed_dictionaries({"dataValues": st.lists(GOOD_VALUES, min_size=1, max_size=4)}),
    st.fixed_dictionaries(
        {"dataValues": st.lists(data_values(), max_size=8)},
        optional={"idScheme": SCHEMES, "dataElementIdScheme": SCHEMES,
                  "orgUnitIdScheme": SCHEMES, "period": PERIODS, "orgUnit": UNITS,
                  "importStrategy": st.sampled_from(["CREATE_AND_UPDATE", "DELETE", 5]),
                  "notes": ANY_JSON, "dataSet": TEXT},
    ),
    ANY_JSON,
)


def assert_the_dry_run_tells_what_the_import_does(user, content: bytes, status: str) -> None:
    before = snapshot()
    with rolled_back():
        try:
            dry = dhis2_dry_run(user=user, content=content, filename="f.json", status=status,
                                today=TODAY)
        except ImportFailed as unreadable:
            dry, told = None, unreadable.problems
        else:
            told = dry.problems
        assert snapshot() == before  # a dry run writes nothing
        try:
            result = dhis2_import(user=user, content=content, filename="f.json", status=status,
                                  reassess=RULES, today=TODAY)
        except ImportFailed as failed:
            assert failed.problems, "a failed import names at least one problem"
            assert all(p.message and "\x00" not in str(p) for p in failed.problems)
            assert [str(p) for p in failed.problems] == [str(p) for p in told]
            assert snapshot() == before
        else:
            event("imported")
            assert dry is not None and not told
            assert {"create": result.created, "update": result.updated,
                    "approve": result.approved, "unchanged": result.unchanged} == {
                action: dry.counts.get(action, 0)
                for action in ("create", "update", "approve", "unchanged")}
    assert snapshot() == before


@FUZZ
@given(document=DOCUMENTS, who=st.sampled_from(["staff", "manager", "province", "outsider",
                                                "admin"]),
       status=st.sampled_from(["submitted", "approved"]))
def test_any_document_imports_whole_or_names_its_problems(recorded, document, who, status):
    content = json.dumps(document).encode()
    assert_the_dry_run_tells_what_the_import_does(recorded[who], content, status)


@FUZZ
@given(content=st.binary(max_size=300))
def test_any_bytes_import_whole_or_name_their_problems(recorded, content):
    assert_the_dry_run_tells_what_the_import_does(recorded["manager"], content, "submitted")


# --- the screen's forms ----------------------------------------------------------------------

BOUNDS = st.one_of(
    st.sampled_from(["", "2025-Q3", "2026Q1", "2026-9M", "2026", "2026S2", "2026W5", "202603",
                     "2026-13", "0001", "9999-Q4", "2026-H1"]),
    st.text(max_size=25),
)


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=st.one_of(st.sampled_from(["BX-2025-2030", "", "NOPE"]), TEXT),
       start=BOUNDS, end=BOUNDS, data_set=st.one_of(st.sampled_from(["", "pBOMPrpg1QX"]), TEXT),
       who=st.sampled_from(["manager", "staff", "outsider"]))
def test_the_export_form_answers_every_input(recorded, plan, start, end, data_set, who):
    form = ExportForm({"plan": plan, "start": start, "end": end, "data_set": data_set},
                      user=recorded[who])
    if form.is_valid():
        data = form.cleaned_data
        try:
            document = dhis2_export(user=recorded[who], plan=data["plan"],
                                    first=data["start_period"], last=data["end_period"],
                                    data_set=data["data_set"])
        except ExportRefused:
            pytest.fail("the mappings here give every target its own data value")
        json.dumps(document)
    else:
        assert all(message for errors in form.errors.values() for message in errors)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=st.sampled_from(["BX-2025-2030", "", "NOPE"]), start=BOUNDS, end=BOUNDS,
       content=st.one_of(DOCUMENTS.map(lambda d: json.dumps(d).encode()), st.binary(max_size=80)),
       name=st.sampled_from(["f.json", "f.csv", "f"]),
       status=st.sampled_from(["submitted", "approved", "draft", ""]))
def test_the_screen_answers_every_input_and_writes_nothing_before_the_confirm(
    recorded, client, plan, start, end, content, name, status
):
    client.force_login(recorded["manager"])
    before = snapshot()[:2]
    with rolled_back():
        response = client.get(reverse("dhis2:export"), {"plan": plan, "start": start,
                                                        "end": end})
        assert response.status_code == 200
        response = client.post(reverse("dhis2:exchange"), {
            "file": SimpleUploadedFile(name, content), "status": status})
        assert response.status_code == 200
        assert snapshot()[:2] == before
    assert snapshot()[:2] == before
