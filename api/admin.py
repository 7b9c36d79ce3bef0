"""API tokens in the admin: administrators make tokens for anyone (the key shown once, in the
page that answers the creation) and revoke them; a token's key is never shown again."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from api.forms import VALIDITY_CHOICES
from api.models import ApiToken
from api.services import DEFAULT_DAYS, token_create, token_revoke
from targets.errors import NotAllowed, WorkflowError


class TokenCreationForm(forms.ModelForm):
    days = forms.TypedChoiceField(
        label=_("Valid for"), choices=VALIDITY_CHOICES, coerce=int, initial=DEFAULT_DAYS,
    )

    class Meta:
        model = ApiToken
        fields = ["user", "name"]


class StateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("usable", _("Active")), ("revoked", _("Revoked"))]

    def queryset(self, request, queryset):
        if self.value() == "usable":
            return queryset.usable()
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "expires_at", "last_used_at",
                    "revoked_at"]
    list_filter = [StateFilter]
    search_fields = ["name", "prefix", "user__username"]
    autocomplete_fields = ["user"]
    readonly_fields = ["user", "prefix", "created_at", "created_by", "expires_at",
                       "last_used_at", "revoked_at", "revoked_by"]
    fields = ["name", *readonly_fields]
    actions = ["revoke"]

    def has_module_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # revoked, not deleted: the row says who had it and when

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = TokenCreationForm
            kwargs["fields"] = ["user", "name", "days"]
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return ["user", "name", "days"] if obj is None else super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change) -> None:
        if change:
            obj.save(update_fields=["name"])
            return
        try:
            created = token_create(
                user=request.user, owner=form.cleaned_data["user"],
                name=form.cleaned_data["name"], days=form.cleaned_data["days"],
            )
        except (NotAllowed, WorkflowError) as exc:
            raise forms.ValidationError(str(exc)) from exc
        obj.pk = created.token.pk
        obj.__dict__.update(created.token.__dict__)
        obj.created_key = created.key

    def response_add(self, request, obj, post_url_continue=None):
        """The key, in this answer only: not as a message, which would travel in a cookie."""
        return TemplateResponse(
            request, "admin/api/apitoken/created.html",
            {**self.admin_site.each_context(request), "opts": self.opts, "token": obj,
             "key": obj.created_key, "title": _("API token created")},
            headers={"Cache-Control": "no-store"},
        )

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset) -> None:
        count = 0
        for token in queryset.filter(revoked_at__isnull=True):
            token_revoke(user=request.user, token_id=token.pk)
            count += 1
        self.message_user(request, ngettext("%d token revoked.", "%d tokens revoked.", count)
                          % count)

