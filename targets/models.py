"""The nouns of DESIGN §2 and the invariants the database can hold."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce, Concat, NullIf, Substr
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from targets import rules

code_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
    _("Use letters, digits, '.', '_' and '-' only."),
)

VALUE_DIGITS = {"max_digits": 20, "decimal_places": 4}


class Role(models.TextChoices):
    STAFF = "staff", _("Staff")
    MANAGER = "manager", _("Manager")


class ValueType(models.TextChoices):
    INTEGER = "integer", _("Integer")
    DECIMAL = "decimal", _("Decimal")
    PERCENT = "percent", _("Percent")


class Direction(models.TextChoices):
    AT_LEAST = rules.Direction.AT_LEAST, _("At least")
    AT_MOST = rules.Direction.AT_MOST, _("At most")


class Aggregation(models.TextChoices):
    LATEST = rules.Aggregation.LATEST, _("Latest level")
    SUM = rules.Aggregation.SUM, _("Sum of flows")


class Trajectory(models.TextChoices):
    LINEAR = rules.Trajectory.LINEAR, _("Linear")
    STEP = rules.Trajectory.STEP, _("Step")
    SMOOTH = rules.Trajectory.SMOOTH, _("Smooth (S-curve through the milestones)")


class Frequency(models.TextChoices):
    MONTHLY = rules.Frequency.MONTHLY, _("Monthly")
    QUARTERLY = rules.Frequency.QUARTERLY, _("Quarterly")
    HALF_YEARLY = rules.Frequency.HALF_YEARLY, _("Half-yearly")
    YEARLY = rules.Frequency.YEARLY, _("Yearly")


class ReportingCalendar(models.TextChoices):
    CALENDAR = rules.Calendar.CALENDAR, _("Calendar periods")
    DECREE_09 = rules.Calendar.DECREE_09, _("Decree 09/2019 cut-off periods (15th – 14th)")


# A deadline in working days after a period's cut-off: up to about five months.
MAX_DEADLINE_WORKING_DAYS = 100


def _reporting_calendar_field() -> models.CharField:
    return models.CharField(
        _("reporting calendar"),
        max_length=10,
        choices=ReportingCalendar.choices,
        default=ReportingCalendar.CALENDAR,
    )


# The deadline in working days: null (the grace days apply) or 0 – MAX_DEADLINE_WORKING_DAYS.
WORKING_DAYS = {
    "null": True,
    "blank": True,
    "validators": [MaxValueValidator(MAX_DEADLINE_WORKING_DAYS)],
}


# --- content in two languages ---
# Plans, targets, units and areas are written in Vietnamese (``name``, ``description``,
# ``measure``), with an English translation where one is given (``name_en``, ...). Each screen,
# export, email and document shows the reader's language, and the other one where the
# translation is empty.

TRANSLATED_FIELDS = ("name", "description", "measure")


def reads_english(language: str | None = None) -> bool:
    """Whether ``language`` (the active one if not given) reads the English translation."""
    return (language or get_language() or settings.LANGUAGE_CODE).startswith("en")


class Translated:
    """A model whose ``FIELD`` (Vietnamese) may have an English ``FIELD_en``."""

    def localized(self, field: str, language: str | None = None) -> str:
        """``field`` in ``language`` (the active language if not given), falling back to the
        other language when that one is empty."""
        vietnamese = getattr(self, field) or ""
        english = getattr(self, f"{field}_en", "") or ""
        if reads_english(language):
            return english or vietnamese
        return vietnamese or english


def localized_expression(field: str, language: str | None = None) -> Coalesce:
    """``Translated.localized`` in SQL, for ordering and labels: ``field`` is a lookup path
    (``area__name``)."""
    first, second = (f"{field}_en", field) if reads_english(language) else (field, f"{field}_en")
    return Coalesce(NullIf(F(first), Value("")), F(second))



class Status(models.TextChoices):
    ACHIEVED = rules.Status.ACHIEVED, _("Achieved")
    ON_TRACK = rules.Status.ON_TRACK, _("On track")
    AT_RISK = rules.Status.AT_RISK, _("At risk")
    LAGGING = rules.Status.LAGGING, _("Lagging")
    MISSED = rules.Status.MISSED, _("Missed")
    NO_DATA = rules.Status.NO_DATA, _("No data")


class Reason(models.TextChoices):
    """Rule 8: which rule decided a status."""

    ACHIEVED = rules.Reason.ACHIEVED, _("target met")
    MISSED = rules.Reason.MISSED, _("due date passed")
    NO_DATA = rules.Reason.NO_DATA, _("no approved report")
    RATIO = rules.Reason.RATIO, _("progress ratio")
    PACE = rules.Reason.PACE, _("current pace")


class Reporting(models.TextChoices):
    OK = rules.Reporting.OK, _("Up to date")
    DUE = rules.Reporting.DUE, _("Due")
    OVERDUE = rules.Reporting.OVERDUE, _("Overdue")


class Unit(Translated, models.Model):
    """A node of the organisational tree: province → commune / economic zone → department.

    ``path`` is the materialised chain of codes from the root (``LC/LC-BATXAT/``),
    so that a subtree is one indexed ``startswith`` query.
    """

    code = models.CharField(_("code"), max_length=40, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("name in English"), max_length=200, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(max_length=1000, editable=False, db_index=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["path"]
        verbose_name = _("unit")
        verbose_name_plural = _("units")

    def __str__(self) -> str:
        return self.localized("name")

    def save(self, *args, **kwargs) -> None:
        old_path = self.path
        self.path = self.compute_path()
        super().save(*args, **kwargs)
        if old_path and old_path != self.path:
            # Moving a unit moves its whole subtree: rewrite the descendants' paths at once.
            Unit.objects.filter(path__startswith=old_path).exclude(pk=self.pk).update(
                path=Concat(Value(self.path), Substr("path", len(old_path) + 1))
            )

    def compute_path(self) -> str:
        prefix = self.parent.path if self.parent_id else ""
        return f"{prefix}{self.code}/"

    def clean(self) -> None:
        if self.parent_id and self.pk:
            ancestor = self.parent
            while ancestor is not None:
                if ancestor.pk == self.pk:
                    raise ValidationError({"parent": _("A unit cannot be inside itself.")})
                ancestor = ancestor.parent



class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "unit"], name="membership_one_role_per_unit"),
            models.CheckConstraint(
                condition=Q(role__in=Role.values), name="membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.unit} ({self.get_role_display()})"


def default_language() -> str:
    """The deployment's language (LANGUAGE_CODE) when a row is made. A callable, not the value:
    migrations name it by its path, so they do not change with the environment."""
    return settings.LANGUAGE_CODE


class Profile(models.Model):
    """Per-user preferences: the language of the UI and of alert emails."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    language = models.CharField(
        _("language"), max_length=5, choices=settings.LANGUAGES, default=default_language
    )

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self) -> str:
        return f"{self.user} ({self.language})"


