from django.urls import path  # noqa: F401  (screens add their routes here)

app_name = "targets"

urlpatterns: list = []
