"""Plan file import (DESIGN §7): all or nothing, every problem with its place, idempotent."""

from __future__ import annotations

import json
import textwrap
import unicodedata
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction

from targets.errors import ImportFailed
from targets.models import Area, Milestone, Plan, Target, Unit
from targets.services.plans import load_located, plan_file_parse, plan_import, plan_import_file
from tests.conftest import SMALL_PLAN, plan_operator

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def import_text(text: str, filename: str = "plan.yaml"):
    return plan_import(
        data=load_located(textwrap.dedent(text)), filename=filename, user=plan_operator()
    )


def history_rows() -> int:
    return (
        Target.history.count()
        + Milestone.history.count()
    )


def test_valid_file_creates_units_plan_areas_targets_and_milestones():
    result = import_text(SMALL_PLAN)

    # 4 units + 1 plan + 1 area + 2 targets
    assert (result.created, result.updated, result.unchanged) == (8, 0, 0)
    assert Unit.objects.get(code="LC-BATXAT-IND").path == "LC/LC-BATXAT/LC-BATXAT-IND/"
    plan = Plan.objects.get(code="BX-2025-2030")
    assert (plan.start, plan.end) == (date(2025, 7, 1), date(2030, 12, 31))
    assert plan.unit.code == "LC-BATXAT"
    ip = Target.objects.get(code="BX-IP")
    assert ip.trajectory == "step" and ip.value_type == "integer"
    assert (ip.baseline_value, ip.target_value) == (Decimal(0), Decimal(2))
    assert ip.source_url == "https://baolaocai.vn/x"
    assert [(m.date, m.value) for m in ip.milestones.all()] == [(date(2027, 12, 31), Decimal(1))]
    occ = Target.objects.get(code="BX-OCC")
    # Defaults where the file is silent: linear, at_least, latest, tolerance 0.10.
    assert (occ.trajectory, occ.direction, occ.aggregation) == ("linear", "at_least", "latest")
    assert occ.tolerance == Decimal("0.10")
    assert occ.responsible_unit.code == "LC-BATXAT-IND"


def test_importing_the_same_file_twice_changes_nothing():
    import_text(SMALL_PLAN)
    before = history_rows()

    result = import_text(SMALL_PLAN)

    assert (result.created, result.updated, result.unchanged) == (0, 0, 8)
    assert history_rows() == before  # not even an audit record
    assert Target.objects.count() == 2 and Milestone.objects.count() == 1


def test_reimport_updates_changed_values_and_replaces_milestones():
    import_text(SMALL_PLAN)
    changed = SMALL_PLAN.replace(
        "target: {value: 2, date: 2030-12-31}", "target: {value: 3, date: 2030-12-31}"
    )
    changed = changed.replace("- {date: 2027-12-31, value: 1}", "- {date: 2028-06-30, value: 2}")

    result = import_text(changed)

    assert result.updated == 1
    ip = Target.objects.get(code="BX-IP")
    assert ip.target_value == Decimal(3)
    assert [(m.date, m.value) for m in ip.milestones.all()] == [(date(2028, 6, 30), Decimal(2))]
    assert ip.history.count() == 2  # created, then one change


BROKEN = """
units:
  - {code: LC, name: "Lao Cai province"}
  - {code: LC-BATXAT, name: "Bat Xat commune", parent: NOWHERE}
plans:
  - code: BX-2025-2030
    name: "Bat Xat commune 2025–2030 term"
    unit: LC
    start: 2025-07-01
    end: 2030-12-31
    areas:
      - {code: industry, name: "Industry"}
    targets:
      - code: BX-OCC
        name: "Occupancy"
        area: industry
        responsible_unit: LC
        measure: "%"
        value_type: percent
        baseline: {value: 20, date: 2025-06-30}
        target: {value: 120, date: 2030-12-31}
      - code: BX-WORKERS
        name: "Workers"
        area: nowhere
        responsible_unit: LC
        measure: "workers"
        value_type: integer
        baseline: {value: "many", date: 2025-06-30}
        target: {value: 20000, date: 2024-12-31}
        trajectory: curvy
        milestones:
          - {date: 2031-06-30, value: 10000}
      - code: BX-OCC
        name: "Occupancy again"
        area: industry
        responsible_unit: LC
        measure: "%"
        baseline: {value: 1, date: 2025-06-30}
        target: {value: 2, date: 2030-12-31}
"""


