"""Export, language switch and the phone-sized entry form, in a real browser."""

import csv
import io

import pytest

from targets.models import EntryStatus, ProgressEntry
from tests.e2e.conftest import PHONE, screenshot, sign_in

pytestmark = pytest.mark.e2e


def test_csv_export_holds_exactly_the_filtered_rows(site, open_browser):
    base = site["url"]
    page = open_browser(name="export")
    sign_in(page, base, "bx.manager")
    page.click("summary")
    page.fill("#id_q", "lấp đầy")  # the Vietnamese screen's search, in Vietnamese
    page.click("#filter-form button[type=submit]")
    page.wait_for_url("**/?q=*")
    assert page.locator("table.status-table tbody tr").count() == 1
    with page.expect_download() as download:
        page.click("#export-csv")
    content = download.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(content)))
    assert [row[0] for row in rows[1:]] == ["BX-OCC"]
    screenshot(page, "e2e-export-filtered")


def test_language_switch_shows_vietnamese_and_english(site, open_browser):
    base = site["url"]
    page = open_browser(name="language")
    sign_in(page, base, "bx.staff")
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.locator("h1").inner_text() == "Tình hình thực hiện chỉ tiêu"
    page.select_option("#language-select", "en")
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert page.locator("h1").inner_text() == "Status of targets"
    screenshot(page, "e2e-language-english")
    page.select_option("#language-select", "vi")
    page.wait_for_function("document.documentElement.lang === 'vi'")
    assert page.locator("h1").inner_text() == "Tình hình thực hiện chỉ tiêu"
    assert page.locator("nav").get_by_text("Báo cáo tiến độ").is_visible()
    screenshot(page, "e2e-language-vietnamese")


def test_entry_form_is_usable_on_a_phone(site, open_browser):
    base = site["url"]
    page = open_browser(PHONE, name="phone")
    sign_in(page, base, "bx.staff")
    page.click(".navbar-toggler")
    page.click("nav >> a[href='/entries/']")
    page.click("#enterable-targets >> text=BX-IP")
    page.wait_for_selector("#entry-form")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the entry form scrolls sideways on a phone"
    for selector in ("#id_period", "#id_value", "#id_note", "#id_evidence_file",
                     "#id_evidence_url", "#submit-entry", "#save-draft"):
        box = page.locator(selector).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        assert box["height"] >= 30, f"{selector} is too small to touch"
    page.select_option("#id_period", "2025-Q3")
    page.wait_for_url("**period=2025-Q3")
    page.fill("#id_value", "abc")
    page.fill("#id_note", "Ghi chú dài không được mất")
    page.click("#save-draft")
    assert page.locator("#id_value.is-invalid").count() == 1
    assert page.input_value("#id_note") == "Ghi chú dài không được mất"
    screenshot(page, "e2e-phone-entry-error")
    page.fill("#id_value", "0")
    page.click("#save-draft")
    page.wait_for_url("**period=2025-Q3")
    assert ProgressEntry.objects.get(period="2025-Q3").status == EntryStatus.DRAFT
    screenshot(page, "e2e-phone-entry-form")


def test_target_entries_stack_on_a_phone(site, open_browser):
    from tests.conftest import submitted_entry

    submitted_entry(site["staff"], "BX-IP", "2026-Q3", "1",
                    note="Quyết định thành lập khu công nghiệp đã được ký")
    base = site["url"]
    page = open_browser(PHONE, name="phone-target")
    sign_in(page, base, "bx.manager")
    page.goto(f"{base}/targets/BX-IP/")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    row = page.locator("#entry-2026-Q3")
    for cell in ("td.entry-note", "td.entry-history"):
        box = row.locator(cell).bounding_box()
        assert box["width"] > PHONE["width"] * 0.7, f"{cell} is squeezed"
    line = row.locator(".event-list li").first.bounding_box()
    assert line["height"] < 30, "a history line wraps word by word"
    screenshot(page, "e2e-phone-target-entries")
