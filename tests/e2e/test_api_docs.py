"""The API's documentation in a real browser, under the site's Content-Security-Policy: a user
makes a token on the account page, then Swagger UI (served from the site's own files) lists
every operation and, authorized with that token, runs one — without a single violation."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import screenshot
from tests.e2e.test_csp import Visitor

pytestmark = pytest.mark.e2e


def test_a_token_from_the_account_page_runs_the_api_from_its_documentation(site, open_browser):
    base = site["url"]
    visitor = Visitor(open_browser, base, "bx.manager")
    page = visitor.page
    visitor.open("/accounts/tokens/")
    page.fill("#id_name", "Thử nghiệm")
    page.click("button[type=submit].btn-primary")
    page.wait_for_selector("#token-key")
    key = page.input_value("#token-key")
    assert key.startswith("tt_")
    visitor.check("the new token")

    visitor.open("/api/docs/")
    policy = page.context.request.get(base + "/api/docs/").headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe" not in policy
    page.wait_for_selector(".opblock", timeout=30_000)
    assert page.locator(".opblock").count() == 18  # every operation of the schema
    visitor.check("Swagger UI rendered")

    page.click("button.authorize")
    page.fill(".modal-ux input", key)
    page.click(".modal-ux button.authorize")
    page.click(".modal-ux button.btn-done")
    operation = page.locator("#operations-v1-v1_targets_list")
    operation.locator(".opblock-summary").click()
    operation.locator("button.try-out__btn").click()
    operation.locator("button.execute").click()
    status = operation.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip() == "200"
    assert "BX-IP" in operation.locator(".live-responses-table .microlight").first.inner_text()
    visitor.check("a call from the documentation")
    screenshot(page, "e2e-api-docs")
