"""The DHIS2 import (dhis2.importing, dhis2.document): dry run, every problem, all or nothing."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from dhis2.exporting import dhis2_export
from dhis2.importing import dhis2_dry_run, dhis2_import
from dhis2.models import DataElementMapping, OrgUnitMapping
from targets.errors import ImportFailed
from targets.models import EntryStatus, Plan, ProgressEntry, Target, Unit
from tests.alerting import RULES
from tests.conftest import submitted_entry
from tests.test_dhis2_export import approved

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]
TODAY = date(2026, 11, 24)


def doc(*values, **top) -> bytes:
    return json.dumps({**top, "dataValues": list(values)}).encode()


def dv(element="BX-IP", period="2026Q1", unit="LC-BATXAT", value="1", **more) -> dict:
    return {"dataElement": element, "period": period, "orgUnit": unit, "value": value, **more}


def snapshot() -> tuple:
    return (
        sorted(ProgressEntry.objects.values_list(
            "target__code", "period", "value", "note", "status", "version")),
        ProgressEntry.history.count(),
    )


def dry(user, content: bytes, status: str = "submitted"):
    return dhis2_dry_run(user=user, content=content, filename="dv.json", status=status,
                         today=TODAY)


def problems_of(user, content: bytes, status: str = "submitted") -> list[tuple[str, str, str]]:
    """The import's problems as (place, field, message); the dry run lists the same ones."""
    before = snapshot()
    with pytest.raises(ImportFailed) as failed:
        dhis2_import(user=user, content=content, filename="dv.json", status=status,
                     reassess=RULES, today=TODAY)
    assert snapshot() == before
    found = [(p.place, p.field, p.message) for p in failed.value.problems]
    try:
        listed = [(p.place, p.field, p.message) for p in dry(user, content, status).problems]
    except ImportFailed as unreadable:
        listed = [(p.place, p.field, p.message) for p in unreadable.problems]
    assert listed == found
    return found


@pytest.fixture
def reported(people):
    approved("BX-IP", "2025-Q3", "0", author=people["staff"], reviewer=people["manager"])
    approved("BX-IP", "2025-Q4", "1", author=people["staff"], reviewer=people["manager"],
             note="Quyết định số 12/QĐ-UBND")
    approved("BX-OCC", "2025-Q3", "22.5", author=people["dept_staff"],
             reviewer=people["manager"])
    return people


# --- the round trip ------------------------------------------------------------------------------


def test_an_export_imports_back_with_nothing_to_change(reported):
    submitted_entry(reported["staff"], "BX-IP", "2026-Q1", "1")  # not exported, not touched
    plan = Plan.objects.get(code="BX-2025-2030")
    content = json.dumps(dhis2_export(user=reported["manager"], plan=plan)).encode()
    before = snapshot()
    for status in ("submitted", "approved"):
        result = dry(reported["manager"], content, status)
        assert (result.problems, result.counts, result.changes) == ([], {"unchanged": 3}, 0)
        imported = dhis2_import(user=reported["manager"], content=content, filename="dv.json",
                                status=status, reassess=RULES, today=TODAY)
        assert (imported.created, imported.updated, imported.approved, imported.unchanged) == (
            0, 0, 0, 3)
    assert snapshot() == before
    # And it exports again exactly as before.
    assert json.dumps(dhis2_export(user=reported["manager"], plan=plan)).encode() == content


def test_a_mapped_export_imports_back_with_nothing_to_change(reported):
    units = {u.code: u for u in Unit.objects.all()}
    OrgUnitMapping.objects.create(unit=units["LC-BATXAT"], uid="DiszpKrYNg8")
    OrgUnitMapping.objects.create(unit=units["LC-BATXAT-IND"], uid="ImspTQPwCqd")
    DataElementMapping.objects.create(target=Target.objects.get(code="BX-IP"), uid="fbfJHSPpUQD")
    DataElementMapping.objects.create(target=Target.objects.get(code="BX-OCC"),
                                      uid="x3Do5e7g4Qo", category_option_combo="Prlt0C1RF0s")
    document = dhis2_export(user=reported["manager"], plan=Plan.objects.get(code="BX-2025-2030"))
    assert (document["dataElementIdScheme"], document["orgUnitIdScheme"]) == ("UID", "UID")
    result = dry(reported["manager"], json.dumps(document).encode())
    assert (result.problems, result.counts) == ([], {"unchanged": 3})


# --- what lands where ----------------------------------------------------------------------------


