"""Who may see and do what — the one place scoping lives (DESIGN §2).

A membership gives a role on a unit. Managers act on their unit's whole
subtree; staff enter progress for the targets of their own unit. Superusers
(the provincial administrators) see everything, but nobody approves their own
entry.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from targets.models import (
    EntryStatus,
    ExplanationAnswer,
    ExplanationRequest,
    ExplanationState,
    Membership,
    Plan,
    ProgressEntry,
    Role,
    Target,
    Unit,
)

User = AbstractBaseUser | AnonymousUser


def _paths(user: User, role: Role | None = None) -> list[str]:
    """The materialised paths of the units the user has a membership on (with ``role``)."""
    if not user.is_authenticated:
        return []
    # Read once per user object, as Django's ModelBackend caches permissions: a screen asks
    # for every entry it lists whether the user may act on it.
    cached = getattr(user, "_membership_paths", None)
    if cached is None:
        cached = list(Membership.objects.filter(user=user).values_list("role", "unit__path"))
        user._membership_paths = cached
    return [path for member_role, path in cached if role is None or member_role == role]


def _under_any(field: str, paths: list[str]) -> Q:
    """Rows whose ``field`` (a unit path) lies in the subtree of any of ``paths``."""
    condition = Q(pk__in=[])
    for path in paths:
        condition |= Q(**{f"{field}__startswith": path})
    return condition


def units_visible_to(user: User) -> QuerySet[Unit]:
    if getattr(user, "is_superuser", False):
        return Unit.objects.all()
    return Unit.objects.filter(_under_any("path", _paths(user)))


def units_managed_by(user: User) -> QuerySet[Unit]:
    """The units of the user's manager memberships and everything below them (all for a
    superuser): the rows of the completeness screen, the units one may remind."""
    if getattr(user, "is_superuser", False):
        return Unit.objects.all()
    return Unit.objects.filter(_under_any("path", _paths(user, Role.MANAGER)))


def can_remind(user: User, unit: Unit) -> bool:
    """Remind a unit of its reports: a manager whose subtree holds it, or a superuser."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return _covers(_paths(user, Role.MANAGER), unit.path)


def targets_visible_to(user: User) -> QuerySet[Target]:
    """Every member sees the targets of their units' subtrees (staff read, managers review)."""
    if getattr(user, "is_superuser", False):
        return Target.objects.all()
    return Target.objects.filter(_under_any("responsible_unit__path", _paths(user)))


def plans_public() -> QuerySet[Plan]:
    """The plans an administrator published: anyone reads their public pages, signed in or
    not, whatever their memberships."""
    return Plan.objects.filter(public=True)


def targets_public() -> QuerySet[Target]:
    """The targets of the published plans (what their public pages may show of them is
    decided there: approved progress only)."""
    return Target.objects.filter(plan__public=True)


def targets_enterable_by(user: User) -> QuerySet[Target]:
    """Targets the user may enter progress for: staff of the exact unit, managers of a subtree;
    never a target that takes its actual from the register."""
    entered = Target.objects.filter(register_measure__isnull=True)
    if getattr(user, "is_superuser", False):
        return entered
    staff_paths = _paths(user, Role.STAFF)
    manager_paths = _paths(user, Role.MANAGER)
    return entered.filter(
        Q(responsible_unit__path__in=staff_paths)
        | _under_any("responsible_unit__path", manager_paths)
    )


def targets_reviewable_by(user: User) -> QuerySet[Target]:
    """Targets whose entries the user may approve or return: managers of a subtree."""
    if getattr(user, "is_superuser", False):
        return Target.objects.all()
    return Target.objects.filter(
        _under_any("responsible_unit__path", _paths(user, Role.MANAGER))
    )


def _covers(paths: list[str], unit_path: str) -> bool:
    return any(unit_path.startswith(path) for path in paths)


def can_enter_for(user: User, unit: Unit) -> bool:
    """Report for ``unit``: its staff, or a manager of it or above (a target's entries, a
    project's reports)."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return unit.path in _paths(user, Role.STAFF) or _covers(_paths(user, Role.MANAGER), unit.path)


def can_review_for(user: User, unit: Unit) -> bool:
    """Approve or return what ``unit`` reports: a manager of it or above."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return _covers(_paths(user, Role.MANAGER), unit.path)


def counts_itself(target: Target) -> bool:
    """Whether the target takes its actual from the investment register (no entries)."""
    from register.models import TargetMeasure

    return TargetMeasure.objects.filter(target_id=target.pk).exists()


def can_enter(user: User, target: Target) -> bool:
    return can_enter_for(user, target.responsible_unit)


def can_review(user: User, target: Target) -> bool:
    return can_review_for(user, target.responsible_unit)


def may_review_any(user: User) -> bool:
    """Whether the user may use the review queue at all: a manager somewhere, or a superuser."""
    if not user.is_authenticated:
        return False
    return bool(user.is_superuser or _paths(user, Role.MANAGER))


# --- what a user may do with one entry: the one home of the workflow's permissions ----------
# Services enforce these; views, templates, the importer and the admin ask them. Four eyes:
# whoever wrote the entry, last set its value or submitted it may not approve or return it.
# A manager may correct a value, but that makes him its last editor: another manager reviews
# it. The database refuses such an approval too (ProgressEntry's constraints).

EDITABLE = (EntryStatus.DRAFT, EntryStatus.RETURNED)


def set_value_or_submitted(user: User, entry: ProgressEntry) -> bool:
    """Whether ``user`` wrote the entry, last set its value or submitted it (four eyes)."""
    return user.pk is not None and user.pk in (
        entry.author_id, entry.last_editor_id, entry.submitted_by_id
    )


