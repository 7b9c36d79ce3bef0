"""Two people at once, for real: threads released together by a barrier, each with its own
PostgreSQL connection, calling the services or posting to the screens with their own client.

Which of two racing writes wins is up to the scheduler, so the tests assert what must hold
whatever the order: no update is lost, nothing is approved that its approver did not see, the
loser is told so (a conflict, never a silent overwrite), and no request answers 500.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import translation

from targets.errors import NotAllowed, StaleEntry, WorkflowError
from targets.models import EntryStatus, ProgressEntry, Target
from targets.services import entries as workflow
from tests.alerting import RULES

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("in_english")]

ROUNDS = ["2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2"]  # each round races on its own period
REFUSED = (StaleEntry, WorkflowError, NotAllowed)


def race(*actions: Callable[[], Any]) -> list[Any]:
    """Run the actions at once, one thread each; the result of each, or what it raised."""
    barrier = threading.Barrier(len(actions))
    results: list[Any] = [None] * len(actions)

    def run(index: int, action: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            with translation.override("en"):  # a thread starts in the default language
                results[index] = action()
        except BaseException as exc:  # returned to the test, which judges it
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a racing call hung"
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, REFUSED):
            raise AssertionError(f"a racing call failed: {result!r}") from result
    return results


def split(results: list[Any]) -> tuple[list[Any], list[BaseException]]:
    won = [r for r in results if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, BaseException)]
    return won, lost


def ip() -> Target:
    return Target.objects.get(code="BX-IP")


def save(user, period: str, value: str, version: int | None):
    return lambda: workflow.entry_save_draft(
        user=user, target_id=ip().pk, period=period, value=value, version=version
    )


def stored(period: str) -> ProgressEntry:
    return ProgressEntry.objects.get(target__code="BX-IP", period=period)


# --- the services -----------------------------------------------------------------------------


def test_draft_against_draft_one_saves_the_other_gets_a_conflict(people):
    for period in ROUNDS:
        save(people["staff"], period, "5", None)()
        results = race(
            save(people["staff"], period, "7", 1), save(people["staff2"], period, "8", 1)
        )
        won, lost = split(results)
        assert len(won) == 1 and len(lost) == 1  # 0 silent overwrites
        assert isinstance(lost[0], StaleEntry)
        entry = stored(period)
        assert (entry.value, entry.version, entry.last_editor) == (
            won[0].value, 2, won[0].last_editor
        )


@pytest.mark.parametrize("version", [0, None], ids=["form", "no-version"])
def test_two_first_entries_of_a_period_make_one_entry_and_one_clear_message(people, version):
    for period in ROUNDS:
        won, lost = split(race(
            save(people["staff"], period, "1", version),
            save(people["staff2"], period, "2", version),
        ))
        assert ProgressEntry.objects.filter(period=period).count() == 1
        if version is None and not lost:
            # Without a version the second one, if it came after the first committed, changes
            # that draft knowingly; it never fails with an integrity error.
            assert len(won) == 2
            continue
        assert len(won) == 1 and len(lost) == 1
        assert isinstance(lost[0], StaleEntry)
        assert f"Someone else entered BX-IP {period}" in lost[0].message
        assert stored(period).value == won[0].value


def test_submit_against_draft_never_submits_a_value_the_submitter_did_not_see(people):
    for period in ROUNDS:
        save(people["staff"], period, "5", None)()
        entry_id = stored(period).pk
        results = race(
            lambda entry_id=entry_id: workflow.entry_submit(
                user=people["staff"], entry_id=entry_id, version=1
            ),
            save(people["staff2"], period, "9", 1),
        )
        won, lost = split(results)
        assert len(won) == 1 and isinstance(lost[0], StaleEntry)
        entry = stored(period)
        assert (entry.status, entry.value) in [
            (EntryStatus.SUBMITTED, Decimal(5)),  # submitted as seen; the draft was refused
            (EntryStatus.DRAFT, Decimal(9)),  # the draft saved; the submission was refused
        ]


def test_approval_against_a_stale_draft_approves_only_what_the_approver_saw(people):
    for period in ROUNDS:
        # A returned entry (value 5, version 3), open in the staff member's form.
        entry = workflow.entry_save_draft(user=people["staff"], target_id=ip().pk,
                                          period=period, value="5")
        workflow.entry_submit(user=people["staff"], entry_id=entry.pk)
        workflow.entry_return(user=people["manager"], entry_id=entry.pk, comment="Evidence?")

        def resubmit_and_approve(entry_id=entry.pk) -> ProgressEntry:
            # A colleague resubmits it as it is; the manager approves what he sees (5).
            workflow.entry_submit(user=people["staff2"], entry_id=entry_id, version=3)
            return workflow.entry_approve(user=people["province"], entry_id=entry_id,
                                          version=4, reassess=None)

        results = race(resubmit_and_approve, save(people["staff"], period, "9", 3))
        won, lost = split(results)
        assert len(won) == 1 and isinstance(lost[0], StaleEntry)
        final = stored(period)
        if final.status == EntryStatus.APPROVED:
            assert final.value == Decimal(5)  # never a value nobody approved
        else:
            assert (final.status, final.value) == (EntryStatus.RETURNED, Decimal(9))


def test_two_approvals_of_one_target_are_both_counted_by_its_assessment(people):
    first = workflow.entry_save_draft(user=people["staff"], target_id=ip().pk,
                                      period="2025-Q3", value="1")
    second = workflow.entry_save_draft(user=people["staff"], target_id=ip().pk,
                                       period="2025-Q4", value="2")
    for entry in (first, second):
        workflow.entry_submit(user=people["staff"], entry_id=entry.pk)
    results = race(
        lambda: workflow.entry_approve(user=people["manager"], entry_id=first.pk, reassess=RULES),
        lambda: workflow.entry_approve(user=people["province"], entry_id=second.pk, reassess=RULES),
    )
    assert all(r.status == EntryStatus.APPROVED for r in results)
    # BX-IP reports the latest level: 2025-Q4's 2, whichever approval re-assessed last.
    assert Target.objects.get(code="BX-IP").latest_assessment.actual == Decimal(2)


def test_the_nightly_evaluation_never_hides_an_approval_made_while_it_runs(people, monkeypatch):
    """The nightly run and an approval's re-assessment both write the day's assessment of the
    target: whichever order they take, the one that stays counts the approved value."""
    import time

    from django.utils import timezone

    from targets.services import evaluation
    from targets.services.evaluation import targets_evaluate

    judge = evaluation.judge_targets

    def slow_judge(targets, on, loaded=None):
        # The nightly run pauses between reading the entries and writing the assessments, long
        # enough for the approval to commit: without the target locks it then wrote its stale
        # verdict over the approval's.
        judged = judge(targets, on, loaded)
        if threading.current_thread().name == "nightly":
            time.sleep(0.5)
        return judged

    def nightly():
        threading.current_thread().name = "nightly"
        return targets_evaluate(on=today, alert_settings=RULES)

    monkeypatch.setattr(evaluation, "judge_targets", slow_judge)
    today = timezone.localdate()
    for value, period in enumerate(ROUNDS, start=1):
        entry = workflow.entry_save_draft(
            user=people["staff"], target_id=ip().pk, period=period, value=str(value)
        )
        workflow.entry_submit(user=people["staff"], entry_id=entry.pk)
        race(
            nightly,
            lambda entry=entry: workflow.entry_approve(
                user=people["manager"], entry_id=entry.pk, reassess=RULES
            ),
        )
        latest = Target.objects.select_related("latest_assessment").get(code="BX-IP")
        # BX-IP reports the latest level: the value just approved, as of its period's end.
        assert latest.latest_assessment.evaluated_on == today
        assert latest.latest_assessment.actual == Decimal(value), period


def test_two_reviewers_of_one_entry_approve_it_once(people):
    for period in ROUNDS:
        save(people["staff"], period, "1", None)()
        entry_id = workflow.entry_submit(user=people["staff"], entry_id=stored(period).pk).pk
        won, lost = split(race(
            lambda entry_id=entry_id: workflow.entry_approve(
                user=people["manager"], entry_id=entry_id, reassess=None
            ),
            lambda entry_id=entry_id: workflow.entry_return(
                user=people["province"], entry_id=entry_id, comment="No"
            ),
        ))
        assert len(won) == 1 and len(lost) == 1
        assert stored(period).status == won[0].status
        assert stored(period).reviewer == won[0].reviewer


# --- the screens ------------------------------------------------------------------------------


def client_of(user) -> Client:
    client = Client()
    client.cookies["django_language"] = "en"
    client.force_login(user)
    return client


def report_post(client: Client, period: str, value: str, version: int, action: str = "draft"):
    url = reverse("targets:report", args=["BX-IP"])
    data = {"period": period, "value": value, "version": version, "opened_period": period,
            "action": action}
    return lambda: client.post(url, data)


def test_two_people_entering_the_first_entry_at_once_get_no_500(people):
    staff, colleague = client_of(people["staff"]), client_of(people["staff2"])
    for period in ROUNDS:
        responses = race(
            report_post(staff, period, "1", 0), report_post(colleague, period, "2", 0)
        )
        codes = sorted(r.status_code for r in responses)
        assert codes == [200, 302]
        [loser] = [r for r in responses if r.status_code == 200]
        assert f"Someone else entered BX-IP {period}" in loser.content.decode()
        assert ProgressEntry.objects.filter(period=period).count() == 1


def test_two_people_saving_one_draft_at_once_are_not_both_told_saved(people):
    staff, colleague = client_of(people["staff"]), client_of(people["staff2"])
    for period in ROUNDS:
        save(people["staff"], period, "5", None)()
        responses = race(
            report_post(staff, period, "7", 1), report_post(colleague, period, "8", 1)
        )
        assert sorted(r.status_code for r in responses) == [200, 302]
        loser = min(responses, key=lambda r: r.status_code)
        assert "Someone else changed BX-IP" in loser.content.decode()
        mine = loser.context["form"].data["value"]
        assert f'value="{mine}"' in loser.content.decode()  # what the loser typed is kept
        assert stored(period).value == Decimal({"7": 8, "8": 7}[mine])  # the winner's value


def test_submitting_while_someone_saves_the_draft_gets_no_500(people):
    staff, colleague = client_of(people["staff"]), client_of(people["staff2"])
    for period in ROUNDS:
        save(people["staff"], period, "5", None)()
        submit, draft = race(
            report_post(staff, period, "5", 1, action="submit"),
            report_post(colleague, period, "9", 1),
        )
        assert sorted([submit.status_code, draft.status_code]) == [200, 302]
        entry = stored(period)
        if submit.status_code == 302:
            assert (entry.status, entry.value) == (EntryStatus.SUBMITTED, Decimal(5))
        else:
            assert (entry.status, entry.value) == (EntryStatus.DRAFT, Decimal(9))
            assert "Someone else changed BX-IP" in submit.content.decode()


def test_approving_while_a_stale_form_is_saved_gets_no_500_and_loses_nothing(people):
    staff = client_of(people["staff"])
    colleague = client_of(people["staff2"])
    manager = client_of(people["province"])
    for period in ROUNDS:
        entry = workflow.entry_save_draft(user=people["staff"], target_id=ip().pk,
                                          period=period, value="5")
        workflow.entry_submit(user=people["staff"], entry_id=entry.pk)
        workflow.entry_return(user=people["manager"], entry_id=entry.pk, comment="Evidence?")

        def resubmit_and_approve(entry_id=entry.pk, period=period) -> list:
            submitted = report_post(colleague, period, "5", 3, action="submit")()
            if submitted.status_code != 302:
                return [submitted]
            approve = reverse("targets:approve", args=[entry_id])
            return [submitted, manager.post(approve, {"version": 4})]

        approval, stale = race(resubmit_and_approve, report_post(staff, period, "9", 3))
        codes = [r.status_code for r in [*approval, stale]]
        assert set(codes) <= {200, 302}
        final = stored(period)
        if final.status == EntryStatus.APPROVED:
            assert final.value == Decimal(5) and stale.status_code == 200
        else:
            assert (final.status, final.value) == (EntryStatus.RETURNED, Decimal(9))


def test_two_managers_approving_together_approve_each_entry_once(people):
    ids = []
    for period in ROUNDS:
        save(people["staff"], period, "1", None)()
        ids.append(workflow.entry_submit(user=people["staff"], entry_id=stored(period).pk).pk)
    queue = reverse("targets:review")
    manager, province = client_of(people["manager"]), client_of(people["province"])
    responses = race(
        lambda: manager.post(queue, {"entries": ids[:3], "action": "approve"}),
        lambda: province.post(queue, {"entries": ids[1:], "action": "approve"}),
    )
    assert [r.status_code for r in responses] == [302, 302]
    entries = ProgressEntry.objects.filter(pk__in=ids)
    assert {e.status for e in entries} == {EntryStatus.APPROVED}
    history = ProgressEntry.history.filter(id__in=ids, status=EntryStatus.APPROVED)
    assert history.count() == len(ids)  # each approved once
