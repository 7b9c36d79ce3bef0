"""Load and fault drills (``make loadtest``): the app under gunicorn, hammered, with its parts
failing underneath it. Results go to docs/reliability.md ("Last run").

1. Load: N clients (50) for S seconds (60) sign in, read the status table and target pages,
   save and submit entries (staff), approve and return them (managers), through the real forms.
2. Redis outage: in the middle of the load the drill's own Redis (not the machine's shared one)
   is killed, and started again later: pages, entries and approvals must keep working, and the
   digests recorded meanwhile must go out once it is back.
3. Worker killed mid-dispatch: a worker sending digests to a slow SMTP server is SIGKILLed
   while it is sending; a new worker must deliver every digest, none twice.

Afterwards: no 5xx, every acknowledged submission in the database once with its value, the
audit history complete and attributed, every digest received exactly once (by Message-ID).

Everything runs on loopback in a database created for the drill and dropped afterwards; every
wait has a timeout, every process the drill starts is stopped on the way out, and the exit
status is 1 when a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import email
import os
import platform
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import psycopg
from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from loadtest_client import Account, Crowd, Recorder  # noqa: E402

REPORT = ROOT / "docs" / "reliability.md"
START, END = "<!-- last-run:start -->", "<!-- last-run:end -->"
BIN = Path(sys.executable).parent
PASSWORD = "drill-" + secrets.token_hex(8)
LT_UNITS = ["LT-A", "LT-B", "LT-C", "LT-D"]


def options() -> argparse.Namespace:
    env = os.environ.get
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", type=int, default=int(env("LOADTEST_CLIENTS", "50")))
    p.add_argument("--seconds", type=float, default=float(env("LOADTEST_SECONDS", "60")))
    p.add_argument("--outage-at", type=float, default=float(env("LOADTEST_OUTAGE_AT", "20")),
                   help="seconds into the load when Redis is killed")
    p.add_argument("--outage-for", type=float, default=float(env("LOADTEST_OUTAGE_FOR", "20")),
                   help="seconds Redis stays down at least")
    p.add_argument("--outage-max", type=float, default=90,
                   help="seconds Redis stays down at most, while waiting for submissions, "
                   "approvals and a digest to happen during the outage")
    p.add_argument("--sign-in-at-once", type=int, default=5,
                   help="clients signing in at the same time, before the timed load")
    p.add_argument("--targets-per-unit", type=int, default=40)
    p.add_argument("--smtp-delay", type=float, default=1.0,
                   help="seconds the slow SMTP server takes per message (worker drill)")
    p.add_argument("--pg", default=env("LOADTEST_PG", "postgres://postgres@127.0.0.1:5432"))
    p.add_argument("--database", default=env("LOADTEST_DATABASE", "tracker_loadtest"))
    p.add_argument("--port", type=int, default=int(env("LOADTEST_PORT", "8790")))
    p.add_argument("--redis-port", type=int, default=int(env("LOADTEST_REDIS_PORT", "6390")))
    p.add_argument("--gunicorn-workers", type=int, default=4)
    p.add_argument("--gunicorn-threads", type=int, default=4)
    p.add_argument("--keep-database", action="store_true")
    p.add_argument("--no-report", action="store_true", help="do not rewrite docs/reliability.md")
    return p.parse_args()


# --- small helpers ------------------------------------------------------------------------


def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


def wait_until(condition: Callable[[], bool], timeout: float, step: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest rank: the smallest value with at least q of the values at or below it."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * q // 1))
    return sorted_values[int(rank) - 1]


class Processes:
    """Every process the drill starts, each in its own group, stopped on the way out."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen:
        out = (self.logs / f"{name}.log").open("ab")
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        self.running[name] = process
        return process

    def stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
        process = self.running.pop(name, None)
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        except ProcessLookupError:
            pass

    def stop_all(self) -> None:
        for name in list(self.running):
            self.stop(name)

    def tail(self, name: str, lines: int = 30) -> str:
        path = self.logs / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) \
            if path.exists() else ""


# --- the SMTP server the digests go to ------------------------------------------------------