def test_staff_import_values_as_submitted_entries_through_the_workflow(reported):
    content = doc(dv(period="2026Q1", value="1", comment="Hồ sơ đã trình"),
                  dv(period="2026Q2", value=1))  # a JSON number is a number too
    result = dry(reported["staff"], content)
    assert (result.problems, result.counts) == ([], {"create": 2})
    assert [(r.target_code, r.period, r.value, r.action) for r in result.rows] == [
        ("BX-IP", "2026-Q1", Decimal(1), "create"), ("BX-IP", "2026-Q2", Decimal(1), "create")]
    imported = dhis2_import(user=reported["staff"], content=content, filename="dv.json",
                            reassess=RULES, today=TODAY)
    assert (imported.created, imported.unchanged) == (2, 0)
    entry = ProgressEntry.objects.get(target__code="BX-IP", period="2026-Q1")
    assert (entry.status, entry.value, entry.note, entry.author, entry.submitted_by,
            entry.period_start, entry.period_end) == (
        EntryStatus.SUBMITTED, Decimal(1), "Hồ sơ đã trình", reported["staff"],
        reported["staff"], date(2026, 1, 1), date(2026, 3, 31))
    assert entry.history.latest().history_change_reason == "import of dv.json"


def test_a_manager_imports_as_approved_only_what_someone_else_submitted(reported):
    mine = submitted_entry(reported["manager"], "BX-IP", "2026-Q2", "2")
    submitted_entry(reported["staff"], "BX-IP", "2026-Q1", "1")
    content = doc(dv(period="2026Q1", value="1"), dv(period="2026Q2", value="2"))
    assert problems_of(reported["manager"], content, "approved") == [
        ("dv.json data value 2 (BX-IP 2026Q2 LC-BATXAT)", "period",
         "You set this value: another manager approves it. (BX-IP 2026-Q2)"),
    ]
    # Another manager (the province's) approves both, as the review queue would.
    result = dry(reported["province"], content, "approved")
    assert (result.problems, result.counts) == ([], {"approve": 2})
    imported = dhis2_import(user=reported["province"], content=content, filename="dv.json",
                            status="approved", reassess=RULES, today=TODAY)
    assert imported.approved == 2
    mine.refresh_from_db()
    assert (mine.status, mine.reviewer) == (EntryStatus.APPROVED, reported["province"])


# --- every problem, per data value ---------------------------------------------------------------


