from django.urls import path

from targets.views import alerts

app_name = "targets"

urlpatterns: list = [
    path("alerts/", alerts.alert_list, name="alerts"),
    path("alerts/read-all/", alerts.alert_mark_all_read, name="alerts-read-all"),
    path("alerts/<int:pk>/read/", alerts.alert_mark_read, name="alert-read"),
    path("alerts/<int:pk>/acknowledge/", alerts.alert_acknowledge, name="alert-acknowledge"),
]