def four_eyes_refusal(user: User, entry: ProgressEntry) -> str:
    """Why ``user`` may not review the entry they had a hand in ("" when they had none)."""
    if user.pk is None:
        return ""
    if user.pk == entry.last_editor_id:
        return _("You set this value: another manager approves it.")
    if user.pk == entry.submitted_by_id:
        return _("You submitted this entry: another manager approves it.")
    if user.pk == entry.author_id:
        return _("This is your own entry: another manager approves it.")
    return ""


def review_refusal(user: User, entry: ProgressEntry) -> str:
    """Why ``user`` may not approve or return the entry as it stands ("" when they may)."""
    if entry.status != EntryStatus.SUBMITTED:
        return _("This entry is not waiting for review.")
    if not can_review(user, entry.target):
        return _("You may not review this entry.")
    return four_eyes_refusal(user, entry)


def may_edit_entry(user: User, entry: ProgressEntry) -> bool:
    """Change the value, note or evidence of a draft or returned entry (and then submit it)."""
    return entry.status in EDITABLE and can_enter(user, entry.target)


def may_submit_entry(user: User, entry: ProgressEntry) -> bool:
    return may_edit_entry(user, entry)


def may_review_entry(user: User, entry: ProgressEntry) -> bool:
    """Approve or return a submitted entry: a manager of the target's unit (or above), or a
    superuser, who did not write, set or submit its value."""
    return not review_refusal(user, entry)


may_approve_entry = may_review_entry
may_return_entry = may_review_entry


# --- explanation requests (issue 13): who asks, who answers, who decides ---------------------
# Services enforce these; the target page asks them to show its forms. A manager whose scope
# covers the target asks and decides; the responsible unit's own members (staff or managers of
# that very unit) answer; nobody accepts or asks again after an answer they wrote (four eyes).


def can_ask_explanation(user: User, target: Target) -> bool:
    return can_review(user, target)


def is_unit_member(user: User, target: Target) -> bool:
    """A member (staff or manager) of the target's responsible unit itself."""
    if not user.is_authenticated:
        return False
    return target.responsible_unit.path in _paths(user)


def answer_refusal(user: User, request: ExplanationRequest) -> str:
    """Why ``user`` may not answer the explanation request ("" when they may)."""
    if not is_unit_member(user, request.target):
        return _("Only the staff and managers of %(unit)s answer this request.") % {
            "unit": request.target.responsible_unit.localized("name")}
    if request.state != ExplanationState.OPEN:
        return _("This request is not waiting for an answer.")
    return ""


def decision_refusal(
    user: User, request: ExplanationRequest, answer: ExplanationAnswer | None
) -> str:
    """Why ``user`` may not accept the answer or ask again ("" when they may)."""
    if not can_review(user, request.target):
        return _("You may not decide on this explanation.")
    if request.state != ExplanationState.ANSWERED or answer is None:
        return _("This request has no answer waiting for a decision.")
    if user.pk == answer.author_id:
        return _("You wrote this answer: another manager accepts it or asks again.")
    return ""


# --- the periodic report (issue 13): who issues it for a unit -------------------------------
# The report of a unit covers its subtree: its managers and the managers above them issue it;
# its staff may download their own unit's (to prepare the head's signature), not a unit's below.


def units_reportable_by(user: User) -> QuerySet[Unit]:
    """The units whose periodic report the user may download."""
    if getattr(user, "is_superuser", False):
        return Unit.objects.all()
    return Unit.objects.filter(
        Q(path__in=_paths(user, Role.STAFF)) | _under_any("path", _paths(user, Role.MANAGER))
    )


def can_report(user: User, unit: Unit) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return unit.path in _paths(user, Role.STAFF) or _covers(_paths(user, Role.MANAGER), unit.path)


# --- the investment register (issue 14): projects are seen like targets, by unit -------------
# Every member sees the projects of their units' subtrees (the status table's rule).


def projects_visible_to(user: User) -> QuerySet:
    from register.models import Project  # the register app sits on top of this one

    if getattr(user, "is_superuser", False):
        return Project.objects.all()
    return Project.objects.filter(_under_any("unit__path", _paths(user)))


def projects_enterable_by(user: User) -> QuerySet:
    """Projects whose reports the user may write: staff of the exact unit, managers above."""
    from register.models import Project

    if getattr(user, "is_superuser", False):
        return Project.objects.all()
    return Project.objects.filter(
        Q(unit__path__in=_paths(user, Role.STAFF))
        | _under_any("unit__path", _paths(user, Role.MANAGER))
    )


def projects_reviewable_by(user: User) -> QuerySet:
    """Projects whose reports the user may approve or return: managers of a subtree."""
    from register.models import Project

    if getattr(user, "is_superuser", False):
        return Project.objects.all()
    return Project.objects.filter(_under_any("unit__path", _paths(user, Role.MANAGER)))


# --- IATI results (issue 15): a plan's results are published by its managers -----------------
# A plan is seen through its targets: one the user sees makes the plan visible (404 otherwise).
# Its managers download it: a manager whose subtree holds one of its targets, or a superuser
# (staff who see the plan get 403). The document holds the targets the user sees.


def plans_visible_to(user: User) -> QuerySet[Plan]:
    if getattr(user, "is_superuser", False):
        return Plan.objects.all()
    return Plan.objects.filter(Exists(targets_visible_to(user).filter(plan=OuterRef("pk"))))


def can_publish_plan(user: User, plan: Plan) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return targets_reviewable_by(user).filter(plan=plan).exists()
