"""The audit history: every row names a user (imports, commands, the admin), and a target's
managers see who changed the target and its milestones, and how, on its page."""

from __future__ import annotations

import textwrap
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from targets.models import (
    Area,
    Membership,
    Milestone,
    Plan,
    ProgressEntry,
    Role,
    Target,
    Unit,
)
from targets.services.plans import load_located, plan_import
from tests.conftest import SMALL_PLAN, make_user

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
HISTORIES = [Unit, Plan, Area, Target, Milestone, Membership, ProgressEntry]


def history_rows() -> dict[str, tuple[int, int]]:
    """(rows, rows without a user) of every audited model's history."""
    return {
        model.__name__: (
            model.history.count(), model.history.filter(history_user__isnull=True).count()
        )
        for model in HISTORIES
    }


def operator(username: str = "importer", **extra):
    return get_user_model().objects.create_user(username=username, **extra)


def write_plan(tmp_path: Path, text: str, name: str = "small.yaml") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return str(path)


# --- commands: every row they write names the --user ----------------------------------------


def test_import_plan_records_every_history_row_for_the_user(tmp_path):
    user = operator()
    for name in ("bat-xat-2025-2030.yaml", "ma-lu-thang-2026-2030.yaml"):
        call_command("import_plan", str(FIXTURES / name), "--user", "importer", stdout=None)

    rows = history_rows()
    for model in (Unit, Plan, Area, Target, Milestone):
        total, without_user = rows[model.__name__]
        assert total == model.objects.count() > 0  # one creation each
        assert without_user == 0, model.__name__
        assert set(model.history.values_list("history_user", flat=True)) == {user.pk}
    assert set(Target.history.values_list("history_change_reason", flat=True)) == {
        "import of bat-xat-2025-2030.yaml", "import of ma-lu-thang-2026-2030.yaml"
    }


@pytest.mark.parametrize("username", ["nobody", "retired"])
def test_import_plan_with_an_unknown_or_inactive_user_fails_and_writes_nothing(
    tmp_path, capsys, monkeypatch, username
):
    operator("retired", is_active=False)
    path = write_plan(tmp_path, SMALL_PLAN)

    with pytest.raises(CommandError, match=f"No active user “{username}”; nothing was written"):
        call_command("import_plan", path, "--user", username)
    # From the shell: a message and a non-zero exit status (the command closes the database
    # connections when it ends: not the test's, which holds its transaction).
    monkeypatch.setattr(connections, "close_all", lambda: None)
    with pytest.raises(SystemExit) as exit_status:
        ManagementUtility(["manage.py", "import_plan", path, "--user", username]).execute()
    assert exit_status.value.code != 0
    assert f"No active user “{username}”" in capsys.readouterr().err

    assert Unit.objects.count() == 0 and Target.objects.count() == 0
    assert all(total == 0 for total, _without in history_rows().values())


def test_import_plan_requires_a_user(tmp_path):
    with pytest.raises(CommandError, match="--user"):
        call_command("import_plan", write_plan(tmp_path, SMALL_PLAN))
    assert Unit.objects.count() == 0


CHANGED_PLAN = (
    SMALL_PLAN.replace("target: {value: 2, date: 2030-", "target: {value: 3, date: 2030-")
    .replace("- {date: 2027-12-31, value: 1}", "- {date: 2027-12-31, value: 2}")
)


def test_a_reimport_records_its_changes_with_the_user_and_the_difference(tmp_path):
    first, second = operator("first"), operator("second")
    plan_import(data=load_located(SMALL_PLAN), filename="small.yaml", user=first)
    assert CHANGED_PLAN != SMALL_PLAN

    call_command("import_plan", write_plan(tmp_path, CHANGED_PLAN, "v2.yaml"), "--user", "second")

    latest, before = Target.history.filter(code="BX-IP").order_by("-history_date")[:2]
    assert (latest.history_type, latest.history_user, before.history_user) == ("~", second, first)
    assert latest.history_change_reason == "import of v2.yaml"
    assert [(c.field, c.old, c.new) for c in latest.diff_against(before).changes] == [
        ("target_value", Decimal(2), Decimal(3))
    ]
    milestone = Milestone.objects.get(target__code="BX-IP")
    m_latest, m_before = milestone.history.order_by("-history_date")[:2]
    assert m_latest.history_user == second
    assert [(c.field, c.old, c.new) for c in m_latest.diff_against(m_before).changes] == [
        ("value", Decimal(1), Decimal(2))
    ]
    # The untouched target wrote nothing.
    assert Target.history.filter(code="BX-OCC").count() == 1


