"""Alerts and digests in the admin: visible, filterable, failed digests re-sendable."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from targets.models import DeliveryState, Digest
from tests.alerting import evaluate

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["alert", "digest"])
def test_alert_and_digest_lists_load(client, people, model):
    evaluate(date(2026, 11, 24))
    client.force_login(people["admin"])
    response = client.get(reverse(f"admin:targets_{model}_changelist"))
    assert response.status_code == 200
    detail = reverse(
        f"admin:targets_{model}_change",
        args=[Digest.objects.get().pk if model == "digest" else 1],
    )
    if model == "digest":
        assert client.get(detail).status_code == 200


def test_failed_digest_is_listed_with_its_error_and_resent(
    client, people, django_capture_on_commit_callbacks
):
    run = evaluate(date(2026, 11, 24))
    Digest.objects.filter(pk__in=run.digest_ids).update(
        state=DeliveryState.FAILED, last_error="SMTPDataError: (451, b'busy')"
    )
    client.force_login(people["admin"])
    listed = client.get(reverse("admin:targets_digest_changelist") + "?state=failed")
    assert b"SMTPDataError" in listed.content
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(
            reverse("admin:targets_digest_changelist"),
            {"action": "resend_failed", "_selected_action": list(run.digest_ids)},
        )
    assert response.status_code == 302
    assert Digest.objects.get(pk=run.digest_ids[0]).state == DeliveryState.PENDING
    assert len(queued) == 1


def test_an_alert_reads_as_its_target_kind_and_subject_not_its_key(client, people, in_english):
    from targets.models import Alert

    evaluate(date(2026, 11, 24))
    alert = Alert.objects.filter(kind="overdue").select_related("target").first()
    assert str(alert) == f"{alert.target.code} Report overdue {alert.subject}"
    assert str(alert.target_id) in alert.key and alert.target.code not in alert.key
    client.force_login(people["admin"])
    page = client.get(reverse("admin:targets_alert_change", args=[alert.pk]))
    assert f"<title>{alert.target.code} ".encode() in page.content  # in the admin's language
