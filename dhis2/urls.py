from django.urls import path

from dhis2 import views

app_name = "dhis2"

urlpatterns = [
    path("", views.exchange, name="exchange"),
    path("export/", views.export, name="export"),
    path("import/", views.import_confirm, name="import-confirm"),
    path("imports/<int:pk>/", views.import_result, name="import-result"),
]
