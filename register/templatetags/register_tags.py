"""Template helpers of the register's screens."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.translation import gettext_lazy as _

from targets.formatting import format_number

register = template.Library()

# Large amounts read in the unit people say them in: VND in billions, USD in millions. Only the
# scale changes: the currency stays (never converted) and the full amount is the cell's title.
SCALES = {
    "VND": (Decimal(10) ** 9, _("%(amount)s billion %(currency)s")),
    "USD": (Decimal(10) ** 6, _("%(amount)s million %(currency)s")),
}


@register.simple_tag
def capital(amount, currency: str) -> str:
    """``amount`` of ``currency`` in words people read: "1,450 billion VND", "15 million USD"
    (an amount under a thousandth of the scale, or of another currency: in full)."""
    if amount is None:
        return "—"
    value = Decimal(str(amount))
    scale = SCALES.get(currency)
    if scale is None or abs(value) * 1000 < scale[0]:
        return f"{format_number(value)} {currency}"
    scaled = value / scale[0]
    return str(scale[1]) % {
        "amount": format_number(scaled, 1 if abs(scaled) >= 1 else 3), "currency": currency,
    }
