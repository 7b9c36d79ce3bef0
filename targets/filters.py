"""The status table's filters (DESIGN §5); every choice list is limited to the user's scope."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, QuerySet
from django.forms.models import ModelChoiceIterator
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from targets import access, rules
from targets.forms import DateInput
from targets.models import (
    TRANSLATED_FIELDS,
    Area,
    Frequency,
    Plan,
    Reporting,
    Status,
    Target,
    Unit,
    localized_expression,
)
from targets.search import TARGET_FIELDS, words_in


def _visible(request) -> QuerySet[Target]:
    user = request.user if request is not None else None
    if user is None:
        return Target.objects.none()
    return access.targets_visible_to(user)


# EXISTS rather than a join and DISTINCT: the join lists every visible target (6,000 for a
# province manager) before removing the duplicates. These check a chosen plan or area; the
# choices listed come from ScopeChoices.
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


@dataclass(frozen=True)
class ScopeChoices:
    """The plans, areas and due years of the visible targets, as the filters list them."""

    plans: list[tuple[int, str]]
    areas: list[tuple[int, str]]
    due_years: list[tuple[str, str]]


def scope_choices(request) -> ScopeChoices:
    """One pass over the visible targets instead of one per list: each distinct plan, area
    and due year they have (a few hundred rows for a province's 6,000 targets)."""
    rows = (
        _visible(request).order_by()
        .values_list("plan_id", "plan__code", localized_expression("plan__name"), "area_id",
                     "area__plan__code", "area__code", localized_expression("area__name"),
                     "due_date__year")
        .distinct()
    )
    plans, areas, years = {}, {}, set()
    for plan, plan_code, plan_name, area, area_plan, area_code, area_name, year in rows:
        plans[plan] = (plan_code, plan_name)
        areas[area] = (area_plan, area_code, f"{area_plan} · {area_name}")
        years.add(year)
    return ScopeChoices(
        plans=[(pk, name) for pk, (_code, name) in sorted(plans.items(), key=lambda i: i[1])],
        areas=[(pk, label) for pk, (*_order, label) in
               sorted(areas.items(), key=lambda i: i[1][:2])],
        # Strings, so that the thousand separator never turns 2030 into "2.030".
        due_years=[(str(y), str(y)) for y in sorted(years)],
    )


class QuickSelect(forms.Select):
    """A select of model choices that reads them as plain values and writes its options in
    Python.

    A province manager chooses among ~900 plans, areas and units: a model instance and a
    template include (or an option dict) per option took most of the status page's time.
    The HTML is that of Django's ``select.html`` (these filters have no option groups); an
    option's label is its ``label_fields`` joined by " · " (the objects' __str__ or the
    filter's label_from_instance, as the SQL reads them; a name in the reader's language).
    """

    def __init__(self, attrs=None, label_fields: tuple[str, ...] = ("name",)) -> None:
        super().__init__(attrs)
        self.label_fields = label_fields
        # The (value, label) pairs to list instead of the field's queryset, when known.
        self.listed: Callable[[], list[tuple[int, str]]] | None = None

    def _labelled_choices(self) -> Iterator[tuple[object, str]]:
        choices = self.choices
        if not isinstance(choices, ModelChoiceIterator):
            yield from choices
            return
        if choices.field.empty_label is not None:
            yield "", choices.field.empty_label
        if self.listed is not None:
            yield from self.listed()
            return
        fields = [
            localized_expression(field) if field.split("__")[-1] in TRANSLATED_FIELDS else field
            for field in self.label_fields
        ]
        for pk, *parts in choices.queryset.values_list("pk", *fields):
            yield pk, " · ".join(str(part) for part in parts)

    def render(self, name, value, attrs=None, renderer=None) -> str:
        chosen = self.format_value(value)
        options = []
        selected = False
        for key, label in self._labelled_choices():
            key = str(key)
            mark = ""
            if not selected and key in chosen:
                mark, selected = SELECTED, True
            options.append((key, mark, label))
        return format_html(
            '<select name="{}"{}>{}</select>', name, flatatt(self.build_attrs(self.attrs, attrs)),
            format_html_join("", '<option value="{}"{}>{}</option>', options),
        )


SELECTED = mark_safe(" selected")


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


class _DueYears:
    """The due-year choices, read with the plans and areas when first listed (an export, which
    lists no choices, does not read them)."""

    def __init__(self, filterset: TargetStatusFilter) -> None:
        self.filterset = filterset

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.filterset.scope.due_years)

    def __len__(self) -> int:
        return len(self.filterset.scope.due_years)

    def __deepcopy__(self, memo) -> _DueYears:  # the form copies its fields: not the filterset
        return self


