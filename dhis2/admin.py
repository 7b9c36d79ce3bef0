"""The mappings to DHIS2 in the admin: per unit its org unit, per target its data element."""

from django.contrib import admin

from dhis2.models import DataElementMapping, Dhis2Upload, OrgUnitMapping
from targets.admin import HistoryAdmin


@admin.register(OrgUnitMapping)
class OrgUnitMappingAdmin(HistoryAdmin):
    list_display = ["unit", "uid", "code"]
    search_fields = ["unit__code", "unit__name", "uid", "code"]
    autocomplete_fields = ["unit"]
    list_select_related = ["unit"]


@admin.register(DataElementMapping)
class DataElementMappingAdmin(HistoryAdmin):
    list_display = ["target", "uid", "code", "category_option_combo"]
    search_fields = ["target__code", "target__name", "uid", "code"]
    list_filter = [("target__plan", admin.RelatedOnlyFieldListFilter)]
    autocomplete_fields = ["target"]
    list_select_related = ["target"]


@admin.register(Dhis2Upload)
class Dhis2UploadAdmin(admin.ModelAdmin):
    """Read-only: what was imported, by whom, and how it ended."""

    list_display = ["filename", "user", "entry_status", "state", "value_count", "created_at"]
    list_filter = ["state", "entry_status"]
    exclude = ["content"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
