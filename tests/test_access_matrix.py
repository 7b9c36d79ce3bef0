"""Who may make which workflow transition: every role × every action, asked and enforced.

BX-IP belongs to the commune LC-BATXAT (parent: the province LC). The entry is written by the
commune's staff member; the others are a colleague (other staff of the commune), the
commune's manager, the province's manager, the manager of a sibling commune and a superuser.
For each, ``targets.access`` answers the question the screens ask, and the service does what
that answer says: it makes the change, or raises NotAllowed and writes nothing.
"""

from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from targets import access
from targets.errors import ImportFailed, NotAllowed, WorkflowError
from targets.models import EntryStatus, ProgressEntry, Role, Target, Unit
from targets.services import entries as workflow
from targets.services import imports as importing
from tests.alerting import RULES
from tests.conftest import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]

PERIOD = "2026-Q1"


@pytest.fixture
def roles(people, small_plan):
    sibling = Unit.objects.create(
        code="LC-MUONGHUM", name="Muong Hum commune", parent=small_plan["LC"]
    )
    return {
        "staff": people["staff"],
        "colleague": people["staff2"],
        "unit manager": people["manager"],
        "parent's manager": people["province"],
        "sibling's manager": make_user("mh.manager", [(sibling, Role.MANAGER)]),
        "superuser": people["admin"],
    }


def ip() -> Target:
    return Target.objects.select_related("responsible_unit").get(code="BX-IP")


def save(user, value="1", **kwargs) -> ProgressEntry:
    return workflow.entry_save_draft(
        user=user, target_id=ip().pk, period=PERIOD, value=value, **kwargs
    )


def fresh(entry: ProgressEntry) -> ProgressEntry:
    return ProgressEntry.objects.select_related("target__responsible_unit").get(pk=entry.pk)


# Each action: how the entry is prepared (by the staff member), what access says, what the
# service does, and the state it leaves when allowed.


def _draft(people):
    return save(people["staff"])


def _submitted(people):
    return workflow.entry_submit(user=people["staff"], entry_id=_draft(people).pk)


def _returned(people):
    entry = _submitted(people)
    return workflow.entry_return(user=people["province"], entry_id=entry.pk, comment="Check it")


ACTIONS = {
    # action: (prepare, question, service, state after)
    "draft": (
        _draft,
        access.may_edit_entry,
        lambda user, entry: save(user, value="2"),
        EntryStatus.DRAFT,
    ),
    "submit": (
        _draft,
        access.may_submit_entry,
        lambda user, entry: workflow.entry_submit(user=user, entry_id=entry.pk),
        EntryStatus.SUBMITTED,
    ),
    "approve": (
        _submitted,
        access.may_approve_entry,
        lambda user, entry: workflow.entry_approve(user=user, entry_id=entry.pk, reassess=None),
        EntryStatus.APPROVED,
    ),
    "return": (
        _submitted,
        access.may_return_entry,
        lambda user, entry: workflow.entry_return(user=user, entry_id=entry.pk, comment="Why?"),
        EntryStatus.RETURNED,
    ),
    "edit returned": (
        _returned,
        access.may_edit_entry,
        lambda user, entry: save(user, value="2"),
        EntryStatus.RETURNED,
    ),
}

ALLOWED = {
    # role: the actions it may take on the staff member's entry of BX-IP
    "staff": {"draft", "submit", "edit returned"},  # not approve or return: it is theirs
    "colleague": {"draft", "submit", "edit returned"},  # staff do not review
    "unit manager": {"draft", "submit", "approve", "return", "edit returned"},
    "parent's manager": {"draft", "submit", "approve", "return", "edit returned"},
    "sibling's manager": set(),  # another commune's target
    "superuser": {"draft", "submit", "approve", "return", "edit returned"},
}


