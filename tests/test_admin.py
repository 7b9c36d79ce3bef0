"""The admin a provincial administrator uses to set up plans."""

import pytest
from django.urls import reverse

from targets.models import Target

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "model", ["unit", "membership", "plan", "area", "target", "progressentry", "assessment"]
)
def test_admin_lists_load_for_an_administrator(client, people, model):
    client.force_login(people["admin"])
    response = client.get(reverse(f"admin:targets_{model}_changelist"))
    assert response.status_code == 200


def test_target_form_has_milestone_inline_and_history(client, people):
    client.force_login(people["admin"])
    target = Target.objects.get(code="BX-IP")
    response = client.get(reverse("admin:targets_target_change", args=[target.pk]))
    assert response.status_code == 200
    assert b"milestones-0-date" in response.content
    history = client.get(reverse("admin:targets_target_history", args=[target.pk]))
    assert history.status_code == 200


def test_target_search_and_status_filter(client, people):
    client.force_login(people["admin"])
    response = client.get(reverse("admin:targets_target_changelist"), {"q": "Occupancy"})
    assert b"BX-OCC" in response.content and b"BX-IP" not in response.content


def test_admin_bulk_approve_goes_through_the_workflow(client, people):
    from targets.models import ProgressEntry
    from targets.services import entries as workflow

    target = Target.objects.select_related("responsible_unit").get(code="BX-IP")
    entry = workflow.entry_submit(
        user=people["staff"],
        entry=workflow.entry_save_draft(
            user=people["staff"], target=target, period="2025-Q3", value="0"
        ),
    )
    own = workflow.entry_submit(
        user=people["admin"],
        entry=workflow.entry_save_draft(
            user=people["admin"], target=target, period="2025-Q4", value="0"
        ),
    )
    client.force_login(people["admin"])
    client.post(
        reverse("admin:targets_progressentry_changelist"),
        {"action": "approve_selected", "_selected_action": [entry.pk, own.pk]},
    )
    assert ProgressEntry.objects.get(pk=entry.pk).status == "approved"
    assert ProgressEntry.objects.get(pk=own.pk).status == "submitted"  # not their own


def _admin_target_form(rf, people, target, **changes):
    from django.contrib import admin
    from django.forms.models import model_to_dict

    request = rf.get("/")
    request.user = people["admin"]
    form_class = admin.site._registry[Target].get_form(request, target)
    data = {k: v for k, v in model_to_dict(target).items() if v is not None}
    data.update(changes)
    return form_class(data=data, instance=target)


def test_the_admin_offers_and_saves_a_smooth_trajectory(client, rf, people):
    client.force_login(people["admin"])
    target = Target.objects.get(code="BX-OCC")
    page = client.get(reverse("admin:targets_target_change", args=[target.pk]))
    assert b'<option value="smooth">' in page.content
    form = _admin_target_form(rf, people, target, trajectory="smooth")
    assert form.is_valid(), form.errors
    form.save()
    assert Target.objects.get(code="BX-OCC").trajectory == "smooth"


def test_the_admin_refuses_dates_the_rules_are_not_meant_for(rf, people, in_english):
    target = Target.objects.get(code="BX-OCC")
    form = _admin_target_form(rf, people, target, due_date="2300-12-31")
    assert not form.is_valid()
    assert form.errors["due_date"] == ["A date between 1900-01-01 and 2200-12-31, please."]
    target = Target.objects.get(code="BX-OCC")  # the form changed the instance it was given
    form = _admin_target_form(
        rf, people, target, frequency="monthly", baseline_date="1950-12-31"
    )
    assert not form.is_valid()
    # 1951-01 … 2030-12: 80 years of months = 960 periods.
    assert "960 reporting periods" in form.errors["frequency"][0]
