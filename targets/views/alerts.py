"""The user's alerts: the inbox at /alerts/, newest first, with read / acknowledged state."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from targets import notifications
from targets.services import inbox


@login_required
@require_GET
def alert_list(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "open")
    if state not in inbox.STATES:
        state = "open"
    rows = inbox.inbox_for(user=request.user, state=state)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    # The page's alerts grouped by target, the target of the newest alert first.
    targets: dict[int, dict] = {}
    for row in page.object_list:
        group = targets.setdefault(
            row.alert.target_id, {"target": row.alert.target, "items": []}
        )
        group["items"].append((row, notifications.alert_message(row.alert)))
    return render(
        request,
        "targets/alerts.html",
        {
            "page": page,
            "groups": list(targets.values()),
            "state": state,
            "states": [
                ("open", _("Open")), ("resolved", _("Resolved")), ("all", _("All")),
            ],
        },
    )


@login_required
@require_POST
def alert_mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    inbox.alert_mark_read(user=request.user, recipient_id=pk)
    return HttpResponseRedirect(reverse("targets:alerts"))


@login_required
@require_POST
def alert_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    inbox.alert_acknowledge(user=request.user, recipient_id=pk)
    return HttpResponseRedirect(reverse("targets:alerts"))


@login_required
@require_POST
def alert_mark_all_read(request: HttpRequest) -> HttpResponse:
    inbox.alerts_mark_all_read(user=request.user)
    return HttpResponseRedirect(reverse("targets:alerts"))
