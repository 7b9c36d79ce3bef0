"""The DHIS2 export (dhis2.exporting): hand-written expected documents."""

from __future__ import annotations

import pytest

from dhis2.exporting import ExportRefused, dhis2_export, period_bound, plans_exportable_by
from dhis2.models import DataElementMapping, OrgUnitMapping
from dhis2.periods import NotExchangeable
from targets.models import Plan, Target, Unit
from targets.rules import Calendar
from targets.services import entries as workflow
from targets.services.plans import load_located, plan_import
from tests.alerting import report
from tests.conftest import make_user, many_targets_plan, plan_operator, submitted_entry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]

DECREE_PLAN = """
plans:
  - code: LCH-2025-2030
    name: "Lai Chau border gate 2025–2030"
    unit: LCH
    start: 2025-07-01
    end: 2030-12-31
    reporting_calendar: decree_09
    areas:
      - {code: gate, name: "Border-gate economy"}
    targets:
      - code: LCH-TRADE
        name: "Import-export turnover"
        area: gate
        responsible_unit: LCH
        measure: "USD million"
        value_type: decimal
        baseline: {value: 163, date: 2025-06-30}
        target: {value: 300, date: 2030-12-31}
        frequency: quarterly
"""
SCOPE_NOTE = ("Target Tracker: the approved values of the plan BX-2025-2030, periods … to … "
              "({count} data values).")


def approved(code: str, period: str, value, *, author, reviewer, note: str = ""):
    entry = submitted_entry(author, code, period, value, note=note)
    return workflow.entry_approve(user=reviewer, entry_id=entry.pk, reassess=None)


@pytest.fixture
def reported(people):
    """BX-IP: 2025-Q3 = 0 and 2025-Q4 = 1 (with a note) approved, 2026-Q1 only submitted;
    BX-OCC (the industry department's): 2025-Q3 = 22.5 approved."""
    approved("BX-IP", "2025-Q3", "0", author=people["staff"], reviewer=people["manager"])
    approved("BX-IP", "2025-Q4", "1", author=people["staff"], reviewer=people["manager"],
             note="Quyết định số 12/QĐ-UBND")
    submitted_entry(people["staff"], "BX-IP", "2026-Q1", "1")
    approved("BX-OCC", "2025-Q3", "22.5", author=people["dept_staff"],
             reviewer=people["manager"])
    return people


def bx_plan() -> Plan:
    return Plan.objects.get(code="BX-2025-2030")


def test_unmapped_targets_and_units_are_exported_under_our_codes_and_the_notes_say_so(reported):
    document = dhis2_export(user=reported["manager"], plan=bx_plan())
    assert document == {
        "dataElementIdScheme": "CODE",
        "orgUnitIdScheme": "CODE",
        "notes": [
            SCOPE_NOTE.format(count=3),
            "Org units without a DHIS2 code, given under their codes here: LC-BATXAT, "
            "LC-BATXAT-IND. Map them in the admin (DHIS2 exchange) before importing this "
            "document into DHIS2.",
            "Targets without a DHIS2 data element code, given under their codes here: BX-IP, "
            "BX-OCC. Map them in the admin (DHIS2 exchange) before importing this document "
            "into DHIS2.",
        ],
        "dataValues": [
            {"dataElement": "BX-IP", "period": "2025Q3", "orgUnit": "LC-BATXAT", "value": "0"},
            {"dataElement": "BX-IP", "period": "2025Q4", "orgUnit": "LC-BATXAT", "value": "1",
             "comment": "Quyết định số 12/QĐ-UBND"},
            {"dataElement": "BX-OCC", "period": "2025Q3", "orgUnit": "LC-BATXAT-IND",
             "value": "22.5"},
        ],
    }


