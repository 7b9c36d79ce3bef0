"""The register's forms: the upload of a projects or project-reports file."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Field, Layout
from django import forms
from django.core.validators import FileExtensionValidator
from django.utils.translation import gettext_lazy as _

from register.models import ImportKind
from targets.forms import IMPORT_MAX_BYTES, _max_size


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
