"""The periodic report (issue 13): a PDF laid out as an administrative document, the same
content as DOCX and XLSX, its figures the status table's strings, who may download it, and the
form's errors beside their fields.

The world: the small plan, BX-OCC reported to 2026-Q3 (last value 22.5) and lagging, with an
explanation request answered and waiting for the manager's decision; one more target of the
commune, M0000, whose target value 1234.5 shows the notation's grouping. Evaluated on
24/11/2026 (conftest.TODAY).
"""

from __future__ import annotations

import html
import io
import re
from datetime import date, timedelta
from decimal import Decimal

import docx
import openpyxl
import pytest
from django.urls import reverse
from django.utils import translation
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from targets.models import ExplanationAnswer, Role, Target, Unit
from targets.reports.content import period_phrase, report_build, report_periods
from targets.reports.documents import _font_uris, _fonts_only, report_pdf
from targets.services import explanations
from targets.services.plans import load_located, plan_import
from tests.alerting import evaluate, report
from tests.conftest import TODAY, make_user, many_targets_plan, plan_operator

pytestmark = pytest.mark.django_db

URL = reverse("targets:periodic-report")
EMBLEM = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập – Tự do – Hạnh phúc"
ANSWER = "Đất chưa giải phóng xong."
FORM = {
    "unit": "LC-BATXAT", "period": "2026-Q3", "format": "pdf", "number": "12",
    "place": "Bát Xát", "issued_on": "2026-01-05", "recipients": "",
}


@pytest.fixture
def world(people):
    """BX-OCC: 20, 20, 21, 21, 22.5 approved for 2025-Q3 … 2026-Q3; at 30/09/2026 (457 days of
    2010 in) 20 + 60 × 457/2010 = 33.6418 was expected: lagging. M0000: no report."""
    plan_import(data=load_located(many_targets_plan(1)), filename="many.yaml",
                user=plan_operator())
    for period, value in [("2025-Q3", 20), ("2025-Q4", 20), ("2026-Q1", 21), ("2026-Q2", 21),
                          ("2026-Q3", Decimal("22.5"))]:
        report("BX-OCC", period, value, author=people["dept_staff"], reviewer=people["manager"])
    evaluate(TODAY)
    asked = explanations.explanation_ask(
        user=people["manager"], target_id=Target.objects.get(code="BX-OCC").pk,
        question="Vì sao tỷ lệ lấp đầy chỉ 22,5 %?", due_date=TODAY + timedelta(days=7),
        today=TODAY,
    )
    explanations.explanation_answer(user=people["dept_staff"], request_id=asked.pk, text=ANSWER)
    return people


def download(client, user, **changes):
    client.force_login(user)
    return client.get(URL, {**FORM, **changes})


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def status_reason(client, user, code: str) -> str:
    """The reason sentence of one target as the status table shows it (its badge's title)."""
    client.force_login(user)
    page = client.get(reverse("targets:status"), {"q": code}).content.decode()
    return html.unescape(re.search(r'<span class="badge [^"]*" title="([^"]*)"', page).group(1))


def status_strings(client, user, code: str) -> dict[str, str]:
    """The figures and status of one target as the status table's page shows them."""
    client.force_login(user)
    page = client.get(reverse("targets:status"), {"q": code}).content.decode()
    row = re.search(rf'<tr [^>]*>(?:(?!</tr>).)*>{re.escape(code)}</a>(?:(?!</tr>).)*</tr>',
                    page, re.S).group(0)
    expected = re.search(r'as-of"><span class="text-nowrap">([^<]*)</span>', row)
    return {
        "actual": re.search(r'<span class="actual[^"]*">([^<]*)</span>', row).group(1),
        "target": re.search(r'<span class="text-body-secondary">/ (\S+) ', row).group(1),
        "expected": expected.group(1).split()[-1] if expected else "—",
        "status": re.search(r'<span class="badge [^"]*"[^>]*>([^<]*)</span>', row).group(1),
    }


# --- the PDF --------------------------------------------------------------------------------------


