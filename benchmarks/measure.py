"""One measurement in a process of its own: ``python -m benchmarks.measure NAME --scale S``.

Prints one JSON object (its figures) on the last line of stdout. Each measurement runs in a
fresh process so that its peak RSS is its own. ``benchmarks.run`` calls this for every
measurement against the benchmark database it set up.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
os.environ.setdefault("HTTPS", "0")
os.environ.setdefault("STATIC_MANIFEST", "0")

import django

django.setup()

from benchmarks import dataset, harness  # noqa: E402

# The modules whose import registers their measurements (benchmarks.harness.measurement).
MODULES = ("setup", "evaluation", "web", "dispatch", "workers")


def main(argv: list[str] | None = None) -> int:
    for module in MODULES:
        try:
            __import__(f"benchmarks.bench_{module}")
        except ModuleNotFoundError as exc:  # a measurement module not written yet
            if exc.name != f"benchmarks.bench_{module}":
                raise
    parser = argparse.ArgumentParser()
    parser.add_argument("name", choices=sorted(harness.MEASUREMENTS))
    parser.add_argument("--scale", choices=sorted(dataset.SCALES), default="province")
    args = parser.parse_args(argv)
    data = dataset.dataset_of(dataset.SCALES[args.scale])
    figures = harness.MEASUREMENTS[args.name](data)
    figures.setdefault("peak_rss_mb", harness.peak_rss_mb())
    sys.stdout.write("\n" + json.dumps(figures, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