def test_file_with_several_errors_reports_all_with_their_lines_and_writes_nothing():
    with pytest.raises(ImportFailed) as failed:
        import_text(BROKEN, "broken.yaml")

    messages = [str(p) for p in failed.value.problems]
    expected = [
        ("broken.yaml:4", "unit LC-BATXAT", "parent", "unknown unit “NOWHERE”"),
        ("broken.yaml:21", "target BX-OCC", "target.value", "120 is not a percentage"),
        ("broken.yaml:24", "target BX-WORKERS", "area", "unknown area “nowhere”"),
        ("broken.yaml:28", "target BX-WORKERS", "baseline.value", "“many” is not a number"),
        ("broken.yaml:29", "target BX-WORKERS", "target.date", "due date must be after"),
        ("broken.yaml:30", "target BX-WORKERS", "trajectory", "“curvy” is not one of linear, step"),
        ("broken.yaml:32", "target BX-WORKERS milestone 1", "date", "lies outside the plan"),
        ("broken.yaml:33", "target BX-OCC", "code", "appears twice"),
    ]
    for place, label, field, text in expected:
        assert any(
            m.startswith(f"{place} {label}") and f" {field}:" in m and text in m for m in messages
        ), (place, label, field, text, messages)
    assert len(messages) == len(expected), messages
    assert Unit.objects.count() == 0
    assert Plan.objects.count() == 0 and Target.objects.count() == 0


def test_a_problem_found_late_leaves_the_database_as_it_was():
    import_text(SMALL_PLAN)
    bad = SMALL_PLAN.replace('name_en: "Industrial parks formed"', 'name_en: "Parks"').replace(
        "value_type: percent", "value_type: percentage"
    )

    with pytest.raises(ImportFailed):
        import_text(bad)

    assert Target.objects.get(code="BX-IP").name_en == "Industrial parks formed"


def test_json_is_accepted_as_a_plan_file(tmp_path):
    plan = load_located(SMALL_PLAN)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan, default=str), encoding="utf-8")

    result = plan_import_file(path, user=plan_operator())

    assert result.created == 8
    assert Target.objects.get(code="BX-IP").milestones.get().date == date(2027, 12, 31)


def test_invalid_yaml_is_reported_with_its_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("units:\n  - {code: LC, name: [unclosed\nplans: []\n", encoding="utf-8")

    with pytest.raises(ImportFailed) as failed:
        plan_import_file(path, user=plan_operator())

    assert str(failed.value.problems[0]).startswith("bad.yaml:")
    assert "not valid YAML" in str(failed.value.problems[0])


def test_unit_cycle_is_rejected():
    text = """
    units:
      - {code: A, name: "A", parent: B}
      - {code: B, name: "B", parent: A}
    plans: []
    """
    with pytest.raises(ImportFailed) as failed:
        import_text(text)
    assert any("loops back" in str(p) for p in failed.value.problems)


def test_moving_a_unit_moves_its_subtree_paths():
    import_text(SMALL_PLAN)
    moved = SMALL_PLAN.replace(
        '- {code: LC-BATXAT, name: "Xã Bát Xát", name_en: "Bat Xat commune", parent: LC}',
        '- {code: LC-BATXAT, name: "Xã Bát Xát", name_en: "Bat Xat commune", parent: LCH}',
    )
    import_text(moved)
    assert Unit.objects.get(code="LC-BATXAT-IND").path == "LCH/LC-BATXAT/LC-BATXAT-IND/"


def test_import_plan_command_prints_every_problem_and_exits_non_zero(tmp_path, capsys):
    path = tmp_path / "broken.yaml"
    path.write_text(textwrap.dedent(BROKEN), encoding="utf-8")

    with pytest.raises(CommandError) as error:
        call_command("import_plan", str(path), "--user", plan_operator().username)

    assert "8 problems" in str(error.value) and "nothing was written" in str(error.value)
    err = capsys.readouterr().err
    assert err.count("broken.yaml") == 8
    assert Target.objects.count() == 0


