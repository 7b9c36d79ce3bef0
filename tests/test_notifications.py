"""Digest emails: one per recipient and run, in the recipient's language, text + HTML, links."""

from __future__ import annotations

from datetime import date
from email.header import decode_header, make_header

import pytest
from django.utils import translation

from targets.models import Alert, Digest, Profile
from targets.notifications import alert_message, digest_items, digest_message, message_id
from targets.services import delivery
from tests.alerting import alert_key, delivery_policy, evaluate, lagging_occupancy
from tests.mailserver import Mailbox, start_server

pytestmark = pytest.mark.django_db

SITE = "https://tracker.example.vn"
FROM = "Target Tracker <canhbao@tracker.example.vn>"


@pytest.fixture
def two_readers(people):
    """At 2026-11-24: bx.manager (vi) gets BX-IP's five overdue quarters; ind.staff (en), owner
    of the lagging BX-OCC, gets its worsening."""
    Profile.objects.create(user=people["manager"], language="vi")
    Profile.objects.create(user=people["dept_staff"], language="en")
    lagging_occupancy(people)
    run = evaluate(date(2026, 11, 24))
    return {d.user.username: d for d in Digest.objects.filter(pk__in=run.digest_ids)}


def test_english_digest_lists_each_alert_with_a_link(two_readers):
    message = digest_message(two_readers["ind.staff"], site_url=SITE, from_email=FROM)
    assert message.to == ["ind.staff@example.org"]
    assert message.from_email == FROM
    assert message.subject == "[Target Tracker] 1 new alert (24 Nov 2026)"
    # The target once, then what happened (its kind not said twice), and on the next line why
    # (rule 8): 22 % reported for 2026-Q3 against 20 + 60 × 457/2010 = 33.64 expected at
    # 2026-09-30, a ratio of 2 / 13.64 = 15 %.
    assert (
        "* BX-OCC — Occupancy of industrial zones\n"
        "  - Status worsened from No data to Lagging.\n"
        "    Lagging: 22 against 33.64 expected as of 30 Sep 2026 "
        "(15 % of the planned progress, below 80 %).\n"
        f"  {SITE}/targets/BX-OCC/\n"
    ) in message.body
    assert f"{SITE}/targets/BX-OCC/" in message.body
    assert f"{SITE}/alerts/" in message.body
    assert "The evaluation of 24 Nov 2026 found 1 new alert for you:" in message.body
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    assert "<strong>BX-OCC</strong> — Occupancy of industrial zones" in html
    assert f'<a href="{SITE}/targets/BX-OCC/" style=' in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "Status worsened: " not in html + message.body  # the kind's label is not repeated
    assert (
        '<span class="reason" style="color: #444">Lagging: 22 against 33.64 expected as of '
        "30 Sep 2026 (15 % of the planned progress, below 80 %).</span>"
    ) in html


def test_vietnamese_digest_for_a_vietnamese_reader(two_readers):
    message = digest_message(two_readers["bx.manager"], site_url=SITE, from_email=FROM)
    assert message.subject == "[Theo dõi chỉ tiêu] 5 cảnh báo mới (24/11/2026)"
    assert "Báo cáo kỳ 2026-Q3 đã quá hạn (hạn nộp 15/10/2026)." in message.body
    assert "Đợt đánh giá ngày 24/11/2026 có 5 cảnh báo mới gửi anh/chị:" in message.body
    assert "Kính gửi bx.manager," in message.body  # no first or last name: the username
    # Five alerts of one target: the target and its link said once.
    assert message.body.count(f"{SITE}/targets/BX-IP/") == 1
    assert message.body.count("* BX-IP — ") == 1 and message.body.count("\n  - ") == 5
    html = message.alternatives[0][0]
    assert "Đợt đánh giá ngày" in html and html.count(f'href="{SITE}/targets/BX-IP/"') == 1
    assert html.count('class="target"') == 1
    # Each overdue report carries the verdict it was recorded with, in Vietnamese.
    no_report = "Chưa có số liệu: chưa có báo cáo nào được duyệt."
    assert message.body.count(f"\n    {no_report}\n") == 5
    assert html.count(f'<span class="reason" style="color: #444">{no_report}</span>') == 5


