"""The review queue: managers only, their subtree only, approve or return, one or many."""

import pytest
from django.urls import reverse

from targets.models import EntryStatus, ProgressEntry, Status, Target
from targets.services import entries as workflow
from tests.conftest import plan_operator, submitted_entry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
QUEUE = reverse("targets:review")


def entry_url(name: str, entry) -> str:
    return reverse(f"targets:{name}", args=[entry.pk])


@pytest.fixture
def waiting(assessed):
    p = assessed
    return {
        "ip": submitted_entry(p["staff"], "BX-IP", "2025-Q3", "2"),
        "occ": submitted_entry(p["dept_staff"], "BX-OCC", "2025-Q3", "25"),
    }


@pytest.mark.parametrize("who", ["staff", "dept_staff"])
def test_staff_may_not_use_the_review_queue(client, assessed, waiting, who):
    client.force_login(assessed[who])
    assert client.get(QUEUE).status_code == 403
    assert client.get(entry_url("review-entry", waiting["ip"])).status_code == 403
    assert client.post(entry_url("approve", waiting["ip"])).status_code == 403
    assert ProgressEntry.objects.get(pk=waiting["ip"].pk).status == EntryStatus.SUBMITTED


def test_signed_out_goes_to_login(client, waiting):
    assert client.get(QUEUE).status_code == 302


@pytest.mark.parametrize(
    ("who", "codes"),
    [("manager", ["BX-IP", "BX-OCC"]), ("province", ["BX-IP", "BX-OCC"]),
     ("admin", ["BX-IP", "BX-OCC"]), ("outsider", [])],
)
def test_managers_see_submitted_entries_of_their_subtree(client, assessed, waiting, who, codes):
    client.force_login(assessed[who])
    response = client.get(QUEUE)
    assert response.status_code == 200
    assert sorted(e.target.code for e in response.context["entries"]) == codes


def test_an_entry_outside_the_subtree_is_404(client, assessed, waiting):
    client.force_login(assessed["outsider"])
    assert client.get(entry_url("review-entry", waiting["ip"])).status_code == 404
    assert client.post(entry_url("approve", waiting["ip"])).status_code == 404
    assert client.post(entry_url("return", waiting["ip"]), {"comment": "x"}).status_code == 404


def test_approval_reassesses_the_target_at_once(client, assessed, waiting):
    assert Target.objects.get(code="BX-IP").latest_assessment.status == Status.NO_DATA
    client.force_login(assessed["manager"])
    response = client.post(entry_url("approve", waiting["ip"]))
    assert response.status_code == 302
    waiting["ip"].refresh_from_db()
    assert waiting["ip"].status == EntryStatus.APPROVED
    assert waiting["ip"].reviewer == assessed["manager"]
    assert Target.objects.get(code="BX-IP").latest_assessment.status == Status.ACHIEVED


def test_return_needs_a_comment(client, assessed, waiting):
    client.force_login(assessed["manager"])
    response = client.post(entry_url("return", waiting["ip"]), {"comment": "  "})
    assert response.status_code == 200
    assert "comment" in response.context["return_form"].errors
    assert ProgressEntry.objects.get(pk=waiting["ip"].pk).status == EntryStatus.SUBMITTED
    response = client.post(entry_url("return", waiting["ip"]), {"comment": "Attach it"})
    assert response.status_code == 302
    waiting["ip"].refresh_from_db()
    assert (waiting["ip"].status, waiting["ip"].review_comment) == ("returned", "Attach it")


def test_nobody_approves_their_own_entry(client, assessed):
    own = submitted_entry(assessed["manager"], "BX-IP", "2025-Q4", "1")
    client.force_login(assessed["manager"])
    page = client.get(entry_url("review-entry", own))
    assert page.context["may_review"] is False
    assert "You set this value: another manager approves it." in page.content.decode()
    assert 'id="approve"' not in page.content.decode()
    queue = client.get(QUEUE).content.decode()
    assert f'name="entries" value="{own.pk}"' not in queue
    client.post(entry_url("approve", own))
    assert ProgressEntry.objects.get(pk=own.pk).status == EntryStatus.SUBMITTED
    # Bulk approval skips it too.
    client.post(QUEUE, {"entries": [own.pk], "action": "approve"})
    assert ProgressEntry.objects.get(pk=own.pk).status == EntryStatus.SUBMITTED