def test_import_plan_command_reports_counts(tmp_path, capsys):
    path = tmp_path / "small.yaml"
    path.write_text(SMALL_PLAN, encoding="utf-8")
    call_command("import_plan", str(path), "--user", plan_operator().username)
    call_command("import_plan", str(path), "--user", plan_operator().username)
    out = capsys.readouterr().out
    assert "8 created, 0 updated, 0 unchanged" in out
    assert "0 created, 0 updated, 8 unchanged" in out


def test_seed_fixtures_import_cleanly_and_carry_their_sources():
    for name in ("bat-xat-2025-2030.yaml", "ma-lu-thang-2026-2030.yaml"):
        plan_import_file(FIXTURES / name, user=plan_operator())

    bat_xat = Target.objects.filter(plan__code__startswith="BX")
    codes = set(bat_xat.values_list("code", flat=True))
    assert {"BX-IP", "BX-IC", "BX-LOG", "BX-OCC", "BX-WORKERS", "BX-RESORT", "BX-URBAN",
            "BX-LOGCTR", "BX-BRIDGE", "BX-SMARTGATE", "BX-WARD"} <= codes
    assert Target.objects.get(code="BX-OCC").target_value == Decimal(80)
    assert Target.objects.get(code="BX-WORKERS").target_value == Decimal(20000)
    assert Target.objects.get(code="BX-IP").target_value == Decimal(2)
    assert Target.objects.get(code="MLT-TRADE").baseline_value == Decimal(163)
    for target in Target.objects.all():
        assert target.source_text and target.source_url.startswith("https://"), target.code
    # Count-like commitments are steps; levels are linear.
    for code in ("BX-IP", "BX-IC", "BX-RESORT", "BX-BRIDGE", "BX-SMARTGATE", "MLT-BRIDGE"):
        assert Target.objects.get(code=code).trajectory == "step", code
    for code in ("BX-OCC", "BX-WORKERS"):
        assert Target.objects.get(code=code).trajectory == "linear", code
    # A commitment without a number in the article says so.
    assert Target.objects.get(code="MLT-BRIDGE").illustrative


def test_database_rejects_a_milestone_outside_its_plan(small_plan):
    target = Target.objects.get(code="BX-IP")
    with pytest.raises(IntegrityError), transaction.atomic():
        Milestone.objects.create(target=target, date=date(2031, 6, 30), value=1)


def test_database_rejects_a_percent_target_above_100(small_plan):
    target = Target.objects.get(code="BX-OCC")
    target.target_value = Decimal(120)
    with pytest.raises(IntegrityError), transaction.atomic():
        target.save()


def test_database_rejects_due_date_before_baseline(small_plan):
    target = Target.objects.get(code="BX-IP")
    target.due_date = date(2025, 1, 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        target.save()


def test_area_codes_are_scoped_to_their_plan(small_plan):
    assert Area.objects.get(code="industry").plan.code == "BX-2025-2030"


def test_database_rejects_a_percent_entry_above_100(people):
    from targets.models import ProgressEntry

    target = Target.objects.get(code="BX-OCC")
    with pytest.raises(IntegrityError), transaction.atomic():
        ProgressEntry.objects.create(
            target=target, period="2025-Q3", period_start=date(2025, 7, 1),
            period_end=date(2025, 9, 30), value=Decimal("100.5"), author=people["staff"],
        )


def test_database_rejects_a_percent_milestone_above_100(small_plan):
    target = Target.objects.get(code="BX-OCC")
    with pytest.raises(IntegrityError), transaction.atomic():
        Milestone.objects.create(target=target, date=date(2027, 12, 31), value=Decimal(101))


def test_malformed_sections_and_impossible_dates_are_reported_not_raised(tmp_path):
    path = tmp_path / "odd.yaml"
    path.write_text(
        textwrap.dedent("""
        units:
          - {code: LC, name: "Lao Cai"}
        plans:
          - code: P1
            name: "Plan"
            unit: LC
            start: 2025-07-01
            end: 2030-12-31
            areas: 5
            targets:
              - code: T1
                name: "T"
                area: industry
                responsible_unit: LC
                measure: "x"
                baseline: {value: 0, date: 2025-06-31}
                target: {value: 1, date: 2030-12-31}
          - code: P2
            name: "Plan 2"
            unit: LC
            start: 2025-07-01
            end: 2030-12-31
            targets: 7
        """),
        encoding="utf-8",
    )
    with pytest.raises(ImportFailed) as failed:
        plan_import_file(path, user=plan_operator())
    messages = [str(p) for p in failed.value.problems]
    assert "odd.yaml:10 plan P1: areas: must be a list" in messages
    assert any(
        m.startswith("odd.yaml:17 target T1: baseline.date:") and "“2025-06-31” is not a date" in m
        for m in messages
    ), messages
    assert "odd.yaml:24 plan P2: targets: must be a list" in messages


def test_json_indented_with_tabs_is_accepted(tmp_path):
    plan = load_located(SMALL_PLAN)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan, default=str, indent="\t"), encoding="utf-8")
    assert plan_import_file(path, user=plan_operator()).created == 8


