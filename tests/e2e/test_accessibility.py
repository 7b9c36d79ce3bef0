"""Accessibility in a real browser: axe-core (the npm package, pinned in package-lock.json and
installed by `make test`) checks every screen — signed out, as staff and as a manager, in
Vietnamese and English, on a desktop and on a phone — and any violation of impact serious or
critical fails, listed with its rule, its elements and what axe says about them.

axe is injected with page.evaluate, which the Content-Security-Policy does not govern: the
policy stays as it is served."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Error as PlaywrightError

from dhis2.models import Dhis2Upload
from targets.models import ImportJob, ImportState, Target
from tests.alerting import evaluate, report
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 375, "height": 812}}
LANGUAGES = ("vi", "en")
BLOCKING = ("serious", "critical")
# Failing whatever their impact: every table header has a name (issue 12).
ALWAYS = ("empty-table-header",)
RUN = "() => axe.run(document, {resultTypes: ['violations']})"
RELOADED = ("context was destroyed", "axe is not defined", "navigat")


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(
            f"{AXE} is missing: run `make test` (or `npm ci` at the repository's root), "
            "which installs axe-core from package-lock.json."
        )
    return AXE.read_text(encoding="utf-8")


@dataclass(frozen=True)
class Screen:
    name: str
    path: str
    status: int = 200
    # What to do on the page once loaded (fill a form, open a menu) before axe looks at it.
    then: Callable | None = None


def _open_menu(page) -> None:
    toggler = page.locator(".navbar-toggler")
    if toggler.is_visible():
        toggler.click()
        page.wait_for_selector("#main-nav.show")
    page.click("#user-menu")
    page.wait_for_selector(".dropdown-menu.show")
    page.mouse.move(0, 0)
    # The button's colours change over a transition: axe must see where they end.
    page.wait_for_function("() => document.getAnimations().length === 0")


def _preview_import(page) -> None:
    page.set_input_files("#id_file", files=[{
        "name": "entries.csv", "mimeType": "text/csv",
        "buffer": b"target,period,value,note\nBX-IP,2026-Q4,1,\nBX-IP,2026-Q9,x,\n",
    }])
    page.click("#preview-button")
    page.wait_for_selector("#preview-table")


def _dhis2_dry_run(page) -> None:
    page.set_input_files("#id_file", files=[{
        "name": "dv.json", "mimeType": "application/json",
        "buffer": (b'{"dataValues": [{"dataElement": "BX-IP", "period": "2026Q4", '
                   b'"orgUnit": "LC-BATXAT", "value": "1"}, {"dataElement": "BX-IP", '
                   b'"period": "202603", "orgUnit": "LC-BATXAT", "value": "x"}]}'),
    }])
    page.click("#dry-run-button")
    page.wait_for_selector("#dry-run-table")


def _preview_register_import(page) -> None:
    page.set_input_files("#id_file", files=[{
        "name": "reports.csv", "mimeType": "text/csv",
        "buffer": b"project,period,stage,stage_date,registered_capital,disbursed_capital,"
                  b"jobs_filled\nBX-DA-BANQUA,2026-Q3,land_handed_over,2026-08-15,1450000000000,"
                  b"0,0\nBX-DA-KHO,2026-Q9,built,x,-1,0,0\n",
    }])
    page.click("#preview-button")
    page.wait_for_selector("#preview-table")


def _entry_with_error(page) -> None:
    page.fill("#id_value", "abc")
    page.click("#save-draft")
    page.wait_for_selector("#id_value.is-invalid")


def _wrong_password(page) -> None:
    from axes.models import AccessAttempt

    AccessAttempt.objects.all().delete()  # the other language's pass locked this client out
    page.fill("#id_username", "nobody")
    page.fill("#id_password", "not-the-password")
    page.click("#sign-in")
    page.wait_for_selector("#login-form .alert")


def _locked_out(page) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        page.fill("#id_username", "nobody")
        page.fill("#id_password", "not-the-password")
        page.click("#sign-in")
        page.wait_for_load_state()
        if page.locator("#locked-out").count():
            return
    raise AssertionError("the sign-in never locked out")


SIGNED_OUT = [
    Screen("sign-in", "/accounts/login/"),
    Screen("sign-in, wrong password", "/accounts/login/", then=_wrong_password),
    Screen("password reset", "/accounts/password_reset/"),
    Screen("password reset sent", "/accounts/password_reset/done/"),
    Screen("password reset, invalid link", "/accounts/reset/MQ/set-password/"),
    Screen("password reset complete", "/accounts/reset/done/"),
    Screen("404", "/no-such-page/", status=404),
    Screen("locked out", "/accounts/login/", then=_locked_out),  # last: it locks the client
]


def signed_in(persona: str, site: dict) -> list[Screen]:
    jobs = site["jobs"][site[persona].username]
    screens = [
        Screen("status", "/"),
        Screen("status of a unit", f"/?unit={site['department']}"),
        Screen("target", "/targets/BX-IP/"),
        Screen("target, another unit", "/targets/BX-OCC/"),
        Screen("enter progress", "/entries/"),
        Screen("enter-progress form", "/targets/BX-IP/report/?period=2026-Q2"),
        Screen("enter-progress form, an error", "/targets/BX-IP/report/?period=2026-Q2",
               then=_entry_with_error),
        Screen("returned entry", "/targets/BX-IP/report/?period=2026-Q1"),
        Screen("import", "/import/"),
        Screen("import preview", "/import/", then=_preview_import),
        Screen("import running", f"/import/?job={jobs['running']}"),
        Screen("import done", f"/import/?job={jobs['done']}"),
        Screen("import failed", f"/import/?job={jobs['failed']}"),
        Screen("alerts", "/alerts/"),
        Screen("alerts, all", "/alerts/?state=all"),
        Screen("investment register", "/register/"),
        Screen("investment register, filtered", "/register/?sector=logistics&q=kho"),
        Screen("investment register, no project", "/register/?sector=hydropower"),
        Screen("register import", "/register/import/"),
        Screen("register import preview", "/register/import/", then=_preview_register_import),
        Screen("periodic report", "/reports/"),
        Screen("periodic report, errors",
               "/reports/?unit=LC-BATXAT&period=2026-Q3&format=pdf&place=&issued_on=2026-02-31"),
        Screen("menu open", "/alerts/", then=_open_menu),
        Screen("password change", "/accounts/password_change/"),
        Screen("password changed", "/accounts/password_change/done/"),
        Screen("404", "/targets/NO-SUCH-TARGET/", status=404),
    ]
    if persona == "manager":
        screens += [
            Screen("review queue", "/review/"),
            Screen("review of an entry", f"/review/{site['entry_id']}/"),
            Screen("who has not reported", "/completeness/?start=2025-07-01&end=2027-03-31"),
            Screen("DHIS2 exchange", "/dhis2/"),
            Screen("DHIS2 export, an error", "/dhis2/export/?plan=BX-2025-2030&start=2026-9M"),
            Screen("DHIS2 dry run", "/dhis2/", then=_dhis2_dry_run),
            Screen("DHIS2 import done", f"/dhis2/imports/{site['dhis2']['done']}/"),
            Screen("DHIS2 import failed", f"/dhis2/imports/{site['dhis2']['failed']}/"),
        ]
    else:
        screens += [Screen("403 (the review queue)", "/review/", status=403)]
    return screens


@pytest.fixture
def a11y_site(site):
    """Something on every screen: statuses and reporting states of several colours, an
    approved report (a bar, a chart point), an entry returned with a comment and submitted again
    (the review page shows the comment), a returned entry and a draft (listed first on the entry
    screen), alerts for both people, and each person's imports: running, done and failed with
    problems."""
    from targets.models import Role, Unit
    from targets.services import entries as workflow
    from tests.conftest import make_user, submitted_entry

    staff, manager = site["staff"], site["manager"]
    department = Unit.objects.get(code="LC-BATXAT-IND")
    dept_staff = make_user("ind.staff", [(department, Role.STAFF)])
    # BX-OCC (linear 20 → 80 %) at 31.6 on 2026-09-30, when 33.64 was expected: at risk.
    for period, value in [("2025-Q3", "20"), ("2025-Q4", "22"), ("2026-Q1", "25"),
                          ("2026-Q2", "28.5"), ("2026-Q3", "31.6")]:
        report("BX-OCC", period, value, author=dept_staff, reviewer=manager)
    Target.objects.filter(code="BX-IP").update(owner=staff)
    approved = submitted_entry(staff, code="BX-IP", period="2025-Q3", value="1")
    workflow.entry_approve(user=manager, entry_id=approved.pk, reassess=None)
    again = submitted_entry(staff, code="BX-IP", period="2025-Q4", value="1",
                            note="Quyết định thành lập khu công nghiệp")
    workflow.entry_return(user=manager, entry_id=again.pk, comment="Thiếu số quyết định.")
    workflow.entry_submit(user=staff, entry_id=again.pk)
    returned = submitted_entry(staff, code="BX-IP", period="2026-Q1", value="1")
    workflow.entry_return(user=manager, entry_id=returned.pk, comment="Sai kỳ báo cáo.")
    workflow.entry_save_draft(user=staff, target_id=approved.target_id, period="2026-Q2",
                              value="1", today=date(2031, 1, 1))
    # Three days before 2026-Q4's deadline: a reminder for the staff, overdue periods and a
    # worse status for the owner and the managers.
    evaluate(date(2027, 1, 12))
    for person in (staff, manager):
        assert person.alert_inbox.exists(), f"{person} has no alert to show"
    jobs = {}
    for person in (staff, manager):
        jobs[person.username] = {
            "running": ImportJob.objects.create(
                user=person, filename="large.csv", state=ImportState.RUNNING,
                total_rows=10, checked_rows=4).pk,
            "done": ImportJob.objects.create(
                user=person, filename="done.csv", state=ImportState.DONE, total_rows=3,
                created_count=2, unchanged_count=1).pk,
            "failed": ImportJob.objects.create(
                user=person, filename="wrong.csv", state=ImportState.FAILED, total_rows=3,
                problem_count=2, problems=[
                    {"place": "row 2", "field": "value", "message": "not a number"},
                    {"place": "row 3", "field": "period", "message": "no such period"},
                ]).pk,
        }
    dhis2 = {
        "done": Dhis2Upload.objects.create(
            user=manager, filename="done.json", state=ImportState.DONE, value_count=3,
            created_count=2, unchanged_count=1).pk,
        "failed": Dhis2Upload.objects.create(
            user=manager, filename="wrong.json", state=ImportState.FAILED, value_count=3,
            problem_count=2, problems=[
                {"place": "wrong.json data value 2", "field": "value",
                 "message": "not a number"},
                {"place": "wrong.json data value 3", "field": "period",
                 "message": "no such period"},
            ]).pk,
    }
    statuses = set(Target.objects.values_list("latest_assessment__status", flat=True))
    assert statuses == {"on_track", "at_risk"}, statuses
    # The investment register: a project with every column filled, one with the optional ones
    # empty.
    from register.models import Park, Project

    commune = Unit.objects.get(code="LC-BATXAT")
    park = Park.objects.create(code="BX-KCN-BANQUA", name="Khu công nghiệp Bản Qua",
                               kind="industrial_park", unit=commune, industrial_land_ha=95)
    Project.objects.create(
        code="BX-DA-BANQUA", name="Hạ tầng Khu công nghiệp Bản Qua", investor="Công ty CP A",
        investor_country="VN", sector="infrastructure", unit=commune, park=park,
        registered_capital=1450 * 10**9, disbursed_capital=120 * 10**9, land_area_ha=95,
        jobs_planned=3500, stage="certificate_issued", stage_date=date(2026, 6, 15), demo=True)
    Project.objects.create(
        code="BX-DA-KHO", name="Kho ngoại quan Bản Vược", investor="Công ty TNHH B",
        investor_country="CN", sector="logistics", unit=department,
        registered_capital=15 * 10**6, registered_currency="USD", stage="proposed",
        stage_date=date(2026, 8, 1))
    return {**site, "jobs": jobs, "entry_id": again.pk, "department": department.pk,
            "dhis2": dhis2}


def violations(page, axe_source: str) -> list[dict]:
    """axe's serious and critical violations on the page as it is now, and empty headers."""
    for attempt in range(3):
        try:
            if not page.evaluate("() => typeof window.axe === 'object'"):
                page.evaluate(axe_source)
            result = page.evaluate(RUN)
            break
        except PlaywrightError as error:
            # A page that reloads itself (a running import) may do so while axe runs: again.
            if attempt == 2 or not any(sign in str(error) for sign in RELOADED):
                raise
            page.wait_for_load_state("load")
    return [v for v in result["violations"] if v["impact"] in BLOCKING or v["id"] in ALWAYS]


