from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from api.services import DEFAULT_DAYS

VALIDITY_CHOICES = [
    (30, _("30 days")), (90, _("90 days")), (180, _("180 days")), (365, _("1 year")),
]


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=100,
        help_text=_("What will use the token, e.g. “Lao Cai province reporting system”."),
    )
    days = forms.TypedChoiceField(
        label=_("Valid for"), choices=VALIDITY_CHOICES, coerce=int, initial=DEFAULT_DAYS,
    )
