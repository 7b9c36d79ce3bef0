"""Dispatch: 10,000 pending digests through a real Celery worker to a local SMTP sink.

The digests (a few alerts each, for the dataset's users with an address, over as many runs
as it takes: a digest is one per user and run) are written in one transaction that queues
them on commit, as an evaluation does. A worker process (``celery -A tracker worker``, 2
prefork processes, the broker of ``CELERY_BROKER_URL``; redis://127.0.0.1:6379/13 if unset)
sends them to an aiosmtpd server in this process, which counts messages by Message-ID.
Measured: from the commit until every digest arrived and is marked sent; checked: each
arrived exactly once. The rows are removed afterwards.

The worker's start-up dispatch first sends the digests the evaluation left pending
(``warmup_emails``, not measured): they are sent, as a deployment would send them.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from email.parser import BytesHeaderParser
from pathlib import Path

from aiosmtpd.controller import Controller
from celery import current_app
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction

from benchmarks import dataset
from benchmarks.dataset import copy_rows
from benchmarks.harness import Figures, measurement
from targets.models import Alert, AlertKind, AlertRecipient, DeliveryState, Digest
from targets.notifications import message_id
from targets.services import delivery

DIGESTS = 10_000
ALERTS_PER_RUN = 12  # each digest lists 1 to 5 of its run's alerts (3 on average)
RUN_PREFIX = "bench-dispatch-"
DEFAULT_BROKER = "redis://127.0.0.1:6379/13"
DELIVERY_TIMEOUT = 900.0  # seconds for all of them; the runner gives the process 1,200
ROOT = Path(__file__).resolve().parent.parent
CELERY = Path(sys.executable).parent / "celery"


# --- the SMTP sink ---------------------------------------------------------------------


class Sink:
    """Accepts every message and counts it by Message-ID (only the headers are parsed)."""

    def __init__(self) -> None:
        self.received: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.parser = BytesHeaderParser()

    async def handle_DATA(self, server, session, envelope) -> str:
        headers = self.parser.parsebytes(envelope.content)
        with self.lock:
            self.received[headers["Message-ID"] or "(none)"] += 1
        return "250 2.0.0 OK: queued"

    def counts(self) -> Counter[str]:
        with self.lock:
            return Counter(self.received)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition: Callable[[], bool], timeout: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


# --- the data --------------------------------------------------------------------------


def remove_bench_rows() -> None:
    """Remove what an earlier run of this measurement left (rows of runs ``RUN_PREFIX…``)."""
    for queryset in (
        AlertRecipient.objects.filter(alert__run__startswith=RUN_PREFIX),
        Digest.objects.filter(run__startswith=RUN_PREFIX),
        Alert.objects.filter(run__startswith=RUN_PREFIX),
    ):
        queryset._raw_delete(queryset.db)


def _alert_models(runs: list[str]) -> list[Alert]:
    """``ALERTS_PER_RUN`` alerts per run, copied from what the evaluation recorded (so that
    the emails say what real ones say), or overdue reports if it recorded none."""
    count = len(runs) * ALERTS_PER_RUN
    fields = ("target_id", "kind", "subject", "status", "previous_status", "severity", "params")
    source = list(
        Alert.objects.exclude(run__startswith=RUN_PREFIX).order_by("pk").values(*fields)[:count]
    )
    if not source:
        from targets.models import Target

        source = [
            {"target_id": pk, "kind": AlertKind.OVERDUE, "subject": "2030-Q1",
             "status": "no_data", "previous_status": "", "severity": 0,
             "params": {"period": "2030-Q1", "deadline": "2030-04-15"}}
            for pk in Target.objects.order_by("pk").values_list("pk", flat=True)[:count]
        ]
    made = []
    for r, run in enumerate(runs):
        for i in range(ALERTS_PER_RUN):
            row = source[(r * ALERTS_PER_RUN + i) % len(source)]
            made.append(Alert(**row, key=f"{run}:{i}", evaluated_on=dataset.EVALUATED_ON, run=run))
    return made


def create_digests(count: int) -> list[int]:
    """``count`` pending digests for the users with an address, each listing 1 to 5 alerts;
    bulk inserts (COPY for the recipients). Returns their ids."""
    users = list(
        get_user_model()
        .objects.filter(is_active=True)
        .exclude(email="")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    runs = [f"{RUN_PREFIX}{r:04d}" for r in range(math.ceil(count / len(users)))]
    alerts = Alert.objects.bulk_create(_alert_models(runs), batch_size=2000)
    by_run: dict[str, list[int]] = {}
    for alert in alerts:
        by_run.setdefault(alert.run, []).append(alert.pk)
    digests = Digest.objects.bulk_create(
        [
            Digest(user_id=user, run=run, evaluated_on=dataset.EVALUATED_ON)
            for k, (run, user) in enumerate((run, user) for run in runs for user in users)
            if k < count
        ],
        batch_size=2000,
    )

    def recipients() -> Iterator[tuple[int, int, int]]:
        for k, digest in enumerate(digests):
            run_alerts = by_run[digest.run]
            for j in range(1 + k % 5):
                yield (run_alerts[(k * 7 + j) % ALERTS_PER_RUN], digest.user_id, digest.pk)

    copy_rows(AlertRecipient, ("alert", "user", "digest"), recipients())
    return [d.pk for d in digests]


# --- the worker ------------------------------------------------------------------------


def worker_env(broker: str, smtp_port: int) -> dict[str, str]:
    return {
        **os.environ,
        "CELERY_BROKER_URL": broker,
        "CACHE_URL": "locmem://",  # not the broker's Redis database 1, shared by others
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "EMAIL_USE_TLS": "0",
        "EMAIL_USE_SSL": "0",
        "EMAIL_TIMEOUT": "10",
        "LOG_LEVEL": "WARNING",
    }


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [str(CELERY), "-A", "tracker", "worker", "--pool=prefork", "--concurrency=2",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info",
         "-n", f"bench-dispatch-{os.getpid()}@%h"],
        cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_worker(process: subprocess.Popen) -> bool:
    """A warm shutdown (SIGTERM: finish the tasks at hand); True if it ended by itself."""
    if process.poll() is not None:
        return True
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=60)
        return True
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        return False


def peak_rss_mb(pid: int) -> float:
    """The peak resident memory of a process (VmHWM), 0 when it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return 0.0


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process and its children (the pool) have used so far."""
    total = 0
    for each in [pid, *children(pid)]:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / os.sysconf("SC_CLK_TCK")


def tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


# --- the measurement -------------------------------------------------------------------


def _in_flight() -> bool:
    return Digest.objects.filter(state__in=(DeliveryState.PENDING, DeliveryState.SENDING)).exists()


@measurement("dispatch")
def dispatch(data: dataset.Dataset) -> Figures:
    broker = os.environ.get("CELERY_BROKER_URL") or DEFAULT_BROKER
    current_app.conf.broker_url = broker  # the settings default to database 0 when unset
    remove_bench_rows()
    current_app.control.purge()  # task messages an interrupted run left in this database
    # aiosmtpd logs every SMTP command at INFO: 10,000 messages' worth would cost the sink
    # more than accepting them.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    sink = Sink()
    smtp = Controller(sink, hostname="127.0.0.1", port=free_port())
    smtp.start()
    log = Path(tempfile.mkdtemp(prefix="bench-dispatch-")) / "worker.log"
    worker = start_worker(worker_env(broker, smtp.port), log)
    figures: Figures = {}
    try:
        if not wait_until(lambda: "ready." in log.read_text(errors="replace"), 120):
            raise RuntimeError("the worker did not start:\n" + tail(log))
        # A starting worker dispatches what is pending (the evaluation's digests): let it
        # finish, so that the run below measures these digests alone.
        warm = wait_until(lambda: not _in_flight(), 300, step=0.5)
        before = sum(sink.counts().values())
        cpu_before = cpu_seconds(worker.pid)

        with transaction.atomic():
            ids = create_digests(DIGESTS)
            delivery.digests_enqueue_on_commit(ids)  # as the evaluation queues them
            expected = {
                message_id(d, settings.DEFAULT_FROM_EMAIL): d.pk
                for d in Digest.objects.filter(pk__in=ids).only("pk", "run")
            }
            recipients = AlertRecipient.objects.filter(digest_id__in=ids).count()
            started = time.perf_counter()
        queued = time.perf_counter() - started

        def arrived() -> bool:
            return len(expected.keys() & sink.counts().keys()) == len(expected)

        def all_sent() -> bool:
            return Digest.objects.filter(pk__in=ids, state=DeliveryState.SENT).count() == len(ids)

        done = wait_until(arrived, DELIVERY_TIMEOUT, step=0.1)
        delivered = time.perf_counter() - started
        done = done and wait_until(all_sent, 60, step=0.1)
        marked = time.perf_counter() - started
        cpu = cpu_seconds(worker.pid) - cpu_before
        worker_main = peak_rss_mb(worker.pid)
        worker_pool = max((peak_rss_mb(pid) for pid in children(worker.pid)), default=0.0)
        time.sleep(1.0)  # a duplicate on its way would arrive by now
        counts = sink.counts()
        mine = {mid: counts[mid] for mid in expected}
        states = Counter(
            Digest.objects.filter(pk__in=ids).values_list("state", flat=True)
        )
        figures = {
            "digests": len(ids),
            "recipient_rows": recipients,
            "emails_per_s": round(len(ids) / delivered) if done else None,
            "seconds": round(delivered, 2),
            "seconds_all_marked_sent": round(marked, 2),
            "enqueue_s": round(queued, 2),
            "arrived": sum(1 for n in mine.values() if n),
            "missing": sum(1 for n in mine.values() if n == 0),
            "duplicates": sum(n - 1 for n in mine.values() if n > 1),
            "states": dict(states),
            "exactly_once": done
            and all(n == 1 for n in mine.values())
            and states == Counter({DeliveryState.SENT: len(ids)}),
            # Less noisy than the rate on a shared machine: the worker's own work per email.
            "worker_cpu_ms_per_email": round(cpu * 1000 / len(ids), 2),
            "worker_main_rss_mb": worker_main,
            "worker_pool_rss_mb": worker_pool,
            "warmup_emails": before,
            "warmup_complete": warm,
            "other_emails": sum(counts.values()) - sum(mine.values()) - before,
        }
    finally:
        figures["worker_stopped_cleanly"] = stop_worker(worker)
        smtp.stop()
        remove_bench_rows()
        connection.close()
    if figures.get("exactly_once"):
        shutil.rmtree(log.parent, ignore_errors=True)
    else:
        sys.stderr.write(f"{log}:\n" + tail(log, 80) + "\n")
    return figures
