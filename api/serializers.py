"""What the API shows and takes. Names come in both languages (``name`` the Vietnamese,
``name_en`` its translation); labels and sentences (``status_label``, ``reason_text``) in the
user's language, as the status table shows them. Numbers are JSON numbers."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from register.models import Project
from targets import verdicts
from targets.models import (
    VALUE_DIGITS,
    Alert,
    Area,
    Assessment,
    Milestone,
    Plan,
    ProgressEntry,
    Target,
    Unit,
)
from targets.notifications import alert_message
from targets.tables import ENTRY_LABELS
from targets.tables import EXPORTED as STATUS_TABLE_CELLS
from targets.templatetags.tracker import forecast_text

Number = serializers.DecimalField  # JSON numbers (COERCE_DECIMAL_TO_STRING is off)


def number(**extra) -> serializers.DecimalField:
    return Number(max_digits=30, decimal_places=6, read_only=True, **extra)


def person() -> serializers.SlugRelatedField:
    """A person by username, or null for nobody."""
    return serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)


class UnitSerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = Unit
        fields = ["code", "name", "name_en", "parent"]


class AreaSerializer(serializers.ModelSerializer):
    class Meta:
        model = Area
        fields = ["code", "name", "name_en"]


class PlanSerializer(serializers.ModelSerializer):
    unit = serializers.SlugRelatedField(slug_field="code", read_only=True)
    areas = AreaSerializer(many=True, read_only=True)

    class Meta:
        model = Plan
        fields = ["code", "name", "name_en", "unit", "start", "end", "reporting_calendar",
                  "deadline_working_days", "areas"]


class MilestoneSerializer(serializers.ModelSerializer):
    value = number()

    class Meta:
        model = Milestone
        fields = ["date", "value"]


class AssessmentSerializer(serializers.ModelSerializer):
    """A judgement of the target at ``evaluated_on`` (DESIGN's rules 1–8)."""

    actual = number(allow_null=True)
    expected = number(allow_null=True, help_text="Expected at as_of (at evaluated_on without).")
    expected_now = number(allow_null=True)
    ratio = number(allow_null=True)
    share = number(allow_null=True, help_text="Share of the way from baseline to target value.")
    projected = number(allow_null=True)
    status = serializers.SerializerMethodField()
    forecast = serializers.SerializerMethodField()
    forecast_text = serializers.SerializerMethodField()
    overdue_periods = serializers.ListField(child=serializers.CharField(), read_only=True)
    milestones_missed = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Assessment
        fields = ["evaluated_on", "status", "reason", "actual", "as_of", "expected",
                  "expected_now", "ratio", "share", "reporting", "overdue_periods",
                  "milestones_missed", "projected", "forecast", "forecast_text", "error",
                  "computed_at"]

    @extend_schema_field({"type": "string", "nullable": True,
                          "description": "null when the target could not be judged (error)"})
    def get_status(self, assessment: Assessment) -> str | None:
        return assessment.status or None

    @extend_schema_field({"type": "string", "nullable": True,
                          "description": "An ISO date, \"never\", or null (rule 7)"})
    def get_forecast(self, assessment: Assessment) -> str | None:
        if assessment.error:
            return None
        if assessment.forecast_never:
            return "never"
        reached = assessment.forecast_reached_on
        return reached.isoformat() if reached else None

    def get_forecast_text(self, assessment: Assessment) -> str:
        return forecast_text(assessment)


class LastEntrySerializer(serializers.Serializer):
    period = serializers.CharField()
    status = serializers.CharField()
    value = number()


class TargetSerializer(serializers.ModelSerializer):
    """A target with its milestones and its latest assessment, and the status table's words
    for it: ``status_label`` ("On track", "Not judged"), ``reason_text`` (rule 8's sentence),
    ``reporting_label``."""

    plan = serializers.SlugRelatedField(slug_field="code", read_only=True)
    area = serializers.SlugRelatedField(slug_field="code", read_only=True)
    responsible_unit = serializers.SlugRelatedField(slug_field="code", read_only=True)
    owner = person()
    baseline_value = number()
    target_value = number()
    min_value = number(allow_null=True)
    max_value = number(allow_null=True)
    tolerance = number()
    milestones = MilestoneSerializer(many=True, read_only=True)
    status = serializers.SerializerMethodField()
    status_label = serializers.SerializerMethodField()
    reason_text = serializers.SerializerMethodField()
    reporting_label = serializers.SerializerMethodField()
    assessment = AssessmentSerializer(source="latest_assessment", read_only=True, allow_null=True)
    last_entry = serializers.SerializerMethodField()

    class Meta:
        model = Target
        fields = [
            "code", "name", "name_en", "description", "description_en", "plan", "area",
            "responsible_unit", "owner", "measure", "measure_en", "value_type", "direction",
            "aggregation", "trajectory", "baseline_value", "baseline_date", "target_value",
            "due_date", "frequency", "grace_days", "deadline_working_days",
            "reporting_calendar", "tolerance", "min_value", "max_value", "illustrative",
            "source_text", "source_url", "milestones", "status", "status_label",
            "reason_text", "reporting_label", "assessment", "last_entry",
        ]

    @extend_schema_field({"type": "string", "nullable": True,
                          "description": "The status table's status (no_data before any "
                                         "assessment); null when not judged"})
    def get_status(self, target: Target) -> str | None:
        assessment = target.latest_assessment
        if assessment is not None and assessment.error:
            return None
        return target.current_status

    def get_status_label(self, target: Target) -> str:
        return STATUS_TABLE_CELLS["status"](target)

    def get_reason_text(self, target: Target) -> str:
        return verdicts.assessment_sentence(target, target.latest_assessment)

    @extend_schema_field({"type": "string", "nullable": True})
    def get_reporting_label(self, target: Target) -> str | None:
        return STATUS_TABLE_CELLS["reporting"](target)

    @extend_schema_field(LastEntrySerializer(allow_null=True))
    def get_last_entry(self, target: Target) -> dict | None:
        if not target.last_entry_period:
            return None
        return {"period": target.last_entry_period, "status": target.last_entry_status,
                "value": target.last_entry_value}


class ProgressEntrySerializer(serializers.ModelSerializer):
    target = serializers.SlugRelatedField(slug_field="code", read_only=True)
    value = number()
    status_label = serializers.SerializerMethodField()
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)
    last_editor = person()
    submitted_by = person()
    reviewer = person()
    evidence_file = serializers.SerializerMethodField()

    class Meta:
        model = ProgressEntry
        fields = ["id", "target", "period", "period_start", "period_end", "value", "note",
                  "evidence_url", "evidence_file", "status", "status_label", "author",
                  "last_editor", "submitted_by", "submitted_at", "reviewer", "review_comment",
                  "reviewed_at", "created_at", "updated_at", "version"]

    def get_status_label(self, entry: ProgressEntry) -> str:
        return str(ENTRY_LABELS.get(entry.status, entry.status))

    @extend_schema_field({"type": "string", "nullable": True,
                          "description": "The evidence file's name (downloaded on the "
                                         "screens), or null"})
    def get_evidence_file(self, entry: ProgressEntry) -> str | None:
        if not entry.evidence_file:
            return None
        return entry.evidence_name or entry.evidence_file.name.rsplit("/", 1)[-1]


