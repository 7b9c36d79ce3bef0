"""User content reaches HTML escaped: script payloads in every field a user or a plan file can
fill come back as text on every page, and the patterns that let them through stay out.

The pages are rendered here with the test client (fast, and they include the admin); the same
site is opened in a real browser by tests/e2e/test_xss.py, which checks that no script runs.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import re
from datetime import date
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.html import escape

ROOT = Path(__file__).resolve().parents[1]

# One payload per field, so that a failure (or a browser dialog) names the field it came from.
XSS = {
    "unit": '<svg onload=alert("unit")>',
    "province": '<script>alert("province")</script>',
    "plan": '"><img src=x onerror=alert("plan")>',
    "area": '<script>alert("area")</script>',
    "name": '<script>alert("name")</script>',
    "measure": '<script>alert("measure")</script>',
    "description": '"><img src=x onerror=alert("description")>',
    "source": '<svg onload=alert("source")>',
    # A web address may hold quotes and angle brackets (not spaces): it is a valid URL.
    "url": 'https://example.org/"><svg/onload=alert("url")>',
    "first_name": '<svg onload=alert("first_name")>',
    "last_name": '"><img src=x onerror=alert("last_name")>',
    "manager": '<script>alert("manager")</script>',
    "owner": '"><img src=x onerror=alert("owner")>',
    "note": '<script>alert("note")</script>',
    "comment": '"><img src=x onerror=alert("comment")>',
    # An uploaded file's name loses everything up to its last "/", so no "</script>" here.
    "file": '"><img src=x onerror=alert("file")>.pdf',
    # A browser sends a double quote in a file name as %22: single quotes here.
    "import_file": "<svg onload=alert('import_file')>.csv",
    "import_note": '"><img src=x onerror=alert("import_note")>',
    "import_code": '<svg onload=alert("import_code")>',
    "plan_file": '<svg onload=alert("plan_file")>.yaml',
    "search": '"><script>alert("search")</script>',
}
# The smallest file the evidence check takes for a PDF (it reads the magic bytes).
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def hostile_plan() -> str:
    """The small plan of tests/conftest.py with a payload in every text a plan file holds."""
    text = json.dumps  # a JSON string is a valid double-quoted YAML scalar
    return f"""
units:
  - {{code: LC, name: {text(XSS["province"])}}}
  - {{code: LC-BATXAT, name: {text(XSS["unit"])}, parent: LC}}
plans:
  - code: BX-2025-2030
    name: {text(XSS["plan"])}
    unit: LC-BATXAT
    start: 2025-07-01
    end: 2030-12-31
    areas:
      - {{code: industry, name: {text(XSS["area"])}}}
    targets:
      - code: BX-IP
        name: {text(XSS["name"])}
        description: {text(XSS["description"])}
        area: industry
        responsible_unit: LC-BATXAT
        owner: bx.owner
        measure: {text(XSS["measure"])}
        value_type: integer
        trajectory: step
        baseline: {{value: 0, date: 2025-06-30}}
        target: {{value: 2, date: 2030-12-31}}
        frequency: quarterly
        source: {{text: {text(XSS["source"])}, url: {text(XSS["url"])}}}
        milestones:
          - {{date: 2027-12-31, value: 1}}
