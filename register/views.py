"""The project register screen: the projects of the user's units, filtered, sorted, paged,
with the capital totals per currency; ?_export=csv|xlsx downloads the filtered rows."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django_filters.views import FilterView
from django_tables2 import RequestConfig, SingleTableMixin
from django_tables2.export.views import ExportMixin

from register.filters import ProjectFilter
from register.tables import ProjectTable
from targets import access
from targets.models import localized_expression
from targets.spreadsheets import SafeTableExport


def capital_totals(projects) -> list[dict]:
    """The registered and disbursed capital of ``projects`` per currency, never converted: one
    row per registered currency (a disbursement is in its project's registered currency)."""
    rows = (
        projects.order_by().values("registered_currency")
        .annotate(count=Count("pk"), registered=Sum("registered_capital"),
                  disbursed=Sum("disbursed_capital"))
        .order_by("-registered_currency")  # VND first
    )
    return [
        {"currency": row["registered_currency"], "count": row["count"],
         "registered": row["registered"], "disbursed": row["disbursed"]}
        for row in rows
    ]


class RegisterView(LoginRequiredMixin, ExportMixin, SingleTableMixin, FilterView):
    table_class = ProjectTable
    filterset_class = ProjectFilter
    template_name = "register/register.html"
    table_pagination = {"per_page": 25}
    export_formats = ("csv", "xlsx")
    export_class = SafeTableExport
    export_name = "register"

    def get_queryset(self):
        return (
            access.projects_visible_to(self.request.user)
            .select_related("unit", "park")
            .annotate(shown_name=localized_expression("name"),
                      shown_unit=localized_expression("unit__name"))
        )

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        export_format = request.GET.get(self.export_trigger_param)
        if export_format not in self.export_formats:
            return super().get(request, *args, **kwargs)
        self.filterset = self.get_filterset(self.get_filterset_class())
        if not self.filterset.is_bound or self.filterset.is_valid() or not self.get_strict():
            self.object_list = self.filterset.qs
        else:
            self.object_list = self.filterset.queryset.none()
        return self.create_export(export_format)

    def create_export(self, export_format: str) -> HttpResponse:
        table = self.get_table_class()(data=self.object_list)
        RequestConfig(request=self.request, paginate=False).configure(table)
        exporter = self.export_class(
            export_format=export_format, table=table,
            dataset_kwargs={"title": str(_("Investment register"))},
        )
        return exporter.response(filename=f"{self.export_name}.{export_format}")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["totals"] = capital_totals(self.object_list)
        context["title"] = _("Investment register")
        return context
