"""The unaccent extension, with which searches ignore accents (targets/search.py).

CREATE EXTENSION needs a superuser or, unaccent being a trusted extension (PostgreSQL 13+), the
CREATE privilege on the database; where the application's role has neither, an administrator
creates it beforehand and this migration finds it there. Nothing happens on SQLite.
"""

from django.contrib.postgres.operations import UnaccentExtension
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("targets", "0012_completeness"),
    ]

    operations = [
        UnaccentExtension(),
    ]
