"""Numbers as people type them, read into Decimals (forms, entries files, plan files)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from targets.errors import WorkflowError
from targets.models import ValueType

_GROUPED = {
    ".": re.compile(r"^[+-]?\d{1,3}(\.\d{3})+$"),
    ",": re.compile(r"^[+-]?\d{1,3}(,\d{3})+$"),
}


def _plain_number(text: str) -> str | None:
    """A number as typed — ``1234.5``, ``1234,5``, ``1.234,5``, ``1 234,5`` — in plain notation.

    A comma is a decimal separator (Vietnamese), and so is a single dot (files written by
    programs); dots or commas that group thousands are dropped, but only where they group
    exactly three digits. None when the text cannot be a number.
    """
    text = re.sub(r"[\s\u00a0\u202f]", "", text.strip())
    if "," in text and "." in text:
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
    elif text.count(",") == 1:
        decimal = ","
    elif text.count(",") > 1 or text.count(".") > 1:
        decimal = None  # grouping only: 1.234.567
    else:
        return text
    group = {",": ".", ".": ","}.get(decimal or "", "," if "," in text else ".")
    whole, _sep, fraction = text.rpartition(decimal) if decimal else (text, "", "")
    if group in whole:
        if not _GROUPED[group].match(whole):
            return None
        whole = whole.replace(group, "")
    return f"{whole}.{fraction}" if decimal else whole


def parse_value(raw: Any, value_type: str) -> Decimal:
    """A reported or planned value as a Decimal, or WorkflowError saying what is wrong."""
    if isinstance(raw, bool) or raw is None or (isinstance(raw, str) and not raw.strip()):
        raise WorkflowError(_("A number is required."), "value")
    text = _plain_number(str(raw))
    try:
        if text is None:
            raise InvalidOperation
        value = Decimal(text)
    except InvalidOperation:
        raise WorkflowError(
            _("“%(value)s” is not a number.") % {"value": raw}, "value"
        ) from None
    if not value.is_finite():
        raise WorkflowError(_("“%(value)s” is not a number.") % {"value": raw}, "value")
    if value_type == ValueType.INTEGER and value != value.to_integral_value():
        raise WorkflowError(_("%(value)s is not a whole number.") % {"value": raw}, "value")
    if value_type == ValueType.PERCENT and not (0 <= value <= 100):
        raise WorkflowError(
            _("%(value)s is not a percentage between 0 and 100.") % {"value": raw}, "value"
        )
    if abs(value) >= Decimal("1e16") or value.as_tuple().exponent < -4:
        raise WorkflowError(
            _("%(value)s has too many digits (at most 16 before and 4 after the point).")
            % {"value": raw},
            "value",
        )
    return value
