import os

import pytest


def pytest_configure(config: pytest.Config) -> None:
    if "postgres" not in os.environ.get("DATABASE_URL", ""):
        raise pytest.UsageError("Benchmarks run against PostgreSQL: use `make bench`.")
