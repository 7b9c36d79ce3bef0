"""Scoping (targets/access.py): who sees, enters and reviews which targets."""

import pytest

from targets import access
from targets.models import Target

pytestmark = pytest.mark.django_db


def codes(queryset) -> set[str]:
    return set(queryset.values_list("code", flat=True))


def test_visibility_follows_the_unit_subtree(people):
    assert codes(access.targets_visible_to(people["staff"])) == {"BX-IP", "BX-OCC"}
    assert codes(access.targets_visible_to(people["dept_staff"])) == {"BX-OCC"}
    assert codes(access.targets_visible_to(people["province"])) == {"BX-IP", "BX-OCC"}
    assert codes(access.targets_visible_to(people["outsider"])) == set()
    assert codes(access.targets_visible_to(people["admin"])) == {"BX-IP", "BX-OCC"}


def test_anonymous_users_see_nothing(people):
    from django.contrib.auth.models import AnonymousUser

    assert codes(access.targets_visible_to(AnonymousUser())) == set()
    assert not access.can_enter(AnonymousUser(), Target.objects.get(code="BX-IP"))


def test_staff_enter_for_their_own_unit_managers_for_their_subtree(people):
    assert codes(access.targets_enterable_by(people["staff"])) == {"BX-IP"}
    assert codes(access.targets_enterable_by(people["dept_staff"])) == {"BX-OCC"}
    assert codes(access.targets_enterable_by(people["manager"])) == {"BX-IP", "BX-OCC"}
    assert codes(access.targets_enterable_by(people["outsider"])) == set()


def test_only_managers_review(people):
    assert codes(access.targets_reviewable_by(people["staff"])) == set()
    assert codes(access.targets_reviewable_by(people["manager"])) == {"BX-IP", "BX-OCC"}
    assert codes(access.targets_reviewable_by(people["province"])) == {"BX-IP", "BX-OCC"}
    assert codes(access.targets_reviewable_by(people["outsider"])) == set()


def test_a_unit_code_that_prefixes_another_does_not_leak(people, small_plan):
    # Paths end with "/", so LC/ does not match a sibling root named LCX.
    from targets.models import Unit

    Unit.objects.create(code="LCX", name="Elsewhere")
    assert codes(access.targets_visible_to(people["province"])) == {"BX-IP", "BX-OCC"}
    assert Unit.objects.get(code="LCX").path == "LCX/"
    assert set(access.units_visible_to(people["province"]).values_list("code", flat=True)) == {
        "LC", "LC-BATXAT", "LC-BATXAT-IND"
    }