"""


def entries_file(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["target", "period", "value", "note"])
    writer.writerows(rows)
    return out.getvalue().encode()


def build_hostile_site() -> dict:
    """The hostile plan, its people and entries, built through the real services: a submitted
    entry with a note and an evidence file, a returned one with the reviewer's comment, and
    the overdue alerts of an evaluation."""
    from targets.models import Role, Target, Unit
    from targets.services import entries as workflow
    from targets.services.plans import load_located, plan_import
    from tests.alerting import SOMEDAY, evaluate
    from tests.conftest import make_user

    admin = make_user("admin", is_superuser=True, is_staff=True)
    owner = make_user("bx.owner", first_name=XSS["owner"], last_name="Owner")
    plan_import(data=load_located(hostile_plan()), filename=XSS["plan_file"], user=admin)
    unit = Unit.objects.get(code="LC-BATXAT")
    staff = make_user("bx.staff", [(unit, Role.STAFF)],
                      first_name=XSS["first_name"], last_name=XSS["last_name"])
    manager = make_user("bx.manager", [(unit, Role.MANAGER)], first_name=XSS["manager"])
    evaluate(date(2026, 11, 24))  # BX-IP: overdue alerts for the manager
    target = Target.objects.get(code="BX-IP")

    def submitted(period: str, **content):
        entry = workflow.entry_save_draft(
            user=staff, target_id=target.pk, period=period, value="1", today=SOMEDAY, **content
        )
        return workflow.entry_submit(user=staff, entry_id=entry.pk)

    to_review = submitted(
        "2026-Q3", note=XSS["note"], evidence_file=SimpleUploadedFile(XSS["file"], PDF)
    )
    returned = submitted("2026-Q2", note=XSS["note"])
    workflow.entry_return(user=manager, entry_id=returned.pk, comment=XSS["comment"])
    return {"owner": owner, "staff": staff, "manager": manager, "admin": admin,
            "target": target, "to_review": to_review, "returned": returned, "unit": unit}


@pytest.fixture
def hostile(db):
    return build_hostile_site()


def assert_escaped(html: str, *fields: str, where: str) -> None:
    """No payload is in the page as markup; each of ``fields`` is there, escaped."""
    for field, payload in XSS.items():
        assert payload not in html, f"{where}: the {field} payload is in the page unescaped"
    for field in fields:
        assert escape(XSS[field]) in html, f"{where}: the {field} payload is missing"


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, f"{url}: {response.status_code}"
    return response.content.decode()


# --- the known hole: a form's help text carries the target's measure -------------------------


def test_entry_form_help_texts_escape_the_measure_and_the_file_name(in_english):
    """crispy-bootstrap5 renders help texts with |safe: the form must hand them over escaped."""
    from crispy_forms.utils import render_crispy_form

    from targets import rules
    from targets.forms import EntryForm

    period = rules.Period("2026-Q3", date(2026, 7, 1), date(2026, 9, 30))
    form = EntryForm(
        periods=[period], measure=XSS["measure"], value_type="integer",
        current_file=XSS["file"],
    )
    html = render_crispy_form(form)
    assert XSS["measure"] not in html and XSS["file"] not in html
    assert f"In {escape(XSS['measure'])}." in html
    assert f"Current file: {escape(XSS['file'])}." in html


def test_report_form_shows_the_measure_as_text(client, hostile):
    client.force_login(hostile["staff"])
    html = page(client, "/targets/BX-IP/report/?period=2026-Q2")
    assert_escaped(html, "measure", "name", "note", "comment", "first_name", "last_name",
                   where="report form")


# --- every page, as the user who sees it -------------------------------------------------------


def test_staff_pages_show_every_payload_as_text(client, hostile):
    from targets.models import Area

    client.force_login(hostile["staff"])
    area = Area.objects.get(code="industry")
    everything = ("unit", "area", "name", "measure", "first_name", "last_name")
    assert_escaped(page(client, "/"), *everything, where="status table")
    filtered = page(client, f"/?q={XSS['search']}&area={area.pk}&unit={hostile['unit'].pk}")
    assert_escaped(filtered, "search", "area", "unit", where="filtered status table")
    assert_escaped(
        page(client, "/targets/BX-IP/"),
        "plan", "area", "unit", "name", "measure", "description", "source", "url", "owner",
        "note", "comment", "first_name", "last_name",
        where="target page",
    )
    assert_escaped(page(client, "/entries/"), "name", "measure", "unit", "comment",
                   where="enter progress")
    assert_escaped(page(client, "/targets/BX-IP/report/?period=2026-Q3"), "measure", "name",
                   "file", where="report form of an entry with an evidence file")


def test_manager_pages_show_every_payload_as_text(client, hostile):
    client.force_login(hostile["manager"])
    assert_escaped(page(client, "/review/"), "name", "measure", "first_name", "last_name",
                   "manager", where="review queue")
    assert_escaped(page(client, f"/review/{hostile['to_review'].pk}/"),
                   "name", "measure", "note", "first_name", "last_name", where="review entry")
    assert_escaped(page(client, "/alerts/"), "name", "manager", where="alerts inbox")
    assert_escaped(page(client, "/targets/BX-IP/"), "name", "measure", "description", "owner",
                   where="target page with its changes")
    assert_escaped(page(client, "/reports/"), "unit", where="periodic report form")


def test_import_pages_show_file_names_and_cells_as_text(client, hostile):
    client.force_login(hostile["staff"])
    bad = entries_file([[XSS["import_code"], "2026-Q1", "1", ""]])
    response = client.post("/import/", {
        "file": SimpleUploadedFile(XSS["import_file"], bad), "status": "submitted"
    })
    assert_escaped(response.content.decode(), "import_file", "import_code",
                   where="import preview with a problem")
    good = entries_file([["BX-IP", "2026-Q1", "1", XSS["import_note"]]])
    response = client.post("/import/", {
        "file": SimpleUploadedFile(XSS["import_file"], good), "status": "submitted"
    })
    html = response.content.decode()
    assert_escaped(html, "import_file", "import_note", where="import preview")
    token = re.search(r'name="token" value="(\d+)"', html)[1]
    response = client.post("/import/confirm/", {"token": token}, follow=True)
    assert response.status_code == 200
    assert_escaped(response.content.decode(), "import_file", where="import result")


def test_admin_pages_show_every_payload_as_text(client, hostile):
    from targets.models import Area, Plan

    client.force_login(hostile["admin"])
    target, entry = hostile["target"], hostile["to_review"]
    plan, area = Plan.objects.get(), Area.objects.get()
    for url, fields in [
        ("/admin/targets/target/", ("name", "measure", "plan", "area", "unit")),
        (f"/admin/targets/target/{target.pk}/change/",
         ("name", "measure", "description", "source", "url", "plan", "area", "unit")),
        (f"/admin/targets/target/{target.pk}/history/", ("name", "plan_file")),
        ("/admin/targets/progressentry/", ("name",)),
        (f"/admin/targets/progressentry/{entry.pk}/change/", ("name", "note")),
        (f"/admin/targets/progressentry/{hostile['returned'].pk}/change/", ("comment",)),
        ("/admin/targets/unit/", ("unit", "province")),
        (f"/admin/targets/unit/{hostile['unit'].pk}/change/", ("unit", "province")),
        ("/admin/targets/plan/", ("plan", "unit")),
        (f"/admin/targets/plan/{plan.pk}/change/", ("plan", "area")),
        ("/admin/targets/area/", ("area", "plan")),
        (f"/admin/targets/area/{area.pk}/change/", ("area",)),
        ("/admin/targets/membership/", ("unit",)),
        ("/admin/auth/user/", ("first_name", "last_name")),
        (f"/admin/auth/user/{hostile['staff'].pk}/change/", ("first_name", "last_name")),
        ("/admin/targets/alert/", ("name",)),
    ]:
        assert_escaped(page(client, url), *fields, where=url)


def test_a_script_address_is_refused_in_plan_files_and_entry_forms(client, hostile, in_english):
    """Links are rendered as href: only web addresses get there (a javascript: link would run
    when clicked, escaping or not)."""
    from targets.errors import ImportFailed
    from targets.models import ProgressEntry, Target
    from targets.services.plans import load_located, plan_import

    plan = hostile_plan().replace(json.dumps(XSS["url"]), '"javascript:alert(1)"')
    with pytest.raises(ImportFailed) as failed:
        plan_import(data=load_located(plan), filename="plan.yaml", user=hostile["admin"])
    assert any(p.field == "source.url" for p in failed.value.problems)
    assert Target.objects.get(code="BX-IP").source_url == XSS["url"]
    client.force_login(hostile["staff"])
    client.cookies["django_language"] = "en"
    response = client.post("/targets/BX-IP/report/", {
        "period": "2026-Q1", "value": "1", "evidence_url": "javascript:alert(1)",
        "version": "0", "opened_period": "2026-Q1", "action": "draft",
    })
    assert response.status_code == 200
    assert "Enter a valid URL." in response.content.decode()
    assert not ProgressEntry.objects.filter(period="2026-Q1").exists()


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", " JavaScript:alert(1)", "java\tscript:alert(1)",
    "\x01javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "vbscript:x",
])
def test_web_address_drops_links_that_are_not_web_addresses(url):
    from targets.templatetags.tracker import web_address

    assert web_address(url) == ""


def test_web_address_keeps_web_addresses():
    from targets.templatetags.tracker import web_address

    assert web_address(XSS["url"]) == XSS["url"]
    assert web_address("http://example.org/a?b=1") == "http://example.org/a?b=1"


def test_a_stored_script_address_is_never_a_link(client, hostile):
    """The entry service refuses a link that is not a web address; should one be in the
    database anyway (data from before the check), the pages show it without linking to it."""
    from targets.errors import WorkflowError
    from targets.models import ProgressEntry
    from targets.services import entries as workflow
    from tests.alerting import SOMEDAY

    with pytest.raises(WorkflowError) as refused:
        workflow.entry_save_draft(
            user=hostile["staff"], target_id=hostile["target"].pk, period="2026-Q1",
            value="1", evidence_url="javascript:alert(1)", today=SOMEDAY,
        )
    assert refused.value.field == "evidence_url"
    assert not ProgressEntry.objects.filter(target=hostile["target"], period="2026-Q1").exists()
    entry = workflow.entry_save_draft(
        user=hostile["staff"], target_id=hostile["target"].pk, period="2026-Q1", value="1",
        evidence_url="https://example.org/scan.pdf", today=SOMEDAY,
    )
    workflow.entry_submit(user=hostile["staff"], entry_id=entry.pk)
    ProgressEntry.objects.filter(pk=entry.pk).update(evidence_url="javascript:alert(1)")
    client.force_login(hostile["manager"])
    for url in ("/targets/BX-IP/", f"/review/{entry.pk}/"):
        assert 'href="javascript:' not in page(client, url).lower(), url


def test_user_names_cannot_hold_markup():
    """Usernames are shown on pages too; Django's validator keeps markup out of them."""
    from django.contrib.auth import get_user_model
    from django.core.exceptions import ValidationError

    field = get_user_model()._meta.get_field("username")
    for payload in (XSS["name"], XSS["plan"], XSS["unit"]):
        with pytest.raises(ValidationError):
            field.run_validators(payload)


