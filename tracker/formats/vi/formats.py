"""Vietnamese formats: Django's, with thousands grouped (1.234,5) — Django's vi has no grouping."""

from django.conf.locale.vi.formats import *  # noqa: F403

NUMBER_GROUPING = 3
