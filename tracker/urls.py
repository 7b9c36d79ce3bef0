from django.contrib import admin
from django.urls import include, path

from targets.views.account import LoginView

# Uploaded evidence is not served from MEDIA_URL: it goes through targets:evidence,
# which checks the user's scope like every other view.
urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("targets.urls")),
]
