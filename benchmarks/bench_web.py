"""The web layer: the status page, its exports, and the home page under load.

- ``status_page``: through the full Django stack (django.test.Client, every middleware), as
  the province manager (every target of the tier) and a commune manager (40): the home page,
  one commune's subtree, sorted by status, a text search; p50/p95 server time and the
  queries of a request (the membership lookups among them).
- ``exports``: the CSV and XLSX export of every row the province manager sees, the body read
  whole (it is streamed); time, and the memory the export allocates (tracemalloc, in a second
  run: it slows Python down) for all rows and for one commune's 40, which shows whether
  memory grows with the rows.
- ``load``: gunicorn with 2 workers on loopback against the benchmark database, ``wrk`` with
  10 connections on the home page signed in as each manager: requests/s, p50/p99, non-2xx
  (redirects included); with the settings' default (each worker keeps its database
  connection) and with a connection opened per request (``DB_CONN_MAX_AGE=0``).
"""

from __future__ import annotations

import csv
import io
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import openpyxl
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.urls import reverse

from benchmarks import dataset
from benchmarks.harness import Figures, measurement, stopwatch
from targets import selectors
from targets.models import Unit

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"  # in the default ALLOWED_HOSTS (the test client's "testserver" is not)
WARM_UPS, REPEATS = 2, 20
SEARCH = "T07"  # the seventh target of every commune: 150 rows at the province tier


# --- the status page ---------------------------------------------------------------------


class Statements:
    """Counts the statements of a request, and those reading memberships among them."""

    def __init__(self) -> None:
        self.count = 0
        self.memberships = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        self.memberships += 'FROM "targets_membership"' in sql
        return execute(sql, params, many, context)


@contextmanager
def statements() -> Iterator[Statements]:
    counter = Statements()
    with connection.execute_wrapper(counter):
        yield counter


def signed_in(username: str) -> Client:
    client = Client(HTTP_HOST=HOST)
    client.force_login(get_user_model().objects.get(username=username))
    return client


def percentile(values: list[float], q: float) -> float:
    """Nearest rank: the smallest value with at least ``q`` of the values at or below it."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 1))
    return ordered[int(rank) - 1]


def views(data: dataset.Dataset) -> dict[str, dict[str, str]]:
    commune = Unit.objects.get(code=data.commune)
    return {
        "home": {},
        "unit": {"unit": str(commune.pk)},
        "sort_status": {"sort": "status"},
        "search": {"q": SEARCH},
    }


def _table_rows(html: str) -> int:
    body = html.split("<tbody", 1)[1].split("</tbody>", 1)[0] if "<tbody" in html else ""
    return body.count("<tr")


def time_page(client: Client, params: dict[str, str]) -> Figures:
    url = reverse("targets:status")
    for _ in range(WARM_UPS):
        client.get(url, params)
    times, cpu = [], []
    for _ in range(REPEATS):
        started = time.process_time()
        with stopwatch() as watch:
            response = client.get(url, params)
        cpu.append((time.process_time() - started) * 1000)
        assert response.status_code == 200, response.status_code
        times.append(watch["seconds"] * 1000)
    with statements() as counted:
        response = client.get(url, params)
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(percentile(times, 0.95), 1),
        # This process's CPU (not the database's): less disturbed by a busy machine.
        "python_cpu_p50_ms": round(statistics.median(cpu), 1),
        "queries": counted.count,
        "membership_lookups": counted.memberships,
        "rows_shown": _table_rows(response.content.decode()),
    }


@measurement("status_page")
def status_page(data: dataset.Dataset) -> Figures:
    figures: Figures = {}
    for persona in ("province_manager", "commune_manager"):
        username = getattr(data, persona)
        user = get_user_model().objects.get(username=username)
        client = signed_in(username)
        per_view: Figures = {"visible": selectors.targets_status_rows(user=user).count()}
        for view, params in views(data).items():
            per_view[view] = time_page(client, params)
        figures[persona] = per_view
    province = figures["province_manager"]
    figures["province_p95_ms_max"] = max(
        province[view]["p95_ms"] for view in views(data)  # type: ignore[index]
    )
    return figures


# --- the exports ---------------------------------------------------------------------------


def _body(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def _rows_of(export: str, body: bytes) -> int:
    if export == "csv":
        return sum(1 for _ in csv.reader(io.StringIO(body.decode("utf-8-sig")))) - 1
    book = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
    return sum(1 for _ in book.active.iter_rows()) - 1


def _export(client: Client, export: str, params: dict[str, str]) -> bytes:
    response = client.get(reverse("targets:status"), {**params, "_export": export})
    assert response.status_code == 200, response.status_code
    body = _body(response)
    response.close()  # the XLSX's temporary file
    return body


def _allocated_mb(client: Client, export: str, params: dict[str, str]) -> float:
    """The most memory Python held at once during the export, above what it held before."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        # The body is counted as it is read, not kept: a client writes it to a file.
        response = client.get(reverse("targets:status"), {**params, "_export": export})
        for _chunk in response.streaming_content if response.streaming else [response.content]:
            pass
        response.close()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return round((peak - before) / 2**20, 2)


# Exports of growing size, for the memory they take: one commune's 40 targets, the targets
# numbered 10–19 of every commune (a quarter), all of them.
QUARTER = "T1"


