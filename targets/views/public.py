"""The public pages of a published plan: its status table and each target's chart, approved
values and source, for anyone, without signing in (issue 15).

What they show comes from the evaluation (the latest assessment, made of approved entries
only) and from the approved entries themselves: never a draft, submitted or returned value,
a person's name, a note, a comment, an evidence file, an explanation request or an alert. A
plan that is not published, and every target of it, answers 404 to everyone.

Every visitor of an address gets the same page (the language is in the address, nothing of
the session or the signed-in user is read): the pages are sent as cacheable by anyone for
PUBLIC_MAX_AGE seconds, with an ETag that answers a repeated request with 304.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial, wraps

from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.http import ConditionalGetMiddleware
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.decorators import decorator_from_middleware
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe
from django_tables2 import RequestConfig

from targets import rules, selectors
from targets.models import Plan, Status, Target
from targets.numbers import has_control_characters
from targets.tables import PublicStatusTable
from targets.views.status import CountedPaginator
from targets.views.targets import trajectory_context

# How long a browser or a shared cache may keep a page without asking again: a withdrawn plan
# may still be read from a cache for this long.
PUBLIC_MAX_AGE = 300
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}
ROWS_PER_PAGE = 100

conditional_get = decorator_from_middleware(ConditionalGetMiddleware)


def public_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """GET and HEAD only, rendered in the language of the address, cacheable by anyone."""

    @wraps(view)
    def in_language(request: HttpRequest, language: str, **kwargs) -> HttpResponse:
        with translation.override(language):
            response = view(request, language=language, **kwargs)
        response.headers["Content-Language"] = language
        return response

    return require_safe(cache_control(public=True, max_age=PUBLIC_MAX_AGE)(
        conditional_get(in_language)
    ))


def _languages(request: HttpRequest, name: str, language: str, **kwargs) -> list[dict]:
    """The page in each language (the switcher's links and the head's alternates)."""
    query = f"?{request.GET.urlencode()}" if request.GET else ""
    return [
        {
            "code": code,
            "name": label,
            "url": reverse(name, kwargs={"language": code, **kwargs}) + query,
            "current": code == language,
        }
        for code, label in LANGUAGE_NAMES.items()
    ]


def _published_plan(code: str) -> Plan:
    if has_control_characters(code):  # no code has them, and the database refuses a NUL
        raise Http404
    try:
        return selectors.public_plan(code=code)
    except Plan.DoesNotExist:
        raise Http404 from None


@public_page
def plan_index(request: HttpRequest, *, language: str) -> HttpResponse:
    return render(request, "public/index.html", {
        "plans": list(selectors.public_plans()),
        "language": language,
        "languages": _languages(request, "public:index", language),
    })


@public_page
def plan_page(request: HttpRequest, *, language: str, plan: str) -> HttpResponse:
    plan = _published_plan(plan)
    rows = selectors.public_status_rows(plan=plan)
    counts = selectors.status_counts(rows)
    table = PublicStatusTable(
        rows, plan_code=plan.code, language=language,
        details=request.GET.get("details") == "1",
    )
    RequestConfig(request, paginate={
        "per_page": ROWS_PER_PAGE,
        # The paginator is told the number of rows: the counts per status add up to it.
        "paginator_class": partial(CountedPaginator, count=sum(counts.values())),
    }).configure(table)
    return render(request, "public/plan.html", {
        "plan": plan,
        "table": table,
        "status_counts": [(value, label, counts[value]) for value, label in Status.choices],
        "total": sum(counts.values()),
        "language": language,
        "languages": _languages(request, "public:plan", language, plan=plan.code),
    })


@public_page
def target_page(request: HttpRequest, *, language: str, plan: str, code: str) -> HttpResponse:
    if has_control_characters(plan) or has_control_characters(code):
        raise Http404
    try:
        target = selectors.public_target(plan_code=plan, code=code)
    except Target.DoesNotExist:
        raise Http404 from None
    approved = selectors.approved_entries_of(target=target)
    context = trajectory_context(target, approved_entries=approved)
    # Each approved value, and for a target that adds up its reports the total it makes.
    spec = target.spec(milestones=context["milestones"])
    totals = rules.trend_points(
        spec, [rules.Observation(e.period_end, e.value) for e in approved]
    )
    return render(request, "public/target.html", {
        **context,
        "approved": [(entry, point.value) for entry, point in
                     zip(approved, totals, strict=True)],
        "adds_up": target.aggregation == rules.Aggregation.SUM,
        "public": True,
        "language": language,
        "languages": _languages(
            request, "public:target", language, plan=target.plan.code, code=target.code
        ),
    })
