"""The IATI results export (issue 15): a plan as an IATI 2.03 activity whose results are its
areas and whose indicators are its targets, valid against the official schema."""

from __future__ import annotations

from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from lxml import etree
from okfn_iati.iati_schema_validator import IatiValidator

from iati.models import IatiActivity
from targets import rules
from targets.models import Plan, ProgressEntry, Role, Target
from targets.services import entries as workflow
from targets.services.demo import demo_load
from targets.services.imports import entries_import
from targets.services.plans import load_located, plan_import, plan_import_file
from tests.conftest import make_user, many_targets_plan, plan_operator, submitted_entry

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
LANG = "{http://www.w3.org/XML/1998/namespace}lang"
VALIDATOR = IatiValidator("2.03")  # the official 2.03 XSD, as okfn-iati ships it


def schema_problems(content: bytes) -> list[str]:
    """What the IATI 2.03 schema and okfn-iati's ruleset checks say against the document."""
    valid, problems = VALIDATOR.validate(content.decode("utf-8"))
    return [] if valid else problems["schema_errors"] + problems["ruleset_errors"]


def export(plan: str = "BX-2025-2030", *args: str) -> bytes:
    out = StringIO()
    call_command("export_iati", plan, *args, stdout=out)
    return out.getvalue().encode("utf-8")


def indicator(document: bytes, code: str) -> etree._Element:
    found = etree.fromstring(document).xpath(
        "//indicator[reference[@vocabulary='99'][@code=$code]]", code=code)
    assert len(found) == 1, code
    return found[0]


def narratives(element: etree._Element) -> dict[str, str]:
    return {n.get(LANG): n.text for n in element.findall("narrative")}


def periods(element: etree._Element) -> list[tuple]:
    """(start, end, target, actual) of each period of an indicator."""
    return [
        (p.find("period-start").get("iso-date"), p.find("period-end").get("iso-date"),
         p.find("target").get("value"),
         p.find("actual").get("value") if p.find("actual") is not None else None)
        for p in element.findall("period")
    ]


def approve(people, code: str, period: str, value: str) -> None:
    entry = submitted_entry(people["manager"], code, period, value)
    workflow.entry_approve(user=people["province"], entry_id=entry.pk, reassess=None)


# --- the seed plans with the demo's entries validate -------------------------------------------


@pytest.fixture
def seeded(db):
    for name in ("bat-xat-2025-2030.yaml", "ma-lu-thang-2026-2030.yaml"):
        plan_import_file(FIXTURES / name, user=plan_operator())
    demo_load(FIXTURES / "demo.yaml", operator=plan_operator())


@pytest.mark.parametrize("plan", ["BX-2025-2030", "MLT-2026-2030"])
def test_the_export_of_a_seed_plan_validates_against_the_iati_schema(seeded, plan):
    document = export(plan)

    assert schema_problems(document) == []
    root = etree.fromstring(document)
    assert root.tag == "iati-activities" and root.get("version") == "2.03"
    (activity,) = root.findall("iati-activity")
    the_plan = Plan.objects.get(code=plan)
    # One result per area that has targets, one indicator per target, one period per
    # reporting period; every approved entry is an actual, nothing else is.
    areas = the_plan.areas.annotate(n=Count("targets")).filter(n__gt=0)
    assert sorted(r.find("reference").get("code") for r in activity.findall("result")) == sorted(
        areas.values_list("code", flat=True))
    targets = Target.objects.filter(plan=the_plan)
    assert len(activity.findall("result/indicator")) == targets.count()
    for target in targets:
        found = indicator(document, target.code)
        assert len(found.findall("period")) == len(target.reporting_periods())
        assert len(found.findall("period/actual")) == target.entries.filter(
            status="approved").count()
    assert narratives(activity.find("title")) == {"vi": the_plan.name, "en": the_plan.name_en}


