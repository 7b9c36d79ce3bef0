from django.urls import path

from register import import_views
from register.views import RegisterView

app_name = "register"

urlpatterns = [
    path("", RegisterView.as_view(), name="projects"),
    path("import/", import_views.register_import, name="import"),
    path("import/confirm/", import_views.register_import_confirm, name="import-confirm"),
    path("import/template/<str:kind>.<str:fmt>", import_views.register_import_template,
         name="import-template"),
]