def test_bulk_approve(client, assessed, waiting):
    client.force_login(assessed["province"])
    ids = [waiting["ip"].pk, waiting["occ"].pk]
    assert client.post(QUEUE, {"entries": ids, "action": "approve"}).status_code == 302
    assert set(ProgressEntry.objects.values_list("status", flat=True)) == {"approved"}
    assert Target.objects.get(code="BX-OCC").latest_assessment.status != Status.NO_DATA


def test_bulk_return_needs_a_comment(client, assessed, waiting):
    client.force_login(assessed["manager"])
    ids = [waiting["ip"].pk, waiting["occ"].pk]
    response = client.post(QUEUE, {"entries": ids, "action": "return", "comment": ""})
    assert response.status_code == 200
    assert "comment" in response.context["form"].errors
    response = client.post(QUEUE, {"entries": ids, "action": "return", "comment": "Check"})
    assert response.status_code == 302
    assert set(ProgressEntry.objects.values_list("status", flat=True)) == {"returned"}


def test_bulk_review_cannot_reach_entries_outside_the_subtree(client, assessed, waiting):
    client.force_login(assessed["outsider"])
    response = client.post(QUEUE, {"entries": [waiting["ip"].pk], "action": "approve"})
    assert "entries" in response.context["form"].errors
    assert ProgressEntry.objects.get(pk=waiting["ip"].pk).status == EntryStatus.SUBMITTED


def test_bulk_approval_reassesses_once_so_each_recipient_gets_one_digest(client, people):
    from targets.models import AlertRecipient, Digest
    from targets.services.plans import load_located, plan_import

    # A second occupancy-like target beside BX-OCC; both owned by the commune's manager.
    plan_import(
        data=load_located("""
plans:
  - code: BX-2025-2030
    name: "Bat Xat commune 2025–2030 term"
    unit: LC-BATXAT
    start: 2025-07-01
    end: 2030-12-31
    targets:
      - {code: BX-OCC2, name: "Occupancy of clusters", area: industry,
         responsible_unit: LC-BATXAT-IND, measure: "%", value_type: percent,
         baseline: {value: 20, date: 2025-06-30}, target: {value: 80, date: 2030-12-31}}
"""),
        filename="more.yaml",
        user=plan_operator(),
    )
    Target.objects.filter(code__in=["BX-OCC", "BX-OCC2"]).update(owner=people["manager"])
    entries = [
        submitted_entry(people["dept_staff"], code, "2025-Q3", "20.5")
        for code in ("BX-OCC", "BX-OCC2")
    ]
    client.force_login(people["province"])
    response = client.post(QUEUE, {"entries": [e.pk for e in entries], "action": "approve"})
    assert response.status_code == 302
    # Both targets worsened from no_data to lagging (20.5 % far below the line) in ONE run.
    worsened = AlertRecipient.objects.filter(
        user=people["manager"], alert__kind="worsened"
    ).select_related("alert__target")
    assert sorted(r.alert.target.code for r in worsened) == ["BX-OCC", "BX-OCC2"]
    assert Digest.objects.filter(user=people["manager"]).count() == 1
    assert {r.digest_id for r in worsened} == {Digest.objects.get(user=people["manager"]).pk}


# --- four eyes on the screens, and versions ---------------------------------------------------


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_a_manager_who_corrected_the_value_sees_why_he_cannot_approve(client, assessed):
    p = assessed
    ip = Target.objects.get(code="BX-IP")
    workflow.entry_save_draft(user=p["staff"], target_id=ip.pk, period="2025-Q3", value="3")
    workflow.entry_save_draft(user=p["manager"], target_id=ip.pk, period="2025-Q3", value="1")
    entry = workflow.entry_submit(user=p["staff"], entry_id=ProgressEntry.objects.get().pk)
    client.force_login(p["manager"])
    page = client.get(entry_url("review-entry", entry)).content.decode()
    assert 'id="approve"' not in page and 'id="return"' not in page
    assert "You set this value: another manager approves it." in page
    assert "Value last set by bx.manager." in page
    queue = client.get(QUEUE).content.decode()
    assert f'name="entries" value="{entry.pk}"' not in queue
    assert "You set this value: another manager approves it." in queue
    client.post(entry_url("approve", entry), {"version": entry.version})
    assert ProgressEntry.objects.get().status == EntryStatus.SUBMITTED
    # The province's manager had no hand in it: he approves it.
    client.force_login(p["province"])
    page = client.get(entry_url("review-entry", entry)).content.decode()
    assert 'id="approve"' in page and f'name="version" value="{entry.version}"' in page
    assert client.post(entry_url("approve", entry), {"version": entry.version}).status_code == 302
    assert ProgressEntry.objects.get().status == EntryStatus.APPROVED


