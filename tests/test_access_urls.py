"""The HTTP surface by persona: every named URL, every export, import and POST action.

``tests/test_access_matrix.py`` asks the workflow *services* who may do what; this module asks
the *web*: for each named URL (read from the resolver, so a new view cannot slip past) the
answer each persona gets — the page, a redirect to sign in (with ``next``), 403 for a role
that may not use a screen at all, 404 for an object outside the persona's scope (so that its
existence is not revealed) — and, for every POST, that the state changes exactly when the
answer says it may. POSTs carry the CSRF token a browser would send; each one is also forged
once, without the token: 403 and nothing written.

The world: BX-IP belongs to the commune LC-BATXAT (parent: the province LC); the sibling
commune LC-MUONGHUM (also under LC) has its own target MH-ROAD. The personas are anonymous,
the commune's staff member, the sibling's staff member, the commune's manager, the
province's manager, the sibling's manager and a superuser.
"""

from __future__ import annotations

import copy
import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from types import SimpleNamespace

import openpyxl
import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from api.models import ApiToken
from api.services import token_create
from dhis2 import importing as dhis2_importing
from dhis2.models import Dhis2Upload
from register import services as register_workflow
from register.imports import register_import_preview
from register.models import Project, ProjectReport, RegisterUpload
from targets.models import (
    AlertRecipient,
    Assessment,
    DeliveryState,
    Digest,
    ExplanationRequest,
    ImportJob,
    Plan,
    ProgressEntry,
    ReportingReminder,
    Role,
    Target,
    Unit,
)
from targets.services import accounts, explanations, import_jobs
from targets.services import entries as workflow
from targets.services.plans import load_located, plan_import, plans_set_public
from tests.alerting import RULES, evaluate
from tests.conftest import make_user, plan_operator, submitted_entry
from tests.queueing import record_queued

pytestmark = pytest.mark.django_db

PERSONAS = (
    "anonymous", "staff", "sibling staff", "unit manager", "parent's manager",
    "sibling's manager", "superuser",
)
# Personas that must never read a word about the commune's targets on any page.
OUTSIDERS = ("sibling staff", "sibling's manager")
UNIT_SECRETS = (b"BX-IP", b"BX-OCC", b"Industrial parks formed", b"BX-REG-1")

SIBLING_PLAN = """
units:
  - {code: LC-MUONGHUM, name: "Muong Hum commune", parent: LC}
plans:
  - code: MH-2025-2030
    name: "Muong Hum commune 2025–2030 term"
    unit: LC-MUONGHUM
    start: 2025-07-01
    end: 2030-12-31
    areas:
      - {code: roads, name: "Roads"}
    targets:
      - code: MH-ROAD
        name: "Village roads paved"
        area: roads
        responsible_unit: LC-MUONGHUM
        measure: "km"
        value_type: decimal
        baseline: {value: 0, date: 2025-06-30}
        target: {value: 40, date: 2030-12-31}
        frequency: quarterly
        grace_days: 15
"""

REGISTER_REPORT = (b"project,period,stage,stage_date,registered_capital,disbursed_capital,"
                   b"jobs_filled\nBX-REG-1,2026-Q3,proposed,2026-07-01,1000000000,0,0\n")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# A DHIS2 data value set: BX-IP's 2025-Q4, not reported yet.
DHIS2_DOCUMENT = (b'{"dataValues": [{"dataElement": "BX-IP", "period": "2025Q4", '
                  b'"orgUnit": "LC-BATXAT", "value": "1"}]}')
SOON = timezone.localdate() + timedelta(days=14)  # an explanation's due date
NEW_PASSWORD = "Ruong-bac-thang-2026"


@pytest.fixture
def world(people, small_plan, settings, tmp_path, monkeypatch):
    """Every object a URL of the matrix points at, made through the real services."""
    settings.MEDIA_ROOT = tmp_path
    # Reset mails are queued for a worker: here, only counted.
    queued_resets = record_queued(monkeypatch, accounts.SEND_PASSWORD_RESET)
    plan_import(data=load_located(SIBLING_PLAN), filename="sibling.yaml", user=plan_operator())
    sibling = Unit.objects.get(code="LC-MUONGHUM")
    users = {
        "staff": people["staff"],
        "sibling staff": make_user("mh.staff", [(sibling, Role.STAFF)]),
        "unit manager": people["manager"],
        "parent's manager": people["province"],
        "sibling's manager": make_user("mh.manager", [(sibling, Role.MANAGER)]),
        "superuser": people["admin"],
    }
    evaluate(date(2026, 11, 24))  # BX-IP overdue: alerts for the commune's manager
    staff, manager = people["staff"], people["manager"]
    evidence = workflow.entry_save_draft(
        user=staff, target_id=Target.objects.get(code="BX-IP").pk, period="2026-Q1", value="1",
        evidence_file=SimpleUploadedFile("decision.pdf", PDF, content_type="application/pdf"),
        today=date(2031, 1, 1),
    )
    done_job = import_jobs.import_preview(
        user=staff, content=b"target,period,value\nBX-IP,2025-Q3,0\n", filename="a.csv",
        status="submitted", language="en",
    ).job
    assert import_jobs.import_job_claim(job_id=done_job.pk, user=staff)
    import_jobs.import_job_run(job_id=done_job.pk, reassess=RULES)
    pending_job = import_jobs.import_preview(
        user=staff, content=b"target,period,value\nBX-IP,2025-Q4,1\n", filename="b.csv",
        status="submitted", language="en",
    ).job
    Digest.objects.filter(user=manager).update(state=DeliveryState.FAILED)
    # Explanation requests (issue 13) are asked of a target at risk, lagging or missed: the
    # commune's targets are taken as lagging. BX-IP has one open request, asked by the
    # province's manager; BX-OCC has none.
    Assessment.objects.filter(target__code__in=["BX-IP", "BX-OCC"]).update(status="lagging")
    explanation = explanations.explanation_ask(
        user=people["province"], target_id=Target.objects.get(code="BX-IP").pk,
        question="Why no industrial park yet?", due_date=SOON,
    )
    # DHIS2 documents of the commune's manager: one imported, one waiting for its confirm.
    dhis2_done = dhis2_importing.dhis2_upload_keep(
        user=manager, content=DHIS2_DOCUMENT.replace(b"2025Q4", b"2025Q3"),
        filename="done.json", status="submitted", language="en", values=1)
    dhis2_importing.dhis2_upload_import(upload_id=dhis2_done.pk, user=manager, reassess=RULES)
    dhis2_pending = dhis2_importing.dhis2_upload_keep(
        user=manager, content=DHIS2_DOCUMENT, filename="pending.json", status="submitted",
        language="en", values=1)
    reset_user = people["staff2"]  # whose password-reset link is followed
    # The investment register: a project of the commune and one of its sibling.
    for code, unit in (("BX-REG-1", small_plan["LC-BATXAT"]), ("MH-REG-1", sibling)):
        Project.objects.create(
            code=code, name=f"Dự án {code}", investor="Công ty", investor_country="VN",
            sector="trade", unit=unit, registered_capital=10**9, stage="proposed",
            stage_date=date(2026, 1, 1),
        )
    project = Project.objects.get(code="BX-REG-1")
    register_upload = register_import_preview(
        user=staff, kind="reports", filename="r.csv", content=REGISTER_REPORT).upload
    return SimpleNamespace(
        users=users,
        api_token=token_create(user=staff, name="staff's script").token,
        report=submitted_report(staff, project, "2026-Q1"),
        own_report=submitted_report(manager, project, "2026-Q2"),  # the commune manager's own
        register_upload=register_upload,
        entry=submitted_entry(staff, "BX-IP", "2026-Q3", "1"),
        own=submitted_entry(manager, "BX-IP", "2026-Q2", "1"),  # the commune manager's own
        evidence=evidence,
        done_job=done_job,
        pending_job=pending_job,
        dhis2_done=dhis2_done,
        dhis2_pending=dhis2_pending,
        alert=AlertRecipient.objects.filter(user=manager).order_by("pk").first(),
        explanation=explanation,
        digest=Digest.objects.filter(user=manager).order_by("pk").first(),
        queued_resets=queued_resets,
        reset_uid=urlsafe_base64_encode(force_bytes(reset_user.pk)),
        reset_token=default_token_generator.make_token(reset_user),
    )


