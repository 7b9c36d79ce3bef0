"""Evidence files: content checked against the extension, random stored names with the original
offered on download, replaced and deleted files removed, access kept to the target's scope."""

from __future__ import annotations

import io
import re
import shutil
import struct
import zipfile
import zlib
from datetime import date
from pathlib import Path
from urllib.parse import quote

import filetype
import openpyxl
import pytest
from django.core.files import File
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from targets import evidence
from targets.errors import WorkflowError
from targets.models import ProgressEntry, Target
from targets.services import entries as workflow
from tests.conftest import rolled_back, submitted_entry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english", "in_english")]
LATER = date(2031, 1, 1)  # every period of the small plan has begun


# --- real files of each kind -----------------------------------------------------------------


def png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = png_bytes()
HTML = b"<!DOCTYPE html><html><body><table><tr><td>1</td></tr></table></body></html>"


def xlsx_bytes(macros: bool = False) -> bytes:
    book = openpyxl.Workbook()
    book.active.append(["target", "value"])
    buffer = io.BytesIO()
    book.save(buffer)
    if not macros:
        return buffer.getvalue()
    with zipfile.ZipFile(buffer, "a") as package:
        package.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0macros")
    return buffer.getvalue()


def zip_bytes(*parts: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for part in parts:
            package.writestr(part, "<x/>")
    return buffer.getvalue()


DOCX = zip_bytes("[Content_Types].xml", "_rels/.rels", "word/document.xml")
XLSX = xlsx_bytes()
GOOD = {"pdf": PDF, "jpg": JPEG, "jpeg": JPEG, "png": PNG, "xlsx": XLSX, "docx": DOCX}


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def stored_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def save(user, content: bytes, name: str, code: str = "BX-IP", period: str = "2026-Q3"):
    return workflow.entry_save_draft(
        user=user, target_id=Target.objects.get(code=code).pk, period=period, value="1",
        evidence_file=SimpleUploadedFile(name, content), today=LATER,
    )


def report_url(code: str) -> str:
    return reverse("targets:report", args=[code])


def post(client, code: str = "BX-IP", **data):
    data.setdefault("period", "2026-Q3")
    data.setdefault("action", "draft")
    data.setdefault("value", "1")
    return client.post(report_url(code), data)


RANDOM_NAME = re.compile(r"evidence/\d{4}/\d{2}/[0-9a-f]{32}\.(pdf|jpg|jpeg|png|xlsx|docx)")


# --- the content must be what the extension says -------------------------------------------


@pytest.mark.parametrize("ext", sorted(GOOD))
def test_each_accepted_type_is_stored_under_a_random_name(people, media, ext):
    entry = save(people["staff"], GOOD[ext], f"Báo cáo quý.{ext}")
    assert RANDOM_NAME.fullmatch(entry.evidence_file.name)
    assert entry.evidence_file.name.endswith(f".{ext}")
    assert entry.evidence_name == f"Báo cáo quý.{ext}"
    assert stored_files(media) == [entry.evidence_file.name]
    assert (media / entry.evidence_file.name).read_bytes() == GOOD[ext]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("scan.pdf", PNG, "named .pdf but its content is PNG, not PDF"),
        ("photo.png", JPEG, "named .png but its content is JPG, not PNG"),
        ("photo.jpg", PDF, "named .jpg but its content is PDF, not JPG"),
        ("table.xlsx", HTML, "holds a web page (HTML or XML), not XLSX"),
        ("table.xlsx", DOCX, "named .xlsx but its content is DOCX"),
        ("letter.docx", XLSX, "named .docx but its content is XLSX"),
        ("letter.docx", zip_bytes("notes.txt"), "a ZIP archive, not DOCX"),
        ("table.xlsx", XLSX[:200], "This XLSX file is damaged"),
        ("table.xlsx", xlsx_bytes(macros=True), "holds macros"),
        ("scan.pdf", b"just some words", "its content is not PDF"),
        ("scan.pdf", b"", "The file is empty"),
        ("run.exe", b"MZ\x90\x00", "“exe” files are not accepted"),
    ],
)
def test_content_that_is_not_the_declared_type_is_refused_and_nothing_is_written(
    people, media, name, content, message
):
    with pytest.raises(WorkflowError) as refused:
        save(people["staff"], content, name)
    assert refused.value.field == "evidence_file"
    assert message in refused.value.message
    assert ProgressEntry.objects.count() == 0
    assert stored_files(media) == []


