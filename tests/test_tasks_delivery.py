"""Delivering digests exactly once: real SMTP (aiosmtpd on loopback), real Redis, real workers.

Plain service tests first (no worker), then the marked suite that runs an embedded Celery
worker (a thread) or worker processes against the Redis database of CELERY_BROKER_URL.
"""

from __future__ import annotations

import ast
import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from targets.models import DeliveryState, Digest, Profile, Target
from targets.services import delivery
from tests.alerting import delivery_policy, evaluate, report_bx_ip_until_q3
from tests.conftest import purge_test_broker
from tests.mailserver import Mailbox, start_server, wait_until

D0 = date(2026, 11, 24)
ROOT = Path(__file__).resolve().parent.parent


class ConnectionsMailbox(Mailbox):
    """Also records the client address of every DATA command: one per SMTP connection."""

    def __init__(self) -> None:
        super().__init__()
        self.peers: list[tuple[str, int]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.peers.append(session.peer)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def mailbox(settings):
    box = ConnectionsMailbox()
    controller = start_server(box)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    box.port = controller.port
    yield box
    box.release.set()
    controller.stop()


def policy(**changes) -> delivery.DeliveryPolicy:
    return delivery_policy(**changes)


def overdue_digest(people) -> Digest:
    """At 2026-11-24 BX-IP has five unreported quarters: one digest for the commune manager."""
    run = evaluate(D0)
    return Digest.objects.get(pk=run.digest_ids[0])


# --- the delivery service against a real SMTP server -------------------------------


@pytest.mark.smtp
@pytest.mark.django_db
def test_a_claimed_digest_is_sent_once_and_marked_sent(people, mailbox):
    digest = overdue_digest(people)
    assert delivery.digest_deliver(digest_id=digest.pk, policy=policy()) == "sent"
    assert delivery.digest_deliver(digest_id=digest.pk, policy=policy()) == "not_claimed"
    digest.refresh_from_db()
    assert (digest.state, digest.attempts, digest.last_error) == (DeliveryState.SENT, 1, "")
    assert digest.sent_at is not None
    [mail] = mailbox.received
    assert mail.rcpt_tos == ["bx.manager@example.org"]
    assert mail.message_id == f"<digest-{digest.pk}-{digest.run}@localhost>"


@pytest.mark.smtp
@pytest.mark.django_db
def test_a_refusal_leaves_the_digest_failed_with_the_error_and_its_next_try(people, mailbox):
    digest = overdue_digest(people)
    mailbox.refuse_next = 1
    t0 = timezone.now()
    assert delivery.digest_deliver(digest_id=digest.pk, policy=policy(), now=t0) == "retry_later"
    digest.refresh_from_db()
    assert digest.state == DeliveryState.FAILED
    assert "451" in digest.last_error and digest.attempts == 1
    # The first delay is a minute, less up to a fifth of it (jitter).
    assert t0 + timedelta(seconds=48) <= digest.next_attempt_at <= t0 + timedelta(minutes=1)
    # A copy of the task meanwhile cannot try again: only the dispatcher reopens it, in time.
    assert delivery.digest_deliver(digest_id=digest.pk, policy=policy(), now=t0) == "not_claimed"
    assert delivery.digests_due(policy=policy(), now=t0) == []
    later = digest.next_attempt_at
    assert delivery.digests_due(policy=policy(), now=later) == [digest.pk]
    assert delivery.digest_deliver(digest_id=digest.pk, policy=policy(), now=later) == "sent"
    assert len(mailbox.received) == 1 and mailbox.refusals == 1


@pytest.mark.smtp
@pytest.mark.django_db
def test_an_unreachable_server_on_the_last_try_leaves_failed(people, mailbox, settings):
    digest = overdue_digest(people)
    settings.EMAIL_PORT = 9  # nothing listens on loopback's discard port
    outcome = delivery.digest_deliver(digest_id=digest.pk, policy=policy(max_attempts=1))
    assert outcome == "failed"
    digest.refresh_from_db()
    assert (digest.state, digest.attempts, digest.next_attempt_at) == (
        DeliveryState.FAILED, 1, None
    )
    assert "ConnectionRefusedError" in digest.last_error


@pytest.mark.django_db
def test_a_recipient_who_lost_the_address_fails_at_once_without_retries(people):
    digest = overdue_digest(people)
    people["manager"].email = ""
    people["manager"].save(update_fields=["email"])
    with pytest.raises(ValueError, match="no email address"):
        delivery.digest_deliver(digest_id=digest.pk, policy=policy())
    digest.refresh_from_db()
    assert (digest.state, digest.next_attempt_at) == (DeliveryState.FAILED, None)
    assert delivery.digests_due(policy=policy(), now=timezone.now() + timedelta(days=1)) == []
    assert digest.last_error == "ValueError: the recipient has no email address"


@pytest.mark.django_db
def test_a_fresh_claim_is_not_taken_a_stale_one_is(people):
    digest = overdue_digest(people)
    lease = timedelta(minutes=15)
    rules = policy(lease=lease)
    t0 = timezone.now()
    assert delivery.digest_claim(digest_id=digest.pk, policy=rules, now=t0) == t0
    # Another worker a minute later: the claim is fresh, it must keep off.
    minute = t0 + timedelta(minutes=1)
    assert delivery.digest_claim(digest_id=digest.pk, policy=rules, now=minute) is None
    assert delivery.digests_due(policy=rules, now=minute) == []
    # After the lease the claimant is presumed dead: claimable again, attempt 2.
    later = t0 + timedelta(minutes=16)
    assert delivery.digests_due(policy=rules, now=later) == [digest.pk]
    assert delivery.digest_claim(digest_id=digest.pk, policy=rules, now=later) == later
    digest.refresh_from_db()
    assert digest.attempts == 2


@pytest.mark.django_db
def test_failed_digests_come_back_at_their_next_try_and_on_resend(
    people, django_capture_on_commit_callbacks
):
    digest = overdue_digest(people)
    now = timezone.now()
    hour = timedelta(hours=1)
    Digest.objects.filter(pk=digest.pk).update(
        state=DeliveryState.FAILED, claimed_at=now, attempts=3, next_attempt_at=now + hour
    )
    assert delivery.digests_due(policy=policy(), now=now) == []
    assert delivery.digests_due(policy=policy(), now=now + hour) == [digest.pk]
    # After the set number of tries in all, a failed digest waits for a person.
    Digest.objects.filter(pk=digest.pk).update(
        state=DeliveryState.FAILED, attempts=30, next_attempt_at=None
    )
    later = now + hour * 3
    assert delivery.digests_due(policy=policy(), now=later) == []
    assert Digest.objects.get(pk=digest.pk).state == DeliveryState.FAILED
    with django_capture_on_commit_callbacks() as callbacks:
        assert delivery.digests_resend(digest_ids=[digest.pk]) == 1
    assert len(callbacks) == 1  # the send is queued once the re-send commits
    digest.refresh_from_db()
    # A fresh budget: the re-sent digest may be tried again as many times as a new one.
    assert (digest.state, digest.attempts) == (DeliveryState.PENDING, 0)


@pytest.mark.django_db
def test_digests_are_queued_only_after_the_evaluation_commits(
    people, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        run = evaluate(D0)
    assert len(run.digest_ids) == 1
    assert len(callbacks) == 1


def two_digests(people) -> list[Digest]:
    """At 2026-11-24: bx.manager (BX-IP overdue) and bx.staff2, the owner of BX-OCC."""
    Target.objects.filter(code="BX-OCC").update(owner=people["staff2"])
    run = evaluate(D0)
    assert len(run.digest_ids) == 2
    return list(Digest.objects.filter(pk__in=run.digest_ids).order_by("pk"))


@pytest.mark.smtp
@pytest.mark.django_db
def test_a_batch_goes_over_one_connection_and_a_second_run_of_it_sends_nothing(
    people, mailbox
):
    ids = [d.pk for d in two_digests(people)]
    sent = delivery.digests_deliver(digest_ids=ids, policy=policy())
    assert sent == {pk: "sent" for pk in ids}
    assert len(mailbox.received) == 2 and len(set(mailbox.peers)) == 1
    # The same batch again (a copy of its task message): every digest is someone else's.
    again = delivery.digests_deliver(digest_ids=ids, policy=policy())
    assert again == {pk: "not_claimed" for pk in ids}
    assert len(mailbox.received) == 2
    assert set(Digest.objects.values_list("state", "attempts")) == {(DeliveryState.SENT, 1)}


@pytest.mark.smtp
@pytest.mark.django_db(transaction=True)
def test_each_digest_of_a_batch_is_marked_sent_before_the_next_one_is_sent(people, mailbox):
    first, second = two_digests(people)
    seen: list[dict[int, str]] = []
    accept = mailbox.handle_DATA

    def states() -> dict[int, str]:
        try:
            return dict(Digest.objects.values_list("pk", "state"))
        finally:
            connection.close()  # this thread's own connection

    async def handle_DATA(server, session, envelope) -> str:
        seen.append(await asyncio.to_thread(states))  # what other workers see now
        return await accept(server, session, envelope)

    mailbox.handle_DATA = handle_DATA
    outcomes = delivery.digests_deliver(digest_ids=[first.pk, second.pk], policy=policy())
    assert outcomes == {first.pk: "sent", second.pk: "sent"}
    assert seen == [
        {first.pk: DeliveryState.SENDING, second.pk: DeliveryState.PENDING},
        {first.pk: DeliveryState.SENT, second.pk: DeliveryState.SENDING},
    ]
    assert set(Digest.objects.values_list("state", flat=True)) == {DeliveryState.SENT}


@pytest.mark.smtp
@pytest.mark.django_db
def test_after_a_refusal_the_batch_goes_on_over_a_fresh_connection(people, mailbox):
    first, second = two_digests(people)
    mailbox.refuse_next = 1
    outcomes = delivery.digests_deliver(digest_ids=[first.pk, second.pk], policy=policy())
    assert outcomes == {first.pk: "retry_later", second.pk: "sent"}
    assert len(mailbox.peers) == 2 and mailbox.peers[0] != mailbox.peers[1]
    first.refresh_from_db()
    assert (first.state, first.attempts) == (DeliveryState.FAILED, 1)
    assert "451" in first.last_error and first.next_attempt_at is not None
    assert [r.rcpt_tos for r in mailbox.received] == [[second.user.email]]


@pytest.mark.smtp
@pytest.mark.django_db
def test_a_digest_that_cannot_be_sent_at_all_fails_alone_and_the_batch_goes_on(
    people, mailbox
):
    first, second = two_digests(people)
    first.user.email = ""
    first.user.save(update_fields=["email"])
    outcomes = delivery.digests_deliver(digest_ids=[first.pk, second.pk], policy=policy())
    assert outcomes == {first.pk: "failed", second.pk: "sent"}
    first.refresh_from_db()
    assert (first.state, first.next_attempt_at, first.last_error) == (
        DeliveryState.FAILED, None, "ValueError: the recipient has no email address"
    )
    assert len(mailbox.received) == 1


@pytest.mark.django_db
def test_digests_are_queued_in_batches(people, monkeypatch):
    queued: list[tuple[str, list]] = []
    monkeypatch.setattr(
        delivery.current_app, "send_task",
        lambda name, args, **options: queued.append((name, args)),
    )
    ids = list(range(1, 2 * delivery.BATCH + 2))
    assert delivery.digests_enqueue(ids) == len(ids)
    assert queued == [
        (delivery.SEND_DIGESTS, [ids[: delivery.BATCH]]),
        (delivery.SEND_DIGESTS, [ids[delivery.BATCH : 2 * delivery.BATCH]]),
        (delivery.SEND_DIGESTS, [ids[2 * delivery.BATCH :]]),
    ]


@pytest.mark.smtp
@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_at_once_send_each_digest_once(people, mailbox):
    # Two recipients: the commune manager (BX-IP overdue) and the owner of BX-OCC.
    Target.objects.filter(code="BX-OCC").update(owner=people["staff2"])
    run = evaluate(D0)
    ids = sorted(run.digest_ids)
    assert len(ids) == 2  # bx.manager (BX-IP) and bx.staff2 (owner of BX-OCC)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def dispatcher() -> None:
        try:
            barrier.wait(timeout=10)
            for pk in delivery.digests_due(policy=policy()):
                outcomes.append(delivery.digest_deliver(digest_id=pk, policy=policy()))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=dispatcher) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert sorted(outcomes).count("sent") == 2
    assert len(mailbox.received) == 2
    assert len(set(mailbox.message_ids())) == 2
    assert set(Digest.objects.values_list("state", flat=True)) == {DeliveryState.SENT}
    assert sorted(Digest.objects.values_list("attempts", flat=True)) == [1, 1]


# --- a real Celery worker against the real Redis ------------------------------------


@pytest.fixture
def worker(mailbox, embedded_worker):
    """The embedded worker, started once the mail server is up."""
    return embedded_worker


def sent(digest_id: int) -> bool:
    return Digest.objects.filter(pk=digest_id, state=DeliveryState.SENT).exists()


@pytest.mark.celery
@pytest.mark.smtp
@pytest.mark.django_db(transaction=True)
def test_evaluation_task_to_digest_email_through_a_real_worker(people, worker, mailbox):
    from targets.tasks import evaluate_all

    report_bx_ip_until_q3(people)
    Target.objects.filter(code="BX-OCC").update(owner=people["dept_staff"])
    Profile.objects.create(user=people["dept_staff"], language="en")
    Profile.objects.create(user=people["manager"], language="vi")
    evaluate_all.delay(D0.isoformat())
    # BX-OCC has no entry: five overdue quarters → its owner (en); BX-IP is fine.
    assert wait_until(lambda: len(mailbox.received) == 1, timeout=30)
    [mail] = mailbox.received
    assert mail.rcpt_tos == ["ind.staff@example.org"]
    assert mail.message["Subject"] == "[Target Tracker] 5 new alerts (24 Nov 2026)"
    assert "https://" not in mail.part("text/plain")  # SITE_URL default in tests: 127.0.0.1
    assert "http://127.0.0.1:8000/targets/BX-OCC/" in mail.part("text/plain")
    assert 'href="http://127.0.0.1:8000/targets/BX-OCC/"' in mail.part("text/html")
    # A second run for the same date records nothing and sends nothing more.
    evaluate_all.delay(D0.isoformat())
    time.sleep(2)
    assert len(mailbox.received) == 1


def dispatch_until(condition, timeout: float = 30) -> bool:
    """Run the dispatcher (the beat's every-minute task) on the worker until ``condition``."""
    from targets.tasks import dispatch_pending

    def tick() -> bool:
        dispatch_pending.delay()
        return condition()

    return wait_until(tick, timeout=timeout, step=0.5)


@pytest.mark.celery
@pytest.mark.smtp
@pytest.mark.django_db(transaction=True)
def test_refused_then_accepted_is_retried_by_the_dispatcher_and_arrives_once(
    people, worker, mailbox, settings
):
    settings.ALERT_DELIVERY_RETRY_DELAY = 0  # the delays are not what this test is about
    mailbox.refuse_next = 2
    digest = overdue_digest(people)  # queued on commit; the worker picks it up

    def failed_once() -> bool:
        return Digest.objects.filter(pk=digest.pk, state=DeliveryState.FAILED).exists()

    assert wait_until(failed_once, timeout=30)
    digest.refresh_from_db()
    assert digest.attempts == 1 and digest.next_attempt_at is not None
    assert dispatch_until(lambda: sent(digest.pk))
    digest.refresh_from_db()
    assert mailbox.refusals == 2
    assert len(mailbox.received) == 1
    assert (digest.attempts, digest.last_error, digest.next_attempt_at) == (3, "", None)
    dispatch_until(lambda: False, timeout=1.5)  # more dispatches: nothing more is sent
    assert len(mailbox.received) == 1


# --- a worker process killed in the middle of a send --------------------------------


def start_worker_process(mailbox: Mailbox, log: Path) -> subprocess.Popen:
    name = connection.settings_dict["NAME"]  # pytest-django's test database
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{connection.settings_dict['USER'] or 'postgres'}"
        f"@127.0.0.1:{connection.settings_dict['PORT'] or 5432}/{name}",
        "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(mailbox.port),
        "EMAIL_TIMEOUT": "10",
        "ALERT_SENDING_LEASE": "3",
        "CELERY_VISIBILITY_TIMEOUT": "6",
        "CELERY_UNACKED_RESTORE_INTERVAL": "1",
        "LOG_LEVEL": "INFO",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tracker", "worker", "--pool=solo",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info"],
        cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.mark.celery
