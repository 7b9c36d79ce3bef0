"""Numbers and names as people read them: numbers without padding zeros, in the active
language's notation; people's names family name first."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from django.utils import formats, numberformat
from django.utils.translation import get_language


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
    decimal_separator, grouping, thousand_separator = _notation(get_language())
    return numberformat.format(
        tidy_decimal(number), decimal_separator, grouping=grouping,
        thousand_sep=thousand_separator, force_grouping=True, use_l10n=True,
    )


@lru_cache(maxsize=8)
def _notation(language: str | None) -> tuple[str, int, str]:
    """The language's decimal separator, grouping and thousand separator, looked up once (a
    status page formats a few hundred numbers; an export several thousand)."""
    return tuple(
        formats.get_format(name, language, use_l10n=True)
        for name in ("DECIMAL_SEPARATOR", "NUMBER_GROUPING", "THOUSAND_SEPARATOR")
    )


def format_percent(ratio) -> str:
    """A progress ratio (1 = on the trajectory) as a whole percentage."""
    if ratio is None:
        return "—"
    return format_number(Decimal(str(ratio)) * 100, 0) + " %"


def person_name(user) -> str:
    """A person's name as Vietnamese writes it, family name first: "Đỗ Văn Hải" (last_name
    "Đỗ", first_name "Văn Hải"), whatever the language; the username when no name is
    recorded; "" for nobody. Django's ``get_full_name`` writes it the other way round."""
    if user is None:
        return ""
    return f"{user.last_name} {user.first_name}".strip() or user.get_username()
