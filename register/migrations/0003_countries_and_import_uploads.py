"""The investor's country becomes django-countries' CountryField, and register files wait for
their confirmation in RegisterUpload.

The country's column and its check constraint stay what they were in the database: only
Django's idea of them changes, so no table is rebuilt (SQLite would otherwise remake both
project tables for nothing). The constraint is now written with the Regex lookup itself,
because django-countries reads ``investor_country__regex`` as a pattern over the countries'
names; its SQL is the same (``"investor_country"::text ~ '^[A-Z]{2}$'`` on PostgreSQL).
"""

import django.db.models.deletion
import django.db.models.lookups
import django_countries.fields
from django.conf import settings
from django.db import migrations, models


def _country_field():
    return django_countries.fields.CountryField(max_length=2, verbose_name="investor's country")


class Migration(migrations.Migration):

    dependencies = [
        ('register', '0002_project_reports_and_measures'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
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
        migrations.CreateModel(
            name='RegisterUpload',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('projects', 'Projects'), ('reports', 'Project reports')], max_length=10, verbose_name='kind')),
                ('filename', models.CharField(max_length=255, verbose_name='file name')),
                ('content', models.BinaryField(verbose_name='content')),
                ('fingerprint', models.CharField(editable=False, max_length=64, verbose_name='fingerprint')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='user')),
            ],
            options={
                'verbose_name': 'register file upload',
                'verbose_name_plural': 'register file uploads',
                'ordering': ['-created_at', '-pk'],
                'constraints': [models.CheckConstraint(condition=models.Q(('kind__in', ['projects', 'reports'])), name='register_upload_kind_known')],
            },
        ),
    ]