def test_a_manager_who_submitted_it_sees_why_he_cannot_approve(client, assessed):
    p = assessed
    ip = Target.objects.get(code="BX-IP")
    entry = workflow.entry_save_draft(user=p["staff"], target_id=ip.pk, period="2025-Q3",
                                      value="1")
    workflow.entry_submit(user=p["manager"], entry_id=entry.pk)
    client.force_login(p["manager"])
    page = client.get(entry_url("review-entry", entry)).content.decode()
    assert "You submitted this entry: another manager approves it." in page
    assert 'id="approve"' not in page


def test_approving_a_page_opened_before_a_change_is_a_conflict(client, assessed, waiting):
    entry = waiting["ip"]
    client.force_login(assessed["manager"])
    opened = client.get(entry_url("review-entry", entry)).context["entry"].version
    # Meanwhile the province returns it and the staff member resubmits another value.
    workflow.entry_return(user=assessed["province"], entry_id=entry.pk, comment="Only 1")
    workflow.entry_save_draft(user=assessed["staff"], target_id=entry.target_id,
                              period=entry.period, value="1")
    workflow.entry_submit(user=assessed["staff"], entry_id=entry.pk)
    response = client.post(entry_url("approve", entry), {"version": opened}, follow=True)
    assert "Someone else changed BX-IP 2025-Q3 since you opened it" in " ".join(
        messages_of(response)
    )
    assert response.context["entry"].value == 1  # the page shows it as it is now
    assert ProgressEntry.objects.get(pk=entry.pk).status == EntryStatus.SUBMITTED


def test_returning_a_page_opened_before_a_change_keeps_the_comment(client, assessed, waiting):
    entry = waiting["ip"]
    client.force_login(assessed["manager"])
    opened = entry.version
    workflow.entry_return(user=assessed["province"], entry_id=entry.pk, comment="Only 1")
    workflow.entry_submit(user=assessed["staff"], entry_id=entry.pk)
    response = client.post(entry_url("return", entry),
                           {"comment": "My long comment", "version": opened})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Someone else changed BX-IP 2025-Q3 since you opened it" in html
    assert "My long comment" in html
    assert ProgressEntry.objects.get(pk=entry.pk).status == EntryStatus.SUBMITTED
    fresh = ProgressEntry.objects.get(pk=entry.pk).version
    assert f'name="version" value="{fresh}"' in html  # returning again now is deliberate


def test_bulk_review_does_what_it_may_and_lists_the_rest(client, assessed, waiting):
    p = assessed
    own = submitted_entry(p["manager"], "BX-IP", "2025-Q4", "1")
    approved_meanwhile = waiting["occ"]
    client.force_login(p["manager"])
    queue = client.get(QUEUE)
    versions = {f"version-{e.pk}": e.version for e in queue.context["entries"]}
    workflow.entry_approve(user=p["province"], entry_id=approved_meanwhile.pk, reassess=None)
    response = client.post(
        QUEUE,
        {"entries": [waiting["ip"].pk, approved_meanwhile.pk, own.pk], "action": "approve",
         **versions},
        follow=True,
    )
    assert messages_of(response) == [
        "1 entries approved.",
        "Not reviewed: BX-OCC 2025-Q3: Someone else changed BX-OCC 2025-Q3 since you opened "
        "it, so nothing was changed: look at it again as it is now.",
        "Not reviewed: BX-IP 2025-Q4: You set this value: another manager approves it.",
    ]
    assert dict(ProgressEntry.objects.values_list("period", "status").filter(
        target__code="BX-IP")) == {"2025-Q3": "approved", "2025-Q4": "submitted"}


def test_the_queue_carries_each_entrys_version(client, assessed, waiting):
    client.force_login(assessed["manager"])
    html = client.get(QUEUE).content.decode()
    for entry in waiting.values():
        assert f'name="version-{entry.pk}" value="{entry.version}"' in html


