"""The alerts inbox at /alerts/: own alerts only, newest first, read / acknowledged."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from targets.models import AlertRecipient
from tests.alerting import alert_key, evaluate, lagging_occupancy, report_bx_ip_until_q3

pytestmark = pytest.mark.django_db


@pytest.fixture
def alerted(people):
    """bx.manager: five BX-IP overdue alerts (2026-11-24); ind.staff: BX-OCC lagging."""
    evaluate(date(2026, 11, 24))
    return people


def rows(response) -> list:
    return [row for group in response.context["groups"] for row, _message in group["items"]]


def test_the_inbox_lists_only_the_users_own_alerts(client, alerted):
    client.force_login(alerted["manager"])
    response = client.get(reverse("targets:alerts"))
    assert response.status_code == 200
    listed = rows(response)
    assert len(listed) == 5
    assert {row.user_id for row in listed} == {alerted["manager"].pk}
    assert response.context["unread_alerts"] == 5
    assert b"BX-IP" in response.content and b"/targets/BX-IP/" in response.content


def test_newest_first(client, people):
    lagging_occupancy(people)
    evaluate(date(2026, 11, 24))  # BX-IP overdue ×5 for the manager
    report_bx_ip_until_q3(people)
    evaluate(date(2026, 12, 24))  # BX-OCC escalated to the manager (parent unit)
    client.force_login(people["manager"])
    response = client.get(reverse("targets:alerts"), {"state": "all"})
    listed = rows(response)
    assert listed[0].alert.key == alert_key("BX-OCC", "escalated:2026-11-24")
    # Grouped by target, the target of the newest alert first; newest first within each.
    groups = [[row for row, _m in group["items"]] for group in response.context["groups"]]
    assert [g[0].alert.target.code for g in groups] == ["BX-OCC", "BX-IP"]
    for group in groups:
        assert len({row.alert.target_id for row in group}) == 1
        created = [row.alert.created_at for row in group]
        assert created == sorted(created, reverse=True)
    newest = [group[0].alert.created_at for group in groups]
    assert newest == sorted(newest, reverse=True)


def test_mark_read_and_acknowledge(client, alerted):
    client.force_login(alerted["manager"])
    first, second = AlertRecipient.objects.filter(user=alerted["manager"])[:2]
    response = client.post(reverse("targets:alert-read", args=[first.pk]))
    assert response.status_code == 302
    client.post(reverse("targets:alert-acknowledge", args=[second.pk]))
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.read_at is not None and first.acknowledged_at is None
    assert second.read_at is not None and second.acknowledged_at is not None
    assert client.get(reverse("targets:alerts")).context["unread_alerts"] == 3
    client.post(reverse("targets:alerts-read-all"))
    assert client.get(reverse("targets:alerts")).context["unread_alerts"] == 0


def test_someone_elses_alert_cannot_be_touched(client, alerted):
    theirs = AlertRecipient.objects.filter(user=alerted["manager"]).first()
    client.force_login(alerted["outsider"])
    assert rows(client.get(reverse("targets:alerts"))) == []
    response = client.post(reverse("targets:alert-acknowledge", args=[theirs.pk]))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None and theirs.acknowledged_at is None


def test_marking_needs_post(client, alerted):
    mine = AlertRecipient.objects.filter(user=alerted["manager"]).first()
    client.force_login(alerted["manager"])
    assert client.get(reverse("targets:alert-read", args=[mine.pk])).status_code == 405


def test_the_inbox_speaks_the_active_language(client, alerted):
    client.force_login(alerted["manager"])
    # The UI is Vietnamese unless the user chose otherwise (the switcher's cookie).
    vietnamese = client.get(reverse("targets:alerts"))
    assert "Báo cáo kỳ 2026-Q3 đã quá hạn" in vietnamese.content.decode()
    client.cookies["django_language"] = "en"
    english = client.get(reverse("targets:alerts"))
    assert "The report for 2026-Q3 is overdue" in english.content.decode()


def test_inbox_queries_do_not_grow_with_alerts(client, alerted, django_assert_max_num_queries):
    client.force_login(alerted["manager"])
    with django_assert_max_num_queries(8):
        client.get(reverse("targets:alerts"))


def test_alerts_on_targets_out_of_sight_leave_the_inbox(client, alerted):
    """Someone who lost the membership that showed a target loses its alerts: not listed, not
    counted, and not to be marked (404), like anyone else's."""
    from targets.models import Membership, Unit

    manager = alerted["manager"]
    mine = AlertRecipient.objects.filter(user=manager).first()
    Membership.objects.filter(user=manager).delete()
    client.force_login(manager)

    response = client.get(reverse("targets:alerts"))
    assert rows(response) == [] and response.context["unread_alerts"] == 0
    assert b"BX-IP" not in response.content
    for name in ("targets:alert-read", "targets:alert-acknowledge"):
        assert client.post(reverse(name, args=[mine.pk])).status_code == 404
    client.post(reverse("targets:alerts-read-all"))
    mine.refresh_from_db()
    assert mine.read_at is None and mine.acknowledged_at is None

    # Back on the commune, the alerts are back as they were.
    Membership.objects.create(user=manager, unit=Unit.objects.get(code="LC-BATXAT"), role="manager")
    response = client.get(reverse("targets:alerts"))
    assert len(rows(response)) == 5 and response.context["unread_alerts"] == 5