class Plan(Translated, models.Model):
    code = models.CharField(_("code"), max_length=40, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("name in English"), max_length=200, blank=True)
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="plans"
    )
    start = models.DateField(_("start"))
    end = models.DateField(_("end"))
    # The plan file's choices for all its targets; the importer copies them onto each target
    # (the rules read the target's own, so that judging a target reads no plan).
    reporting_calendar = _reporting_calendar_field()
    deadline_working_days = models.PositiveSmallIntegerField(
        _("deadline in working days"), **WORKING_DAYS,
        help_text=_("The deadline its targets get unless they state their own. Empty: grace "
                    "days."),
    )
    # Off until an administrator publishes the plan (services.plans.plans_set_public): its
    # public pages show the approved progress of its targets to anyone, without signing in.
    public = models.BooleanField(
        _("public"), default=False,
        help_text=_("Anyone may read the plan's approved progress on its public pages, "
                    "without signing in."),
    )
    published_at = models.DateTimeField(
        _("published at"), null=True, blank=True,
        help_text=_("When the plan was last made public (empty while it is not)."),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="plan_end_after_start"),
            models.CheckConstraint(
                condition=Q(reporting_calendar__in=ReportingCalendar.values),
                name="plan_reporting_calendar_valid",
            ),
            models.CheckConstraint(
                condition=Q(deadline_working_days__lte=MAX_DEADLINE_WORKING_DAYS),
                name="plan_deadline_working_days_range",
            ),
        ]

    def __str__(self) -> str:
        return self.localized("name")

    def clean(self) -> None:
        bounds = {**_date_in_bounds("start", self.start), **_date_in_bounds("end", self.end)}
        if bounds:
            raise ValidationError(bounds)
        if self.pk and self.start and self.end:
            outside = Milestone.objects.filter(target__plan=self).exclude(
                date__range=(self.start, self.end)
            )
            if outside.exists():
                raise ValidationError(
                    _("Milestones of this plan's targets lie outside these dates: %(list)s.")
                    % {"list": ", ".join(f"{m.target.code} {m.date}" for m in outside[:5])}
                )