class Sink:
    """Counts every accepted message by Message-ID. ``delay`` makes each DATA slow; while
    ``holding``, no DATA is answered (``held`` counts the senders kept waiting)."""

    def __init__(self) -> None:
        self.received: Counter[str] = Counter()
        self.delay = 0.0
        self.holding = False
        self.in_data = 0
        self.held = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        self.in_data += 1
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            if self.holding:
                self.held += 1
                try:
                    while self.holding:
                        await asyncio.sleep(0.02)
                finally:
                    self.held -= 1
            if server.transport is None or server.transport.is_closing():
                return "421 4.4.2 client gone"  # a killed sender: nothing was accepted
            message = email.message_from_bytes(envelope.content)
            with self.lock:
                self.received[message["Message-ID"] or "(none)"] += 1
            return "250 2.0.0 OK: queued"
        finally:
            self.in_data -= 1

    def total(self) -> int:
        with self.lock:
            return sum(self.received.values())


DIGEST_ID = re.compile(r"<digest-(\d+)-")


def sink_counts(sink: Sink) -> Counter[int]:
    counts: Counter[int] = Counter()
    with sink.lock:
        for message_id, n in sink.received.items():
            found = DIGEST_ID.match(message_id)
            counts[int(found.group(1)) if found else -1] += n
    return counts


# --- checks and the report ----------------------------------------------------------------


@dataclass
class Check:
    name: str
    passed: bool
    detail: str


@dataclass
class Run:
    args: argparse.Namespace
    checks: list[Check] = field(default_factory=list)
    figures: list[tuple] = field(default_factory=list)
    facts: dict[str, str] = field(default_factory=dict)

    def check(self, name: str, passed: bool, detail: str) -> bool:
        self.checks.append(Check(name, bool(passed), detail))
        log(f"{'PASS' if passed else 'FAIL'}  {name}: {detail}")
        return bool(passed)

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)


def plan_yaml(per_unit: int) -> str:
    """The drill's own plan: monthly targets since 2020 (plenty of periods to report on), far
    from overdue (grace days), so that approvals, not deadlines, drive the alerts."""
    lines = [
        "units:",
        '  - {code: LT, name: "Load-test province"}',
        *[f'  - {{code: {u}, name: "Load-test unit {u[-1]}", parent: LT}}' for u in LT_UNITS],
        "plans:",
        "  - code: LT-2020-2030",
        '    name: "Load-test plan"',
        "    unit: LT",
        "    start: 2020-01-01",
        "    end: 2030-12-31",
        '    areas: [{code: drill, name: "Drill"}]',
        "    targets:",
    ]
    for unit in LT_UNITS:
        for n in range(1, per_unit + 1):
            lines += [
                f"      - code: {unit}-{n:02d}",
                f'        name: "Load-test target {unit}-{n:02d}"',
                "        area: drill",
                f"        responsible_unit: {unit}",
                '        measure: "units"',
                "        value_type: integer",
                "        direction: at_least",
                "        aggregation: latest",
                "        trajectory: linear",
                "        baseline: {value: 0, date: 2019-12-31}",
                "        target: {value: 1200, date: 2030-12-31}",
                "        frequency: monthly",
                "        grace_days: 3000",
                "        tolerance: 0.10",
            ]
    return "\n".join(lines) + "\n"


