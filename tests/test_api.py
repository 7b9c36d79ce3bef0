"""The REST API: tokens, scope, filters, the entry workflow through the services, problem
details, rate limits, languages, and the same figures as the status table."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from api.models import ApiToken
from api.services import token_create, token_revoke
from targets.models import EntryStatus, Profile, ProgressEntry, Target, Unit
from targets.services.evaluation import targets_evaluate
from targets.services.plans import load_located, plan_import
from tests.alerting import RULES
from tests.apiclients import api_client, problem_of, token_of
from tests.conftest import TODAY, many_targets_plan, plan_operator, submitted_entry

pytestmark = pytest.mark.django_db

TARGETS = "/api/v1/targets/"
ENTRIES = "/api/v1/entries/"


def codes(response) -> list[str]:
    assert response.status_code == 200, response.content
    return sorted(row["code"] for row in response.json()["results"])


# --- tokens ----------------------------------------------------------------------------------


def test_without_a_token_the_api_answers_401_with_how_to_authenticate(assessed):
    response = api_client().get(TARGETS)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    body = problem_of(response)
    assert body["type"] == "about:blank"
    assert body["detail"] == "Authentication credentials were not provided."


def test_a_token_works_with_bearer_or_token_and_is_stored_only_as_its_hash(assessed):
    created = token_create(user=assessed["manager"], name="province system", days=30)
    assert created.key.startswith("tt_") and len(created.key) > 40
    stored = ApiToken.objects.get()
    assert created.key not in (stored.digest, stored.prefix) and stored.prefix == created.key[:8]
    assert ApiToken.objects.filter(digest__contains=created.key[3:20]).count() == 0
    for keyword in ("Bearer", "Token"):
        client = api_client()
        client.credentials(HTTP_AUTHORIZATION=f"{keyword} {created.key}")
        assert codes(client.get(TARGETS)) == ["BX-IP", "BX-OCC"]


@pytest.mark.parametrize("case", ["unknown", "expired", "revoked", "inactive user", "two words"])
def test_an_unusable_token_is_refused_with_401(assessed, case):
    user = assessed["manager"]
    created = token_create(user=user, name="system", days=1)
    key = created.key
    if case == "unknown":
        key = key[:-4] + "abcd"
    elif case == "expired":
        ApiToken.objects.filter(pk=created.token.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1),
            created_at=timezone.now() - timedelta(days=1, seconds=1),
        )
    elif case == "revoked":
        token_revoke(user=user, token_id=created.token.pk)
    elif case == "inactive user":
        user.is_active = False
        user.save(update_fields=["is_active"])
    elif case == "two words":
        key = f"{key} more"
    response = api_client(key=key).get(TARGETS)
    assert response.status_code == 401
    assert problem_of(response)["detail"] in (
        "The token is unknown, expired or revoked.",
        "Send the key as “Authorization: Bearer <key>”.",
    )


def test_using_a_token_notes_when_at_most_once_a_minute(assessed):
    created = token_create(user=assessed["manager"], name="system", days=30)
    client = api_client(key=created.key)
    client.get("/api/v1/units/")
    first = ApiToken.objects.get().last_used_at
    assert first is not None
    client.get("/api/v1/units/")
    assert ApiToken.objects.get().last_used_at == first  # no write for every request


# --- scope -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("staff", ["BX-IP", "BX-OCC"]),
        ("dept_staff", ["BX-OCC"]),
        ("manager", ["BX-IP", "BX-OCC"]),
        ("province", ["BX-IP", "BX-OCC"]),
        ("outsider", []),
        ("admin", ["BX-IP", "BX-OCC"]),
    ],
)
def test_each_role_sees_the_targets_of_its_subtree_as_on_the_screens(assessed, who, expected):
    assert codes(api_client(assessed[who]).get(TARGETS)) == expected


def test_outside_the_scope_a_target_its_entries_and_assessments_do_not_exist(assessed):
    entry = submitted_entry(assessed["staff"], code="BX-IP", period="2026-Q2")
    dept = api_client(assessed["dept_staff"])
    for path in (f"{TARGETS}BX-IP/", f"{TARGETS}BX-IP/assessments/", f"{ENTRIES}{entry.pk}/",
                 "/api/v1/units/LC-BATXAT/", "/api/v1/units/LCH/"):
        response = dept.get(path)
        assert response.status_code == 404, path
        assert problem_of(response)["detail"] == "Not found."
    response = dept.post(f"{ENTRIES}{entry.pk}/approve/", {"version": 2}, format="json")
    assert response.status_code == 404
    assert ProgressEntry.objects.get().status == EntryStatus.SUBMITTED
    assert codes(dept.get("/api/v1/units/")) == ["LC-BATXAT-IND"]
    outsider = api_client(assessed["outsider"])
    assert codes(outsider.get("/api/v1/units/")) == ["LCH"]
    assert outsider.get("/api/v1/plans/").json()["count"] == 0
    assert outsider.get(ENTRIES).json()["count"] == 0


def test_projects_are_scoped_like_the_register(assessed):
    from register.models import Project, Sector, Stage

    for code, unit in (("P-BX", "LC-BATXAT"), ("P-IND", "LC-BATXAT-IND"), ("P-LCH", "LCH")):
        Project.objects.create(
            code=code, name=code, investor="Investor", investor_country="VN",
            sector=Sector.LOGISTICS, unit=Unit.objects.get(code=unit),
            registered_capital=Decimal("12.5"), stage=Stage.PROPOSED, stage_date=TODAY,
        )
    assert codes(api_client(assessed["dept_staff"]).get("/api/v1/projects/")) == ["P-IND"]
    manager = api_client(assessed["manager"])
    assert codes(manager.get("/api/v1/projects/")) == ["P-BX", "P-IND"]
    assert codes(manager.get("/api/v1/projects/?unit=LC-BATXAT-IND")) == ["P-IND"]
    project = manager.get("/api/v1/projects/P-BX/").json()
    assert (project["registered_capital"], project["registered_currency"]) == (12.5, "VND")
    assert manager.get("/api/v1/projects/P-LCH/").status_code == 404


# --- filters like the status table ----------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("unit=LC-BATXAT", ["BX-IP", "BX-OCC"]),  # the unit and everything below it
        ("unit=LC-BATXAT-IND", ["BX-OCC"]),
        ("q=lap day", ["BX-OCC"]),  # without accents, as the status table's search
        ("q=INDUSTRIAL parks", ["BX-IP"]),
        ("plan=BX-2025-2030&area=industry", ["BX-IP", "BX-OCC"]),
        ("status=no_data", ["BX-IP", "BX-OCC"]),
        ("status=on_track", []),
        ("reporting=overdue", ["BX-IP", "BX-OCC"]),
        ("due_year=2030", ["BX-IP", "BX-OCC"]),
        ("due_year=2031", []),
    ],
)
def test_targets_filter_as_the_status_table_does(assessed, query, expected):
    assert codes(api_client(assessed["manager"]).get(f"{TARGETS}?{query}")) == expected


def test_a_filter_value_that_is_not_one_answers_400_next_to_its_field(assessed):
    response = api_client(assessed["dept_staff"]).get(
        f"{TARGETS}?plan=NOPE&status=zzz&due_year=1e400&unit=LC-BATXAT"
    )
    assert response.status_code == 400
    body = problem_of(response)
    assert body["type"] == "urn:target-tracker:problem:validation-error"
    # A unit outside the scope is no choice either.
    assert sorted(error["field"] for error in body["errors"]) == [
        "due_year", "plan", "status", "unit"]
    assert {"field": "due_year", "message": "Enter a whole number."} in body["errors"]


def test_pages_of_the_list(assessed):
    plan_import(data=load_located(many_targets_plan(7)), filename="many.yaml",
                user=plan_operator())
    client = api_client(assessed["manager"])
    first = client.get(f"{TARGETS}?page_size=4").json()
    assert first["count"] == 9 and len(first["results"]) == 4 and first["next"]
    last = client.get(f"{TARGETS}?page_size=4&page=3").json()
    assert [row["code"] for row in last["results"]] == ["M0006"]
    response = client.get(f"{TARGETS}?page_size=4&page=4")
    assert response.status_code == 404
    problem_of(response)


@pytest.mark.parametrize("many", [3, 48])
def test_the_lists_take_as_many_queries_for_5_or_50_targets(
    assessed, django_assert_max_num_queries, many
):
    plan_import(data=load_located(many_targets_plan(many)), filename="many.yaml",
                user=plan_operator())
    targets_evaluate(on=TODAY, alert_settings=RULES)  # alerts: every M target is overdue
    for target in Target.objects.filter(code__startswith="M"):
        submitted_entry(assessed["staff"], code=target.code, period="2025", value="1")
    client = api_client(assessed["manager"])
    client.get("/api/v1/units/")  # the token's last use is noted: one write, not per request
    # The token, the memberships, the count, the rows (and the targets' milestones).
    for path, count in ((f"{TARGETS}?page_size=100", many + 2), (f"{ENTRIES}?page_size=100", many),
                        ("/api/v1/alerts/?page_size=500", None)):
        with django_assert_max_num_queries(5):
            response = client.get(path)
        assert response.status_code == 200
        if count is not None:
            assert response.json()["count"] == count
    assert client.get("/api/v1/alerts/").json()["count"] >= many


# --- the entry workflow through the services ----------------------------------------------------


def post(client, path, data):
    return client.post(path, data, format="json")


def patch(client, path, data):
    return client.patch(path, data, format="json")


def test_report_change_submit_and_approve_re_assesses_the_target(assessed):
    staff, manager = api_client(assessed["staff"]), api_client(assessed["manager"])
    response = post(staff, ENTRIES, {"target": "BX-IP", "period": "2026-Q3", "value": 2,
                                     "note": "one park"})
    assert response.status_code == 201, response.content
    entry = response.json()
    assert response["Location"] == f"{ENTRIES}{entry['id']}/"
    assert (entry["status"], entry["value"], entry["version"], entry["author"]) == (
        "draft", 2, 1, "bx.staff")
    url = f"{ENTRIES}{entry['id']}/"
    changed = patch(staff, url, {"version": 1, "value": "1"}).json()
    assert (changed["value"], changed["note"], changed["version"]) == (1, "one park", 2)
    submitted = post(staff, f"{url}submit/", {"version": 2}).json()
    assert (submitted["status"], submitted["submitted_by"], submitted["version"]) == (
        "submitted", "bx.staff", 3)
    approved = post(manager, f"{url}approve/", {"version": 3})
    assert approved.status_code == 200, approved.content
    assert (approved.json()["status"], approved.json()["reviewer"]) == ("approved", "bx.manager")
    target = manager.get(f"{TARGETS}BX-IP/").json()
    # BX-IP steps: 0 expected until the 2027 milestone, so 1 park as of 30/09/2026 is on track.
    assessment = target["assessment"]
    assert (target["status"], target["status_label"]) == ("on_track", "On track")
    assert (assessment["actual"], assessment["as_of"], assessment["expected"],
            assessment["ratio"]) == (1, "2026-09-30", 0, 1)
    assert assessment["evaluated_on"] == timezone.localdate().isoformat()
    assert target["last_entry"] == {"period": "2026-Q3", "status": "approved", "value": 1}
    history = manager.get(f"{TARGETS}BX-IP/assessments/").json()
    assert [row["evaluated_on"] for row in history["results"]] == [
        timezone.localdate().isoformat(), TODAY.isoformat()]


def test_create_and_submit_in_one_request(assessed):
    response = post(api_client(assessed["dept_staff"]), ENTRIES,
                    {"target": "BX-OCC", "period": "2026-Q2", "value": 30.5, "submit": True})
    assert response.status_code == 201
    assert (response.json()["status"], response.json()["version"]) == ("submitted", 2)


def test_nobody_approves_a_value_they_set_or_submitted(assessed):
    manager = api_client(assessed["manager"])
    entry = post(manager, ENTRIES, {"target": "BX-IP", "period": "2026-Q3", "value": 1,
                                    "submit": True}).json()
    response = post(manager, f"{ENTRIES}{entry['id']}/approve/", {"version": entry["version"]})
    assert response.status_code == 403
    assert problem_of(response)["detail"] == "You set this value: another manager approves it."
    staff = api_client(assessed["staff"])
    response = post(staff, f"{ENTRIES}{entry['id']}/approve/", {"version": entry["version"]})
    assert response.status_code == 403
    assert problem_of(response)["detail"] == "You may not review this entry."
    assert ProgressEntry.objects.get().status == EntryStatus.SUBMITTED
    response = post(api_client(assessed["province"]), f"{ENTRIES}{entry['id']}/approve/",
                    {"version": entry["version"]})
    assert response.status_code == 200
    assert ProgressEntry.objects.get().status == EntryStatus.APPROVED


def test_returning_needs_a_comment_and_then_the_author_fixes_and_resubmits(assessed):
    entry = submitted_entry(assessed["staff"], code="BX-IP", period="2026-Q2")
    manager, staff = api_client(assessed["manager"]), api_client(assessed["staff"])
    url = f"{ENTRIES}{entry.pk}/"
    response = post(manager, f"{url}return/", {"version": 2, "comment": "  "})
    assert response.status_code == 400
    assert problem_of(response)["errors"] == [
        {"field": "comment", "message": "This field may not be blank."}]
    returned = post(manager, f"{url}return/", {"version": 2, "comment": "Evidence?"}).json()
    assert (returned["status"], returned["review_comment"]) == ("returned", "Evidence?")
    fixed = patch(staff, url, {"version": 3, "evidence_url": "https://example.vn/r.pdf",
                               "submit": True}).json()
    assert (fixed["status"], fixed["evidence_url"], fixed["version"]) == (
        "submitted", "https://example.vn/r.pdf", 5)


def test_a_stale_version_is_a_409_and_nothing_is_overwritten(assessed):
    staff = api_client(assessed["staff"])
    entry = post(staff, ENTRIES, {"target": "BX-IP", "period": "2026-Q2", "value": 1}).json()
    url = f"{ENTRIES}{entry['id']}/"
    assert patch(staff, url, {"version": 1, "value": 2}).status_code == 200
    response = patch(api_client(assessed["staff2"]), url, {"version": 1, "value": 0})
    assert response.status_code == 409
    body = problem_of(response)
    assert body["type"] == "urn:target-tracker:problem:stale-version"
    assert body["detail"].startswith("Someone else changed BX-IP 2026-Q2 since you opened it")
    assert ProgressEntry.objects.get().value == Decimal(2)
    response = post(staff, f"{url}submit/", {"version": 1})
    assert response.status_code == 409
    assert ProgressEntry.objects.get().status == EntryStatus.DRAFT


def test_a_change_the_state_does_not_allow_is_a_409_workflow_conflict(assessed):
    entry = submitted_entry(assessed["staff"], code="BX-IP", period="2026-Q2")
    response = patch(api_client(assessed["staff"]), f"{ENTRIES}{entry.pk}/",
                     {"version": 2, "value": 2})
    assert response.status_code == 409
    body = problem_of(response)
    assert body["type"] == "urn:target-tracker:problem:workflow-conflict"
    assert body["detail"] == "An entry that is submitted cannot be changed."


def test_a_second_entry_for_a_period_is_a_409_naming_the_first(assessed):
    entry = submitted_entry(assessed["staff"], code="BX-IP", period="2026-Q2")
    response = post(api_client(assessed["staff2"]), ENTRIES,
                    {"target": "BX-IP", "period": "2026-Q2", "value": 2})
    assert response.status_code == 409
    assert problem_of(response)["detail"] == (
        f"BX-IP 2026-Q2 has an entry already (id {entry.pk}, version 2): change it with PATCH.")


@pytest.mark.parametrize(
    ("who", "body", "field", "message"),
    [
        ("dept_staff", {"target": "BX-OCC", "period": "2026-Q2", "value": 150}, "value",
         "150 is not a percentage between 0 and 100."),
        ("staff", {"target": "BX-IP", "period": "2026-Q2", "value": 1.5}, "value",
         "1.5 is not a whole number."),
        ("staff", {"target": "BX-IP", "period": "2026-Q2", "value": -1}, "value",
         "-1 is below 0, the smallest value of this target."),
        ("staff", {"target": "BX-IP", "period": "2026-Q2", "value": "abc"}, "value",
         "A valid number is required."),
        ("staff", {"target": "BX-IP", "period": "2026-Q9", "value": 1}, "period",
         "“2026-Q9” is not a reporting period of BX-IP (2025-Q3 … 2030-Q4)."),
        ("staff", {"target": "BX-IP", "period": "2026-Q2", "value": 1, "evidence_url": "x:y"},
         "evidence_url", "Give the evidence link as a web address (http:// or https://)."),
        ("dept_staff", {"target": "BX-IP", "period": "2026-Q2", "value": 1}, "target",
         "“BX-IP” is not a target you can see."),
        ("staff", {"period": "2026-Q2", "value": 1}, "target", "This field is required."),
        ("staff", {"target": "BX-IP", "period": "2026-Q2", "value": 1, "note": "a\x00b"},
         "note", "Null characters are not allowed."),
    ],
)
def test_bad_input_is_a_400_next_to_its_field_and_writes_nothing(
    assessed, who, body, field, message
):
    response = post(api_client(assessed[who]), ENTRIES, body)
    assert response.status_code == 400, response.content
    assert problem_of(response)["errors"] == [{"field": field, "message": message}]
    assert not ProgressEntry.objects.exists()


def test_a_period_not_begun_is_refused(assessed):
    response = post(api_client(assessed["staff"]), ENTRIES,
                    {"target": "BX-IP", "period": "2030-Q4", "value": 1})
    assert response.status_code == 400
    assert problem_of(response)["errors"] == [{
        "field": "period",
        "message": "2030-Q4 has not started yet: it can be reported from 2030-10-01."}]


def test_staff_may_not_report_on_a_target_of_the_unit_below(assessed):
    response = post(api_client(assessed["staff"]), ENTRIES,
                    {"target": "BX-OCC", "period": "2026-Q2", "value": 30})
    assert response.status_code == 403
    assert problem_of(response)["detail"] == "You may not report on this target."
    assert not ProgressEntry.objects.exists()


def test_malformed_json_wrong_method_and_no_endpoint_are_problems(assessed):
    client = api_client(assessed["staff"])
    response = client.post(ENTRIES, b'{"target": ', content_type="application/json")
    assert response.status_code == 400
    assert problem_of(response)["detail"].startswith("JSON parse error")
    response = client.put(f"{ENTRIES}1/", {}, format="json")
    assert response.status_code == 405
    assert problem_of(response)["detail"] == 'Method "PUT" not allowed.'
    response = client.post(ENTRIES, "target=BX-IP", content_type="text/plain")
    assert response.status_code == 415
    problem_of(response)
    for path in ("/api/v2/targets/", "/api/v1/nothing/"):
        response = client.post(path, {}, format="json")
        assert response.status_code == 404
        assert problem_of(response)["detail"] == "No API endpoint at this address."


def test_null_characters_are_refused_before_any_query(assessed):
    client = api_client(assessed["staff"])
    response = client.get(f"{TARGETS}?q=a%00b")
    assert response.status_code == 400
    assert problem_of(response)["errors"] == [
        {"field": "q", "message": "Null characters are not allowed."}]
    response = client.get(f"{TARGETS}BX%00IP/")
    assert response.status_code == 404
    problem_of(response)


# --- languages -----------------------------------------------------------------------------------


def test_messages_speak_the_language_asked_for_else_the_users_profile(assessed):
    staff = assessed["staff"]
    key = token_of(staff)
    body = {"target": "BX-IP", "period": "2026-Q9", "value": 1}
    vietnamese = post(api_client(key=key, language="vi"), ENTRIES, body)
    assert problem_of(vietnamese)["errors"][0]["message"] == (
        "“2026-Q9” không phải là kỳ báo cáo của BX-IP (2025-Q3 … 2030-Q4).")
    assert vietnamese["Content-Language"] == "vi"
    Profile.objects.create(user=staff, language="en")
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")  # no Accept-Language
    english = post(client, ENTRIES, body)
    assert problem_of(english)["errors"][0]["message"].startswith("“2026-Q9” is not a")
    target = client.get(f"{TARGETS}BX-IP/").json()
    assert target["status_label"] == "No data"


# --- rate limits -----------------------------------------------------------------------------


def test_each_token_has_its_own_rate_limit_and_anonymous_clients_theirs(assessed, settings):
    settings.API_THROTTLE_RATES = {"token": "3/minute", "anonymous": "2/minute"}
    user = assessed["manager"]
    first, second = api_client(key=token_of(user)), api_client(key=token_of(user))
    assert [first.get(TARGETS).status_code for _ in range(3)] == [200, 200, 200]
    response = first.get(TARGETS)
    assert response.status_code == 429
    body = problem_of(response)
    assert 0 < int(response["Retry-After"]) <= 60
    assert body["detail"].startswith("Request was throttled.")
    assert second.get(TARGETS).status_code == 200  # another system of the same user
    anonymous = api_client()
    assert [anonymous.get(TARGETS).status_code for _ in range(2)] == [401, 401]
    guessing = api_client(key="tt_guessed")  # a bad key counts against the client's address
    response = guessing.get(TARGETS)
    assert response.status_code == 429
    assert problem_of(response)["detail"].startswith("Request was throttled.")
    assert anonymous.get(TARGETS).status_code == 429


# --- the same figures as the screens -------------------------------------------------------------


def status_row(html: str, code: str) -> str:
    """The status table's row of ``code``."""
    rows = re.findall(r"<tr [^>]*>.*?</tr>", html, flags=re.S)
    [row] = [row for row in rows if f">{code}</a>" in row]
    return row