def test_the_pdf_is_an_administrative_document_with_the_status_tables_figures(client, world):
    response = download(client, world["manager"])
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        'attachment; filename="report-LC-BATXAT-2026-Q3.pdf"')
    text = pdf_text(response.content)
    words = " ".join(text.split())
    # The header of Decree 30: the governing body, the issuing unit, the number; the emblem
    # lines; the place–date line.
    assert "TỈNH LÀO CAI" in words
    assert "XÃ BÁT XÁT" in words
    assert "Số: 12/BC-LC-BATXAT" in words
    assert EMBLEM in text and MOTTO in text
    assert "Bát Xát, ngày 05 tháng 01 năm 2026" in text
    assert "BÁO CÁO" in text
    assert "Kết quả thực hiện các chỉ tiêu của Xã Bát Xát quý III năm 2026" in words
    assert "đánh giá ngày 24/11/2026" in words
    for heading in ("I. Tóm tắt tình trạng các chỉ tiêu", "II. Kết quả từng chỉ tiêu",
                    "III. Các yêu cầu giải trình đang mở"):
        assert heading in words
    assert "NGƯỜI LẬP BÁO CÁO" in words and "THỦ TRƯỞNG ĐƠN VỊ" in words
    assert "Nơi nhận:" in words
    # The figures, in Vietnamese notation, are the status table's strings.
    occupancy = status_strings(client, world["manager"], "BX-OCC")
    assert occupancy == {"actual": "22,5", "target": "80", "expected": "33,64",
                         "status": "Chậm tiến độ"}
    many = status_strings(client, world["manager"], "M0000")
    assert many["target"] == "1.234,5"
    tokens = text.split()
    for figure in (*occupancy.values(), many["target"]):
        for token in figure.split():
            assert token in tokens, figure
    # The explanation answered, in the target's row and among the open requests.
    assert words.count("Đất chưa giải phóng") == 2


def test_the_pdf_embeds_the_shipped_fonts(client, world):
    """Every font of the PDF is the report's own face (static/fonts), Liberation Serif: none
    of the system's stood in for it."""
    reader = PdfReader(io.BytesIO(download(client, world["manager"]).content))
    fonts = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            program = TTFont(io.BytesIO(descriptor.get_object()["/FontFile2"].get_data()))
            fonts[str(font["/BaseFont"]).split("+")[1]] = program["name"].getDebugName(4)
    assert fonts == {
        "Report-Serif": "Liberation Serif",
        "Report-Serif-Bold": "Liberation Serif Bold",
        "Report-Serif-Italic": "Liberation Serif Italic",
        # "Nơi nhận:" is bold italic: the italic face, emboldened.
        "Report-Serif-Bold-Italic": "Liberation Serif Italic",
    }


def test_the_report_in_english_keeps_the_emblem_lines_in_vietnamese(client, world):
    client.cookies["django_language"] = "en"
    response = download(client, world["manager"], place="Bat Xat")
    text = pdf_text(response.content)
    words = " ".join(text.split())
    assert EMBLEM in text and MOTTO in text
    assert "Bat Xat, 5 January 2026" in text
    assert "No. 12/BC-LC-BATXAT" in words
    assert "REPORT" in text
    assert "Results of the targets of Bat Xat commune for the third quarter of 2026" in words
    assert "I. Summary of the targets' statuses" in words
    assert "HEAD OF THE UNIT" in words and "Recipients:" in words
    occupancy = status_strings(client, world["manager"], "BX-OCC")
    assert occupancy == {"actual": "22.5", "target": "80", "expected": "33.64",
                         "status": "Lagging"}
    tokens = text.split()
    assert {"22.5", "33.64", "1,234.5", "Lagging"} <= set(tokens)


def closing_pages(content: bytes) -> list[tuple[int, bool]]:
    """The pages holding "Nơi nhận" and the head's title: (index, landscape) each."""
    pages = []
    for index, page in enumerate(PdfReader(io.BytesIO(content)).pages):
        words = " ".join(page.extract_text().split())
        landscape = page.mediabox.width > page.mediabox.height
        pages += [(index, landscape) for word in ("Nơi nhận", "THỦ TRƯỞNG ĐƠN VỊ") if word in words]
    return pages


