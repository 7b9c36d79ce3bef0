"""Vietnamese formats as Decree 30/2020/NĐ-CP writes them: 05/01/2026 in tables and forms,
"ngày 05 tháng 01 năm 2026" in running text and documents (Django's vi gives 5-1-2026 and
"Ngày 5 tháng 1 năm 2026"), numbers grouped 1.234,5 (Django's vi has no grouping)."""

from django.conf.locale.vi.formats import *  # noqa: F403

DATE_FORMAT = r"\n\g\à\y d \t\h\á\n\g m \n\ă\m Y"
DATETIME_FORMAT = r"H:i \n\g\à\y d \t\h\á\n\g m \n\ă\m Y"
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "H:i d/m/Y"
MONTH_DAY_FORMAT = r"d/m"
YEAR_MONTH_FORMAT = r"\t\h\á\n\g m/Y"
# What a date field accepts: the official form first, then ISO (what plan files and exports
# write). 05/01/2026 is always the 5th of January.
DATE_INPUT_FORMATS = ["%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"]
DATETIME_INPUT_FORMATS = [
    "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y",
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d",
]
FIRST_DAY_OF_WEEK = 1  # Monday
NUMBER_GROUPING = 3
