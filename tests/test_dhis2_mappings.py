"""The DHIS2 mappings in the admin: checked as typed, kept in the history."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from dhis2.models import DataElementMapping, OrgUnitMapping
from targets.models import Target, Unit

pytestmark = pytest.mark.django_db
ORG_UNITS = reverse("admin:dhis2_orgunitmapping_add")
DATA_ELEMENTS = reverse("admin:dhis2_dataelementmapping_add")


@pytest.fixture
def admin_client(english, people):
    english.force_login(people["admin"])
    return english


def unit(code: str) -> Unit:
    return Unit.objects.get(code=code)


def target(code: str) -> Target:
    return Target.objects.get(code=code)


def errors_of(response) -> dict[str, list[str]]:
    form = response.context["adminform"].form
    return {name: [str(e) for e in errors] for name, errors in form.errors.items()}


def test_an_org_unit_is_mapped_and_the_history_names_who(admin_client, people):
    response = admin_client.post(ORG_UNITS, {"unit": unit("LC-BATXAT").pk,
                                             "uid": "DiszpKrYNg8", "code": "OU_BATXAT"})
    assert response.status_code == 302
    mapping = OrgUnitMapping.objects.get()
    assert (mapping.unit.code, mapping.uid, mapping.code) == ("LC-BATXAT", "DiszpKrYNg8",
                                                               "OU_BATXAT")
    assert mapping.history.get().history_user == people["admin"]


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({}, {"__all__": ["Give the DHIS2 UID, the DHIS2 code or both."]}),
        ({"uid": "1iszpKrYNg8"}, {"uid": [
            "A DHIS2 UID is 11 letters and digits, the first a letter (such as fbfJHSPpUQD)."]}),
        ({"uid": "DiszpKrYNg"}, {"uid": [
            "A DHIS2 UID is 11 letters and digits, the first a letter (such as fbfJHSPpUQD)."]}),
        ({"code": "OU\tBX"}, {"code": [
            "A DHIS2 code has no control characters and no space at its start or end."]}),
        ({"code": "LCH"}, {"code": [
            "LCH is the code of the unit Lai Chau province here: a DHIS2 value for it would be "
            "read as this unit's."]}),
    ],
)
def test_an_org_unit_mapping_is_checked(admin_client, data, errors):
    response = admin_client.post(ORG_UNITS, {"unit": unit("LC-BATXAT").pk, "uid": "",
                                             "code": "", **data})
    assert response.status_code == 200
    assert errors_of(response) == errors
    assert not OrgUnitMapping.objects.exists()


def test_two_units_cannot_be_one_org_unit(admin_client):
    OrgUnitMapping.objects.create(unit=unit("LC-BATXAT"), uid="DiszpKrYNg8", code="OU_BX")
    for given in ({"uid": "DiszpKrYNg8"}, {"code": "OU_BX"}):
        response = admin_client.post(ORG_UNITS, {"unit": unit("LC").pk, "uid": "", "code": "",
                                                 **given})
        assert errors_of(response) == {"__all__": ["Another unit is already this DHIS2 org "
                                                   "unit."]}
    OrgUnitMapping.objects.all().delete()

    OrgUnitMapping.objects.create(unit=unit("LC-BATXAT"), uid="DiszpKrYNg8")
    with pytest.raises(IntegrityError), transaction.atomic():
        OrgUnitMapping.objects.create(unit=unit("LC"), uid="DiszpKrYNg8")
    with pytest.raises(IntegrityError), transaction.atomic():
        OrgUnitMapping.objects.create(unit=unit("LCH"))  # neither a UID nor a code


def test_a_data_element_is_mapped_with_its_combo_and_the_default_is_none(admin_client):
    response = admin_client.post(DATA_ELEMENTS, {
        "target": target("BX-IP").pk, "uid": "fbfJHSPpUQD", "code": "",
        "category_option_combo": "HllvX50cXC0"})
    assert response.status_code == 302
    mapping = DataElementMapping.objects.get()
    assert (mapping.uid, mapping.category_option_combo) == ("fbfJHSPpUQD", "")


def test_two_targets_of_one_unit_cannot_share_a_data_element_and_combo(admin_client):
    Target.objects.filter(code="BX-OCC").update(responsible_unit=unit("LC-BATXAT"))
    DataElementMapping.objects.create(target=target("BX-IP"), uid="fbfJHSPpUQD")
    response = admin_client.post(DATA_ELEMENTS, {
        "target": target("BX-OCC").pk, "uid": "fbfJHSPpUQD", "code": "",
        "category_option_combo": ""})
    assert errors_of(response) == {"__all__": [
        "BX-IP, a target of the same unit, is already this data element and category option "
        "combo: give one of them a category option combo of its own."]}
    # With a combo of its own it is another data value.
    response = admin_client.post(DATA_ELEMENTS, {
        "target": target("BX-OCC").pk, "uid": "fbfJHSPpUQD", "code": "",
        "category_option_combo": "Prlt0C1RF0s"})
    assert response.status_code == 302


def test_targets_of_different_units_share_a_data_element(admin_client):
    DataElementMapping.objects.create(target=target("BX-IP"), code="WORKERS")
    response = admin_client.post(DATA_ELEMENTS, {
        "target": target("BX-OCC").pk, "uid": "", "code": "WORKERS",
        "category_option_combo": ""})
    assert response.status_code == 302
    assert DataElementMapping.objects.filter(code="WORKERS").count() == 2


def test_a_data_element_code_may_not_be_another_targets_code(admin_client):
    response = admin_client.post(DATA_ELEMENTS, {
        "target": target("BX-IP").pk, "uid": "", "code": "BX-OCC", "category_option_combo": ""})
    assert errors_of(response) == {"code": [
        "BX-OCC is the code of the target BX-OCC here: a DHIS2 value for it would be read as "
        "this target's."]}


@pytest.mark.parametrize("model", ["orgunitmapping", "dataelementmapping", "dhis2upload"])
def test_the_admin_lists_load(admin_client, model):
    assert admin_client.get(reverse(f"admin:dhis2_{model}_changelist")).status_code == 200