def test_the_closing_block_follows_the_wide_tables_on_a_landscape_page(client, world):
    """Sections II and III are wide; IV follows them on landscape pages, and so do "Nơi nhận"
    and the signers' titles, together: pages 1 portrait, 2 and 3 landscape."""
    content = download(client, world["manager"]).content
    sizes = [(p.mediabox.width > p.mediabox.height) for p in PdfReader(io.BytesIO(content)).pages]
    assert sizes == [False, True, True]
    assert closing_pages(content) == [(2, True), (2, True)]


@pytest.mark.parametrize("lines", [0, 20, 21, 22, 23])
def test_the_closing_block_is_never_split_from_nor_turned_from_its_last_section(world, lines):
    """The last section wide, made longer by ``lines`` notes: with 20 to 22 of them the
    signers' titles used to end the landscape page and "Nơi nhận" start a portrait one; with
    23 the whole block went to a portrait page. Now it stays on the landscape page after IV's
    table up to 22 lines, then moves whole to the next landscape page."""
    with translation.override("vi"):
        built = report_build(
            user=world["manager"],
            unit=Unit.objects.select_related("parent").get(code="LC-BATXAT"),
            period="2026-Q3",
            place="Bát Xát",
            issued_on=date(2026, 1, 5),
            today=TODAY,
        )
        built.sections[-1].wide = True
        built.sections[-1].notes += ["Dòng ghi chú thêm đẩy khối ký xuống cuối trang."] * lines
        content = report_pdf(built)
    page = 2 if lines <= 22 else 3
    assert closing_pages(content) == [(page, True), (page, True)]


# --- DOCX and XLSX --------------------------------------------------------------------------------


def test_the_docx_holds_the_same_header_and_figures(client, world):
    response = download(client, world["manager"], format="docx")
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('report-LC-BATXAT-2026-Q3.docx"')
    document = docx.Document(io.BytesIO(response.content))
    paragraphs = [p.text for p in document.paragraphs]
    header = document.tables[0]
    assert [p.text for p in header.cell(0, 0).paragraphs] == [
        "TỈNH LÀO CAI", "XÃ BÁT XÁT", "Số: 12/BC-LC-BATXAT"]
    assert [p.text for p in header.cell(0, 1).paragraphs] == [EMBLEM, MOTTO]
    assert "Bát Xát, ngày 05 tháng 01 năm 2026" in paragraphs
    assert "BÁO CÁO" in paragraphs
    summary, targets, requests = document.tables[1:4]
    counts = {row.cells[0].text: row.cells[1].text for row in summary.rows[1:]}
    # BX-OCC lagging; BX-IP and M0000 without an approved report; 3 in all.
    assert counts["Chậm tiến độ"] == "1" and counts["Tổng số"] == "3"
    rows = {row.cells[1].text: [c.text for c in row.cells] for row in targets.rows[1:]}
    assert rows["BX-OCC"][3:9] == ["%", "22,5", "30/09/2026", "33,64", "80", "Chậm tiến độ"]
    assert rows["BX-OCC"][9] == status_reason(client, world["manager"], "BX-OCC")
    assert rows["BX-OCC"][9].startswith("Chậm tiến độ: thực tế 22,5 so với kế hoạch 33,64")
    assert rows["BX-OCC"][10] == ANSWER
    assert rows["M0000"][7] == "1.234,5"
    assert [c.text for c in requests.rows[1].cells][1] == (
        "BX-OCC – Tỷ lệ lấp đầy các khu công nghiệp")
    assert requests.rows[1].cells[7].text == ANSWER
    # The closing block: one row Word may not split, "Nơi nhận" at the left of the signers.
    closing = document.tables[-1].rows[0]
    assert [[p.text for p in cell.paragraphs] for cell in closing.cells] == [
        ["Nơi nhận:", "- Tỉnh Lào Cai;", "- Lưu: VT."],
        ["NGƯỜI LẬP BÁO CÁO", "(Ký, ghi rõ họ tên)"],
        ["THỦ TRƯỞNG ĐƠN VỊ", "(Ký tên, đóng dấu)"],
    ]
    assert closing._tr.trPr.xpath("./w:cantSplit")


