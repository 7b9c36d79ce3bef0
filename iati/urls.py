from django.urls import path

from iati import views

app_name = "iati"

urlpatterns = [
    path("<str:code>.xml", views.plan_export, name="plan"),
]