def submitted_report(author, project: Project, period: str):
    """A report of the project written and submitted through the register's workflow."""
    draft = register_workflow.project_report_save_draft(
        user=author, project_id=project.pk, period=period, stage="policy_approved",
        stage_date=date(2026, 1, 15), registered_capital=10**9, disbursed_capital=0,
        jobs_filled=0,
    )
    return register_workflow.project_report_submit(user=author, report_id=draft.pk)


# --- expected answers --------------------------------------------------------------------------

SIGN_IN = "sign in"  # a redirect to the sign-in page, with ``next`` = the requested URL
ADMIN_SIGN_IN = "admin sign in"


@dataclass(frozen=True)
class Answer:
    status: int
    # Where a redirect goes: SIGN_IN, ADMIN_SIGN_IN, a URL name, or a builder of the URL.
    to: str | Callable[[SimpleNamespace], str] | None = None
    writes: bool = False  # a POST answered so changes the case's state; any other answer must not


def go(to: str | Callable[[SimpleNamespace], str], *, writes: bool = False) -> Answer:
    return Answer(302, to, writes)


OK = Answer(200)
DONE = Answer(200, writes=True)
LOGIN = Answer(302, SIGN_IN)
E403 = Answer(403)
E404 = Answer(404)
E405 = Answer(405)


def job_page(job: Callable[[SimpleNamespace], ImportJob]) -> Callable[[SimpleNamespace], str]:
    return lambda w: f"{reverse('targets:import')}?job={job(w).pk}"


REVIEWED = go("targets:review", writes=True)
OWN_REPORT_REFUSED = go(lambda w: reverse("register:review-report", args=[w.own_report.pk]))
REPORT_SAVED = go(lambda w: reverse("register:project", args=["BX-REG-1"])
                  + "?period=2026-Q3#report", writes=True)
OWN_ENTRY_REFUSED = go(lambda w: reverse("targets:review-entry", args=[w.own.pk]))
TO_ALERTS = go("targets:alerts")
REMIND_QUERY = "start=2025-10-01&end=2025-12-31"


def completeness_page(w) -> str:
    return reverse("targets:completeness") + "?" + REMIND_QUERY


REMINDED = go(completeness_page, writes=True)
DRAFT_SAVED = go(lambda w: reverse("targets:report", args=["BX-IP"]) + "?period=2026-Q4",
                 writes=True)


# --- what a POST may change --------------------------------------------------------------------


def entry_state(entry: str) -> Callable:
    def read(w, client):
        return ProgressEntry.objects.filter(pk=getattr(w, entry).pk).values_list(
            "status", "version", "value").get()
    return read


def report_state(report: str) -> Callable:
    def read(w, client):
        return ProjectReport.objects.filter(pk=getattr(w, report).pk).values_list(
            "status", "version").get()
    return read


def reports_of_bx_reg(w, client):
    return sorted(ProjectReport.objects.filter(project__code="BX-REG-1").values_list(
        "period", "status", "version", "stage"))


def entries_of_bx_ip(w, client):
    return sorted(ProgressEntry.objects.filter(target__code="BX-IP").values_list(
        "period", "status", "version", "value"))


def import_jobs_state(w, client):
    return sorted(ImportJob.objects.values_list("pk", "state"))


def dhis2_uploads_state(w, client):
    return sorted(Dhis2Upload.objects.values_list("pk", "state"))


def register_uploads(w, client):
    return sorted(RegisterUpload.objects.values_list("pk", "user__username"))


def project_reports(w, client):
    return sorted(ProjectReport.objects.values_list("project__code", "period", "status"))


def managers_alerts(w, client):
    return sorted(AlertRecipient.objects.filter(user=w.users["unit manager"]).values_list(
        "pk", "read_at", "acknowledged_at"))


