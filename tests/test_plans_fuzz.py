"""Fuzzing the plan importer (issue 9): whatever the file holds, the answer is an import or a
list of problems, each with its place — never an uncaught exception, never a partial write."""

from __future__ import annotations

import copy
import json
import os
import re
import textwrap
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from targets.errors import ImportFailed
from targets.models import Area, Milestone, Plan, Target, Unit
from targets.services.plans import load_located, plan_file_parse, plan_import
from tests.conftest import SMALL_PLAN, plan_operator
from tests.test_services_plans import BROKEN

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]

# A few seconds in the suite; PLAN_FUZZ_EXAMPLES=5000 for a longer hunt.
FUZZ = settings(
    max_examples=int(os.environ.get("PLAN_FUZZ_EXAMPLES", "50")),
    deadline=None,
    database=None,  # no example database in the shared tree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def plain(value: Any) -> Any:
    """The loaded file as plain dicts and lists, ready to be mutated and dumped again."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if hasattr(value, "is_finite"):  # Decimal, which the YAML dumper does not know
        return float(value)
    return value


BASE = plain(load_located(SMALL_PLAN))
UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def database() -> tuple:
    """Everything an import may write, to compare before and after a refused one."""
    return (
        list(Unit.objects.order_by("pk").values_list()),
        list(Plan.objects.order_by("pk").values_list()),
        list(Area.objects.order_by("pk").values_list()),
        list(Target.objects.order_by("pk").values_list()),
        list(Milestone.objects.order_by("pk").values_list()),
        Target.history.count(),
        Milestone.history.count(),
    )


def attempt(content: bytes, filename: str = "fuzz.yaml") -> None:
    """Import ``content`` and undo whatever it wrote: a refusal must have written nothing,
    and name each problem's place in the file."""
    from django.db import transaction

    operator = plan_operator()
    before = database()
    with transaction.atomic():
        try:
            data = plan_file_parse(content, filename, json=filename.endswith(".json"))
            plan_import(data=data, filename=filename, user=operator)
        except ImportFailed as failed:
            assert failed.problems
            for problem in failed.problems:
                text = str(problem)
                assert text.startswith(filename), text
                if problem.line:
                    assert text.startswith(f"{filename}:{problem.line}"), text
                assert not UNPRINTABLE.search(text), text
            assert database() == before, "a refused file wrote something"
        transaction.set_rollback(True)


# --- what goes into the file ----------------------------------------------------------

hostile_text = st.one_of(
    st.text(max_size=20),
    st.text(st.characters(codec="utf-8"), max_size=10),
    st.sampled_from(["\x00", "LC\x00", "\ud800", "\x1b[31m", "\x85", "\u2028", "\ufeff", " "]),
    st.integers(min_value=39, max_value=400).map(lambda n: "X" * n),
    st.sampled_from([
        "2025-06-31", "1.234,5", "1e999", "-0", "NaN", "inf", "0x1F", "yes", "~",
        "9" * 30, "0.00001", "12345678901234567", "-1", "2200-12-31", "1899-12-31",
        "https://", "javascript:alert(1)", "LC", "LC-BATXAT", "industry", "BX-IP",
        "integer", "percent", "smooth", "monthly", "at_most", "sum",
    ]),
)
hostile_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.sampled_from([32767, 32768, -1, 0, 1, 100, 101, 10**16, 10**20]),
    st.floats(),
    st.dates(),
    st.datetimes(),
    hostile_text,
)
hostile = st.recursive(
    hostile_scalar,
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.one_of(st.text(max_size=8), st.sampled_from(["code", "value", "date"])),
                      inner, max_size=3),
    max_leaves=6,
)


def places(value: Any, path: tuple = ()) -> list[tuple]:
    """Every place in the structure a value sits at, as a path of keys and indexes."""
    found = [path] if path else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += places(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += places(item, (*path, index))
    return found


@st.composite
def mutated_plans(draw: st.DrawFn) -> bytes:
    """The small plan with a few values replaced, keys removed or unknown keys added,
    dumped as YAML or as JSON."""
    plan = copy.deepcopy(BASE)
    for _round in range(draw(st.integers(min_value=1, max_value=3))):
        spots = places(plan)
        if not spots:
            break
        path = draw(st.sampled_from(spots))
        *parents, last = path
        container = plan
        for step in parents:
            container = container[step]
        action = draw(st.sampled_from(["replace", "replace", "drop", "add"]))
        if action == "drop" and isinstance(container, dict):
            del container[last]
        elif action == "add" and isinstance(container, dict):
            container[draw(st.sampled_from(["min", "max", "owner", "parent", "extra"]))] = draw(
                hostile
            )
        else:
            container[last] = draw(hostile)
    if draw(st.booleans()):
        return yaml.safe_dump(plan, allow_unicode=False, sort_keys=False).encode()
    return json.dumps(plan, default=str).encode()


SNIPPETS = [
    b"\x00", b"\xff\xfe", b"\xe0t", b"\t", b"&a [1, 2]", b"*a", b"<<: *a", b"!!binary xx",
    b"!!python/object:os.system ls", b"!foo 1", b"? [a, b]\n: c", b"[" * 2000, b"{" * 300,
    b"- " * 500, b"%YAML 1.1\n---", b"---\n---", b"'unclosed", b'"\\ud800"', b'"\\0"',
    b"value: 1e400", b"date: 2025-02-30", b"grace_days: 99999999999999999999",
    b"9" * 5000,
]


@st.composite
def spliced_plans(draw: st.DrawFn) -> bytes:
    """The text of a valid plan with hostile bytes put into a line."""
    lines = textwrap.dedent(draw(st.sampled_from([SMALL_PLAN, BROKEN]))).encode().splitlines()
    index = draw(st.integers(min_value=0, max_value=len(lines) - 1))
    snippet = draw(st.sampled_from(SNIPPETS) | st.binary(max_size=20))
    line = lines[index]
    at = draw(st.integers(min_value=0, max_value=len(line)))
    lines[index] = line[:at] + snippet + line[at:]
    return b"\n".join(lines)


# --- the properties ----------------------------------------------------------------------


@FUZZ
@given(content=mutated_plans())
def test_a_mutated_plan_is_imported_or_refused_into_an_empty_database(db, content):
    attempt(content)


@FUZZ
@given(content=mutated_plans())
def test_a_mutated_plan_over_the_imported_one_is_imported_or_refused(people, content):
    # With the plan, its users and their memberships in the database: a re-import updates,
    # and the checks against what is stored (kept milestones, moved units) come into play.
    attempt(content)


@FUZZ
@given(content=st.one_of(spliced_plans(), st.binary(max_size=300)))
def test_any_bytes_are_imported_or_refused(db, content):
    attempt(content, "fuzz.json" if content[:1] in (b"{", b"[") else "fuzz.yaml")

