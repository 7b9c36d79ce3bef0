"""The API's filters: the screens' FilterSets, with the choices an API names by code.

The targets list filters as the status table does (``TargetStatusFilter``: search without
accents, plan, area, responsible unit with its subtree, status, reporting state, due year);
here a plan, an area and a unit are given by their code, and the due year as a number.
"""

from __future__ import annotations

import django_filters
from django import forms
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from register.filters import ProjectFilter
from register.filters import UnitSubtreeFilter as ProjectUnitFilter
from targets.filters import TargetStatusFilter, UnitSubtreeFilter, _plans, _units
from targets.models import Alert, AlertKind, EntryStatus, ProgressEntry


@extend_schema_field(OpenApiTypes.STR)
class UnitCodeFilter(UnitSubtreeFilter):
    """A unit by its code, and everything below it."""


@extend_schema_field(OpenApiTypes.STR)
class ProjectUnitCodeFilter(ProjectUnitFilter):
    """A unit by its code, and everything below it."""


class YearFilter(django_filters.NumberFilter):
    """A whole year within the dates plans may span (a year lookup cannot take 1e400)."""

    field_class = forms.IntegerField


class TargetFilter(TargetStatusFilter):
    plan = django_filters.ModelChoiceFilter(
        queryset=_plans, to_field_name="code", help_text="A plan's code."
    )
    unit = UnitCodeFilter(
        queryset=_units, to_field_name="code",
        help_text="A unit's code: its targets and those of every unit below it.",
    )
    area = django_filters.CharFilter(
        field_name="area__code", help_text="An area's code (with plan: that plan's area).",
    )
    due_year = YearFilter(
        field_name="due_date__year", min_value=1900, max_value=2200, help_text="e.g. 2030"
    )

    class Meta(TargetStatusFilter.Meta):
        pass

    def __init__(self, *args, **kwargs) -> None:
        # Not TargetStatusFilter's: it fills the screen's lists of choices (due years, area
        # labels), which these filters do not have.
        super(TargetStatusFilter, self).__init__(*args, **kwargs)


class ProjectApiFilter(ProjectFilter):
    unit = ProjectUnitCodeFilter(
        queryset=_units, to_field_name="code",
        help_text="A unit's code: its projects and those of every unit below it.",
    )

    class Meta(ProjectFilter.Meta):
        pass


class EntryFilter(django_filters.FilterSet):
    target = django_filters.CharFilter(field_name="target__code", help_text="A target's code.")
    period = django_filters.CharFilter()
    status = django_filters.ChoiceFilter(choices=EntryStatus.choices)

    class Meta:
        model = ProgressEntry
        fields = ["target", "period", "status"]


class AlertFilter(django_filters.FilterSet):
    target = django_filters.CharFilter(field_name="target__code", help_text="A target's code.")
    kind = django_filters.ChoiceFilter(choices=AlertKind.choices)
    open = django_filters.BooleanFilter(
        field_name="resolved_at", lookup_expr="isnull", help_text="Only alerts not resolved.",
    )

    class Meta:
        model = Alert
        fields = ["target", "kind", "open"]
