"""The review queue, the target page, the status table and its exports do not run a query
per row."""

import io

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from targets import tables
from targets.models import Target, Unit
from targets.services.evaluation import targets_evaluate
from targets.services.plans import load_located, plan_import
from targets.spreadsheets import SafeTableExport
from tests.alerting import RULES
from tests.conftest import TODAY, many_targets_plan, plan_operator, submitted_entry
from tests.test_views_status import exported

pytestmark = pytest.mark.django_db
BOUND = 16


def _entries(author, count: int) -> None:
    periods = [p.key for p in Target.objects.get(code="BX-IP").reporting_periods()]
    for period in periods[:count]:
        submitted_entry(author, "BX-IP", period, "1", note=f"note {period}")


@pytest.mark.parametrize("count", [2, 20])
def test_review_queue_queries_do_not_grow(client, assessed, django_assert_max_num_queries, count):
    _entries(assessed["staff"], count)
    client.force_login(assessed["manager"])
    with django_assert_max_num_queries(BOUND):
        response = client.get(reverse("targets:review"))
    assert len(response.context["entries"]) == count


@pytest.mark.parametrize("count", [2, 20])
def test_target_page_queries_do_not_grow(client, assessed, django_assert_max_num_queries, count):
    _entries(assessed["staff"], count)
    client.force_login(assessed["manager"])
    with django_assert_max_num_queries(BOUND):
        response = client.get(reverse("targets:target", args=["BX-IP"]))
    assert len(response.context["entries"]) == count


# --- the status table and its exports: a fixed number of queries, one membership lookup ------

def _many(count: int) -> None:
    plan_import(
        data=load_located(many_targets_plan(count)), filename="many.yaml", user=plan_operator()
    )
    targets_evaluate(on=TODAY, alert_settings=RULES)


def _membership_lookups(captured) -> int:
    return sum('FROM "targets_membership"' in query["sql"] for query in captured)


# Session, user, memberships, the counts per status (which the paginator's count is read off),
# the plans, areas and due years to choose from (one pass), the units to choose from, the
# page's rows, the unread alerts of the menu's badge; a unit chosen is read once more.
STATUS_PAGE_QUERIES = {"home": 8, "unit": 9, "sort by status": 8, "search": 8}


def _status_params(view: str) -> dict:
    return {
        "home": {},
        "unit": {"unit": Unit.objects.get(code="LC-BATXAT").pk},
        "sort by status": {"sort": "-status"},
        "search": {"q": "number"},
    }[view]


@pytest.mark.parametrize("count", [10, 100])
@pytest.mark.parametrize("view", list(STATUS_PAGE_QUERIES))
def test_status_page_queries_are_fixed_whatever_the_rows(
    client, people, django_assert_num_queries, count, view
):
    _many(count)
    client.force_login(people["province"])
    params = {**_status_params(view), "per_page": 500}
    with django_assert_num_queries(STATUS_PAGE_QUERIES[view]) as captured:
        response = client.get(reverse("targets:status"), params)
    assert response.status_code == 200
    assert _membership_lookups(captured) == 1
    rows = response.context["table"].page.object_list
    assert len(rows) == count + (0 if view == "search" else 2)


# Session, user, memberships, the rows (read in chunks through one cursor): an export lists
# no filter choices.
EXPORT_QUERIES = 4


@pytest.mark.parametrize("count", [10, 100])
@pytest.mark.parametrize("export", ["csv", "xlsx"])
def test_export_queries_are_fixed_whatever_the_rows(
    client, people, django_assert_num_queries, count, export
):
    _many(count)
    client.force_login(people["province"])
    with django_assert_num_queries(EXPORT_QUERIES) as captured:
        response = client.get(reverse("targets:status"), {"_export": export, "sort": "-status"})
        content = exported(response)  # a streamed response reads its rows while it is sent
    assert _membership_lookups(captured) == 1
    if export == "csv":
        assert content.count(b"\r\n") == 1 + count + 2
    else:
        assert openpyxl.load_workbook(io.BytesIO(content)).active.max_row == 1 + count + 2


def test_the_paginator_reads_its_count_off_the_counts_per_status(
    client, people, django_assert_num_queries
):
    """No COUNT query of its own: the rows shown are those of the status chosen (or all)."""
    _many(30)
    client.force_login(people["province"])
    with django_assert_num_queries(STATUS_PAGE_QUERIES["home"]) as captured:
        response = client.get(reverse("targets:status"), {"per_page": 4})
    assert not any(
        'COUNT(*) AS "__count"' in query["sql"] and "targets_alertrecipient" not in query["sql"]
        for query in captured
    )  # only the menu's count of unread alerts
    counts = {value: count for value, _label, count in response.context["status_counts"]}
    assert response.context["table"].paginator.count == sum(counts.values()) == 32
    status = next(value for value, count in counts.items() if count)
    page = client.get(reverse("targets:status"), {"per_page": 4, "status": status})
    assert page.context["table"].paginator.count == counts[status]
    assert page.context["table"].paginator.num_pages == -(-counts[status] // 4)


def test_a_choice_of_due_year_is_checked_against_the_visible_targets(client, people):
    _many(3)
    client.force_login(people["province"])
    year = Target.objects.values_list("due_date__year", flat=True).first()
    chosen = client.get(reverse("targets:status"), {"due_year": year})
    assert len(chosen.context["table"].page.object_list) == 5
    other = client.get(reverse("targets:status"), {"due_year": year + 50})
    assert "due_year" in other.context["filter"].form.errors
    assert list(other.context["table"].page.object_list) == []


def test_export_is_streamed_from_a_cursor(client, people, monkeypatch):
    """Memory does not grow with the rows: they are read through a server-side cursor (a
    chunk at a time), and the CSV leaves in pieces before later rows are even read."""
    monkeypatch.setattr(SafeTableExport, "CHUNK_ROWS", 5)
    _many(20)
    read = []
    code = tables.EXPORTED["code"]
    monkeypatch.setitem(tables.EXPORTED, "code", lambda target: read.append(1) or code(target))
    client.force_login(people["province"])
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("targets:status"), {"_export": "csv"})
        chunks = iter(response.streaming_content)
        assert next(chunks) == b"\xef\xbb\xbf"  # the byte-order mark, before any row is read
        first = next(chunks)
        assert (first.count(b"\r\n"), len(read)) == (5, 4)  # the header and 4 rows so far
        rest = list(chunks)
    assert len(read) == 22
    assert sum(chunk.count(b"\r\n") for chunk in rest) == 22 - 4
    assert captured.captured_queries[-1]["sql"].startswith("DECLARE")
