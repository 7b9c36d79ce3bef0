"""Vietnamese content with an English translation: every screen, export and email shows the
reader's language, and the other one where the translation is empty.

The small plan (tests/conftest.py) names its targets, units, areas and plan in Vietnamese with
the English beside them (``name_en``...); BX-OCC's measure, "%", has no translation.
"""

from __future__ import annotations

import csv
import io
import os
import re
from datetime import date

import openpyxl
import pytest
import yaml
from django.urls import reverse
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from targets.errors import ImportFailed
from targets.models import Area, Digest, Plan, Profile, Target, Unit
from targets.notifications import digest_message
from targets.services.plans import load_located, plan_file_parse, plan_import
from targets.tables import StatusTable
from tests.alerting import evaluate, lagging_occupancy
from tests.conftest import SMALL_PLAN, plan_operator, rolled_back
from tests.test_plans_fuzz import plain
from tests.test_views_status import exported

pytestmark = pytest.mark.django_db

URL = reverse("targets:status")

IP_VI, IP_EN = "Khu công nghiệp được hình thành", "Industrial parks formed"
OCC_VI, OCC_EN = "Tỷ lệ lấp đầy các khu công nghiệp", "Occupancy of industrial zones"


def speaking(client, language: str):
    client.cookies["django_language"] = language
    return client


# --- the mechanism -------------------------------------------------------------------------


def test_each_language_reads_its_own_text_and_falls_back_to_the_other():
    bridge = Target(name="Cầu đường bộ qua sông Hồng", name_en="Road bridge across the Red River",
                    description="", description_en="Open to traffic.", measure="cầu",
                    measure_en="")

    assert bridge.localized("name", "vi") == "Cầu đường bộ qua sông Hồng"
    assert bridge.localized("name", "en") == "Road bridge across the Red River"
    # An empty translation shows the Vietnamese; an empty Vietnamese shows the English.
    assert bridge.localized("measure", "en") == "cầu"
    assert bridge.localized("description", "vi") == "Open to traffic."
    with translation.override("en"):
        assert bridge.localized("name") == "Road bridge across the Red River"
        assert str(Unit(name="Xã Bát Xát", name_en="Bat Xat commune")) == "Bat Xat commune"
    with translation.override("vi"):
        assert bridge.localized("name") == "Cầu đường bộ qua sông Hồng"
        assert str(Area(name="Hạ tầng", name_en="Infrastructure")) == "Hạ tầng"


# --- the status table ------------------------------------------------------------------------


def _shown(response) -> str:
    return response.content.decode()


@pytest.mark.parametrize(
    ("language", "names", "hidden"),
    [
        ("vi", [IP_VI, OCC_VI, "Công nghiệp và logistics", "Xã Bát Xát", "Phòng Công nghiệp",
                "khu công nghiệp"], [IP_EN, OCC_EN, "Industry department"]),
        ("en", [IP_EN, OCC_EN, "Industry and logistics", "Bat Xat commune",
                "Industry department", "industrial parks"], [IP_VI, OCC_VI, "Phòng Công nghiệp"]),
    ],
)
def test_the_status_table_shows_the_readers_language(client, assessed, language, names, hidden):
    client.force_login(assessed["province"])

    html = _shown(speaking(client, language).get(URL, {"details": "1"}))

    for name in names:
        assert name in html, name
    for name in hidden:
        assert name not in html, name


def test_the_status_table_falls_back_to_vietnamese_without_a_translation(client, assessed):
    Target.objects.filter(code="BX-IP").update(name_en="")
    Unit.objects.filter(code="LC-BATXAT-IND").update(name_en="")
    client.force_login(assessed["province"])

    html = _shown(speaking(client, "en").get(URL, {"details": "1"}))

    assert IP_VI in html and OCC_EN in html
    assert "Phòng Công nghiệp" in html and "Bat Xat commune" in html


