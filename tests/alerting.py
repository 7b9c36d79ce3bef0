"""Helpers for the alert tests: entries through the real workflow, evaluations, mail checks."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from targets.models import Target
from targets.services import entries as workflow
from targets.services.alerts import AlertSettings
from targets.services.delivery import DeliveryPolicy
from targets.services.evaluation import EvaluationRun, targets_evaluate

RULES = AlertSettings(escalation_days=30, reminder_days=5)
# The tests' delivery policy, spelled out (the deployment's comes from the settings).
DELIVERY = DeliveryPolicy(
    lease=timedelta(minutes=15),
    retry_delay=timedelta(minutes=1),
    retry_delay_max=timedelta(hours=1),
    max_attempts=30,
    site_url="https://tracker.example.vn",
    from_email="Target Tracker <noreply@localhost>",
)
# The statements of one evaluation of a batch of targets that all have alerts to record.
EVALUATION_QUERIES = [
    "SAVEPOINT (the run's transaction, inside the test's)",
    "the targets, locked",
    "their milestones",
    "their submitted and approved entries (read once: alerts reuse them)",
    "each one's previous assessment",
    "CREATE the temporary table of the batch's assessments (if this run has none yet)",
    "TRUNCATE it (the COPY of the rows into it is no Django query)",
    "INSERT … SELECT … ON CONFLICT the assessments from it",
    "UPDATE the targets' latest assessment",
    "their open alerts (to resolve what cleared)",
    "which alert keys exist",
    "INSERT the new alerts",
    "read back the ones this run inserted",
    "the members of the units concerned",
    "INSERT the alerts' recipients",
    # Once per run, after the last batch:
    "the recipients with an email address",
    "INSERT their digests",
    "UPDATE the recipients' digest",
    "the run's pending digests",
    "RELEASE SAVEPOINT",
]


# A day after every period the tests report on, for entries the tests write "later".
SOMEDAY = date(2031, 1, 1)


def report(code: str, period: str, value, *, author, reviewer=None):
    """An entry for ``code`` and ``period``: submitted, and approved when ``reviewer`` is given."""
    target = Target.objects.select_related("responsible_unit").get(code=code)
    # Written when the test's story says, not on the day the suite runs: the period has begun.
    entry = workflow.entry_save_draft(
        user=author, target_id=target.pk, period=period, value=value, today=SOMEDAY
    )
    entry = workflow.entry_submit(user=author, entry_id=entry.pk)
    if reviewer is not None:
        # Not re-assessed at today's date: the tests evaluate at the dates they choose.
        entry = workflow.entry_approve(user=reviewer, entry_id=entry.pk, reassess=None)
    return entry


def alert_key(code: str, event: str) -> str:
    """The key of the target ``code``'s alert ``event`` (kind:subject): the target's id, not
    its code, so that a renamed target's events keep their keys."""
    return f"{Target.objects.get(code=code).pk}:{event}"


def delivery_policy(**changes) -> DeliveryPolicy:
    """The tests' delivery policy with ``changes``."""
    return replace(DELIVERY, **changes)


def evaluate(on: date, rules: AlertSettings = RULES) -> EvaluationRun:
    return targets_evaluate(on=on, alert_settings=rules)


def lagging_occupancy(people) -> None:
    """BX-OCC (linear 20 → 80 %, 2025-06-30 → 2030-12-31, quarterly, grace 15) fully reported
    to 2026-Q3 and far behind: the actual 22 speaks for 2026-09-30 (457 days in), when
    20 + 60 × 457/2010 = 33.6418 was expected: ratio = 2 / 13.6418 = 0.1466 < 0.8 → lagging.
    Owner: the department's staff member."""
    Target.objects.filter(code="BX-OCC").update(owner=people["dept_staff"])
    for period, value in [
        ("2025-Q3", 20), ("2025-Q4", 20), ("2026-Q1", 21), ("2026-Q2", 21), ("2026-Q3", 22),
    ]:
        report("BX-OCC", period, value, author=people["dept_staff"], reviewer=people["manager"])


def report_bx_ip_until_q3(people) -> None:
    """BX-IP fully reported (value 0) from 2025-Q3 to 2026-Q3: on_track, nothing overdue."""
    for period in ["2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"]:
        report("BX-IP", period, 0, author=people["staff"], reviewer=people["manager"])