def test_mapped_units_and_targets_are_exported_under_their_dhis2_identifiers(reported):
    units = {u.code: u for u in Unit.objects.all()}
    OrgUnitMapping.objects.create(unit=units["LC-BATXAT"], uid="DiszpKrYNg8", code="OU_BX")
    OrgUnitMapping.objects.create(unit=units["LC-BATXAT-IND"], uid="ImspTQPwCqd")
    DataElementMapping.objects.create(
        target=Target.objects.get(code="BX-IP"), uid="fbfJHSPpUQD", code="DE_IP")
    DataElementMapping.objects.create(
        target=Target.objects.get(code="BX-OCC"), code="DE_OCC",
        category_option_combo="Prlt0C1RF0s")
    document = dhis2_export(user=reported["manager"], plan=bx_plan(), data_set="pBOMPrpg1QX")
    # Every org unit has a UID: UIDs. Not every target: codes (both have one).
    assert document == {
        "dataSet": "pBOMPrpg1QX",
        "dataElementIdScheme": "CODE",
        "orgUnitIdScheme": "UID",
        "notes": [SCOPE_NOTE.format(count=3)],
        "dataValues": [
            {"dataElement": "DE_IP", "period": "2025Q3", "orgUnit": "DiszpKrYNg8", "value": "0"},
            {"dataElement": "DE_IP", "period": "2025Q4", "orgUnit": "DiszpKrYNg8", "value": "1",
             "comment": "Quyết định số 12/QĐ-UBND"},
            {"dataElement": "DE_OCC", "period": "2025Q3", "orgUnit": "ImspTQPwCqd",
             "categoryOptionCombo": "Prlt0C1RF0s", "value": "22.5"},
        ],
    }


def test_the_export_holds_only_the_targets_the_user_sees(reported):
    document = dhis2_export(user=reported["dept_staff"], plan=bx_plan())
    assert [v["dataElement"] for v in document["dataValues"]] == ["BX-OCC"]
    assert dhis2_export(user=reported["outsider"], plan=bx_plan())["dataValues"] == []
    assert list(plans_exportable_by(reported["outsider"])) == []
    assert [p.code for p in plans_exportable_by(reported["dept_staff"])] == ["BX-2025-2030"]


def test_the_range_keeps_the_periods_within_it(reported):
    quarter = period_bound("2025-Q4", Calendar.CALENDAR)
    document = dhis2_export(user=reported["manager"], plan=bx_plan(), first=quarter,
                            last=quarter)
    assert [(v["dataElement"], v["period"]) for v in document["dataValues"]] == [
        ("BX-IP", "2025Q4")]
    assert document["notes"][0] == (
        "Target Tracker: the approved values of the plan BX-2025-2030, periods 2025-Q4 to "
        "2025-Q4 (1 data value).")
    # A DHIS2 identifier names the same range; the year holds all three.
    year = period_bound("2025", Calendar.CALENDAR)
    assert period_bound("2025Q4", Calendar.CALENDAR) == quarter
    assert len(dhis2_export(user=reported["manager"], plan=bx_plan(), first=year,
                            last=year)["dataValues"]) == 3


