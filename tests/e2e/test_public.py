"""The public pages in a real browser, signed out: a published plan's status table, a target's
chart drawn under the Content-Security-Policy, the switch to English, and axe-core finding no
serious or critical violation on any of them, on a laptop and a phone."""

from __future__ import annotations

import pytest

from targets.models import Plan, Target
from targets.services.evaluation import target_reassess
from targets.services.plans import plans_set_public
from tests.alerting import RULES, report
from tests.conftest import make_user, submitted_entry
from tests.e2e.conftest import screenshot
from tests.e2e.test_accessibility import AXE, VIEWPORTS, describe, violations
from tests.e2e.test_csp import LISTEN, PAINTED, VIOLATIONS

pytestmark = pytest.mark.e2e

PLAN = "BX-2025-2030"


@pytest.fixture
def public_site(site):
    """The small plan published: BX-OCC with three approved reports (a chart line and a
    forecast) and one waiting for review, which no public page shows."""
    from targets.models import Role, Unit

    department = Unit.objects.get(code="LC-BATXAT-IND")
    dept_staff = make_user("ind.staff", [(department, Role.STAFF)])
    for period, value in [("2025-Q3", "21"), ("2025-Q4", "23"), ("2026-Q1", "25.5")]:
        report("BX-OCC", period, value, author=dept_staff, reviewer=site["manager"])
    submitted_entry(dept_staff, code="BX-OCC", period="2026-Q2", value="77.77")
    for target in Target.objects.all():
        target_reassess(target, alert_settings=RULES)
    admin = make_user("admin", is_superuser=True, is_staff=True)
    plans_set_public(plan_ids=[Plan.objects.get(code=PLAN).pk], public=True, user=admin)
    return site


def test_an_anonymous_browser_reads_a_public_plan_and_its_chart(public_site, open_browser):
    base = public_site["url"]
    page = open_browser(name="public")
    page.context.add_init_script(LISTEN)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    page.goto(f"{base}/accounts/login/")
    page.click("#public-plans-link")  # from the sign-in page, no account needed
    page.wait_for_url(f"{base}/public/")
    page.click(f"#public-plans a[href='/public/{PLAN}/']")
    page.wait_for_url(f"{base}/public/{PLAN}/")
    assert page.locator("html").get_attribute("lang") == "vi"
    rows = page.locator("table.status-table tbody tr")
    assert rows.count() == 2
    assert "Chậm tiến độ" in page.inner_text("table.status-table") or \
        "Đúng tiến độ" in page.inner_text("table.status-table")
    screenshot(page, "e2e-public-plan")

    page.click(f"a[href='/public/{PLAN}/BX-OCC/']")
    page.wait_for_url(f"{base}/public/{PLAN}/BX-OCC/")
    page.wait_for_function("() => window.Chart && Chart.getChart('trajectory-chart')")
    chart = page.evaluate(
        "Chart.getChart('trajectory-chart').data.datasets.map((d) => d.data.length)"
    )
    assert len(chart) >= 4 and chart[2] == 3, chart  # the three approved actuals
    assert page.evaluate(PAINTED) > 1000, "the chart drew nothing"
    body = page.inner_text("body")
    assert "25,5" in body and "77,77" not in body and "ind.staff" not in body
    screenshot(page, "e2e-public-target")

    page.click("#public-languages a[hreflang='en']")
    page.wait_for_url(f"{base}/en/public/{PLAN}/BX-OCC/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Approved values" in page.inner_text("#approved-values")
    page.wait_for_function("() => window.Chart && Chart.getChart('trajectory-chart')")
    assert page.evaluate(VIOLATIONS) == []
    assert errors == []
    # Not signed in all along: the pages offer signing in, no user menu.
    assert page.locator("#public-sign-in").is_visible()
    assert page.locator("#user-menu").count() == 0


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_no_serious_or_critical_violation_on_the_public_pages(
    public_site, open_browser, viewport
):
    axe_source = AXE.read_text(encoding="utf-8")
    base = public_site["url"]
    page = open_browser(VIEWPORTS[viewport], name=f"public-a11y-{viewport}")
    found = []
    for prefix in ("", "/en"):
        for path in (f"{prefix}/public/", f"{prefix}/public/{PLAN}/",
                     f"{prefix}/public/{PLAN}/?details=1", f"{prefix}/public/{PLAN}/BX-OCC/",
                     f"{prefix}/public/{PLAN}/BX-IP/"):
            response = page.goto(base + path)
            assert response is not None and response.status == 200, path
            found += [describe(f"{path} [{viewport}]", v) for v in violations(page, axe_source)]
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > VIEWPORTS[viewport]["width"]:
                found.append(f"{path} [{viewport}]: the page is {width} px wide")
    assert not found, f"{len(found)} serious or critical problems:\n" + "\n".join(found)
