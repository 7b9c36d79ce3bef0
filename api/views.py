"""The REST API, version 1 (README "REST API").

Every read goes through the screens' selectors and scope (``targets.access``): what a user
cannot see on the screens does not exist here either (404). Every write goes through the
entry workflow's services, with the version the client read: the same rules (four eyes,
validation, conflicts, re-assessment after an approval) as the screens. The services' errors
become problem details in ``api.problems``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api import filters, serializers
from targets import access, selectors
from targets.errors import StaleEntry
from targets.filters import _plans
from targets.models import Alert, Assessment, ProgressEntry, Target, Unit
from targets.numbers import has_control_characters
from targets.services import entries as workflow
from targets.services.alerts import AlertSettings

CODE = r"[^/]+"  # codes are letters, digits, ".", "_" and "-": the dot too


class ApiMixin:
    """What every endpoint does after authentication: speak the user's language, and refuse
    what the database cannot even be asked (a NUL character). The rate limits count every
    request, those refused for want of a (valid) token too: DRF would check them only after
    the permissions, so an anonymous client was never slowed down."""

    def perform_authentication(self, request: Request) -> None:
        try:
            super().perform_authentication(request)
        except exceptions.AuthenticationFailed:
            self.check_throttles(request)  # a bad key counts against the client's address
            raise

    def check_permissions(self, request: Request) -> None:
        self.check_throttles(request)
        super().check_permissions(request)

    def check_throttles(self, request: Request) -> None:
        if getattr(request, "_throttles_checked", False):
            return  # once a request (DRF calls it after the permissions again)
        request._throttles_checked = True
        super().check_throttles(request)

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        _speak_users_language(request)
        for key, values in request.query_params.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                raise exceptions.ValidationError(
                    {key.replace("\x00", ""): [_("Null characters are not allowed.")]}
                )
        if any(has_control_characters(str(value)) for value in kwargs.values()):
            raise Http404


def _speak_users_language(request: Request) -> None:
    """The language the client asks for (Accept-Language, or the language cookie), else the
    language of the user's profile, else the deployment's."""
    if request.META.get("HTTP_ACCEPT_LANGUAGE") or request.COOKIES.get(
        settings.LANGUAGE_COOKIE_NAME
    ):
        return
    profile = getattr(request.user, "profile", None) if request.user.is_authenticated else None
    if profile is not None and profile.language:
        translation.activate(profile.language)
        request.LANGUAGE_CODE = profile.language


CODE_PARAMETER = OpenApiParameter("code", OpenApiTypes.STR, OpenApiParameter.PATH)


@extend_schema_view(
    list=extend_schema(summary="The units of your units' subtrees"),
    retrieve=extend_schema(summary="One unit", parameters=[CODE_PARAMETER]),
)
class UnitViewSet(ApiMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = serializers.UnitSerializer
    lookup_field = "code"
    lookup_value_regex = CODE
    filter_backends = []

    def get_queryset(self) -> QuerySet[Unit]:
        return access.units_visible_to(self.request.user).select_related("parent").order_by(
            "path"
        )


@extend_schema_view(
    list=extend_schema(summary="The plans holding targets you see, with their areas"),
    retrieve=extend_schema(summary="One plan", parameters=[CODE_PARAMETER]),
)
class PlanViewSet(ApiMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = serializers.PlanSerializer
    lookup_field = "code"
    lookup_value_regex = CODE
    filter_backends = []

    def get_queryset(self):
        return _plans(self.request).select_related("unit").prefetch_related("areas")


@extend_schema_view(
    list=extend_schema(
        summary="The status table: your targets with their latest assessment",
        description="Filtered as the status table is; `status` null means not judged.",
    ),
    retrieve=extend_schema(summary="One target", parameters=[CODE_PARAMETER]),
)
class TargetViewSet(ApiMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = serializers.TargetSerializer
    filterset_class = filters.TargetFilter
    lookup_field = "code"
    lookup_value_regex = CODE

    def get_queryset(self) -> QuerySet[Target]:
        # The status table's rows (the same selector), with every field of the target.
        return (
            selectors.targets_status_rows(user=self.request.user)
            .defer(None)
            .select_related("owner")
            .prefetch_related("milestones")
        )


@extend_schema(
    summary="A target's assessments, newest first",
    parameters=[CODE_PARAMETER],
)
class AssessmentList(ApiMixin, generics.ListAPIView):
    serializer_class = serializers.AssessmentSerializer
    filter_backends = []

    def get_queryset(self) -> QuerySet[Assessment]:
        target = get_object_or_404(access.targets_visible_to(self.request.user),
                                   code=self.kwargs["code"])
        return target.assessments.order_by("-evaluated_on", "-pk")


@extend_schema_view(
    list=extend_schema(summary="Alerts of the targets you see, newest first"),
    retrieve=extend_schema(summary="One alert"),
)
class AlertViewSet(ApiMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = serializers.AlertSerializer
    filterset_class = filters.AlertFilter

    def get_queryset(self) -> QuerySet[Alert]:
        return (
            Alert.objects.filter(target__in=access.targets_visible_to(self.request.user))
            .select_related("target")
            .order_by("-created_at", "-pk")
        )


@extend_schema_view(
    list=extend_schema(summary="Investment projects of your units' subtrees"),
    retrieve=extend_schema(summary="One project", parameters=[CODE_PARAMETER]),
)
class ProjectViewSet(ApiMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = serializers.ProjectSerializer
    filterset_class = filters.ProjectApiFilter
    lookup_field = "code"
    lookup_value_regex = CODE

    def get_queryset(self):
        return access.projects_visible_to(self.request.user).select_related("unit", "park")


ENTRY = serializers.ProgressEntrySerializer


@extend_schema_view(
    list=extend_schema(summary="Entries of the targets you see"),
    retrieve=extend_schema(summary="One entry"),
)
class EntryViewSet(
    ApiMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Progress entries. Each write names the version it read; a change meanwhile is 409."""

    serializer_class = ENTRY
    filterset_class = filters.EntryFilter

    def get_queryset(self) -> QuerySet[ProgressEntry]:
        return (
            ProgressEntry.objects.filter(
                target__in=access.targets_visible_to(self.request.user)
            )
            .select_related("target", "author", "last_editor", "submitted_by", "reviewer")
            .order_by("target__code", "period_end", "pk")
        )

    def _shown(self, entry: ProgressEntry, code: int = status.HTTP_200_OK) -> Response:
        entry = self.get_queryset().get(pk=entry.pk)
        headers = {}
        if code == status.HTTP_201_CREATED:
            headers["Location"] = reverse("api:entry-detail", args=[entry.pk])
        return Response(ENTRY(entry).data, status=code, headers=headers)

    @extend_schema(
        summary="Report a value for a target and period (a draft, or submitted)",
        request=serializers.EntryCreateSerializer, responses={201: ENTRY},
    )
    def create(self, request: Request) -> Response:
        data = _valid(serializers.EntryCreateSerializer, request)
        target = access.targets_visible_to(request.user).filter(code=data["target"]).first()
        if target is None:
            raise exceptions.ValidationError(
                {"target": [_("“%(code)s” is not a target you can see.")
                            % {"code": data["target"]}]}
            )
        existing = ProgressEntry.objects.filter(target=target, period=data["period"]).first()
        if existing is not None:
            raise StaleEntry(
                _("%(code)s %(period)s has an entry already (id %(id)d, version %(version)d):"
                  " change it with PATCH.")
                % {"code": target.code, "period": existing.period, "id": existing.pk,
                   "version": existing.version}
            )
        with transaction.atomic():
            entry = workflow.entry_save_draft(
                user=request.user, target_id=target.pk, period=data["period"],
                value=data["value"], note=data["note"], evidence_url=data["evidence_url"],
                version=0,
            )
            if data["submit"]:
                entry = workflow.entry_submit(
                    user=request.user, entry_id=entry.pk, version=entry.version
                )
        return self._shown(entry, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a draft or returned entry (and submit it)",
        request=serializers.EntryChangeSerializer, responses={200: ENTRY},
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        entry = self.get_object()
        data = _valid(serializers.EntryChangeSerializer, request)
        with transaction.atomic():
            saved = workflow.entry_save_draft(
                user=request.user, target_id=entry.target_id, period=entry.period,
                value=data.get("value", entry.value), note=data.get("note", entry.note),
                evidence_url=data.get("evidence_url", entry.evidence_url),
                version=data["version"],
            )
            if data["submit"]:
                saved = workflow.entry_submit(
                    user=request.user, entry_id=saved.pk, version=saved.version
                )
        return self._shown(saved)

    @extend_schema(summary="Submit a draft or returned entry for review",
                   request=serializers.VersionSerializer, responses={200: ENTRY})
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str) -> Response:
        entry = self.get_object()
        data = _valid(serializers.VersionSerializer, request)
        return self._shown(workflow.entry_submit(
            user=request.user, entry_id=entry.pk, version=data["version"]
        ))

    @extend_schema(
        summary="Approve a submitted entry (a manager who did not set or submit it)",
        description="The target is re-assessed at once, as after an approval on the screen.",
        request=serializers.VersionSerializer, responses={200: ENTRY},
    )
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str) -> Response:
        entry = self.get_object()
        data = _valid(serializers.VersionSerializer, request)
        return self._shown(workflow.entry_approve(
            user=request.user, entry_id=entry.pk, version=data["version"],
            reassess=AlertSettings.from_settings(),
        ))

    @extend_schema(summary="Return a submitted entry to its author with a comment",
                   request=serializers.ReturnSerializer, responses={200: ENTRY})
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_(self, request: Request, pk: str) -> Response:
        entry = self.get_object()
        data = _valid(serializers.ReturnSerializer, request)
        return self._shown(workflow.entry_return(
            user=request.user, entry_id=entry.pk, comment=data["comment"],
            version=data["version"],
        ))


def _valid(serializer_class, request: Request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
