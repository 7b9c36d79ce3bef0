"""The status table, the home page (DESIGN §5)."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.utils.translation import gettext_lazy as _
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin
from django_tables2.export.views import ExportMixin

from targets import selectors
from targets.filters import TargetStatusFilter
from targets.models import Status
from targets.spreadsheets import SafeTableExport
from targets.tables import StatusTable


class StatusTableView(LoginRequiredMixin, ExportMixin, SingleTableMixin, FilterView):
    """Every target the user may see, filtered, sorted, paginated; ?_export=csv|xlsx."""

    table_class = StatusTable
    filterset_class = TargetStatusFilter
    template_name = "targets/status.html"
    # Only django-tables2 paginates (?page=, ?per_page=); ListView's paginate_by would page
    # the rows a second time and answer 404 for a page the table has.
    table_pagination = {"per_page": 25}
    export_formats = ("csv", "xlsx")
    # No cell of the export runs as a formula (a target named "=HYPERLINK(…)").
    export_class = SafeTableExport
    export_name = "targets"

    def get_queryset(self):
        return selectors.targets_status_rows(user=self.request.user)

    def get_export_filename(self, export_format: str) -> str:
        return f"{self.export_name}.{export_format}"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # The counts follow every filter except the status one, so each badge says how many
        # rows choosing that status would show.
        data = self.request.GET.copy()
        data.pop("status", None)
        unfiltered = TargetStatusFilter(data, queryset=self.get_queryset(), request=self.request)
        counts = selectors.status_counts(unfiltered.qs)
        context["status_counts"] = [
            (value, label, counts[value]) for value, label in Status.choices
        ]
        context["total"] = sum(counts.values())
        context["current_status"] = self.request.GET.get("status", "")
        context["title"] = _("Status of targets")
        return context