def test_a_removed_milestone_is_recorded_with_the_user(tmp_path):
    plan_import(data=load_located(SMALL_PLAN), filename="small.yaml", user=operator("first"))
    second = operator("second")
    milestones = "        milestones:\n          - {date: 2027-12-31, value: 1}\n"
    without = SMALL_PLAN.replace(milestones, "")
    assert without != SMALL_PLAN

    plan_import(data=load_located(without), filename="v2.yaml", user=second)

    removed = Milestone.history.get(history_type="-")
    assert (removed.history_user, removed.date, removed.value) == (
        second, date(2027, 12, 31), Decimal(1)
    )


def test_create_operator_makes_an_account_that_cannot_sign_in(capsys):
    call_command("create_operator", "ops.import")
    call_command("create_operator", "ops.import")  # again: nothing happens

    user = get_user_model().objects.get(username="ops.import")
    assert user.is_active and not user.has_usable_password()
    assert not (user.is_staff or user.is_superuser or user.memberships.exists())
    out = capsys.readouterr().out
    assert "ops.import created" in out and "ops.import exists already" in out
    with pytest.raises(CommandError, match="cannot be a username"):
        call_command("create_operator", "no spaces allowed")


def test_the_demo_commands_record_every_history_row_for_someone(client):
    """`make demo-data`: an operator, the plans, the demo people and entries, an evaluation."""
    call_command("create_operator", "demo.operator", stdout=None)
    for name in ("bat-xat-2025-2030.yaml", "ma-lu-thang-2026-2030.yaml"):
        call_command("import_plan", str(FIXTURES / name), "--user", "demo.operator", stdout=None)
    call_command("load_demo", str(FIXTURES / "demo.yaml"), "--user", "demo.operator", stdout=None)

    rows = history_rows()
    assert all(total > 0 for total, _without in rows.values()), rows
    assert all(without == 0 for _total, without in rows.values()), rows
    demo_operator = get_user_model().objects.get(username="demo.operator")
    assert set(Membership.history.values_list("history_user", flat=True)) == {demo_operator.pk}
    # Owners are set with a history row; entries are recorded for their authors and reviewers.
    owned = Target.history.filter(code="BX-IP").latest("history_date")
    assert owned.owner.username == "bx.econ.staff" and owned.history_user == demo_operator
    approved = ProgressEntry.history.filter(status="approved").select_related("reviewer")
    assert approved.exists()
    assert all(record.history_user == record.reviewer for record in approved)

    # Loading again and evaluating write no history row (the evaluation takes no --user).
    call_command("load_demo", str(FIXTURES / "demo.yaml"), "--user", "demo.operator", stdout=None)
    call_command("evaluate_targets", "--date", "2026-11-24", stdout=None, stderr=None)
    assert history_rows() == rows


def test_load_demo_with_an_unknown_user_writes_nothing(small_plan):
    before = history_rows()
    with pytest.raises(CommandError, match="No active user “nobody”"):
        call_command("load_demo", str(FIXTURES / "demo.yaml"), "--user", "nobody")
    assert not get_user_model().objects.filter(username="admin").exists()
    assert history_rows() == before


# --- the admin: changes name the signed-in user -----------------------------------------------


def inline_management(prefix: str, total: int = 0, initial: int = 0) -> dict[str, int]:
    return {
        f"{prefix}-TOTAL_FORMS": total, f"{prefix}-INITIAL_FORMS": initial,
        f"{prefix}-MIN_NUM_FORMS": 0, f"{prefix}-MAX_NUM_FORMS": 1000,
    }