def test_shrinking_a_plan_below_a_kept_milestone_is_reported(small_plan):
    # BX-IP's milestone 2027-12-31 stays (the file below does not list BX-IP).
    shrunk = """
    plans:
      - code: BX-2025-2030
        name: "Bat Xat commune 2025–2030 term"
        unit: LC-BATXAT
        start: 2025-07-01
        end: 2027-06-30
    """
    with pytest.raises(ImportFailed) as failed:
        import_text(shrunk)
    assert "the milestone of 2027-12-31 of target BX-IP would lie outside the plan" in str(
        failed.value.problems[0]
    )
    assert Plan.objects.get(code="BX-2025-2030").end == date(2030, 12, 31)


def test_the_admin_form_refuses_plan_dates_that_strand_a_milestone(small_plan):
    from django.core.exceptions import ValidationError

    plan = Plan.objects.get(code="BX-2025-2030")
    plan.end = date(2027, 6, 30)
    with pytest.raises(ValidationError, match="BX-IP 2027-12-31"):
        plan.full_clean()


def test_a_smooth_trajectory_is_accepted_and_kept():
    import_text(SMALL_PLAN.replace("trajectory: step", "trajectory: smooth"))
    assert Target.objects.get(code="BX-IP").trajectory == "smooth"


PLAN_WITH = """
units:
  - {{code: LC, name: "Lao Cai"}}
plans:
  - code: P1
    name: "Plan"
    unit: LC
    start: {start}
    end: {end}
    areas:
      - {{code: a, name: "Area"}}
    targets:
      - code: T1
        name: "T"
        area: a
        responsible_unit: LC
        measure: "x"
        frequency: {frequency}
        baseline: {{value: 0, date: {baseline}}}
        target: {{value: 1, date: {due}}}
"""


def test_dates_outside_1900_to_2200_are_refused_with_their_place():
    with pytest.raises(ImportFailed) as failed:
        import_text(
            PLAN_WITH.format(
                start="1899-12-31", end="9999-12-31", frequency="yearly",
                baseline="1899-12-31", due="9999-12-31",
            ),
            "far.yaml",
        )
    messages = [str(p) for p in failed.value.problems]
    for line, label, field, day in [
        (8, "plan P1", "start", "1899-12-31"),
        (9, "plan P1", "end", "9999-12-31"),
        (19, "target T1", "baseline.date", "1899-12-31"),
        (20, "target T1", "target.date", "9999-12-31"),
    ]:
        assert any(
            m.startswith(f"far.yaml:{line} {label}: {field}:")
            and f"{day} lies outside the years a plan may span (1900-01-01 – 2200-12-31)" in m
            for m in messages
        ), (line, field, messages)
    assert Plan.objects.count() == 0 and Target.objects.count() == 0


def test_more_reporting_periods_than_allowed_are_refused():
    # Monthly from 2000-01-01 to 2050-12-31: the periods 2000-01 … 2050-12 are 51 × 12 = 612
    # months, more than the 600 allowed; yearly, the same plan has 51 periods and imports.
    text = PLAN_WITH.format(
        start="2000-01-01", end="2050-12-31", frequency="monthly",
        baseline="2000-01-01", due="2050-12-31",
    )
    with pytest.raises(ImportFailed) as failed:
        import_text(text, "long.yaml")
    assert [str(p) for p in failed.value.problems] == [
        "long.yaml:18 target T1: frequency: 612 reporting periods between the baseline and due "
        "dates: at most 600 are allowed (report less often or shorten the plan)"
    ]
    import_text(text.replace("monthly", "yearly"), "long.yaml")
    assert len(Target.objects.get(code="T1").reporting_periods()) == 51


