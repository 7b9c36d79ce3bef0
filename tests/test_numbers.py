"""The one number parser (targets.numbers): inputs × languages × form / import.

A form reads the user's language and plain notation; a file reads every notation and refuses a
text two notations read differently. Whatever the source, a text is one number or an error that
says why — the form and the importer never read the same text as two different numbers.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from targets import rules
from targets.errors import WorkflowError
from targets.forms import EntryForm
from targets.models import Target, ValueType
from targets.numbers import FORM, IMPORT, parse_number, parse_value, written

pytestmark = pytest.mark.usefixtures("in_english")
D = Decimal
AMBIGUOUS = "can be read two ways"
FOREIGN = "is not a number in"
NOT_A_NUMBER = "is not a number."
TOO_LONG = "has too many digits"
REQUIRED = "A number is required"

# text: (Vietnamese form, English form, import — the same in either language)
TABLE = {
    "1234.5": (D("1234.5"), D("1234.5"), D("1234.5")),
    "1234,5": (D("1234.5"), FOREIGN, D("1234.5")),
    "1.234,5": (D("1234.5"), FOREIGN, D("1234.5")),
    "1,234.5": (FOREIGN, D("1234.5"), D("1234.5")),
    "1 234,5": (D("1234.5"), FOREIGN, D("1234.5")),
    "1 234.5": (D("1234.5"), D("1234.5"), D("1234.5")),
    "1\u00a0234\u00a0567": (D(1234567), D(1234567), D(1234567)),
    "1.250": (AMBIGUOUS, D("1.25"), AMBIGUOUS),
    "1,250": (D("1.25"), D(1250), AMBIGUOUS),
    "1.250,5": (D("1250.5"), FOREIGN, D("1250.5")),
    "1,250.5": (FOREIGN, D("1250.5"), D("1250.5")),
    "1,5": (D("1.5"), FOREIGN, D("1.5")),
    "0,5": (D("0.5"), FOREIGN, D("0.5")),
    "1.5": (D("1.5"), D("1.5"), D("1.5")),
    "1.234.567": (D(1234567), FOREIGN, D(1234567)),
    "1,234,567": (FOREIGN, D(1234567), D(1234567)),
    "12.500.000,25": (D("12500000.25"), FOREIGN, D("12500000.25")),
    "-3": (D(-3), D(-3), D(-3)),
    "\u22123,5": (D("-3.5"), FOREIGN, D("-3.5")),
    "+3": (D(3), D(3), D(3)),
    "  7  ": (D(7), D(7), D(7)),
    "1.23.4": (NOT_A_NUMBER,) * 3,
    "1,23,4": (NOT_A_NUMBER,) * 3,
    "1 23": (NOT_A_NUMBER,) * 3,
    "1e5": (NOT_A_NUMBER,) * 3,
    "\u0661\u0662": (NOT_A_NUMBER,) * 3,  # Arabic-Indic digits
    "abc": (NOT_A_NUMBER,) * 3,
    "1\x002": (NOT_A_NUMBER,) * 3,
    "5 %": ("percentage is written with a %",) * 3,
    "": (REQUIRED,) * 3,
    "0.00001": (TOO_LONG,) * 3,
    "12345678901234567": (TOO_LONG,) * 3,
    "1.50000": (D("1.5"), D("1.5"), D("1.5")),
}
CASES = [
    (text, language, source, expected[column])
    for text, expected in TABLE.items()
    for language, source, column in (
        ("vi", FORM, 0), ("en", FORM, 1), ("vi", IMPORT, 2), ("en", IMPORT, 2)
    )
]

DECIMAL_TARGET = Target(code="T", value_type=ValueType.DECIMAL, min_value=None, max_value=None)
PERIODS = list(rules.reporting_periods(rules.Frequency.QUARTERLY, date(2025, 6, 30),
                                       date(2030, 12, 31)))


def form_value(text: str, language: str, target: Target = DECIMAL_TARGET):
    """What the entry form makes of ``text`` in ``language``: a Decimal or its error."""
    with translation.override(language):
        form = EntryForm(
            data={"period": "2025-Q3", "value": text}, periods=PERIODS, measure="units",
            value_type=target.value_type, target=target,
        )
        if form.is_valid():
            return form.cleaned_data["value"]
        return " ".join(form.errors["value"])


def read(text: str, language: str, source: str):
    """What the parser makes of ``text`` typed by a ``language`` user (messages in English)."""
    with translation.override("en"):
        try:
            return parse_number(text, language=language, source=source)
        except WorkflowError as exc:
            return exc.message


def import_value(text: str, language: str):
    return read(text, language, IMPORT)


@pytest.mark.parametrize(("text", "language", "source", "expected"), CASES)
def test_the_table(text, language, source, expected):
    found = read(text, language, source)
    if isinstance(expected, Decimal):
        assert found == expected and isinstance(found, Decimal)
    else:
        assert isinstance(found, str) and expected in found, found


@pytest.mark.parametrize("text", list(TABLE))
@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_entry_form_reads_like_the_parser_in_the_users_language(text, language):
    with translation.override(language):
        try:
            expected = parse_number(text, language=language, source=FORM)
        except WorkflowError as exc:
            expected = exc.message
    if text in ("", "1\x002"):  # the form's own "This field is required.", "Null characters…"
        expected = form_value(text, language)
    assert form_value(text, language) == expected


def test_an_ambiguous_text_says_how_it_was_read_and_how_to_write_it():
    assert import_value("1.250", "en") == (
        "“1.250” can be read two ways: 1.25 in English notation (1,234.5) or 1250 in "
        "Vietnamese notation (1.234,5). Write 1.25 or 1250, whichever you mean."
    )
    in_vietnamese = form_value("1.250", "vi")  # both readings, written the Vietnamese way
    assert "1250" in in_vietnamese and "1,25" in in_vietnamese

def test_a_text_of_the_other_language_says_what_it_would_be():
    assert form_value("1,5", "en") == (
        "“1,5” is not a number in English notation (1,234.5). In Vietnamese notation (1.234,5) "
        "it is 1.5: if that is what you mean, write 1.5."
    )
    assert "1234,5" in form_value("1,234.5", "vi")


def test_a_suggestion_with_three_decimals_stays_unambiguous_in_a_file():
    # 1.234 would read as 1234 in Vietnamese: the suggestion adds a zero.
    assert written(D("1.234"), language="en", source=IMPORT) == "1.2340"
    assert written(D("1.234"), language="vi", source=IMPORT) == "1,2340"
    assert written(D("1.234"), language="vi", source=FORM) == "1,234"


@pytest.mark.parametrize("language", ["vi", "en"])
def test_a_percentage_may_carry_a_percent_sign(language):
    target = Target(code="P", value_type=ValueType.PERCENT, min_value=D(0))
    assert form_value("85 %", language, target) == D(85)
    assert form_value("85%", language, target) == D(85)
    assert "between 0 and 100" in form_value("120 %", "en", target)
    assert parse_number("85,5 %", language=language, source=IMPORT, percent=True) == D("85.5")


@pytest.mark.parametrize(
    ("text", "message"),
    [("-1", "-1 lies outside 0 – 1 for this target."),
     ("1.5", "1.5 is not a whole number."),
     ("2", "2 lies outside 0 – 1 for this target.")],
)
def test_the_form_checks_the_targets_range(text, message):
    yes_no = Target(code="Y", value_type=ValueType.INTEGER, min_value=D(0), max_value=D(1))
    assert form_value(text, "en", yes_no) == message


def test_the_form_refuses_a_period_that_has_not_started():
    with translation.override("en"):
        form = EntryForm(
            data={"period": "2030-Q4", "value": "1"}, periods=PERIODS, measure="units",
            value_type=ValueType.DECIMAL, target=DECIMAL_TARGET,
        )
        assert not form.is_valid()
        assert "2030-Q4 has not started yet" in form.errors["period"][0]


def test_the_form_shows_a_stored_value_so_that_it_reads_back_as_itself():
    for language, shown in (("vi", 'value="1,234"'), ("en", 'value="1.234"')):
        with translation.override(language):
            form = EntryForm(
                initial={"period": "2025-Q3", "value": D("1.234")}, periods=PERIODS,
                measure="units", value_type=ValueType.DECIMAL, target=DECIMAL_TARGET,
            )
            assert shown in str(form["value"])


def test_typed_numbers_are_taken_as_they_are():
    assert parse_number(D("1.250"), language="vi", source=IMPORT) == D("1.25")
    assert parse_number(1250, language="vi") == D(1250)
    assert parse_number(0.1 + 0.2, language="en", source=IMPORT) == D("0.3")  # 15 digits
    for bad in (float("nan"), float("inf"), True, None):
        with pytest.raises(WorkflowError):
            parse_number(bad, language="en")


def test_parse_value_keeps_its_contract_for_plan_files():
    assert parse_value(2, ValueType.INTEGER) == D(2)
    assert parse_value("22,5", ValueType.PERCENT) == D("22.5")
    assert parse_value(1.5, ValueType.DECIMAL) == D("1.5")
    for raw, value_type, message in (
        ("many", ValueType.DECIMAL, "“many” is not a number."),
        ("1.5", ValueType.INTEGER, "1.5 is not a whole number."),
        ("120", ValueType.PERCENT, "120 is not a percentage between 0 and 100."),
        ("1,250", ValueType.DECIMAL, AMBIGUOUS),
    ):
        with pytest.raises(WorkflowError) as error:
            parse_value(raw, value_type)
        assert message in error.value.message and error.value.field == "value"


# --- properties -------------------------------------------------------------------------------

storable = st.decimals(
    min_value=D("-9999999999999999.9999"), max_value=D("9999999999999999.9999"), places=4,
    allow_nan=False, allow_infinity=False,
)


@settings(max_examples=300, deadline=None)
@given(value=storable, language=st.sampled_from(["vi", "en"]),
       source=st.sampled_from([FORM, IMPORT]))
def test_every_value_written_for_a_place_reads_back_as_itself_there(value, language, source):
    text = written(value, language=language, source=source)
    assert parse_number(text, language=language, source=source) == value


@settings(max_examples=500, deadline=None)
@given(text=st.text(alphabet="0123456789.,  -%\u00a0", max_size=14),
       language=st.sampled_from(["vi", "en"]))
def test_the_form_and_the_importer_never_read_one_text_as_two_numbers(text, language):
    readings = set()
    for source in (FORM, IMPORT):
        try:
            readings.add(parse_number(text, language=language, source=source, percent=True))
        except WorkflowError as exc:
            assert exc.field == "value" and exc.message
    assert len(readings) <= 1
