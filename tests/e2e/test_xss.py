"""Script payloads in every field a user or a plan file fills, opened in a real browser: on
every page no script runs (no dialog opens) and the payload reads as the text it is.

The site is tests/test_escaping.py's hostile site (a plan file, people and entries put through
the real services); one browser visits it as the staff member, the manager and the superuser.
The Content-Security-Policy (no inline script) is a second defence with tests of its own: here
it only reports, so that a payload that got past escaping would run and be seen.
"""

from __future__ import annotations

import pytest

from targets.models import ProgressEntry
from tests.e2e.conftest import screenshot, sign_in
from tests.test_escaping import XSS, build_hostile_site, entries_file

pytestmark = pytest.mark.e2e


@pytest.fixture
def hostile_site(end_server_sessions, transactional_db, live_server, settings):
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = settings.CONTENT_SECURITY_POLICY
    settings.CONTENT_SECURITY_POLICY = None
    return {"url": live_server.url, **build_hostile_site()}


class Visitor:
    """One page that records every dialog a script opens, and says where it happened."""

    def __init__(self, page, base: str) -> None:
        self.page, self.base, self.fired = page, base, []
        page.on("dialog", self._dialog)

    def _dialog(self, dialog) -> None:
        self.fired.append(f"{self.page.url}: alert({dialog.message})")
        dialog.dismiss()

    def become(self, username: str) -> None:
        self.page.context.clear_cookies()
        sign_in(self.page, self.base, username)
        self.check("sign-in")

    def open(self, path: str, *fields: str) -> None:
        self.page.goto(self.base + path)
        self.check(path, *fields)

    def check(self, where: str, *fields: str) -> None:
        """No script ran (an <img onerror> fires before "load") and no payload became an
        element; ``fields`` read as text."""
        self.page.wait_for_load_state("load")
        assert self.fired == [], f"script ran: {self.fired}"
        injected = self.page.evaluate(
            "() => [...document.querySelectorAll('[onload], [onerror]')].length"
            " + [...document.scripts].filter(s => s.type !== 'application/json'"
            " && s.text.includes('alert(')).length"
        )
        assert injected == 0, f"{where}: a payload became an element"
        text = self.page.inner_text("body")
        missing = [field for field in fields if XSS[field] not in text]
        assert not missing, f"{where}: not shown as text: {missing}"


def test_no_payload_runs_as_script_on_any_page(hostile_site, open_browser):
    visitor = Visitor(open_browser(name="xss"), hostile_site["url"])
    page = visitor.page

    # The staff member: status table and its filters, target, entry list, report form, import.
    visitor.become("bx.staff")
    visitor.check("status table", "name", "measure", "first_name", "last_name")
    visitor.open("/?details=1", "name", "measure", "area", "unit")  # the columns on demand
    visitor.open("/")
    page.click("summary")
    page.fill("#id_q", XSS["search"])
    page.select_option("#id_area", label=f"BX-2025-2030 · {XSS['area']}")
    page.select_option("#id_unit", label=XSS["unit"])
    page.click("#filter-form button[type=submit]")
    visitor.check("filtered status table")
    assert page.input_value("#id_q") == XSS["search"]
    visitor.open(
        "/targets/BX-IP/", "plan", "area", "unit", "name", "measure", "description", "source",
        "url", "owner", "note", "comment", "first_name", "last_name",
    )
    assert page.get_attribute("#source-link", "href") == XSS["url"]
    visitor.open("/entries/", "name", "measure", "unit", "comment")
    visitor.open("/targets/BX-IP/report/?period=2026-Q2", "name", "measure", "comment")
    assert page.input_value("#id_note") == XSS["note"]
    screenshot(page, "e2e-xss-report-form")
    # A script address is not a web address: refused, nothing saved.
    page.fill("#id_evidence_url", "javascript:alert('evidence_url')")
    page.click("#save-draft")
    visitor.check("report form with a script address")
    assert page.locator("#id_evidence_url.is-invalid").count() == 1
    assert ProgressEntry.objects.get(period="2026-Q2").evidence_url == ""
    visitor.open("/targets/BX-IP/report/?period=2026-Q3", "name", "measure", "file")

    visitor.open("/import/")
    page.set_input_files("#id_file", files=[{
        "name": XSS["import_file"], "mimeType": "text/csv",
        "buffer": entries_file([[XSS["import_code"], "2026-Q1", "1", ""]]),
    }])
    page.click("#preview-button")
    visitor.check("import preview with a problem", "import_file", "import_code")
    page.set_input_files("#id_file", files=[{
        "name": XSS["import_file"], "mimeType": "text/csv",
        "buffer": entries_file([["BX-IP", "2026-Q1", "1", XSS["import_note"]]]),
    }])
    page.click("#preview-button")
    visitor.check("import preview", "import_file", "import_note")
    page.click("#confirm-import")
    page.wait_for_selector("#import-done")
    visitor.check("import result", "import_file")

    # The manager: review queue, one entry, the alerts inbox.
    visitor.become("bx.manager")
    visitor.open("/review/", "name", "measure", "first_name", "last_name", "manager")
    visitor.open(f"/review/{hostile_site['to_review'].pk}/",
                 "name", "measure", "note", "first_name", "last_name")
    visitor.open("/alerts/", "name")
    visitor.open("/targets/BX-IP/", "name", "measure", "description", "owner")  # its changes
    screenshot(page, "e2e-xss-alerts")

    # The superuser: the admin's lists and forms of targets, entries and units.
    visitor.become("admin")
    target, unit = hostile_site["target"], hostile_site["unit"]
    visitor.open("/admin/targets/target/", "name", "measure", "plan", "area", "unit")
    visitor.open(f"/admin/targets/target/{target.pk}/change/")
    for field, payload in [("name", "name"), ("measure", "measure"),
                           ("description", "description"), ("source_text", "source"),
                           ("source_url", "url")]:
        assert page.input_value(f"#id_{field}") == XSS[payload]
    visitor.open(f"/admin/targets/target/{target.pk}/history/", "name", "plan_file")
    visitor.open("/admin/targets/progressentry/", "name")
    visitor.open(f"/admin/targets/progressentry/{hostile_site['returned'].pk}/change/",
                 "note", "comment")
    visitor.open("/admin/targets/unit/", "unit", "province")
    visitor.open(f"/admin/targets/unit/{unit.pk}/change/", "province")
    assert page.input_value("#id_name") == XSS["unit"]
    visitor.open("/admin/targets/plan/", "plan", "unit")
    visitor.open("/admin/targets/membership/", "unit")
    visitor.open("/admin/auth/user/", "first_name", "last_name")
    screenshot(page, "e2e-xss-admin-users")
