"""The reads of the IATI export: the plans a user may ask for, and a plan's targets with all
the document needs, in a fixed number of queries whatever the number of targets or entries."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from targets import access
from targets.access import User
from targets.models import EntryStatus, Plan, ProgressEntry, Target


def iati_plans(*, user: User | None) -> QuerySet[Plan]:
    """The plans ``user`` sees (every plan without a user: the operator's command)."""
    plans = Plan.objects.all() if user is None else access.plans_visible_to(user)
    return plans.select_related("unit", "iati_activity")


def iati_targets(*, plan: Plan, user: User | None) -> list[Target]:
    """The plan's targets ``user`` sees (all without a user), with their areas, milestones and
    approved entries only (``approved_entries``): no draft, submitted or returned value."""
    targets = Target.objects.all() if user is None else access.targets_visible_to(user)
    approved = (
        ProgressEntry.objects.filter(status=EntryStatus.APPROVED)
        .only("target_id", "period", "period_end", "value")
        .order_by("period_end")
    )
    return list(
        targets.filter(plan=plan)
        .select_related("area")
        .prefetch_related(
            "milestones", Prefetch("entries", queryset=approved, to_attr="approved_entries")
        )
        .order_by("area__code", "code")
    )
