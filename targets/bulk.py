"""Writing many rows, each with its audit-history row, in a few queries (large imports).

Django's ``bulk_create`` prepares every value of every row in Python, several microseconds
each: 100,000 entries and their 100,000 history rows took a minute. On PostgreSQL the rows go
in with ``COPY`` instead, their ids drawn from the table's sequence beforehand — three
statements, whatever the number of rows. Elsewhere (SQLite in the demo) django-simple-history's
bulk functions do the same, slower.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Model
from django.db.models.fields.files import FieldFile
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

BATCH = 2000  # rows per statement where a statement holds the rows (not COPY)

CREATED, CHANGED = "+", "~"  # simple_history's history types


def _copy(table: str, columns: list[str], records: Iterable[tuple]) -> None:
    quote = connection.ops.quote_name
    statement = f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    # The wrapper turns the driver's errors into Django's (a unique violation: IntegrityError).
    with (
        connection.wrap_database_errors,
        connection.cursor() as cursor,
        cursor.copy(statement) as copy,
    ):
        for record in records:
            copy.write_row(record)


def _plain(value: Any) -> Any:
    return (value.name or "") if isinstance(value, FieldFile) else value


def _row(model: type[Model], values: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Every column of a new row: the given values, ``now`` for automatic timestamps, and the
    fields' defaults for the rest (as the model's constructor would set them)."""
    row = {}
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        if field.attname in values:
            row[field.attname] = _plain(values[field.attname])
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            row[field.attname] = now
        else:
            row[field.attname] = field.get_default()
    return row


def _copy_history(
    model: type[Model], rows: list[dict[str, Any]], *, kind: str, user, reason: str,
    now: datetime,
) -> None:
    """The history rows of ``rows`` (each with its ``pk``), as simple_history records them."""
    history = model.history.model
    fields = [f.attname for f in history._meta.concrete_fields if not f.primary_key]
    extra = {
        "history_date": now, "history_change_reason": reason, "history_type": kind,
        "history_user_id": user.pk,
    }
    _copy(
        history._meta.db_table,
        [history._meta.get_field(name).column for name in fields],
        (tuple(extra[name] if name in extra else row[name] for name in fields) for row in rows),
    )


def insert_with_history(
    model: type[Model], values: list[dict[str, Any]], *, user, reason: str, now: datetime
) -> None:
    """Create a row of ``model`` for each dict of values (by attribute name: ``target_id``),
    with its history row naming ``user`` and ``reason``."""
    if not values:
        return
    if connection.vendor != "postgresql":
        bulk_create_with_history(
            [model(**v) for v in values], model, batch_size=BATCH, default_user=user,
            default_change_reason=reason, default_date=now,
        )
        return
    meta = model._meta
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(values)],
        )
        ids = [pk for (pk,) in cursor.fetchall()]
    rows = [{meta.pk.attname: pk, **_row(model, v, now)} for pk, v in zip(ids, values, strict=True)]
    names = list(rows[0])
    _copy(
        meta.db_table,
        [meta.get_field(name).column if name != meta.pk.attname else meta.pk.column
         for name in names],
        (tuple(row.values()) for row in rows),
    )
    _copy_history(model, rows, kind=CREATED, user=user, reason=reason, now=now)


def update_with_history(
    objects: list[Model], fields: list[str], *, user, reason: str, now: datetime
) -> None:
    """Save ``fields`` of changed ``objects`` (one statement per batch), each with its history
    row naming ``user`` and ``reason``."""
    if not objects:
        return
    model = type(objects[0])
    if connection.vendor != "postgresql":
        bulk_update_with_history(
            objects, model, fields, batch_size=BATCH, default_user=user,
            default_change_reason=reason, default_date=now,
        )
        return
    model.objects.bulk_update(objects, fields, batch_size=BATCH)
    attnames = [f.attname for f in model._meta.concrete_fields]
    rows = [{name: _plain(getattr(obj, name)) for name in attnames} for obj in objects]
    _copy_history(model, rows, kind=CHANGED, user=user, reason=reason, now=now)