def test_bat_xat_in_two_languages_with_the_unit_of_measure(seeded):
    document = export()
    industrial_parks = indicator(document, "BX-IP")
    assert narratives(industrial_parks.find("title")) == {
        "vi": "Khu công nghiệp được hình thành", "en": "Industrial parks formed"}
    description = narratives(industrial_parks.find("description"))
    assert "Đơn vị tính: khu công nghiệp." in description["vi"]
    assert "Unit of measure: industrial parks." in description["en"]
    assert "never converted" in description["en"]
    assert description["en"].startswith("Attract investment and form 2 industrial parks")
    assert industrial_parks.get("measure") == "1"
    assert industrial_parks.find("baseline").attrib == {
        "year": "2025", "iso-date": "2025-06-30", "value": "0"}
    # Step: 0 until the milestone (1 by 2027-12-31), then 1, and 2 from the due date.
    targets = {end: target for _start, end, target, _actual in periods(industrial_parks)}
    assert (targets["2027-09-30"], targets["2027-12-31"], targets["2030-09-30"],
            targets["2030-12-31"]) == ("0", "1", "1", "2")


# --- hand-computed periods ---------------------------------------------------------------------

MORE_TARGETS = """
plans:
  - code: BX-2025-2030
    name: "Xã Bát Xát nhiệm kỳ 2025–2030"
    name_en: "Bat Xat commune 2025–2030 term"
    unit: LC-BATXAT
    start: 2025-07-01
    end: 2030-12-31
    areas:
      - {code: industry, name: "Công nghiệp và logistics", name_en: "Industry and logistics"}
      - {code: social, name: "Xã hội"}
    targets:
      - code: BX-POOR
        name: "Tỷ lệ hộ nghèo"
        area: social
        responsible_unit: LC-BATXAT
        measure: "%"
        value_type: percent
        direction: at_most
        baseline: {value: 10, date: 2025-12-31}
        target: {value: 4, date: 2030-12-31}
        frequency: yearly
      - code: BX-BUDGET
        name: "Thu ngân sách trên địa bàn"
        name_en: "State budget revenue"
        area: industry
        responsible_unit: LC-BATXAT
        measure: "tỷ đồng"
        measure_en: "billion VND"
        value_type: decimal
        aggregation: sum
        baseline: {value: 100, date: 2025-12-31}
        target: {value: 600, date: 2030-12-31}
        frequency: yearly
"""


@pytest.fixture
def more(people):
    plan_import(data=load_located(MORE_TARGETS), filename="more.yaml", user=plan_operator())
    return people


def test_a_linear_targets_periods_hold_its_trajectory_and_its_approved_values(people):
    # BX-OCC: linear from 20 on 2025-06-30 to 80 on 2030-12-31, 2010 days; quarterly.
    approve(people, "BX-OCC", "2025-Q3", "22")
    approve(people, "BX-OCC", "2026-Q1", "27.5")
    document = export()

    assert schema_problems(document) == []
    occupancy = indicator(document, "BX-OCC")
    assert (occupancy.get("measure"), occupancy.get("ascending")) == ("2", "true")  # percent
    assert occupancy.find("baseline").attrib == {
        "year": "2025", "iso-date": "2025-06-30", "value": "20"}
    got = periods(occupancy)
    assert len(got) == 22  # 2025-Q3 … 2030-Q4
    assert got[:4] == [
        # 20 + 60 × 92 / 2010 = 22.7462686… → 22.746269
        ("2025-07-01", "2025-09-30", "22.746269", "22"),
        # 20 + 60 × 184 / 2010 = 25.4925373…
        ("2025-10-01", "2025-12-31", "25.492537", None),
        # 20 + 60 × 274 / 2010 = 28.1791044…
        ("2026-01-01", "2026-03-31", "28.179104", "27.5"),
        # 20 + 60 × 365 / 2010 = 30.8955223…
        ("2026-04-01", "2026-06-30", "30.895522", None),
    ]
    assert got[-1] == ("2030-10-01", "2030-12-31", "80", None)


