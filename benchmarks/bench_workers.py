"""The daily evaluation split across Celery workers: 1, 2 and 4 worker processes.

Each count evaluates a day of its own (the days after the evaluation date, in turn, so each
is the usual nightly run: yesterday's assessments exist) through the real path: the
``evaluate_all`` task claims the day and hands it to the workers as a chord of batches
(``EVALUATION_SPLIT_ABOVE=0``), whose final step makes the digests once. Measured: from
queueing the task until the day is recorded finished. The digests' mails are kept in the
workers' memory (locmem backend), not sent: the dispatch measurement times sending.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import redis

from benchmarks import dataset
from benchmarks.harness import Figures, measurement
from targets.models import Alert, Digest, EvaluationDay, Target

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BROKER = "redis://127.0.0.1:6379/13"
COUNTS = (1, 2, 4)
TIMEOUT = 1800.0


def _batch_size(targets: int) -> int:
    """A dozen batches or more, so that four processes have work to share."""
    return max(100, min(2000, targets // 12))


def _start(concurrency: int, broker: str, batch_size: int, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "CELERY_BROKER_URL": broker,
        "CELERY_RESULT_BACKEND": broker,
        "EVALUATION_SPLIT_ABOVE": "0",
        "EVALUATION_BATCH_SIZE": str(batch_size),
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tracker", "worker", "--pool=prefork",
         f"--concurrency={concurrency}", "--without-gossip", "--without-mingle",
         "--without-heartbeat", "-l", "warning"],
        cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _ready(app, timeout: float = 60) -> None:
    """Wait until a worker answers a ping on the broker."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app.control.ping(timeout=1.0):
            return
    raise RuntimeError("the worker did not start")


def _stop(worker: subprocess.Popen) -> None:
    import signal

    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)


@measurement("workers")
def workers(data: dataset.Dataset) -> Figures:
    from tracker.celery import app

    broker = os.environ.get("CELERY_BROKER_URL", DEFAULT_BROKER)
    app.conf.broker_url = broker
    client = redis.Redis.from_url(broker)
    assert client.connection_pool.connection_kwargs.get("db", 0) != 0, "a benchmark Redis db"
    targets = Target.objects.count()
    batch_size = _batch_size(targets)
    log = ROOT / "var" / "bench" / "workers.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    figures: dict[str, object] = {"targets": targets, "batch_size": batch_size}
    for n, count in enumerate(COUNTS, start=1):
        day = dataset.EVALUATED_ON + timedelta(days=n)
        client.flushdb()
        worker = _start(count, broker, batch_size, log)
        try:
            _ready(app)
            started = time.perf_counter()
            app.send_task("targets.tasks.evaluate_all", kwargs={"on": day.isoformat()})
            deadline = time.monotonic() + TIMEOUT
            while not EvaluationDay.objects.filter(day=day, finished_at__isnull=False).exists():
                if time.monotonic() > deadline or worker.poll() is not None:
                    raise RuntimeError(f"day {day} not finished with {count} processes")
                time.sleep(0.05)
            seconds = time.perf_counter() - started
        finally:
            _stop(worker)
        row = EvaluationDay.objects.get(day=day)
        figures[f"processes_{count}"] = {
            "seconds": round(seconds, 2),
            "targets_per_s": round(targets / seconds),
            "batches": len(row.batches),
            "alerts": Alert.objects.filter(run=row.run).count(),
            "digests": Digest.objects.filter(run=row.run).count(),
        }
    base = figures["processes_1"]["seconds"]
    figures["speedup"] = {
        str(count): round(base / figures[f"processes_{count}"]["seconds"], 2) for count in COUNTS
    }
    return figures