def test_the_review_page_shows_what_the_value_is_weighed_against(client, assessed):
    p = assessed
    client.cookies["django_language"] = "en"
    first = submitted_entry(p["dept_staff"], "BX-OCC", "2025-Q3", "22")
    workflow.entry_approve(user=p["manager"], entry_id=first.pk, reassess=None)
    entry = submitted_entry(p["dept_staff"], "BX-OCC", "2026-Q3", "30")
    workflow.entry_return(user=p["manager"], entry_id=entry.pk, comment="Attach the lease list")
    workflow.entry_save_draft(
        user=p["dept_staff"], target_id=entry.target_id, period="2026-Q3", value="31",
        note="now with the list", version=ProgressEntry.objects.get(pk=entry.pk).version,
    )
    workflow.entry_submit(user=p["dept_staff"], entry_id=entry.pk)
    client.force_login(p["manager"])
    page = client.get(entry_url("review-entry", entry)).content.decode()
    # Previous approved: 22 % for 2025-Q3. Expected at 2026-09-30 on the line 20 → 80
    # (2025-06-30 → 2030-12-31, 2,010 days): 20 + 60 × 457/2010 = 33.64; 31 would give
    # (31 − 20) / 13.64 = 81 % of the planned progress.
    assert 'id="previous-value">22 % (2025-Q3)' in page
    assert 'id="expected-then">33.64 % at 30 Sep 2026' in page
    assert 'id="if-approved">actual 31 %, 81 % of the planned progress' in page
    assert 'id="target-now"><span class="badge' in page
    assert "Attach the lease list" in page and page.count("Attach the lease list") == 1
    assert "bx.manager:" in page  # who returned it


def test_an_image_of_evidence_is_shown_on_the_review_page(client, assessed):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.test_evidence import PNG

    p = assessed
    target = Target.objects.get(code="BX-IP")
    entry = workflow.entry_save_draft(
        user=p["staff"], target_id=target.pk, period="2026-Q3", value="1",
        evidence_file=SimpleUploadedFile("giấy chứng nhận.png", PNG),
    )
    workflow.entry_submit(user=p["staff"], entry_id=entry.pk)
    client.force_login(p["manager"])
    page = client.get(entry_url("review-entry", entry)).content.decode()
    source = entry_url("evidence_shown", entry)
    assert f'<img src="{source}"' in page
    image = client.get(source)
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert image["Content-Disposition"].startswith("inline;")


def _submitted_with_evidence(people, name: str, content: bytes) -> ProgressEntry:
    from django.core.files.uploadedfile import SimpleUploadedFile

    target = Target.objects.get(code="BX-IP")
    entry = workflow.entry_save_draft(
        user=people["staff"], target_id=target.pk, period="2026-Q3", value="1",
        evidence_file=SimpleUploadedFile(name, content),
    )
    return workflow.entry_submit(user=people["staff"], entry_id=entry.pk)


def test_a_pdf_of_evidence_is_shown_in_a_frame_of_this_site_only(client, assessed):
    from tests.test_evidence import PDF

    entry = _submitted_with_evidence(assessed, "quyết định.pdf", PDF)
    client.force_login(assessed["manager"])
    page = client.get(entry_url("review-entry", entry)).content.decode()
    source = entry_url("evidence_shown", entry)
    assert f'<iframe src="{source}"' in page and "<img src=" not in page
    shown = client.get(source)
    assert shown.status_code == 200 and shown["Content-Type"] == "application/pdf"
    assert shown["Content-Disposition"] == (
        "inline; filename*=utf-8''quy%E1%BA%BFt%20%C4%91%E1%BB%8Bnh.pdf"
    )
    assert b"".join(shown.streaming_content) == PDF
    assert shown["X-Content-Type-Options"] == "nosniff"
    # Framed by this site's pages, by no other site's.
    assert shown["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in shown["Content-Security-Policy"]
    # Every other page still refuses any frame.
    assert page and client.get(entry_url("review-entry", entry))["X-Frame-Options"] == "DENY"
    # The download stays a download.
    assert client.get(entry_url("evidence", entry))["Content-Disposition"].startswith("attachment;")


def test_evidence_that_is_no_image_or_pdf_is_never_shown_inline(client, assessed):
    from tests.test_evidence import xlsx_bytes

    entry = _submitted_with_evidence(assessed, "danh sách.xlsx", xlsx_bytes())
    client.force_login(assessed["manager"])
    page = client.get(entry_url("review-entry", entry)).content.decode()
    assert "<iframe" not in page and "<img src=" not in page
    assert client.get(entry_url("evidence_shown", entry)).status_code == 404
    assert client.get(entry_url("evidence", entry)).status_code == 200


def test_evidence_of_a_target_out_of_reach_is_not_shown(client, assessed):
    from django.contrib.auth import get_user_model

    from tests.test_evidence import PDF

    entry = _submitted_with_evidence(assessed, "quyết định.pdf", PDF)
    client.force_login(get_user_model().objects.create_user("stranger", password="x"))
    assert client.get(entry_url("evidence_shown", entry)).status_code == 404