VALUE = {"max_digits": VALUE_DIGITS["max_digits"], "decimal_places": VALUE_DIGITS["decimal_places"]}


class EntryCreateSerializer(serializers.Serializer):
    """A new entry for a target and one of its reporting periods: a draft, or submitted at
    once with ``submit``."""

    target = serializers.CharField(max_length=40, help_text="The target's code.")
    period = serializers.CharField(max_length=10, help_text="2026-Q1, 2026-H1, 2026, 2026-03")
    value = serializers.DecimalField(**VALUE)
    note = serializers.CharField(required=False, allow_blank=True, default="",
                                 max_length=10_000)
    evidence_url = serializers.CharField(required=False, allow_blank=True, default="",
                                         max_length=500)
    submit = serializers.BooleanField(required=False, default=False,
                                      help_text="Submit for review at once.")


class EntryChangeSerializer(serializers.Serializer):
    """A change of a draft or returned entry (the fields left out keep their value), over
    the version the client read."""

    version = serializers.IntegerField(min_value=0, max_value=2**31 - 1)
    value = serializers.DecimalField(required=False, **VALUE)
    note = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    evidence_url = serializers.CharField(required=False, allow_blank=True, max_length=500)
    submit = serializers.BooleanField(required=False, default=False)


class VersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        min_value=0, max_value=2**31 - 1,
        help_text="The entry's version as read: a change since is refused (409).",
    )


class ReturnSerializer(VersionSerializer):
    comment = serializers.CharField(max_length=10_000, help_text="What needs fixing.")


class AlertSerializer(serializers.ModelSerializer):
    target = serializers.SlugRelatedField(slug_field="code", read_only=True)
    message = serializers.SerializerMethodField()
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Alert
        fields = ["id", "target", "kind", "kind_label", "subject", "status", "previous_status",
                  "severity", "evaluated_on", "created_at", "resolved_at", "message"]

    def get_message(self, alert: Alert) -> str:
        return alert_message(alert)


class ProjectSerializer(serializers.ModelSerializer):
    unit = serializers.SlugRelatedField(slug_field="code", read_only=True)
    park = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    registered_capital = number()
    disbursed_capital = number()
    land_area_ha = number(allow_null=True)
    latitude = number(allow_null=True)
    longitude = number(allow_null=True)

    class Meta:
        model = Project
        fields = ["code", "name", "name_en", "investor", "investor_country", "sector", "unit",
                  "park", "latitude", "longitude", "registered_capital",
                  "registered_currency", "disbursed_capital", "disbursed_currency",
                  "land_area_ha", "jobs_planned", "jobs_filled", "stage", "stage_date", "demo"]

