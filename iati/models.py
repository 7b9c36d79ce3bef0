"""A plan as an IATI activity: the identifier it is published under and the organisation that
reports it. A plan without a row here is published under the deployment's defaults (the
IATI_* settings, README "IATI results")."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Concat
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from targets.models import Plan, Translated


class OrganisationType(models.TextChoices):
    """IATI's OrganisationType codelist, the public bodies among it (those that publish a
    plan's results)."""

    GOVERNMENT = "10", _("Government")
    LOCAL_GOVERNMENT = "11", _("Local government")
    OTHER_PUBLIC_SECTOR = "15", _("Other public sector")
    OTHER = "90", _("Other")


# IATI identifiers travel in URLs and file names: no spaces, no "/", "&", "|" or "?".
identifier_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._:-]*$",
    _("Use letters, digits, '.', ':', '_' and '-' only, starting with a letter or digit."),
)
sector_validator = RegexValidator(
    r"^[0-9]{3}([0-9]{2})?$",
    _("A DAC sector code: 3 digits (a category, such as 430) or 5 digits (such as 43040)."),
)


class IatiActivity(Translated, models.Model):
    plan = models.OneToOneField(
        Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="iati_activity"
    )
    identifier = models.CharField(
        _("IATI activity identifier"), max_length=150, unique=True,
        validators=[identifier_validator],
        help_text=_("The reporting organisation's identifier, a hyphen, then the plan's own "
                    "code: VN-XYZ-BX-2025-2030."),
    )
    reporting_org_ref = models.CharField(
        _("reporting organisation identifier"), max_length=100,
        validators=[identifier_validator],
        help_text=_("As registered with IATI: the registration agency's code, a hyphen, the "
                    "number it gave (VN-XYZ)."),
    )
    reporting_org_type = models.CharField(
        _("reporting organisation type"), max_length=2, choices=OrganisationType.choices,
        default=OrganisationType.LOCAL_GOVERNMENT,
    )
    reporting_org_name = models.CharField(
        _("reporting organisation name"), max_length=200, blank=True,
        help_text=_("Empty: the name of the plan's unit."),
    )
    reporting_org_name_en = models.CharField(
        _("reporting organisation name in English"), max_length=200, blank=True
    )
    sector = models.CharField(
        _("DAC sector"), max_length=5, blank=True, validators=[sector_validator],
        help_text=_("Empty: the deployment's default sector."),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["plan"]
        verbose_name = _("IATI activity")
        verbose_name_plural = _("IATI activities")
        constraints = [
            models.CheckConstraint(
                condition=Q(reporting_org_type__in=OrganisationType.values),
                name="iati_reporting_org_type_valid",
            ),
            # IATI: an activity's identifier begins with its reporting organisation's.
            models.CheckConstraint(
                condition=Q(identifier__startswith=Concat(F("reporting_org_ref"), Value("-"))),
                name="iati_identifier_starts_with_org",
            ),
        ]

    def __str__(self) -> str:
        return self.identifier

    def clean(self) -> None:
        if (
            self.identifier
            and self.reporting_org_ref
            and not self.identifier.startswith(f"{self.reporting_org_ref}-")
        ):
            raise ValidationError({"identifier": _(
                "An IATI activity identifier begins with its reporting organisation's "
                "identifier and a hyphen: %(prefix)s…"
            ) % {"prefix": f"{self.reporting_org_ref}-"}})