def test_at_most_is_not_ascending_and_falls_along_its_line(more):
    document = export()

    assert schema_problems(document) == []
    poverty = indicator(document, "BX-POOR")
    assert poverty.get("ascending") == "false"
    assert indicator(document, "BX-IP").get("ascending") == "true"
    # Yearly from 10 on 2025-12-31 to 4 on 2030-12-31 (1826 days): 2026 ends 365 days in,
    # 10 − 6 × 365 / 1826 = 8.8006571…; 2028 ends 1096 days in: 10 − 6 × 1096 / 1826.
    assert periods(poverty) == [
        ("2026-01-01", "2026-12-31", "8.800657", None),
        ("2027-01-01", "2027-12-31", "7.601314", None),
        ("2028-01-01", "2028-12-31", "6.398686", None),
        ("2029-01-01", "2029-12-31", "5.199343", None),
        ("2030-01-01", "2030-12-31", "4", None),
    ]
    # An area without an English name has its Vietnamese title only.
    social = indicator(document, "BX-POOR").getparent()
    assert narratives(social.find("title")) == {"vi": "Xã hội"}


def test_a_sum_of_flows_reports_its_running_total_in_its_own_currency(more):
    approve(more, "BX-BUDGET", "2026", "90")
    approve(more, "BX-BUDGET", "2027", "110")
    document = export()

    assert schema_problems(document) == []
    budget = indicator(document, "BX-BUDGET")
    # Expected 100 + 500 × 365 / 1826 = 199.9452354…; actual 100 + 90, then + 110.
    assert periods(budget)[:3] == [
        ("2026-01-01", "2026-12-31", "199.945235", "190"),
        ("2027-01-01", "2027-12-31", "299.890471", "300"),
        ("2028-01-01", "2028-12-31", "400.109529", None),
    ]
    comment = narratives(budget.find("period/actual/comment"))
    assert "90" in comment["en"] and "running total" in comment["en"]
    description = narratives(budget.find("description"))
    assert "Unit of measure: billion VND." in description["en"]
    assert "Đơn vị tính: tỷ đồng." in description["vi"]
    assert "running totals" in description["en"]


def test_no_draft_submitted_or_returned_value_leaks(people):
    approve(people, "BX-OCC", "2025-Q3", "22")
    submitted_entry(people["manager"], "BX-OCC", "2025-Q4", "77.77")
    workflow.entry_save_draft(user=people["manager"], target_id=Target.objects.get(
        code="BX-OCC").pk, period="2026-Q1", value="66.66", today=date(2031, 1, 1))
    returned = submitted_entry(people["manager"], "BX-OCC", "2026-Q2", "55.55")
    workflow.entry_return(user=people["province"], entry_id=returned.pk, comment="Evidence?")
    assert set(ProgressEntry.objects.values_list("status", flat=True)) == {
        "approved", "submitted", "draft", "returned"}

    document = export()

    actuals = etree.fromstring(document).xpath("//actual/@value")
    assert actuals == ["22"]
    for leaked in (b"77.77", b"66.66", b"55.55"):
        assert leaked not in document


# --- who downloads what ------------------------------------------------------------------------


def download(client, user, plan: str = "BX-2025-2030"):
    client.force_login(user)
    return client.get(reverse("iati:plan", args=[plan]))


def codes(content: bytes) -> set[str]:
    return set(etree.fromstring(content).xpath("//indicator/reference/@code"))


def test_a_manager_downloads_the_targets_of_their_subtree(client, people, small_plan):
    response = download(client, people["manager"])
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="iati-BX-2025-2030.xml"'
    assert schema_problems(response.content) == []
    assert codes(response.content) == {"BX-IP", "BX-OCC"}
    # The department's manager sees the department's target only.
    department = make_user("ind.manager", [(small_plan["LC-BATXAT-IND"], Role.MANAGER)])
    response = download(client, department)
    assert response.status_code == 200
    assert codes(response.content) == {"BX-OCC"}
    assert schema_problems(response.content) == []


