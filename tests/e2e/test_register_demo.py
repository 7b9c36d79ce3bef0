"""Issue 14's "done when", walked in a browser on `make demo`'s data: the Bat Xat manager opens
"industrial parks formed", sees the parks behind it with their stages, approves the project
report that moves Ban Qua to operating, and the target's actual and status change at once; the
Ma Lu Thang register shows its 49 projects, filterable and exportable."""

from datetime import date
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
TODAY = date(2026, 11, 24)  # the demo's evaluation day, the app's "today" for the walk


@pytest.fixture
def demo(end_server_sessions, transactional_db, live_server, monkeypatch) -> str:
    """`make demo-data` in its order: plans, people and entries, the register, its reports."""
    real = timezone.localdate

    def localdate(value=None, timezone=None):
        return TODAY if value is None else real(value, timezone)

    monkeypatch.setattr("django.utils.timezone.localdate", localdate)
    call_command("create_operator", "demo.operator", stdout=None)
    for name in ("bat-xat-2025-2030.yaml", "ma-lu-thang-2026-2030.yaml"):
        call_command("import_plan", str(FIXTURES / name), "--user", "demo.operator", stdout=None)
    call_command("load_demo", str(FIXTURES / "demo.yaml"), "--user", "demo.operator", stdout=None)
    call_command("load_register", str(FIXTURES / "register-demo.yaml"), "--user",
                 "demo.operator", stdout=None)
    call_command("load_demo", str(FIXTURES / "register-reports-demo.yaml"), "--user",
                 "demo.operator", stdout=None)
    call_command("evaluate_targets", "--date", TODAY.isoformat(), stdout=None)
    return live_server.url


def _sign_in(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("#sign-in")
    page.wait_for_url(f"{base}/")


def _status(page, code: str) -> str:
    row = page.locator("table.status-table tbody tr", has=page.locator(f"a:text-is('{code}')"))
    return row.locator("td.col-status .badge").inner_text().strip()


def _parks(page) -> dict[str, tuple[str, str]]:
    rows = page.locator("#register-items tr.register-item")
    return {
        rows.nth(i).get_attribute("data-code"): (
            rows.nth(i).locator(".item-stage").inner_text().strip(),
            rows.nth(i).locator(".item-counted").inner_text().strip(),
        )
        for i in range(rows.count())
    }


def test_approving_ban_quas_report_counts_its_park_at_once(demo, open_browser):
    manager = open_browser(name="manager")
    _sign_in(manager, demo, "bx.manager", "demo-bx-manager")
    assert _status(manager, "BX-IP") == "Đúng tiến độ"  # 1 of 2, on the step plan's 0

    manager.goto(f"{demo}/targets/BX-IP/")
    assert manager.locator("#register-source").is_visible()
    assert _parks(manager) == {
        "BX-KCN-BANQUA": ("Đã cấp giấy chứng nhận đăng ký đầu tư", "không tính"),
        "BX-KCN-XNK": ("Đang xây dựng", "được tính"),
    }
    assert manager.locator("#pipeline-sentence").inner_text().startswith("1/2")
    screenshot(manager, "e2e-register-bx-ip-before")

    manager.goto(f"{demo}/review/")
    manager.click("#review-report-BX-DA-BANQUA-2026-Q3 >> a.btn")
    manager.wait_for_url("**/register/reports/*/review/")
    manager.click("#approve")
    manager.wait_for_url(f"{demo}/review/")  # the approval answered: back to the queue

    manager.goto(f"{demo}/")
    assert _status(manager, "BX-IP") == "Đã đạt"  # 2 of 2
    manager.goto(f"{demo}/targets/BX-IP/")
    assert _parks(manager)["BX-KCN-BANQUA"] == ("Đang hoạt động", "được tính")
    screenshot(manager, "e2e-register-bx-ip-after")


def test_the_ma_lu_thang_register_filters_and_exports_its_49_projects(demo, open_browser):
    manager = open_browser(name="mlt")
    _sign_in(manager, demo, "mlt.manager", "demo-mlt-manager")
    manager.goto(f"{demo}/register/?per_page=100")
    assert manager.locator("table.register-table tbody tr").count() == 49
    manager.goto(f"{demo}/register/?per_page=100&sector=hydropower")
    hydropower = manager.locator("table.register-table tbody tr").count()
    assert 0 < hydropower < 49
    with manager.expect_download() as download:
        manager.click("#export-xlsx")
    assert download.value.suggested_filename.endswith(".xlsx")
