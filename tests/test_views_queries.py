"""The review queue and the target page do not run a query per entry."""

import pytest
from django.urls import reverse

from targets.models import Target
from tests.conftest import submitted_entry

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
