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
