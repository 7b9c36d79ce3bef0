from django.urls import path

from api import pages

urlpatterns = [
    path("", pages.tokens, name="api-tokens"),
    path("<int:pk>/revoke/", pages.revoke, name="api-token-revoke"),
]