class Drill:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.run = Run(args)
        self.tmp = Path(tempfile.mkdtemp(prefix="loadtest-"))
        self.procs = Processes(self.tmp)
        self.sink = Sink()
        self.smtp: Controller | None = None
        self.smtp_port = free_port()
        self.db_url = f"{args.pg}/{args.database}"
        self.attributed: set[str] = set()
        self.outage_window: list = [float("inf"), float("inf")]
        self.outage_wall: list = [None, None]
        self.base_url = f"http://127.0.0.1:{args.port}"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tracker.settings",
            "DATABASE_URL": self.db_url,
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "HTTPS": "0",
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "ALLOWED_HOSTS": "127.0.0.1",
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{args.redis_port}/0",
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(self.smtp_port),
            "EMAIL_TIMEOUT": "10",
            "MEDIA_ROOT": str(self.tmp / "media"),
            "SITE_URL": self.base_url,
            # A dead worker's claim and its unacknowledged task come back within seconds.
            "ALERT_SENDING_LEASE": "10",
            "CELERY_VISIBILITY_TIMEOUT": "20",
            "CELERY_UNACKED_RESTORE_INTERVAL": "2",
            "LOG_LEVEL": "WARNING",
        }

    # --- setting up ---------------------------------------------------------------------

    def admin_sql(self, sql: str) -> None:
        with psycopg.connect(f"{self.args.pg}/postgres", autocommit=True) as conn:
            conn.execute(sql)

    def manage(self, *argv: str, timeout: float = 300) -> str:
        if argv[0] in self.attributed:  # the commands that write say who made the change
            argv = (*argv, "--user", "drill.admin")
        done = subprocess.run([sys.executable, "manage.py", *argv], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(argv)} failed:\n{done.stderr[-3000:]}")
        return done.stdout

    def start_redis(self) -> None:
        self.procs.start("redis", [
            "redis-server", "--port", str(self.args.redis_port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no",
        ], self.env)
        if not wait_until(lambda: listening(self.args.redis_port), 20):
            raise RuntimeError("the drill's Redis did not start:\n" + self.procs.tail("redis"))

    def start_worker(self, name: str) -> None:
        self.procs.start(name, [
            str(BIN / "celery"), "-A", "tracker", "worker", "--pool=prefork", "-c", "2",
            "-l", "info", "--without-gossip", "--without-mingle", "--without-heartbeat",
            "-n", f"{name}@%h",
        ], self.env)
        if not wait_until(lambda: "ready." in self.procs.tail(name, 200), 60):
            raise RuntimeError(f"{name} did not start:\n" + self.procs.tail(name))

    def start_gunicorn(self) -> None:
        self.procs.start("gunicorn", [
            str(BIN / "gunicorn"), "tracker.wsgi:application",
            "--bind", f"127.0.0.1:{self.args.port}",
            "--workers", str(self.args.gunicorn_workers),
            "--threads", str(self.args.gunicorn_threads),
            "--timeout", "60", "--graceful-timeout", "5",
            # Idle connections are kept longer than a client pauses (as a proxy in front would
            # keep its upstream ones): gunicorn's 2 s closes some just as a client reuses them.
            "--keep-alive", "30",
            # The time each request took inside gunicorn (µs), beside the client's own timing.
            "--access-logfile", str(self.tmp / "access.log"),
            "--access-logformat", '%(m)s %(U)s %(s)s %(D)s',
        ], self.env)

        def answers() -> bool:
            try:
                return httpx.get(f"{self.base_url}/accounts/login/", timeout=2).status_code == 200
            except Exception:
                return False

        if not wait_until(answers, 60, 0.5):
            raise RuntimeError("gunicorn did not answer:\n" + self.procs.tail("gunicorn"))

    def set_up(self) -> None:
        args = self.args
        if "loadtest" not in args.database:  # it is dropped: never point it at real data
            raise RuntimeError(f"--database {args.database}: the name must contain 'loadtest'")
        if listening(args.port) or listening(args.redis_port):
            raise RuntimeError(f"port {args.port} or {args.redis_port} is taken: "
                               "another drill running? (--port, --redis-port)")
        log(f"database {args.database}, Redis :{args.redis_port}, SMTP :{self.smtp_port}, "
            f"gunicorn :{args.port}; logs in {self.tmp}")
        self.admin_sql(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        self.admin_sql(f'CREATE DATABASE "{args.database}"')
        self.smtp = Controller(self.sink, hostname="127.0.0.1", port=self.smtp_port)
        self.smtp.start()
        self.start_redis()
        self.manage("migrate", "--noinput", "-v0")
        self.manage("collectstatic", "--noinput", "-v0")
        os.environ.update(self.env)
        import django

        django.setup()
        from django.contrib.auth import get_user_model

        User = get_user_model()
        User.objects.create_superuser("drill.admin", "drill.admin@example.org", PASSWORD)
        self.attributed = {command for command in ("import_plan", "load_demo", "evaluate_targets")
                           if "--user" in self.manage(command, "--help")}
        plan = self.tmp / "loadtest-plan.yaml"
        plan.write_text(plan_yaml(args.targets_per_unit), encoding="utf-8")
        for file in ["fixtures/bat-xat-2025-2030.yaml", "fixtures/ma-lu-thang-2026-2030.yaml",
                     str(plan)]:
            self.manage("import_plan", file)
        self.manage("load_demo", "fixtures/demo.yaml")
        self.accounts = self.make_accounts()
        self.slots = self.free_slots()
        self.start_worker("worker1")
        self.start_gunicorn()
        # Today's evaluation first, and its digests out, so that the load starts from quiet.
        self.manage("evaluate_targets")
        self.wait_for_digests("setting up", 120)

    def make_accounts(self) -> list[Account]:
        """One user per client: 60 % staff of the drill's units, 30 % their managers, 10 %
        managers of the fixtures' units (who review the demo's submitted entries)."""
        from django.contrib.auth import get_user_model
        from django.contrib.auth.hashers import make_password

        from targets import access
        from targets.models import Membership, Profile, Role, Unit

        User = get_user_model()
        n = self.args.clients
        fixture_units = list(Unit.objects.exclude(code__startswith="LT")
                             .order_by("code").values_list("code", flat=True))
        staff = round(n * 0.6)
        managers = round(n * 0.3)
        plan: list[tuple[str, str]] = []
        plan += [("staff", LT_UNITS[i % len(LT_UNITS)]) for i in range(staff)]
        plan += [("manager", ([*LT_UNITS, "LT"])[i % 5]) for i in range(managers)]
        plan += [("manager", fixture_units[i % len(fixture_units)]) for i in range(n - staff
                                                                              - managers)]
        hashed = make_password(PASSWORD)  # hashed once: PBKDF2 per user would take minutes
        units = {u.code: u for u in Unit.objects.all()}
        accounts = []
        for i, (role, unit) in enumerate(plan):
            username = f"drill.{role}.{i:02d}"
            user = User.objects.create(username=username, password=hashed,
                                       email=f"{username}@example.org")
            Profile.objects.create(user=user, language="vi")
            Membership.objects.create(user=user, unit=units[unit],
                                      role=Role.STAFF if role == "staff" else Role.MANAGER)
            visible = access.targets_visible_to(user).order_by("code")
            accounts.append(Account(username, PASSWORD, role, unit,
                                    list(visible.values_list("code", flat=True)[:20])))
        return accounts

    def free_slots(self) -> dict[str, list[tuple[str, str]]]:
        """Per drill unit: (target, period) pairs with a started period and no entry, shuffled."""
        from django.utils import timezone

        from targets.models import Target

        today = timezone.localdate()
        rng = random.Random(7)
        slots: dict[str, list[tuple[str, str]]] = {}
        for unit in LT_UNITS:
            pairs = [
                (t.code, p.key)
                for t in Target.objects.filter(responsible_unit__code=unit).order_by("code")
                for p in t.reporting_periods() if p.start <= today
            ]
            rng.shuffle(pairs)
            slots[unit] = pairs
        return slots

    def wait_for_digests(self, when: str, timeout: float) -> bool:
        """Tick the dispatcher (as beat does) until no digest waits; True when none does."""
        from targets.models import DeliveryState, Digest
        from targets.tasks import dispatch_pending

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not Digest.objects.exclude(state=DeliveryState.SENT).exists():
                return True
            try:
                dispatch_pending.delay()
            except Exception as exc:  # the broker may be down: try again at the next tick
                log(f"dispatch_pending could not be queued ({when}): {exc}")
            wait_until(lambda: not Digest.objects.exclude(state=DeliveryState.SENT).exists(),
                       min(10, max(0, deadline - time.monotonic())), 0.5)
        return not Digest.objects.exclude(state=DeliveryState.SENT).exists()

    # --- 1 and 2: the load, with Redis killed in the middle ------------------------------

    async def outage(self, started: float, recorder: Recorder, until: list[float]) -> None:
        """Kill Redis, and start it again once the outage has lasted ``--outage-for`` seconds
        and shown something: submissions, approvals and a digest recorded while it was down
        (on a slow machine that takes longer; at most ``--outage-max`` seconds)."""
        a = self.args
        await asyncio.sleep(a.outage_at)
        self.procs.stop("redis", signal.SIGKILL)
        killed = time.monotonic()
        self.outage_window = [killed, float("inf")]
        self.outage_wall = [datetime.now(UTC), None]
        log(f"Redis killed {killed - started:.1f} s into the load")

        def seen() -> bool:
            acks = Counter(x.action for x in recorder.acks if x.at >= killed)
            return acks["submit"] >= 3 and acks["approve"] >= 3 and self.digests_since(
                self.outage_wall[0]) > 0

        while time.monotonic() - killed < a.outage_max:
            if time.monotonic() - killed >= a.outage_for and await asyncio.to_thread(seen):
                break
            await asyncio.sleep(1)
        self.start_redis()
        self.outage_window[1] = time.monotonic()
        self.outage_wall[1] = datetime.now(UTC)
        # The load goes on after the outage, for at least a third of its own length.
        until[0] = max(until[0], time.monotonic() + a.seconds / 3)
        self.run.facts["Redis outage"] = (
            f"killed {killed - started:.0f} s into the load, started again "
            f"{time.monotonic() - killed:.0f} s later")
        log(f"Redis started again {time.monotonic() - started:.1f} s into the load")

    @staticmethod
    def digests_since(moment: datetime) -> int:
        from django.db import connection

        from targets.models import Digest

        try:
            return Digest.objects.filter(created_at__gte=moment).count()
        finally:
            connection.close()  # a worker thread's connection: do not leave it open

    async def load(self, recorder: Recorder) -> float:
        crowd = Crowd(self.accounts, self.base_url, self.slots, recorder)
        try:
            began = time.monotonic()
            await crowd.sign_in(self.args.sign_in_at_once)
            log(f"{len(recorder.signed_in)} clients signed in after "
                f"{time.monotonic() - began:.1f} s; working")
            started = time.monotonic()
            until = [started + self.args.seconds]
            await asyncio.gather(crowd.work(until), self.outage(started, recorder, until))
            return time.monotonic() - started
        finally:
            await crowd.close()

    def phase_load(self) -> None:
        a = self.args
        log(f"load: {a.clients} clients for {a.seconds:.0f} s; Redis down from "
            f"{a.outage_at:.0f} s for {a.outage_for:.0f} s")
        self.run.facts["load average before"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
        recorder = Recorder()
        elapsed = asyncio.run(asyncio.wait_for(self.load(recorder), a.seconds + a.outage_max
                                               + 400))
        with (self.tmp / "samples.csv").open("w") as out:
            out.write("kind,status,started,seconds\n")
            for x in recorder.samples:
                out.write(f"{x.kind},{x.status},{x.started:.3f},{x.seconds:.3f}\n")
            out.write(f"outage,0,{self.outage_window[0]:.3f},{self.outage_window[1]:.3f}\n")
        self.run.facts["load average after"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
        work = [s for s in recorder.samples if not s.kind.startswith("login")]
        log(f"load finished after {elapsed:.1f} s: {len(work)} requests, "
            f"{len(recorder.acks)} acknowledged changes")
        self.figures(recorder, elapsed)
        self.check_answers(recorder)
        self.check_entries(recorder)
        delivered = self.wait_for_digests("after the outage", 180)
        self.check_outage_digests(delivered)

    def figures(self, recorder: Recorder, elapsed: float) -> None:
        """Latency percentiles and throughput per kind of request. Signing in happens before
        the timed window (its rate is over the sign-in time); "work" is everything after."""
        by_kind: dict[str, list] = defaultdict(list)
        for s in recorder.samples:
            by_kind[s.kind].append(s)
        logins = [s for s in recorder.samples if s.kind.startswith("login")]
        sign_in = (max(s.started + s.seconds for s in logins) - min(s.started for s in logins)
                   if logins else 1.0)
        work = [s for s in recorder.samples if not s.kind.startswith("login")]
        order = ["login_form", "login", "status", "target", "entries", "report_form",
                 "save_draft", "submit", "review_queue", "review_entry", "approve", "return"]
        rows = [(kind, by_kind[kind]) for kind in
                sorted(by_kind, key=lambda k: order.index(k) if k in order else 99)]
        for kind, samples in [*rows, ("all work", work)]:
            ms = sorted(s.seconds * 1000 for s in samples)
            window = sign_in if kind.startswith("login") else elapsed
            self.run.figures.append((
                kind, len(samples), sum(1 for s in samples if s.status >= 500 or s.status == 0),
                percentile(ms, 0.5), percentile(ms, 0.95), percentile(ms, 0.99),
                len(samples) / window,
            ))
        acks = Counter(a.action for a in recorder.acks)
        if recorder.retried:
            self.run.facts["retried"] = (
                f"{recorder.retried} GETs sent again after the server closed a kept-alive "
                "connection as it was reused (as browsers do)")
        self.run.facts["load"] = (
            f"{len(recorder.signed_in)} of {self.args.clients} clients signed in within "
            f"{sign_in:.1f} s, then {len(work)} requests in {elapsed:.1f} s "
            f"({len(work) / elapsed:.1f}/s); acknowledged: {acks['submit']} submissions, "
            f"{acks['approve']} approvals, {acks['return']} returns")

    def check_answers(self, recorder: Recorder) -> None:
        r = self.run
        r.check("every client signed in", len(recorder.signed_in) == len(self.accounts),
                f"{len(recorder.signed_in)} of {len(self.accounts)}")
        bad = [s for s in recorder.samples if s.status >= 500]
        lost = [s for s in recorder.samples if s.status == 0]
        r.check("no 5xx", not bad, f"{len(bad)} of {len(recorder.samples)} requests" + (
            f"; first: {bad[0].kind} {bad[0].status} {bad[0].detail[:120]!r}" if bad else ""))
        r.check("no request unanswered (timeout, reset)", not lost, f"{len(lost)}" + (
            f"; first: {lost[0].kind} {lost[0].detail}" if lost else ""))
        server_log = (self.tmp / "gunicorn.log").read_text(errors="replace").splitlines()
        troubles = [line for line in server_log
                    if "[CRITICAL]" in line or "[ERROR]" in line or "Traceback" in line]
        r.check("no error in gunicorn's log (worker timeouts, crashes, tracebacks)",
                not troubles, f"{len(troubles)} lines" + (f"; first: {troubles[0][:150]}"
                                                          if troubles else ""))
        unexpected = Counter(f"{s.kind} {s.status}" for s in recorder.samples
                             if 400 <= s.status < 500)
        r.check("no 4xx", not unexpected, ", ".join(f"{k} ×{n}" for k, n in unexpected.items())
                or "none")
        begin, end = self.outage_window
        during = [s for s in recorder.samples if begin <= s.started and s.started + s.seconds
                  <= end]
        ok = Counter(s.kind for s in during if s.status in (200, 302))
        acked = Counter(a.action for a in recorder.acks if begin <= a.at <= end)
        r.check(
            "Redis down: pages, entries and approvals keep working",
            all(s.status < 500 and s.status != 0 for s in during) and ok["status"] > 0
            and ok["target"] + ok["report_form"] > 0 and acked["submit"] > 0
            and acked["approve"] > 0,
            f"{len(during)} requests while down, none failed: {ok['status']} status tables, "
            f"{acked['submit']} submissions, {acked['approve']} approvals acknowledged"
            if all(s.status < 500 and s.status != 0 for s in during) else
            f"{sum(1 for s in during if s.status >= 500 or s.status == 0)} of {len(during)} "
            f"requests failed while Redis was down",
        )

    def check_entries(self, recorder: Recorder) -> None:
        """Each acknowledged change is in the database, once, as acknowledged, attributed."""
        from django.contrib.auth import get_user_model

        from targets.models import ProgressEntry

        r = self.run
        users = dict(get_user_model().objects.values_list("username", "pk"))
        entries = {(e.target.code, e.period): e for e in ProgressEntry.objects.filter(
            target__responsible_unit__code__in=LT_UNITS).select_related("target")}
        by_pk = {e.pk: e for e in entries.values()}
        expected: dict[int, list[tuple[str, int]]] = defaultdict(list)
        missing, wrong_value = [], []
        last_value: dict[int, int] = {}
        for ack in sorted(recorder.acks, key=lambda a: a.at):
            if ack.action == "submit":
                entry = entries.get((ack.code, ack.period))
                if entry is None:
                    missing.append(f"{ack.code} {ack.period}")
                    continue
                expected[entry.pk].append(("submitted", users[ack.username], ack.value))
                last_value[entry.pk] = ack.value
            elif ack.entry_id in by_pk:
                state = "approved" if ack.action == "approve" else "returned"
                expected[ack.entry_id].append((state, users[ack.username], None))
            # Approvals of the demo's entries (fixtures' units) are checked by the history below.
        for pk, value in last_value.items():
            if by_pk[pk].value != value:
                wrong_value.append(f"{by_pk[pk].target.code} {by_pk[pk].period}: "
                                   f"{by_pk[pk].value} ≠ {value}")
        submits = sum(1 for a in recorder.acks if a.action == "submit")
        r.check("every acknowledged submission is in the database once, with its value",
                submits > 0 and not missing and not wrong_value,
                f"{submits} submissions of {len(last_value)} entries; missing: "
                f"{missing[:5] or 'none'}; wrong value: {wrong_value[:5] or 'none'}")

        # The history: the transitions of every drill entry are exactly the acknowledged ones,
        # by the users who made them; every history row names its user.
        history = defaultdict(list)
        unattributed = 0
        for row in ProgressEntry.history.filter(
            target__responsible_unit__code__in=LT_UNITS
        ).order_by("history_date", "history_id").values("id", "status", "history_user_id",
                                                        "value", "history_type"):
            history[row["id"]].append(row)
            unattributed += row["history_user_id"] is None
        mismatched = []
        for pk, entry in by_pk.items():
            seen, before = [], None
            for row in history[pk]:
                if row["status"] != before and row["status"] != "draft":
                    value = int(row["value"]) if row["status"] == "submitted" else None
                    seen.append((row["status"], row["history_user_id"], value))
                before = row["status"]
            if seen != expected.get(pk, []):
                mismatched.append(f"{entry.target.code} {entry.period}: history {seen} vs "
                                  f"acknowledged {expected.get(pk, [])}")
            if not history[pk] or history[pk][0]["history_type"] != "+":
                mismatched.append(f"{entry.target.code} {entry.period}: no creation row")
        approvals = sum(1 for a in recorder.acks if a.action == "approve")
        r.check("the audit history is complete: each transition once, by its user",
                not mismatched and not unattributed and approvals > 0,
                f"{len(by_pk)} entries, {sum(len(v) for v in history.values())} history rows, "
                f"{approvals} approvals; unattributed rows: {unattributed}; mismatches: "
                f"{len(mismatched)}" + (f", first: {mismatched[0]}" if mismatched else ""))

    def check_outage_digests(self, delivered: bool) -> None:
        from targets.models import DeliveryState, Digest

        r = self.run
        begin, end = self.outage_wall
        waiting = Digest.objects.exclude(state=DeliveryState.SENT).count()
        during = list(Digest.objects.filter(created_at__gte=begin, created_at__lte=end)
                      .values_list("pk", "state"))
        counts = sink_counts(self.sink)
        all_digests = dict(Digest.objects.values_list("pk", "state"))
        twice = {pk: n for pk, n in counts.items() if n > 1}
        unknown = counts.get(-1, 0) + sum(n for pk, n in counts.items()
                                          if pk != -1 and pk not in all_digests)
        never = [pk for pk in all_digests if counts[pk] == 0]
        r.check(
            "Redis down: digests recorded meanwhile go out once it is back",
            len(during) > 0 and delivered and all(counts[pk] == 1 for pk, _ in during),
            f"{len(during)} digests recorded while Redis was down, "
            f"{sum(1 for pk, _ in during if counts[pk] == 1)} received exactly once"
            + ("" if delivered else f"; {waiting} digests never sent"),
        )
        r.check("load: every digest received exactly once",
                delivered and not twice and not never and not unknown,
                f"{len(all_digests)} digests, {sum(counts.values())} messages; twice: "
                f"{len(twice)}, never: {len(never)}, unknown: {unknown}")
        self.run.facts["digests"] = f"{len(all_digests)} in the load, {len(during)} of them " \
                                    "recorded while Redis was down"

    # --- 3: a worker killed while it sends ------------------------------------------------

    def phase_worker_kill(self) -> None:
        from targets.models import DeliveryState, Digest

        r = self.run
        before = set(Digest.objects.values_list("pk", flat=True))
        self.sink.delay = self.args.smtp_delay
        # Later evaluations (past the plans' due dates): many targets miss, many digests.
        log(f"worker drill: SMTP takes {self.args.smtp_delay} s a message; evaluating ahead")
        for day in (date(2031, 1, 15), date(2031, 3, 1)):
            self.manage("evaluate_targets", "--date", day.isoformat())
        new = set(Digest.objects.values_list("pk", flat=True)) - before
        accepted_before = self.sink.total()
        # Once a few went out, the SMTP server stops answering and the worker is killed while
        # both its processes wait for the answer: killed in the middle of a send, before the
        # server accepted. (A kill after the server's 250 and before the digest is marked sent
        # would send that digest again, with the same Message-ID: SMTP has no exactly-once.)
        wait_until(lambda: self.sink.total() >= accepted_before + 3, 120, 0.05)
        self.sink.holding = True
        killed = wait_until(lambda: self.sink.held >= 2, 60, 0.05)
        self.procs.stop("worker1", signal.SIGKILL)
        wait_until(lambda: self.sink.in_data == 0, 10, 0.05)  # the server saw them go
        self.sink.holding = False
        in_flight = Digest.objects.filter(pk__in=new, state=DeliveryState.SENDING).count()
        sent_at_kill = Digest.objects.filter(pk__in=new, state=DeliveryState.SENT).count()
        log(f"worker SIGKILLed: {sent_at_kill} of {len(new)} sent, {in_flight} being sent")
        r.check("worker drill: killed in the middle of sending", killed and in_flight > 0
                and len(new) >= 10 and sent_at_kill < len(new),
                f"{len(new)} digests; at the kill {sent_at_kill} sent, {in_flight} claimed "
                "and being sent")
        self.start_worker("worker2")
        delivered = self.wait_for_digests("after the worker was killed", 240)
        counts = sink_counts(self.sink)
        twice = {pk: n for pk, n in counts.items() if pk in new and n > 1}
        never = [pk for pk in new if counts[pk] == 0]
        attempts = Counter(Digest.objects.filter(pk__in=new).values_list("attempts", flat=True))
        r.check("worker drill: every digest delivered, none twice (by Message-ID)",
                delivered and not twice and not never,
                f"{len(new)} digests, {sum(counts[pk] for pk in new)} messages; twice: "
                f"{sorted(twice) or 'none'}; never: {len(never)}; attempts per digest: "
                + ", ".join(f"{k}×{v}" for k, v in sorted(attempts.items())))
        self.run.facts["worker drill"] = (
            f"{len(new)} digests at {self.args.smtp_delay} s a message, worker (2 processes) "
            f"SIGKILLed with {in_flight} in flight")

    # --- the way out ------------------------------------------------------------------------

    def tear_down(self) -> None:
        self.procs.stop_all()
        if self.smtp is not None:
            self.smtp.stop()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:
            pass
        if not self.args.keep_database:
            try:
                self.admin_sql(f'DROP DATABASE IF EXISTS "{self.args.database}" WITH (FORCE)')
            except Exception as exc:
                log(f"could not drop {self.args.database}: {exc}")


def machine() -> str:
    try:
        info = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        info = []
    cpu = next((line.split(":", 1)[1].strip() for line in info
                if line.startswith("model name")), "")
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{platform.node()}: {os.cpu_count()} cores ({cpu or platform.machine()}), " \
           f"{memory:.0f} GiB, Python {platform.python_version()}"


def report(run: Run, started: datetime, error: str | None) -> str:
    a = run.args
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip() or "?"
    if subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                      capture_output=True, text=True).stdout.strip():
        commit += " with uncommitted changes"
    lines = [
        START,
        "## Last run",
        "",
        f"- **Result: {'PASS' if run.passed and not error else 'FAIL'}**",
        f"- Date: {started:%Y-%m-%d %H:%M} UTC, commit {commit}",
        f"- Machine: {machine()}",
        f"- Setup: gunicorn {a.gunicorn_workers} workers × {a.gunicorn_threads} threads, "
        f"PostgreSQL and Redis on loopback, 1 Celery worker (2 processes); "
        f"{a.clients} clients for {a.seconds:.0f} s, Redis killed at {a.outage_at:.0f} s "
        f"for at least {a.outage_for:.0f} s",
        *[f"- {k.capitalize()}: {v}" for k, v in run.facts.items()],
    ]
    if error:
        lines.append(f"- Stopped early: {error}")
    if run.figures:
        lines += ["", "| request | count | failed | p50 ms | p95 ms | p99 ms | per s |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        lines += [f"| {k} | {n} | {f} | {p50:.0f} | {p95:.0f} | {p99:.0f} | {rate:.1f} |"
                  for k, n, f, p50, p95, p99, rate in run.figures]
    lines += ["", "| check | result | detail |", "| --- | --- | --- |"]
    lines += [f"| {c.name} | {'PASS' if c.passed else '**FAIL**'} | "
              f"{c.detail.replace('|', '/')} |" for c in run.checks]
    lines.append(END)
    return "\n".join(lines)


def write_report(section: str) -> None:
    text = REPORT.read_text(encoding="utf-8") if REPORT.exists() else f"{START}\n{END}\n"
    if START not in text or END not in text:
        text = text.rstrip() + f"\n\n{START}\n{END}\n"
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    REPORT.write_text(head + section + tail, encoding="utf-8")


def main() -> int:
    args = options()
    if not 0 < args.outage_at < args.seconds:
        sys.exit("--outage-at must fall within the load (0 < outage-at < seconds)")
    started = datetime.now(UTC)
    drill = Drill(args)
    error = None

    def stopped(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, stopped)
    try:
        drill.set_up()
        drill.phase_load()
        drill.phase_worker_kill()
    except (Exception, KeyboardInterrupt) as exc:
        error = f"{type(exc).__name__}: {str(exc)[:500]}"
        log(f"ERROR {error}")
        for name in ("gunicorn", "worker1", "worker2", "redis"):
            tail = drill.procs.tail(name, 15)
            if tail:
                log(f"--- {name} log (last lines) ---\n{tail}")
    finally:
        drill.tear_down()
    section = report(drill.run, started, error)
    print("\n" + section.replace(START, "").replace(END, "").strip())
    if not args.no_report:
        write_report(section)
        log(f"written to {REPORT.relative_to(ROOT)}")
    passed = drill.run.passed and error is None
    if passed:
        shutil.rmtree(drill.tmp, ignore_errors=True)
    else:
        log(f"the logs of the processes are in {drill.tmp}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
