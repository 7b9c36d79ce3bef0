"""The evaluation against its floor and against a naive peer.

- ``floor``: the one query every evaluation must at least make — each target's latest
  approved value (``DISTINCT ON``) — read into Python.
- ``evaluate_first`` / ``evaluate_rerun``: the full evaluation as the nightly job runs it
  (judge every target, record its assessment, record alerts and queue digests), on a
  database without assessments, then again for the same date.
- ``naive``: the straightforward per-target ORM loop a first version would write (kept here
  only, as the yardstick), inside a transaction that is rolled back.
"""

from __future__ import annotations

from django.db import connection, transaction

from benchmarks import dataset
from benchmarks.harness import Figures, counting_queries, measurement, stopwatch
from targets import rules
from targets.models import Alert, AlertRecipient, Assessment, Digest, EntryStatus, Target
from targets.services.alerts import AlertSettings
from targets.services.evaluation import targets_evaluate

FLOOR_SQL = """
    SELECT DISTINCT ON (target_id) target_id, period_end, value
    FROM targets_progressentry
    WHERE status = 'approved'
    ORDER BY target_id, period_end DESC
"""


@measurement("floor")
def floor(data: dataset.Dataset) -> Figures:
    best = None
    for _ in range(3):  # the best of three: the floor is the least the database can do
        with stopwatch() as watch, connection.cursor() as cursor:
            cursor.execute(FLOOR_SQL)
            rows = cursor.fetchall()
        best = watch["seconds"] if best is None else min(best, watch["seconds"])
    return {"seconds": round(best, 3), "rows": len(rows)}


def _evaluate(data: dataset.Dataset) -> Figures:
    """As the nightly job runs it in one process: no result kept in memory."""
    with counting_queries() as queries, stopwatch() as watch:
        run = targets_evaluate(
            on=dataset.EVALUATED_ON, alert_settings=AlertSettings.from_settings(), collect=False
        )
    return {
        "seconds": round(watch["seconds"], 2),
        "targets": run.targets,
        "targets_per_s": round(run.targets / watch["seconds"]),
        "queries": queries.count,
        "alerts_created": run.alerts_created,
        "digests": len(run.digest_ids),
    }


@measurement("evaluate_first")
def evaluate_first(data: dataset.Dataset) -> Figures:
    """The first evaluation of the date on a database that holds no assessments or alerts."""
    if Assessment.objects.exists():  # a re-used database (run --reuse): back to no assessments
        Target.objects.update(latest_assessment=None)
        for model in (AlertRecipient, Digest, Alert, Assessment):
            model.objects.all()._raw_delete(model.objects.db)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    return _evaluate(data)


@measurement("evaluate_rerun")
def evaluate_rerun(data: dataset.Dataset) -> Figures:
    """The same date again: every assessment upserted with the same values, no alert twice."""
    return _evaluate(data)


# At the national tier the naive loop takes too long to run whole: it runs on the first
# targets (in code order) and its rate is compared with ours.
NAIVE_LIMIT = 6000


@measurement("naive")
def naive(data: dataset.Dataset) -> Figures:
    on = dataset.EVALUATED_ON
    targets = list(Target.objects.order_by("code")[:NAIVE_LIMIT])
    with counting_queries() as queries, stopwatch() as watch, transaction.atomic():
        for target in targets:
            _naive_one(target, on)
        transaction.set_rollback(True)
    return {
        "seconds": round(watch["seconds"], 2),
        "targets": len(targets),
        "targets_per_s": round(len(targets) / watch["seconds"]),
        "queries": queries.count,
    }


def _naive_one(target: Target, on) -> None:
    """What a first version does for one target: read its milestones and entries, judge it,
    save the assessment, point the target at it, compare with the previous assessment and
    record an alert (with its recipients) when the status changed."""
    milestones = list(target.milestones.all())
    entries = list(
        target.entries.filter(status__in=(EntryStatus.SUBMITTED, EntryStatus.APPROVED))
    )
    approved = [
        rules.Observation(e.period_end, e.value) for e in entries
        if e.status == EntryStatus.APPROVED
    ]
    judgement = rules.assess(
        target.spec(milestones=milestones), approved, {e.period for e in entries}, on
    )
    previous = target.assessments.filter(evaluated_on__lt=on).order_by("-evaluated_on").first()
    assessment, _ = Assessment.objects.update_or_create(
        target=target,
        evaluated_on=on,
        defaults={
            "actual": judgement.actual, "as_of": judgement.as_of,
            "expected": judgement.expected, "expected_now": judgement.expected_now,
            "ratio": judgement.ratio, "share": judgement.share, "status": judgement.status,
            "reason": judgement.reason, "reporting": judgement.reporting,
            "overdue_periods": judgement.overdue_periods,
            "milestones_missed": [d.isoformat() for d in judgement.milestones_missed],
            "projected": judgement.forecast.projected,
            "forecast_reached_on": judgement.forecast.reached_on,
            "forecast_never": judgement.forecast.never,
        },
    )
    target.latest_assessment = assessment
    target.save(update_fields=["latest_assessment"])
    before = previous.status if previous else rules.Status.NO_DATA
    if before != judgement.status:
        alert, created = Alert.objects.get_or_create(
            key=f"naive:{target.pk}:{on.isoformat()}:{judgement.status}",
            defaults={
                "target": target, "kind": "worsened", "subject": on.isoformat(),
                "status": judgement.status, "previous_status": before,
                "evaluated_on": on, "run": "naive",
            },
        )
        if created:
            for membership in target.responsible_unit.memberships.filter(role="manager"):
                AlertRecipient.objects.get_or_create(alert=alert, user=membership.user)