def test_sorting_by_name_follows_the_shown_language(client, assessed):
    # Vietnamese: "Khu…" before "Tỷ…"; English: "Occupancy…" before "Parks…".
    Target.objects.filter(code="BX-IP").update(name_en="Parks formed")
    client.force_login(assessed["province"])

    def order(language: str) -> list[str]:
        response = speaking(client, language).get(URL, {"sort": "name"})
        return [row.record.code for row in response.context["table"].page.object_list]

    assert order("vi") == ["BX-IP", "BX-OCC"]
    assert order("en") == ["BX-OCC", "BX-IP"]


def test_the_filters_list_plans_areas_and_units_in_the_readers_language(client, assessed):
    client.force_login(assessed["province"])

    vietnamese = _shown(speaking(client, "vi").get(URL))
    english = _shown(speaking(client, "en").get(URL))

    assert ">Xã Bát Xát nhiệm kỳ 2025–2030</option>" in vietnamese
    assert ">BX-2025-2030 · Công nghiệp và logistics</option>" in vietnamese
    assert ">Tỉnh Lào Cai</option>" in vietnamese
    assert ">Bat Xat commune 2025–2030 term</option>" in english
    assert ">BX-2025-2030 · Industry and logistics</option>" in english
    assert ">Lao Cai province</option>" in english


def test_search_finds_a_target_by_its_english_name_and_description(client, assessed):
    Target.objects.filter(code="BX-IP").update(description_en="Ban Qua park first")
    client.force_login(assessed["province"])

    def found(query: str) -> list[str]:
        response = client.get(URL, {"q": query})
        return sorted(row.record.code for row in response.context["table"].page.object_list)

    assert found("occupancy") == ["BX-OCC"]
    assert found("lấp đầy") == ["BX-OCC"]
    assert found("Ban Qua") == ["BX-IP"]


# --- the target page -------------------------------------------------------------------------


def test_the_target_page_shows_the_readers_language(client, assessed):
    Target.objects.filter(code="BX-IP").update(
        description="Hoàn thành Khu công nghiệp Bản Qua trước.",
        description_en="Ban Qua Industrial Park first.",
    )
    client.force_login(assessed["manager"])
    page = reverse("targets:target", args=["BX-IP"])

    vietnamese = _shown(speaking(client, "vi").get(page))
    english = _shown(speaking(client, "en").get(page))

    for text in (IP_VI, "Xã Bát Xát nhiệm kỳ 2025–2030", "Công nghiệp và logistics · Xã Bát Xát",
                 "2 khu công nghiệp", "Hoàn thành Khu công nghiệp Bản Qua trước."):
        assert text in vietnamese, text
    for text in (IP_EN, "Bat Xat commune 2025–2030 term",
                 "Industry and logistics · Bat Xat commune", "2 industrial parks",
                 "Ban Qua Industrial Park first."):
        assert text in english, text
    assert IP_EN not in vietnamese and IP_VI not in english


def test_the_target_page_falls_back_to_the_other_language(client, assessed):
    # No English description or measure: the Vietnamese ones.
    Target.objects.filter(code="BX-IP").update(
        description="Hoàn thành Khu công nghiệp Bản Qua trước.", description_en="",
        measure_en="",
    )
    client.force_login(assessed["manager"])

    english = _shown(speaking(client, "en").get(reverse("targets:target", args=["BX-IP"])))

    assert "Hoàn thành Khu công nghiệp Bản Qua trước." in english
    assert "2 khu công nghiệp" in english
    assert IP_EN in english


# --- the exports -----------------------------------------------------------------------------


def _headers(language: str) -> tuple[str, ...]:
    with translation.override(language):
        return tuple(
            str(StatusTable.base_columns[name].verbose_name)
            for name in ("name", "measure", "area", "unit")
        )


def _csv_rows(client) -> dict[str, dict]:
    response = client.get(URL, {"_export": "csv"})
    rows = list(csv.reader(io.StringIO(exported(response).decode("utf-8-sig"), newline="")))
    return {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}


