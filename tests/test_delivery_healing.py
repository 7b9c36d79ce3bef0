"""Delivery that heals itself: one budget of tries per digest, retries with growing delays
by the dispatcher, and a daily evaluation that catches up the days it missed.

Real SMTP (aiosmtpd on loopback), real PostgreSQL; the marked tests run the embedded Celery
worker against the Redis database of CELERY_BROKER_URL. Time is driven through ``now=`` /
``on=`` arguments, not by sleeping.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from targets.models import (
    Alert,
    AlertKind,
    Assessment,
    DeliveryState,
    Digest,
    EvaluationDay,
    Target,
)
from targets.services import daily, delivery
from tests.alerting import RULES
from tests.mailserver import wait_until
from tests.test_tasks_delivery import dispatch_until, mailbox, overdue_digest, policy, worker

__all__ = ["mailbox", "worker"]  # fixtures shared with the delivery tests

MINUTE = timedelta(minutes=1)


def refresh(digest: Digest) -> Digest:
    digest.refresh_from_db()
    return digest


# --- retries with growing delays, one budget per digest (services, real SMTP) --------


def test_retry_delays_double_up_to_the_cap_less_the_jitter():
    rules = policy(retry_delay=MINUTE, retry_delay_max=timedelta(hours=1))
    longest = [rules.retry_after(n, rand=lambda: 0.0) for n in range(1, 9)]
    assert longest == [MINUTE * m for m in (1, 2, 4, 8, 16, 32, 60, 60)]
    shortest = [rules.retry_after(n, rand=lambda: 1.0) for n in range(1, 9)]
    assert shortest == [MINUTE * m * 0.8 for m in (1, 2, 4, 8, 16, 32, 60, 60)]
    # Even the shortest draw waits longer than the longest draw before it, until the cap.
    assert all(shortest[n + 1] > longest[n] for n in range(5))
    assert rules.retry_after(10_000) <= timedelta(hours=1)  # no overflow on a long budget


@pytest.mark.smtp
@pytest.mark.django_db
def test_an_outage_is_healed_by_the_dispatcher_with_growing_delays_and_one_message(
    people, mailbox
):
    digest = overdue_digest(people)
    rules = policy()
    mailbox.refuse_always = True
    now = timezone.now()
    assert delivery.digest_deliver(digest_id=digest.pk, policy=rules, now=now) == "retry_later"
    delays = [refresh(digest).next_attempt_at - now]
    for _ in range(3):  # the outage lasts: each try is followed by a longer wait
        due = refresh(digest).next_attempt_at
        assert delivery.digests_due(policy=rules, now=due - timedelta(seconds=1)) == []
        assert delivery.digests_due(policy=rules, now=due) == [digest.pk]
        assert delivery.digest_deliver(digest_id=digest.pk, policy=rules, now=due) == (
            "retry_later"
        )
        delays.append(refresh(digest).next_attempt_at - due)
        assert refresh(digest).state == DeliveryState.FAILED
    assert delays == sorted(delays) and len(set(delays)) == 4
    assert MINUTE * 0.8 <= delays[0] <= MINUTE and MINUTE * 6.4 <= delays[3] <= MINUTE * 8
    assert mailbox.refusals == 4 and mailbox.received == []
    # The server is back (a quarter of an hour into the outage): the next dispatch sends it, once.
    mailbox.refuse_always = False
    due = refresh(digest).next_attempt_at
    assert delivery.digests_due(policy=rules, now=due) == [digest.pk]
    assert delivery.digest_deliver(digest_id=digest.pk, policy=rules, now=due) == "sent"
    assert delivery.digest_deliver(digest_id=digest.pk, policy=rules, now=due) == "not_claimed"
    assert delivery.digests_due(policy=rules, now=due + timedelta(days=1)) == []
    assert len(mailbox.received) == 1
    digest = refresh(digest)
    assert (digest.state, digest.attempts, digest.next_attempt_at, digest.last_error) == (
        DeliveryState.SENT, 5, None, ""
    )


@pytest.mark.smtp
@pytest.mark.django_db
def test_a_spent_budget_stays_failed_until_a_person_resends_it(people, mailbox):
    digest = overdue_digest(people)
    rules = policy(max_attempts=3)
    mailbox.refuse_always = True
    now = timezone.now()
    outcomes = []
    for hour in range(10):  # ten hours of dispatcher ticks and task copies, every retry due
        at = now + timedelta(hours=hour)
        for pk in [*delivery.digests_due(policy=rules, now=at), digest.pk, digest.pk]:
            outcomes.append(delivery.digest_deliver(digest_id=pk, policy=rules, now=at))
    assert mailbox.refusals == 3  # tries that reached the server: the budget, not more
    assert outcomes.count("retry_later") == 2 and outcomes.count("failed") == 1
    digest = refresh(digest)
    assert (digest.state, digest.attempts, digest.next_attempt_at) == (
        DeliveryState.FAILED, 3, None
    )
    assert "451" in digest.last_error
    assert delivery.digests_due(policy=rules, now=now + timedelta(days=30)) == []
    # A person re-sends it (the admin action): a fresh budget, and it goes out once.
    mailbox.refuse_always = False
    assert delivery.digests_resend(digest_ids=[digest.pk]) == 1
    assert delivery.digest_deliver(digest_id=digest.pk, policy=rules) == "sent"
    assert len(mailbox.received) == 1
    assert refresh(digest).attempts == 1


@pytest.mark.django_db
def test_a_worker_that_died_on_the_last_try_leaves_the_digest_failed_for_a_person(people):
    digest = overdue_digest(people)
    rules = policy(max_attempts=2)
    t0 = timezone.now()
    Digest.objects.filter(pk=digest.pk).update(
        state=DeliveryState.SENDING, claimed_at=t0, attempts=2
    )
    assert delivery.digests_due(policy=rules, now=t0 + rules.lease * 2) == []
    digest = refresh(digest)
    assert (digest.state, digest.next_attempt_at) == (DeliveryState.FAILED, None)
    assert digest.last_error == "the worker stopped during the last try"


@pytest.mark.django_db
def test_the_dispatcher_does_not_requeue_a_pending_digest_every_minute(people):
    digest = overdue_digest(people)
    rules = policy()
    t0 = timezone.now()
    assert delivery.digests_due(policy=rules, now=t0) == [digest.pk]
    # Its task is queued; until a lease has passed the dispatcher leaves it to that task.
    assert delivery.digests_due(policy=rules, now=t0 + MINUTE) == []
    assert delivery.digests_due(policy=rules, now=t0 + rules.lease) == [digest.pk]


# --- the same through a real worker ---------------------------------------------------


def broker_queue_empty() -> bool:
    return redis.Redis.from_url(django_settings.CELERY_BROKER_URL).llen("celery") == 0


@pytest.mark.celery
@pytest.mark.smtp
@pytest.mark.django_db(transaction=True)
def test_duplicate_task_messages_share_one_budget_of_tries(people, worker, mailbox, settings):
    from targets.tasks import send_digests

    settings.ALERT_DELIVERY_MAX_ATTEMPTS = 3
    settings.ALERT_DELIVERY_RETRY_DELAY = 0  # every retry is due at once: only the budget holds
    mailbox.refuse_always = True
    digest = overdue_digest(people)  # one task message on commit
    for _ in range(10):
        send_digests.delay([digest.pk])  # ten more copies of it

    def spent() -> bool:
        return Digest.objects.filter(
            pk=digest.pk, state=DeliveryState.FAILED, attempts=3, next_attempt_at=None
        ).exists()

    assert dispatch_until(spent)
    for _ in range(10):  # copies still arriving after the budget is spent
        send_digests.delay([digest.pk])
    dispatch_until(lambda: False, timeout=2)
    assert wait_until(broker_queue_empty, timeout=30)
    dispatch_until(lambda: False, timeout=1)  # the last message taken has been handled
    assert mailbox.refusals == 3  # DATA commands the server saw: exactly the budget
    assert mailbox.received == []
    assert refresh(digest).attempts == 3


# --- the daily evaluation catches up the days it missed --------------------------------

D = date(2026, 10, 16)  # 2026-Q3 (deadline 10-15, grace 15 days) is overdue from today
# Days of the small plan are evaluated in the daily task itself, never split.
IN_PROCESS = {"split_above": 10_000, "batch_size": 2000, "resume_after": timedelta(minutes=30)}


def days_recorded() -> list[date]:
    return sorted(EvaluationDay.objects.values_list("day", flat=True))


@pytest.mark.django_db
def test_a_missed_days_reminder_is_recorded_on_that_day_once(people, settings):
    from targets.tasks import evaluate_all

    # A reminder one day before the deadline: due on 10-14 and 10-15 only, both missed below.
    settings.REMINDER_DAYS = 1
    evaluate_all(on=(D - timedelta(days=3)).isoformat())  # 10-13; then the beat ticks are lost
    before = Alert.objects.count()
    created = evaluate_all(on=D.isoformat())
    assert days_recorded() == [D - timedelta(days=n) for n in (3, 2, 1, 0)]
    for code in ("BX-IP", "BX-OCC"):
        assert sorted(
            Assessment.objects.filter(target__code=code).values_list("evaluated_on", flat=True)
        ) == days_recorded()
    assert created == Alert.objects.count() - before > 0
    reminders = Alert.objects.filter(kind=AlertKind.REMINDER, subject="2026-Q3")
    assert sorted(reminders.values_list("target__code", "evaluated_on")) == [
        ("BX-IP", date(2026, 10, 14)), ("BX-OCC", date(2026, 10, 14)),
    ]
    # The staff heard of it in the digest of that day's run.
    assert set(
        Digest.objects.filter(evaluated_on=date(2026, 10, 14)).values_list(
            "user__username", flat=True
        )
    ) == {"bx.staff", "bx.staff2", "ind.staff"}
    overdue = Alert.objects.get(kind=AlertKind.OVERDUE, subject="2026-Q3", target__code="BX-IP")
    assert overdue.evaluated_on == D
    # A second run for the same day does nothing: no alert, no digest, no assessment.
    counts = (Alert.objects.count(), Digest.objects.count(), Assessment.objects.count())
    assert evaluate_all(on=D.isoformat()) == 0
    assert (Alert.objects.count(), Digest.objects.count(), Assessment.objects.count()) == counts


@pytest.mark.django_db
def test_the_catch_up_goes_back_a_bounded_number_of_days(people):
    EvaluationDay.objects.create(day=D - timedelta(days=30), finished_at=timezone.now())
    assert daily.evaluation_days_due(through=D, catch_up_days=7, start=True) == [
        D - timedelta(days=n) for n in range(7, -1, -1)
    ]
    runs = daily.evaluations_catch_up(
        through=D, catch_up_days=2, alert_settings=RULES, **IN_PROCESS
    )
    assert [run.on for run in runs] == [D - timedelta(days=2), D - timedelta(days=1), D]


@pytest.mark.django_db
def test_a_catch_up_before_the_first_scheduled_run_evaluates_nothing(people):
    # A fresh install, or the demo evaluated by hand: no recorded day, nothing was missed.
    assert daily.evaluations_catch_up(
        through=D, catch_up_days=7, alert_settings=RULES, start=False, **IN_PROCESS
    ) == []
    assert not Assessment.objects.exists() and days_recorded() == []
    # The scheduled run starts the record with its own day only.
    assert [r.on for r in daily.evaluations_catch_up(
        through=D, catch_up_days=7, alert_settings=RULES, **IN_PROCESS
    )] == [D]
    assert days_recorded() == [D]


@pytest.mark.django_db
def test_the_day_due_turns_at_the_evaluation_hour_local_time():
    # Asia/Ho_Chi_Minh is UTC+7: 22:59 UTC is 05:59 the next day there.
    before = datetime(2026, 10, 16, 22, 59, tzinfo=UTC)
    at = datetime(2026, 10, 16, 23, 0, tzinfo=UTC)
    assert daily.evaluation_due_day(now=before, hour=6) == date(2026, 10, 16)
    assert daily.evaluation_due_day(now=at, hour=6) == date(2026, 10, 17)
    EvaluationDay.objects.create(day=date(2026, 10, 16), finished_at=timezone.now())
    lease = timedelta(minutes=30)
    assert not daily.evaluation_missed(now=before, hour=6, resume_after=lease)
    assert daily.evaluation_missed(now=at, hour=6, resume_after=lease)


def run_concurrently(count: int, job) -> list:
    barrier = threading.Barrier(count)
    results: list = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(job())
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    return results


@pytest.mark.parametrize("advisory_lock", [True, False], ids=["lock", "row-claim-only"])
@pytest.mark.django_db(transaction=True)
def test_two_runs_for_the_same_day_at_once_record_its_alerts_once(
    people, monkeypatch, advisory_lock
):
    if not advisory_lock:  # what SQLite has: the unique day row alone must hold
        monkeypatch.setattr(daily, "_try_lock", lambda: True)
    Target.objects.filter(code="BX-OCC").update(owner=people["staff2"])
    results = run_concurrently(
        2,
        lambda: daily.evaluations_catch_up(
            through=D, catch_up_days=7, alert_settings=RULES, **IN_PROCESS
        ),
    )
    runs = [run for result in results for run in result]
    assert len(runs) == 1  # one of the two evaluated the day, the other did nothing
    [run] = runs
    assert days_recorded() == [D]
    assert run.alerts_created == Alert.objects.count() > 0
    assert set(Alert.objects.values_list("run", flat=True)) == set(
        Digest.objects.values_list("run", flat=True)
    ) and Digest.objects.count() == len(run.digest_ids)
    assert Assessment.objects.filter(evaluated_on=D).count() == Target.objects.count()


@pytest.mark.celery
@pytest.mark.smtp
@pytest.mark.django_db(transaction=True)
def test_the_dispatcher_makes_good_a_lost_beat_tick_through_a_real_worker(people, worker):
    from targets.tasks import dispatch_pending

    local = timezone.localtime()
    due = local.date() if local.hour >= 6 else local.date() - timedelta(days=1)
    # Then two ticks were lost:
    EvaluationDay.objects.create(day=due - timedelta(days=2), finished_at=timezone.now())
    dispatch_pending.delay()
    expected = [due - timedelta(days=n) for n in (2, 1, 0)]
    assert wait_until(lambda: days_recorded() == expected, timeout=60)
    assert sorted(
        Assessment.objects.filter(target__code="BX-IP").values_list("evaluated_on", flat=True)
    ) == expected[1:]
    finished = dict(EvaluationDay.objects.values_list("day", "finished_at"))
    counts = (Alert.objects.count(), Assessment.objects.count())
    dispatch_until(lambda: False, timeout=2)  # more ticks: nothing is evaluated again
    assert wait_until(broker_queue_empty, timeout=30)
    assert dict(EvaluationDay.objects.values_list("day", "finished_at")) == finished
    assert (Alert.objects.count(), Assessment.objects.count()) == counts


def test_a_starting_worker_runs_the_dispatcher_which_catches_up():
    from tracker.celery import dispatch_on_start

    sent: list[str] = []

    class App:
        def send_task(self, name: str) -> None:
            sent.append(name)

    class Consumer:
        app = App()

    dispatch_on_start(sender=Consumer())
    assert sent == ["targets.tasks.dispatch_pending"]
