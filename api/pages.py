"""The account's API tokens page: make a token (its key shown once) and revoke tokens."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from api.forms import TokenForm
from api.models import ApiToken
from api.services import token_create, token_revoke, tokens_of
from targets.errors import WorkflowError


@never_cache
@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    """GET: the user's tokens. POST: a new one, whose key this one answer shows (never
    stored anywhere but in the user's hands: not in a message, not in the session)."""
    created = None
    if request.method == "POST":
        form = TokenForm(request.POST)
        if form.is_valid():
            try:
                created = token_create(
                    user=request.user, name=form.cleaned_data["name"],
                    days=form.cleaned_data["days"],
                )
            except WorkflowError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                form = TokenForm()
    else:
        form = TokenForm()
    return render(
        request, "api/tokens.html",
        {"form": form, "created": created, "tokens": tokens_of(user=request.user),
         "docs_url": reverse("api:docs")},
    )


@login_required
@require_POST
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        # One's own tokens only here (an administrator revokes others' in the admin).
        if not ApiToken.objects.filter(pk=pk, user=request.user).exists():
            raise ApiToken.DoesNotExist
        token = token_revoke(user=request.user, token_id=pk)
    except ApiToken.DoesNotExist:
        raise Http404 from None
    messages.success(request, _("The token “%(name)s” is revoked: it works no more.")
                     % {"name": token.name})
    return redirect("api-tokens")
