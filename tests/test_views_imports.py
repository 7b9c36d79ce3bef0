"""Bulk import in the browser: preview with every problem, confirm once, result or progress."""

import io
from datetime import timedelta

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from targets import tasks
from targets.models import EntryStatus, ImportJob, ImportState, ProgressEntry, Status, Target
from targets.services import import_jobs
from targets.views import imports as import_views
from tests.alerting import RULES
from tests.conftest import submitted_entry

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


def job_url(job: ImportJob) -> str:
    return f"{URL}?job={job.pk}"


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
    # Nothing waits to be confirmed either.
    assert not ImportJob.objects.exists()
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
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == job_url(job)
    assert sorted(ProgressEntry.objects.values_list("period", "status")) == [
        ("2025-Q3", "submitted"), ("2025-Q4", "submitted"),
    ]
    result = client.get(response.url)
    assert 'id="import-done"' in result.content.decode()
    assert "2 created, 0 updated, 0 approved, 0 unchanged" in result.content.decode()
    assert job.state == ImportState.DONE and bytes(job.content) == b""  # the upload is gone


def test_the_upload_waits_outside_the_session(client, people):
    client.force_login(people["staff"])
    upload(client, GOOD)
    session = client.session
    assert "site cleared" not in str(dict(session.items()))
    assert all(len(str(value)) < 200 for value in session.values())


def test_a_double_confirm_imports_once_and_says_so(client, people):
    client.force_login(people["staff"])
    token = upload(client, GOOD).context["token"]
    first = client.post(CONFIRM, {"token": token})
    second = client.post(CONFIRM, {"token": token}, follow=True)
    assert second.status_code == 200
    assert second.redirect_chain[-1][0] == first.url  # the same result page
    assert "already been confirmed" in second.content.decode()
    assert ProgressEntry.objects.count() == 2


def test_a_stale_or_foreign_token_writes_nothing(client, people):
    client.force_login(people["staff"])
    token = upload(client, GOOD).context["token"]
    for bad in ("not-the-token", "", str(token + 1), "9" * 40):
        response = client.post(CONFIRM, {"token": bad}, follow=True)
        assert "expired" in response.content.decode()
    client.force_login(people["staff2"])  # someone else's upload is not theirs to confirm
    client.post(CONFIRM, {"token": token})
    assert ProgressEntry.objects.count() == 0


def test_a_new_upload_replaces_the_previous_preview(client, people):
    client.force_login(people["staff"])
    first = upload(client, GOOD).context["token"]
    upload(client, GOOD)
    client.post(CONFIRM, {"token": first})
    assert ProgressEntry.objects.count() == 0
    assert ImportJob.objects.count() == 1


def test_a_file_that_became_invalid_before_the_confirm_shows_its_problems(client, people):
    client.force_login(people["staff"])
    token = upload(client, GOOD).context["token"]
    submitted_entry(people["staff2"], "BX-IP", "2025-Q4", "3")  # a colleague, meanwhile
    response = client.post(CONFIRM, {"token": token}, follow=True)
    html = response.content.decode()
    assert 'id="import-failed"' in html and "already has a submitted entry" in html
    assert ProgressEntry.objects.count() == 1


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


def test_managers_approve_submitted_entries_by_import_and_the_targets_are_reassessed(
    client, assessed
):
    client.force_login(assessed["staff"])
    client.post(CONFIRM, {"token": upload(client, GOOD).context["token"]})
    client.force_login(assessed["manager"])
    preview = upload(client, GOOD, status="approved")
    assert preview.context["problems"] == 0
    assert "approves the submitted entry" in preview.content.decode()
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


def test_a_nul_byte_anywhere_is_a_problem_not_a_server_error(client, people):
    client.force_login(people["staff"])
    content = "target,period,value,note\nBX\x00IP,2025-Q3,1,\nBX-IP,2025-Q4,1,a\x00b\n"
    response = upload(client, content)
    assert response.status_code == 200 and response.context["problems"] == 2
    response = upload(client, GOOD, name="entr\x00ies.csv")
    assert response.status_code == 200


# --- large files ----------------------------------------------------------------------------


def many_rows(count: int, bad_every: int = 0) -> str:
    """``count`` rows over BX-IP's and BX-OCC's periods; every ``bad_every``-th value is bad."""
    periods = [f"{y}-Q{q}" for y in (2025, 2026) for q in range(1, 5)][2:]
    lines = ["target,period,value"]
    for i in range(count):
        code = "BX-IP" if i % 2 else "BX-OCC"
        value = "x" if bad_every and i % bad_every == 0 else str(i % 2)
        lines.append(f"{code},{periods[(i // 2) % len(periods)]},{value}")
    return "\n".join(lines) + "\n"


def test_the_preview_of_a_long_file_shows_its_first_rows_and_counts_every_problem(
    client, people
):
    client.force_login(people["manager"])
    response = upload(client, many_rows(300, bad_every=50))
    assert len(response.context["rows"]) == import_jobs.PREVIEW_ROWS
    assert response.context["more_rows"] == 200
    # 6 bad values, and every row past the 12th repeats a target and period.
    assert response.context["problems"] == 6 + 288
    html = response.content.decode()
    assert "200 more rows" in html and 'id="later-problems"' in html


