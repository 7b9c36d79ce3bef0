"""Progress entry: choosing a target and period, drafts, submission, errors on their fields."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from targets.models import EntryStatus, ProgressEntry, Target
from targets.services import entries as workflow
from tests.conftest import submitted_entry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def url(code: str, period: str = "") -> str:
    return reverse("targets:report", args=[code]) + (f"?period={period}" if period else "")


def post(client, code: str, **data):
    data.setdefault("period", "2026-Q3")
    data.setdefault("action", "draft")
    return client.post(url(code), data)


def test_enter_progress_lists_only_enterable_targets(client, people):
    client.force_login(people["staff"])
    response = client.get(reverse("targets:enter"))
    assert [t.code for t in response.context["targets"]] == ["BX-IP"]
    client.force_login(people["dept_staff"])
    assert [t.code for t in client.get(reverse("targets:enter")).context["targets"]] == ["BX-OCC"]
    client.force_login(people["outsider"])
    assert list(client.get(reverse("targets:enter")).context["targets"]) == []


def test_signed_out_cannot_enter(client, people):
    assert client.get(reverse("targets:enter")).status_code == 302
    assert client.get(url("BX-IP")).status_code == 302


@pytest.mark.parametrize(
    ("who", "code"),
    [("staff", "BX-OCC"), ("dept_staff", "BX-IP"), ("outsider", "BX-IP"), ("outsider", "X")],
)
def test_report_form_outside_the_scope_is_404(client, people, who, code):
    client.force_login(people[who])
    assert client.get(url(code)).status_code == 404
    assert post(client, code, value="1").status_code == 404
    assert ProgressEntry.objects.count() == 0


def test_the_period_select_lists_the_targets_periods(client, people):
    client.force_login(people["staff"])
    response = client.get(url("BX-IP"))
    keys = [key for key, _label in response.context["form"].fields["period"].choices]
    assert keys[0] == "2025-Q3" and keys[-1] == "2030-Q4" and len(keys) == 22
    # The earliest ended period without an entry is chosen for the user.
    assert response.context["form"].initial["period"] == "2025-Q3"


def test_save_a_draft_then_submit(client, people):
    client.force_login(people["staff"])
    response = post(client, "BX-IP", value="1", note="Decision signed")
    assert response.status_code == 302
    entry = ProgressEntry.objects.get()
    assert (entry.status, entry.value, entry.note) == (EntryStatus.DRAFT, 1, "Decision signed")
    response = post(client, "BX-IP", value="1", note="Decision signed", action="submit")
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.status == EntryStatus.SUBMITTED
    assert ProgressEntry.objects.count() == 1


def test_manager_of_the_subtree_may_enter(client, people):
    client.force_login(people["province"])
    client.cookies["django_language"] = "vi"
    assert post(client, "BX-OCC", value="30,5", action="submit").status_code == 302
    entry = ProgressEntry.objects.get()
    assert str(entry.value) == "30.5000"  # Vietnamese decimal comma


def test_a_bad_number_is_reported_on_the_value_field_and_nothing_typed_is_lost(client, people):
    client.force_login(people["staff"])
    response = post(client, "BX-IP", value="two", note="My long note", evidence_url="https://x.vn/a")
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == ["value"]
    html = response.content.decode()
    assert "My long note" in html and "https://x.vn/a" in html and 'value="two"' in html
    assert ProgressEntry.objects.count() == 0


def test_a_fraction_for_a_whole_number_target_is_a_value_error(client, people):
    client.force_login(people["staff"])
    response = post(client, "BX-IP", value="1.5")
    assert "whole number" in str(response.context["form"].errors["value"])


def test_a_percentage_above_100_is_a_value_error(client, people):
    client.force_login(people["dept_staff"])
    response = post(client, "BX-OCC", value="120")
    assert "between 0 and 100" in str(response.context["form"].errors["value"])


def test_a_period_that_is_not_the_targets_is_a_period_error(client, people):
    client.force_login(people["staff"])
    response = post(client, "BX-IP", value="1", period="2024-Q1")
    assert "period" in response.context["form"].errors


def test_a_submitted_period_cannot_be_changed(client, people):
    submitted_entry(people["staff"], "BX-IP", "2026-Q3", "1")
    client.force_login(people["staff2"])
    response = post(client, "BX-IP", value="2")
    assert "period" in response.context["form"].errors
    assert ProgressEntry.objects.get().value == 1


def test_evidence_of_a_forbidden_type_is_refused(client, people):
    client.force_login(people["staff"])
    bad = SimpleUploadedFile("run.exe", b"MZ", content_type="application/octet-stream")
    response = post(client, "BX-IP", value="1", evidence_file=bad)
    errors = str(response.context["form"].errors["evidence_file"])
    assert "exe" in errors
    assert ProgressEntry.objects.count() == 0


def test_evidence_above_the_size_limit_is_refused(client, people, monkeypatch):
    from targets import forms

    client.force_login(people["staff"])
    big = SimpleUploadedFile("scan.pdf", b"%PDF" + b"0" * (10 * 1024 * 1024), "application/pdf")
    response = post(client, "BX-IP", value="1", evidence_file=big)
    assert "10" in str(response.context["form"].errors["evidence_file"])
    assert forms.EVIDENCE_MAX_BYTES == 10 * 1024 * 1024


def test_evidence_file_and_link_are_kept(client, people, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(people["staff"])
    scan = SimpleUploadedFile("decision.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    post(client, "BX-IP", value="1", evidence_file=scan, evidence_url="https://x.vn/d")
    entry = ProgressEntry.objects.get()
    assert entry.evidence_file.name.endswith(".pdf")
    assert entry.evidence_url == "https://x.vn/d"


def test_a_returned_entry_shows_the_comment_and_can_be_resubmitted(client, people):
    entry = submitted_entry(people["staff"], "BX-IP", "2026-Q3", "1")
    workflow.entry_return(user=people["manager"], entry_id=entry.pk, comment="Attach the decision")
    client.force_login(people["staff"])
    listing = client.get(reverse("targets:enter"))
    assert [e.pk for e in listing.context["to_fix"]] == [entry.pk]
    page = client.get(url("BX-IP", "2026-Q3"))
    assert "Attach the decision" in page.content.decode()
    assert page.context["form"].initial["value"] == 1
    response = post(client, "BX-IP", value="1", note="Decision attached", action="submit")
    assert response.status_code == 302
    entry.refresh_from_db()
    assert (entry.status, entry.note) == (EntryStatus.SUBMITTED, "Decision attached")


def test_evidence_is_served_only_within_the_scope(client, people, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(people["staff"])
    scan = SimpleUploadedFile("decision.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    post(client, "BX-IP", value="1", evidence_file=scan)
    entry = ProgressEntry.objects.get()
    link = reverse("targets:evidence", args=[entry.pk])
    assert link in client.get(reverse("targets:target", args=["BX-IP"])).content.decode()
    response = client.get(link)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 test"
    client.force_login(people["manager"])
    assert client.get(link).status_code == 200
    for who in ("outsider", "dept_staff"):
        client.force_login(people[who])
        assert client.get(link).status_code == 404


def test_an_entry_without_evidence_has_no_file(client, people):
    entry = submitted_entry(people["staff"], "BX-IP", "2026-Q3", "1")
    client.force_login(people["staff"])
    assert client.get(reverse("targets:evidence", args=[entry.pk])).status_code == 404


def test_every_field_error_shows_in_one_round_and_typed_values_are_kept(client, people):
    client.force_login(people["dept_staff"])
    bad = SimpleUploadedFile("run.exe", b"MZ", content_type="application/octet-stream")
    response = post(client, "BX-OCC", period="2026-Q4", value="120", note="Half full",
                    evidence_file=bad, evidence_url="not a link")
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"value", "evidence_file", "evidence_url"}
    assert "between 0 and 100" in str(errors["value"])
    assert "exe" in str(errors["evidence_file"])
    html = response.content.decode()
    assert 'value="120"' in html and "Half full" in html and 'value="not a link"' in html
    for field in ("value", "evidence_file", "evidence_url"):
        assert f'id="error_1_id_{field}"' in html  # next to its field
    assert ProgressEntry.objects.count() == 0


@pytest.mark.parametrize("approve", [False, True])
def test_a_submitted_or_approved_period_shows_a_form_that_cannot_be_used(client, people, approve):
    entry = submitted_entry(people["staff"], "BX-IP", "2026-Q3", "1", note="Signed")
    if approve:
        workflow.entry_approve(user=people["manager"], entry_id=entry.pk, reassess=None)
    client.force_login(people["staff"])
    response = client.get(url("BX-IP", "2026-Q3"))
    form = response.context["form"]
    shown = [name for name, field in form.fields.items() if not field.widget.is_hidden]
    assert [name for name in shown if not form.fields[name].disabled] == ["period"]
    html = response.content.decode()
    assert html.count("disabled") >= 6  # four fields and two buttons
    assert 'id="locked-reason"' in html and "Choose another period above." in html
    assert 'id="submit-entry" disabled' in html and 'id="save-draft" disabled' in html


# --- conflicts: a stale form never overwrites -----------------------------------------------


def test_the_form_carries_the_version_of_the_entry_it_shows(client, people):
    client.force_login(people["staff"])
    page = client.get(url("BX-IP", "2026-Q3"))
    assert page.context["form"].initial["version"] == 0  # no entry yet
    html = page.content.decode()
    assert 'name="version" value="0"' in html and 'name="opened_period" value="2026-Q3"' in html
    entry = submitted_entry(people["staff"], "BX-IP", "2026-Q3", "1")
    assert client.get(url("BX-IP", "2026-Q3")).context["form"].initial["version"] == entry.version


def test_a_stale_save_is_a_conflict_that_keeps_what_was_typed(client, people):
    client.force_login(people["staff"])
    post(client, "BX-IP", value="1", note="first", version="0", opened_period="2026-Q3")
    entry = ProgressEntry.objects.get()
    # Both open the draft at version 1; the colleague saves first.
    workflow.entry_save_draft(user=people["staff2"], target_id=entry.target_id,
                              period="2026-Q3", value="2", note="colleague's", version=1)
    response = post(client, "BX-IP", value="3", note="My careful note", version="1",
                    opened_period="2026-Q3")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Someone else changed BX-IP 2026-Q3 since you opened it" in html
    assert 'value="3"' in html and "My careful note" in html  # nothing typed is lost
    assert 'id="conflict"' in html and "colleague&#x27;s" in html  # what is saved now
    assert "last changed by bx.staff2" in html
    entry.refresh_from_db()
    assert (entry.value, entry.note, entry.version) == (2, "colleague's", 2)
    # The form now stands for version 2: saving again replaces it, knowingly.
    assert 'name="version" value="2"' in html
    again = post(client, "BX-IP", value="3", note="My careful note", version="2",
                 opened_period="2026-Q3")
    assert again.status_code == 302
    entry.refresh_from_db()
    assert (entry.value, entry.note, entry.last_editor) == (3, "My careful note", people["staff"])


def test_a_stale_submission_submits_nothing(client, people):
    client.force_login(people["staff"])
    post(client, "BX-IP", value="1", version="0")
    ip = Target.objects.get(code="BX-IP")
    workflow.entry_save_draft(user=people["staff2"], target_id=ip.pk, period="2026-Q3",
                              value="2")
    response = post(client, "BX-IP", value="1", version="1", action="submit")
    assert response.status_code == 200
    assert "Someone else changed BX-IP 2026-Q3" in response.content.decode()
    assert ProgressEntry.objects.get().status == EntryStatus.DRAFT


def test_a_first_entry_made_meanwhile_is_not_overwritten(client, people):
    client.force_login(people["staff"])
    ip = Target.objects.get(code="BX-IP")
    # After the page was opened (version 0), a colleague saved the first draft.
    workflow.entry_save_draft(user=people["staff2"], target_id=ip.pk, period="2026-Q3",
                              value="2")
    response = post(client, "BX-IP", value="1", version="0", opened_period="2026-Q3")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Someone else entered BX-IP 2026-Q3 since you opened it" in html
    assert 'value="1"' in html
    assert ProgressEntry.objects.get().value == 2
    # Submitted meanwhile instead: the period cannot be changed at all, and says so.
    workflow.entry_submit(user=people["staff2"], entry_id=ProgressEntry.objects.get().pk)
    response = post(client, "BX-IP", value="1", version="1", opened_period="2026-Q3")
    assert "is submitted and can no longer be changed" in str(response.context["form"].errors)
    assert 'value="1"' in response.content.decode()
    assert 'id="submit-entry" disabled' in response.content.decode()
    assert ProgressEntry.objects.get().value == 2


def test_values_moved_to_another_period_do_not_overwrite_its_entry(client, people):
    # Opened on 2026-Q2 (no entry), typed, then chose 2026-Q3, whose draft was never shown.
    ip = Target.objects.get(code="BX-IP")
    workflow.entry_save_draft(user=people["staff2"], target_id=ip.pk, period="2026-Q3",
                              value="2")
    client.force_login(people["staff"])
    response = post(client, "BX-IP", period="2026-Q3", value="1", version="1",
                    opened_period="2026-Q2")
    assert response.status_code == 200
    assert "Someone else entered BX-IP 2026-Q3" in response.content.decode()
    assert ProgressEntry.objects.get().value == 2