@pytest.mark.smtp
@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_send_the_digest_arrives_exactly_once(people, mailbox, tmp_path):
    purge_test_broker()
    mailbox.stall_next = True
    log = tmp_path / "worker.log"
    first = start_worker_process(mailbox, log)
    second = None
    try:
        digest = overdue_digest(people)  # queued on commit
        assert mailbox.stalled.wait(timeout=60), log.read_text()
        # The worker has claimed the digest and sent the message; the server has not answered.
        stop(first, signal.SIGKILL)
        digest.refresh_from_db()
        assert (digest.state, digest.attempts) == (DeliveryState.SENDING, 1)
        assert mailbox.received == []  # the transaction died with the client: not accepted
        time.sleep(3.5)  # the dead worker's claim lease (ALERT_SENDING_LEASE=3) runs out
        second = start_worker_process(mailbox, log)
        assert wait_until(lambda: sent(digest.pk), timeout=60), log.read_text()
        # Past the broker's visibility timeout (6 s) the killed worker's own task message
        # comes back too (acks_late), beside the send the new worker's start-up dispatch
        # queues. Which of them sends depends on timing — under load the redelivered task
        # often comes first — so what is asserted is what may not vary: every send task
        # ends, the redelivered one too, exactly one of them sends, one email arrives, and
        # the digest was claimed twice (by the killed worker, then by the one that sent).
        killed = re.search(r"send_digests\[([0-9a-f-]+)\] received", log.read_text()).group(1)

        def outcomes() -> dict[str, str]:
            """The outcome of each ended send task (a batch of this one digest)."""
            text = log.read_text()
            received = set(re.findall(r"send_digests\[([0-9a-f-]+)\] received", text))
            ended = {
                task: outcome
                for task, counts in re.findall(
                    r"send_digests\[([0-9a-f-]+)\] succeeded in \S+ (\{.*?\})", text
                )
                for outcome in ast.literal_eval(counts)
            }
            return ended if killed in ended and received <= ended.keys() else {}

        assert wait_until(outcomes, timeout=40), log.read_text()
        time.sleep(1)  # a send still on its way is received by now
        assert wait_until(outcomes, timeout=20), log.read_text()
        ended = outcomes()
        assert sorted(ended.values()).count("sent") == 1, ended
        assert set(ended.values()) <= {"sent", "not_claimed"}, ended
        assert len(mailbox.received) == 1
        digest.refresh_from_db()
        assert (digest.state, digest.attempts) == (DeliveryState.SENT, 2)
        assert mailbox.received[0].message_id == f"<digest-{digest.pk}-{digest.run}@localhost>"
    finally:
        stop(first, signal.SIGKILL)
        if second is not None:
            stop(second)


def test_beat_schedules_the_daily_evaluation_and_the_retry_net():
    from celery.schedules import crontab

    from tracker.celery import app

    schedule = app.conf.beat_schedule
    assert app.conf.timezone == "Asia/Ho_Chi_Minh"
    daily = schedule["evaluate-targets-daily"]
    assert daily["task"] == "targets.tasks.evaluate_all"
    assert daily["schedule"] == crontab(hour=6, minute=0)
    # Every minute, so that a failed digest is tried again within a minute of its time.
    assert schedule["dispatch-pending-digests"] == {
        "task": "targets.tasks.dispatch_pending", "schedule": 60.0, "options": {"expires": 55},
    }
    from targets.tasks import send_digest, send_digests

    # acks_late: a task of a dead worker comes back; but no Celery retries of a send, which
    # would multiply the digest's budget of tries by the number of its task messages.
    for task in (send_digest, send_digests):
        assert task.acks_late
        assert not getattr(task, "autoretry_for", ())
    assert send_digests.name == delivery.SEND_DIGESTS  # the name services queue it by
