"""The investor's country becomes django-countries' CountryField.

The country's column and its check constraint stay what they were in the database: only
Django's idea of them changes, so no table is rebuilt (SQLite would otherwise remake both
project tables for nothing). The constraint is now written with the Regex lookup itself,
because django-countries reads ``investor_country__regex`` as a pattern over the countries'
names; its SQL is the same (``"investor_country"::text ~ '^[A-Z]{2}$'`` on PostgreSQL).
"""

import django.db.models.lookups
import django_countries.fields
from django.db import migrations, models


def _country_field():
    return django_countries.fields.CountryField(max_length=2, verbose_name="investor's country")


class Migration(migrations.Migration):

    dependencies = [
        ('register', '0002_project_reports_and_measures'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='historicalproject',
                    name='investor_country',
                    field=_country_field(),
                ),
                migrations.AlterField(
                    model_name='project',
                    name='investor_country',
                    field=_country_field(),
                ),
                migrations.RemoveConstraint(
                    model_name='project',
                    name='register_project_country_two_letters',
                ),
                migrations.AddConstraint(
                    model_name='project',
                    constraint=models.CheckConstraint(condition=django.db.models.lookups.Regex(models.F('investor_country'), '^[A-Z]{2}$'), name='register_project_country_two_letters'),
                ),
            ],
            database_operations=[],
        ),
    ]