def test_the_xlsx_holds_the_figures_as_numbers(client, world):
    response = download(client, world["manager"], format="xlsx")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert [r[0] for r in rows if r[0] == EMBLEM] == [EMBLEM]
    assert any(r[0] == "Bát Xát, ngày 05 tháng 01 năm 2026" for r in rows)
    occupancy = next(r for r in rows if r[1] == "BX-OCC")
    assert occupancy[4] == 22.5 and occupancy[6] == pytest.approx(33.6418, abs=1e-4)
    assert occupancy[5].date() == date(2026, 9, 30)
    assert occupancy[7] == 80 and occupancy[8] == "Chậm tiến độ"
    many = next(r for r in rows if r[1] == "M0000")
    assert many[7] == 1234.5 and many[4] is None  # no approved report: no actual


# --- who may download it --------------------------------------------------------------------------


def test_the_units_staff_may_download_its_report(client, world):
    assert download(client, world["staff"], format="xlsx").status_code == 200


def test_a_staff_member_of_another_unit_is_refused(client, world):
    sibling = Unit.objects.create(code="LC-MUONGHUM", name="Muong Hum", parent=Unit.objects.get(
        code="LC"))
    outsider = make_user("mh.staff", [(sibling, Role.STAFF)])
    response = download(client, outsider)
    assert response.status_code == 404
    assert "Content-Disposition" not in response


def test_staff_may_not_download_the_report_of_a_unit_below_their_own(client, world):
    response = download(client, world["staff"], unit="LC-BATXAT-IND")
    assert response.status_code == 403


def test_a_manager_of_another_province_is_refused(client, world):
    assert download(client, world["outsider"]).status_code == 404
    assert download(client, world["outsider"], unit="NO-SUCH").status_code == 404


# --- the form -------------------------------------------------------------------------------------


def test_the_form_offers_the_users_units_and_periods(client, world):
    client.force_login(world["manager"])
    page = client.get(URL)
    assert page.status_code == 200
    form = page.context["form"]
    assert [u.code for u in form.fields["unit"].queryset] == ["LC-BATXAT", "LC-BATXAT-IND"]
    keys = [key for key, _label in form.fields["period"].choices]
    # Quarterly (BX-IP, BX-OCC) and yearly (M0000) periods since the baselines of 30/06/2025.
    assert {"2026-Q3", "2026-Q2", "2026-Q1", "2025-Q4", "2025-Q3", "2026", "2025"} <= set(keys)
    assert "2025-Q2" not in keys and "2024" not in keys


def test_bad_input_is_said_beside_its_field_and_no_file_is_sent(client, world):
    response = download(client, world["manager"], place="  ", issued_on="2026-02-31")
    assert response.status_code == 200
    assert "Content-Disposition" not in response
    assert response["Content-Type"].startswith("text/html")
    errors = response.context["form"].errors
    assert errors["place"] == ["Hãy ghi địa danh của dòng ngày tháng."]
    assert errors["issued_on"] == ["Hãy nhập một ngày có thật (ngày, tháng và năm)."]
    page = response.content.decode()
    place = page[page.index('id="id_place"'):]
    assert place.index("Hãy ghi địa danh của dòng ngày tháng.") < place.index('id="id_issued_on"')


def test_bad_input_in_english(client, world):
    client.cookies["django_language"] = "en"
    response = download(client, world["manager"], place="", issued_on="5/1/2026")
    assert response.context["form"].errors == {
        "place": ["Write the place of the date line."],
        "issued_on": ["Give a real date (day, month and year)."],
    }


def test_a_period_not_offered_is_refused_beside_its_field(client, world):
    response = download(client, world["manager"], period="1999-Q1")
    assert "Content-Disposition" not in response
    assert list(response.context["form"].errors) == ["period"]


# --- the report's content -------------------------------------------------------------------------


def test_periods_are_named_as_a_title_says_them():
    with translation.override("vi"):
        assert [period_phrase(k) for k in ("2026-Q1", "2026-H2", "2026", "2026-03", "2026-9M")] == [
            "quý I năm 2026", "6 tháng cuối năm 2026", "năm 2026", "tháng 03/2026",
            "9 tháng đầu năm 2026"]
    with translation.override("en"):
        assert [period_phrase(k) for k in ("2026-Q4", "2026-H1", "2026", "2026-9M")] == [
            "the fourth quarter of 2026", "the first half of 2026", "the year 2026",
            "the first nine months of 2026"]


