"""Forms of the web screens (crispy-forms, Bootstrap 5). They validate input; services decide."""

from __future__ import annotations

from decimal import Decimal

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Field, Layout
from django import forms
from django.core.validators import FileExtensionValidator
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from targets import evidence, numbers, rules
from targets.errors import WorkflowError
from targets.models import EntryStatus, Target, ValueType

EVIDENCE_EXTENSIONS = evidence.EXTENSIONS  # pdf, jpg, jpeg, png, xlsx, docx
EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
# The preview checks a whole upload while the browser waits: about 2 s for 2 MB (~57,000 rows,
# benchmarks/test_bench_imports.py), well inside a web worker's timeout (gunicorn's default is
# 30 s). Writing a file of more than views.imports.SYNC_ROWS rows is left to a Celery worker.
IMPORT_MAX_BYTES = 2 * 1024 * 1024


def _max_size(limit: int):
    def check(upload) -> None:
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file is %(size)s; the limit is %(limit)s.")
                % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)}
            )

    return check


def _evidence_content(upload) -> None:
    """The content is what the extension says (a .pdf that is a PNG is refused); an extension
    that is not accepted is left to FileExtensionValidator's message."""
    if evidence.extension(upload.name) in evidence.TYPES:
        problem = evidence.content_problem(upload)
        if problem:
            raise forms.ValidationError(problem)


class NumberInput(forms.TextInput):
    """A number typed as text; a stored value is shown so that it reads back as itself in the
    user's language (1,234 in Vietnamese: 1.234 would be a thousand times more)."""

    def format_value(self, value):
        if isinstance(value, Decimal | int):
            return numbers.written(Decimal(value), language=get_language())
        return super().format_value(value)


def plain_help_text(text: str) -> SafeString:
    """A help text shown as plain text. crispy-bootstrap5, like Django's own form templates,
    renders help texts with ``|safe``: one that carries user content (a target's measure, a
    file name) must arrive escaped, or that content runs as script on the form's page."""
    return escape(text)


def period_label(period: rules.Period) -> str:
    start = date_format(period.start, "SHORT_DATE_FORMAT")
    end = date_format(period.end, "SHORT_DATE_FORMAT")
    if period.calendar == rules.Calendar.DECREE_09:
        # Not the calendar quarter its key names: say the data it covers.
        return _("%(period)s (data cut-off %(start)s – %(end)s)") % {
            "period": period.key, "start": start, "end": end}
    return f"{period.key} ({start} – {end})"


class EntryForm(forms.Form):
    """A progress entry for one target: the period select lists that target's periods."""

    period = forms.ChoiceField(label=_("Reporting period"))
    # Text, read by targets.numbers in the user's language (Django's localized DecimalField
    # drops a "wrong" separator silently: 0,5 became 5 in English).
    value = forms.CharField(
        label=_("Value"),
        widget=NumberInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    evidence_file = forms.FileField(
        label=_("Evidence file"),
        required=False,
        validators=[
            FileExtensionValidator(
                EVIDENCE_EXTENSIONS,
                message=_(
                    "“%(extension)s” files are not accepted. Use one of: %(allowed_extensions)s."
                ),
            ),
            _max_size(EVIDENCE_MAX_BYTES),
            _evidence_content,
        ],
        help_text=_("PDF, JPG, PNG, XLSX or DOCX, at most 10 MB."),
    )
    evidence_url = forms.URLField(
        label=_("Evidence link"), required=False, assume_scheme="https",
        widget=forms.URLInput(attrs={"placeholder": "https://…"}),
    )
    # The entry as the form showed it: its version (0: there was none) for the period it was
    # opened on. Saving over a newer version is a conflict, never a silent overwrite.
    version = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    opened_period = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, periods: list[rules.Period], measure: str, value_type: str,
                 locked_periods: dict[str, str] | None = None, current_file: str = "",
                 target: Target | None = None, **kwargs) -> None:
        """``locked_periods``: period key → the state of its entry that can no longer change."""
        super().__init__(*args, **kwargs)
        self.value_type = value_type
        self.target = target  # its range (Target.value_problem), when given
        self.periods = {p.key: p for p in periods}
        self.locked_periods = locked_periods or {}
        self.fields["period"].choices = [(p.key, period_label(p)) for p in periods]
        self.fields["value"].help_text = plain_help_text(
            _("In %(measure)s.") % {"measure": measure}
        )
        if current_file:
            self.fields["evidence_file"].help_text = plain_help_text(_(
                "Current file: %(name)s. Choose a file only to replace it. "
                "PDF, JPG, PNG, XLSX or DOCX, at most 10 MB."
            ) % {"name": current_file})
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Field("period"), Field("value"), Field("note"), Field("evidence_file"),
            Field("evidence_url"),
        )

    # The workflow checks these again; checking them here shows every field's error at once.

    def clean_period(self) -> str:
        period = self.cleaned_data["period"]
        if period in self.locked_periods:
            raise forms.ValidationError(
                _("The entry for %(period)s is %(state)s and can no longer be changed; "
                  "choose another period.")
                % {"period": period, "state": self.locked_periods[period]}
            )
        found = self.periods.get(period)
        if found is not None and not rules.period_started(found, timezone.localdate()):
            raise forms.ValidationError(
                _("%(period)s has not started yet: it can be reported from %(start)s.")
                % {"period": found.key, "start": date_format(found.start, "SHORT_DATE_FORMAT")}
            )
        return period

    def clean_value(self) -> Decimal:
        raw, language = self.cleaned_data["value"], get_language()
        try:
            if self.target is not None:
                return numbers.entry_value(
                    raw, target=self.target, language=language, source=numbers.FORM
                )
            value = numbers.parse_number(
                raw, language=language, percent=self.value_type == ValueType.PERCENT
            )
            return numbers.parse_value(value, self.value_type)
        except WorkflowError as exc:
            raise forms.ValidationError(exc.message) from None