# --- every bad value is a problem with its place, never a traceback (issue 9) ---------------


def problems_of(content: str | bytes, filename: str = "plan.yaml") -> list[str]:
    """The problems of a file given as text (dedented) or bytes; it must write nothing."""
    if isinstance(content, str):
        content = textwrap.dedent(content).encode()
    with pytest.raises(ImportFailed) as failed:
        plan_import(
            data=plan_file_parse(content, filename), filename=filename, user=plan_operator()
        )
    assert Unit.objects.count() == 0 and Target.objects.count() == 0
    return [str(p) for p in failed.value.problems]


def small_plan_with(*replacements: tuple[str, str]) -> str:
    text = SMALL_PLAN
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


IP_RANGE = "        trajectory: step\n"  # where the BX-IP target gets extra keys


def test_a_yaml_alias_bomb_is_refused_at_its_first_alias(tmp_path, capsys):
    # 8 levels of 9 aliases each: 9 ** 8 = 43 million "lol"s once expanded, in 300 bytes.
    lines = ["a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]"]
    for above, name in zip("abcdefg", "bcdefgh", strict=True):
        lines.append(f"{name}: &{name} [{','.join([f'*{above}'] * 9)}]")
    bomb = "\n".join(lines) + "\n"
    assert len(bomb) < 300

    assert problems_of(bomb) == [
        "plan.yaml:2: YAML aliases (*a) are not accepted in a plan file: write the value out"
    ]
    path = tmp_path / "bomb.yaml"
    path.write_text(bomb, encoding="utf-8")
    with pytest.raises(CommandError, match="1 problem in"):
        call_command("import_plan", str(path), "--user", plan_operator().username)
    assert "bomb.yaml:2: YAML aliases (*a)" in capsys.readouterr().err


def test_nesting_20000_deep_is_refused_with_a_problem():
    assert problems_of(b"[" * 20000 + b"]" * 20000) == [
        "plan.yaml:1: nested more than 20 levels deep"
    ]
    assert problems_of("units:\n  - " + "{a: " * 20000 + "1" + "}" * 20000) == [
        "plan.yaml:2: nested more than 20 levels deep"
    ]


def test_nul_and_control_characters_are_refused_where_they_are():
    # A raw NUL byte in the file: YAML itself cannot hold it.
    assert problems_of(SMALL_PLAN.replace("Tỉnh Lào Cai", "Lào\x00Cai").encode()) == [
        "plan.yaml:3: contains a control character (U+0000): remove it"
    ]
    # Escaped in double quotes, YAML makes them: the field that holds one says so.
    problems = problems_of(small_plan_with(
        ('"Tỉnh Lào Cai"', '"Lào\\0Cai"'),
        ('measure: "khu công nghiệp"', 'measure: "khu\\e[31m"'),
        ('name_en: "Occupancy of industrial zones"', 'name_en: "Occupancy\\ud800"'),
        ("- code: BX-IP", '- code: "BX\\0IP"'),
    ))
    assert problems == [
        "plan.yaml:3 unit LC: name: contains a control character (U+0000): remove it",
        "plan.yaml:17 target targets[0]: code: “BX\\u0000IP”: use letters, digits, '.', '_' and "
        "'-' only",
        "plan.yaml:22 target targets[0]: measure: contains a control character (U+001B): "
        "remove it",
        "plan.yaml:38 target BX-OCC: name_en: contains a control character (U+D800): remove "
        "it",
    ]


