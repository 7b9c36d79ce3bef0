"""The pipeline: for each unit the user sees, how many projects are at each stage and their
registered capital per currency, filtered by unit and sector; each cell opens the register
table on those projects."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.mixins import LoginRequiredMixin
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_filters.views import FilterView

from register.filters import PipelineFilter
from register.models import Stage
from register.selectors import STAGES, pipeline_rows
from targets import access


class PipelineView(LoginRequiredMixin, FilterView):
    filterset_class = PipelineFilter
    template_name = "register/pipeline.html"

    def get_queryset(self):
        return access.projects_visible_to(self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        units = access.units_visible_to(self.request.user)
        chosen = self.filterset.form.cleaned_data.get("unit") if self.filterset.is_valid() \
            else None
        if chosen is not None:
            units = units.filter(path__startswith=chosen.path)
        sector = self.filterset.form.cleaned_data.get("sector") if self.filterset.is_valid() \
            else ""
        rows = pipeline_rows(projects=self.object_list, units=units)
        labels = dict(Stage.choices)
        register = reverse("register:projects")

        def link(unit, stage: str) -> str:
            query = {"unit": (unit or chosen).pk if (unit or chosen) else "",
                     "stage": stage, "sector": sector or ""}
            return f"{register}?{urlencode({k: v for k, v in query.items() if v})}"

        for row in rows:
            row.columns = [(stage, labels[stage], cell, link(row.unit, stage))
                           for cell, stage in zip(row.cells, STAGES, strict=True)]
            row.total_link = link(row.unit, "")
        context.update(
            rows=rows,
            stages=[(stage, labels[stage]) for stage in STAGES],
            title=_("Pipeline of investment projects"),
        )
        return context
