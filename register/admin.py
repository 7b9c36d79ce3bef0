"""The register in the admin: parks and projects, searched without case or accents."""

from django.contrib import admin

from register.models import Park, Project
from targets.admin import HistoryAdmin
from targets.search import NAMED_FIELDS, ignoring_accents


@admin.register(Park)
class ParkAdmin(HistoryAdmin):
    list_display = ["code", "name", "name_en", "kind", "unit", "industrial_land_ha", "leased_ha",
                    "demo"]
    list_filter = ["kind", "demo", ("unit", admin.RelatedOnlyFieldListFilter)]
    search_fields = ignoring_accents(*NAMED_FIELDS)
    autocomplete_fields = ["unit"]


@admin.register(Project)
class ProjectAdmin(HistoryAdmin):
    list_display = ["code", "name", "investor", "investor_country", "sector", "unit", "stage",
                    "stage_date", "registered_capital", "registered_currency", "demo"]
    list_filter = ["sector", "stage", "registered_currency", "demo",
                   ("unit", admin.RelatedOnlyFieldListFilter)]
    search_fields = ignoring_accents(*NAMED_FIELDS, "investor")
    autocomplete_fields = ["unit", "park"]
    list_select_related = ["unit"]
    date_hierarchy = "stage_date"