def test_moving_a_unit_in_the_admin_is_recorded_with_the_admin_and_both_parents(
    client, people
):
    unit = Unit.objects.get(code="LC-BATXAT")
    old_parent, new_parent = Unit.objects.get(code="LC"), Unit.objects.get(code="LCH")
    client.force_login(people["admin"])

    response = client.post(
        reverse("admin:targets_unit_change", args=[unit.pk]),
        {"code": unit.code, "name": unit.name, "name_en": unit.name_en, "parent": new_parent.pk,
         **inline_management("memberships")},
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    latest, before = unit.history.order_by("-history_date")[:2]
    assert latest.history_user == people["admin"]
    assert [(c.field, c.old, c.new) for c in latest.diff_against(before).changes] == [
        ("parent", old_parent.pk, new_parent.pk)
    ]
    history_page = client.get(reverse("admin:targets_unit_history", args=[unit.pk]))
    assert history_page.status_code == 200 and "admin" in history_page.content.decode()


def test_a_membership_added_and_removed_on_the_user_admin_is_recorded_with_the_admin(
    client, people
):
    person = make_user("new.person")
    unit = Unit.objects.get(code="LC-BATXAT")
    client.force_login(people["admin"])
    url = reverse("admin:auth_user_change", args=[person.pk])
    user_fields = {
        "username": person.username, "first_name": "", "last_name": "",
        "email": person.email, "is_active": "on", "date_joined_0": "2026-01-05",
        "date_joined_1": "08:00:00", **inline_management("profile"),
    }

    added = client.post(url, {
        **user_fields, **inline_management("memberships", total=1),
        "memberships-0-unit": unit.pk, "memberships-0-role": Role.STAFF,
    })
    assert added.status_code == 302, added.content.decode()[:3000]
    membership = Membership.objects.get(user=person)
    removed = client.post(url, {
        **user_fields, **inline_management("memberships", total=1, initial=1),
        "memberships-0-id": membership.pk, "memberships-0-user": person.pk,
        "memberships-0-unit": unit.pk, "memberships-0-role": Role.STAFF,
        "memberships-0-DELETE": "on",
    })
    assert removed.status_code == 302, removed.content.decode()[:3000]

    assert not Membership.objects.filter(user=person).exists()
    records = Membership.history.filter(user=person).order_by("history_date")
    assert [(r.history_type, r.unit_id, r.role, r.history_user) for r in records] == [
        ("+", unit.pk, Role.STAFF, people["admin"]),
        ("-", unit.pk, Role.STAFF, people["admin"]),
    ]


@pytest.mark.parametrize("model", ["unit", "plan", "area", "membership", "target"])
def test_the_admin_keeps_a_history_page_for(client, people, model):
    client.force_login(people["admin"])
    obj = {
        "unit": Unit.objects.first, "plan": Plan.objects.first, "area": Area.objects.first,
        "membership": Membership.objects.first, "target": Target.objects.first,
    }[model]()
    response = client.get(reverse(f"admin:targets_{model}_history", args=[obj.pk]))
    assert response.status_code == 200
    assert "plan.operator" in response.content.decode() or model == "membership"


def test_reverting_in_the_admin_needs_the_change_permission(client, people):
    """simple-history saves a posted "Revert" form with the view permission alone."""
    unit = Unit.objects.get(code="LC-BATXAT")
    first = unit.history.earliest("history_date")
    unit.name = "Renamed"
    unit._history_user = people["admin"]
    unit.save()
    viewer = make_user("viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_unit"))
    client.force_login(viewer)
    url = reverse("admin:targets_unit_simple_history", args=[unit.pk, first.history_id])
    assert client.get(url).status_code == 200  # viewing a version stays allowed

    response = client.post(url, {"code": unit.code, "name": "Bat Xat commune", "parent": "",
                                 **inline_management("memberships")})

    assert response.status_code == 403
    unit.refresh_from_db()
    assert (unit.name, unit.parent.code) == ("Renamed", "LC")


# --- the target page: managers see who changed what --------------------------------------------


def change_target(user, code: str = "BX-IP", **values) -> None:
    target = Target.objects.get(code=code)
    for name, value in values.items():
        setattr(target, name, value)
    target._history_user = user
    target.save()


def change_milestone(user, code: str = "BX-IP", value: str = "2") -> None:
    milestone = Milestone.objects.get(target__code=code)
    milestone.value = Decimal(value)
    milestone._history_user = user
    milestone.save()


def changes_html(response) -> str:
    html = response.content.decode()
    start = html.index('id="changes"')
    return html[start: html.index("</section>", start)]


