"""Numbers as people type them, read into Decimals: one parser for forms, entries files and plans.

Three notations: Vietnamese ``1.234,5``, English ``1,234.5`` and plain ``1234.5``; spaces may
group thousands in each (``1 234,5``), but only in groups of exactly three digits.

- A **form** accepts the notation of the user's language and plain notation.
- A **file** (an entries file, a plan file) may have been written by a spreadsheet in either
  locale, so it accepts all three notations, whatever the user's language.

A text that two accepted notations read as different numbers (``1.250`` is 1250 in Vietnamese
but 1.25 in English) is refused with both readings and how to write each: a number is never
silently rescaled. A text only the other language reads (``1,5`` in an English form) is refused
with that reading. A number that is already typed (an XLSX cell, a YAML number) is taken as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from targets.errors import WorkflowError
from targets.models import ValueType

if TYPE_CHECKING:
    from targets.models import Target

FORM = "form"
IMPORT = "import"

# The columns of every value (models.VALUE_DIGITS: 20 digits, 4 after the point).
MAX_INTEGER_DIGITS = 16
MAX_DECIMAL_PLACES = 4
_LIMIT = Decimal(10) ** MAX_INTEGER_DIGITS
_QUANTUM = Decimal(1).scaleb(-MAX_DECIMAL_PLACES)
_LONGEST = 64  # no number people type is longer; longer text is not read at all

_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2007": " "})
_MINUS = "-\u2212"  # a hyphen-minus, or the minus sign some spreadsheets write
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Notation:
    code: str
    decimal: str
    label: Any  # lazy: the name people read in messages
    pattern: re.Pattern[str]

    def read(self, body: str) -> Decimal | None:
        match = self.pattern.fullmatch(body)
        if match is None or not (match["int"] or match["frac"]):
            return None
        whole = re.sub("[^0-9]", "", match["int"] or "") or "0"
        return Decimal(f"{whole}.{match['frac']}" if match["frac"] else whole)


def _notation(code: str, decimal: str, groups: str, label: Any) -> Notation:
    # The whole part: digits, or 1–3 digits and then groups of exactly three, all separated by
    # the same character (a space or the language's grouping mark).
    whole = rf"[0-9]{{1,3}}(?:(?P<g>[{groups}])[0-9]{{3}})(?:(?P=g)[0-9]{{3}})*|[0-9]+"
    pattern = re.compile(rf"(?P<int>{whole})?(?:{re.escape(decimal)}(?P<frac>[0-9]+))?")
    return Notation(code, decimal, label, pattern)


VIETNAMESE = _notation("vi", ",", " .", gettext_lazy("Vietnamese notation (1.234,5)"))
ENGLISH = _notation("en", ".", " ,", gettext_lazy("English notation (1,234.5)"))
PLAIN = _notation("plain", ".", " ", gettext_lazy("plain notation (1234.5)"))


def notation_of(language: str | None) -> Notation:
    """The notation of a language code (``vi``, ``en-gb``); plain for none."""
    if not language:
        return PLAIN
    return VIETNAMESE if language.lower().startswith("vi") else ENGLISH


def _accepted(language: str | None, source: str) -> list[Notation]:
    """The notations a text may be read in, the user's own first."""
    own = notation_of(language)
    if source == FORM:
        return [own] if own is PLAIN else [own, PLAIN]
    return [own, *(n for n in (PLAIN, VIETNAMESE, ENGLISH) if n is not own)]


def has_control_characters(text: str) -> bool:
    """Whether typed text holds a control character (a NUL byte, which the database refuses)."""
    return _CONTROL.search(text) is not None