def test_names_and_codes_longer_than_their_columns_are_refused():
    problems = problems_of(small_plan_with(
        ('"Tỉnh Lào Cai"', "L" * 201),
        ("- code: BX-IP", "- code: " + "B" * 41),
        ('name: "Tỷ lệ lấp đầy các khu công nghiệp"', "name: " + "O" * 301),
        ('name_en: "Occupancy of industrial zones"', "name_en: " + "O" * 301),
        ('measure_en: "industrial parks"', "measure_en: " + "p" * 101),
        ('measure: "%"', f'measure: "{"%" * 101}"'),
        ("url: \"https://baolaocai.vn/x\"", "url: https://baolaocai.vn/" + "x" * 480),
    ))
    assert problems == [
        "plan.yaml:3 unit LC: name: is 201 characters long: at most 200",
        "plan.yaml:17 target targets[0]: code: is 41 characters long: at most 40",
        "plan.yaml:23 target targets[0]: measure_en: is 101 characters long: at most 100",
        "plan.yaml:33 target targets[0]: source.url: is 501 characters long: at most 500",
        "plan.yaml:37 target BX-OCC: name: is 301 characters long: at most 300",
        "plan.yaml:38 target BX-OCC: name_en: is 301 characters long: at most 300",
        "plan.yaml:41 target BX-OCC: measure: is 101 characters long: at most 100",
    ]


@pytest.mark.parametrize(
    ("grace_days", "message"),
    [
        ("32768", "32768 days: at most 32767"),
        ("99999999999999999999", "99999999999999999999 days: at most 32767"),
        ("-1", "“-1” is not a whole number of days ≥ 0"),
        ("1.5", "“1.5” is not a whole number of days ≥ 0"),
        ("[15]", "“[15]” is not a whole number of days ≥ 0"),
    ],
)
def test_grace_days_beyond_a_small_integer_are_refused(grace_days, message):
    problems = problems_of(small_plan_with(("grace_days: 15", f"grace_days: {grace_days}")))
    assert problems == [f"plan.yaml:31 target BX-IP: grace_days: {message}"]


def test_grace_days_up_to_32767_are_accepted():
    import_text(small_plan_with(("grace_days: 15", "grace_days: 32767")))
    assert Target.objects.get(code="BX-IP").grace_days == 32767


def test_numbers_beyond_the_columns_digits_are_refused():
    # Values: 20 digits, 4 of them after the point; the tolerance: 5 digits, 4 after it.
    problems = problems_of(small_plan_with(
        ("value: 2, date", "value: 12345678901234567, date"),
        ("tolerance: 0.10", "tolerance: 0.12345"),
        ("{date: 2027-12-31, value: 1}", "{date: 2027-12-31, value: 1.0e+400}"),
        ("value: 20, date", "value: 20.00001, date"),
    ))
    too_many = "has too many digits (at most 16 before and 4 after the point)."
    assert problems == [
        f"plan.yaml:29 target BX-IP: target.value: 12345678901234567 {too_many}",
        "plan.yaml:32 target BX-IP: tolerance: 0.12345 has too many digits (at most 1 before and "
        "4 after the point).",
        f"plan.yaml:35 target BX-IP milestone 1: value: 1.0E+400 {too_many}",
        f"plan.yaml:43 target BX-OCC: baseline.value: 20.00001 {too_many}",
    ]


def test_the_largest_values_and_padded_fractions_are_accepted_exactly():
    import_text(small_plan_with(
        ("value_type: integer", "value_type: decimal"),
        ("value: 2, date", "value: 9999999999999999.9999, date"),
        ("value: 20, date", "value: 20.50000, date"),
        ("tolerance: 0.10", "tolerance: 0.15"),
    ))
    ip, occ = Target.objects.get(code="BX-IP"), Target.objects.get(code="BX-OCC")
    assert ip.target_value == Decimal("9999999999999999.9999")
    assert ip.tolerance == Decimal("0.15")
    assert occ.baseline_value == Decimal("20.5")


def test_a_latin_1_file_is_refused_with_the_line_of_its_first_odd_byte(tmp_path):
    path = tmp_path / "plan.yaml"
    # The plan's Vietnamese without its diacritics (Latin-1 has but a few), and one "à".
    plain = unicodedata.normalize("NFKD", SMALL_PLAN).encode("ascii", "ignore").decode()
    text = plain.replace('"Tinh Lao Cai"', '"Lào Cai"')
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(ImportFailed) as failed:
        plan_import_file(path, user=plan_operator())
    assert [str(p) for p in failed.value.problems] == [
        "plan.yaml:3: the file is not UTF-8 (byte 0xE0): save it as UTF-8"
    ]
    # UTF-8 with a byte-order mark, as some editors save it, is fine.
    path.write_bytes(text.encode("utf-8-sig"))
    assert plan_import_file(path, user=plan_operator()).created == 8
    assert Unit.objects.get(code="LC").name == "Lào Cai"


