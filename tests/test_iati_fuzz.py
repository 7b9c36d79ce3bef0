"""Property tests of the IATI export: whatever the admin's IATI activity form accepts, and
whatever text the plan's content holds, the export is valid IATI 2.03; what the form refuses is
said next to its field and writes nothing."""

from __future__ import annotations

import os

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from lxml import etree

from iati.models import IatiActivity
from targets.models import Area, Plan, Target, Unit
from tests.conftest import rolled_back
from tests.test_iati import export, narratives, schema_problems

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]

FUZZ = settings(
    max_examples=int(os.environ.get("IATI_FUZZ_EXAMPLES", "40")),
    deadline=None,
    database=None,  # no example database in the shared tree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Valid identifiers (VN-BX, VN-BX-1), near ones, and anything else.
IDENTIFIER_PARTS = st.sampled_from(["VN", "BX", "-", ".", ":", "_", "1", " ", "/", "đ", "?"])
VALID_IDENTIFIERS = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,12}", fullmatch=True)
identifiers = st.one_of(
    VALID_IDENTIFIERS, VALID_IDENTIFIERS, VALID_IDENTIFIERS,  # most examples are accepted
    st.lists(IDENTIFIER_PARTS, max_size=8).map("".join),
    st.text(max_size=20),
)
texts = st.text(max_size=60)  # every code point but surrogates: controls, NUL, RTL marks…


@given(
    ref=identifiers, suffix=identifiers, same_org=st.sampled_from([True, True, True, False]),
    name=texts, name_en=texts,
    org_type=st.sampled_from(["10", "11", "15", "90", "11", "11", "", "99"]),
    sector=st.sampled_from(["", "430", "43040", "", "", "4304", "abc", "٤٣٠"]),
)
@example(ref="VN-BX", suffix="BXT2530", same_org=True, name="UBND xã\x01 Bát Xát", name_en="",
         org_type="11", sector="")
@example(ref="VN-BX", suffix="OTHER", same_org=False, name="", name_en="", org_type="11",
         sector="430")
@FUZZ
def test_what_the_admin_accepts_exports_valid_iati(
    client, people, ref, suffix, same_org, name, name_en, org_type, sector
):
    client.force_login(people["admin"])
    plan = Plan.objects.get(code="BX-2025-2030")
    identifier = f"{ref}-{suffix}" if same_org else suffix
    with rolled_back():
        response = client.post(reverse("admin:iati_iatiactivity_add"), {
            "plan": plan.pk, "identifier": identifier, "reporting_org_ref": ref,
            "reporting_org_type": org_type, "reporting_org_name": name,
            "reporting_org_name_en": name_en, "sector": sector,
        })
        if response.status_code == 302:
            activity = IatiActivity.objects.get()
            document = export()
            assert schema_problems(document) == []
            root = etree.fromstring(document)
            assert root.findtext("iati-activity/iati-identifier") == activity.identifier
            assert root.find("iati-activity/reporting-org").get("ref") == activity.reporting_org_ref
        else:
            assert response.status_code == 200
            errors = response.context["adminform"].form.errors
            assert errors and set(errors) <= {
                "identifier", "reporting_org_ref", "reporting_org_type", "reporting_org_name",
                "reporting_org_name_en", "sector", "__all__"}
            assert not IatiActivity.objects.exists()


@given(name=texts, name_en=texts, description=texts, measure=texts, area=texts, unit=texts)
@FUZZ
def test_whatever_text_the_content_holds_the_export_is_valid(
    people, name, name_en, description, measure, area, unit
):
    # NUL is the one character PostgreSQL does not store (the forms and files refuse it).
    name, name_en, description, measure, area, unit = (
        text.replace("\x00", "") for text in (name, name_en, description, measure, area, unit))
    with rolled_back():
        Target.objects.filter(code="BX-OCC").update(
            name=name, name_en=name_en, description=description, measure=measure)
        Area.objects.filter(code="industry").update(name=area, name_en="")
        Unit.objects.filter(code="LC-BATXAT").update(name=unit)
        document = export()
        assert schema_problems(document) == []
        occupancy = etree.fromstring(document).xpath(
            "//indicator[reference/@code='BX-OCC']")[0]
        # Each title has a narrative: the text without what XML cannot hold, or the code.
        assert narratives(occupancy.find("title"))
        assert narratives(occupancy.getparent().find("title"))