def explanations_state(w, client):
    return sorted(ExplanationRequest.objects.values_list("pk", "target__code", "state",
                                                         "version"))


def explanation_answered(client: Client, w) -> None:
    """The commune's staff member answered BX-IP's request (with evidence) before the case."""
    w.answer = explanations.explanation_answer(
        user=w.users["staff"], request_id=w.explanation.pk, text="The land is not cleared.",
        evidence_file=SimpleUploadedFile("plan.pdf", PDF, content_type="application/pdf"),
    )


def on_target(target: str) -> Callable[[SimpleNamespace], str]:
    return lambda w: reverse("targets:target", args=[target]) + "#explanations"


def reminders_state(w, client):
    return sorted(ReportingReminder.objects.values_list("unit__code", "period"))


def digest_state(w, client):
    return Digest.objects.filter(pk=w.digest.pk).values_list("state", flat=True).get()


def passwords(w, client):
    return sorted(get_user_model().objects.values_list("pk", "password"))


def signed_in_as(w, client):
    return client.session.get("_auth_user_id")


def language_cookie(w, client):
    cookie = client.cookies.get(settings.LANGUAGE_COOKIE_NAME)
    return cookie.value if cookie else None


def api_tokens_state(w, client):
    return sorted(ApiToken.objects.values_list("pk", "user_id", "revoked_at"))


def resets_queued(w, client):
    return len(w.queued_resets)


def public_plans(w, client):
    return sorted(Plan.objects.filter(public=True).values_list("code", flat=True))


def publish_sibling(client: Client, w) -> None:
    """The administrator published the sibling commune's plan before the case."""
    plans_set_public(plan_ids=[Plan.objects.get(code="MH-2025-2030").pk], public=True,
                     user=w.users["superuser"])


# --- the matrix --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str  # the URL's name, with its namespace
    answers: tuple[Answer, ...]  # one per persona, in PERSONAS order
    kwargs: Callable[[SimpleNamespace], dict] = lambda w: {}
    method: str = "get"
    query: str = ""
    data: Callable[[SimpleNamespace, object], dict] = lambda w, user: {}
    effect: Callable | None = None  # reads the state a POST may change
    before: Callable[[Client, SimpleNamespace], None] | None = None  # a browser's earlier step
    label: str = ""

    def __str__(self) -> str:
        label = f" {self.label}" if self.label else ""
        return f"{self.method.upper()} {self.name}{self.query}{label}"


def code(target: str) -> Callable[[SimpleNamespace], dict]:
    return lambda w: {"code": target}


def pk(obj: str) -> Callable[[SimpleNamespace], dict]:
    return lambda w: {"pk": getattr(w, obj).pk}


def reset_link(token: str | None = None) -> Callable[[SimpleNamespace], dict]:
    return lambda w: {"uidb64": w.reset_uid, "token": token or w.reset_token}


def follow_reset_link(client: Client, w) -> None:
    """The link from the mail puts its token in the session and redirects to set-password."""
    client.get(reverse("password_reset_confirm", kwargs=reset_link()(w)))


def admin_changelist(model: str) -> str:
    return f"admin:targets_{model}_changelist"


SET_PASSWORD = go(lambda w: reverse("password_reset_confirm",
                                    kwargs=reset_link("set-password")(w)))

