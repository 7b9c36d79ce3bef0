"""The status table, the home page (DESIGN §5)."""

from __future__ import annotations

from functools import partial

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django_filters import FilterSet
from django_filters.views import FilterView
from django_tables2 import RequestConfig, SingleTableMixin
from django_tables2.export.views import ExportMixin

from targets import selectors
from targets.filters import TargetStatusFilter
from targets.models import Status, Target
from targets.spreadsheets import SafeTableExport
from targets.tables import StatusTable


def _rows_but_status(filterset: FilterSet) -> QuerySet[Target]:
    """The rows every filter keeps except the status one: each count says how many rows
    choosing that status would show. The filterset's own validated values, not a second
    filterset (which would read its choices again)."""
    rows = filterset.queryset.all()
    if filterset.is_bound:
        for name, value in filterset.form.cleaned_data.items():
            if name != "status":
                rows = filterset.filters[name].filter(rows, value)
    return rows


def _rows_shown(filterset: FilterSet, counts: dict[str, int]) -> int | None:
    """How many rows the table shows, read off the per-status counts (None when the filters
    are invalid: the table then shows none, without counting)."""
    if not filterset.is_bound:
        return sum(counts.values())
    if not filterset.is_valid():
        return None
    status = filterset.form.cleaned_data.get("status")
    return counts.get(status, 0) if status else sum(counts.values())


class CountedPaginator(Paginator):
    """A paginator told the number of rows, instead of counting them with a query."""

    def __init__(self, object_list, per_page, *args, count: int, **kwargs) -> None:
        super().__init__(object_list, per_page, *args, **kwargs)
        self.count = count  # Paginator.count is a cached property: this is its value


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
    rows_shown: int | None = None  # known once the per-status counts are

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        export_format = request.GET.get(self.export_trigger_param)
        if export_format not in self.export_formats:
            return super().get(request, *args, **kwargs)
        # An export needs the filtered, sorted rows only: not the counts, the filter's
        # choices or a page of the table.
        self.filterset = self.get_filterset(self.get_filterset_class())
        if not self.filterset.is_bound or self.filterset.is_valid() or not self.get_strict():
            self.object_list = self.filterset.qs
        else:
            self.object_list = self.filterset.queryset.none()
        return self.create_export(export_format)

    def create_export(self, export_format: str) -> HttpResponse:
        table = self.get_table_class()(data=self.object_list, **self.get_table_kwargs())
        RequestConfig(request=self.request, paginate=False).configure(table)
        exporter = self.export_class(
            export_format=export_format, table=table, exclude_columns=self.exclude_columns,
            dataset_kwargs=self.get_dataset_kwargs(),
        )
        return exporter.response(filename=self.get_export_filename(export_format))

    def get_table_kwargs(self) -> dict:
        # ?details=1: the secondary columns too (StatusTable.DETAILS).
        return {"details": self.request.GET.get("details") == "1"}

    def get_queryset(self):
        return selectors.targets_status_rows(user=self.request.user)

    def get_export_filename(self, export_format: str) -> str:
        return f"{self.export_name}.{export_format}"

    def get_table_pagination(self, table):
        paginate = super().get_table_pagination(table)
        if isinstance(paginate, dict) and self.rows_shown is not None:
            paginate["paginator_class"] = partial(CountedPaginator, count=self.rows_shown)
        return paginate

    def get_context_data(self, **kwargs):
        # The counts first: their sum is the paginator's count, one query fewer.
        counts = selectors.status_counts(_rows_but_status(self.filterset))
        self.rows_shown = _rows_shown(self.filterset, counts)
        context = super().get_context_data(**kwargs)
        context["status_counts"] = [
            (value, label, counts[value]) for value, label in Status.choices
        ]
        context["total"] = sum(counts.values())
        context["current_status"] = self.request.GET.get("status", "")
        context["title"] = _("Status of targets")
        # The plan chosen in the filters, whose IATI results its managers may download.
        valid = self.filterset.is_bound and self.filterset.is_valid()
        context["chosen_plan"] = self.filterset.form.cleaned_data.get("plan") if valid else None
        return context