def test_a_narrower_membership_keeps_only_the_alerts_still_in_sight(client, people):
    from targets.models import Membership, Unit

    lagging_occupancy(people)
    evaluate(date(2026, 11, 24))  # BX-IP (commune) overdue ×5 and BX-OCC (department) lagging
    report_bx_ip_until_q3(people)
    evaluate(date(2026, 12, 24))  # BX-OCC escalated to the commune's manager
    manager = people["manager"]
    assert {r.alert.target.code for r in AlertRecipient.objects.filter(user=manager)} == {
        "BX-IP", "BX-OCC",
    }
    # Moved from the commune to its industry department: BX-IP is out of sight.
    Membership.objects.filter(user=manager).update(unit=Unit.objects.get(code="LC-BATXAT-IND"))
    client.force_login(manager)
    listed = rows(client.get(reverse("targets:alerts")))
    assert listed and {row.alert.target.code for row in listed} == {"BX-OCC"}


def test_resolved_alerts_are_not_unread_and_leave_the_open_list(client, alerted):
    from django.utils import timezone

    from targets.models import Alert

    client.force_login(alerted["manager"])
    client.cookies["django_language"] = "en"
    page = client.get(reverse("targets:status"))
    assert b'id="unread-alerts">5<span class="visually-hidden"> unread</span>' in page.content
    resolved = Alert.objects.filter(subject__in=["2025-Q3", "2025-Q4"])
    resolved.update(resolved_at=timezone.now())
    response = client.get(reverse("targets:alerts"))
    assert response.context["unread_alerts"] == 3  # a resolved alert needs nobody
    assert sorted(row.alert.subject for row in rows(response)) == [
        "2026-Q1", "2026-Q2", "2026-Q3"
    ]
    done = rows(client.get(reverse("targets:alerts"), {"state": "resolved"}))
    assert sorted(row.alert.subject for row in done) == ["2025-Q3", "2025-Q4"]
    assert len(rows(client.get(reverse("targets:alerts"), {"state": "all"}))) == 5
    # An unknown choice shows the open ones; each target is named once, over its alerts.
    odd = client.get(reverse("targets:alerts"), {"state": "<x>"})
    assert odd.context["state"] == "open" and len(odd.context["groups"]) == 1
    assert b'id="alert-states-help"' in response.content
    assert b"Acknowledged: you are dealing with it." in response.content
    assert response.content.count(b'class="card mb-3 alert-target"') == 1