class ApproveForm(forms.Form):
    """Approve one entry: the version of the entry the reviewer looked at."""

    version = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class ReturnForm(forms.Form):
    comment = forms.CharField(
        label=_("What needs fixing"),
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say what needs fixing: a comment is required.")},
    )
    version = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(Field("comment"), Field("version"))


class BulkReviewForm(forms.Form):
    """Several submitted entries at once: approve them, or return them with one comment."""

    entries = forms.TypedMultipleChoiceField(
        label=_("Entries"), coerce=int,
        error_messages={"required": _("Tick at least one entry.")},
    )
    action = forms.ChoiceField(choices=[("approve", _("Approve")), ("return", _("Return"))])
    comment = forms.CharField(label=_("Comment (required to return)"), required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, entry_ids: list[int], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["entries"].choices = [(pk, pk) for pk in entry_ids]

    def clean(self) -> dict:
        data = super().clean()
        if data.get("action") == "return" and not (data.get("comment") or "").strip():
            self.add_error("comment", _("Say what needs fixing: a comment is required."))
        return data

    def seen_versions(self) -> dict[int, int]:
        """The version of each ticked entry as the queue showed it (``version-<id>``)."""
        seen = {}
        for pk in self.cleaned_data.get("entries", []):
            raw = str(self.data.get(f"version-{pk}", ""))
            if raw.isdigit():
                seen[pk] = int(raw)
        return seen


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Entries file"),
        validators=[
            FileExtensionValidator(
                ["csv", "xlsx"],
                message=_("“%(extension)s” files are not accepted. Use a .csv or .xlsx file."),
            ),
            _max_size(IMPORT_MAX_BYTES),
        ],
        help_text=_("CSV or XLSX, UTF-8, header row target,period,value,note; at most 2 MB."),
    )
    status = forms.ChoiceField(
        label=_("Import as"),
        choices=[(EntryStatus.SUBMITTED, _("Submitted (for review)")),
                 (EntryStatus.APPROVED, _("Approved"))],
        initial=EntryStatus.SUBMITTED,
    )

    def __init__(self, *args, may_approve: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not may_approve:
            self.fields["status"].choices = [(EntryStatus.SUBMITTED, _("Submitted (for review)"))]
            self.fields["status"].widget = forms.HiddenInput()
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(Field("file"), Field("status"))



# --- explanation requests (issue 13) -----------------------------------------------------------

QUESTION_MAX = 4000
ANSWER_MAX = 10000


class DateInput(forms.DateInput):
    """The browser's date picker; it sends and reads ISO dates whatever the language."""

    input_type = "date"

    def __init__(self, attrs=None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def _after_today(value):
    if value is not None and value <= timezone.localdate():
        raise forms.ValidationError(
            _("The answer must be due after today (%(today)s).")
            % {"today": date_format(timezone.localdate(), "SHORT_DATE_FORMAT")}
        )
    if value is not None and value > rules.LATEST_DATE:
        raise forms.ValidationError(
            _("A date up to %(last)s, please.")
            % {"last": date_format(rules.LATEST_DATE, "SHORT_DATE_FORMAT")}
        )
    return value


def _helper(*fields: str) -> FormHelper:
    helper = FormHelper()
    helper.form_tag = False
    helper.layout = Layout(*(Field(name) for name in fields))
    return helper


class ExplanationAskForm(forms.Form):
    """A manager asks the responsible unit to explain the target's status by a date."""

    question = forms.CharField(
        label=_("What should the unit explain?"), max_length=QUESTION_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Write what the unit should explain.")},
    )
    due_date = forms.DateField(
        label=_("Answer due by"), widget=DateInput(),
        validators=[_after_today],
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper("question", "due_date")


class ExplanationAnswerForm(forms.Form):
    """The unit's answer: text, evidence, and optionally a recovery plan."""

    text = forms.CharField(
        label=_("Explanation"), max_length=ANSWER_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Write the explanation.")},
    )
    evidence_file = forms.FileField(
        label=_("Evidence file"),
        required=False,
        validators=[
            FileExtensionValidator(
                EVIDENCE_EXTENSIONS,
                message=_(
                    "“%(extension)s” files are not accepted. Use one of: %(allowed_extensions)s."
                ),
            ),
            _max_size(EVIDENCE_MAX_BYTES),
            _evidence_content,
        ],
        help_text=_("PDF, JPG, PNG, XLSX or DOCX, at most 10 MB."),
    )
    measures = forms.CharField(
        label=_("Recovery measures"), required=False, max_length=ANSWER_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Optional: what the unit will do to catch up."),
    )
    proposed_date = forms.DateField(
        label=_("Proposed milestone: date"), required=False, widget=DateInput(),
    )
    proposed_value = forms.CharField(
        label=_("Proposed milestone: value"), required=False,
        widget=NumberInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    version = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, target: Target, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.target = target
        self.fields["proposed_value"].help_text = plain_help_text(
            _("Optional, with its date: the value expected by then, in %(measure)s.")
            % {"measure": target.localized("measure")}
        )
        self.helper = _helper(
            "text", "evidence_file", "measures", "proposed_date", "proposed_value", "version"
        )

    def clean_proposed_date(self):
        value = self.cleaned_data["proposed_date"]
        if value is not None and not (timezone.localdate() <= value <= rules.LATEST_DATE):
            raise forms.ValidationError(
                _("A proposed milestone lies between today (%(today)s) and %(last)s.")
                % {"today": date_format(timezone.localdate(), "SHORT_DATE_FORMAT"),
                   "last": date_format(rules.LATEST_DATE, "SHORT_DATE_FORMAT")}
            )
        return value

    def clean_proposed_value(self) -> Decimal | None:
        raw = self.cleaned_data["proposed_value"]
        if not raw.strip():
            return None
        try:
            return numbers.entry_value(
                raw, target=self.target, language=get_language(), source=numbers.FORM
            )
        except WorkflowError as exc:
            raise forms.ValidationError(exc.message) from None

    def clean(self) -> dict:
        data = super().clean()
        has_date = data.get("proposed_date") is not None
        has_value = data.get("proposed_value") is not None
        if has_date and not has_value and "proposed_value" not in self.errors:
            self.add_error("proposed_value",
                           _("Give the value expected by the proposed date too."))
        if has_value and not has_date and "proposed_date" not in self.errors:
            self.add_error("proposed_date", _("Give the date of the proposed milestone too."))
        return data


class ExplanationAcceptForm(forms.Form):
    note = forms.CharField(
        label=_("Comment (optional)"), required=False, max_length=QUESTION_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    version = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper("note", "version")


class ExplanationAskAgainForm(ExplanationAskForm):
    question = forms.CharField(
        label=_("What is still to be explained?"), max_length=QUESTION_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Write what is still to be explained.")},
    )
    version = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper("question", "due_date", "version")


# --- the periodic report (issue 13) ------------------------------------------------------------

REPORT_FORMATS = (
    ("pdf", _("PDF, to sign and send")),
    ("docx", _("DOCX, to edit")),
    ("xlsx", _("XLSX, the figures as numbers")),
)


def _one_line(value: str) -> None:
    if numbers.has_control_characters(value):
        raise forms.ValidationError(_("Remove the control characters (tabs, line breaks)."))


def _lines(value: str) -> None:
    _one_line(value.replace("\r", "").replace("\n", ""))


class ReportForm(forms.Form):
    """The unit and period of a periodic report and what its document header says. The units
    are those the user may report on; the periods those of the user's targets."""

    unit = forms.ModelChoiceField(
        label=_("Unit"), queryset=None, to_field_name="code",
        error_messages={"required": _("Choose the unit the report is about.")},
    )
    period = forms.ChoiceField(
        label=_("Period"),
        error_messages={"required": _("Choose the period the report is about.")},
    )
    format = forms.ChoiceField(label=_("Format"), choices=REPORT_FORMATS, initial="pdf",
                               widget=forms.RadioSelect)
    number = forms.CharField(
        label=_("Document number"), max_length=20, required=False, validators=[_one_line],
        help_text=_("Leave it empty for the office to number the report when it is sent."),
    )
    place = forms.CharField(
        label=_("Place"), max_length=100, validators=[_one_line],
        help_text=_("Where the report is issued, as its date line says it (e.g. Bát Xát)."),
        error_messages={"required": _("Write the place of the date line.")},
    )
    issued_on = forms.DateField(
        label=_("Date"), widget=DateInput(),
        error_messages={"required": _("Give the date of the report."),
                        "invalid": _("Give a real date (day, month and year).")},
    )
    recipients = forms.CharField(
        label=_("Recipients"), required=False, max_length=2000, validators=[_lines],
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One a line. Empty: the parent unit and the unit's office."),
    )

    def __init__(self, *args, units, periods: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units
        self.fields["period"].choices = periods
        self.helper = _helper(
            "unit", "period", "format", "number", "place", "issued_on", "recipients"
        )

    def clean_issued_on(self):
        value = self.cleaned_data["issued_on"]
        if not rules.EARLIEST_DATE <= value <= rules.LATEST_DATE:
            raise forms.ValidationError(
                _("A date between %(first)s and %(last)s, please.") % {
                    "first": date_format(rules.EARLIEST_DATE, "SHORT_DATE_FORMAT"),
                    "last": date_format(rules.LATEST_DATE, "SHORT_DATE_FORMAT")})
        return value

