"""How our units and targets are known in DHIS2, and the DHIS2 documents uploaded for import.

A unit maps to a DHIS2 organisation unit, a target to a DHIS2 data element (and, optionally,
one category option combo of it), each by UID, by code or both. Several targets may share a
data element — each commune's "industrial workers" target is one DHIS2 data element reported
by many org units — but two targets of the same unit may not share a data element and
category option combo: a DHIS2 data value would not know which of them it is. A unit or target
without a mapping is exchanged under our own code (the export says so).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from targets.models import EntryStatus, ImportState, Target, Unit, default_language

# A DHIS2 UID: 11 characters, letters and digits, the first a letter (CodeGenerator).
uid_validator = RegexValidator(
    r"^[A-Za-z][A-Za-z0-9]{10}\Z",
    _("A DHIS2 UID is 11 letters and digits, the first a letter (such as fbfJHSPpUQD)."),
)
# DHIS2 codes are free text of up to 50 characters: no control characters, no space at either
# end (it would not survive a spreadsheet or a form).
code_validator = RegexValidator(
    r"^[^\x00-\x20\x7f-\x9f](?:[^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\x9f])?\Z",
    _("A DHIS2 code has no control characters and no space at its start or end."),
)
DHIS2_CODE_LENGTH = 50
# DHIS2's default category option combo and attribute option combo ("default"): the same UID
# in every DHIS2 instance. A value given with it has no disaggregation.
DEFAULT_COMBO_UID = "HllvX50cXC0"
DEFAULT_COMBO_CODE = "default"


def _uid_field(verbose_name, help_text) -> models.CharField:
    return models.CharField(
        verbose_name, max_length=11, blank=True, validators=[uid_validator], help_text=help_text
    )


def _code_field(verbose_name, help_text) -> models.CharField:
    return models.CharField(
        verbose_name, max_length=DHIS2_CODE_LENGTH, blank=True, validators=[code_validator],
        help_text=help_text,
    )


def _uid_or_code(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=~Q(uid="") | ~Q(code=""), name=name,
        violation_error_message=_("Give the DHIS2 UID, the DHIS2 code or both."),
    )


class OrgUnitMapping(models.Model):
    """The DHIS2 organisation unit a unit of ours is."""

    unit = models.OneToOneField(
        Unit, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="dhis2_org_unit"
    )
    uid = _uid_field(_("DHIS2 org unit UID"), _("Such as DiszpKrYNg8; empty if you know only "
                                                 "its code."))
    code = _code_field(_("DHIS2 org unit code"), _("Empty if you know only its UID."))
    history = HistoricalRecords()

    class Meta:
        ordering = ["unit__path"]
        verbose_name = _("DHIS2 org unit of a unit")
        verbose_name_plural = _("DHIS2 org units of units")
        constraints = [
            _uid_or_code("dhis2_orgunit_uid_or_code"),
            models.UniqueConstraint(
                fields=["uid"], condition=~Q(uid=""), name="dhis2_orgunit_uid_unique",
                violation_error_message=_("Another unit is already this DHIS2 org unit."),
            ),
            models.UniqueConstraint(
                fields=["code"], condition=~Q(code=""), name="dhis2_orgunit_code_unique",
                violation_error_message=_("Another unit is already this DHIS2 org unit."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit.code} → {self.uid or self.code}"

    def clean(self) -> None:
        # Neither a UID nor a code, or one another unit has: the constraints say so.
        if self.code and self.unit_id:
            # A unit without a DHIS2 code is exchanged under its own code: no other unit's
            # DHIS2 code may read the same.
            other = Unit.objects.filter(code=self.code).exclude(pk=self.unit_id).first()
            if other is not None:
                raise ValidationError({"code": _(
                    "%(code)s is the code of the unit %(unit)s here: a DHIS2 value for it "
                    "would be read as this unit's."
                ) % {"code": self.code, "unit": other.localized("name")}})


class DataElementMapping(models.Model):
    """The DHIS2 data element (and category option combo) a target of ours is reported as."""

    target = models.OneToOneField(
        Target, verbose_name=_("target"), on_delete=models.CASCADE,
        related_name="dhis2_data_element",
    )
    uid = _uid_field(_("DHIS2 data element UID"), _("Such as fbfJHSPpUQD; empty if you know "
                                                     "only its code."))
    code = _code_field(_("DHIS2 data element code"), _("Empty if you know only its UID."))
    category_option_combo = _uid_field(
        _("DHIS2 category option combo UID"),
        _("Only when the target is one disaggregation of the data element; empty for the "
          "default."),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["target__code"]
        verbose_name = _("DHIS2 data element of a target")
        verbose_name_plural = _("DHIS2 data elements of targets")
        constraints = [
            _uid_or_code("dhis2_dataelement_uid_or_code"),
        ]

    def __str__(self) -> str:
        combo = f" / {self.category_option_combo}" if self.category_option_combo else ""
        return f"{self.target.code} → {self.uid or self.code}{combo}"

    def clean(self) -> None:
        if self.category_option_combo == DEFAULT_COMBO_UID:
            self.category_option_combo = ""  # the default combo is no disaggregation
        if not self.target_id:
            return
        target = self.target
        if self.code:
            other = Target.objects.filter(code=self.code).exclude(pk=target.pk).first()
            if other is not None:
                raise ValidationError({"code": _(
                    "%(code)s is the code of the target %(other)s here: a DHIS2 value for it "
                    "would be read as this target's."
                ) % {"code": self.code, "other": other.code}})
        # Two targets of one unit on one data element and combo: a value could be either.
        same = Q(uid=self.uid) if self.uid else Q(pk__in=[])
        if self.code:
            same |= Q(code=self.code)
        clash = (
            DataElementMapping.objects.filter(same)
            .filter(
                category_option_combo=self.category_option_combo,
                target__responsible_unit_id=target.responsible_unit_id,
            )
            .exclude(target_id=target.pk)
            .select_related("target")
            .first()
        )
        if clash is not None:
            raise ValidationError(_(
                "%(other)s, a target of the same unit, is already this data element and "
                "category option combo: give one of them a category option combo of its own."
            ) % {"other": clash.target.code})


class Dhis2Upload(models.Model):
    """A dataValueSets document between its dry run and its import, then the outcome.

    The document waits here (not in the session) until it is confirmed; confirming claims the
    row once (previewed → running), so a second click imports nothing twice. The content is
    dropped once the import has run; the counts or the problems remain for the result page.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
        related_name="dhis2_uploads",
    )
    filename = models.CharField(_("file name"), max_length=255)
    content = models.BinaryField(_("content"), blank=True, editable=False)
    entry_status = models.CharField(
        _("import as"), max_length=10, choices=EntryStatus.choices, default=EntryStatus.SUBMITTED
    )
    language = models.CharField(_("language"), max_length=5, default=default_language)
    state = models.CharField(
        _("state"), max_length=10, choices=ImportState.choices, default=ImportState.PREVIEWED
    )
    value_count = models.PositiveIntegerField(_("data values"), default=0)
    created_count = models.PositiveIntegerField(_("entries created"), default=0)
    updated_count = models.PositiveIntegerField(_("entries updated"), default=0)
    approved_count = models.PositiveIntegerField(_("entries approved"), default=0)
    unchanged_count = models.PositiveIntegerField(_("entries unchanged"), default=0)
    problem_count = models.PositiveIntegerField(_("problems"), default=0)
    # The first problems of a failed import, as text: [{"place", "field", "message"}, …].
    problems = models.JSONField(_("problems"), default=list, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("DHIS2 import")
        verbose_name_plural = _("DHIS2 imports")
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=ImportState.values), name="dhis2upload_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(entry_status__in=[EntryStatus.SUBMITTED, EntryStatus.APPROVED]),
                name="dhis2upload_entry_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["state", "created_at"])]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_state_display()})"

    @property
    def finished(self) -> bool:
        return self.state in (ImportState.DONE, ImportState.FAILED)