def test_every_problem_of_every_data_value_is_listed_and_nothing_is_written(reported):
    content = doc(
        dv(element="NOPE"),                                      # 1 unknown data element
        dv(unit="NOWHERE"),                                      # 2 unknown org unit
        dv(period="2026W5"),                                     # 3 a weekly period
        dv(period="202603"),                                     # 4 a month, BX-IP is quarterly
        dv(period="2019Q1"),                                     # 5 before the baseline
        dv(period="2026Q4", value="1.5"),                        # 6 not a whole number
        dv(element="BX-OCC", unit="LC-BATXAT-IND", value="120"),  # 7 not a percentage
        dv(period="2025Q3", value="1"),                          # 8 approved as 0: locked
        dv(element="BX-IP", unit="LC-BATXAT-IND"),               # 9 another unit's element
        dv(period="2026Q2"),                                     # 10 the first of two
        dv(period="2026Q2"),                                     # 11 … the same again
        dv(attributeOptionCombo="bRowv6yZOF2"),                  # 12 an attribute combo
        dv(period="2027Q1"),                                     # 13 not begun on TODAY
        dv(period="2025Q4", value="abc"),                        # 14 … 16 shapes
        dv(period="202604", value=True), {"dataElement": 5},
        dv(period="2028Q1", deleted=True),                       # 17 a deletion
        ["not", "an", "object"],                                 # 18
    )
    place = "dv.json data value {} ({})"
    assert problems_of(reported["staff"], content) == [
        (place.format(1, "NOPE 2026Q1 LC-BATXAT"), "dataElement",
         "Unknown data element “NOPE”."),
        (place.format(2, "BX-IP 2026Q1 NOWHERE"), "orgUnit", "Unknown org unit “NOWHERE”."),
        (place.format(3, "BX-IP 2026W5 LC-BATXAT"), "period",
         "2026W5 is a weekly DHIS2 period; targets here report monthly (202603), quarterly "
         "(2026Q1), six-monthly (2026S1) or yearly (2026)."),
        (place.format(4, "BX-IP 202603 LC-BATXAT"), "period",
         "BX-IP reports quarterly: 202603 is a monthly period."),
        (place.format(5, "BX-IP 2019Q1 LC-BATXAT"), "period",
         "“2019-Q1” is not a reporting period of BX-IP (2025-Q3 … 2030-Q4)."),
        (place.format(6, "BX-IP 2026Q4 LC-BATXAT"), "value", "1.5 is not a whole number."),
        (place.format(7, "BX-OCC 2026Q1 LC-BATXAT-IND"), "dataElement",
         "You may not report on BX-OCC: its reports come from Industry department."),
        (place.format(8, "BX-IP 2025Q3 LC-BATXAT"), "period",
         "BX-IP already has a approved entry for 2025-Q3."),
        (place.format(9, "BX-IP 2026Q1 LC-BATXAT-IND"), "dataElement",
         "No target of LC-BATXAT-IND is the data element “BX-IP” (it is BX-IP, of other "
         "units)."),
        (place.format(11, "BX-IP 2026Q2 LC-BATXAT"), "period",
         "Data value 10 already gives BX-IP for 2026Q2."),
        (place.format(12, "BX-IP 2026Q1 LC-BATXAT"), "attributeOptionCombo",
         "Attribute option combos are not used here: give the value without one (or with the "
         "default)."),
        (place.format(13, "BX-IP 2027Q1 LC-BATXAT"), "period",
         "2027-Q1 has not started yet: it can be reported from 1 Jan 2027."),
        (place.format(14, "BX-IP 2025Q4 LC-BATXAT"), "value", "“abc” is not a number."),
        # A bad value does not keep the target and period from being checked.
        (place.format(15, "BX-IP 202604 LC-BATXAT"), "value",
         "Must be a number, written as text (\"12.5\") or as a JSON number."),
        (place.format(15, "BX-IP 202604 LC-BATXAT"), "period",
         "BX-IP reports quarterly: 202604 is a monthly period."),
        ("dv.json data value 16", "dataElement", "Must be text."),
        ("dv.json data value 16", "period", "Missing."),
        ("dv.json data value 16", "orgUnit", "Missing."),
        ("dv.json data value 16", "value", "A value is required."),
        (place.format(17, "BX-IP 2028Q1 LC-BATXAT"), "deleted",
         "A deleted value: entries are never deleted by an import."),
        ("dv.json data value 18", "", "A data value must be a JSON object."),
    ]


def test_the_value_must_fit_the_target_like_on_the_screens(reported):
    content = doc(dv(element="BX-OCC", unit="LC-BATXAT-IND", value="55.12345"),
                  dv(element="BX-OCC", unit="LC-BATXAT-IND", period="2026Q2", value="-1"))
    assert problems_of(reported["dept_staff"], content) == [
        ("dv.json data value 1 (BX-OCC 2026Q1 LC-BATXAT-IND)", "value",
         "55.12345 has too many digits (at most 16 before and 4 after the point)."),
        ("dv.json data value 2 (BX-OCC 2026Q2 LC-BATXAT-IND)", "value",
         "-1 is not a percentage between 0 and 100."),
    ]


def test_a_target_out_of_sight_reads_as_an_unknown_data_element(reported):
    assert problems_of(reported["outsider"], doc(dv())) == [
        ("dv.json data value 1 (BX-IP 2026Q1 LC-BATXAT)", "dataElement",
         "Unknown data element “BX-IP”."),
        ("dv.json data value 1 (BX-IP 2026Q1 LC-BATXAT)", "orgUnit",
         "Unknown org unit “LC-BATXAT”."),
    ]


# --- identifiers: UIDs, codes, ours, combos ------------------------------------------------------


@pytest.fixture
def mapped(reported):
    units = {u.code: u for u in Unit.objects.all()}
    OrgUnitMapping.objects.create(unit=units["LC-BATXAT"], uid="DiszpKrYNg8", code="OU_BX")
    DataElementMapping.objects.create(target=Target.objects.get(code="BX-IP"), uid="fbfJHSPpUQD",
                                      code="DE_IP")
    DataElementMapping.objects.create(target=Target.objects.get(code="BX-OCC"),
                                      uid="x3Do5e7g4Qo", category_option_combo="Prlt0C1RF0s")
    return reported


def rows_of(user, content: bytes) -> list[tuple]:
    result = dry(user, content)
    return [(r.target_code, r.period, [p.message for p in r.problems]) for r in result.rows]


