"""Numbers as people read them: without padding zeros, in the active language's notation."""

from __future__ import annotations

from decimal import Decimal

from django.utils import formats


def tidy_decimal(value: Decimal) -> Decimal:
    """A stored value without its padding zeros (1.0000 → 1, 22.5000 → 22.5)."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def format_number(value, places: int | None = None) -> str:
    """A number in the active language's format (1.234,5 in Vietnamese), without noise zeros."""
    if value is None or value == "":
        return "—"
    number = Decimal(str(value))
    if places is not None:
        number = round(number, places)
    return formats.number_format(tidy_decimal(number), use_l10n=True, force_grouping=True)


def format_percent(ratio) -> str:
    """A progress ratio (1 = on the trajectory) as a whole percentage."""
    if ratio is None:
        return "—"
    return format_number(Decimal(str(ratio)) * 100, 0) + " %"
