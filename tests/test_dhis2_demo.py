"""The demo exchanged with DHIS2 through the commands: its export imports back unchanged."""

from __future__ import annotations

import json
import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from dhis2.models import DataElementMapping, OrgUnitMapping
from targets.models import EntryStatus, ProgressEntry, Target, Unit
from targets.services.demo import demo_load
from targets.services.plans import plan_import_file
from tests.conftest import plan_operator

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
# The demo's managers of each plan's province, who see all of its targets.
PLANS = {"BX-2025-2030": "lc.manager", "MLT-2026-2030": "lch.manager"}


@pytest.fixture
def demo(db):
    for name in ("bat-xat-2025-2030.yaml", "ma-lu-thang-2026-2030.yaml"):
        plan_import_file(FIXTURES / name, user=plan_operator())
    demo_load(FIXTURES / "demo.yaml", operator=plan_operator())


def snapshot() -> tuple:
    return (
        sorted(ProgressEntry.objects.values_list(
            "target__code", "period", "value", "note", "status", "version", "reviewer_id")),
        ProgressEntry.history.count(),
    )


def export(plan: str, user: str, *more: str) -> str:
    out = StringIO()
    call_command("dhis2_export", "--plan", plan, "--user", user, *more, stdout=out)
    return out.getvalue()


def run_import(path: Path, user: str, *more: str) -> str:
    out = StringIO()
    call_command("dhis2_import", str(path), "--user", user, *more, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize(("plan", "manager"), PLANS.items())
def test_the_demos_export_imports_back_into_itself_unchanged(demo, tmp_path, plan, manager):
    text = export(plan, manager)
    document = json.loads(text)
    approved = ProgressEntry.objects.filter(target__plan__code=plan, status=EntryStatus.APPROVED)
    assert len(document["dataValues"]) == approved.count() > 0
    path = tmp_path / f"{plan}.json"
    path.write_text(text, encoding="utf-8")
    before = snapshot()
    dry = run_import(path, manager, "--dry-run")
    assert dry.splitlines()[-1] == f"{path}: dry run, nothing written. Nothing to change."
    assert run_import(path, manager).strip() == (
        f"{path}: 0 created, 0 updated, 0 approved, {approved.count()} unchanged.")
    assert run_import(path, manager, "--status", "approved").strip().endswith(
        f"{approved.count()} unchanged.")
    assert snapshot() == before
    assert export(plan, manager) == text


def test_the_ma_lu_thang_export_states_its_decree_09_periods(demo):
    document = json.loads(export("MLT-2026-2030", "lch.manager", "--from", "2026Q1",
                                 "--to", "2026-Q1"))
    # The Decree-09 quarter 2026-Q1 (15/12/2025 – 14/03/2026) is DHIS2's 2026Q1; the yearly
    # MLT-INCOME has no period inside that quarter.
    assert {v["period"] for v in document["dataValues"]} == {"2026Q1"}
    assert document["notes"][1] == (
        "The plan reports on Decree 09/2019 cut-off periods (the 15th of a month to the 14th): "
        "each value is given under the DHIS2 period its cut-off falls in, so 2026-Q1 "
        "(2025-12-15 to 2026-03-14) is 2026Q1 (2026-01-01 to 2026-03-31).")


def test_a_mapped_demo_exports_dhis2_identifiers_and_still_imports_back(demo, tmp_path):
    for unit in Unit.objects.filter(code__startswith="LC"):
        OrgUnitMapping.objects.create(unit=unit, code=f"OU-{unit.pk}")
    for target in Target.objects.filter(plan__code="BX-2025-2030"):
        DataElementMapping.objects.create(target=target, code=f"DE-{target.pk}")
    path = tmp_path / "bx.json"
    call_command("dhis2_export", "--plan", "BX-2025-2030", "--user", "lc.manager",
                 "--output", str(path), stderr=StringIO())
    document = json.loads(path.read_text(encoding="utf-8"))
    assert {v["dataElement"][:3] for v in document["dataValues"]} == {"DE-"}
    assert len(document["notes"]) == 1  # nothing under our own codes
    before = snapshot()
    assert run_import(path, "lc.manager", "--dry-run").endswith("Nothing to change.\n")
    assert snapshot() == before


def test_the_commands_refuse_with_the_reason(demo, tmp_path):
    refused = re.escape("No plan “MLT-2026-2030” with a target lc.manager may see.")
    with pytest.raises(CommandError, match=refused):
        export("MLT-2026-2030", "lc.manager")
    with pytest.raises(CommandError, match="--from: DHIS2 has no nine-month period type"):
        export("BX-2025-2030", "lc.manager", "--from", "2026-9M")
    path = tmp_path / "bad.json"
    path.write_text('{"dataValues": [{"dataElement": "BX-IP", "period": "2026Q4", '
                    '"orgUnit": "LC-BATXAT-ECON", "value": "1.5"}]}', encoding="utf-8")
    before = snapshot()
    err = StringIO()
    with pytest.raises(CommandError, match=r"1 problem in .*bad\.json; nothing was written"):
        call_command("dhis2_import", str(path), "--user", "bx.econ.staff", stderr=err)
    assert err.getvalue().strip() == (
        "bad.json data value 1 (BX-IP 2026Q4 LC-BATXAT-ECON): value: 1.5 is not a whole number.")
    with pytest.raises(CommandError, match="1 problem"):
        run_import(path, "bx.econ.staff", "--dry-run")
    assert snapshot() == before