def test_the_api_gives_the_status_tables_figures_for_the_same_target(assessed, client):
    entry = submitted_entry(assessed["dept_staff"], code="BX-OCC", period="2026-Q2", value="30")
    api = api_client(assessed["manager"])
    assert post(api, f"{ENTRIES}{entry.pk}/approve/", {"version": 2}).status_code == 200
    target = api.get(f"{TARGETS}BX-OCC/").json()
    assessment = target["assessment"]
    # Linear from 20 (30/06/2025) to 80 (31/12/2030), 2,010 days: expected on 30/06/2026,
    # 365 days on, 20 + 60 × 365 / 2010 = 30.895522; ratio 10 / 10.895522 = 0.917808 (on
    # track, ≥ 0.9); share of the way (30 − 20) / 60.
    assert (target["status"], assessment["reason"]) == ("on_track", "ratio")
    assert (assessment["actual"], assessment["as_of"]) == (30, "2026-06-30")
    assert assessment["expected"] == pytest.approx(30.895522, abs=1e-6)
    assert assessment["ratio"] == pytest.approx(0.917808, abs=1e-6)
    assert assessment["share"] == pytest.approx(0.166667, abs=1e-6)

    client.cookies["django_language"] = "en"
    client.force_login(assessed["manager"])
    row = status_row(client.get(reverse("targets:status")).content.decode(), "BX-OCC")
    assert '<span class="actual fw-semibold">30</span>' in row
    assert "expected 30.9" in row and "as of 30 Jun 2026" in row
    assert f'title="{target["reason_text"]}">{target["status_label"]}</span>' in row
    assert target["status_label"] == "On track"
    assert target["reason_text"] == (
        "On track: 30 against 30.9 expected as of 30 Jun 2026 (92 % of the planned progress).")
    assert f'{round(assessment["share"] * 100)} %' in row  # the progress bar's 17 %
    assert target["reporting_label"] in row


