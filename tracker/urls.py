from django.contrib import admin
from django.urls import include, path

from targets.views.account import LoginView, PasswordResetView

# Uploaded evidence is not served from MEDIA_URL: it goes through targets:evidence,
# which checks the user's scope like every other view.
urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/login/", LoginView.as_view(), name="login"),
    # Queues the mail for a worker and counts the requests (targets.services.accounts).
    path("accounts/password_reset/", PasswordResetView.as_view(), name="password_reset"),
    path("accounts/tokens/", include("api.token_urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("register/", include("register.urls")),
    path("iati/", include("iati.urls")),
    # Published plans, for anyone: no sign-in (targets/public_urls.py).
    path("", include("targets.public_urls")),
    path("api/", include("api.urls")),
    path("dhis2/", include("dhis2.urls")),
    path("", include("targets.urls")),
]