def test_a_refusal_is_shown_next_to_the_field_in_the_users_language(client, people, media):
    client.force_login(people["staff"])
    fake = SimpleUploadedFile("scan.pdf", PNG, content_type="application/pdf")
    response = post(client, evidence_file=fake)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["evidence_file"]
    assert "named .pdf but its content is PNG, not PDF" in str(errors["evidence_file"])
    assert 'id="error_1_id_evidence_file"' in response.content.decode()
    assert ProgressEntry.objects.count() == 0
    assert stored_files(media) == []


# --- stored under a random name, offered under its own ----------------------------------------

VIETNAMESE = "Quyết định số 12 – đầu tư.pdf"


def test_an_upload_is_offered_back_under_its_own_vietnamese_name(client, people, media):
    client.force_login(people["staff"])
    response = post(client, evidence_file=SimpleUploadedFile(VIETNAMESE, PDF, "text/html"))
    assert response.status_code == 302
    entry = ProgressEntry.objects.get()
    assert RANDOM_NAME.fullmatch(entry.evidence_file.name)
    assert entry.evidence_name == VIETNAMESE
    assert VIETNAMESE in client.get(report_url("BX-IP") + "?period=2026-Q3").content.decode()
    download = client.get(reverse("targets:evidence", args=[entry.pk]))
    assert download.status_code == 200
    assert download["Content-Disposition"] == f"attachment; filename*=utf-8''{quote(VIETNAMESE)}"
    assert download["X-Content-Type-Options"] == "nosniff"
    # The type follows the checked extension, not what the browser claimed at upload.
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content) == PDF


def test_the_admin_links_the_file_under_its_own_name_through_the_checked_download(
    client, people, media
):
    entry = save(people["staff"], PDF, "<i>quyết định.pdf")
    client.force_login(people["admin"])
    page = client.get(reverse("admin:targets_progressentry_change", args=[entry.pk]))
    html = page.content.decode()
    link = reverse("targets:evidence", args=[entry.pk])
    assert f'<a href="{link}">&lt;i&gt;quyết định.pdf</a>' in html
    assert "/media/" not in html  # media is never served: the download checks scope


@pytest.mark.parametrize("ext", sorted(GOOD))
def test_no_download_is_a_page(client, people, media, ext):
    entry = save(people["staff"], GOOD[ext], f"x.{ext}")
    client.force_login(people["manager"])
    download = client.get(reverse("targets:evidence", args=[entry.pk]))
    assert download["Content-Disposition"].startswith("attachment;")
    assert "html" not in download["Content-Type"]
    assert download["Content-Type"] == evidence.TYPES[ext][2]


def test_the_download_is_scoped_to_the_targets_viewers(client, people, media):
    entry = save(people["staff"], PDF, "decision.pdf")
    link = reverse("targets:evidence", args=[entry.pk])
    for who in ("staff", "manager", "province", "admin"):
        client.force_login(people[who])
        assert client.get(link).status_code == 200, who
    for who in ("outsider", "dept_staff"):
        client.force_login(people[who])
        assert client.get(link).status_code == 404, who
    client.logout()
    assert client.get(link).status_code == 302


def test_a_file_missing_from_storage_is_404_not_a_crash(client, people, media):
    entry = save(people["staff"], PDF, "decision.pdf")
    (media / entry.evidence_file.name).unlink()
    client.force_login(people["staff"])
    assert client.get(reverse("targets:evidence", args=[entry.pk])).status_code == 404