def test_the_message_id_is_stable_across_attempts(two_readers):
    digest = two_readers["bx.manager"]
    first = digest_message(digest, site_url=SITE, from_email=FROM)
    again = digest_message(digest, site_url=SITE, from_email=FROM)
    assert first.extra_headers["Message-ID"] == again.extra_headers["Message-ID"]
    assert message_id(digest, FROM) == f"<digest-{digest.pk}-{digest.run}@tracker.example.vn>"


READERS = {"bx.manager": 5, "ind.staff": 1}  # the alerts in each one's digest


@pytest.mark.parametrize("reader", list(READERS))
def test_composing_a_digest_takes_one_query_whatever_its_alerts(
    two_readers, reader, django_assert_num_queries
):
    digest = Digest.objects.select_related("user__profile").get(pk=two_readers[reader].pk)
    with django_assert_num_queries(1):
        digest_message(digest, site_url=SITE, from_email=FROM)
    items = digest_items([digest.pk])[digest.pk]
    with django_assert_num_queries(0):  # a sender reads the alerts of a whole batch at once
        message = digest_message(digest, site_url=SITE, from_email=FROM, items=items)
    assert message.body.count("\n  - ") == len(items) == READERS[reader]  # one line each


@pytest.mark.parametrize("reader", list(READERS))
def test_sending_a_digest_takes_four_queries_whatever_its_alerts(
    two_readers, reader, django_assert_num_queries, mailoutbox
):
    policy = delivery_policy(site_url=SITE, from_email=FROM)
    # Read the digest, read its alerts, claim it, mark it sent.
    with django_assert_num_queries(4):
        assert delivery.digest_deliver(digest_id=two_readers[reader].pk, policy=policy) == "sent"
    assert [m.to for m in mailoutbox] == [[f"{reader}@example.org"]]


def test_a_batch_is_read_in_two_queries_then_claimed_and_marked_one_by_one(
    two_readers, django_assert_num_queries, mailoutbox
):
    ids = sorted(d.pk for d in two_readers.values())
    policy = delivery_policy(site_url=SITE, from_email=FROM)
    with django_assert_num_queries(2 + 2 * len(ids)):
        outcomes = delivery.digests_deliver(digest_ids=ids, policy=policy)
    assert outcomes == {pk: "sent" for pk in ids}
    assert sorted(m.to[0] for m in mailoutbox) == [f"{r}@example.org" for r in READERS]


def test_each_kind_reads_well_in_both_languages(people):
    lagging_occupancy(people)
    evaluate(date(2026, 11, 24))
    evaluate(date(2026, 12, 24))  # escalation
    worsened = Alert.objects.get(key=alert_key("BX-OCC", "worsened:2026-11-24:lagging"))
    with translation.override("vi"):
        assert alert_message(worsened) == (
            "Tình trạng xấu đi từ Chưa có số liệu thành Chậm tiến độ. "
            "Chậm tiến độ: thực tế 22 so với kế hoạch 33,64 tính đến 30/09/2026 "
            "(đạt 15 % tiến độ kế hoạch, dưới 80 %)."
        )
    with translation.override("en"):
        assert alert_message(worsened) == (
            "Status worsened from No data to Lagging. Lagging: 22 against 33.64 expected as "
            "of 30 Sep 2026 (15 % of the planned progress, below 80 %)."
        )
    alert = Alert.objects.get(key=alert_key("BX-OCC", "escalated:2026-11-24"))
    with translation.override("en"):
        assert alert_message(alert) == (
            "Still Lagging 30 days after the first alert (24 Nov 2026): "
            "escalated to the managers of the parent unit."
        )
    with translation.override("vi"):
        assert alert_message(alert) == (
            "Vẫn Chậm tiến độ sau 30 ngày kể từ cảnh báo đầu tiên (24/11/2026): "
            "chuyển lãnh đạo đơn vị cấp trên."
        )


