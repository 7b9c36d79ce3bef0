"""The register's filters: each choice limited to the user's scope, searches without accents."""

from __future__ import annotations

from decimal import Decimal

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from register.models import Currency, Project, Sector, Stage
from targets import access
from targets.filters import ALL, QuickSelect
from targets.models import Unit
from targets.search import NAMED_FIELDS, words_in

PROJECT_FIELDS = (*NAMED_FIELDS, "investor")
BILLION = Decimal(10) ** 9
MILLION = Decimal(10) ** 6

# Bands of registered capital, each in its own currency (amounts are never converted):
# key → (label, currency, from, below).
CAPITAL_BANDS = {
    "vnd-0-100": (_("under VND 100 billion"), Currency.VND, None, 100 * BILLION),
    "vnd-100-500": (_("VND 100–500 billion"), Currency.VND, 100 * BILLION, 500 * BILLION),
    "vnd-500-1000": (_("VND 500–1,000 billion"), Currency.VND, 500 * BILLION, 1000 * BILLION),
    "vnd-1000": (_("VND 1,000 billion or more"), Currency.VND, 1000 * BILLION, None),
    "usd-0-5": (_("under USD 5 million"), Currency.USD, None, 5 * MILLION),
    "usd-5-50": (_("USD 5–50 million"), Currency.USD, 5 * MILLION, 50 * MILLION),
    "usd-50": (_("USD 50 million or more"), Currency.USD, 50 * MILLION, None),
}


def _units(request) -> QuerySet[Unit]:
    if request is None:
        return Unit.objects.none()
    return access.units_visible_to(request.user).order_by("path")


class UnitSubtreeFilter(django_filters.ModelChoiceFilter):
    """A unit and everything below it (Unit.path startswith)."""

    def filter(self, qs: QuerySet, value: Unit | None) -> QuerySet:
        if not value:
            return qs
        return qs.filter(unit__path__startswith=value.path)


class ProjectFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"), method="search",
        widget=forms.TextInput(attrs={"placeholder": _("Code, name or investor")}),
    )
    unit = UnitSubtreeFilter(label=_("Unit"), queryset=_units, widget=QuickSelect,
                             empty_label=ALL)
    sector = django_filters.ChoiceFilter(label=_("Sector"), choices=Sector.choices,
                                         empty_label=ALL)
    stage = django_filters.ChoiceFilter(label=_("Stage"), choices=Stage.choices, empty_label=ALL)
    country = django_filters.ChoiceFilter(
        label=_("Investor's country"), field_name="investor_country",
        # Every ISO 3166 country, named and sorted in the reader's language at each render.
        choices=lambda: [(country.code, country.name) for country in countries],
        empty_label=ALL,
    )
    capital = django_filters.ChoiceFilter(
        label=_("Registered capital"), method="capital_band", empty_label=ALL,
        choices=[(key, label) for key, (label, *_rest) in CAPITAL_BANDS.items()],
    )

    class Meta:
        model = Project
        fields = ["q", "unit", "sector", "stage", "country", "capital"]

    def search(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        # "cua khau" finds "cửa khẩu" (targets/search.py).
        return qs.filter(words_in(PROJECT_FIELDS, value))

    def capital_band(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        _label, currency, low, high = CAPITAL_BANDS[value]
        band = Q(registered_currency=currency)
        if low is not None:
            band &= Q(registered_capital__gte=low)
        if high is not None:
            band &= Q(registered_capital__lt=high)
        return qs.filter(band)


class PipelineFilter(django_filters.FilterSet):
    """The pipeline's filters: a unit (and everything below it) and a sector."""

    unit = UnitSubtreeFilter(label=_("Unit"), queryset=_units, widget=QuickSelect,
                             empty_label=ALL)
    sector = django_filters.ChoiceFilter(label=_("Sector"), choices=Sector.choices,
                                         empty_label=ALL)

    class Meta:
        model = Project
        fields = ["unit", "sector"]