def test_a_manager_sees_who_changed_which_field_from_what_to_what(english, people):
    editor = make_user("editor", first_name="Lan", last_name="Nguyen")
    change_target(
        editor, target_value=Decimal(3), trajectory="linear",
        responsible_unit=Unit.objects.get(code="LC-BATXAT-IND"),
    )
    change_milestone(editor, value="1.5")
    english.force_login(people["manager"])

    response = english.get(reverse("targets:target", args=["BX-IP"]))

    section = changes_html(response)
    assert "Target value</span>: 2 → 3" in section
    assert "Trajectory</span>: Step → Linear" in section  # choices by their labels
    assert "Responsible unit</span>: Bat Xat commune → Industry department" in section
    assert "Expected value</span>: 1 → 1.5" in section
    with translation.override("en"):
        record = Target.history.filter(code="BX-IP").latest("history_date")
        when = date_format(timezone.localtime(record.history_date), "SHORT_DATETIME_FORMAT")
        milestone_day = date_format(date(2027, 12, 31), "SHORT_DATE_FORMAT")
    assert when in section and "Nguyen Lan" in section  # family name first
    assert f"Milestone of {milestone_day}" in section
    # Newest first: the milestone was changed after the target, the import came before both.
    assert section.index("Expected value") < section.index("Target value")
    assert section.index("Target value") < section.index("Created")
    assert "plan.operator" in section


def test_the_changes_are_shown_in_vietnamese_formats(client, people):
    change_target(make_user("editor"), baseline_value=Decimal("1234.5"))
    client.force_login(people["province"])  # a manager of an ancestor unit

    section = changes_html(client.get(reverse("targets:target", args=["BX-IP"])))

    assert "0 → 1.234,5" in section


def test_staff_do_not_see_the_changes(client, people):
    change_target(make_user("editor"), target_value=Decimal(3))
    client.force_login(people["staff"])

    response = client.get(reverse("targets:target", args=["BX-IP"]))

    assert response.status_code == 200
    assert 'id="changes"' not in response.content.decode()


def test_a_superuser_sees_the_changes_and_where_older_ones_are(english, people):
    editor = make_user("editor")
    for value in range(3, 3 + 60):
        change_target(editor, target_value=Decimal(value))
    english.force_login(people["admin"])

    response = english.get(reverse("targets:target", args=["BX-IP"]))

    section = changes_html(response)
    assert section.count('class="change"') == 50
    assert "Target value</span>: 61 → 62" in section
    assert "The latest 50 changes are shown." in section
    target = Target.objects.get(code="BX-IP")
    assert reverse("admin:targets_target_history", args=[target.pk]) in section


def test_the_page_reads_the_changes_in_a_fixed_number_of_queries(
    client, people, django_assert_max_num_queries
):
    editor = make_user("editor")
    client.force_login(people["manager"])
    url = reverse("targets:target", args=["BX-IP"])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    units = list(Unit.objects.all())
    # One change of each kind: a number, a unit and an owner (named), a milestone (diffed).
    change_target(editor, target_value=Decimal(3), responsible_unit=units[2],
                  owner=people["staff"])
    change_milestone(editor, value="2")
    few = queries()
    for i in range(40):
        change_target(editor, target_value=Decimal(4 + i), responsible_unit=units[i % 2 + 1],
                      owner=people["staff"] if i % 2 else None)
        change_milestone(editor, value=str(i % 3))
    many = queries()

    assert many == few
    with django_assert_max_num_queries(few):
        client.get(url)


def test_the_workflow_names_who_did_each_step_without_a_request(people):
    """Services called outside a request (a command, a worker, the API to come) still put
    the acting user on every history row of an entry."""
    from targets.services import entries as workflow
    from tests.conftest import submitted_entry

    entry = submitted_entry(people["staff"])
    workflow.entries_approve(user=people["manager"], entry_ids=[entry.pk], reassess=None)
    rows = list(
        ProgressEntry.history.filter(id=entry.pk)
        .order_by("history_date")
        .values_list("status", "history_user__username")
    )
    assert rows == [
        ("draft", "bx.staff"), ("submitted", "bx.staff"), ("approved", "bx.manager"),
    ]
