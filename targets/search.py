"""Text search as Vietnamese readers type it: case and accents ignored on both sides.

"lap day" finds "lấp đầy", "DUONG" finds "đường" and "lâp" finds "lấp": people often type
without diacritics (or with the wrong ones), and nobody expects a search to tell them apart.
PostgreSQL compares through its ``unaccent`` extension (created by migration 0013), which also
maps đ/Đ to d/D and drops combining marks (text typed in decomposed form). The demo's SQLite
gets the same function in Python (``sqlite_unaccent``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import reduce
from operator import or_

from django.db.models import Q

# The text fields each search looks in; a field added to a model (a translation, say) is
# added here and every search over that model looks in it.
TARGET_FIELDS: tuple[str, ...] = ("code", "name", "name_en", "description", "description_en")
NAMED_FIELDS: tuple[str, ...] = ("code", "name", "name_en")  # units, plans, areas
PERSON_FIELDS: tuple[str, ...] = ("username", "first_name", "last_name", "email")

# Letters with a stroke are not a letter plus a combining mark: decomposing keeps them.
_STROKES = str.maketrans({"đ": "d", "Đ": "D"})


def ignoring_accents(*fields: str) -> list[str]:
    """``search_fields`` for the admin: each field compared without case or accents."""
    return [f"{field}__unaccent__icontains" for field in fields]


def words_in(fields: Iterable[str], text: str) -> Q:
    """Every word of ``text`` in one of ``fields`` (each in any of them), without case or
    accents."""
    lookups = ignoring_accents(*fields)
    found = Q()
    for word in text.split():
        found &= reduce(or_, (Q(**{lookup: word}) for lookup in lookups))
    return found


def unaccent(text: str | None) -> str | None:
    """The text without its diacritics, as PostgreSQL's ``unaccent`` writes it for
    Vietnamese: "Đầu tư đường" → "Dau tu duong"."""
    if text is None:
        return None
    decomposed = unicodedata.normalize("NFD", str(text))
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return unicodedata.normalize("NFC", bare).translate(_STROKES)


def sqlite_unaccent(sender, connection, **kwargs) -> None:
    """On a new SQLite connection (the demo's database), define UNACCENT as PostgreSQL's
    extension does, so that the same lookups work there."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("UNACCENT", 1, unaccent, deterministic=True)
