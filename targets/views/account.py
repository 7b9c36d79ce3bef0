"""Sign-in and password reset: Django's own views, throttled.

After sign-in the UI speaks the user's profile language. Failed sign-ins are counted by
django-axes (settings ``AXES_*``), which answers a locked-out client with ``locked_out``. A reset
request queues the mail for a Celery worker and answers at once, the same for every address.
"""

from __future__ import annotations

import math

from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from targets.models import Profile
from targets.services import accounts


class LoginView(auth_views.LoginView):
    def form_valid(self, form) -> HttpResponse:
        response = super().form_valid(form)
        language = (
            Profile.objects.filter(user=form.get_user()).values_list("language", flat=True).first()
        )
        if language:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME, language,
                max_age=settings.LANGUAGE_COOKIE_AGE, samesite="Lax",
            )
        return response


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None = None,
    credentials: dict | None = None,
) -> HttpResponse:
    """The page axes shows instead of the sign-in's answer (``AXES_LOCKOUT_CALLABLE``).

    Every failure during the lock-out starts the cool-off again, so "N minutes" is the whole
    cool-off. 429: a client (and a monitoring rule) can tell it from a wrong password.
    """
    cool_off = get_cool_off(request)
    minutes = math.ceil(cool_off.total_seconds() / 60) if cool_off else None
    admin_login = request.path.startswith(reverse("admin:login"))
    return render(
        request,
        "registration/locked_out.html",
        {"minutes": minutes, "login_url": reverse("admin:login" if admin_login else "login")},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )


class PasswordResetView(auth_views.PasswordResetView):
    def form_valid(self, form) -> HttpResponse:
        # No account is looked up here: that, and the mail, happen in the worker.
        email = form.cleaned_data["email"]
        refusal = accounts.password_reset_limited(
            email=email, client=accounts.client_ip(self.request),
            limits=accounts.ResetLimits.from_settings(),
        )
        if refusal:
            form.add_error(None, refusal)
            return self.render_to_response(self.get_context_data(form=form), status=429)
        accounts.password_reset_enqueue(email)
        return HttpResponseRedirect(self.get_success_url())