# The answers of each row, in PERSONAS order: anonymous, staff, sibling staff, unit manager,
# parent's manager, sibling's manager, superuser.
CASES = [
    # The status table and its exports (the rows themselves: test_exports_hold_only_the_rows…).
    Case("targets:status", (LOGIN, OK, OK, OK, OK, OK, OK)),
    Case("targets:status", (LOGIN, OK, OK, OK, OK, OK, OK), query="?_export=csv"),
    Case("targets:status", (LOGIN, OK, OK, OK, OK, OK, OK), query="?_export=xlsx"),
    # A target of the commune; a code that does not exist answers like one out of scope.
    # The investment register and its exports: each member sees the projects of their units.
    # The public pages (issue 15): a published plan and its own targets for everyone, signed
    # in or not; the commune's plan (not published), its targets, and a target under another
    # plan's address answer 404 to everyone.
    Case("public:index", (OK,) * 7, kwargs=lambda w: {"language": "vi"}),
    Case("public:index", (OK,) * 7, kwargs=lambda w: {"language": "en"}, before=publish_sibling,
         label="a plan published"),
    Case("public:plan", (E404,) * 7, kwargs=lambda w: {"language": "vi", "plan": "BX-2025-2030"}),
    Case("public:plan", (OK,) * 7, kwargs=lambda w: {"language": "en", "plan": "MH-2025-2030"},
         before=publish_sibling, label="published"),
    Case("public:target", (E404,) * 7,
         kwargs=lambda w: {"language": "vi", "plan": "BX-2025-2030", "code": "BX-IP"}),
    Case("public:target", (OK,) * 7,
         kwargs=lambda w: {"language": "vi", "plan": "MH-2025-2030", "code": "MH-ROAD"},
         before=publish_sibling, label="published"),
    Case("public:target", (E404,) * 7,
         kwargs=lambda w: {"language": "vi", "plan": "MH-2025-2030", "code": "BX-IP"},
         before=publish_sibling, label="another plan's target under a published one"),
    Case("register:projects", (LOGIN, OK, OK, OK, OK, OK, OK)),
    Case("register:projects", (LOGIN, OK, OK, OK, OK, OK, OK), query="?_export=csv"),
    Case("register:projects", (LOGIN, OK, OK, OK, OK, OK, OK), query="?_export=xlsx"),
    Case("register:pipeline", (LOGIN, OK, OK, OK, OK, OK, OK)),
    # A project's page for its unit's members and the managers above; its report form for the
    # unit's staff and the managers of it or above.
    Case("register:project", (LOGIN, OK, E404, OK, OK, E404, OK), code("BX-REG-1")),
    Case("register:project", (LOGIN, E404, E404, E404, E404, E404, E404), code("NO-SUCH"),
         label="unknown code"),
    Case("register:project", (LOGIN, REPORT_SAVED, E404, REPORT_SAVED, REPORT_SAVED, E404,
                              REPORT_SAVED),
         code("BX-REG-1"), method="post", effect=reports_of_bx_reg, label="save a draft",
         data=lambda w, user: {"period": "2026-Q3", "stage": "certificate_issued",
                               "stage_date": "2026-08-01", "registered_capital": "1000000000",
                               "disbursed_capital": "0", "jobs_filled": "0",
                               "action": "draft", "version": "0",
                               "opened_period": "2026-Q3"}),
    # Project reports are reviewed as entries are: managers only, their subtree only.
    Case("register:review-report", (LOGIN, E403, E403, OK, OK, E404, OK), pk("report")),
    Case("register:approve-report", (LOGIN, E405, E405, E405, E405, E405, E405), pk("report")),
    Case("register:approve-report", (LOGIN, E403, E403, REVIEWED, REVIEWED, E404, REVIEWED),
         pk("report"), method="post", effect=report_state("report"),
         data=lambda w, user: {"version": w.report.version}),
    Case("register:approve-report",
         (LOGIN, E403, E403, OWN_REPORT_REFUSED, REVIEWED, E404, REVIEWED),
         pk("own_report"), method="post", effect=report_state("own_report"),
         label="the manager's own report",
         data=lambda w, user: {"version": w.own_report.version}),
    Case("register:return-report", (LOGIN, E405, E405, E405, E405, E405, E405), pk("report")),
    Case("register:return-report", (LOGIN, E403, E403, REVIEWED, REVIEWED, E404, REVIEWED),
         pk("report"), method="post", effect=report_state("report"),
         data=lambda w, user: {"comment": "Attach the certificate",
                               "version": w.report.version}),
    Case("register:return-report", (LOGIN, E403, E403, OK, REVIEWED, E404, REVIEWED),
         pk("own_report"), method="post", effect=report_state("own_report"),
         label="the manager's own report",
         data=lambda w, user: {"comment": "Attach the certificate",
                               "version": w.own_report.version}),
    Case("register:review-reports", (LOGIN, E405, E405, E405, E405, E405, E405)),
    Case("register:review-reports",
         (LOGIN, E403, E403, REVIEWED, REVIEWED, go("targets:review"), REVIEWED),
         method="post", effect=report_state("report"), label="approve ticked",
         data=lambda w, user: {"entries": [w.report.pk], "action": "approve",
                               f"version-{w.report.pk}": w.report.version}),
    Case("targets:target", (LOGIN, OK, E404, OK, OK, E404, OK), code("BX-IP")),
    Case("targets:target", (LOGIN, E404, E404, E404, E404, E404, E404), code("NO-SUCH"),
         label="unknown code"),
    Case("targets:report", (LOGIN, OK, E404, OK, OK, E404, OK), code("BX-IP")),
    Case("targets:report", (LOGIN, DRAFT_SAVED, E404, DRAFT_SAVED, DRAFT_SAVED, E404,
                            DRAFT_SAVED),
         code("BX-IP"), method="post", effect=entries_of_bx_ip, label="save a draft",
         data=lambda w, user: {"period": "2026-Q4", "value": "1", "action": "draft",
                               "version": "0", "opened_period": "2026-Q4"}),
    Case("targets:enter", (LOGIN, OK, OK, OK, OK, OK, OK)),
    Case("targets:evidence", (LOGIN, OK, E404, OK, OK, E404, OK), pk("evidence")),
    Case("targets:evidence_shown", (LOGIN, OK, E404, OK, OK, E404, OK), pk("evidence")),
    # The review screens are for managers (403 for other roles); an entry out of scope is 404.
    Case("targets:review", (LOGIN, E403, E403, OK, OK, OK, OK)),
    Case("targets:review", (LOGIN, E403, E403, REVIEWED, REVIEWED, OK, REVIEWED),
         method="post", effect=entry_state("entry"), label="approve ticked",
         data=lambda w, user: {"entries": [w.entry.pk], "action": "approve",
                               f"version-{w.entry.pk}": w.entry.version}),
    Case("targets:review-entry", (LOGIN, E403, E403, OK, OK, E404, OK), pk("entry")),
    Case("targets:approve", (LOGIN, E405, E405, E405, E405, E405, E405), pk("entry")),
    Case("targets:approve", (LOGIN, E403, E403, REVIEWED, REVIEWED, E404, REVIEWED),
         pk("entry"), method="post", effect=entry_state("entry"),
         data=lambda w, user: {"version": w.entry.version}),
    Case("targets:approve", (LOGIN, E403, E403, OWN_ENTRY_REFUSED, REVIEWED, E404, REVIEWED),
         pk("own"), method="post", effect=entry_state("own"), label="the manager's own entry",
         data=lambda w, user: {"version": w.own.version}),
    Case("targets:return", (LOGIN, E405, E405, E405, E405, E405, E405), pk("entry")),
    Case("targets:return", (LOGIN, E403, E403, REVIEWED, REVIEWED, E404, REVIEWED),
         pk("entry"), method="post", effect=entry_state("entry"),
         data=lambda w, user: {"comment": "Attach the decision", "version": w.entry.version}),
    Case("targets:return", (LOGIN, E403, E403, OK, REVIEWED, E404, REVIEWED),
         pk("own"), method="post", effect=entry_state("own"), label="the manager's own entry",
         data=lambda w, user: {"comment": "Attach the decision", "version": w.own.version}),
    # Who has not reported: for managers (403 for other roles), each sees their own subtree;
    # a reminder of a unit outside it is ignored (the sibling's manager reminds nobody).
    Case("targets:completeness", (LOGIN, E403, E403, OK, OK, OK, OK)),
    Case("targets:completeness", (LOGIN, E403, E403, OK, OK, OK, OK), query="?_export=csv"),
    Case("targets:completeness", (LOGIN, E403, E403, OK, OK, OK, OK), query="?_export=xlsx"),
    Case("targets:completeness-remind", (LOGIN, E405, E405, E405, E405, E405, E405)),
    Case("targets:completeness-remind",
         (LOGIN, E403, E403, REMINDED, REMINDED, go(completeness_page), REMINDED),
         method="post", effect=reminders_state, label="BX-IP's 2025-Q4",
         data=lambda w, user: {"cell": f"{Unit.objects.get(code='LC-BATXAT').pk}:2025-Q4",
                               "query": REMIND_QUERY}),
    # Explanation requests: managers with scope ask (a lagging BX-OCC) and decide (BX-IP's
    # request, answered by the commune's staff member: its author may not decide, and is not a
    # manager anyway); the commune's own members answer; outside the scope, 404.
    Case("targets:explanation-ask", (LOGIN, E405, E405, E405, E405, E405, E405),
         code("BX-OCC")),
    Case("targets:explanation-ask",
         (LOGIN, E403, E404, *[go(on_target("BX-OCC"), writes=True)] * 2, E404,
          go(on_target("BX-OCC"), writes=True)),
         code("BX-OCC"), method="post", effect=explanations_state,
         data=lambda w, user: {"ask-question": "Why 22 %?", "ask-due_date": SOON.isoformat()}),
    Case("targets:explanation-answer", (LOGIN, E405, E405, E405, E405, E405, E405),
         pk("explanation")),
    Case("targets:explanation-answer",
         (LOGIN, go(on_target("BX-IP"), writes=True), E404, go(on_target("BX-IP"), writes=True),
          E403, E404, E403),
         pk("explanation"), method="post", effect=explanations_state,
         data=lambda w, user: {"answer-text": "The land is not cleared.",
                               "answer-version": w.explanation.version}),
    Case("targets:explanation-accept", (LOGIN, E405, E405, E405, E405, E405, E405),
         pk("explanation")),
    Case("targets:explanation-accept",
         (LOGIN, E403, E404, *[go(on_target("BX-IP"), writes=True)] * 2, E404,
          go(on_target("BX-IP"), writes=True)),
         pk("explanation"), method="post", effect=explanations_state,
         before=explanation_answered,
         data=lambda w, user: {"accept-version": w.explanation.version + 1}),
    Case("targets:explanation-ask-again", (LOGIN, E405, E405, E405, E405, E405, E405),
         pk("explanation")),
    Case("targets:explanation-ask-again",
         (LOGIN, E403, E404, *[go(on_target("BX-IP"), writes=True)] * 2, E404,
          go(on_target("BX-IP"), writes=True)),
         pk("explanation"), method="post", effect=explanations_state,
         before=explanation_answered,
         data=lambda w, user: {"again-question": "When will it be cleared?",
                               "again-due_date": SOON.isoformat(),
                               "again-version": w.explanation.version + 1}),
    Case("targets:explanation-evidence", (LOGIN, OK, E404, OK, OK, E404, OK), pk("answer"),
         before=explanation_answered),
    # Imports: everyone signed in may open the screen; a preview keeps only rows in scope
    # (outside it the target reads as unknown and nothing waits); only the uploader confirms.
    Case("targets:import", (LOGIN, OK, OK, OK, OK, OK, OK)),
    Case("targets:import", (LOGIN, OK, E404, E404, E404, E404, E404),
         query="?job={done_job}", label="the staff member's import"),
    Case("targets:import", (LOGIN, DONE, OK, DONE, DONE, OK, DONE), method="post",
         effect=import_jobs_state, label="upload",
         data=lambda w, user: {"status": "submitted", "file": SimpleUploadedFile(
             "entries.csv", b"target,period,value\nBX-IP,2026-Q4,1\n")}),
    # The template lists the user's own targets only (an outsider gets the header alone).
    Case("targets:import-template", (LOGIN, OK, OK, OK, OK, OK, OK),
         kwargs=lambda w: {"fmt": "csv"}),
    Case("targets:import-template", (LOGIN, OK, OK, OK, OK, OK, OK),
         kwargs=lambda w: {"fmt": "xlsx"}),
    Case("targets:import-template", (LOGIN, E404, E404, E404, E404, E404, E404),
         kwargs=lambda w: {"fmt": "pdf"}, label="another format"),
    Case("targets:import-confirm", (LOGIN, E405, E405, E405, E405, E405, E405)),
    Case("targets:import-confirm",
         (LOGIN, go(job_page(lambda w: w.pending_job), writes=True), *[go("targets:import")] * 5),
         method="post", effect=entries_of_bx_ip, label="the staff member's preview",
         data=lambda w, user: {"token": w.pending_job.pk}),
    # The DHIS2 exchange: for managers (403 for other roles). A dry run keeps a document that
    # would change something (outside the scope BX-IP reads as unknown: nothing waits); only
    # the uploader confirms it or reads its result.
    Case("dhis2:exchange", (LOGIN, E403, E403, OK, OK, OK, OK)),
    Case("dhis2:exchange", (LOGIN, E403, E403, DONE, DONE, OK, DONE), method="post",
         effect=dhis2_uploads_state, label="dry run",
         data=lambda w, user: {"status": "submitted", "file": SimpleUploadedFile(
             "dv.json", DHIS2_DOCUMENT)}),
    Case("dhis2:export", (LOGIN, E403, E403, OK, OK, OK, OK), query="?plan=BX-2025-2030"),
    Case("dhis2:import-confirm", (LOGIN, E405, E405, E405, E405, E405, E405)),
    Case("dhis2:import-confirm",
         (LOGIN, E403, E403, go(lambda w: reverse("dhis2:import-result",
                                                   args=[w.dhis2_pending.pk]), writes=True),
          *[go("dhis2:exchange")] * 3),
         method="post", effect=entries_of_bx_ip, label="the manager's dry run",
         data=lambda w, user: {"token": w.dhis2_pending.pk}),
    Case("dhis2:import-result", (LOGIN, E403, E403, OK, E404, E404, E404), pk("dhis2_done")),
    # The register's import: everyone signed in may open it; a preview waits only when every
    # row is in the uploader's scope; only the uploader confirms it.
    Case("register:import", (LOGIN, OK, OK, OK, OK, OK, OK)),
    Case("register:import", (LOGIN, DONE, OK, DONE, DONE, OK, DONE), method="post",
         effect=register_uploads, label="upload",
         data=lambda w, user: {"kind": "reports", "file": SimpleUploadedFile(
             "reports.csv", REGISTER_REPORT)}),
    Case("register:import-template", (LOGIN, OK, OK, OK, OK, OK, OK),
         kwargs=lambda w: {"kind": "reports", "fmt": "csv"}),
    Case("register:import-template", (LOGIN, OK, OK, OK, OK, OK, OK),
         kwargs=lambda w: {"kind": "projects", "fmt": "xlsx"}),
    Case("register:import-template", (LOGIN, E404, E404, E404, E404, E404, E404),
         kwargs=lambda w: {"kind": "entries", "fmt": "csv"}, label="another kind"),
    Case("register:import-confirm", (LOGIN, E405, E405, E405, E405, E405, E405)),
    Case("register:import-confirm",
         (LOGIN, go("register:import", writes=True), *[go("register:import")] * 5),
         method="post", effect=project_reports, label="the staff member's preview",
         data=lambda w, user: {"token": w.register_upload.pk}),
    # The periodic report: the screen for every member (each chooses among their own units);
    # a unit's report for its managers, the managers above and its own staff, not for its staff
    # a unit below their own (403); outside the scope, 404.
    Case("targets:periodic-report", (LOGIN, OK, OK, OK, OK, OK, OK)),
    Case("targets:periodic-report", (LOGIN, OK, E404, OK, OK, E404, OK),
         query="?unit=LC-BATXAT&period=2026-Q3&format=xlsx&place=B%C3%A1t+X%C3%A1t"
               "&issued_on=2026-01-05", label="the commune's report"),
    Case("targets:periodic-report", (LOGIN, E403, E404, OK, OK, E404, OK),
         query="?unit=LC-BATXAT-IND&period=2026-Q3&format=xlsx&place=B%C3%A1t+X%C3%A1t"
               "&issued_on=2026-01-05", label="its department's report"),
    # A plan's IATI results: for the managers of its targets (403 for staff who see it); a plan
    # with no target in the persona's scope, or none at all, is 404.
    Case("iati:plan", (LOGIN, E403, E404, OK, OK, E404, OK), code("BX-2025-2030")),
    Case("iati:plan", (LOGIN, E404, E404, E404, E404, E404, E404), code("NO-SUCH"),
         label="unknown plan"),
    # Alerts: one's own only; another user's alert reads as no alert.
    Case("targets:alerts", (LOGIN, OK, OK, OK, OK, OK, OK)),
    Case("targets:alerts-read-all", (LOGIN, E405, E405, E405, E405, E405, E405)),
    Case("targets:alerts-read-all",
         (LOGIN, TO_ALERTS, TO_ALERTS, go("targets:alerts", writes=True), TO_ALERTS, TO_ALERTS,
          TO_ALERTS), method="post", effect=managers_alerts),
    Case("targets:alert-read", (LOGIN, E405, E405, E405, E405, E405, E405), pk("alert")),
    Case("targets:alert-read", (LOGIN, E404, E404, go("targets:alerts", writes=True), E404, E404,
                                E404),
         pk("alert"), method="post", effect=managers_alerts, label="the manager's alert"),
    Case("targets:alert-acknowledge", (LOGIN, E405, E405, E405, E405, E405, E405), pk("alert")),
    Case("targets:alert-acknowledge", (LOGIN, E404, E404, go("targets:alerts", writes=True), E404,
                                       E404, E404),
         pk("alert"), method="post", effect=managers_alerts, label="the manager's alert"),
    # Signing in and out, language, passwords (Django's views).
    Case("login", (OK, OK, OK, OK, OK, OK, OK)),
    Case("login", (go("/", writes=True),) * 7, method="post", effect=signed_in_as,
         label="as bx.staff2", data=lambda w, user: {"username": "bx.staff2",
                                                     "password": "pw-bx.staff2"}),
    Case("logout", (E405,) * 7),
    Case("logout", (go("login"), *[go("login", writes=True)] * 6), method="post",
         effect=signed_in_as),
    Case("set_language", (go("/"),) * 7),
    Case("set_language", (go("/", writes=True),) * 7, method="post", effect=language_cookie,
         data=lambda w, user: {"language": "en", "next": "/"}),
    Case("password_change", (LOGIN, OK, OK, OK, OK, OK, OK)),
    Case("password_change", (LOGIN, *[go("password_change_done", writes=True)] * 6),
         method="post", effect=passwords,
         data=lambda w, user: {"old_password": f"pw-{getattr(user, 'username', '')}",
                               "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}),
    Case("password_change_done", (LOGIN, OK, OK, OK, OK, OK, OK)),
    Case("password_reset", (OK,) * 7),
    Case("password_reset", (go("password_reset_done", writes=True),) * 7, method="post",
         effect=resets_queued, data=lambda w, user: {"email": "bx.staff2@example.org"}),
    Case("password_reset_done", (OK,) * 7),
    Case("password_reset_confirm", (SET_PASSWORD,) * 7, reset_link(), label="the mailed link"),
    Case("password_reset_confirm", (OK,) * 7, reset_link("set-password"),
         before=follow_reset_link, label="set-password form"),
    Case("password_reset_confirm", (go("password_reset_complete", writes=True),) * 7,
         reset_link("set-password"), method="post", before=follow_reset_link, effect=passwords,
         label="set a new password",
         data=lambda w, user: {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}),
    Case("password_reset_complete", (OK,) * 7),
    # API tokens: each signed-in person makes and revokes his own (the admin: anyone's).
    Case("api-tokens", (LOGIN, OK, OK, OK, OK, OK, OK)),
    Case("api-tokens", (LOGIN, DONE, DONE, DONE, DONE, DONE, DONE), method="post",
         effect=api_tokens_state, label="make a token",
         data=lambda w, user: {"name": "reporting system", "days": "30"}),
    Case("api-token-revoke", (LOGIN, go("api-tokens", writes=True), E404, E404, E404, E404,
                              E404),
         pk("api_token"), method="post", effect=api_tokens_state, label="the staff's token"),
    # The admin's POST actions (its pages: test_the_admin_*).
    Case(admin_changelist("progressentry"),
         (*[Answer(302, ADMIN_SIGN_IN)] * 6, go(admin_changelist("progressentry"), writes=True)),
         method="post", effect=entry_state("entry"), label="action approve_selected",
         data=lambda w, user: {"action": "approve_selected", "_selected_action": [w.entry.pk]}),
    Case(admin_changelist("plan"),
         (*[Answer(302, ADMIN_SIGN_IN)] * 6, go(admin_changelist("plan"), writes=True)),
         method="post", effect=public_plans, label="action publish",
         data=lambda w, user: {"action": "publish",
                               "_selected_action": [Plan.objects.get(code="BX-2025-2030").pk]}),
    Case(admin_changelist("digest"),
         (*[Answer(302, ADMIN_SIGN_IN)] * 6, go(admin_changelist("digest"), writes=True)),
         method="post", effect=digest_state, label="action resend_failed",
         data=lambda w, user: {"action": "resend_failed", "_selected_action": [w.digest.pk]}),
]
# Named patterns checked as a group rather than row by row, and where.
GROUPS = {
    # Every admin URL is refused to all but superusers (test_the_admin_is_refused_…), and the
    # superuser walks the index, every app and every registered model (…_walks_the_admin).
    "admin:",
    # The REST API takes tokens, not the site's sessions (test_the_api_takes_tokens_…); who
    # may read and do what with a token: tests/test_api.py.
    "api:",
}


def _answers(case: Case) -> tuple[Answer, ...]:
    assert len(case.answers) == len(PERSONAS), f"{case}: one answer per persona"
    return case.answers


# --- walking the resolver ----------------------------------------------------------------------


def named_patterns(patterns=None, namespace: str = "") -> dict[str, URLPattern]:
    """Every named URL pattern of the site, by its namespaced name."""
    found: dict[str, URLPattern] = {}
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            found.update(named_patterns(pattern.url_patterns, inner))
        elif pattern.name:
            found.setdefault(f"{namespace}:{pattern.name}" if namespace else pattern.name, pattern)
    return found


def test_every_named_url_is_in_the_matrix():
    covered = {case.name for case in CASES}
    missing = [
        name for name in named_patterns()
        if name not in covered and not name.startswith(tuple(GROUPS))
    ]
    assert not missing, f"named URLs missing from the access matrix: {sorted(missing)}"


# --- the persona's browser ---------------------------------------------------------------------

CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def browser(user) -> tuple[Client, str]:
    """A client that checks CSRF as production does, signed in, with a token read from a form."""
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    page = client.get(reverse("login"))
    return client, CSRF_FIELD.search(page.content.decode()).group(1)


def url_of(case: Case, w) -> str:
    return reverse(case.name, kwargs=case.kwargs(w)) + case.query.format(
        done_job=w.done_job.pk)


def location_of(answer: Answer, requested: str, w) -> str | None:
    if answer.to is None:
        return None
    if answer.to == SIGN_IN:
        return redirect_to_login(requested).url
    if answer.to == ADMIN_SIGN_IN:
        return redirect_to_login(requested, reverse("admin:login")).url
    if callable(answer.to):
        return answer.to(w)
    return answer.to if answer.to.startswith("/") else reverse(answer.to)


def send(client: Client, case: Case, w, user, token: str | None) -> tuple[str, object]:
    url = url_of(case, w)
    if case.method == "get":
        return url, client.get(url)
    data = case.data(w, user)
    if token is not None:
        data["csrfmiddlewaretoken"] = token
    return url, client.post(url, data)


def check(case: Case, persona: str, w, client: Client, token: str | None,
          expected: Answer) -> list[str]:
    """Send the case as the persona, then undo what it did (the savepoint, the cookies, the
    cache), so that every case starts from the same world: what did not match."""
    user = w.users.get(persona)
    cookies = copy.deepcopy(client.cookies)
    problems = []
    with transaction.atomic():
        if case.before:
            case.before(client, w)
        state = case.effect(w, client) if case.effect else None
        url, response = send(client, case, w, user, token)
        got = (response.status_code, response.get("Location"))
        want = (expected.status, location_of(expected, url, w))
        if got != want:
            problems.append(f"{persona:18} {case}: got {got}, expected {want}")
        if case.effect:
            changed = case.effect(w, client) != state
            if changed != expected.writes:
                problems.append(f"{persona:18} {case}: state "
                                f"{'changed' if changed else 'unchanged'}, expected "
                                f"{'a change' if expected.writes else 'none'}")
        if (persona in OUTSIDERS and case.method == "get" and response.status_code == 200
                and not response.streaming):
            leaked = [s.decode() for s in UNIT_SECRETS if s in response.content]
            if leaked:
                problems.append(f"{persona:18} {case}: shows {leaked}")
        transaction.set_rollback(True)
    client.cookies = cookies  # signed in again as before, whatever the case did to the session
    cache.clear()  # the test's own cache (conftest): reset-request counts start again
    return problems


def test_each_persona_gets_the_answer_of_the_matrix(world):
    problems = []
    for persona in PERSONAS:
        client, token = browser(world.users.get(persona))
        for case in CASES:
            expected = _answers(case)[PERSONAS.index(persona)]
            problems += check(case, persona, world, client, token, expected)
    assert not problems, "\n".join(["mismatches with the access matrix:", *problems])


def test_a_post_without_the_csrf_token_is_refused_and_writes_nothing(world):
    """One forged POST per action, by a persona the matrix lets do it: 403, nothing changed."""
    problems = []
    for case in (c for c in CASES if c.method == "post"):
        answers = _answers(case)
        persona = next(p for p, a in zip(PERSONAS, answers, strict=True) if a.writes)
        client, _token = browser(world.users.get(persona))
        problems += check(case, persona, world, client, None, E403)
    assert not problems, "\n".join(["forged POSTs that were not refused:", *problems])


# --- the exports hold only the rows in scope ---------------------------------------------------

VISIBLE_CODES = {
    "staff": {"BX-IP", "BX-OCC"},
    "sibling staff": {"MH-ROAD"},
    "unit manager": {"BX-IP", "BX-OCC"},
    "parent's manager": {"BX-IP", "BX-OCC", "MH-ROAD"},
    "sibling's manager": {"MH-ROAD"},
    "superuser": {"BX-IP", "BX-OCC", "MH-ROAD"},
}


def exported_codes(response, export: str) -> set[str]:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if export == "csv":
        rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(content)).active
        rows = [[str(cell) for cell in row] for row in sheet.iter_rows(values_only=True)]
    return {row[0] for row in rows[1:]}  # the first column is the target's code


def test_exports_hold_only_the_rows_in_scope(world):
    got = {}
    for persona in VISIBLE_CODES:
        client, _token = browser(world.users[persona])
        for export in ("csv", "xlsx"):
            response = client.get(reverse("targets:status") + f"?_export={export}")
            assert response.status_code == 200
            got[persona, export] = exported_codes(response, export)
    assert got == {(p, e): codes for p, codes in VISIBLE_CODES.items() for e in ("csv", "xlsx")}


REGISTER_CODES = {
    "staff": {"BX-REG-1"},
    "sibling staff": {"MH-REG-1"},
    "unit manager": {"BX-REG-1"},
    "parent's manager": {"BX-REG-1", "MH-REG-1"},
    "sibling's manager": {"MH-REG-1"},
    "superuser": {"BX-REG-1", "MH-REG-1"},
}


def test_the_register_exports_hold_only_the_projects_in_scope(world):
    got = {}
    for persona in REGISTER_CODES:
        client, _token = browser(world.users[persona])
        for export in ("csv", "xlsx"):
            response = client.get(reverse("register:projects") + f"?_export={export}")
            assert response.status_code == 200
            got[persona, export] = exported_codes(response, export)
    assert got == {(p, e): codes for p, codes in REGISTER_CODES.items() for e in ("csv", "xlsx")}


# --- the REST API ------------------------------------------------------------------------------

API_OPEN = {"api:schema", "api:docs"}  # the description of the API is public


def test_the_api_takes_tokens_not_sessions(world, settings):
    """Every API URL answers a browser's session — signed in or not — with 401 and a problem
    detail (a session is no API credential: no cross-site request can use it); the schema and
    its documentation are open to all."""
    # Every persona's browser shares one address: the anonymous limit is not the point here.
    settings.API_THROTTLE_RATES = {"token": "10000/minute", "anonymous": "10000/minute"}
    problems = []
    for persona in PERSONAS:
        client, _token = browser(world.users.get(persona))
        for name, pattern in named_patterns().items():
            if not name.startswith("api:"):
                continue
            arguments = {a: "BX-IP" if a == "code" else "1"
                         for a in pattern.pattern.regex.groupindex}
            url = reverse(name, kwargs=arguments)
            for method in ("get", "post"):
                response = getattr(client, method)(url)
                want = (200 if method == "get" else 405) if name in API_OPEN else 401
                if response.status_code != want or (
                    want == 401 and response["Content-Type"] != "application/problem+json"
                ):
                    problems.append(f"{persona:18} {method.upper()} {url}: "
                                    f"{response.status_code}, expected {want}")
    assert not problems, "\n".join(["API URLs open to a session:", *problems])


# --- the admin ---------------------------------------------------------------------------------

PLACEHOLDERS = {"app_label": "targets"}  # any other argument: "1"


def admin_urls() -> dict[str, str]:
    """Every admin URL, with placeholder arguments: refused before any object is looked up."""
    urls = {}
    for name, pattern in named_patterns().items():
        if name.startswith("admin:"):
            regex = pattern.pattern.regex
            if regex.groupindex:
                urls[name] = reverse(name, kwargs={a: PLACEHOLDERS.get(a, "1")
                                                   for a in regex.groupindex})
            else:
                urls[name] = reverse(name, args=["1"] * regex.groups)
    return urls


def test_the_admin_is_refused_to_everyone_but_superusers(world):
    problems = []
    for persona in PERSONAS[:-1]:
        user = world.users.get(persona)
        assert user is None or not user.is_staff  # none of them is admin staff
        client, _token = browser(user)
        for name, url in admin_urls().items():
            response = client.get(url)
            if name == "admin:login":  # the admin's sign-in form is open to all
                want = (200, None)
            elif name == "admin:logout":  # nobody to sign out of the admin: back to its index
                want = (302, reverse("admin:index"))
            else:
                want = (302, redirect_to_login(url, reverse("admin:login")).url)
            got = (response.status_code, response.get("Location"))
            if got != want:
                problems.append(f"{persona:18} {name} {url}: got {got}, expected {want}")
    assert not problems, "\n".join(["admin URLs not refused:", *problems])


# Registered models without an add form: their rows are written by the application only.
NO_ADD_FORM = {
    "targets.progressentry",  # the entry workflow (screens, import)
    "targets.assessment", "targets.alert", "targets.digest", "targets.evaluationday",  # evaluation
    "targets.reportingreminder",  # the completeness screen's reminders
    "dhis2.dhis2upload",  # the DHIS2 screen's dry runs and imports
    "axes.accessattempt", "axes.accessfailurelog", "axes.accesslog",  # sign-in throttling
}


def test_the_superuser_walks_the_admin(world):
    client, _token = browser(world.users["superuser"])
    pages = {reverse("admin:index"): 200, reverse("admin:login"): 302}
    for model in admin.site._registry:
        meta = model._meta
        prefix = f"admin:{meta.app_label}_{meta.model_name}"
        pages[reverse("admin:app_list", args=[meta.app_label])] = 200
        pages[reverse(f"{prefix}_changelist")] = 200
        pages[reverse(f"{prefix}_add")] = 403 if meta.label_lower in NO_ADD_FORM else 200
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            pages[reverse(f"{prefix}_change", args=[first.pk])] = 200
    got = {url: client.get(url).status_code for url in pages}
    assert got == pages
    assert sum("/change/" in url for url in pages) >= 10  # the world's objects were walked
