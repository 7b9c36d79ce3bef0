"""Who has not reported (issue 13): the completeness grid of a manager's subtree, its exports
and the reminders sent from it.

For managers only (others: 403, like the review queue). The rows are the units of the
manager's subtree with a target in the periods shown; the filters (django-filter) choose the
plan, the frequency, the period range and a unit's subtree. ``?_export=csv|xlsx`` downloads
the grid as shown. A reminder is a POST: one cell ("cell" = unit id:period) or every unit that
has not reported in the grid ("all"); cells outside the manager's subtree are ignored.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from targets import access, rules
from targets.filters import CompletenessFilter
from targets.services import completeness as service
from targets.spreadsheets import SafeTableExport
from targets.tables import CompletenessTable

EXPORTS = ("csv", "xlsx")
DEFAULT_MONTHS = 12  # the default range: the periods of the last year up to today


def _require_manager(request: HttpRequest) -> None:
    if not access.may_review_any(request.user):
        raise PermissionDenied(_("The completeness of reports is for managers."))


def _with_defaults(params: QueryDict) -> QueryDict:
    """The filters asked, the defaults for the ones not given: quarterly periods of the past
    year up to today."""
    data = params.copy()
    today = timezone.localdate()
    for name, value in (
        ("frequency", rules.Frequency.QUARTERLY.value),
        ("start", (today - timedelta(days=365)).isoformat()),
        ("end", today.isoformat()),
    ):
        if not data.get(name):
            data[name] = value
    return data


def _grid(request: HttpRequest, params: QueryDict) -> tuple[CompletenessFilter, object]:
    """The filters (bound to ``params`` with the defaults) and the grid they choose; None when
    a filter is invalid (its error is shown next to it)."""
    filterset = CompletenessFilter(
        _with_defaults(params), queryset=access.targets_reviewable_by(request.user),
        request=request,
    )
    if not filterset.is_valid():
        return filterset, None
    data = filterset.form.cleaned_data
    units = access.units_managed_by(request.user).order_by("path")
    if data.get("unit"):
        units = units.filter(path__startswith=data["unit"].path)
    keys = service.period_keys(rules.Frequency(data["frequency"]), data["start"], data["end"])
    grid = service.completeness(
        units=units, periods=keys, today=timezone.localdate(), targets=filterset.qs
    )
    return filterset, grid


@login_required
def completeness(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    filterset, grid = _grid(request, request.GET)
    export = request.GET.get("_export")
    if export in EXPORTS and grid is not None:
        table = CompletenessTable(grid)
        exporter = SafeTableExport(
            export_format=export, table=table, dataset_kwargs={"title": _("Completeness")}
        )
        return exporter.response(filename=f"completeness.{export}")
    query = request.GET.copy()
    query.pop("_export", None)
    return render(request, "targets/completeness.html", {
        "filter": filterset,
        "grid": grid,
        "rows": _rows(grid),
        "totals": _totals(grid),
        "remindable": grid is not None and any(row.remindable for row in grid.rows),
        "query": query.urlencode(),
        "title": _("Who has not reported"),
    })


def _rows(grid) -> list[tuple]:
    """Each row with its cells in the columns' order, for the template."""
    if grid is None:
        return []
    return [
        (row, [(key, row.cells.get(key)) for key in grid.periods],
         [(state, row.counts[state]) for state in service.CellState.ORDER])
        for row in grid.rows
    ]


def _totals(grid) -> list[tuple[str, str, int]]:
    totals = grid.totals() if grid is not None else {}
    return [(state, label, totals.get(state, 0)) for state, label in service.CellState.choices()]


def _cells(request: HttpRequest, grid) -> list[tuple[int, str]]:
    """The (unit id, period) to remind: the clicked cell, or every remindable cell of the grid;
    only units of the manager's subtree."""
    if request.POST.get("all"):
        wanted = [(row.unit.pk, key) for row in grid.rows for key in row.remindable]
    else:
        unit, _sep, period = request.POST.get("cell", "").partition(":")
        if not unit.isdigit() or rules.key_frequency(period) is None:
            return []
        wanted = [(int(unit), period)]
    managed = set(
        access.units_managed_by(request.user)
        .filter(pk__in=[pk for pk, _key in wanted]).values_list("pk", flat=True)
    )
    return [(pk, key) for pk, key in wanted if pk in managed]


@login_required
@require_POST
def remind(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    params = QueryDict(request.POST.get("query", ""))
    back = reverse("targets:completeness") + ("?" + params.urlencode() if params else "")
    _filterset, grid = _grid(request, params)
    cells = _cells(request, grid) if grid is not None else []
    if not cells:
        messages.warning(request, _("No unit to remind."))
        return redirect(back)
    done = service.reminders_send(user=request.user, cells=cells)
    for reminder in done.sent:
        messages.success(
            request,
            ngettext("Reminder sent to %(unit)s for %(period)s (%(n)d person).",
                     "Reminder sent to %(unit)s for %(period)s (%(n)d people).",
                     reminder.recipients)
            % {"unit": reminder.unit.localized("name"), "period": reminder.period,
               "n": reminder.recipients},
        )
    for refusal in done.refused:
        messages.warning(request, refusal)
    return redirect(back)