def describe(where: str, violation: dict) -> str:
    lines = [f"{where}: {violation['id']} ({violation['impact']}): {violation['help']}"]
    for node in violation["nodes"][:10]:
        summary = " ".join(node.get("failureSummary", "").split())
        lines.append(f"    {' '.join(map(str, node['target']))}: {summary[:300]}")
    if len(violation["nodes"]) > 10:
        lines.append(f"    … and {len(violation['nodes']) - 10} more elements")
    return "\n".join(lines)


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("persona", ["signed-out", "staff", "manager"])
def test_no_serious_or_critical_violation_on_any_screen(
    a11y_site, open_browser, axe_source, persona, viewport,
):
    base = a11y_site["url"]
    page = open_browser(VIEWPORTS[viewport], name=f"a11y-{persona}-{viewport}")
    if persona == "signed-out":
        screens = SIGNED_OUT
    else:
        username = a11y_site[persona].username
        sign_in(page, base, username)
        screens = signed_in(persona, a11y_site)
    found, seen = [], 0
    for language in LANGUAGES:
        # The switcher's cookie (signing in set it to the profile's language).
        page.context.add_cookies([{"name": "django_language", "value": language, "url": base}])
        for screen in screens:
            where = f"{screen.name} [{persona}, {language}, {viewport}] {screen.path}"
            response = page.goto(base + screen.path)
            assert response is not None and response.status == screen.status, where
            if screen.then:
                screen.then(page)
            assert page.locator("html").get_attribute("lang") == language, where
            found += [describe(where, v) for v in violations(page, axe_source)]
            # Nothing makes the page itself scroll sideways (a wide table scrolls in its box).
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > VIEWPORTS[viewport]["width"]:
                found.append(f"{where}: the page is {width} px wide")
            seen += 1
    assert seen == len(LANGUAGES) * len(screens)
    assert not found, f"{len(found)} serious or critical problems:\n" + "\n".join(found)
