"""The investment register (issue 14, first slice): industrial parks, clusters and logistics
centres with their land, and the investment projects of each unit with their stage, capital,
land and jobs.

Names are in Vietnamese with the English translation beside them (``Translated``). Money is
never converted: each amount has its currency. The figures are entered in the admin or loaded
from a register file (``manage.py load_register``); project reports and register-derived
targets come later.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.lookups import Regex
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from simple_history.models import HistoricalRecords

from targets.models import EntryStatus, Translated, Unit, code_validator

AREA = {"max_digits": 12, "decimal_places": 2}  # hectares
MONEY = {"max_digits": 20, "decimal_places": 2}  # VND billions fit: 6.8e12 has 13 digits


class ParkKind(models.TextChoices):
    INDUSTRIAL_PARK = "industrial_park", _("Industrial park")
    INDUSTRIAL_CLUSTER = "industrial_cluster", _("Industrial cluster")
    LOGISTICS_CENTRE = "logistics_centre", _("Logistics centre")


class Sector(models.TextChoices):
    TRADE = "trade", _("Trade")
    SERVICES = "services", _("Services")
    LOGISTICS = "logistics", _("Logistics")
    AGRICULTURAL_PROCESSING = "agricultural_processing", _("Agricultural processing")
    HYDROPOWER = "hydropower", _("Hydropower")
    SUPPORTING_INDUSTRIES = "supporting_industries", _("Supporting industries")
    INDUSTRY = "industry", _("Industry")
    TOURISM = "tourism", _("Tourism")
    INFRASTRUCTURE = "infrastructure", _("Infrastructure")
    OTHER = "other", _("Other")


class Stage(models.TextChoices):
    """The licensing pipeline in order, then the two ways out of it."""

    PROPOSED = "proposed", _("Proposed")
    POLICY_APPROVED = "policy_approved", _("Investment policy approved")
    CERTIFICATE_ISSUED = "certificate_issued", _("Investment registration certificate issued")
    LAND_HANDED_OVER = "land_handed_over", _("Land handed over")
    UNDER_CONSTRUCTION = "under_construction", _("Under construction")
    OPERATING = "operating", _("Operating")
    SUSPENDED = "suspended", _("Suspended")
    REVOKED = "revoked", _("Revoked")


class Currency(models.TextChoices):
    VND = "VND", "VND"
    USD = "USD", "USD"


class Park(Translated, models.Model):
    """An industrial park, industrial cluster or logistics centre and its industrial land."""

    code = models.CharField(_("code"), max_length=40, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("name in English"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=ParkKind.choices)
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="parks"
    )
    industrial_land_ha = models.DecimalField(
        _("industrial land (ha)"), validators=[MinValueValidator(0)], **AREA
    )
    leased_ha = models.DecimalField(
        _("leased land (ha)"), null=True, blank=True, validators=[MinValueValidator(0)], **AREA
    )
    demo = models.BooleanField(
        _("demo data"), default=False, help_text=_("Invented for the demonstration.")
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = _("park or cluster")
        verbose_name_plural = _("parks and clusters")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=ParkKind.values), name="register_park_kind_known"
            ),
            models.CheckConstraint(
                condition=Q(industrial_land_ha__gte=0), name="register_park_land_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(leased_ha__isnull=True)
                | Q(leased_ha__gte=0, leased_ha__lte=F("industrial_land_ha")),
                name="register_park_leased_within_land",
            ),
        ]

    def __str__(self) -> str:
        return self.localized("name")

    def clean(self) -> None:
        if (
            self.leased_ha is not None and self.industrial_land_ha is not None
            and self.leased_ha > self.industrial_land_ha
        ):
            raise ValidationError(
                {"leased_ha": _("The leased land cannot exceed the industrial land.")}
            )


class Project(Translated, models.Model):
    """An investment project of a unit: its investor, stage, capital, land and jobs."""

    code = models.CharField(_("code"), max_length=40, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=300)
    name_en = models.CharField(_("name in English"), max_length=300, blank=True)
    investor = models.CharField(_("investor"), max_length=300)
    # ISO 3166-1 alpha-2 (django-countries): the code is stored, the name shown in the
    # reader's language.
    investor_country = CountryField(_("investor's country"))
    sector = models.CharField(_("sector"), max_length=30, choices=Sector.choices)
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="projects"
    )
    park = models.ForeignKey(
        Park, verbose_name=_("park or cluster"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="projects",
    )
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    registered_capital = models.DecimalField(
        _("registered capital"), validators=[MinValueValidator(0)], **MONEY
    )
    registered_currency = models.CharField(
        _("currency of the registered capital"), max_length=3, choices=Currency.choices,
        default=Currency.VND,
    )
    disbursed_capital = models.DecimalField(
        _("disbursed capital"), default=Decimal(0), validators=[MinValueValidator(0)], **MONEY
    )
    disbursed_currency = models.CharField(
        _("currency of the disbursed capital"), max_length=3, choices=Currency.choices,
        default=Currency.VND,
    )
    land_area_ha = models.DecimalField(
        _("land area (ha)"), null=True, blank=True, validators=[MinValueValidator(0)], **AREA
    )
    jobs_planned = models.PositiveIntegerField(_("jobs planned"), default=0)
    jobs_filled = models.PositiveIntegerField(_("jobs filled"), default=0)
    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices)
    stage_date = models.DateField(
        _("stage date"), help_text=_("When the project reached its stage.")
    )
    demo = models.BooleanField(
        _("demo data"), default=False, help_text=_("Invented for the demonstration.")
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = _("investment project")
        verbose_name_plural = _("investment projects")
        constraints = [
            models.CheckConstraint(
                condition=Q(sector__in=Sector.values), name="register_project_sector_known"
            ),
            models.CheckConstraint(
                condition=Q(stage__in=Stage.values), name="register_project_stage_known"
            ),
            models.CheckConstraint(
                condition=Q(registered_currency__in=Currency.values)
                & Q(disbursed_currency__in=Currency.values),
                name="register_project_currency_known",
            ),
            # The Regex lookup itself: django-countries reads ``investor_country__regex`` as a
            # pattern over the countries' names.
            models.CheckConstraint(
                condition=Regex(F("investor_country"), r"^[A-Z]{2}$"),
                name="register_project_country_two_letters",
            ),
            models.CheckConstraint(
                condition=Q(registered_capital__gte=0, disbursed_capital__gte=0),
                name="register_project_capital_not_negative",
            ),
            # Never converted: a disbursement is in the registered capital's currency.
            models.CheckConstraint(
                condition=Q(disbursed_capital=0)
                | Q(disbursed_currency=F("registered_currency")),
                name="register_project_disbursed_in_registered_currency",
            ),
            models.CheckConstraint(
                condition=Q(land_area_ha__isnull=True) | Q(land_area_ha__gte=0),
                name="register_project_land_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(jobs_planned__gte=0, jobs_filled__gte=0),
                name="register_project_jobs_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180,
                    longitude__lte=180),
                name="register_project_coordinates_both_and_valid",
            ),
        ]
        indexes = [models.Index(fields=["sector", "stage"])]

    def __str__(self) -> str:
        return f"{self.code} {self.localized('name')}"

    def clean(self) -> None:
        errors = {}
        if (self.latitude is None) != (self.longitude is None):
            field = "longitude" if self.longitude is None else "latitude"
            errors[field] = _("Give both the latitude and the longitude, or neither.")
        if (
            self.disbursed_capital and self.disbursed_currency
            and self.registered_currency and self.disbursed_currency != self.registered_currency
        ):
            errors["disbursed_currency"] = _(
                "The disbursed capital is in the currency of the registered capital "
                "(amounts are never converted)."
            )
        if (
            self.park_id and self.unit_id
            and not self.unit.path.startswith(self.park.unit.path)
        ):
            errors["park"] = _("The park is not in the project's unit or above it.")
        if errors:
            raise ValidationError(errors)


# --- project reports (issue 14): the project's figures period by period ----------------------


class ProjectReport(models.Model):
    """A project's stage and figures at the end of one reporting period (a calendar quarter:
    investors report quarterly), through the same workflow as progress entries.

    The approved reports are the register's history: a project's state at a date is its latest
    approved report whose period ended by then. Loading a register file records the row as an
    approved report of the quarter that holds the file's ``as_of`` date (``from_file``); the
    project's own fields always hold its latest approved report.
    """

    project = models.ForeignKey(
        Project, verbose_name=_("project"), on_delete=models.CASCADE, related_name="reports"
    )
    period = models.CharField(_("reporting period"), max_length=10)
    period_start = models.DateField(editable=False)
    period_end = models.DateField(editable=False, db_index=True)
    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices)
    stage_date = models.DateField(
        _("stage date"), help_text=_("When the project reached its stage.")
    )
    registered_capital = models.DecimalField(
        _("registered capital"), validators=[MinValueValidator(0)], **MONEY
    )
    disbursed_capital = models.DecimalField(
        _("disbursed capital"), validators=[MinValueValidator(0)], **MONEY
    )
    jobs_filled = models.PositiveIntegerField(_("jobs filled"), default=0)
    note = models.TextField(_("note"), blank=True)
    from_file = models.BooleanField(
        _("from a register file"), default=False,
        help_text=_("Recorded by loading a register file, not through the review workflow."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=EntryStatus.choices, default=EntryStatus.DRAFT
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT,
        related_name="project_reports",
    )
    last_editor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("figures last set by"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("submitted by"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("reviewer"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="reviewed_project_reports",
    )
    review_comment = models.TextField(_("reviewer's comment"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    history = HistoricalRecords()

    class Meta:
        ordering = ["project", "period_end"]
        verbose_name = _("project report")
        verbose_name_plural = _("project reports")
        constraints = [
            models.UniqueConstraint(fields=["project", "period"],
                                    name="register_report_one_per_period"),
            models.CheckConstraint(condition=Q(period_end__gte=F("period_start")),
                                   name="register_report_period_dates"),
            models.CheckConstraint(condition=Q(stage_date__lte=F("period_end")),
                                   name="register_report_stage_by_period_end"),
            models.CheckConstraint(condition=Q(stage__in=Stage.values),
                                   name="register_report_stage_known"),
            models.CheckConstraint(condition=Q(status__in=EntryStatus.values),
                                   name="register_report_status_valid"),
            models.CheckConstraint(
                condition=Q(registered_capital__gte=0, disbursed_capital__gte=0,
                            jobs_filled__gte=0),
                name="register_report_figures_not_negative",
            ),
            models.CheckConstraint(
                condition=~Q(status=EntryStatus.RETURNED) | ~Q(review_comment=""),
                name="register_report_returned_has_comment",
            ),
            models.CheckConstraint(
                condition=~Q(status=EntryStatus.APPROVED) | Q(from_file=True)
                | (~Q(reviewer=F("author")) & ~Q(reviewer=F("last_editor"))
                   & ~Q(reviewer=F("submitted_by"))),
                name="register_report_four_eyes",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project.code} {self.period}"

    @property
    def currency(self) -> str:
        return self.project.registered_currency


# --- targets that count themselves (issue 14) --------------------------------------------------


class MeasureKind(models.TextChoices):
    COUNT = "count", _("Number that reached the stage")
    REGISTERED_CAPITAL = "registered_capital", _("Registered capital")
    DISBURSED_CAPITAL = "disbursed_capital", _("Disbursed capital")
    JOBS_FILLED = "jobs_filled", _("Jobs filled")
    OCCUPANCY = "occupancy", _("Occupancy of industrial land (%)")


class Counted(models.TextChoices):
    PROJECTS = "projects", _("Projects")
    PARKS = "parks", _("Parks and clusters")


class TargetMeasure(models.Model):
    """What makes a target take its actual from the register instead of from entries.

    The projects (or parks) counted are those of ``unit`` and the units below it, narrowed by
    ``sector`` and ``park_kind``; suspended and revoked projects never count. ``stage``: only
    what has reached it (a count; sums count every project when blank). A park has reached
    the most advanced stage of its infrastructure projects (sector *infrastructure*).
    """

    target = models.OneToOneField(
        "targets.Target", verbose_name=_("target"), on_delete=models.CASCADE,
        related_name="register_measure",
    )
    kind = models.CharField(_("measure"), max_length=20, choices=MeasureKind.choices)
    counted = models.CharField(
        _("counts"), max_length=10, choices=Counted.choices, default=Counted.PROJECTS
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+",
        help_text=_("The register of this unit and the units below it."),
    )
    stage = models.CharField(_("reached stage"), max_length=20, choices=Stage.choices,
                             blank=True)
    sector = models.CharField(_("sector"), max_length=30, choices=Sector.choices, blank=True)
    park_kind = models.CharField(_("kind of park"), max_length=20, choices=ParkKind.choices,
                                 blank=True)
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices,
                                blank=True, help_text=_("Capital sums: amounts in this currency "
                                                        "only (never converted)."))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("register measure")
        verbose_name_plural = _("register measures")
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=MeasureKind.values),
                                   name="register_measure_kind_known"),
            models.CheckConstraint(
                condition=~Q(kind__in=["registered_capital", "disbursed_capital"])
                | ~Q(currency=""),
                name="register_measure_capital_has_currency",
            ),
            models.CheckConstraint(
                condition=~Q(kind="occupancy") | Q(counted="parks"),
                name="register_measure_occupancy_of_parks",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.target_id}: {self.get_kind_display()}"

    @property
    def counts_parks(self) -> bool:
        """Whether the measure reads parks and clusters (occupancy always does), not projects."""
        return self.counted == Counted.PARKS or self.kind == MeasureKind.OCCUPANCY


# --- imports of projects and project reports (issue 14) --------------------------------------


class ImportKind(models.TextChoices):
    PROJECTS = "projects", _("Projects")
    REPORTS = "reports", _("Project reports")


class RegisterUpload(models.Model):
    """A projects or project-reports file between its preview and its confirmation.

    The file waits here (not in the session) with the fingerprint of what its preview read:
    the confirmation re-reads that under row locks and writes nothing when it changed. The row
    is deleted when the file is confirmed (imported or refused), so a second click finds
    nothing to import twice.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=10, choices=ImportKind.choices)
    filename = models.CharField(_("file name"), max_length=255)
    content = models.BinaryField(_("content"), editable=False)
    fingerprint = models.CharField(_("fingerprint"), max_length=64, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("register file upload")
        verbose_name_plural = _("register file uploads")
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ImportKind.values),
                                   name="register_upload_kind_known"),
        ]

    def __str__(self) -> str:
        return self.filename