def test_the_periods_offered_start_at_the_baseline(people):
    keys = [p.key for p in report_periods(user=people["manager"], today=TODAY)]
    assert keys == ["2026-Q4", "2026-Q3", "2026-Q2", "2026-Q1", "2025-Q4", "2025-Q3"]


def test_the_report_is_built_in_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    plan_import(data=load_located(many_targets_plan(40).replace("MANY", "MORE").replace(
        "M0", "N0")), filename="more.yaml", user=plan_operator())
    evaluate(TODAY)
    unit = Unit.objects.select_related("parent").get(code="LC-BATXAT")
    manager = world["manager"]
    # The status rows, their counts, answers, requests; the units below, their targets and
    # entries for the period (section IV).
    with django_assert_max_num_queries(8):
        built = report_build(user=manager, unit=unit, period="2026-Q3", place="Bát Xát",
                             issued_on=date(2026, 1, 5))
    assert len(built.sections[1].rows) == 43
    assert [s.key for s in built.sections] == [
        "summary", "targets", "explanations", "completeness"]


def test_markup_and_control_characters_in_the_content_are_only_text(client, world):
    """A target named with markup shows it as text in the PDF; an answer holding a control
    character (pasted from elsewhere) is shown without it, in the PDF and the DOCX; the PDF
    loads nothing but its fonts."""
    Target.objects.filter(code="M0000").update(name="<b>Đường</b> <i>xã</i>")
    ExplanationAnswer.objects.update(text="Đất chưa\x0b giải phóng")
    text = pdf_text(download(client, world["manager"]).content)
    words = " ".join(text.split())
    assert "<b>Đường</b> <i>xã</i>" in words
    assert "Đất chưa giải phóng" in words
    document = docx.Document(io.BytesIO(download(client, world["manager"],
                                                 format="docx").content))
    assert document.tables[3].rows[1].cells[7].text == "Đất chưa giải phóng"
    fetcher = _fonts_only(_font_uris())
    with pytest.raises(ValueError, match="only its fonts"):
        fetcher.fetch("file:///etc/hostname")


def test_a_user_of_no_unit_may_not_use_the_screen(client, world):
    client.force_login(make_user("nobody"))
    assert client.get(URL).status_code == 403


# --- IV. who has reported -------------------------------------------------------------------------


def test_section_iv_says_which_units_reported_for_the_period(world, in_english):
    """2026-Q3 ends 30/09/2026; grace 15 days: deadline 15/10/2026, passed on 24/11/2026.
    The commune's BX-IP has no report: missing. The department's BX-OCC was submitted on
    14/10/2026 and approved: on time. M0000 reports yearly: not in the quarter."""
    from django.utils import timezone

    from targets.models import ProgressEntry

    ProgressEntry.objects.filter(target__code="BX-OCC", period="2026-Q3").update(
        submitted_at=timezone.make_aware(timezone.datetime(2026, 10, 14, 10)))
    unit = Unit.objects.select_related("parent").get(code="LC-BATXAT")
    built = report_build(user=world["manager"], unit=unit, period="2026-Q3", place="Bát Xát",
                         issued_on=date(2026, 1, 5), today=TODAY)
    section = built.sections[3]
    assert (section.key, section.heading) == ("completeness", "Reporting completeness of the units")
    assert [[cell.text for cell in row] for row in section.rows] == [
        ["1", "Bat Xat commune", "1", "15 Oct 2026", "Missing", "1"],
        ["2", "Industry department", "1", "15 Oct 2026", "Reported on time", "0"],
    ]
    assert section.rows[0][3].typed == date(2026, 10, 15)
    assert section.notes == [
        "As of 24 Nov 2026, 1 of the 2 units whose deadline has passed reported on time."]


def test_section_iv_in_the_documents(client, world):
    response = download(client, world["manager"], format="docx")
    units = docx.Document(io.BytesIO(response.content)).tables[4]
    assert [c.text for c in units.rows[1].cells][1:5] == [
        "Xã Bát Xát", "1", "15/10/2026", "Chưa báo cáo (quá hạn)"]
    text = " ".join(pdf_text(download(client, world["manager"]).content).split())
    assert "IV. Tình hình báo cáo của các đơn vị" in text
