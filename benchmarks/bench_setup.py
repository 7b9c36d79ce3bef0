"""Setting up: the schema and the synthetic data (benchmarks.dataset)."""

from __future__ import annotations

from django.core.management import call_command

from benchmarks import dataset
from benchmarks.harness import Figures, measurement, stopwatch


@measurement("setup")
def setup(data: dataset.Dataset) -> Figures:
    with stopwatch() as migrate:
        call_command("migrate", verbosity=0, interactive=False)
    with stopwatch() as generate:
        made = dataset.generate(data.scale)
    return {
        "targets": made.targets,
        "entries": made.entries,
        "migrate_s": round(migrate["seconds"], 2),
        "generate_s": round(generate["seconds"], 2),
    }
