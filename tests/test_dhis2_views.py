"""The DHIS2 exchange screen: export download, dry run, import, for managers only."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from dhis2.exporting import dhis2_export
from dhis2.models import Dhis2Upload
from targets.models import EntryStatus, ImportState, Plan, ProgressEntry
from tests.test_dhis2_export import approved

pytestmark = pytest.mark.django_db
EXCHANGE = reverse("dhis2:exchange")
EXPORT = reverse("dhis2:export")
CONFIRM = reverse("dhis2:import-confirm")


@pytest.fixture
def reported(people):
    approved("BX-IP", "2025-Q3", "0", author=people["staff"], reviewer=people["manager"])
    approved("BX-IP", "2025-Q4", "1", author=people["staff"], reviewer=people["manager"],
             note="Quyết định số 12/QĐ-UBND")
    return people


def signed_in(english, user):
    english.force_login(user)
    return english


def upload(client, content: bytes, name: str = "dv.json", status: str = "submitted"):
    return client.post(EXCHANGE, {"file": SimpleUploadedFile(name, content),
                                  "status": status})


def entries() -> list[tuple]:
    return sorted(ProgressEntry.objects.values_list("target__code", "period", "value", "status"))


def test_the_screen_is_for_managers(english, reported):
    assert english.get(EXCHANGE).status_code == 302  # to sign in
    for persona in ("staff", "dept_staff"):
        english.force_login(reported[persona])
        assert english.get(EXCHANGE).status_code == 403
        assert english.get(EXPORT + "?plan=BX-2025-2030").status_code == 403
    english.force_login(reported["manager"])
    page = english.get(EXCHANGE)
    assert page.status_code == 200
    assert b'<option value="BX-2025-2030">' in page.content
    assert f'href="{EXCHANGE}"'.encode() in page.content  # in the menu


def test_the_export_downloads_the_document(english, reported):
    client = signed_in(english, reported["manager"])
    response = client.get(EXPORT, {"plan": "BX-2025-2030", "start": "2025Q3", "end": "2025-Q4"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="dhis2-BX-2025-2030-2025-Q3-2025-Q4.json"')
    document = json.loads(response.content)
    assert document["dataValues"] == [
        {"dataElement": "BX-IP", "period": "2025Q3", "orgUnit": "LC-BATXAT", "value": "0"},
        {"dataElement": "BX-IP", "period": "2025Q4", "orgUnit": "LC-BATXAT", "value": "1",
         "comment": "Quyết định số 12/QĐ-UBND"},
    ]
    assert "Quyết định" in response.content.decode()  # UTF-8, not \u escapes


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"plan": "BX-2025-2030", "start": "2026-9M"},
         "DHIS2 has no nine-month period type: 2026-9M cannot be exchanged."),
        ({"plan": "BX-2025-2030", "start": "2026Q2", "end": "2026Q1"},
         "The last period is before the first."),
        ({"plan": "BX-2025-2030", "data_set": "not-a-uid"}, "A DHIS2 UID is 11 letters"),
        ({"plan": "MLT-NOPE"}, "Choose one of the plans listed."),
        ({}, "Choose the plan to export."),
    ],
)
def test_a_bad_export_request_shows_the_reason_next_to_its_field(english, reported, query,
                                                                 message):
    response = signed_in(english, reported["manager"]).get(EXPORT, query)
    assert response.status_code == 200
    assert "Content-Disposition" not in response
    assert message in response.content.decode()


def test_the_outsiders_plan_list_is_empty(english, reported):
    response = signed_in(english, reported["outsider"]).get(EXPORT, {"plan": "BX-2025-2030"})
    assert "Choose one of the plans listed." in response.content.decode()


def test_an_export_uploaded_back_has_nothing_to_change(english, reported):
    client = signed_in(english, reported["manager"])
    content = client.get(EXPORT, {"plan": "BX-2025-2030"}).content
    before = entries()
    page = upload(client, content)
    assert page.status_code == 200
    assert "Nothing to change: the 2 data values equal what is recorded." in page.content.decode()
    assert b"confirm-form" not in page.content
    assert not Dhis2Upload.objects.exists()
    assert entries() == before


def test_a_dry_run_then_one_confirm_imports_the_document_once(english, reported):
    client = signed_in(english, reported["manager"])
    content = json.dumps({"dataValues": [
        {"dataElement": "BX-IP", "period": "2026Q1", "orgUnit": "LC-BATXAT", "value": "1"},
        {"dataElement": "BX-IP", "period": "2025Q3", "orgUnit": "LC-BATXAT", "value": "0"},
    ]}).encode()
    page = upload(client, content)
    text = page.content.decode()
    assert "2 data values are valid; the import records them as Submitted." in text
    assert "Would create 1, update 0, approve 0; 1 unchanged." in text
    kept = Dhis2Upload.objects.get()
    assert (kept.state, kept.user, kept.value_count) == (
        ImportState.PREVIEWED, reported["manager"], 2)
    assert ProgressEntry.objects.filter(period="2026-Q1").count() == 0  # a dry run
    done = client.post(CONFIRM, {"token": kept.pk})
    result = reverse("dhis2:import-result", args=[kept.pk])
    assert done.status_code == 302 and done["Location"] == result
    entry = ProgressEntry.objects.get(period="2026-Q1")
    assert (entry.status, entry.author) == (EntryStatus.SUBMITTED, reported["manager"])
    page = client.get(result).content.decode()
    assert "1 created, 0 updated, 0 approved, 1 unchanged." in page
    # A second click imports nothing again.
    again = client.post(CONFIRM, {"token": kept.pk}, follow=True)
    assert again.redirect_chain == [(result, 302)]
    assert "This document has already been imported; here is its import." in (
        again.content.decode())
    assert ProgressEntry.objects.filter(period="2026-Q1").count() == 1
    kept.refresh_from_db()
    assert (kept.state, bytes(kept.content)) == (ImportState.DONE, b"")


def test_a_dry_run_with_problems_lists_them_and_keeps_nothing(english, reported):
    client = signed_in(english, reported["manager"])
    content = json.dumps({"dataValues": [
        {"dataElement": "BX-IP", "period": "202603", "orgUnit": "LC-BATXAT", "value": "1"},
        {"dataElement": "BX-IP", "period": "2025Q3", "orgUnit": "LC-BATXAT", "value": "5"},
    ]}).encode()
    text = upload(client, content).content.decode()
    assert "2 problems: nothing will be written." in text
    assert "BX-IP reports quarterly: 202603 is a monthly period." in text
    assert "BX-IP already has a approved entry for 2025-Q3." in text
    assert not Dhis2Upload.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("dv.json", b"{not json", "This is not valid JSON (line 1, column 2)"),
        ("dv.json", b"\xff\xfe{", "The file is not UTF-8 text"),
        ("dv.csv", b"target,period,value\n", "“csv” files are not accepted. Use a .json file"),
        ("dv.json", b" " * (2 * 1024 * 1024 + 1), "The file is 2.0\xa0MB; the limit is "
                                                  "2.0\xa0MB."),
    ],
)
def test_a_bad_upload_says_why_and_writes_nothing(english, reported, name, content, message):
    before = entries()
    response = upload(signed_in(english, reported["manager"]), content, name=name)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert entries() == before and not Dhis2Upload.objects.exists()


def test_an_upload_of_someone_else_cannot_be_confirmed_or_read(english, reported):
    content = json.dumps({"dataValues": [
        {"dataElement": "BX-IP", "period": "2026Q1", "orgUnit": "LC-BATXAT", "value": "1"},
    ]}).encode()
    upload(signed_in(english, reported["manager"]), content)
    kept = Dhis2Upload.objects.get()
    client = signed_in(english, reported["province"])
    response = client.post(CONFIRM, {"token": kept.pk}, follow=True)
    assert "That dry run has expired: upload the document again." in response.content.decode()
    assert client.get(reverse("dhis2:import-result", args=[kept.pk])).status_code == 404
    assert ProgressEntry.objects.filter(period="2026-Q1").count() == 0
    for token in ("", "abc", "9" * 30):
        assert client.post(CONFIRM, {"token": token}).status_code == 302


def test_the_screen_speaks_vietnamese(client, reported):
    client.force_login(reported["manager"])
    page = client.get(EXCHANGE).content.decode()
    assert "<h1 class=\"h3\">Trao đổi dữ liệu DHIS2</h1>" in page
    response = client.get(EXPORT, {"plan": "BX-2025-2030", "start": "2026-9M"})
    assert ("DHIS2 không có loại kỳ chín tháng: không thể trao đổi 2026-9M. Hãy chọn các "
            "tháng, các quý hoặc cả năm thay thế.") in response.content.decode()
    # The notes of a document speak the language of the one who exported it.
    with translation.override("vi"):
        document = dhis2_export(user=reported["manager"],
                                plan=Plan.objects.get(code="BX-2025-2030"))
    assert document["notes"][0] == (
        "Theo dõi chỉ tiêu: các giá trị đã duyệt của kế hoạch BX-2025-2030, từ kỳ … đến kỳ … "
        "(2 giá trị dữ liệu).")


def test_the_dry_run_shows_names_and_identifiers_as_text(english, reported):
    client = signed_in(english, reported["manager"])
    content = json.dumps({"dataValues": [
        {"dataElement": "<b>x</b>", "period": "2026Q1", "orgUnit": "<i>y</i>", "value": "1"},
    ]}).encode()
    text = upload(client, content, name="<script>.json").content.decode()
    assert "<b>x</b>" not in text and "<i>y</i>" not in text and "<script>.json" not in text
    assert "Unknown data element “&lt;b&gt;x&lt;/b&gt;”." in text
    assert "Dry run of &lt;script&gt;.json" in text