def test_an_alert_recorded_before_verdicts_were_kept_still_reads_well(people):
    """Alerts recorded by version 1 kept only the actual and the value expected on the day."""
    lagging_occupancy(people)
    evaluate(date(2026, 11, 24))
    worsened = Alert.objects.get(key=alert_key("BX-OCC", "worsened:2026-11-24:lagging"))
    worsened.params = {"actual": "22", "expected": "35.28"}
    worsened.save(update_fields=["params"])
    overdue = Alert.objects.filter(kind="overdue").first()
    overdue.params = {"period": "2026-Q3", "deadline": "2026-10-15"}
    overdue.save(update_fields=["params"])
    with translation.override("en"):
        assert alert_message(worsened) == (
            "Status worsened from No data to Lagging (actual 22, expected 35.28 on 24 Nov 2026)."
        )
        assert alert_message(overdue) == (
            "The report for 2026-Q3 is overdue (it was due by 15 Oct 2026)."
        )
    with translation.override("vi"):
        assert alert_message(worsened) == (
            "Tình trạng xấu đi từ Chưa có số liệu thành Chậm tiến độ "
            "(thực tế 22, kế hoạch 35,28 tại ngày 24/11/2026)."
        )


def test_a_recovery_and_a_missed_milestone_say_why(people):
    from targets.models import Target
    from tests.alerting import report

    # BX-IP (step, 1 by 2027-12-31) reported 0 to 2027-Q4: the milestone is missed.
    periods = [p.key for p in Target.objects.get(code="BX-IP").reporting_periods()][:10]
    for period in periods:
        report("BX-IP", period, 0, author=people["staff"], reviewer=people["manager"])
    evaluate(date(2028, 1, 20))
    missed = Alert.objects.get(key=alert_key("BX-IP", "milestone_missed:2027-12-31"))
    with translation.override("en"):
        assert alert_message(missed) == (
            "The milestone of 31 Dec 2027 was missed. Lagging: 0 against 1 expected as of "
            "31 Dec 2027 (0 % of the planned progress, below 80 %)."
        )
    report("BX-IP", "2028-Q1", 2, author=people["staff"], reviewer=people["manager"])
    evaluate(date(2028, 4, 20))
    recovered = Alert.objects.get(kind="recovered", target__code="BX-IP")
    with translation.override("en"):
        assert alert_message(recovered) == (
            "Recovered: the status is now Achieved (it was Lagging). "
            "Achieved: 2 reached the target of 2 (as of 31 Mar 2028)."
        )


@pytest.mark.smtp
def test_a_real_smtp_server_receives_both_languages(two_readers, settings):
    box = Mailbox()
    server = start_server(box)
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
        policy = delivery_policy(site_url=SITE, from_email=FROM)
        for digest in two_readers.values():
            assert delivery.digest_deliver(digest_id=digest.pk, policy=policy) == "sent"
    finally:
        server.stop()
    by_rcpt = {tuple(r.rcpt_tos): r for r in box.received}
    assert set(by_rcpt) == {("bx.manager@example.org",), ("ind.staff@example.org",)}
    vi = by_rcpt[("bx.manager@example.org",)]
    en = by_rcpt[("ind.staff@example.org",)]
    assert str(make_header(decode_header(vi.message["Subject"]))) == (
        "[Theo dõi chỉ tiêu] 5 cảnh báo mới (24/11/2026)"
    )
    assert en.message["Subject"] == "[Target Tracker] 1 new alert (24 Nov 2026)"
    assert "Báo cáo kỳ 2026-Q1 đã quá hạn" in vi.part("text/plain")
    assert f'href="{SITE}/targets/BX-IP/"' in vi.part("text/html")
    assert f"{SITE}/targets/BX-OCC/" in en.part("text/plain")
    assert vi.mail_from == "canhbao@tracker.example.vn"
