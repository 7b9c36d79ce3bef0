"""Django admin: how a provincial administrator sets up units, plans and targets."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from targets.models import (
    Alert,
    AlertRecipient,
    Area,
    Assessment,
    DeliveryState,
    Digest,
    EntryStatus,
    EvaluationDay,
    Membership,
    Milestone,
    Plan,
    Profile,
    ProgressEntry,
    ReportingReminder,
    Target,
    Unit,
)
from targets.search import NAMED_FIELDS, PERSON_FIELDS, TARGET_FIELDS, ignoring_accents
from targets.services import delivery, plans
from targets.services import entries as workflow
from targets.services.alerts import AlertSettings


class HistoryAdmin(SimpleHistoryAdmin):
    """A model kept in the audit history: each change names the signed-in user (the main
    object through SimpleHistoryAdmin, inline rows through simple-history's middleware), and
    its history page lists them."""

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # django-simple-history saves a posted history form ("Revert") with view permission
        # alone: reverting is a change and needs the change permission.
        if request.method == "POST" and not self.has_change_permission(request):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["unit"]


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False


User = get_user_model()
admin.site.unregister(User)


# Vietnamese names are written family name first: "Đỗ Văn Hải" is last_name "Đỗ" and
# first_name "Văn Hải".
NAME_LABELS = {"last_name": _("Family name"), "first_name": _("Middle and given names")}


@admin.register(User)
class TrackerUserAdmin(UserAdmin):
    inlines = [ProfileInline, MembershipInline]
    list_display = ["username", "name", "email", "is_staff"]
    search_fields = ignoring_accents(*PERSON_FIELDS)
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (_("Personal info"), {"fields": ["last_name", "first_name", "email"]}),
        *UserAdmin.fieldsets[2:],  # permissions, important dates
    ]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name in NAME_LABELS:
            field.label = NAME_LABELS[db_field.name]
        return field

    @admin.display(description=_("full name"), ordering="last_name")
    def name(self, user) -> str:
        return f"{user.last_name} {user.first_name}".strip()


@admin.register(Unit)
class UnitAdmin(HistoryAdmin):
    list_display = ["code", "name", "name_en", "parent"]
    search_fields = ignoring_accents(*NAMED_FIELDS)
    list_filter = [("parent", admin.RelatedOnlyFieldListFilter)]
    autocomplete_fields = ["parent"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(HistoryAdmin):
    list_display = ["user", "unit", "role"]
    list_filter = ["role", "unit"]
    search_fields = ignoring_accents(
        "user__username", "user__first_name", "user__last_name", "unit__code", "unit__name"
    )
    autocomplete_fields = ["user", "unit"]


class AreaInline(admin.TabularInline):
    model = Area
    extra = 1


@admin.register(Plan)
class PlanAdmin(HistoryAdmin):
    list_display = [
        "code", "name", "name_en", "unit", "start", "end", "reporting_calendar", "public",
    ]
    search_fields = ignoring_accents(*NAMED_FIELDS)
    list_filter = ["unit", "reporting_calendar", "public"]
    # Set by the plan file, which copies them onto the targets and checks their entries; the
    # publication time by the switch.
    readonly_fields = ["reporting_calendar", "deadline_working_days", "published_at"]
    autocomplete_fields = ["unit"]
    inlines = [AreaInline]
    actions = ["publish", "unpublish"]

    def save_model(self, request, obj: Plan, form, change: bool) -> None:
        if "public" in form.changed_data:
            obj.published_at = timezone.now() if obj.public else None
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Publish the selected plans (public pages)"),
                  permissions=["change"])
    def publish(self, request, queryset) -> None:
        changed = plans.plans_set_public(
            plan_ids=queryset.values_list("pk", flat=True), public=True, user=request.user
        )
        self.message_user(request, _("%(n)d plans published.") % {"n": len(changed)})

    @admin.action(description=_("Withdraw the selected plans from the public pages"),
                  permissions=["change"])
    def unpublish(self, request, queryset) -> None:
        changed = plans.plans_set_public(
            plan_ids=queryset.values_list("pk", flat=True), public=False, user=request.user
        )
        self.message_user(request, _("%(n)d plans withdrawn.") % {"n": len(changed)})


@admin.register(Area)
class AreaAdmin(HistoryAdmin):
    list_display = ["code", "name", "name_en", "plan"]
    list_filter = ["plan"]
    search_fields = ignoring_accents(*NAMED_FIELDS)


class MilestoneInline(admin.TabularInline):
    model = Milestone
    extra = 1


@admin.register(Target)
class TargetAdmin(HistoryAdmin):
    # Links typed without a scheme are https (Django 6's default, chosen now).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = [
        "code", "name", "plan", "area", "responsible_unit", "target_value", "measure",
        "due_date", "current_status",
    ]
    list_filter = [
        "plan", "area", "responsible_unit", "value_type", "trajectory", "frequency",
        "latest_assessment__status", "illustrative",
    ]
    search_fields = ignoring_accents(*TARGET_FIELDS, "source_text")
    list_select_related = ["plan", "area", "responsible_unit", "latest_assessment"]
    autocomplete_fields = ["responsible_unit", "owner"]
    inlines = [MilestoneInline]
    readonly_fields = ["reporting_calendar"]  # the plan's (see Target.clean)
    fieldsets = [
        (
            None,
            {"fields": ["code", "name", "name_en", "description", "description_en",
                        "illustrative"]},
        ),
        (_("Where it belongs"), {"fields": ["plan", "area", "responsible_unit", "owner"]}),
        (
            _("What is measured"),
            {"fields": [("measure", "measure_en"), "value_type", "direction", "aggregation",
                        "trajectory"]},
        ),
        (
            _("Baseline and target"),
            {"fields": [("baseline_value", "baseline_date"), ("target_value", "due_date")]},
        ),
        (
            _("Reporting"),
            {"fields": [
                "frequency", "reporting_calendar", "grace_days", "deadline_working_days",
                "tolerance",
            ]},
        ),
        (_("Source"), {"fields": ["source_text", "source_url"]}),
    ]

    @admin.display(description=_("status"), ordering="latest_assessment__status")
    def current_status(self, target: Target) -> str:
        if target.latest_assessment is None:
            return "—"
        return target.latest_assessment.get_status_display()


@admin.register(ProgressEntry)
class ProgressEntryAdmin(SimpleHistoryAdmin):
    list_display = [
        "target", "period", "value", "status", "author", "last_editor", "reviewer", "updated_at",
    ]
    list_filter = ["status", "target__plan", "target__responsible_unit"]
    search_fields = ignoring_accents("target__code", "target__name", "note", "review_comment")
    list_select_related = ["target", "author", "last_editor", "reviewer"]
    readonly_fields = [
        "target", "period", "value", "note", "evidence", "evidence_url", "status",
        "author", "last_editor", "submitted_by", "reviewer", "review_comment", "submitted_at",
        "reviewed_at", "period_start", "period_end", "version",
    ]
    fields = readonly_fields  # not the stored file name: a /media/ link nothing serves
    actions = ["approve_selected"]

    @admin.display(description=_("evidence file"))
    def evidence(self, entry: ProgressEntry) -> str:
        """The file under its own name, through the access-checked download (media is not
        served)."""
        if not entry.evidence_file:
            return "—"
        url = reverse("targets:evidence", args=[entry.pk])
        return format_html('<a href="{}">{}</a>', url, entry.evidence_name or _("download"))

    # Values and states change only through the workflow, so that every change is checked
    # (four eyes, versions) and kept in the history; the admin reviews with the action below.

    def has_add_permission(self, request) -> bool:
        return False  # entries are created through the workflow (screens, import)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # django-simple-history saves a posted history form ("Revert") with view permission
        # alone: that would write an old value or state past the workflow.
        if request.method == "POST":
            raise PermissionDenied(_("Entries change through the workflow only."))
        return super().history_form_view(request, object_id, version_id, extra_context)

    @admin.action(description=_("Approve selected submitted entries"))
    def approve_selected(self, request, queryset) -> None:
        ids = list(queryset.filter(status=EntryStatus.SUBMITTED).values_list("pk", flat=True))
        reviewed = workflow.entries_approve(
            user=request.user, entry_ids=ids, reassess=AlertSettings.from_settings()
        )
        for refusal in reviewed.refused:
            self.message_user(request, str(refusal), messages.WARNING)
        self.message_user(request, _("%(n)d entries approved.") % {"n": len(reviewed.done)})


@admin.register(Assessment)
class AssessmentAdmin(admin.ModelAdmin):
    list_display = [
        "target", "evaluated_on", "status", "actual", "expected", "ratio", "reporting",
        "forecast_label",
    ]
    list_filter = ["status", "reporting", "evaluated_on", "target__plan"]
    search_fields = ignoring_accents("target__code", "target__name")
    list_select_related = ["target"]
    date_hierarchy = "evaluated_on"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class AlertRecipientInline(admin.TabularInline):
    model = AlertRecipient
    fields = ["user", "digest", "read_at", "acknowledged_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["target", "kind", "subject", "status", "evaluated_on", "created_at",
                    "resolved_at"]
    list_filter = ["kind", "status", ("resolved_at", admin.EmptyFieldListFilter), "evaluated_on",
                   "target__plan"]
    search_fields = ignoring_accents("key", "target__code", "target__name")
    list_select_related = ["target"]
    date_hierarchy = "created_at"
    readonly_fields = ["target", "kind", "subject", "key", "status", "previous_status",
                       "severity", "params", "evaluated_on", "run", "created_at", "resolved_at"]
    inlines = [AlertRecipientInline]

    def has_add_permission(self, request) -> bool:
        return False  # alerts are recorded by evaluations only


class DigestItemInline(admin.TabularInline):
    model = AlertRecipient
    fk_name = "digest"
    fields = ["alert", "read_at", "acknowledged_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = _("alert in this digest")
    verbose_name_plural = _("alerts in this digest")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("alert__target")  # its name

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Digest)
class DigestAdmin(admin.ModelAdmin):
    list_display = ["user", "evaluated_on", "state", "attempts", "next_attempt_at",
                    "short_error", "claimed_at", "sent_at"]
    list_filter = ["state", "evaluated_on"]
    search_fields = ignoring_accents("user__username", "user__email", "last_error")
    list_select_related = ["user"]
    readonly_fields = ["user", "run", "evaluated_on", "state", "attempts", "next_attempt_at",
                       "last_error", "created_at", "claimed_at", "sent_at"]
    inlines = [DigestItemInline]
    actions = ["resend_failed"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description=_("last error"))
    def short_error(self, digest: Digest) -> str:
        return digest.last_error[:80]

    @admin.action(description=_("Re-send selected failed digests"))
    def resend_failed(self, request, queryset) -> None:
        """Queue them again with a fresh budget of tries."""
        ids = list(queryset.filter(state=DeliveryState.FAILED).values_list("pk", flat=True))
        count = delivery.digests_resend(digest_ids=ids)
        self.message_user(request, _("%(n)d digests queued to be sent again.") % {"n": count})


@admin.register(EvaluationDay)
class EvaluationDayAdmin(admin.ModelAdmin):
    """The days the scheduled evaluation ran: a gap here is a day it caught up, or will."""

    list_display = ["day", "finished_at"]
    date_hierarchy = "day"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ReportingReminder)
class ReportingReminderAdmin(admin.ModelAdmin):
    list_display = ["unit", "period", "sent_by", "sent_at", "recipients", "targets"]
    list_filter = ["period", "sent_at"]
    search_fields = ["unit__code", "unit__name", "sent_by__username"]
    list_select_related = ["unit", "sent_by"]
    date_hierarchy = "sent_at"
    readonly_fields = list_display

    def has_add_permission(self, request) -> bool:
        return False  # sent from the completeness screen only