def test_min_and_max_are_imported_and_a_yes_no_target_is_0_or_1():
    import_text(small_plan_with(
        (IP_RANGE, IP_RANGE + "        min: 0\n        max: 1\n"),
        ("value: 2, date", "value: 1, date"),
        ("{date: 2027-12-31, value: 1}", "{date: 2027-12-31, value: 0}"),
    ))
    ip, occ = Target.objects.get(code="BX-IP"), Target.objects.get(code="BX-OCC")
    assert (ip.min_value, ip.max_value) == (Decimal(0), Decimal(1))
    assert (occ.min_value, occ.max_value) == (Decimal(0), None)  # the defaults


def test_planned_values_outside_min_and_max_are_refused():
    problems = problems_of(small_plan_with(
        (IP_RANGE, IP_RANGE + "        min: 0\n        max: 1\n"),
        ("{date: 2027-12-31, value: 1}", "{date: 2027-12-31, value: 1.5}"),
    ))
    assert problems == [
        "plan.yaml:31 target BX-IP: target.value: 2 lies outside 0 – 1 for this target.",
        "plan.yaml:37 target BX-IP milestone 1: value: 1.5 is not a whole number.",
    ]
    reversed_range = (IP_RANGE, IP_RANGE + "        min: 3\n        max: 1\n")
    problems = problems_of(small_plan_with(reversed_range))
    assert problems == ["plan.yaml:29 target BX-IP: max: 1 is below the smallest value (min: 3)"]


def test_counts_are_not_negative_unless_the_plan_says_min_null():
    negative = ("value: 0, date: 2025-06-30", "value: -3, date: 2025-06-30")
    assert problems_of(small_plan_with(negative)) == [
        "plan.yaml:28 target BX-IP: baseline.value: -3 is below 0, the smallest value of this "
        "target."
    ]
    import_text(small_plan_with(negative, (IP_RANGE, IP_RANGE + "        min: null\n")))
    ip = Target.objects.get(code="BX-IP")
    assert ip.min_value is None and ip.baseline_value == Decimal(-3)


def test_a_range_that_reported_values_would_leave_is_refused(people):
    from tests.conftest import submitted_entry

    submitted_entry(people["dept_staff"], code="BX-OCC", period="2025-Q3", value="95")
    narrowed = SMALL_PLAN.replace(
        "        value_type: percent\n", "        value_type: percent\n        max: 90\n"
    )
    with pytest.raises(ImportFailed) as failed:
        import_text(narrowed)
    assert [str(p) for p in failed.value.problems] == [
        "plan.yaml:36 target BX-OCC: 1 reported value would no longer fit (2025-Q3): 95 lies "
        "outside 0 – 90 for this target."
    ]
    assert Target.objects.get(code="BX-OCC").max_value is None


def test_unknown_keys_and_keys_given_twice_are_reported():
    problems = problems_of(small_plan_with(
        ("parent: LC}", "parnet: LC}"),
        ("baseline: {value: 0, date: 2025-06-30}", "baseline: {value: 0, date: 2025-06-30, on: 1}"),
        ("grace_days: 15\n", "grace_days: 15\n        grace_days: 20\n"),
    ))
    assert problems == [
        "plan.yaml:4 unit LC-BATXAT: parnet: unknown field",
        "plan.yaml:28 target BX-IP: baseline.on: unknown field",
        "plan.yaml:32 target BX-IP: grace_days: appears twice in this mapping",
    ]


def test_a_unit_path_longer_than_its_column_is_refused():
    # 26 nested units with codes of 39 characters: the 26th's path is 26 × 40 = 1040 long.
    codes = [f"U{i:02d}".ljust(39, "X") for i in range(26)]
    lines = ["units:"] + [
        f"  - {{code: {code}, name: U{i}" + (f", parent: {codes[i - 1]}}}" if i else "}")
        for i, code in enumerate(codes)
    ]
    assert problems_of("\n".join(lines) + "\nplans: []\n") == [
        f"plan.yaml:27 unit {codes[25]}: parent: the path of unit {codes[25]} (its codes from "
        "the top, each with a '/') would be 1040 characters long: at most 1000"
    ]