def test_a_decree_09_plan_gives_each_value_under_the_period_its_cut_off_falls_in(people):
    plan_import(data=load_located(DECREE_PLAN), filename="lch.yaml", user=plan_operator())
    lch_staff = make_user("lch.staff", [(Unit.objects.get(code="LCH"), "staff")])
    # 2026-Q1 of Decree 09 is 15/12/2025 – 14/03/2026; 2025-Q4 is 15/09 – 14/12/2025.
    report("LCH-TRADE", "2025-Q4", "41.25", author=lch_staff, reviewer=people["outsider"])
    report("LCH-TRADE", "2026-Q1", "80", author=lch_staff, reviewer=people["outsider"])
    document = dhis2_export(user=people["outsider"], plan=Plan.objects.get(code="LCH-2025-2030"))
    assert document == {
        "dataElementIdScheme": "CODE",
        "orgUnitIdScheme": "CODE",
        "notes": [
            "Target Tracker: the approved values of the plan LCH-2025-2030, periods … to … "
            "(2 data values).",
            "The plan reports on Decree 09/2019 cut-off periods (the 15th of a month to the "
            "14th): each value is given under the DHIS2 period its cut-off falls in, so "
            "2025-Q4 (2025-09-15 to 2025-12-14) is 2025Q4 (2025-10-01 to 2025-12-31).",
            "Org units without a DHIS2 code, given under their codes here: LCH. Map them in "
            "the admin (DHIS2 exchange) before importing this document into DHIS2.",
            "Targets without a DHIS2 data element code, given under their codes here: "
            "LCH-TRADE. Map them in the admin (DHIS2 exchange) before importing this document "
            "into DHIS2.",
        ],
        "dataValues": [
            {"dataElement": "LCH-TRADE", "period": "2025Q4", "orgUnit": "LCH",
             "value": "41.25"},
            {"dataElement": "LCH-TRADE", "period": "2026Q1", "orgUnit": "LCH", "value": "80"},
        ],
    }
    # The range 2026Q1 (a DHIS2 quarter) is the Decree-09 quarter 15/12/2025 – 14/03/2026.
    first = period_bound("2026Q1", Calendar.DECREE_09)
    assert (first.key, first.start.isoformat(), first.end.isoformat()) == (
        "2026-Q1", "2025-12-15", "2026-03-14")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-9M", "DHIS2 has no nine-month period type: 2026-9M cannot be exchanged. Choose "
                    "its months, quarters or year instead."),
        ("2026W5", "2026W5 is a weekly DHIS2 period; targets here report monthly (202603), "
                   "quarterly (2026Q1), six-monthly (2026S1) or yearly (2026)."),
        ("2026-13", "“2026-13” is not a period: write 2026-Q1, 2026-H1, 2026-03 or 2026 (or as "
                    "DHIS2 does, 2026Q1, 2026S1, 202603)."),
    ],
)
def test_a_range_bound_that_cannot_be_exchanged_is_refused_with_the_reason(text, message):
    with pytest.raises(NotExchangeable) as refused:
        period_bound(text, Calendar.CALENDAR)
    assert refused.value.message == message


def test_two_targets_on_one_dhis2_data_value_are_refused(reported):
    # The admin refuses such mappings (test_dhis2_mappings.py); rows written around it are
    # still caught by the export.
    units = {u.code: u for u in Unit.objects.all()}
    OrgUnitMapping.objects.create(unit=units["LC-BATXAT"], code="OU_SAME")
    for code in ("BX-IP", "BX-OCC"):
        DataElementMapping.objects.create(target=Target.objects.get(code=code), code="DE_SAME")
    Target.objects.filter(code="BX-OCC").update(responsible_unit=units["LC-BATXAT"])
    with pytest.raises(ExportRefused) as refused:
        dhis2_export(user=reported["manager"], plan=bx_plan())
    assert refused.value.message == (
        "BX-IP and BX-OCC would be the same DHIS2 data value (data element DE_SAME, org unit "
        "OU_SAME, period 2025Q3): give them different data elements or category option combos "
        "in the admin (DHIS2 exchange).")


@pytest.mark.parametrize("count", [2, 12])
def test_the_export_makes_the_same_queries_whatever_the_number_of_entries(
    people, count, django_assert_num_queries
):
    plan_import(data=load_located(many_targets_plan(count)), filename="many.yaml",
                user=plan_operator())
    for i in range(count):
        for year in ("2025", "2026"):
            report(f"M{i:04d}", year, i, author=people["staff"], reviewer=people["manager"])
    for i in range(0, count, 2):
        DataElementMapping.objects.create(target=Target.objects.get(code=f"M{i:04d}"),
                                          code=f"DE{i}")
    manager = make_user("many.manager", [(Unit.objects.get(code="LC-BATXAT"), "manager")])
    plan = Plan.objects.get(code="MANY")
    # The user's memberships and the entries with their targets, units and mappings.
    with django_assert_num_queries(2):
        document = dhis2_export(user=manager, plan=plan)
    assert len(document["dataValues"]) == 2 * count
