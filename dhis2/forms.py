"""The DHIS2 screen's forms: what to export, and a document to import."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Field, Layout
from django import forms
from django.core.validators import FileExtensionValidator
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from dhis2 import periods
from dhis2.document import MAX_BYTES
from dhis2.exporting import period_bound, plans_exportable_by
from dhis2.models import uid_validator
from targets import rules
from targets.models import EntryStatus
from targets.numbers import has_control_characters


def _helper(*fields: str) -> FormHelper:
    helper = FormHelper()
    helper.form_tag = False
    helper.layout = Layout(*(Field(name) for name in fields))
    return helper


def _max_size(upload) -> None:
    if upload.size > MAX_BYTES:
        raise forms.ValidationError(
            _("The file is %(size)s; the limit is %(limit)s.")
            % {"size": filesizeformat(upload.size), "limit": filesizeformat(MAX_BYTES)}
        )


def _one_line(value: str) -> None:
    if has_control_characters(value):
        raise forms.ValidationError(_("Remove the control characters (tabs, line breaks)."))


PERIOD_HELP = _("A period of the plan (2026-Q1, 2026-H1, 2026-03, 2026) or of DHIS2 (2026Q1, "
                "2026S1, 202603). Empty: from its first period, or to its last.")


class ExportForm(forms.Form):
    """A plan the user sees targets of, and the range of its periods to export."""

    plan = forms.ModelChoiceField(
        label=_("Plan"), queryset=None, to_field_name="code",
        error_messages={"required": _("Choose the plan to export."),
                        "invalid_choice": _("Choose one of the plans listed.")},
    )
    start = forms.CharField(label=_("From period"), max_length=20, required=False,
                            validators=[_one_line], help_text=PERIOD_HELP)
    end = forms.CharField(label=_("To period"), max_length=20, required=False,
                          validators=[_one_line])
    data_set = forms.CharField(
        label=_("DHIS2 data set UID"), max_length=11, required=False,
        validators=[uid_validator],
        help_text=_("Optional: written into the document as its dataSet."),
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = plans_exportable_by(user)
        self.helper = _helper("plan", "start", "end", "data_set")

    def clean(self):
        data = super().clean()
        plan = data.get("plan")
        if plan is None:
            return data
        calendar = rules.Calendar(plan.reporting_calendar)
        for name in ("start", "end"):
            text = data.get(name) or ""
            data[f"{name}_period"] = None
            if not text.strip():
                continue
            try:
                data[f"{name}_period"] = period_bound(text, calendar)
            except periods.NotExchangeable as refused:
                self.add_error(name, refused.message)
        first, last = data.get("start_period"), data.get("end_period")
        if first is not None and last is not None and last.end < first.start:
            self.add_error("end", _("The last period is before the first."))
        return data


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("DHIS2 document"),
        validators=[
            FileExtensionValidator(
                ["json"], message=_("“%(extension)s” files are not accepted. Use a .json file "
                                    "(a DHIS2 dataValueSets export in JSON).")),
            _max_size,
        ],
        help_text=_("A dataValueSets document in JSON, at most 2 MB."),
    )
    status = forms.ChoiceField(
        label=_("Import as"),
        choices=[(EntryStatus.SUBMITTED, _("Submitted (for review)")),
                 (EntryStatus.APPROVED, _("Approved"))],
        initial=EntryStatus.SUBMITTED,
        help_text=_("Approved only approves entries someone else submitted with the same "
                    "values."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper("file", "status")