def shown(text: str, limit: int = 40) -> str:
    """Typed text as a message may quote it: control characters made visible, long text cut."""
    text = _CONTROL.sub("\ufffd", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def written(value: Decimal, *, language: str | None = None, source: str = FORM) -> str:
    """How to type ``value`` so that it reads back as exactly ``value`` (no grouping).

    The decimal mark is the language's; in a file, a number with exactly three decimals gets
    a fourth zero (``1.2340``), or it would read as a thousands group in the other language.
    """
    text = format(value, "f")  # exact, however long
    if text.startswith("-") and not text.strip("-0."):
        text = text[1:]  # no negative zero
    whole, _point, fraction = text.partition(".")
    fraction = fraction.rstrip("0")
    if source != FORM and len(fraction) == 3:
        fraction += "0"
    if not fraction:
        return whole
    return f"{whole}{notation_of(language).decimal}{fraction}"


def _number_error(raw: str) -> WorkflowError:
    return WorkflowError(_("“%(value)s” is not a number.") % {"value": shown(raw)}, "value")


def _checked(value: Decimal, raw: Any) -> Decimal:
    """``value`` if its column can hold it."""
    if not value.is_finite():
        raise _number_error(str(raw))
    if abs(value) >= _LIMIT or value != value.quantize(_QUANTUM):
        raise WorkflowError(
            _("%(value)s has too many digits (at most 16 before and 4 after the point).")
            % {"value": shown(str(raw))},
            "value",
        )
    return value + 0


def parse_number(
    raw: Any, *, language: str | None = None, source: str = FORM, percent: bool = False
) -> Decimal:
    """The number ``raw`` stands for, or WorkflowError (field ``value``) saying what is wrong.

    ``language`` is the user's (``vi``, ``en``; None for language-neutral files), ``source``
    ``"form"`` or ``"import"`` (see the module's docstring); ``percent`` allows a ``%`` sign.
    """
    if isinstance(raw, bool) or raw is None:
        raise WorkflowError(_("A number is required."), "value")
    if isinstance(raw, Decimal | int):
        return _checked(Decimal(raw), raw)
    if isinstance(raw, float):
        # A spreadsheet's or YAML's binary number, to the 15 digits a spreadsheet shows.
        try:
            return _checked(Decimal(format(raw, ".15g")), raw)
        except InvalidOperation:
            raise _number_error(str(raw)) from None
    raw = str(raw)
    text = raw.translate(_SPACES).strip()
    if not text:
        raise WorkflowError(_("A number is required."), "value")
    if len(text) > _LONGEST or _CONTROL.search(text):
        raise _number_error(raw)
    if text.endswith("%"):
        if not percent:
            raise WorkflowError(
                _("“%(value)s”: only a percentage is written with a %% sign.")
                % {"value": shown(raw)},
                "value",
            )
        text = text[:-1].rstrip()
    signed = bool(text) and text[0] in _MINUS + "+"
    sign = "-" if signed and text[0] in _MINUS else ""
    body = text[1:] if signed else text
    readings: list[tuple[Notation, Decimal]] = []
    for notation in _accepted(language, source):
        value = notation.read(body)
        if value is not None and all(value != seen for _n, seen in readings):
            readings.append((notation, value))
    if len(readings) > 1:
        (first, a), (second, b) = readings[:2]
        raise WorkflowError(
            _("“%(value)s” can be read two ways: %(first)s in %(first_notation)s or %(second)s "
              "in %(second_notation)s. Write %(first)s or %(second)s, whichever you mean.")
            % {
                "value": shown(raw),
                "first": written(Decimal(sign + str(a)), language=language, source=source),
                "first_notation": first.label,
                "second": written(Decimal(sign + str(b)), language=language, source=source),
                "second_notation": second.label,
            },
            "value",
        )
    if not readings:
        own = notation_of(language)
        for other in (VIETNAMESE, ENGLISH):
            value = other.read(body) if source == FORM and other is not own else None
            if value is not None:
                raise WorkflowError(
                    _("“%(value)s” is not a number in %(notation)s. In %(other)s it is "
                      "%(number)s: if that is what you mean, write %(number)s.")
                    % {
                        "value": shown(raw),
                        "notation": own.label,
                        "other": other.label,
                        "number": written(Decimal(sign + str(value)), language=language),
                    },
                    "value",
                )
        raise _number_error(raw)
    return _checked(Decimal(sign + str(readings[0][1])), raw)


def entry_value(raw: Any, *, target: Target, language: str | None, source: str) -> Decimal:
    """A value reported for ``target`` (a form field, a cell of an entries file): the number
    and then the target's range (Target.value_problem), or WorkflowError saying what is wrong."""
    value = parse_number(
        raw, language=language, source=source, percent=target.value_type == ValueType.PERCENT
    )
    problem = target.value_problem(value)
    if problem:
        raise WorkflowError(problem, "value")
    return value


def parse_value(raw: Any, value_type: str) -> Decimal:
    """A planned or reported value as a Decimal, or WorkflowError saying what is wrong.

    Language-neutral (plan files, services given a number): a typed number is taken as it is,
    text is read like a cell of a file — any notation, as long as only one number can be meant.
    Checks the value type (a whole number, a percentage within 0–100) but not a target's own
    range: that is Target.value_problem.
    """
    value = parse_number(
        raw, language=None, source=IMPORT, percent=value_type == ValueType.PERCENT
    )
    if value_type == ValueType.INTEGER and value != value.to_integral_value():
        raise WorkflowError(
            _("%(value)s is not a whole number.") % {"value": shown(str(raw))}, "value"
        )
    if value_type == ValueType.PERCENT and not (0 <= value <= 100):
        raise WorkflowError(
            _("%(value)s is not a percentage between 0 and 100.") % {"value": shown(str(raw))},
            "value",
        )
    return value
