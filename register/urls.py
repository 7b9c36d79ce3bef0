from django.urls import path

from register.views import RegisterView

app_name = "register"

urlpatterns = [
    path("", RegisterView.as_view(), name="projects"),
]
