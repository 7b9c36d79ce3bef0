"""Bulk import in the browser: preview every row with its problems, confirm, all or nothing."""

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from targets.models import EntryStatus, ProgressEntry, Status, Target

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
URL = reverse("targets:import")
CONFIRM = reverse("targets:import-confirm")

GOOD = "target,period,value,note\nBX-IP,2025-Q3,0,site cleared\nBX-IP,2025-Q4,1,first park\n"
BAD = (
    "target,period,value,note\n"
    "BX-IP,2025-Q3,zero,\n"          # not a number
    "BX-IP,2019-Q1,1,\n"             # not a period of the target
    "NOPE,2025-Q3,1,\n"              # unknown target
    "BX-IP,2025-Q4,1.5,\n"           # not a whole number
    "BX-IP,2026-Q1,1,\n"             # fine on its own
)


def upload(client, content: str | bytes, name: str = "entries.csv", status: str = "submitted"):
    data = content.encode() if isinstance(content, str) else content
    return client.post(URL, {"file": SimpleUploadedFile(name, data), "status": status})


def test_every_screen_role_may_open_the_import(client, people):
    for who in ("staff", "manager", "outsider"):
        client.force_login(people[who])
        assert client.get(URL).status_code == 200


def test_signed_out_goes_to_login(client, people):
    assert client.get(URL).status_code == 302
    assert client.post(CONFIRM).status_code == 302


def test_a_bad_file_shows_every_error_and_writes_nothing(client, people):
    client.force_login(people["staff"])
    response = upload(client, BAD)
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [bool(r.problems) for r in rows] == [True, True, True, True, False]
    assert [r.problems[0].field for r in rows[:4]] == ["value", "period", "target", "value"]
    assert response.context["problems"] == 4
    html = response.content.decode()
    assert 'id="confirm-form"' not in html
    assert "not a number" in html and "whole number" in html and "Unknown target" in html
    assert ProgressEntry.objects.count() == 0
    # Nothing waits in the session either: a confirm has nothing to write.
    client.post(CONFIRM, {"token": response.context["token"]})
    assert ProgressEntry.objects.count() == 0


def test_a_file_with_a_wrong_header_says_so(client, people):
    client.force_login(people["staff"])
    response = upload(client, "code,period,value\nBX-IP,2025-Q3,1\n")
    assert "Missing column" in str(response.context["file_problems"][0])
    assert ProgressEntry.objects.count() == 0


def test_a_file_of_another_type_is_refused(client, people):
    client.force_login(people["staff"])
    response = upload(client, "x", name="entries.ods")
    assert "file" in response.context["form"].errors


def test_targets_outside_the_scope_read_as_unknown(client, people):
    client.force_login(people["dept_staff"])
    response = upload(client, GOOD)
    assert all("Unknown target" in r.problems[0].message for r in response.context["rows"])


def test_preview_then_confirm_writes_the_whole_file(client, people):
    client.force_login(people["staff"])
    preview = upload(client, GOOD)
    assert preview.context["problems"] == 0
    assert ProgressEntry.objects.count() == 0
    response = client.post(CONFIRM, {"token": preview.context["token"]})
    assert response.status_code == 302
    assert sorted(ProgressEntry.objects.values_list("period", "status")) == [
        ("2025-Q3", "submitted"), ("2025-Q4", "submitted"),
    ]
    # The preview is used up: confirming again writes nothing more.
    client.post(CONFIRM, {"token": preview.context["token"]})
    assert ProgressEntry.objects.count() == 2


def test_a_stale_token_writes_nothing(client, people):
    client.force_login(people["staff"])
    upload(client, GOOD)
    client.post(CONFIRM, {"token": "not-the-token"})
    assert ProgressEntry.objects.count() == 0


def test_xlsx_files_are_read(client, people):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["target", "period", "value", "note"])
    sheet.append(["BX-IP", "2025-Q3", 0, "from Excel"])
    buffer = io.BytesIO()
    book.save(buffer)
    client.force_login(people["staff"])
    preview = upload(client, buffer.getvalue(), name="entries.xlsx")
    assert preview.context["problems"] == 0
    client.post(CONFIRM, {"token": preview.context["token"]})
    assert ProgressEntry.objects.get().note == "from Excel"


def test_staff_may_not_import_as_approved(client, people):
    client.force_login(people["staff"])
    response = upload(client, GOOD, status="approved")
    assert "status" in response.context["form"].errors
    assert ProgressEntry.objects.count() == 0


def test_managers_may_import_as_approved_and_the_targets_are_reassessed(client, assessed):
    client.force_login(assessed["manager"])
    preview = upload(client, GOOD, status="approved")
    assert preview.context["problems"] == 0
    client.post(CONFIRM, {"token": preview.context["token"]})
    assert set(ProgressEntry.objects.values_list("status", flat=True)) == {EntryStatus.APPROVED}
    assert Target.objects.get(code="BX-IP").latest_assessment.status != Status.NO_DATA


def test_problems_name_their_columns_in_vietnamese(client, people):
    client.force_login(people["staff"])
    client.cookies["django_language"] = "vi"
    html = upload(client, BAD).content.decode()
    for label in ("Giá trị", "Kỳ", "Chỉ tiêu"):
        assert f"<strong>{label}</strong>:" in html
    for field in ("value", "period", "target"):
        assert f"<strong>{field}</strong>" not in html
    header = upload(client, "code,period,value\nBX-IP,2025-Q3,1\n").content.decode()
    assert "Dòng tiêu đề:" in header and "row 1" not in header
