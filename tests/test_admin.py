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


def _entry(author, period: str, value: str = "0", submit: bool = True):
    from targets.services import entries as workflow

    target = Target.objects.get(code="BX-IP")
    entry = workflow.entry_save_draft(user=author, target_id=target.pk, period=period, value=value)
    if submit:
        entry = workflow.entry_submit(user=author, entry_id=entry.pk)
    return entry


def test_admin_bulk_approve_goes_through_the_workflow(client, people, in_english):
    from targets.models import ProgressEntry

    entry = _entry(people["staff"], "2025-Q3")
    own = _entry(people["admin"], "2025-Q4")
    corrected = _entry(people["staff"], "2026-Q1", submit=False)
    _entry(people["admin"], "2026-Q1", value="1", submit=False)  # the admin corrects the value
    corrected = _submit(people["staff"], corrected)
    client.force_login(people["admin"])
    client.cookies["django_language"] = "en"
    response = client.post(
        reverse("admin:targets_progressentry_changelist"),
        {"action": "approve_selected", "_selected_action": [entry.pk, own.pk, corrected.pk]},
        follow=True,
    )
    assert ProgressEntry.objects.get(pk=entry.pk).status == "approved"
    assert ProgressEntry.objects.get(pk=own.pk).status == "submitted"  # not their own
    assert ProgressEntry.objects.get(pk=corrected.pk).status == "submitted"  # nor their value
    shown = [str(m) for m in response.context["messages"]]
    assert "BX-IP 2025-Q4: You set this value: another manager approves it." in shown
    assert "BX-IP 2026-Q1: You set this value: another manager approves it." in shown
    assert "1 entries approved." in shown
    # The approval re-assessed the target, as on the review screen.
    assert Target.objects.get(code="BX-IP").latest_assessment is not None


def _submit(user, entry):
    from targets.services import entries as workflow

    return workflow.entry_submit(user=user, entry_id=entry.pk)


def test_the_admin_cannot_change_an_entry_past_the_workflow(client, people):
    from targets.models import ProgressEntry

    entry = _entry(people["staff"], "2025-Q3", value="0")
    client.force_login(people["admin"])
    change = reverse("admin:targets_progressentry_change", args=[entry.pk])
    page = client.get(change)
    assert page.status_code == 200 and b'name="value"' not in page.content
    assert client.post(change, {"value": "2", "status": "approved"}).status_code == 403
    # The history's "revert" would save an old version (a draft, value 0) over it.
    first = ProgressEntry.history.filter(id=entry.pk).order_by("history_id").first()
    revert = reverse(
        "admin:targets_progressentry_simple_history", args=[entry.pk, first.history_id]
    )
    assert client.get(revert).status_code == 200
    assert client.post(revert, {"value": "2", "period": "2025-Q3"}).status_code == 403
    stored = ProgressEntry.objects.get(pk=entry.pk)
    assert (stored.status, stored.value, stored.version) == ("submitted", 0, 2)


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


def test_the_admin_shows_the_calendar_and_saves_a_working_day_deadline(client, rf, people):
    client.force_login(people["admin"])
    target = Target.objects.get(code="BX-OCC")
    page = client.get(reverse("admin:targets_target_change", args=[target.pk]))
    assert b'name="deadline_working_days"' in page.content
    assert "Kỳ theo lịch".encode() in page.content  # the plan's calendar, read only
    assert b'name="reporting_calendar"' not in page.content
    plan = client.get(reverse("admin:targets_plan_change", args=[target.plan_id]))
    assert "Kỳ theo lịch".encode() in plan.content
    form = _admin_target_form(rf, people, target, deadline_working_days="2")
    assert form.is_valid(), form.errors
    form.save()
    assert Target.objects.get(code="BX-OCC").deadline_working_days == 2
    target = Target.objects.get(code="BX-OCC")
    form = _admin_target_form(rf, people, target, deadline_working_days="101")
    assert not form.is_valid()
    assert "deadline_working_days" in form.errors


def test_a_target_takes_its_plans_calendar_unless_its_entries_speak_for_another(people,
                                                                                in_english):
    from django.core.exceptions import ValidationError

    from targets.models import Plan
    from tests.alerting import report

    target = Target.objects.get(code="BX-OCC")
    Plan.objects.filter(pk=target.plan_id).update(reporting_calendar="decree_09")
    target = Target.objects.get(code="BX-OCC")
    target.clean()
    assert target.reporting_calendar == "decree_09"
    target = Target.objects.get(code="BX-OCC")
    report("BX-OCC", "2025-Q3", 22, author=people["dept_staff"])
    with pytest.raises(ValidationError) as refused:
        target.clean()
    assert refused.value.message_dict["plan"] == [
        "This target has entries for the periods of another reporting calendar: it cannot "
        "move to a plan on Decree 09/2019 cut-off periods (15th – 14th)."
    ]