def test_a_large_file_is_imported_by_a_worker_with_a_progress_page(
    client, people, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(import_views, "SYNC_ROWS", 1)
    queued = []
    monkeypatch.setattr(tasks.import_entries, "delay", queued.append)
    client.force_login(people["staff"])
    token = upload(client, GOOD).context["token"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(CONFIRM, {"token": token})
    job = ImportJob.objects.get()
    assert queued == [job.pk] and ProgressEntry.objects.count() == 0
    waiting = client.get(response.url).content.decode()
    assert "Waiting for a worker" in waiting and 'data-refresh-seconds="2"' in waiting
    ImportJob.objects.filter(pk=job.pk).update(state=ImportState.RUNNING, checked_rows=1)
    running = client.get(response.url).content.decode()
    assert "Checking the rows: 1 of 2" in running and 'aria-valuenow="50"' in running
    assert "progress-bar-animated bar-50" in running
    ImportJob.objects.filter(pk=job.pk).update(checked_rows=2)
    assert "writing the entries" in client.get(response.url).content.decode()
    # The worker's task claims the job once: a redelivered message imports nothing twice.
    ImportJob.objects.filter(pk=job.pk).update(state=ImportState.QUEUED)
    assert tasks.import_entries(job.pk) == ImportState.DONE
    assert tasks.import_entries(job.pk) == "not claimed"
    assert ProgressEntry.objects.count() == 2
    done = client.get(response.url).content.decode()
    assert 'id="import-done"' in done and "data-refresh-seconds" not in done


def test_a_job_left_running_by_a_dead_worker_runs_again_after_its_lease(people):
    job = ImportJob.objects.create(
        user=people["staff"], filename="entries.csv", content=GOOD.encode(),
        state=ImportState.RUNNING, started_at=timezone.now(), total_rows=2,
    )
    # Still within its lease:
    assert import_jobs.import_job_run(job_id=job.pk, reassess=RULES) is None
    ImportJob.objects.filter(pk=job.pk).update(
        started_at=timezone.now() - import_jobs.RUN_LEASE - timedelta(seconds=1)
    )
    assert import_jobs.import_job_run(job_id=job.pk, reassess=RULES).state == ImportState.DONE
    assert ProgressEntry.objects.count() == 2


def test_an_import_page_is_its_owners_only(client, people):
    client.force_login(people["staff"])
    client.post(CONFIRM, {"token": upload(client, GOOD).context["token"]})
    job = ImportJob.objects.get()
    assert client.get(job_url(job)).status_code == 200
    client.force_login(people["staff2"])
    assert client.get(job_url(job)).status_code == 404
    for bad in ("x", "9" * 40, "%00", "²", "１"):
        assert client.get(f"{URL}?job={bad}").status_code == 404


# --- a NUL in a URL is a 404, never a 500 ---------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/targets/BX%00WARD/",
        "/targets/BX%00WARD/report/",
        "/targets/BX-IP/report/?period=%00",
        "/targets/BX-IP/report/?period=2019-Q1",
    ],
)
def test_a_nul_or_unknown_period_in_a_url_is_not_found(client, people, url):
    client.force_login(people["staff"])
    assert client.get(url).status_code == 404


def test_a_nul_period_posted_to_the_report_form_is_a_form_error(client, people):
    client.force_login(people["staff"])
    response = client.post(
        reverse("targets:report", args=["BX-IP"]), {"period": "\x00", "value": "1"}
    )
    assert response.status_code == 200 and "period" in response.context["form"].errors


# --- a real worker ------------------------------------------------------------------------


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_a_large_file_is_imported_by_a_real_worker(client, people, monkeypatch, embedded_worker):
    from tests.mailserver import wait_until

    monkeypatch.setattr(import_views, "SYNC_ROWS", 1)
    client.force_login(people["staff"])
    token = upload(client, GOOD).context["token"]
    response = client.post(CONFIRM, {"token": token})
    assert wait_until(
        lambda: ImportJob.objects.filter(state=ImportState.DONE).exists(), timeout=30
    )
    assert 'id="import-done"' in client.get(response.url).content.decode()
    assert ProgressEntry.objects.count() == 2


# --- a template to fill in ---------------------------------------------------------------


def test_the_template_lists_the_users_targets_and_their_unreported_periods(client, people):
    from targets import rules

    submitted_entry(people["staff"], "BX-IP", "2025-Q3", "0")  # reported: not in the template
    client.force_login(people["staff"])
    response = client.get(reverse("targets:import-template", args=["csv"]))
    assert response["Content-Disposition"] == 'attachment; filename="entries-template.csv"'
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "target,period,value,note"
    target = Target.objects.get(code="BX-IP")  # bx.staff reports on BX-IP only (its unit's)
    today = timezone.localdate()
    begun = [p.key for p in target.reporting_periods() if rules.period_started(p, today)]
    assert lines[1:] == [f"BX-IP,{key},," for key in begun if key != "2025-Q3"]
    # Filled in and uploaded as it is, it previews without a problem.
    filled = "\n".join([lines[0], *(line.replace(",,", ",1,") for line in lines[1:3])])
    preview = upload(client, filled)
    assert b'id="preview-ok"' in preview.content


def test_the_xlsx_template_is_the_same_rows(client, people):
    client.force_login(people["staff"])
    csv_lines = client.get(reverse("targets:import-template", args=["csv"])).content
    book = openpyxl.load_workbook(
        io.BytesIO(client.get(reverse("targets:import-template", args=["xlsx"])).content)
    )
    rows = [[cell or "" for cell in row] for row in book.active.iter_rows(values_only=True)]
    assert [",".join(row) for row in rows] == csv_lines.decode("utf-8-sig").splitlines()
    assert book.active.freeze_panes == "A2"