def _xlsx_rows(client) -> dict[str, dict]:
    response = client.get(URL, {"_export": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(exported(response))).active
    rows = list(sheet.iter_rows(values_only=True))
    return {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}


EXPORTED = {
    "vi": {
        "BX-IP": (IP_VI, "khu công nghiệp", "Công nghiệp và logistics", "Xã Bát Xát"),
        "BX-OCC": (OCC_VI, "%", "Công nghiệp và logistics", "Phòng Công nghiệp"),
    },
    "en": {
        "BX-IP": (IP_EN, "industrial parks", "Industry and logistics", "Bat Xat commune"),
        # No English measure: the Vietnamese "%".
        "BX-OCC": (OCC_EN, "%", "Industry and logistics", "Industry department"),
    },
}


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("read", [_csv_rows, _xlsx_rows], ids=["csv", "xlsx"])
def test_the_exports_hold_the_readers_language(client, assessed, language, read):
    client.force_login(assessed["manager"])

    rows = read(speaking(client, language))

    headers = _headers(language)
    for code, expected in EXPORTED[language].items():
        assert tuple(rows[code][header] for header in headers) == expected, code


def test_an_english_export_falls_back_to_vietnamese_without_a_translation(client, assessed):
    Target.objects.filter(code="BX-IP").update(name_en="", measure_en="")
    Area.objects.filter(code="industry").update(name_en="")
    client.force_login(assessed["manager"])

    rows = _csv_rows(speaking(client, "en"))

    assert tuple(rows["BX-IP"][header] for header in _headers("en")) == (
        IP_VI, "khu công nghiệp", "Công nghiệp và logistics", "Bat Xat commune"
    )


# --- the digests: the recipient's language ---------------------------------------------------


SITE = "https://tracker.example.vn"
FROM = "Target Tracker <canhbao@tracker.example.vn>"


def _digests(people) -> dict[str, Digest]:
    """At 2026-11-24 bx.manager (vi) is told about BX-IP, ind.staff (en) about BX-OCC."""
    Profile.objects.create(user=people["manager"], language="vi")
    Profile.objects.create(user=people["dept_staff"], language="en")
    lagging_occupancy(people)
    run = evaluate(date(2026, 11, 24))
    return {d.user.username: d for d in Digest.objects.filter(pk__in=run.digest_ids)}


def test_each_digest_names_its_targets_in_the_recipients_language(people):
    digests = _digests(people)

    vietnamese = digest_message(digests["bx.manager"], site_url=SITE, from_email=FROM)
    english = digest_message(digests["ind.staff"], site_url=SITE, from_email=FROM)

    assert f"* BX-IP — {IP_VI}\n" in vietnamese.body
    assert f"<strong>BX-IP</strong> — {IP_VI}" in vietnamese.alternatives[0][0]
    assert f"* BX-OCC — {OCC_EN}\n" in english.body
    assert f"<strong>BX-OCC</strong> — {OCC_EN}" in english.alternatives[0][0]


def test_a_digest_falls_back_to_vietnamese_without_a_translation(people):
    digests = _digests(people)
    Target.objects.filter(code="BX-OCC").update(name_en="")

    english = digest_message(digests["ind.staff"], site_url=SITE, from_email=FROM)

    assert f"* BX-OCC — {OCC_VI}\n" in english.body
    assert english.subject == "[Target Tracker] 1 new alert (24 Nov 2026)"


# --- the plan file ---------------------------------------------------------------------------


def _import(text: str):
    return plan_import(data=load_located(text), filename="plan.yaml", user=plan_operator())


def test_a_plan_file_with_translations_fills_both_languages():
    _import(SMALL_PLAN)

    assert Unit.objects.get(code="LC-BATXAT").name_en == "Bat Xat commune"
    assert Plan.objects.get(code="BX-2025-2030").name_en == "Bat Xat commune 2025–2030 term"
    assert Area.objects.get(code="industry").name_en == "Industry and logistics"
    ip = Target.objects.get(code="BX-IP")
    assert (ip.name, ip.name_en) == (IP_VI, IP_EN)
    assert (ip.measure, ip.measure_en) == ("khu công nghiệp", "industrial parks")
    assert Target.objects.get(code="BX-OCC").measure_en == ""


def test_a_plan_file_without_translations_leaves_them_empty():
    # The same file as it was written before translations: no ``*_en`` key anywhere.
    without = re.sub(r', name_en: "[^"]*"|\n +\w+_en: "[^"]*"', "", SMALL_PLAN)
    assert "Lao Cai province" not in without and "Industrial parks formed" not in without

    _import(without)

    assert Unit.objects.get(code="LC").name_en == ""
    assert Area.objects.get(code="industry").name_en == ""
    ip = Target.objects.get(code="BX-IP")
    assert (ip.name, ip.name_en, ip.measure_en, ip.description_en) == (IP_VI, "", "", "")
    with translation.override("en"):
        assert ip.localized("name") == IP_VI


def test_reimporting_a_translated_file_translates_what_was_there():
    # A plan imported before the translations existed keeps its name; the file fills both.
    _import(SMALL_PLAN)
    Target.objects.filter(code="BX-IP").update(name_en="")

    result = _import(SMALL_PLAN)

    assert result.updated == 1
    assert Target.objects.get(code="BX-IP").name_en == IP_EN


def test_a_translation_that_is_not_text_is_refused_in_its_place(in_english):
    bad = SMALL_PLAN.replace('name_en: "Industrial parks formed"', "name_en: [parks]").replace(
        'measure_en: "industrial parks"', "measure_en: {a: 1}"
    )

    with pytest.raises(ImportFailed) as failed:
        _import(bad)

    assert [str(p) for p in failed.value.problems] == [
        "plan.yaml:19 target BX-IP: name_en: must be text",
        "plan.yaml:23 target BX-IP: measure_en: must be text",
    ]
    assert Target.objects.count() == 0


BASE = plain(load_located(SMALL_PLAN))
# Text a person may type: letters with their marks, digits, punctuation, spaces.
typed = st.text(st.characters(categories=("L", "M", "N", "P", "Zs")), max_size=320)
FIELDS = {
    ("units", 0, "name_en"): (Unit, {"code": "LC"}, 200),
    ("plans", 0, "name_en"): (Plan, {"code": "BX-2025-2030"}, 200),
    ("plans", 0, "areas", 0, "name_en"): (Area, {"code": "industry"}, 200),
    ("plans", 0, "targets", 0, "name_en"): (Target, {"code": "BX-IP"}, 300),
    ("plans", 0, "targets", 0, "description_en"): (Target, {"code": "BX-IP"}, None),
    ("plans", 0, "targets", 0, "measure_en"): (Target, {"code": "BX-IP"}, 100),
}


@settings(
    max_examples=int(os.environ.get("PLAN_FUZZ_EXAMPLES", "40")), deadline=None, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(place=st.sampled_from(sorted(FIELDS)), text=typed)
def test_any_typed_translation_is_kept_trimmed_or_refused_for_its_length(in_english, place, text):
    model, lookup, limit = FIELDS[place]
    data = plain(BASE)
    node = data
    for key in place[:-1]:
        node = node[key]
    node[place[-1]] = text
    content = yaml.safe_dump(data, allow_unicode=True).encode()
    kept = text.strip()

    with rolled_back():
        if limit is not None and len(kept) > limit:
            with pytest.raises(ImportFailed) as failed:
                plan_import(data=plan_file_parse(content, "p.yaml"), filename="p.yaml",
                            user=plan_operator())
            [problem] = [str(p) for p in failed.value.problems]
            assert problem.endswith(
                f"{place[-1]}: is {len(kept)} characters long: at most {limit}"
            ), problem
        else:
            plan_import(data=plan_file_parse(content, "p.yaml"), filename="p.yaml",
                        user=plan_operator())
            assert getattr(model.objects.get(**lookup), place[-1]) == kept
