"""English formats that no reader can take for another date: 5 Jan 2026 and 5 January 2026,
never the United States' 01/05/2026; numbers 1,234.5."""

from django.conf.locale.en.formats import *  # noqa: F403

DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y, H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "j F"
# What a date field accepts: ISO first, then 5 Jan 2026; never 01/05/2026, which half the
# world reads as the 5th of January and half as the 1st of May.
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d %b %Y", "%d %B %Y"]
DATETIME_INPUT_FORMATS = [
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%d %b %Y %H:%M", "%d %b %Y",
]
FIRST_DAY_OF_WEEK = 1  # Monday