def test_an_undeclared_scheme_reads_a_uid_then_a_dhis2_code_then_ours(mapped):
    content = doc(dv(element="fbfJHSPpUQD", unit="DiszpKrYNg8"),
                  dv(element="DE_IP", unit="OU_BX", period="2026Q2"),
                  dv(element="BX-IP", unit="LC-BATXAT", period="2026Q3"),
                  dv(element="BX-OCC", unit="ImspTQPwCqd", period="2026Q3"))
    assert rows_of(mapped["manager"], content) == [
        ("BX-IP", "2026-Q1", []), ("BX-IP", "2026-Q2", []), ("BX-IP", "2026-Q3", []),
        ("", "2026Q3", ["Unknown org unit “ImspTQPwCqd”."]),
    ]


def test_a_declared_scheme_reads_only_that_kind_of_identifier(mapped):
    content = doc(dv(element="fbfJHSPpUQD", unit="OU_BX"), dv(element="DE_IP", unit="OU_BX"),
                  dataElementIdScheme="uid", idScheme="CODE")
    assert rows_of(mapped["manager"], content) == [
        ("BX-IP", "2026-Q1", []),
        ("", "2026Q1", ["Unknown data element “DE_IP”."]),
    ]


def test_the_category_option_combo_tells_the_target_and_the_default_is_none(mapped):
    content = doc(
        dv(element="BX-IP", categoryOptionCombo="HllvX50cXC0",
           attributeOptionCombo="HllvX50cXC0"),
        dv(element="x3Do5e7g4Qo", unit="LC-BATXAT-IND", categoryOptionCombo="Prlt0C1RF0s",
           value="30"),
        dv(element="x3Do5e7g4Qo", unit="LC-BATXAT-IND", period="2026Q2", value="30"),
    )
    assert rows_of(mapped["manager"], content) == [
        ("BX-IP", "2026-Q1", []), ("BX-OCC", "2026-Q1", []),
        ("", "2026Q2", ["The category option combo “default” is not one of LC-BATXAT-IND's "
                        "targets on this data element (BX-OCC: Prlt0C1RF0s)."]),
    ]


# --- documents that cannot be read ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "field", "message"),
    [
        (b'{"dataValues": [', "", "This is not valid JSON (line 1, column 17): export it from "
                                  "DHIS2 as JSON again."),
        ("{}".encode("utf-16"), "", "The file is not UTF-8 text: export it from DHIS2 as JSON "
                                    "again."),
        (b"[]", "", "The document is not a data value set: it must be a JSON object with a "
                    "list “dataValues”."),
        (b'{"dataValue": []}', "", "The document has no list “dataValues”: it is not a DHIS2 "
                                   "data value set."),
        (b'{"dataValues": []}', "", "The document has no data values."),
        (b'{"dataValues": [], "dataValues": []}', "",
         "The key “dataValues” is given twice in one object."),
        (b'{"dataValues": [{"value": NaN}]}', "",
         "The document holds NaN or Infinity, which are not numbers in JSON."),
        (b'{"dataValues": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "",
         "The document is nested too deeply to be a data value set."),
        (b'{"idScheme": "NAME", "dataValues": [{}]}', "idScheme",
         "The identifier scheme “NAME” is not supported here: use UID or CODE."),
        (b'{"orgUnitIdScheme": 3, "dataValues": [{}]}', "orgUnitIdScheme",
         "The identifier scheme “3” is not supported here: use UID or CODE."),
        (b'{"importStrategy": "delete", "dataValues": [{}]}', "importStrategy",
         "The document asks to delete values: entries are never deleted by an import."),
        (b'{"period": 2026, "dataValues": [{}]}', "period", "Must be text."),
        (b" " * (2 * 1024 * 1024 + 1), "",
         "The file is larger than 2 MB: split it into several documents (by period or org "
         "unit)."),
        (b'{"dataValues": [' + b",".join([b"{}"] * 10_001) + b"]}", "",
         "The document has 10001 data values; at most 10000 are imported at once: split it."),
    ],
)
def test_a_document_that_cannot_be_read_says_why_and_writes_nothing(reported, content, field,
                                                                    message):
    assert problems_of(reported["staff"], content) == [("dv.json", field, message)]


def test_top_level_period_and_org_unit_are_the_defaults_of_the_data_values(reported):
    content = doc({"dataElement": "BX-IP", "value": "1"},
                  {"dataElement": "BX-IP", "value": "2", "period": "2026Q2"},
                  period="2026Q1", orgUnit="LC-BATXAT", dataSet="pBOMPrpg1QX",
                  completeDate="2026-04-02", notes=["ignored"])
    assert rows_of(reported["staff"], content) == [("BX-IP", "2026-Q1", []),
                                                   ("BX-IP", "2026-Q2", [])]