@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("role", list(ALLOWED))
def test_role_action_matrix(roles, people, role, action):
    prepare, question, service, state_after = ACTIONS[action]
    user = roles[role]
    entry = fresh(prepare(people))
    allowed = action in ALLOWED[role]

    assert question(user, entry) is allowed

    if allowed:
        changed = service(user, entry)
        assert changed.status == state_after
        assert fresh(entry).version == entry.version + 1
    else:
        with pytest.raises(NotAllowed):
            service(user, entry)
        after = fresh(entry)
        assert (after.status, after.value, after.version) == (
            entry.status, entry.value, entry.version
        )


@pytest.mark.parametrize("role", list(ALLOWED))
def test_who_may_enter_the_first_entry_of_a_period(roles, role):
    user = roles[role]
    allowed = "draft" in ALLOWED[role]
    assert access.can_enter(user, ip()) is allowed
    if allowed:
        assert save(user).author == user
    else:
        with pytest.raises(NotAllowed):
            save(user)
        assert not ProgressEntry.objects.exists()


# --- edited it, so may not approve it -----------------------------------------------------

REVIEWERS = ["unit manager", "parent's manager", "superuser"]


def _assert_may_not_review(user, entry: ProgressEntry, why: str) -> None:
    entry = fresh(entry)
    assert not access.may_approve_entry(user, entry)
    assert not access.may_return_entry(user, entry)
    assert access.review_refusal(user, entry) == why
    with pytest.raises(NotAllowed, match=why):
        workflow.entry_approve(user=user, entry_id=entry.pk, reassess=None)
    with pytest.raises(NotAllowed, match=why):
        workflow.entry_return(user=user, entry_id=entry.pk, comment="mine")
    assert fresh(entry).status == EntryStatus.SUBMITTED


def _another_reviewer_approves(roles, role: str, entry: ProgressEntry) -> None:
    other = roles["parent's manager" if role != "parent's manager" else "unit manager"]
    assert access.may_approve_entry(other, fresh(entry))
    approved = workflow.entry_approve(user=other, entry_id=entry.pk, reassess=None)
    assert (approved.status, approved.reviewer) == (EntryStatus.APPROVED, other)


@pytest.mark.parametrize("role", REVIEWERS)
def test_a_reviewer_who_changed_the_draft_may_not_approve_it(roles, people, role):
    user = roles[role]
    entry = _draft(people)
    save(user, value="2")  # a correction: the reviewer is now its last editor
    workflow.entry_submit(user=people["staff"], entry_id=entry.pk)
    _assert_may_not_review(user, entry, "You set this value: another manager approves it.")
    _another_reviewer_approves(roles, role, entry)
    assert fresh(entry).value == Decimal(2)


@pytest.mark.parametrize("role", REVIEWERS)
def test_a_reviewer_who_submitted_the_entry_may_not_approve_it(roles, people, role):
    user = roles[role]
    entry = _draft(people)
    workflow.entry_submit(user=user, entry_id=entry.pk)
    _assert_may_not_review(user, entry, "You submitted this entry: another manager approves it.")
    _another_reviewer_approves(roles, role, entry)


@pytest.mark.parametrize("role", REVIEWERS)
def test_a_reviewer_who_fixed_a_returned_entry_may_not_approve_it(roles, people, role):
    user = roles[role]
    entry = _returned(people)
    save(user, value="2")
    workflow.entry_submit(user=people["staff"], entry_id=entry.pk)
    _assert_may_not_review(user, entry, "You set this value: another manager approves it.")
    _another_reviewer_approves(roles, role, entry)


def test_the_author_may_not_approve_even_when_someone_else_set_the_value(roles, people):
    entry = save(people["manager"], value="1")  # the manager writes it …
    save(people["staff"], value="2")  # … staff correct it and submit it
    workflow.entry_submit(user=people["staff"], entry_id=entry.pk)
    _assert_may_not_review(
        people["manager"], entry, "This is your own entry: another manager approves it."
    )


def test_saving_an_unchanged_draft_does_not_make_the_reviewer_its_editor(roles, people):
    entry = _draft(people)
    save(people["manager"], value="1")  # nothing changed: nothing written
    workflow.entry_submit(user=people["staff"], entry_id=entry.pk)
    assert access.may_approve_entry(people["manager"], fresh(entry))


