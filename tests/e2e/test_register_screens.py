"""The register's screens in a real browser on a 375-px phone: the register table and the
pipeline as cards within the screen's width; a staff member reports a project's quarter from
its page, the manager approves it from the review queue, and the park-counting target's page
shows the park that now counts."""

from __future__ import annotations

import pytest

from register.loading import register_load
from register.models import ProjectReport
from targets.plan_yaml import load_located
from targets.services.plans import plan_import
from tests.conftest import plan_operator
from tests.e2e.conftest import PHONE, screenshot, sign_in
from tests.test_register_screens import DUE, LINEAR_PLAN, register_file

pytestmark = pytest.mark.e2e


def fits(page) -> None:
    """Nothing on the page reaches past the phone's width (no sideways scrolling)."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_project_report_from_a_phone_to_the_target(site, open_browser):
    base = site["url"]
    plan_import(data=load_located(LINEAR_PLAN), filename="linear.yaml", user=plan_operator())
    register_load(data=load_located(register_file()), filename="register.yaml",
                  user=plan_operator())

    staff = open_browser(PHONE, name="staff-phone")
    sign_in(staff, base, "bx.staff")
    staff.goto(f"{base}/register/")
    fits(staff)
    assert not staff.locator("#register-table thead").is_visible()
    cards = staff.locator("#register-table tbody tr")
    assert cards.count() == 3  # Bat Xat's projects, not Lai Chau's
    for index in range(cards.count()):
        box = cards.nth(index).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        capital = cards.nth(index).locator("td.col-registered_capital").bounding_box()
        assert capital["x"] + capital["width"] <= PHONE["width"]
    screenshot(staff, "e2e-register-phone-cards")

    staff.goto(f"{base}/register/pipeline/")
    fits(staff)
    assert staff.locator("#pipeline tr[data-unit='LC-BATXAT'] td[data-stage='land_handed_over'] "
                         "a.count").inner_text() == "2"
    screenshot(staff, "e2e-register-phone-pipeline")

    # From the register to the project's page, and its report of the due quarter.
    staff.goto(f"{base}/register/")
    staff.click("#register-table >> a:text-is('D-BANQUA')")
    staff.wait_for_url("**/register/projects/D-BANQUA/")
    fits(staff)
    assert staff.input_value("#id_period") == DUE.key
    staff.select_option("#id_stage", "operating")
    staff.fill("#id_stage_date", DUE.start.isoformat())
    staff.fill("#id_disbursed_capital", "300.000.000.000")
    staff.fill("#id_jobs_filled", "120")
    screenshot(staff, "e2e-register-phone-report-form")
    staff.click("#submit-report")
    staff.wait_for_url("**/register/projects/D-BANQUA/#reports")
    fits(staff)
    assert staff.locator(f"#report-{DUE.key} .badge").inner_text() == "Đã gửi"
    report = ProjectReport.objects.get(project__code="D-BANQUA", period=DUE.key)
    assert (report.status, report.disbursed_capital, report.jobs_filled) == (
        "submitted", 300 * 10**9, 120)

    manager = open_browser(PHONE, name="manager-phone")
    sign_in(manager, base, "bx.manager")
    manager.goto(f"{base}/review/")
    fits(manager)
    manager.click(f"#review-report-D-BANQUA-{DUE.key} >> a.btn")
    manager.wait_for_url(f"{base}/register/reports/{report.pk}/review/")
    fits(manager)
    assert "changed" in manager.locator("#compare-stage").get_attribute("class")
    screenshot(manager, "e2e-register-phone-review")
    manager.click("#approve")
    manager.wait_for_url(f"{base}/review/")
    assert manager.locator("#queue-empty").is_visible()

    manager.goto(f"{base}/targets/BX-IP/")
    fits(manager)
    assert manager.locator("#report-link").count() == 0
    assert manager.locator("#pipeline-sentence").inner_text() == (
        "1/2 — 1 đã bàn giao đất, 1 đang hoạt động")
    counted = manager.locator("#register-items tr[data-code='P-BANQUA'] .item-counted")
    assert counted.inner_text() == "được tính"
    screenshot(manager, "e2e-register-phone-target")