@pytest.mark.parametrize(
    ("uploaded", "kept"),
    [
        ("C:\\Users\\Lan\\Báo cáo.pdf", "Báo cáo.pdf"),
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("evil\u202egpj.pdf", "evilgpj.pdf"),  # no right-to-left override
        ("line\nbreak\x00.pdf", "linebreak.pdf"),
        ("  spaced   out .pdf", "spaced out .pdf"),
        ("Quye\u0302\u0301t.pdf", "Quyết.pdf"),  # decomposed Vietnamese becomes NFC
        ("a" * 300 + ".pdf", "a" * (evidence.NAME_MAX - 4) + ".pdf"),
        ("/", "evidence"),
    ],
)
def test_the_original_name_is_cleaned(uploaded, kept):
    assert evidence.original_name(uploaded) == kept
    assert len(evidence.original_name(uploaded)) <= evidence.NAME_MAX


def test_a_file_given_by_path_to_the_service_keeps_only_its_name(people, media, tmp_path_factory):
    path = tmp_path_factory.mktemp("scans") / "Biên bản.pdf"
    path.write_bytes(PDF)
    with path.open("rb") as handle:
        entry = workflow.entry_save_draft(
            user=people["staff"], target_id=Target.objects.get(code="BX-IP").pk,
            period="2026-Q3", value="1", evidence_file=File(handle, name=str(path)), today=LATER,
        )
    assert entry.evidence_name == "Biên bản.pdf"
    assert RANDOM_NAME.fullmatch(entry.evidence_file.name)


# --- replaced and deleted files leave storage ---------------------------------------------------


def test_a_replaced_file_is_deleted_once_the_change_commits(
    client, people, media, django_capture_on_commit_callbacks
):
    client.force_login(people["staff"])
    with django_capture_on_commit_callbacks(execute=True):
        post(client, evidence_file=SimpleUploadedFile("first.pdf", PDF))
    first = ProgressEntry.objects.get().evidence_file.name
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, evidence_file=SimpleUploadedFile("second.png", PNG),
                        version=1, opened_period="2026-Q3")
    assert response.status_code == 302
    entry = ProgressEntry.objects.get()
    assert (entry.evidence_name, entry.version) == ("second.png", 2)
    assert stored_files(media) == [entry.evidence_file.name]
    assert first != entry.evidence_file.name
    # The history keeps the replaced file's name only.
    assert set(entry.history.values_list("evidence_file", flat=True)) == {
        first, entry.evidence_file.name}


def test_a_replaced_file_stays_if_the_change_rolls_back(
    people, media, django_capture_on_commit_callbacks
):
    entry = save(people["staff"], PDF, "first.pdf")
    first = entry.evidence_file.name
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                save(people["staff"], PNG, "second.png")
                assert (media / first).exists()  # nothing is removed before the commit
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
    assert ProgressEntry.objects.get().evidence_file.name == first
    assert (media / first).exists()


def test_a_file_another_entry_refers_to_is_kept(
    people, media, django_capture_on_commit_callbacks
):
    entry = save(people["staff"], PDF, "shared.pdf")
    shared = entry.evidence_file.name
    other = submitted_entry(people["staff"], "BX-IP", "2026-Q4", "1")
    ProgressEntry.objects.filter(pk=other.pk).update(evidence_file=shared)
    with django_capture_on_commit_callbacks(execute=True):
        save(people["staff"], PNG, "new.png")
    assert (media / shared).exists()


def test_a_failed_save_leaves_no_file(people, media):
    entry = submitted_entry(people["staff"], "BX-IP", "2026-Q3", "1")
    with pytest.raises(WorkflowError, match="cannot be changed"):
        save(people["staff"], PDF, "late.pdf")
    assert ProgressEntry.objects.get(pk=entry.pk).evidence_file.name == ""
    assert stored_files(media) == []


def test_a_failed_submission_leaves_no_file(client, people, media, monkeypatch):
    def refuse(**kwargs):
        raise WorkflowError("The submission failed.")

    monkeypatch.setattr(workflow, "entry_submit", refuse)
    client.force_login(people["staff"])
    response = post(client, evidence_file=SimpleUploadedFile("scan.pdf", PDF), action="submit")
    assert response.status_code == 200
    assert "The submission failed." in response.content.decode()
    assert ProgressEntry.objects.count() == 0
    assert stored_files(media) == []