def test_a_manager_who_imports_over_a_draft_may_not_approve_it(roles, people):
    entry = _draft(people)
    content = f"target,period,value\nBX-IP,{PERIOD},5\n".encode()
    # Refusing to import over someone else's draft keeps four eyes too.
    with contextlib.suppress(ImportFailed):
        importing.entries_import(
            user=people["manager"], content=content, filename="over.csv", status="submitted",
            reassess=RULES,
        )
    after = fresh(entry)
    if after.value == Decimal(5):
        assert people["manager"].pk in (after.last_editor_id, after.submitted_by_id)
    with pytest.raises((NotAllowed, WorkflowError)):
        workflow.entry_approve(user=people["manager"], entry_id=entry.pk, reassess=None)
    assert fresh(entry).status != EntryStatus.APPROVED


@pytest.mark.parametrize("column", ["author", "last_editor", "submitted_by"])
def test_the_database_refuses_an_approval_by_whoever_had_a_hand_in_it(people, column):
    entry = _submitted(people)
    ProgressEntry.objects.filter(pk=entry.pk).update(**{column: people["manager"]})
    with pytest.raises(IntegrityError), transaction.atomic():
        ProgressEntry.objects.filter(pk=entry.pk).update(
            status=EntryStatus.APPROVED, reviewer=people["manager"]
        )
    assert fresh(entry).status == EntryStatus.SUBMITTED


# --- the periodic report (issue 13): whose report each role may download ---------------------

REPORTABLE = {
    # role: the units whose report it may download (a unit's report covers its subtree)
    "staff": {"LC-BATXAT"},  # their own unit's, not the department's below it
    "colleague": {"LC-BATXAT"},
    "unit manager": {"LC-BATXAT", "LC-BATXAT-IND"},
    "parent's manager": {"LC", "LC-BATXAT", "LC-BATXAT-IND", "LC-MUONGHUM"},
    "sibling's manager": {"LC-MUONGHUM"},
    "superuser": {"LC", "LC-BATXAT", "LC-BATXAT-IND", "LC-MUONGHUM", "LCH"},
}


@pytest.mark.parametrize("role", list(REPORTABLE))
def test_who_may_download_the_report_of_which_unit(roles, role):
    user = roles[role]
    assert set(access.units_reportable_by(user).values_list("code", flat=True)) == (
        REPORTABLE[role]
    )
    for unit in Unit.objects.all():
        assert access.can_report(user, unit) is (unit.code in REPORTABLE[role]), unit.code


# --- the investment register (issue 14): whose projects each role sees -------------------------

PROJECTS_SEEN = {
    # role: the units whose projects it sees (as the status table: the memberships' subtrees)
    "staff": {"LC-BATXAT", "LC-BATXAT-IND"},
    "colleague": {"LC-BATXAT", "LC-BATXAT-IND"},
    "unit manager": {"LC-BATXAT", "LC-BATXAT-IND"},
    "parent's manager": {"LC", "LC-BATXAT", "LC-BATXAT-IND", "LC-MUONGHUM"},
    "sibling's manager": {"LC-MUONGHUM"},
    "superuser": {"LC", "LC-BATXAT", "LC-BATXAT-IND", "LC-MUONGHUM", "LCH"},
}


@pytest.mark.parametrize("role", list(PROJECTS_SEEN))
def test_who_sees_the_projects_of_which_unit(roles, role):
    from datetime import date

    from register.models import Project

    for unit in Unit.objects.all():
        Project.objects.create(
            code=f"P-{unit.code}", name=f"Dự án {unit.code}", investor="Công ty",
            investor_country="VN", sector="trade", unit=unit, registered_capital=1,
            stage="proposed", stage_date=date(2026, 1, 1),
        )
    seen = set(access.projects_visible_to(roles[role]).values_list("unit__code", flat=True))
    assert seen == PROJECTS_SEEN[role]
