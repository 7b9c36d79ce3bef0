"""Forms of the register's screens (a project's report, the upload of a projects or
project-reports file). They validate input; the services decide."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Field, Layout
from django import forms
from django.core.validators import FileExtensionValidator
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from register.models import ImportKind, Stage
from targets import numbers, rules
from targets.errors import WorkflowError
from targets.forms import (
    IMPORT_MAX_BYTES,
    BulkReviewForm,
    DateInput,
    NumberInput,
    _max_size,
    period_label,
    plain_help_text,
)

NUMBER_ATTRS = {"inputmode": "decimal", "autocomplete": "off"}


class ProjectReportForm(forms.Form):
    """A project's stage and figures for one quarter (the period select lists the quarters)."""

    period = forms.ChoiceField(label=_("Reporting period"))
    stage = forms.ChoiceField(label=_("Stage"), choices=Stage.choices)
    stage_date = forms.DateField(
        label=_("Stage date"), widget=DateInput(),
        help_text=_("When the project reached its stage."),
        error_messages={"invalid": _("Give a real date (day, month and year).")},
    )
    registered_capital = forms.CharField(label=_("Registered capital"),
                                         widget=NumberInput(attrs=NUMBER_ATTRS))
    disbursed_capital = forms.CharField(label=_("Disbursed capital"),
                                        widget=NumberInput(attrs=NUMBER_ATTRS))
    jobs_filled = forms.CharField(label=_("Jobs filled"),
                                  widget=NumberInput(attrs={**NUMBER_ATTRS,
                                                            "inputmode": "numeric"}))
    note = forms.CharField(label=_("Note"), required=False,
                           widget=forms.Textarea(attrs={"rows": 3}))
    # The report as the form showed it: its version (0: there was none) for the quarter it was
    # opened on. Saving over a newer version is a conflict, never a silent overwrite.
    version = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    opened_period = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, periods: list[rules.Period], currency: str,
                 locked_periods: dict[str, str] | None = None, today: date | None = None,
                 **kwargs) -> None:
        """``locked_periods``: quarter → the state of its report that can no longer change."""
        super().__init__(*args, **kwargs)
        self.periods = {p.key: p for p in periods}
        self.locked_periods = locked_periods or {}
        self.today = today or timezone.localdate()
        self.fields["period"].choices = [(p.key, period_label(p)) for p in periods]
        in_currency = plain_help_text(
            _("In %(currency)s, the project's currency (amounts are never converted).")
            % {"currency": currency}
        )
        self.fields["registered_capital"].help_text = in_currency
        self.fields["disbursed_capital"].help_text = in_currency
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Field("period"), Field("stage"), Field("stage_date"), Field("registered_capital"),
            Field("disbursed_capital"), Field("jobs_filled"), Field("note"),
        )

    # The workflow checks these again; checking them here shows every field's error at once.

    def clean_period(self) -> str:
        key = self.cleaned_data["period"]
        if key in self.locked_periods:
            raise forms.ValidationError(
                _("The report for %(period)s is %(state)s and can no longer be changed; "
                  "choose another quarter.")
                % {"period": key, "state": self.locked_periods[key]}
            )
        return key

    def _amount(self, name: str, *, whole: bool = False) -> Decimal:
        try:
            value = numbers.parse_number(self.cleaned_data[name], language=get_language(),
                                         source=numbers.FORM)
        except WorkflowError as exc:
            raise forms.ValidationError(exc.message) from None
        if value < 0:
            raise forms.ValidationError(_("Give an amount, 0 or more."))
        if whole and value != value.to_integral_value():
            raise forms.ValidationError(_("Give a whole number, 0 or more."))
        return value

    def clean_registered_capital(self) -> Decimal:
        return self._amount("registered_capital")

    def clean_disbursed_capital(self) -> Decimal:
        return self._amount("disbursed_capital")

    def clean_jobs_filled(self) -> int:
        return int(self._amount("jobs_filled", whole=True))

    def clean(self) -> dict:
        data = super().clean()
        period = self.periods.get(data.get("period") or "")
        day = data.get("stage_date")
        if period is not None and day is not None and day > min(period.end, self.today):
            self.add_error("stage_date", _(
                "The stage date must be on or before the end of %(period)s (%(end)s) and not "
                "in the future."
            ) % {"period": period.key, "end": date_format(period.end, "SHORT_DATE_FORMAT")})
        return data


class ProjectReportsReviewForm(BulkReviewForm):
    """Several submitted project reports at once: approve them, or return them with one
    comment (the field keeps the entries' name: ``entries``, ``version-<id>``)."""

    entries = forms.TypedMultipleChoiceField(
        label=_("Project reports"), coerce=int,
        error_messages={"required": _("Tick at least one project report.")},
    )


class RegisterImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("The file holds"), choices=ImportKind.choices,
                             initial=ImportKind.REPORTS, widget=forms.RadioSelect)
    file = forms.FileField(
        label=_("File"),
        validators=[
            FileExtensionValidator(
                ["csv", "xlsx"],
                message=_("“%(extension)s” files are not accepted. Use a .csv or .xlsx file."),
            ),
            _max_size(IMPORT_MAX_BYTES),
        ],
        help_text=_("CSV or XLSX, UTF-8, with the header row of its template; at most 2 MB "
                    "and 1,000 rows."),
    )

    def __init__(self, *args, may_manage: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not may_manage:
            # Staff report on projects; only managers create and change them.
            self.fields["kind"].choices = [(ImportKind.REPORTS, ImportKind.REPORTS.label)]
            self.fields["kind"].widget = forms.HiddenInput()
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(Field("kind"), Field("file"))
