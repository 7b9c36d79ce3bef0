"""Issue 13's "done when", walked in Vietnamese in a browser: the Ma Lu Thang plan (Decree 09
periods, reports due 2 working days after each cut-off) with the demo's data; the provincial
manager sees who has not reported, asks the economic-zone board to explain a lagging target,
the board's staff answers, the manager accepts, and downloads the quarter's report as a PDF."""

import io
from datetime import date
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone
from pypdf import PdfReader

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
# The demo's evaluation day; the app's "today" for the whole walk.
TODAY = date(2026, 11, 24)
ANSWER = "Nhập khẩu quặng giảm do phía bạn tạm dừng; quý IV đẩy mạnh xuất khẩu chuối."


@pytest.fixture
def demo(end_server_sessions, transactional_db, live_server, monkeypatch) -> str:
    """`make demo`'s data, evaluated on 2026-11-24, every reader in Vietnamese."""
    real = timezone.localdate

    def localdate(value=None, timezone=None):
        return TODAY if value is None else real(value, timezone)

    # The live server's thread reads the same module: its "today" is the demo's day too.
    monkeypatch.setattr("django.utils.timezone.localdate", localdate)
    call_command("create_operator", "demo.operator", stdout=None)
    for name in ("bat-xat-2025-2030.yaml", "ma-lu-thang-2026-2030.yaml"):
        call_command("import_plan", str(FIXTURES / name), "--user", "demo.operator", stdout=None)
    call_command("load_demo", str(FIXTURES / "demo.yaml"), "--user", "demo.operator", stdout=None)
    call_command("evaluate_targets", "--date", TODAY.isoformat(), stdout=None)
    from targets.models import Profile

    Profile.objects.filter(user__username="lch.manager").update(language="vi")
    return live_server.url


def _sign_in(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("#sign-in")
    page.wait_for_url(f"{base}/")


def test_a_decree_09_quarter_from_who_has_not_reported_to_the_signed_report(demo, open_browser):
    from targets.models import Plan

    plan = Plan.objects.get(code="MLT-2026-2030")
    assert (plan.reporting_calendar, plan.deadline_working_days) == ("decree_09", 2)

    manager = open_browser(name="lch-manager")
    _sign_in(manager, demo, "lch.manager", "demo-lch-manager")
    assert manager.locator("html").get_attribute("lang") == "vi"

    # Who has not reported. Decree 09's 2026-Q3 runs 15/06/2026 → 14/09/2026 (a Monday); two
    # working days later is Wednesday 16/09/2026 (no holiday between), long before 24/11/2026.
    # The board never reported MLT-BONDED nor MLT-PROJECTS for 2026-Q3: missing. 2026-Q4 is cut
    # off on 14/12/2026, still ahead: not yet due.
    manager.goto(f"{demo}/completeness/?start=2026-06-01&end=2026-11-24")
    board = manager.locator("#unit-LCH-MLT")
    q3 = board.locator('td[data-period="2026-Q3"]')
    assert q3.get_attribute("data-state") == "missing"
    assert "16/09/2026" in q3.locator(".badge").get_attribute("title")
    assert board.locator('td[data-period="2026-Q4"]').get_attribute("data-state") == "not_yet_due"

    # MLT-TRADE is lagging (fixtures/demo.yaml): the manager asks its unit to explain.
    manager.goto(f"{demo}/targets/MLT-TRADE/")
    manager.fill("#id_ask-question", "Đề nghị giải trình kim ngạch quý III thấp hơn kế hoạch.")
    manager.fill("#id_ask-due_date", "2026-12-04")
    manager.click("#explanation-ask-form button[type=submit]")
    manager.wait_for_url("**/targets/MLT-TRADE/#explanations")
    assert manager.locator("#explanations .explanation").first.get_attribute("data-state") == (
        "open"
    )

    staff = open_browser(name="mlt-staff")
    _sign_in(staff, demo, "mlt.staff", "demo-mlt-staff")
    staff.goto(f"{demo}/targets/MLT-TRADE/")
    staff.fill("#id_answer-text", ANSWER)
    staff.click("#explanation-answer-form button[type=submit]")
    staff.wait_for_url("**/targets/MLT-TRADE/#explanations")
    assert ANSWER in staff.locator("#explanations").inner_text()

    manager.goto(f"{demo}/targets/MLT-TRADE/")
    manager.fill("#id_accept-note", "Đồng ý.")
    manager.click("#explanation-accept-form button[type=submit]")
    manager.wait_for_url("**/targets/MLT-TRADE/#explanations")
    assert manager.locator("#explanations .explanation").first.get_attribute("data-state") == (
        "accepted"
    )

    # The quarter's report of the board, as a PDF.
    manager.goto(f"{demo}/reports/")
    manager.select_option("#id_unit", "LCH-MLT")
    manager.select_option("#id_period", "2026-Q3")
    manager.fill("#id_place", "Lai Châu")
    manager.fill("#id_issued_on", "2026-11-24")
    with manager.expect_download() as info:
        manager.click("#download-report")
    content = Path(info.value.path()).read_bytes()
    assert content.startswith(b"%PDF")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text
    assert "Lai Châu, ngày 24 tháng 11 năm 2026" in text
    assert "14/09/2026" in text  # the quarter's cut-off, the figures' "as of"
    # Section IV: the board's deadline for 2026-Q3, hand-computed above, and its state.
    assert "16/09/2026 Chưa báo cáo (quá hạn)" in text
    # MLT-BUDGET, hand-computed in fixtures/demo.yaml: 210 + 8,0 + 15,0 + 19,5 = 252,5.
    assert "252,5" in text
    assert ANSWER in " ".join(text.split())
