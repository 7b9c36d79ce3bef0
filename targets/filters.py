"""The status table's filters (DESIGN §5); every choice list is limited to the user's scope."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from targets import access
from targets.models import Area, Plan, Reporting, Status, Target, Unit


def _visible(request) -> QuerySet[Target]:
    user = request.user if request is not None else None
    if user is None:
        return Target.objects.none()
    return access.targets_visible_to(user)


# EXISTS rather than a join and DISTINCT: the join lists every visible target (6,000 for a
# province manager) before removing the duplicates.
def _plans(request) -> QuerySet[Plan]:
    return Plan.objects.filter(
        Exists(_visible(request).filter(plan=OuterRef("pk")))
    ).order_by("code")


def _areas(request) -> QuerySet[Area]:
    return (
        Area.objects.filter(Exists(_visible(request).filter(area=OuterRef("pk"))))
        .select_related("plan")
        .order_by("plan__code", "code")
    )


class QuickSelect(forms.Select):
    """A select that writes its options in Python instead of including a template per option.

    A province manager chooses among ~1,000 plans, areas and units: rendered one template
    include at a time, the options took most of the status page's time. The HTML is that of
    Django's ``select.html`` (these filters have no option groups).
    """

    def render(self, name, value, attrs=None, renderer=None) -> str:
        widget = self.get_context(name, value, attrs)["widget"]
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (option["value"], flatatt(option["attrs"]), option["label"])
                for _group, group_options, _index in widget["optgroups"]
                for option in group_options
            ),
        )
        return format_html(
            '<select name="{}"{}>{}</select>', widget["name"], flatatt(widget["attrs"]), options
        )


def _units(request) -> QuerySet[Unit]:
    if request is None:
        return Unit.objects.none()
    return access.units_visible_to(request.user).order_by("path")


class UnitSubtreeFilter(django_filters.ModelChoiceFilter):
    """A responsible unit and everything below it (Unit.path startswith)."""

    def filter(self, qs: QuerySet, value: Unit | None) -> QuerySet:
        if not value:
            return qs
        return qs.filter(responsible_unit__path__startswith=value.path)


def _due_years(request) -> list[tuple[str, str]]:
    years = (
        _visible(request).order_by().values_list("due_date__year", flat=True).distinct()
    )
    # Strings, so that the thousand separator never turns 2030 into "2.030".
    return [(str(y), str(y)) for y in sorted(set(years))]


class TargetStatusFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"), method="search",
        widget=forms.TextInput(attrs={"placeholder": _("Code, name or description")}),
    )
    plan = django_filters.ModelChoiceFilter(
        label=_("Plan"), queryset=_plans, widget=QuickSelect
    )
    area = django_filters.ModelChoiceFilter(
        label=_("Area"), queryset=_areas, widget=QuickSelect
    )
    unit = UnitSubtreeFilter(label=_("Responsible unit"), queryset=_units, widget=QuickSelect)
    status = django_filters.ChoiceFilter(
        label=_("Status"), field_name="current_status", choices=Status.choices
    )
    reporting = django_filters.ChoiceFilter(
        label=_("Reporting"), field_name="latest_assessment__reporting",
        choices=Reporting.choices,
    )
    due_year = django_filters.ChoiceFilter(
        label=_("Due year"), field_name="due_date__year", choices=[],
    )

    class Meta:
        model = Target
        fields = ["q", "plan", "area", "unit", "status", "reporting", "due_year"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.filters["due_year"].extra["choices"] = _due_years(self.request)
        self.filters["area"].field.label_from_instance = (
            lambda area: f"{area.plan.code} · {area.name}"
        )

    def search(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        for word in value.split():
            qs = qs.filter(
                Q(code__icontains=word) | Q(name__icontains=word)
                | Q(description__icontains=word)
            )
        return qs