def test_a_deleted_entry_takes_its_file_with_it(
    client, people, media, django_capture_on_commit_callbacks
):
    kept = save(people["staff"], PDF, "kept.pdf")
    gone = save(people["staff"], PNG, "gone.png", period="2026-Q4")
    with django_capture_on_commit_callbacks(execute=True):
        ProgressEntry.objects.filter(pk=gone.pk).delete()
    assert stored_files(media) == [kept.evidence_file.name]
    # With its target, as the admin deletes it: the cascade takes the last file too.
    with django_capture_on_commit_callbacks(execute=True):
        Target.objects.filter(code="BX-IP").delete()
    assert stored_files(media) == []


def test_deleting_an_entry_whose_file_is_gone_is_no_error(
    people, media, django_capture_on_commit_callbacks
):
    entry = save(people["staff"], PDF, "kept.pdf")
    (media / entry.evidence_file.name).unlink()
    with django_capture_on_commit_callbacks(execute=True):
        entry.delete()
    assert ProgressEntry.objects.count() == 0


def test_prune_evidence_removes_old_files_no_entry_refers_to(people, media):
    import os
    import time

    from django.core.management import call_command

    entry = save(people["staff"], PDF, "kept.pdf")
    leftover = media / "evidence/2025/01/0123456789abcdef0123456789abcdef.pdf"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(PDF)
    young = media / "evidence/2026/12/fedcba9876543210fedcba9876543210.png"
    young.parent.mkdir(parents=True, exist_ok=True)
    young.write_bytes(PNG)
    day_ago = time.time() - 25 * 3600
    for path in (leftover, media / entry.evidence_file.name):
        os.utime(path, (day_ago, day_ago))
    out = io.StringIO()
    call_command("prune_evidence", "--dry-run", stdout=out)
    assert "evidence/2025/01/0123456789abcdef0123456789abcdef.pdf" in out.getvalue()
    assert leftover.exists()
    call_command("prune_evidence", stdout=io.StringIO())
    # The referenced file stays, however old; the unreferenced young one may be a save under way.
    assert stored_files(media) == sorted([entry.evidence_file.name, str(young.relative_to(media))])


# --- any bytes: accepted as what they claim, or refused with a message --------------------------


PREFIXES = [b"", b"%PDF-1.7\n", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"PK\x03\x04", b"<html>",
            b"\xef\xbb\xbf<!doctype html>", b"GIF89a", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"]
CONTENT = st.one_of(
    st.builds(lambda prefix, rest: prefix + rest, st.sampled_from(PREFIXES),
              st.binary(max_size=200)),
    # Real files, whole or cut short, or with bytes appended.
    st.builds(lambda real, cut, tail: real[:cut] + tail, st.sampled_from(list(GOOD.values())),
              st.integers(min_value=0, max_value=20_000), st.binary(max_size=20)),
)


def _accepted_as_claimed(content: bytes, ext: str) -> bool:
    found = filetype.guess(content)
    if found is None or found.mime not in evidence.TYPES[ext][1]:
        return False
    if ext in evidence.PACKAGE_PARTS:
        with zipfile.ZipFile(io.BytesIO(content)) as package:
            return evidence.PACKAGE_PARTS[ext] in package.namelist()
    return True


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=CONTENT, ext=st.sampled_from(evidence.EXTENSIONS))
def test_any_bytes_are_accepted_as_what_they_claim_or_refused_with_a_message(
    client, people, media, content, ext
):
    shutil.rmtree(media, ignore_errors=True)
    media.mkdir(exist_ok=True)
    with rolled_back():
        client.force_login(people["staff"])
        response = post(client, evidence_file=SimpleUploadedFile(f"f.{ext}", content))
        assert response.status_code in (200, 302)
        if response.status_code == 302:
            entry = ProgressEntry.objects.get()
            assert _accepted_as_claimed(content, ext)
            assert stored_files(media) == [entry.evidence_file.name]
            assert entry.evidence_file.name.endswith(f".{ext}")
        else:
            errors = response.context["form"].errors
            assert list(errors) == ["evidence_file"] and str(errors["evidence_file"]).strip()
            assert ProgressEntry.objects.count() == 0
            assert stored_files(media) == []