def test_outside_the_scope_the_plan_is_not_found_and_staff_are_refused(client, people):
    assert download(client, people["outsider"]).status_code == 404
    assert download(client, people["manager"], "NO-SUCH").status_code == 404
    assert download(client, people["staff"]).status_code == 403
    assert download(client, people["dept_staff"]).status_code == 403
    assert download(client, people["admin"]).status_code == 200
    client.logout()
    response = client.get(reverse("iati:plan", args=["BX-2025-2030"]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_status_screen_offers_the_chosen_plans_download_to_managers(client, people):
    plan = Plan.objects.get(code="BX-2025-2030")
    url = reverse("iati:plan", args=["BX-2025-2030"])
    client.force_login(people["manager"])
    assert url.encode() in client.get(reverse("targets:status"), {"plan": plan.pk}).content
    assert url.encode() not in client.get(reverse("targets:status")).content
    client.force_login(people["staff"])
    assert url.encode() not in client.get(reverse("targets:status"), {"plan": plan.pk}).content


def test_the_download_reads_a_fixed_number_of_queries(client, people, small_plan):
    client.force_login(people["province"])
    url = reverse("iati:plan", args=["MANY"])

    def queries_for(count: int, first: int = 0) -> int:
        plan_import(data=load_located(many_targets_plan(count)), filename="many.yaml",
                    user=plan_operator())
        rows = "".join(f"M{i:04d},{period},{i}\n" for i in range(first, count)
                       for period in ("2025", "2026"))  # the plan's targets are yearly
        entries_import(user=people["manager"], content=f"target,period,value\n{rows}".encode(),
                       filename="e.csv", status="submitted", reassess=None,
                       today=date(2027, 1, 1))
        submitted = ProgressEntry.objects.filter(status="submitted").values_list("pk", flat=True)
        workflow.entries_approve(user=people["province"], entry_ids=list(submitted),
                                 reassess=None)
        with CaptureQueriesContext(transaction.get_connection()) as captured:
            response = client.get(url)
        assert response.status_code == 200
        assert len(codes(response.content)) == count
        assert len(etree.fromstring(response.content).xpath("//actual")) == 2 * count
        return len(captured)

    few = queries_for(2)
    assert queries_for(40, first=2) == few
    assert few <= 8  # session, user, memberships, plan, its managers, targets, milestones, entries


# --- the command -------------------------------------------------------------------------------


def test_export_iati_writes_a_file_and_scopes_to_a_user(people, tmp_path):
    out = StringIO()
    call_command("export_iati", "BX-2025-2030", "--output", str(tmp_path / "bx.xml"), stdout=out)
    written = (tmp_path / "bx.xml").read_bytes()
    assert schema_problems(written) == []
    assert codes(written) == {"BX-IP", "BX-OCC"}
    assert codes(export("BX-2025-2030", "--user", "ind.staff")) == {"BX-OCC"}
    with pytest.raises(CommandError, match=r"No plan “BX-2025-2030” with a target lch\.manager"):
        export("BX-2025-2030", "--user", "lch.manager")
    with pytest.raises(CommandError, match="No plan “NO-SUCH”"):
        export("NO-SUCH")


# --- the publisher: the admin's activity, or the settings ---------------------------------------


def test_without_an_activity_the_plan_is_published_under_its_unit_or_the_settings(
    small_plan, settings
):
    activity = etree.fromstring(export()).find("iati-activity")
    assert activity.findtext("iati-identifier") == "LC-BATXAT-BX-2025-2030"
    assert activity.find("reporting-org").attrib == {"ref": "LC-BATXAT", "type": "11"}
    assert narratives(activity.find("reporting-org")) == {
        "vi": "Xã Bát Xát", "en": "Bat Xat commune"}
    assert activity.find("sector").attrib == {"code": "430", "vocabulary": "2"}
    assert activity.find("recipient-country").get("code") == "VN"

    settings.IATI_REPORTING_ORG_REF = "VN-LC"
    settings.IATI_REPORTING_ORG_TYPE = "10"
    settings.IATI_REPORTING_ORG_NAME = "UBND tỉnh Lào Cai"
    settings.IATI_SECTOR = "43040"
    document = export()
    assert schema_problems(document) == []
    activity = etree.fromstring(document).find("iati-activity")
    assert activity.findtext("iati-identifier") == "VN-LC-BX-2025-2030"
    assert activity.find("reporting-org").attrib == {"ref": "VN-LC", "type": "10"}
    assert narratives(activity.find("reporting-org")) == {"vi": "UBND tỉnh Lào Cai"}
    assert activity.find("sector").attrib == {"code": "43040", "vocabulary": "1"}


def test_the_admins_activity_names_the_plans_publisher(small_plan, settings):
    settings.IATI_REPORTING_ORG_REF = "VN-LC"
    IatiActivity.objects.create(
        plan=Plan.objects.get(code="BX-2025-2030"), identifier="VN-BX-BXT2530",
        reporting_org_ref="VN-BX", reporting_org_name="UBND xã Bát Xát",
        reporting_org_name_en="Bat Xat Commune People's Committee",
    )
    document = export()
    assert schema_problems(document) == []
    activity = etree.fromstring(document).find("iati-activity")
    assert activity.findtext("iati-identifier") == "VN-BX-BXT2530"
    assert activity.find("reporting-org").attrib == {"ref": "VN-BX", "type": "11"}
    assert narratives(activity.find("reporting-org")) == {
        "vi": "UBND xã Bát Xát", "en": "Bat Xat Commune People's Committee"}


def test_an_identifier_begins_with_its_organisations(small_plan):
    plan = Plan.objects.get(code="BX-2025-2030")
    activity = IatiActivity(plan=plan, identifier="VN-OTHER-1", reporting_org_ref="VN-BX")
    with pytest.raises(ValidationError) as refused:
        activity.full_clean()
    assert set(refused.value.message_dict) == {"identifier"}
    with pytest.raises(IntegrityError), transaction.atomic():
        activity.save()
    assert not IatiActivity.objects.exists()


@pytest.mark.parametrize(("today", "status", "dates"), [
    (date(2025, 6, 30), "1", [("1", "2025-07-01"), ("3", "2030-12-31")]),
    (date(2025, 7, 1), "2", [("1", "2025-07-01"), ("2", "2025-07-01"), ("3", "2030-12-31")]),
    (date(2030, 12, 31), "2", [("1", "2025-07-01"), ("2", "2025-07-01"), ("3", "2030-12-31")]),
    (date(2031, 1, 1), "3", [("1", "2025-07-01"), ("2", "2025-07-01"), ("3", "2030-12-31"),
                             ("4", "2030-12-31")]),
])
def test_the_activity_status_and_dates_follow_the_plans_term(small_plan, today, status, dates):
    from django.utils import timezone

    from iati.export import IatiDefaults, activities_xml
    from iati.selectors import iati_plans, iati_targets

    plan = iati_plans(user=None).get(code="BX-2025-2030")
    document = activities_xml(
        plan=plan, targets=iati_targets(plan=plan, user=None),
        defaults=IatiDefaults.from_settings(), generated_at=timezone.now(), today=today,
    )
    assert schema_problems(document) == []
    activity = etree.fromstring(document).find("iati-activity")
    assert activity.find("activity-status").get("code") == status
    assert [(d.get("type"), d.get("iso-date")) for d in activity.findall("activity-date")] == dates


def test_numbers_are_plain_to_six_decimals():
    from decimal import Decimal

    from iati.export import iati_number

    assert [iati_number(Decimal(v)) for v in ("2", "2.5000", "1E+3", "-0.0000001",
                                              "0.1234565", "0.1234575")] == [
        "2", "2.5", "1000", "0", "0.123456", "0.123458"]
    assert iati_number(rules.expected_at(rules.TargetSpec(
        baseline_value=Decimal(0), baseline_date=date(2025, 1, 1), target_value=Decimal(1),
        due_date=date(2025, 1, 4)), date(2025, 1, 2))) == "0.333333"