class Area(Translated, models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="areas")
    code = models.CharField(_("code"), max_length=40, validators=[code_validator])
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("name in English"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["plan", "code"]
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        constraints = [
            models.UniqueConstraint(fields=["plan", "code"], name="area_code_unique_in_plan"),
        ]

    def __str__(self) -> str:
        return self.localized("name")


def _plain(value: Decimal) -> str:
    """A Decimal without padding zeros, in plain notation (1.0000 → 1, 22.50 → 22.5)."""
    if value == value.to_integral_value():
        return format(value.quantize(Decimal(1)), "f")
    return format(value.normalize(), "f")


def _date_in_bounds(name: str, value) -> dict:
    """A plan date outside the years plans may span, as a form error."""
    if value is None or rules.EARLIEST_DATE <= value <= rules.LATEST_DATE:
        return {}
    return {
        name: _("A date between %(first)s and %(last)s, please.")
        % {"first": rules.EARLIEST_DATE.isoformat(), "last": rules.LATEST_DATE.isoformat()}
    }


def _percent_in_range(field: str) -> Q:
    return ~Q(value_type=ValueType.PERCENT) | Q(**{f"{field}__gte": 0, f"{field}__lte": 100})


class Target(Translated, models.Model):
    code = models.CharField(_("code"), max_length=40, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=300)
    name_en = models.CharField(_("name in English"), max_length=300, blank=True)
    description = models.TextField(_("description"), blank=True)
    description_en = models.TextField(_("description in English"), blank=True)
    source_text = models.TextField(_("source sentence"), blank=True)
    source_url = models.URLField(_("source link"), max_length=500, blank=True)
    illustrative = models.BooleanField(
        _("illustrative value"),
        default=False,
        help_text=_("The source names the commitment without this number."),
    )
    plan = models.ForeignKey(
        Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="targets"
    )
    area = models.ForeignKey(
        Area, verbose_name=_("area"), on_delete=models.PROTECT, related_name="targets"
    )
    responsible_unit = models.ForeignKey(
        Unit, verbose_name=_("responsible unit"), on_delete=models.PROTECT, related_name="targets"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_targets",
    )
    measure = models.CharField(_("unit of measure"), max_length=100)
    measure_en = models.CharField(_("unit of measure in English"), max_length=100, blank=True)
    value_type = models.CharField(
        _("value type"), max_length=10, choices=ValueType.choices, default=ValueType.DECIMAL
    )
    direction = models.CharField(
        _("direction"), max_length=10, choices=Direction.choices, default=Direction.AT_LEAST
    )
    aggregation = models.CharField(
        _("aggregation"), max_length=10, choices=Aggregation.choices, default=Aggregation.LATEST
    )
    trajectory = models.CharField(
        _("trajectory"), max_length=10, choices=Trajectory.choices, default=Trajectory.LINEAR
    )
    baseline_value = models.DecimalField(_("baseline value"), **VALUE_DIGITS)
    baseline_date = models.DateField(_("baseline date"))
    target_value = models.DecimalField(_("target value"), **VALUE_DIGITS)
    due_date = models.DateField(_("due date"))
    frequency = models.CharField(
        _("reporting frequency"),
        max_length=12,
        choices=Frequency.choices,
        default=Frequency.QUARTERLY,
    )
    grace_days = models.PositiveSmallIntegerField(_("grace days"), default=15)
    deadline_working_days = models.PositiveSmallIntegerField(
        _("deadline in working days"), **WORKING_DAYS,
        help_text=_("Working days after a period's cut-off (weekends and Vietnam's public "
                    "holidays skipped); it replaces the grace days. Empty: grace days."),
    )
    # Always the plan's (the plan file sets both): a copy, so that judging reads no plan.
    reporting_calendar = _reporting_calendar_field()
    tolerance = models.DecimalField(
        _("tolerance"),
        max_digits=5,
        decimal_places=4,
        default=Decimal("0.10"),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal("0.5"))],
        help_text=_("0.10 means a ratio of 0.9 is still on track."),
    )
    # The range a reported or planned value may take (a percentage lies within 0–100 besides).
    # Counts and money cannot go below 0 unless the plan says so: no minimum is written
    # ``min: null`` in a plan file, a yes/no target ``min: 0, max: 1``.
    min_value = models.DecimalField(
        _("smallest value"), **VALUE_DIGITS, null=True, blank=True, default=Decimal(0),
        help_text=_("Empty: values may be negative."),
    )
    max_value = models.DecimalField(
        _("largest value"), **VALUE_DIGITS, null=True, blank=True,
        help_text=_("Empty: no upper limit (a percentage stays within 0–100)."),
    )
    latest_assessment = models.ForeignKey(
        "Assessment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["plan", "area", "code"]
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        constraints = [
            models.CheckConstraint(
                condition=Q(due_date__gt=F("baseline_date")), name="target_due_after_baseline"
            ),
            models.CheckConstraint(
                condition=_percent_in_range("baseline_value"), name="target_baseline_percent"
            ),
            models.CheckConstraint(
                condition=_percent_in_range("target_value"), name="target_value_percent"
            ),
            models.CheckConstraint(
                condition=Q(tolerance__gte=0, tolerance__lte=Decimal("0.5")),
                name="target_tolerance_range",
            ),
            models.CheckConstraint(
                condition=Q(value_type__in=ValueType.values), name="target_value_type_valid"
            ),
            models.CheckConstraint(
                condition=Q(direction__in=Direction.values), name="target_direction_valid"
            ),
            models.CheckConstraint(
                condition=Q(aggregation__in=Aggregation.values), name="target_aggregation_valid"
            ),
            models.CheckConstraint(
                condition=Q(trajectory__in=Trajectory.values), name="target_trajectory_valid"
            ),
            models.CheckConstraint(
                condition=Q(frequency__in=Frequency.values), name="target_frequency_valid"
            ),
            models.CheckConstraint(
                condition=Q(reporting_calendar__in=ReportingCalendar.values),
                name="target_reporting_calendar_valid",
            ),
            models.CheckConstraint(
                condition=Q(deadline_working_days__lte=MAX_DEADLINE_WORKING_DAYS),
                name="target_deadline_working_days_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.localized('name')}"

    def clean(self) -> None:
        errors = {}
        if self.plan_id and self.reporting_calendar != self.plan.reporting_calendar:
            # A target's periods are its plan's. Its entries name periods of the calendar they
            # were reported in: those stay where they are.
            if self.pk and self.entries.exists():
                errors["plan"] = _(
                    "This target has entries for the periods of another reporting calendar: "
                    "it cannot move to a plan on %(calendar)s."
                ) % {"calendar": self.plan.get_reporting_calendar_display()}
            else:
                self.reporting_calendar = self.plan.reporting_calendar
        for name in ("baseline_date", "due_date"):
            errors.update(_date_in_bounds(name, getattr(self, name)))
        if self.due_date and self.baseline_date and self.due_date <= self.baseline_date:
            errors["due_date"] = _("The due date must be after the baseline date.")
        elif (
            self.due_date
            and self.baseline_date
            and self.frequency in Frequency.values
            and self.reporting_calendar in ReportingCalendar.values
        ):
            count = rules.period_count(
                rules.Frequency(self.frequency), self.baseline_date, self.due_date,
                self.calendar,
            )
            if count > rules.MAX_REPORTING_PERIODS:
                errors["frequency"] = _(
                    "%(count)s reporting periods between the baseline and due dates: at most "
                    "%(max)s are allowed (report less often or shorten the plan)."
                ) % {"count": count, "max": rules.MAX_REPORTING_PERIODS}
        if (
            self.min_value is not None
            and self.max_value is not None
            and self.min_value > self.max_value
        ):
            errors["max_value"] = _("The largest value is below the smallest.")
        for name in ("baseline_value", "target_value"):
            value = getattr(self, name)
            problem = self.value_problem(value) if value is not None else None
            if problem:
                errors[name] = problem
        if self.area_id and self.plan_id and self.area.plan_id != self.plan_id:
            errors["area"] = _("The area belongs to another plan.")
        if self.pk and self.value_type == ValueType.PERCENT:
            beyond = Q(value__lt=0) | Q(value__gt=100)
            if self.entries.filter(beyond).exists() or self.milestones.filter(beyond).exists():
                errors["value_type"] = _(
                    "Entries or milestones of this target lie outside 0–100: it cannot be a "
                    "percentage."
                )
        if errors:
            raise ValidationError(errors)

    def value_problem(self, value: Decimal) -> str | None:
        """Why ``value`` cannot be reported or planned for this target (None if it can): the
        one place that knows a target's range, for forms, imports, the plan file and the admin.
        """
        low, high = self.min_value, self.max_value
        if self.value_type == ValueType.INTEGER and value != value.to_integral_value():
            return _("%(value)s is not a whole number.") % {"value": _plain(value)}
        if self.value_type == ValueType.PERCENT:
            if not (0 <= value <= 100):
                return _("%(value)s is not a percentage between 0 and 100.") % {
                    "value": _plain(value)}
            low = Decimal(0) if low is None else max(low, Decimal(0))
            high = Decimal(100) if high is None else min(high, Decimal(100))
        if low is not None and high is not None and not (low <= value <= high):
            return _("%(value)s lies outside %(low)s – %(high)s for this target.") % {
                "value": _plain(value), "low": _plain(low), "high": _plain(high)}
        if low is not None and value < low:
            return _("%(value)s is below %(low)s, the smallest value of this target.") % {
                "value": _plain(value), "low": _plain(low)}
        if high is not None and value > high:
            return _("%(value)s is above %(high)s, the largest value of this target.") % {
                "value": _plain(value), "high": _plain(high)}
        return None

    def spec(self, milestones: list[Milestone] | None = None) -> rules.TargetSpec:
        """The plain values the rules work on. Pass ``milestones`` to avoid a query."""
        if milestones is None:
            milestones = list(self.milestones.all())
        return rules.TargetSpec(
            baseline_value=self.baseline_value,
            baseline_date=self.baseline_date,
            target_value=self.target_value,
            due_date=self.due_date,
            direction=rules.Direction(self.direction),
            aggregation=rules.Aggregation(self.aggregation),
            trajectory=rules.Trajectory(self.trajectory),
            milestones=tuple(rules.Point(m.date, m.value) for m in milestones),
            frequency=rules.Frequency(self.frequency),
            grace_days=self.grace_days,
            tolerance=self.tolerance,
            calendar=self.calendar,
            deadline_working_days=self.deadline_working_days,
        )

    @property
    def calendar(self) -> rules.Calendar:
        return rules.Calendar(self.reporting_calendar)

    def reporting_periods(self) -> tuple[rules.Period, ...]:
        return rules.reporting_periods(
            rules.Frequency(self.frequency), self.baseline_date, self.due_date, self.calendar
        )

    def report_deadline(self, period: rules.Period) -> date:
        """The last day this target's report for ``period`` is on time."""
        return rules.report_deadline(period, self.grace_days, self.deadline_working_days)


class Milestone(models.Model):
    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="milestones")
    date = models.DateField(_("date"))
    value = models.DecimalField(_("expected value"), **VALUE_DIGITS)
    history = HistoricalRecords()

    class Meta:
        ordering = ["target", "date"]
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        constraints = [
            models.UniqueConstraint(fields=["target", "date"], name="milestone_one_per_date"),
        ]

    def __str__(self) -> str:
        return f"{self.value} by {self.date.isoformat()}"

    def clean(self) -> None:
        target = self.target if self.target_id else None
        if target is None or self.date is None:
            return
        plan = target.plan
        if not (plan.start <= self.date <= plan.end):
            raise ValidationError(
                {"date": _("A milestone date lies inside the plan (%(start)s – %(end)s).")
                 % {"start": plan.start.isoformat(), "end": plan.end.isoformat()}}
            )
        if not (target.baseline_date < self.date < target.due_date):
            raise ValidationError(
                {"date": _("A milestone date lies between the baseline date and the due date.")}
            )
        problem = target.value_problem(self.value) if self.value is not None else None
        if problem:
            raise ValidationError({"value": problem})


class EntryStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    RETURNED = "returned", _("Returned")


def evidence_upload_to(instance: ProgressEntry, filename: str) -> str:
    """A random stored name (the original is kept in ``evidence_name``), by month uploaded."""
    suffix = PurePath(filename).suffix.lower()
    suffix = suffix if suffix[1:].isalnum() and len(suffix) <= 8 else ""
    return f"evidence/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{suffix}"


class ProgressEntry(models.Model):
    """The value reported for one target and one reporting period."""

    target = models.ForeignKey(
        Target, verbose_name=_("target"), on_delete=models.CASCADE, related_name="entries"
    )
    period = models.CharField(_("reporting period"), max_length=10)
    period_start = models.DateField(editable=False)
    period_end = models.DateField(editable=False, db_index=True)
    value = models.DecimalField(_("value"), **VALUE_DIGITS)
    note = models.TextField(_("note"), blank=True)
    evidence_file = models.FileField(
        _("evidence file"), upload_to=evidence_upload_to, blank=True, max_length=300
    )
    evidence_name = models.CharField(
        _("evidence file name"), max_length=255, blank=True,
        help_text=_("The name the file had when it was uploaded; it is offered on download."),
    )
    evidence_url = models.URLField(_("evidence link"), max_length=500, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=EntryStatus.choices, default=EntryStatus.DRAFT
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="entries",
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reviewed_entries",
    )
    review_comment = models.TextField(_("reviewer's comment"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    # Four eyes: whoever last set the value, and whoever submitted it, may not approve or
    # return it, whoever the author was. Null where nobody did (the operator's file import).
    last_editor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("value last set by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Optimistic lock: every write of the workflow adds one; a form carries the version it was
    # read at, and a write from a stale form is refused instead of overwriting.
    version = models.PositiveIntegerField(_("version"), default=1)
    history = HistoricalRecords()

    class Meta:
        ordering = ["target", "period_end"]
        verbose_name = _("progress entry")
        verbose_name_plural = _("progress entries")
        constraints = [
            models.UniqueConstraint(fields=["target", "period"], name="entry_one_per_period"),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="entry_period_dates"
            ),
            models.CheckConstraint(
                condition=Q(status__in=EntryStatus.values), name="entry_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=EntryStatus.RETURNED) | ~Q(review_comment=""),
                name="entry_returned_has_comment",
            ),
            models.CheckConstraint(
                condition=~Q(status=EntryStatus.APPROVED) | ~Q(reviewer=F("author")),
                name="entry_no_self_approval",
            ),
            models.CheckConstraint(
                condition=~Q(status=EntryStatus.APPROVED) | ~Q(reviewer=F("last_editor")),
                name="entry_last_editor_does_not_approve",
            ),
            models.CheckConstraint(
                condition=~Q(status=EntryStatus.APPROVED) | ~Q(reviewer=F("submitted_by")),
                name="entry_submitter_does_not_approve",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.target.code} {self.period}: {self.value}"


class Assessment(models.Model):
    """The computed state of a target at an evaluation date (DESIGN §3)."""

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="assessments")
    evaluated_on = models.DateField(_("evaluation date"))
    # Null only when the target could not be judged (``error`` says why).
    actual = models.DecimalField(_("actual"), max_digits=24, decimal_places=6, null=True)
    as_of = models.DateField(
        _("as of"), null=True, help_text=_("The period end of the latest approved entry.")
    )
    expected = models.DecimalField(
        _("expected as of"), max_digits=24, decimal_places=6, null=True,
        help_text=_("The expected value at the as-of date (at the evaluation date without one)."),
    )
    expected_now = models.DecimalField(
        _("expected now"), max_digits=24, decimal_places=6, null=True
    )
    ratio = models.DecimalField(_("progress ratio"), max_digits=24, decimal_places=6, null=True)
    share = models.DecimalField(
        _("share of the way"), max_digits=24, decimal_places=6, null=True,
        help_text=_("How far the actual has come from the baseline to the target value (1 = all)."),
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, blank=True)
    reason = models.CharField(_("reason"), max_length=10, choices=Reason.choices, blank=True)
    error = models.TextField(
        _("error"), blank=True, help_text=_("Why the target could not be judged, if it could not.")
    )
    reporting = models.CharField(_("reporting"), max_length=10, choices=Reporting.choices)
    overdue_periods = models.JSONField(_("overdue periods"), default=list)
    milestones_missed = models.JSONField(_("milestones missed"), default=list)
    projected = models.DecimalField(
        _("projected value at due date"), max_digits=24, decimal_places=6, null=True
    )
    forecast_reached_on = models.DateField(_("forecast date"), null=True)
    forecast_never = models.BooleanField(_("forecast never reached"), default=False)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["target", "-evaluated_on"]
        get_latest_by = "evaluated_on"
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        constraints = [
            models.UniqueConstraint(
                fields=["target", "evaluated_on"], name="assessment_one_per_target_and_date"
            ),
            models.CheckConstraint(
                condition=Q(status__in=Status.values) | Q(status="", error__gt=""),
                name="assessment_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.target.code} @ {self.evaluated_on}: {self.status}"

    @property
    def forecast_label(self) -> str | None:
        return rules.forecast_label(self.forecast_reached_on, never=self.forecast_never)

    @property
    def severity(self) -> int:
        return rules.SEVERITY[rules.Status(self.status)] if self.status else 0

    @property
    def judged(self) -> bool:
        return not self.error



# --- alerts (DESIGN §4) ---------------------------------------------------------


class AlertKind(models.TextChoices):
    WORSENED = rules.AlertKind.WORSENED, _("Status worsened")
    MILESTONE_MISSED = rules.AlertKind.MILESTONE_MISSED, _("Milestone missed")
    OVERDUE = rules.AlertKind.OVERDUE, _("Report overdue")
    RECOVERED = rules.AlertKind.RECOVERED, _("Recovered")
    ESCALATED = rules.AlertKind.ESCALATED, _("Escalated")
    REMINDER = rules.AlertKind.REMINDER, _("Report reminder")
    EXPLANATION_ASKED = rules.AlertKind.EXPLANATION_ASKED, _("Explanation requested")
    EXPLANATION_ANSWERED = rules.AlertKind.EXPLANATION_ANSWERED, _("Explanation answered")
    EXPLANATION_ACCEPTED = rules.AlertKind.EXPLANATION_ACCEPTED, _("Explanation accepted")
    EXPLANATION_ASKED_AGAIN = (
        rules.AlertKind.EXPLANATION_ASKED_AGAIN, _("Explanation asked again")
    )
    EXPLANATION_ESCALATED = rules.AlertKind.EXPLANATION_ESCALATED, _("Explanation overdue")
    REPORT_REQUESTED = rules.AlertKind.REPORT_REQUESTED, _("Report requested")


# The kinds an explanation request's workflow records (the others: an evaluation).
EXPLANATION_KINDS = (
    AlertKind.EXPLANATION_ASKED,
    AlertKind.EXPLANATION_ANSWERED,
    AlertKind.EXPLANATION_ACCEPTED,
    AlertKind.EXPLANATION_ASKED_AGAIN,
    AlertKind.EXPLANATION_ESCALATED,
)


class Alert(models.Model):
    """One event for one target, recorded once under ``key`` (target id:kind:subject).

    The subject makes each event unique: the date and the new status for a
    worsening or a recovery (a re-run of the same date is the same event, a
    second worsening later is a new one), the milestone date, the period key,
    or the date of the episode's first alert for an escalation.
    """

    target = models.ForeignKey(
        Target, verbose_name=_("target"), on_delete=models.CASCADE, related_name="alerts"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=AlertKind.choices)
    subject = models.CharField(_("subject"), max_length=60)
    key = models.CharField(_("key"), max_length=200, unique=True, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    previous_status = models.CharField(
        _("previous status"), max_length=10, choices=Status.choices, blank=True
    )
    severity = models.PositiveSmallIntegerField(_("severity"), default=0)
    params = models.JSONField(_("message parameters"), default=dict, blank=True)
    evaluated_on = models.DateField(_("evaluation date"))
    run = models.CharField(_("evaluation run"), max_length=32, db_index=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=AlertKind.values), name="alert_kind_valid"
            ),
        ]
        indexes = [models.Index(fields=["target", "kind", "resolved_at"])]

    def __str__(self) -> str:
        # The key names the target by id (so a renamed target keeps its alerts); people
        # read its code.
        return f"{self.target.code} {self.get_kind_display()} {self.subject}"

    @staticmethod
    def make_key(target_id: int, kind: str, subject: str) -> str:
        # The target's id, not its code: a renamed target's events keep their keys.
        return f"{target_id}:{kind}:{subject}"


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Digest(models.Model):
    """The one email a recipient gets for one evaluation run: the unit of delivery.

    A sender claims it with a conditional update (pending → sending), sends,
    and marks it sent only after the mail server accepted the message.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="digests",
    )
    run = models.CharField(_("evaluation run"), max_length=32, editable=False)
    evaluated_on = models.DateField(_("evaluation date"))
    state = models.CharField(
        _("state"), max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    # When the dispatcher looks at the digest again: a failed one's next try (growing delays),
    # a pending one's re-queue after a lost task message; null: nothing scheduled.
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("alert digest")
        verbose_name_plural = _("alert digests")
        constraints = [
            models.UniqueConstraint(fields=["user", "run"], name="digest_one_per_user_and_run"),
            models.CheckConstraint(
                condition=Q(state__in=DeliveryState.values), name="digest_state_valid"
            ),
        ]
        indexes = [models.Index(fields=["state", "claimed_at"])]

    def __str__(self) -> str:
        return f"{self.user} — {self.evaluated_on} ({self.get_state_display()})"


class EvaluationDay(models.Model):
    """A day of the scheduled evaluation: claimed when it starts, finished once every target
    is judged, its alerts recorded and its digests made.

    The daily task evaluates every day since the last one recorded here, so a day
    missed (the broker down at the beat's tick) is caught up at the next run. A large day
    is split into batches of targets run by any number of workers (``batches``: each
    one's code range; ``batches_done``: the indexes of those committed).
    """

    day = models.DateField(_("day"), unique=True)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    run = models.CharField(_("evaluation run"), max_length=32, blank=True)
    batches = models.JSONField(_("batches"), default=list, blank=True)
    batches_done = models.JSONField(_("batches done"), default=list, blank=True)

    class Meta:
        ordering = ["-day"]
        verbose_name = _("evaluation day")
        verbose_name_plural = _("evaluation days")

    def __str__(self) -> str:
        return self.day.isoformat()


class AlertRecipient(models.Model):
    """One alert in one user's inbox, with its read / acknowledged state and its digest."""

    alert = models.ForeignKey(
        Alert, verbose_name=_("alert"), on_delete=models.CASCADE, related_name="recipients"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="alert_inbox",
    )
    digest = models.ForeignKey(
        Digest,
        verbose_name=_("digest"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="items",
    )
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)

    class Meta:
        ordering = ["-alert__created_at", "-pk"]
        verbose_name = _("alert recipient")
        verbose_name_plural = _("alert recipients")
        constraints = [
            models.UniqueConstraint(fields=["alert", "user"], name="alert_recipient_once"),
        ]

    def __str__(self) -> str:
        return f"{self.alert} → {self.user}"


# --- entries files imported in the browser (DESIGN §7) ------------------------------------


class ImportState(models.TextChoices):
    PREVIEWED = "previewed", _("Previewed")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Import failed")


class ImportJob(models.Model):
    """An uploaded entries file between its preview and its import, then the import's outcome.

    The file waits here (not in the session) until it is confirmed. Confirming claims the job
    with one conditional update (previewed → queued), so a second click imports nothing twice;
    a worker claims a queued job the same way (queued → running). The content is dropped once
    the import has run; the counts or the problems remain for the result page.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="import_jobs",
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
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    checked_rows = models.PositiveIntegerField(_("rows checked"), default=0)
    created_count = models.PositiveIntegerField(_("entries created"), default=0)
    updated_count = models.PositiveIntegerField(_("entries updated"), default=0)
    approved_count = models.PositiveIntegerField(_("entries approved"), default=0)
    unchanged_count = models.PositiveIntegerField(_("entries unchanged"), default=0)
    problem_count = models.PositiveIntegerField(_("problems"), default=0)
    # The first problems of a failed import, as text: [{"place", "field", "message"}, …].
    problems = models.JSONField(_("problems"), default=list, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("entries import")
        verbose_name_plural = _("entries imports")
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=ImportState.values), name="importjob_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(entry_status__in=[EntryStatus.SUBMITTED, EntryStatus.APPROVED]),
                name="importjob_entry_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["state", "created_at"])]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_state_display()})"

    @property
    def finished(self) -> bool:
        return self.state in (ImportState.DONE, ImportState.FAILED)


# --- explanation requests (issue 13: yêu cầu giải trình) -----------------------------------


class ExplanationState(models.TextChoices):
    OPEN = "open", _("Awaiting an answer")
    ANSWERED = "answered", _("Answered")
    ACCEPTED = "accepted", _("Accepted")
    ASKED_AGAIN = "asked_again", _("Asked again")


# A target has at most one request in these states: awaiting its answer or the answer's review.
EXPLANATION_ACTIVE = (ExplanationState.OPEN, ExplanationState.ANSWERED)


class ExplanationRequest(models.Model):
    """A manager asks the target's responsible unit to explain its status by a due date.

    open ──answer──▶ answered ──accept──▶ accepted
                         └──ask again──▶ asked_again, and a new request (``previous`` = this
    one) opens with the new question and due date: each request holds one question, one due
    date, at most one answer and one escalation, so its history reads as one round.
    An open request not answered by its due date is escalated once (``escalated_at``) to the
    managers of the parent unit; it stays open and can still be answered.
    """

    target = models.ForeignKey(
        Target, verbose_name=_("target"), on_delete=models.CASCADE,
        related_name="explanation_requests",
    )
    previous = models.OneToOneField(
        "self", verbose_name=_("asked again after"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="follow_up",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT,
        related_name="+",
    )
    question = models.TextField(_("question"))
    due_date = models.DateField(_("answer due by"))
    # The status that called for the explanation, as the target stood when it was asked.
    target_status = models.CharField(_("target status"), max_length=10, choices=Status.choices)
    state = models.CharField(
        _("state"), max_length=12, choices=ExplanationState.choices,
        default=ExplanationState.OPEN,
    )
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    # Optimistic lock, as ProgressEntry's: every write of the workflow adds one.
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("asked"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["target", "-created_at", "-pk"]
        verbose_name = _("explanation request")
        verbose_name_plural = _("explanation requests")
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=ExplanationState.values), name="explanation_state_valid"
            ),
            models.UniqueConstraint(
                fields=["target"], condition=Q(state__in=EXPLANATION_ACTIVE),
                name="explanation_one_active_per_target",
            ),
        ]
        indexes = [models.Index(fields=["state", "due_date"])]

    def __str__(self) -> str:
        return f"{self.target.code} {self.created_at:%Y-%m-%d} ({self.get_state_display()})"


class ExplanationAnswer(models.Model):
    """The unit's answer to one request: text, evidence, and optionally a recovery plan
    (measures and a proposed revised milestone: a date and the value expected by then)."""

    request = models.OneToOneField(
        ExplanationRequest, verbose_name=_("explanation request"), on_delete=models.CASCADE,
        related_name="answer",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT,
        related_name="+",
    )
    text = models.TextField(_("explanation"))
    evidence_file = models.FileField(
        _("evidence file"), upload_to=evidence_upload_to, blank=True, max_length=300
    )
    evidence_name = models.CharField(_("evidence file name"), max_length=255, blank=True)
    measures = models.TextField(_("recovery measures"), blank=True)
    proposed_date = models.DateField(_("proposed milestone date"), null=True, blank=True)
    proposed_value = models.DecimalField(
        _("proposed milestone value"), **VALUE_DIGITS, null=True, blank=True
    )
    created_at = models.DateTimeField(_("answered"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("explanation answer")
        verbose_name_plural = _("explanation answers")
        constraints = [
            models.CheckConstraint(
                condition=Q(proposed_date__isnull=True, proposed_value__isnull=True)
                | Q(proposed_date__isnull=False, proposed_value__isnull=False),
                name="explanation_milestone_date_and_value",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request} — {self.author}"

    @property
    def has_recovery_plan(self) -> bool:
        return bool(self.measures) or self.proposed_date is not None


# --- reminders from the completeness screen (issue 13: who has not reported) --------------


class ReportingReminder(models.Model):
    """A manager reminded a unit of its report for a period: one row per reminder sent.

    The row is both the record (who, when, to how many people) and the rate limit: a unit is
    reminded of a period at most once in ``services.completeness.REMINDER_INTERVAL``.
    """

    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="reminders"
    )
    period = models.CharField(_("reporting period"), max_length=10)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("sent by"), on_delete=models.PROTECT,
        related_name="+",
    )
    sent_at = models.DateTimeField(_("sent"), default=timezone.now)
    recipients = models.PositiveIntegerField(_("recipients"), default=0)
    targets = models.PositiveIntegerField(_("targets not reported"), default=0)

    class Meta:
        ordering = ["-sent_at", "-pk"]
        verbose_name = _("reporting reminder")
        verbose_name_plural = _("reporting reminders")
        indexes = [models.Index(fields=["unit", "period", "sent_at"])]

    def __str__(self) -> str:
        return f"{self.unit} {self.period} ({self.sent_at:%Y-%m-%d %H:%M})"
