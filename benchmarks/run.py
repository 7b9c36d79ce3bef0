"""``make bench [SCALE=province|national]``: set up, generate, measure, print, save.

Creates the database ``tracker_bench_<scale>`` afresh on the server of ``DATABASE_URL``,
fills it (benchmarks.dataset), runs every measurement in a process of its own
(benchmarks.measure), prints a table and writes the figures as JSON to ``var/bench/``
(git-ignored): ``<scale>-<time>.json`` and ``<scale>-latest.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "var" / "bench"

# In this order: the web and dispatch measurements read what the evaluation recorded.
ORDER = [
    "setup",
    "floor",
    "evaluate_first",
    "evaluate_rerun",
    "naive",
    "status_page",
    "exports",
    "load",
    "dispatch",
    "workers",
]


def database_url(base: str, name: str) -> str:
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"/{name}"))


def recreate(base: str, name: str) -> None:
    admin = database_url(base, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def measure(name: str, scale: str, env: dict[str, str], timeout: float) -> dict:
    argv = [sys.executable, "-m", "benchmarks.measure", name, "--scale", scale]
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
        return {"error": f"exit {done.returncode}", "wall_s": round(wall, 1)}
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["wall_s"] = round(wall, 1)
    return figures


def ratios(results: dict) -> dict:
    out = {}
    floor = results.get("floor", {}).get("seconds")
    naive = results.get("naive", {}).get("targets_per_s")
    for run in ("evaluate_first", "evaluate_rerun"):
        seconds = results.get(run, {}).get("seconds")
        if floor and seconds:
            out[f"{run}_over_floor"] = round(seconds / floor, 1)
        rate = results.get(run, {}).get("targets_per_s")
        if naive and rate:
            out[f"naive_over_{run}"] = round(rate / naive, 1)
    return out


def table(results: dict) -> str:
    lines = []
    for name, figures in results.items():
        shown = ", ".join(f"{k}={v}" for k, v in figures.items() if not isinstance(v, dict | list))
        lines.append(f"{name:<16} {shown}")
        for k, v in figures.items():
            if isinstance(v, dict | list):
                lines.append(f"{'':<16}   {k}: {json.dumps(v)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default=os.environ.get("SCALE", "province"),
                        choices=("tiny", "province", "national"))
    parser.add_argument("--only", help="comma-separated measurements (setup is kept)")
    parser.add_argument("--db-suffix", default="", help="use tracker_bench_<scale>_<suffix>")
    parser.add_argument("--out", type=Path, default=OUT, help="where the JSON goes (var/bench)")
    parser.add_argument("--reuse", action="store_true",
                        help="measure the existing benchmark database (no setup)")
    args = parser.parse_args(argv)
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tracker")
    name = f"tracker_bench_{args.scale}" + (f"_{args.db_suffix}" if args.db_suffix else "")
    env = {
        # The Celery measurements flush their broker database: never a deployment's (db 0).
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/13",
        **os.environ,
        "DATABASE_URL": database_url(base, name), "HTTPS": "0", "STATIC_MANIFEST": "0",
        "DJANGO_SETTINGS_MODULE": "tracker.settings", "CACHE_URL": "locmem://",
    }
    wanted = ORDER if not args.only else [n for n in ORDER if n in args.only.split(",")]
    if args.reuse:
        wanted = [n for n in wanted if n != "setup"]
    elif "setup" not in wanted:
        wanted = ["setup", *wanted]
    if "setup" in wanted:
        recreate(base, name)
    timeout = 3600 if args.scale == "national" else 1200
    results: dict[str, dict] = {}
    for step in wanted:
        print(f"… {step}", file=sys.stderr, flush=True)
        results[step] = measure(step, args.scale, env, timeout)
        print(f"{step:<16} {json.dumps(results[step])}", file=sys.stderr, flush=True)
        if step == "setup" and "error" in results[step]:
            break
    report = {
        "scale": args.scale,
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "results": results,
        "ratios": ratios(results),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    for path in (args.out / f"{args.scale}-{stamp}.json", args.out / f"{args.scale}-latest.json"):
        path.write_text(json.dumps(report, indent=2) + "\n")
    print(table(results))
    print("ratios: " + json.dumps(report["ratios"]))
    print(f"written: {args.out / f'{args.scale}-{stamp}.json'}")
    return 1 if any("error" in r for r in results.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
