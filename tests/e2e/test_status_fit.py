"""The status table on a 1366-px laptop and on a 375-px phone, with the whole demo: every
column that matters is in view without scrolling sideways, and on a phone each target is a card
that says its code, name, status and why, progress, actual of target and last report."""

from pathlib import Path

import pytest
from django.core.management import call_command

from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
LAPTOP = {"width": 1366, "height": 900}
PHONE = {"width": 375, "height": 812}
# (login, password, the language the demo gives the account, how many targets it sees)
PEOPLE = [("admin", "demo-admin", "en"), ("lc.manager", "demo-lc-manager", "vi")]


@pytest.fixture
def demo(end_server_sessions, transactional_db, live_server) -> str:
    """`make demo`'s data: both plans, the demo's people and entries, evaluated."""
    call_command("create_operator", "demo.operator", stdout=None)
    for name in ("bat-xat-2025-2030.yaml", "ma-lu-thang-2026-2030.yaml"):
        call_command("import_plan", str(FIXTURES / name), "--user", "demo.operator", stdout=None)
    call_command("load_demo", str(FIXTURES / "demo.yaml"), "--user", "demo.operator",
                 stdout=None)
    call_command("evaluate_targets", "--date", "2026-11-24", stdout=None)
    return live_server.url


def _sign_in(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("#sign-in")
    page.wait_for_url(f"{base}/")


def _rows(page) -> int:
    return page.locator("table.status-table tbody tr").count()


@pytest.mark.parametrize(("username", "password", "language"), PEOPLE)
def test_the_status_table_fits_a_laptop(demo, open_browser, username, password, language):
    page = open_browser(LAPTOP, name=f"laptop-{username}")
    _sign_in(page, demo, username, password)
    page.goto(f"{demo}/?per_page=100")
    assert page.locator("html").get_attribute("lang") == language
    assert _rows(page) > 10
    overflow = page.evaluate(
        "() => { const box = document.querySelector('.table-responsive');"
        " return [document.documentElement.scrollWidth, box.scrollWidth, box.clientWidth]; }"
    )
    assert overflow[0] <= LAPTOP["width"] and overflow[1] <= overflow[2], overflow
    headers = page.locator("table.status-table thead th").evaluate_all(
        "ths => ths.map(th => [th.innerText.trim(), th.getBoundingClientRect().right])"
    )
    assert len(headers) == 7
    assert all(right <= LAPTOP["width"] for _, right in headers), headers
    screenshot(page, f"e2e-laptop-status-{language}")
    # The details are there when asked for (and may then scroll).
    page.click("#details-toggle")
    page.wait_for_url("**details=1*")
    assert page.locator("table.status-table thead th").count() == 13
    page.click("#details-toggle")
    page.wait_for_function("!location.search.includes('details')")
    assert page.locator("table.status-table thead th").count() == 7


@pytest.mark.parametrize(("username", "password", "language"), PEOPLE)
def test_each_target_is_a_card_on_a_phone(demo, open_browser, username, password, language):
    page = open_browser(PHONE, name=f"phone-{username}")
    _sign_in(page, demo, username, password)
    page.goto(f"{demo}/?per_page=100")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert not page.locator("table.status-table thead").is_visible()
    cards = page.locator("table.status-table tbody tr")
    assert cards.count() > 10
    for index in range(cards.count()):
        card = cards.nth(index)
        box = card.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        for part in ("td.col-code a", "td.col-name", "td.col-status .badge",
                     "td.col-status .reason", "td.col-progress .progress",
                     "td.col-figures .actual", "td.col-last_entry"):
            element = card.locator(part)
            assert element.is_visible(), f"card {index}: {part} is not shown"
            part_box = element.bounding_box()
            assert part_box["x"] + part_box["width"] <= PHONE["width"] + 0.5, part
        # The figures and the last report say what they are.
        label = card.locator("td.col-figures").evaluate(
            "td => getComputedStyle(td, '::before').content"
        )
        assert label.strip('"') == ("Actual of target" if language == "en"
                                    else "Thực tế / chỉ tiêu")
    screenshot(page, f"e2e-phone-status-cards-{language}")
