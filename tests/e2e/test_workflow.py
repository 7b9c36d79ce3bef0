"""A whole reporting cycle in a real browser: enter, submit, return, fix, resubmit, approve."""

import pytest

from targets.models import EntryStatus, ProgressEntry
from tests.e2e.conftest import screenshot, sign_in

pytestmark = pytest.mark.e2e


def status_badge(page, code: str) -> str:
    row = page.locator("table.status-table tbody tr", has=page.locator(f"a:text-is('{code}')"))
    return row.locator("td.col-status .badge").inner_text().strip()


def test_entry_is_submitted_returned_fixed_and_approved(site, open_browser):
    base = site["url"]
    staff = open_browser(name="staff")
    sign_in(staff, base, "bx.staff")
    staff.click("nav >> a[href='/entries/']")
    staff.click("#enterable-targets >> text=BX-IP")
    # Wait for the page's load event: before it, report.js may not yet listen to the select.
    staff.wait_for_url("**/targets/BX-IP/report/")
    staff.select_option("#id_period", "2026-Q3")
    staff.wait_for_url("**/targets/BX-IP/report/?period=2026-Q3")
    staff.fill("#id_value", "1")
    staff.fill("#id_note", "Quyết định thành lập KCN Bản Qua")
    staff.click("#submit-entry")
    staff.wait_for_url(f"{base}/targets/BX-IP/")
    assert staff.locator("#entry-2026-Q3").is_visible()
    screenshot(staff, "e2e-1-staff-submitted")
    entry = ProgressEntry.objects.get(target__code="BX-IP", period="2026-Q3")
    assert entry.status == EntryStatus.SUBMITTED

    manager = open_browser(name="manager")
    sign_in(manager, base, "bx.manager")
    manager.click("nav >> a[href='/review/']")
    manager.click("#review-BX-IP-2026-Q3 >> a.btn")
    manager.fill("#id_comment", "Đính kèm quyết định, giá trị phải là 2")
    manager.click("#return")
    manager.wait_for_url(f"{base}/review/")
    assert manager.locator("#queue-empty").is_visible()
    screenshot(manager, "e2e-2-manager-returned")

    staff.goto(f"{base}/entries/")
    assert "Đính kèm quyết định" in staff.locator("#to-fix").inner_text()
    staff.click("#to-fix >> text=BX-IP 2026-Q3")
    assert "Đính kèm quyết định" in staff.locator("#review-comment").inner_text()
    assert staff.input_value("#id_value") == "1"
    staff.fill("#id_value", "2")
    staff.fill("#id_evidence_url", "https://baolaocai.vn/quyet-dinh")
    screenshot(staff, "e2e-3-staff-fixing")
    staff.click("#submit-entry")
    staff.wait_for_url(f"{base}/targets/BX-IP/")

    manager.goto(f"{base}/")
    assert status_badge(manager, "BX-IP") == "Chưa có số liệu"
    manager.goto(f"{base}/review/")
    manager.click("#review-BX-IP-2026-Q3 >> a.btn")
    manager.click("#approve")
    manager.wait_for_url(f"{base}/review/")
    manager.goto(f"{base}/")
    assert status_badge(manager, "BX-IP") == "Đã đạt"
    # The badge's tooltip says why (rule 8), and the actual the date it speaks for.
    why = "Đã đạt: thực tế 2, đã đạt chỉ tiêu 2 (tính đến 30/09/2026)."
    row = manager.locator("table.status-table tbody tr", has=manager.locator("a:text-is('BX-IP')"))
    assert row.locator(".badge").first.get_attribute("title") == why
    assert row.locator(".actual").inner_text() == "2"
    # A step plan: the first park is expected by its milestone (31/12/2027), none by 30/09/2026.
    assert row.locator(".as-of").inner_text() == "kế hoạch 0 · tính đến 30/09/2026"
    screenshot(manager, "e2e-4-status-after-approval")

    manager.goto(f"{base}/targets/BX-IP/")
    manager.wait_for_selector("#trajectory-chart[data-rendered='true']")
    assert manager.locator("#verdict").inner_text() == why
    # The chart marks the latest report's as-of point, inside the plotted area.
    marker = manager.evaluate(
        """() => {
          const chart = Chart.getChart(document.getElementById("trajectory-chart"));
          const i = chart.data.datasets.findIndex(d => d.label.startsWith("Báo cáo gần nhất"));
          const point = chart.getDatasetMeta(i).data[0];
          const area = chart.chartArea;
          return {label: chart.data.datasets[i].label, inside: point.x >= area.left
                  && point.x <= area.right && point.y >= area.top && point.y <= area.bottom};
        }"""
    )
    assert marker == {"label": "Báo cáo gần nhất (tính đến 30/09/2026)", "inside": True}
    history = manager.locator("#entry-2026-Q3").inner_text()
    for state in ("Bản nháp", "Đã gửi", "Bị trả lại", "Đã duyệt"):
        assert state in history
    screenshot(manager, "e2e-5-target-page")
