"""A plan's IATI activity in the admin: the identifier and organisation it is published under."""

from django.conf import settings
from django.contrib import admin

from iati.models import IatiActivity
from targets.admin import HistoryAdmin


@admin.register(IatiActivity)
class IatiActivityAdmin(HistoryAdmin):
    list_display = ["identifier", "plan", "reporting_org_ref", "reporting_org_type", "sector"]
    list_filter = ["reporting_org_type"]
    search_fields = ["identifier", "plan__code", "reporting_org_ref"]
    autocomplete_fields = ["plan"]
    list_select_related = ["plan"]

    def get_changeform_initial_data(self, request) -> dict:
        # A new activity starts from the deployment's organisation (README "IATI results").
        return {
            "reporting_org_ref": settings.IATI_REPORTING_ORG_REF,
            "reporting_org_type": settings.IATI_REPORTING_ORG_TYPE,
            "reporting_org_name": settings.IATI_REPORTING_ORG_NAME,
            "reporting_org_name_en": settings.IATI_REPORTING_ORG_NAME_EN,
            **super().get_changeform_initial_data(request),
        }