# --- the patterns that let markup through stay out --------------------------------------------

SANITISING = {"escape", "conditional_escape", "format_html", "plain_help_text", "strip_tags"}


def _called(node: ast.AST) -> str:
    func = node.func if isinstance(node, ast.Call) else None
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _built(node: ast.AST) -> bool:
    """A string built from values: ``%``, an f-string with values, ``.format()`` or ``+``."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod | ast.Add):
        return True
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(part, ast.FormattedValue) for part in node.values)
    return _called(node) == "format"


def _python_sources() -> list[Path]:
    return [
        path for path in sorted((ROOT / "targets").rglob("*.py"))
        if "migrations" not in path.parts
    ]


def _findings(check) -> list[str]:
    found = []
    for path in _python_sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            problem = check(node)
            if problem:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {problem}")
    return found


def test_the_scan_finds_the_patterns_it_guards_against():
    """The checks below fail on the pattern they look for (here: the hole as it was)."""
    hole = ast.parse(
        'self.fields["value"].help_text = _("In %(m)s.") % {"m": measure}\n'
        'self.fields["value"].help_text = target.measure\n'
        'x = mark_safe(f"<b>{name}</b>")\n'
        'y = format_html("<b>%s</b>" % name)\n'
        'forms.CharField(help_text="In " + measure)\n'
    )
    found = [problem for node in ast.walk(hole)
             for problem in (_help_text_unescaped(node), _markup_built(node)) if problem]
    assert len(found) == 5, found
    fixed = ast.parse(
        'self.fields["value"].help_text = plain_help_text(_("In %(m)s.") % {"m": measure})\n'
        'forms.CharField(help_text=_("PDF, at most 10 MB."))\n'
        'x = format_html("<b>{}</b>", name)\n'
    )
    assert not [node for node in ast.walk(fixed)
                if _help_text_unescaped(node) or _markup_built(node)]


TRANSLATING = {"_", "gettext", "gettext_lazy", "pgettext", "pgettext_lazy"}


def _literal_text(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) or (
        _called(node) in TRANSLATING and all(isinstance(a, ast.Constant) for a in node.args)
    )


def _help_text_unescaped(node: ast.AST) -> str:
    """Help texts are rendered with |safe (crispy-bootstrap5, Django's form templates, the
    admin): one that is not a (translated) literal must be escaped (``plain_help_text``) or
    built by ``format_html``."""
    values = []
    if isinstance(node, ast.Assign):
        values = [node.value for t in node.targets
                  if isinstance(t, ast.Attribute) and t.attr == "help_text"]
    elif isinstance(node, ast.Call):
        values = [k.value for k in node.keywords if k.arg == "help_text"]
    if any(not _literal_text(v) and _called(v) not in SANITISING for v in values):
        return "a help text made from values, not escaped"
    return ""


def _markup_built(node: ast.AST) -> str:
    """``mark_safe``/``SafeString`` only on literals; ``format_html`` gets the values as its
    arguments, never a format string already built from them."""
    name = _called(node)
    if name in {"mark_safe", "SafeString"} and node.args and not isinstance(
        node.args[0], ast.Constant
    ):
        return f"{name}() of a value that is not a literal"
    if name in {"format_html", "format_html_join"} and node.args:
        template = node.args[0 if name == "format_html" else 1]
        if _built(template):
            return f"{name}() of a string already built from values"
    return ""


def test_no_help_text_is_made_from_values_unescaped():
    assert _findings(_help_text_unescaped) == []


def test_no_markup_is_marked_safe_after_formatting():
    assert _findings(_markup_built) == []


# Templates that are plain text (mail bodies, subjects): they are not HTML, so they say
# autoescape off on purpose. Nowhere else is output marked safe.
PLAIN_TEXT_TEMPLATES = {
    "templates/emails/digest.txt",
    "templates/registration/password_reset_email.html",  # the text body (no HTML alternative)
    "templates/registration/password_reset_subject.txt",
}
UNESCAPING = re.compile(r"\|\s*safe(seq)?\b|autoescape\s+off")


def test_templates_do_not_switch_escaping_off():
    found = []
    for path in sorted((ROOT / "templates").rglob("*")):
        name = str(path.relative_to(ROOT))
        if path.is_file() and name not in PLAIN_TEXT_TEMPLATES:
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if UNESCAPING.search(line):
                    found.append(f"{name}:{number}: {line.strip()}")
    assert found == []


def test_the_digest_mail_shows_names_as_text_in_html_and_as_they_are_in_text(hostile):
    from targets.models import Digest
    from targets.notifications import digest_message

    digest = Digest.objects.get(user=hostile["manager"])
    message = digest_message(digest, site_url="https://tracker.example", from_email="t@example")
    html = message.alternatives[0][0]
    assert XSS["name"] not in html and XSS["manager"] not in html
    assert escape(XSS["name"]) in html and escape(XSS["manager"]) in html
    # The text part is not HTML: the name reads as written.
    assert XSS["name"] in message.body