@measurement("exports")
def exports(data: dataset.Dataset) -> Figures:
    client = signed_in(data.province_manager)
    sizes = {
        "one_commune": {"unit": str(Unit.objects.get(code=data.commune).pk)},
        "quarter": {"q": QUARTER},
        "all": {},
    }
    figures: Figures = {}
    for export in ("csv", "xlsx"):
        _export(client, export, sizes["one_commune"])  # warm up: templates, translations
        started = time.process_time()
        with stopwatch() as watch:
            body = _export(client, export, {})
        cpu = time.process_time() - started
        memory = {}
        for size, params in sizes.items():
            rows = _rows_of(export, _export(client, export, params))
            memory[f"{size}_{rows}_rows"] = _allocated_mb(client, export, params)
        figures[export] = {
            "seconds": round(watch["seconds"], 2),
            "python_cpu_s": round(cpu, 2),
            "rows": _rows_of(export, body),
            "bytes": len(body),
            "alloc_peak_mb": memory,
        }
    return figures


# --- under load: gunicorn and wrk -----------------------------------------------------------

WORKERS, CONNECTIONS, SECONDS = 2, 10, 15


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def answers(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((HOST, port)) == 0


def session_cookie(base_url: str, username: str) -> str:
    """Sign in through the sign-in form of the server under load, as a browser does (a session
    made here would not do: it is tied to this process's SECRET_KEY), and check that the
    status page then answers 200; the session as a Cookie header for wrk."""
    with httpx.Client(base_url=base_url, timeout=30) as browser:
        login = reverse("login")
        token = browser.get(login).cookies[settings.CSRF_COOKIE_NAME]
        signed = browser.post(login, data={
            "username": username, "password": dataset.BENCH_PASSWORD,
            "csrfmiddlewaretoken": token,
        })
        assert signed.status_code == 302, f"sign-in refused: {signed.status_code}"
        page = browser.get(reverse("targets:status"))
        assert page.status_code == 200, f"status page: {page.status_code}"
        return f"{settings.SESSION_COOKIE_NAME}={browser.cookies[settings.SESSION_COOKIE_NAME]}"


def ensure_wrk() -> str:
    subprocess.run([str(ROOT / "scripts" / "ensure-tools.sh"), "wrk=wrk"], check=True)
    return "wrk"


_DURATION = re.compile(r"([\d.]+)(us|ms|s|m)\b")
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = _DURATION.fullmatch(text.strip()).groups()  # type: ignore[union-attr]
    return round(float(number) * _UNITS[unit], 1)


# wrk counts only answers outside 2xx and 3xx as errors; a redirect to the sign-in page (an
# unknown session) must count too: every thread counts what is not 2xx, summed at the end.
COUNT_NON_2XX = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) non2xx = 0 end
function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end
function done(summary, latency, requests)
  local n = 0
  for _, thread in ipairs(threads) do n = n + thread:get("non2xx") end
  io.write(string.format("non-2xx: %d\\n", n))
end
"""


def parse_wrk(output: str) -> Figures:
    """Requests/s, p50/p99 and the count of non-2xx answers from ``wrk --latency``."""
    requests = re.search(r"(\d+) requests in", output)
    non_2xx = re.search(r"^non-2xx: (\d+)", output, re.M)
    errors = re.search(r"Socket errors: (.*)", output)
    return {
        "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
        "p50_ms": _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1)),  # type: ignore[union-attr]
        "p99_ms": _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1)),  # type: ignore[union-attr]
        "requests": int(requests.group(1)) if requests else 0,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": errors.group(1).strip() if errors else "",
    }


@contextmanager
def gunicorn(port: int, log: Path, **extra: str) -> Iterator[None]:
    env = {
        **os.environ,  # DATABASE_URL: the benchmark database
        "DJANGO_SETTINGS_MODULE": "tracker.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "HTTPS": "0",
        "ALLOWED_HOSTS": HOST,
        "STATIC_MANIFEST": "0",
        "SERVE_ADDR": f"{HOST}:{port}",
        "WEB_CONCURRENCY": str(WORKERS),
        "LOG_LEVEL": "WARNING",
        **extra,
    }
    with log.open("wb") as out:
        server = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "--access-logfile",
             "/dev/null"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while not answers(port):
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start:\n" + log.read_text()[-3000:])
                time.sleep(0.2)
            yield
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def run_wrk(wrk: str, url: str, cookie: str, seconds: int, script: Path) -> str:
    done = subprocess.run(
        [wrk, "-t", "2", "-c", str(CONNECTIONS), "-d", f"{seconds}s", "--latency",
         "--timeout", "10s", "-s", str(script), "-H", f"Cookie: {cookie}", url],
        capture_output=True, text=True, timeout=seconds + 60, check=True,
    )
    return done.stdout


# The settings' default keeps each worker's database connection (DB_CONN_MAX_AGE=60); for
# comparison, a connection opened for every request (DB_CONN_MAX_AGE=0).
SETUPS = {"default": {}, "connection_per_request": {"DB_CONN_MAX_AGE": "0"}}


@measurement("load")
def load(data: dataset.Dataset) -> Figures:
    wrk = ensure_wrk()
    figures: Figures = {"workers": WORKERS, "connections": CONNECTIONS, "seconds": SECONDS}
    for setup, extra in SETUPS.items():
        port = free_port()
        base_url = f"http://{HOST}:{port}"
        url = base_url + reverse("targets:status")
        results: Figures = {}
        with tempfile.TemporaryDirectory() as tmp, \
                gunicorn(port, Path(tmp) / "gunicorn.log", **extra):
            script = Path(tmp) / "count.lua"
            script.write_text(COUNT_NON_2XX)
            for persona in ("province_manager", "commune_manager"):
                cookie = session_cookie(base_url, getattr(data, persona))
                run_wrk(wrk, url, cookie, 2, script)  # warm up: each worker's first requests
                results[persona] = parse_wrk(run_wrk(wrk, url, cookie, SECONDS, script))
        figures[setup] = results
    return figures