def test_a_provincial_system_with_only_a_token_reads_what_the_managers_see(assessed, client):
    """Issue 15's done-when: list a commune's targets, push a quarter's values, and read back
    the statuses the commune's managers see once they approved them."""
    province = api_client(key=token_of(assessed["province"], name="Lao Cai reporting"))
    listed = province.get(f"{TARGETS}?unit=LC-BATXAT")
    assert codes(listed) == ["BX-IP", "BX-OCC"]
    values = {"BX-IP": 1, "BX-OCC": 30}
    for code, value in values.items():
        response = post(province, ENTRIES, {"target": code, "period": "2026-Q2",
                                            "value": value, "submit": True})
        assert response.status_code == 201, response.content
    # The commune's manager approves both on the review screen (four eyes: not the pusher).
    client.cookies["django_language"] = "en"
    client.force_login(assessed["manager"])
    ids = list(ProgressEntry.objects.values_list("pk", flat=True))
    response = client.post(reverse("targets:review"), {"entries": ids, "action": "approve"})
    assert response.status_code == 302
    read_back = province.get(f"{TARGETS}?unit=LC-BATXAT").json()["results"]
    assert {row["code"]: row["status"] for row in read_back} == {
        "BX-IP": "on_track", "BX-OCC": "on_track"}
    html = client.get(reverse("targets:status")).content.decode()
    for row in read_back:
        shown = status_row(html, row["code"])
        assert f'>{row["status_label"]}</span>' in shown
        actual = row["assessment"]["actual"]
        assert f'<span class="actual fw-semibold">{actual:g}</span>' in shown
        assert actual == values[row["code"]]
    assert Target.objects.get(code="BX-IP").latest_assessment.status == "on_track"


# --- the schema and its documentation ------------------------------------------------------------


def test_the_schema_is_public_and_describes_every_error_as_a_problem(client):
    import json

    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    assert schema["components"]["securitySchemes"]["apiToken"] == {
        "type": "http", "scheme": "bearer", "description": schema["components"][
            "securitySchemes"]["apiToken"]["description"]}
    create = schema["paths"]["/api/v1/entries/"]["post"]["responses"]
    assert sorted(create) == ["201", "400", "401", "403", "404", "409", "429"]
    assert list(create["409"]["content"]) == ["application/problem+json"]
    assert schema["components"]["schemas"]["Problem"]["required"] == [
        "type", "title", "status", "detail"]


def test_the_documentation_page_has_no_inline_script_or_style_and_uses_local_files(client):
    response = client.get("/api/docs/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "<style" not in html and not re.search(r"<script>", html)
    assert re.findall(r'src="([^"]+)"', html) == [
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-standalone-preset.js",
        "/api/docs/?script=",
    ]
    script = client.get("/api/docs/?script=")
    assert script["Content-Type"].startswith("application/javascript")
    assert '"/api/schema/"' in script.content.decode()
