from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IatiConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "iati"
    verbose_name = _("IATI results")
