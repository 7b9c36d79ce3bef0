"""The Content-Security-Policy in a real browser: every main page, the admin's included, loads
without a single violation, and what the moved scripts and styles do still works."""

from __future__ import annotations

import re

import pytest

from targets.models import ImportJob, ImportState, Target
from tests.alerting import RULES
from tests.e2e.conftest import screenshot, sign_in

pytestmark = pytest.mark.e2e

# Runs before any script of the page (Playwright's init script is not subject to the CSP).
LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(`${e.effectiveDirective} blocked ${e.blockedURI || "inline"}`
    + ` at ${e.sourceFile}:${e.lineNumber}`);
});
"""
# Waits a moment: violation events are dispatched as tasks after the offending element.
VIOLATIONS = "() => new Promise((done) => setTimeout(() => done(window.__violations), 150))"
PAINTED = """() => {
  const canvas = document.getElementById("trajectory-chart");
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) { if (pixels[i]) { painted++; } }
  return painted;
}"""


class Visitor:
    """One signed-in browser that fails on any CSP violation, console error or page error."""

    def __init__(self, open_browser, base: str, username: str) -> None:
        self.base = base
        self.page = open_browser(name=f"csp-{username}")
        self.page.context.add_init_script(LISTEN)
        self.errors: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        sign_in(self.page, base, username)
        self.check("/accounts/login/ and /")

    def _console(self, message) -> None:
        # The admin's pages name no icon, so the browser asks for /favicon.ico: not our matter.
        if message.type == "error" and not message.location["url"].endswith("/favicon.ico"):
            self.errors.append(f"{message.text} ({message.location['url']})")

    def open(self, path: str) -> None:
        response = self.page.goto(self.base + path)
        assert response is not None and response.ok, (path, response and response.status)
        policy = response.headers.get("content-security-policy", "")
        assert "script-src 'self'" in policy and "unsafe" not in policy, (path, policy)
        self.check(path)

    def check(self, where: str) -> None:
        assert self.page.evaluate(VIOLATIONS) == [], where
        assert self.errors == [], where


@pytest.fixture
def csp_site(site):
    """The small plan with an approved report (a bar and a chart point), one entry waiting for
    review, a long import still running, and a superuser for the admin."""
    from targets.models import EntryStatus
    from targets.services import entries as workflow
    from targets.services.evaluation import target_reassess
    from tests.conftest import make_user, submitted_entry

    staff, manager = site["staff"], site["manager"]
    reached = submitted_entry(staff, code="BX-IP", period="2025-Q4", value="1")
    workflow.entry_approve(user=manager, entry_id=reached.pk, reassess=RULES)
    assert reached.__class__.objects.get(pk=reached.pk).status == EntryStatus.APPROVED
    for target in Target.objects.all():
        target_reassess(target, alert_settings=RULES)
    submitted_entry(staff, code="BX-IP", period="2026-Q3", value="1")
    job = ImportJob.objects.create(
        user=manager, filename="large.csv", state=ImportState.RUNNING, total_rows=10,
        checked_rows=4,
    )
    make_user("admin", is_superuser=True, is_staff=True)
    return {**site, "job": job}


def test_every_main_page_runs_under_the_policy_without_a_violation(csp_site, open_browser):
    base = csp_site["url"]

    staff = Visitor(open_browser, base, "bx.staff")
    page = staff.page
    staff.open("/")
    # The bars' widths come from classes now (inline style attributes are refused).
    bars = page.locator("table.status-table .progress-bar")
    widths = bars.evaluate_all(
        """(bars) => bars.map((bar) => [bar.className, bar.getBoundingClientRect().width
                                         / bar.parentElement.getBoundingClientRect().width])"""
    )
    shares = [(int(re.search(r"\bbar-(\d+)\b", name)[1]), ratio) for name, ratio in widths]
    assert any(share > 0 for share, _ in shares), shares
    for share, ratio in shares:
        assert ratio == pytest.approx(share / 100, abs=0.02), shares

    staff.open("/targets/BX-IP/")
    page.wait_for_function("() => window.Chart && Chart.getChart('trajectory-chart')")
    assert page.evaluate("Chart.getChart('trajectory-chart').data.datasets.length") >= 4
    assert page.evaluate(PAINTED) > 1000, "the chart drew nothing"
    staff.check("the chart")
    screenshot(page, "e2e-csp-target-chart")

    staff.open("/targets/BX-IP/report/")
    page.select_option("#id_period", "2025-Q4")  # report.js loads the period's entry
    page.wait_for_url("**/targets/BX-IP/report/?period=2025-Q4")
    staff.check("the report form after choosing a period")

    staff.open("/entries/")
    staff.open("/import/")
    page.set_input_files("#id_file", files=[{
        "name": "entries.csv", "mimeType": "text/csv",
        "buffer": b"target,period,value,note\nBX-IP,2026-Q1,1,\n",
    }])
    page.click("#preview-button")
    page.wait_for_selector("#confirm-import")
    staff.check("the import preview")
    page.click("#confirm-import")  # tracker.js turns the button off as the form goes
    page.wait_for_selector("#import-done")
    staff.check("the import result")
    staff.open("/alerts/")
    staff.open("/accounts/password_change/")
    page.select_option("#language-select", "en")  # tracker.js sends the language form
    page.wait_for_function("document.documentElement.lang === 'en'")
    staff.check("the language switch")

    manager = Visitor(open_browser, base, "bx.manager")
    page = manager.page
    manager.open("/review/")
    boxes = page.locator(".entry-check")
    assert boxes.count() == 2 and not boxes.first.is_checked()  # 2026-Q3 and the import
    page.check("#check-all")  # review-queue.js ticks every entry
    assert all(boxes.nth(i).is_checked() for i in range(boxes.count()))
    page.uncheck("#check-all")
    assert not boxes.first.is_checked()
    manager.check("the review queue's select-all")
    screenshot(page, "e2e-csp-review-queue")

    manager.open(f"/import/?job={csp_site['job'].pk}")
    ratio = page.evaluate(
        """() => { const bar = document.querySelector("#import-progress .progress-bar");
                   return bar.getBoundingClientRect().width
                          / bar.parentElement.getBoundingClientRect().width; }"""
    )
    assert ratio == pytest.approx(0.4, abs=0.02)
    with page.expect_navigation(timeout=10_000):  # tracker.js follows the running import
        pass
    manager.check("the running import after it reloaded itself")

    admin = Visitor(open_browser, base, "admin")
    page = admin.page
    target = Target.objects.get(code="BX-IP")
    admin.open("/admin/")
    admin.open("/admin/targets/target/")
    page.check("#action-toggle")  # the admin's actions.js
    assert page.locator("input.action-select:checked").count() == Target.objects.count()
    admin.check("the admin's list with its actions")
    admin.open(f"/admin/targets/target/{target.pk}/change/")
    assert page.input_value("#id_code") == "BX-IP"
    admin.open("/admin/targets/target/add/")
    admin.open("/admin/auth/user/")
    screenshot(page, "e2e-csp-admin")


def one_page_pdf(text: str) -> bytes:
    """A valid one-page PDF saying ``text`` (ASCII), its cross-reference table computed."""
    stream = f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    document, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(document))
        document += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(document)
    document += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    document += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    document += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref
    )
    return document


def test_a_pdf_of_evidence_is_framed_on_the_review_page(site, open_browser):
    """The review page frames the entry's PDF (served inline, framed by this site only):
    the browser loads it without a refusal of the policy or of X-Frame-Options."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from targets.services import entries as workflow

    entry = workflow.entry_save_draft(
        user=site["staff"], target_id=Target.objects.get(code="BX-IP").pk, period="2026-Q3",
        value="1", evidence_file=SimpleUploadedFile("quyết định.pdf", one_page_pdf("Ban Qua")),
    )
    workflow.entry_submit(user=site["staff"], entry_id=entry.pk)
    manager = Visitor(open_browser, site["url"], "bx.manager")
    with manager.page.expect_response(lambda r: "/evidence/shown/" in r.url) as framed:
        manager.open(f"/review/{entry.pk}/")
    response = framed.value
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    assert response.headers["x-frame-options"] == "SAMEORIGIN"
    assert manager.page.locator("#evidence-pdf iframe").is_visible()
    manager.check("the review page with its PDF")
    screenshot(manager.page, "e2e-csp-review-pdf")