# A filter's empty choice: every target, whatever its value ("---------" says nothing).
ALL = _("All")


class TargetStatusFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"), method="search",
        widget=forms.TextInput(attrs={"placeholder": _("Code, name or description")}),
    )
    plan = django_filters.ModelChoiceFilter(
        label=_("Plan"), queryset=_plans, widget=QuickSelect, empty_label=ALL
    )
    area = django_filters.ModelChoiceFilter(
        label=_("Area"), queryset=_areas, widget=QuickSelect(label_fields=("plan__code", "name")),
        empty_label=ALL,
    )
    unit = UnitSubtreeFilter(
        label=_("Responsible unit"), queryset=_units, widget=QuickSelect, empty_label=ALL
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), field_name="current_status", choices=Status.choices, empty_label=ALL
    )
    reporting = django_filters.ChoiceFilter(
        label=_("Reporting"), field_name="latest_assessment__reporting",
        choices=Reporting.choices, empty_label=ALL,
    )
    due_year = django_filters.ChoiceFilter(
        label=_("Due year"), field_name="due_date__year", choices=[], empty_label=ALL,
    )

    class Meta:
        model = Target
        fields = ["q", "plan", "area", "unit", "status", "reporting", "due_year"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.filters["due_year"].extra["choices"] = _DueYears(self)
        self.filters["area"].field.label_from_instance = (
            lambda area: f"{area.plan.code} · {area.localized('name')}"
        )

    @cached_property
    def scope(self) -> ScopeChoices:
        return scope_choices(self.request)

    @property
    def form(self):
        if not hasattr(self, "_form"):
            form = super().form
            form.fields["plan"].widget.listed = lambda: self.scope.plans
            form.fields["area"].widget.listed = lambda: self.scope.areas
        return self._form

    def search(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        # Without case or accents: "lap day" finds "lấp đầy" (targets/search.py).
        return qs.filter(words_in(TARGET_FIELDS, value))


# --- the completeness screen (issue 13: who has not reported) -----------------------------------


def _managed_units(request) -> QuerySet[Unit]:
    if request is None:
        return Unit.objects.none()
    return access.units_managed_by(request.user).order_by("path")


def _managed_plans(request) -> QuerySet[Plan]:
    user = request.user if request is not None else None
    if user is None:
        return Plan.objects.none()
    return Plan.objects.filter(
        Exists(access.targets_reviewable_by(user).filter(plan=OuterRef("pk")))
    ).order_by("code")


class CompletenessForm(forms.Form):
    """The period range is checked as a whole: its end after its start, a grid of at most
    MAX_PERIODS columns."""

    def clean(self) -> dict:
        from targets.services.completeness import MAX_PERIODS, period_keys

        data = super().clean()
        start, end, frequency = data.get("start"), data.get("end"), data.get("frequency")
        if start and end and end < start:
            self.add_error("end", _("The end of the range comes before its start."))
        elif (start and end and frequency
              and len(period_keys(rules.Frequency(frequency), start, end)) > MAX_PERIODS):
            self.add_error(
                "end", _("At most %(n)d periods at once: choose a shorter range.")
                % {"n": MAX_PERIODS},
            )
        return data


class CompletenessFilter(django_filters.FilterSet):
    """The targets the completeness grid counts (a plan's, a frequency's, a subtree's) and the
    period range of its columns. Unbound: the defaults (``initial``) of the screen."""

    plan = django_filters.ModelChoiceFilter(
        label=_("Plan"), queryset=_managed_plans, widget=QuickSelect, empty_label=ALL
    )
    frequency = django_filters.ChoiceFilter(
        label=_("Frequency"), choices=Frequency.choices, empty_label=None, required=True,
    )
    start = django_filters.DateFilter(
        label=_("Periods from"), method="overlapping", required=True, widget=DateInput(),
    )
    end = django_filters.DateFilter(
        label=_("Periods to"), method="overlapping", required=True, widget=DateInput(),
    )
    unit = UnitSubtreeFilter(
        label=_("Unit"), queryset=_managed_units, widget=QuickSelect, empty_label=ALL
    )

    class Meta:
        model = Target
        fields = ["plan", "frequency", "start", "end", "unit"]
        form = CompletenessForm

    def overlapping(self, qs: QuerySet, name: str, value) -> QuerySet:
        # The grid keeps the targets with a period in the range (completeness); nothing to
        # narrow here.
        return qs
