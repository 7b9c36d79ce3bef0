from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TargetsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "targets"
    verbose_name = _("Targets")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_delete

        from targets import checks, evidence, search  # noqa: F401 (checks register themselves)

        # Storage, not business: an entry deleted in the admin, or with its target or plan,
        # takes its evidence file with it (no service sees a cascade).
        post_delete.connect(
            evidence.entry_deleted, sender="targets.ProgressEntry",
            dispatch_uid="targets.evidence.entry_deleted",
        )
        # The database, not business: the demo's SQLite learns PostgreSQL's UNACCENT, which
        # the searches use.
        connection_created.connect(
            search.sqlite_unaccent, dispatch_uid="targets.search.sqlite_unaccent"
        )
