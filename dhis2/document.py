"""Reading a DHIS2 ``dataValueSets`` JSON document into plain data values (no ORM).

A document that cannot be read as a data value set at all — not UTF-8, not JSON, too large,
too deep, not an object, no ``dataValues`` list, an identifier scheme we do not know, a
deletion — raises ImportFailed with what is wrong. Otherwise every data value comes back with
its fields and the problems of its own shape (a field missing, a number given as a boolean):
one bad value does not hide the others.

The document's own ``period``, ``orgUnit`` and ``attributeOptionCombo`` are the defaults of its
data values, as DHIS2 reads them. Keys DHIS2 does not need here (``dataSet``,
``completeDate``, ``storedBy``, ``created``, our ``notes`` …) are ignored, as DHIS2 ignores keys
it does not know.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from targets.errors import ImportFailed, Problem
from targets.numbers import has_control_characters, shown

MAX_BYTES = 2 * 1024 * 1024  # the entries file's limit: about 13,000 data values
MAX_VALUES = 10_000  # imported while the browser waits: a few seconds at most
MAX_TEXT = 50_000  # DHIS2's own limit on a comment
# A DHIS2 value as text: a plain number (DHIS2 writes 12, 12.5, -3), or with an exponent.
NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")
UID, CODE = "UID", "CODE"
SCHEMES = {"UID": UID, "ID": UID, "CODE": CODE}  # DHIS2 reads ID as UID
SCHEME_KEYS = ("dataElementIdScheme", "orgUnitIdScheme")


@dataclass
class DataValue:
    """One entry of ``dataValues``: its place (1-based) and fields, as given."""

    number: int
    data_element: str = ""
    period: str = ""
    org_unit: str = ""
    category_option_combo: str = ""
    attribute_option_combo: str = ""
    value: Decimal | str | None = None
    comment: str | None = None  # None: no comment given (the note is left as it is)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (field, message)


@dataclass
class DataValueSet:
    # The identifier scheme of data elements and org units: UID, CODE, or None when the
    # document does not say (an identifier is then looked up as a UID, then as a code).
    data_element_scheme: str | None
    org_unit_scheme: str | None
    values: list[DataValue]


class _Repeated(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _object(pairs: list[tuple[str, object]]) -> dict:
    found: dict = {}
    for key, value in pairs:
        if key in found:
            raise _Repeated(key)
        found[key] = value
    return found


def _not_a_number(text: str) -> Decimal:
    raise ValueError(text)


def _failed(filename: str, message: str) -> ImportFailed:
    return ImportFailed([Problem(filename, "", message)])


def parse(content: bytes, filename: str) -> DataValueSet:
    """The data value set ``content`` holds, or ImportFailed saying why it cannot be read."""
    if len(content) > MAX_BYTES:
        raise _failed(filename, _("The file is larger than 2 MB: split it into several "
                                  "documents (by period or org unit)."))
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _failed(filename, _("The file is not UTF-8 text: export it from DHIS2 as JSON "
                                  "again.")) from None
    try:
        document = json.loads(
            text, object_pairs_hook=_object, parse_float=Decimal, parse_int=Decimal,
            parse_constant=_not_a_number,
        )
    except json.JSONDecodeError as exc:
        raise _failed(filename, _("This is not valid JSON (line %(line)d, column %(column)d): "
                                  "export it from DHIS2 as JSON again.")
                      % {"line": exc.lineno, "column": exc.colno}) from None
    except _Repeated as exc:
        raise _failed(filename, _("The key “%(key)s” is given twice in one object.")
                      % {"key": shown(exc.key)}) from None
    except RecursionError:
        raise _failed(filename, _("The document is nested too deeply to be a data value "
                                  "set.")) from None
    except ValueError:  # NaN or Infinity, which JSON does not have
        raise _failed(filename, _("The document holds NaN or Infinity, which are not "
                                  "numbers in JSON.")) from None
    return _data_value_set(document, filename)


def _data_value_set(document: object, filename: str) -> DataValueSet:
    if not isinstance(document, dict):
        raise _failed(filename, _("The document is not a data value set: it must be a JSON "
                                  "object with a list “dataValues”."))
    values = document.get("dataValues")
    if not isinstance(values, list):
        raise _failed(filename, _("The document has no list “dataValues”: it is not a DHIS2 "
                                  "data value set."))
    if not values:
        raise _failed(filename, _("The document has no data values."))
    if len(values) > MAX_VALUES:
        raise _failed(filename, ngettext(
            "The document has %(count)d data values; at most %(max)d are imported at once: "
            "split it.",
            "The document has %(count)d data values; at most %(max)d are imported at once: "
            "split it.",
            len(values),
        ) % {"count": len(values), "max": MAX_VALUES})
    problems = []
    strategy = document.get("importStrategy", document.get("strategy"))
    if isinstance(strategy, str) and strategy.strip().upper() == "DELETE":
        problems.append(Problem(filename, "importStrategy", _(
            "The document asks to delete values: entries are never deleted by an import.")))
    schemes = {}
    for key in ("idScheme", *SCHEME_KEYS):
        given = document.get(key)
        if given is None:
            schemes[key] = None
        elif isinstance(given, str) and given.strip().upper() in SCHEMES:
            schemes[key] = SCHEMES[given.strip().upper()]
        else:
            problems.append(Problem(filename, key, _(
                "The identifier scheme “%(scheme)s” is not supported here: use UID or CODE."
            ) % {"scheme": shown(str(given))}))
    for key in SCHEME_KEYS:  # the general scheme is the default of the specific ones
        schemes[key] = schemes.get(key) or schemes.get("idScheme")
    defaults = {
        name: document.get(name) for name in ("period", "orgUnit", "attributeOptionCombo")
    }
    for name, given in defaults.items():
        if given is not None and not isinstance(given, str):
            problems.append(Problem(filename, name, _("Must be text.")))
    if problems:
        raise ImportFailed(problems)
    return DataValueSet(
        data_element_scheme=schemes["dataElementIdScheme"],
        org_unit_scheme=schemes["orgUnitIdScheme"],
        values=[_data_value(number, raw, defaults)
                for number, raw in enumerate(values, start=1)],
    )


TEXT_FIELDS = (
    ("dataElement", "data_element", True),
    ("period", "period", True),
    ("orgUnit", "org_unit", True),
    ("categoryOptionCombo", "category_option_combo", False),
    ("attributeOptionCombo", "attribute_option_combo", False),
)


def _data_value(number: int, raw: object, defaults: dict) -> DataValue:
    found = DataValue(number=number)
    if not isinstance(raw, dict):
        found.problems.append(("", _("A data value must be a JSON object.")))
        return found
    for key, name, required in TEXT_FIELDS:
        given = raw.get(key, defaults.get(key))
        if given is None:
            if required:
                found.problems.append((key, _("Missing.")))
        elif not isinstance(given, str):
            found.problems.append((key, _("Must be text.")))
        elif len(given) > 200:
            found.problems.append((key, _("Too long to be a DHIS2 identifier.")))
        elif has_control_characters(given):
            found.problems.append((key, _("Contains control characters (such as a NUL byte): "
                                          "remove them.")))
        else:
            setattr(found, name, given.strip())
    if raw.get("deleted") is True:
        found.problems.append(("deleted", _("A deleted value: entries are never deleted by an "
                                            "import.")))
    _read_value(found, raw.get("value"))
    comment = raw.get("comment")
    if comment is not None:
        if not isinstance(comment, str):
            found.problems.append(("comment", _("Must be text.")))
        elif len(comment) > MAX_TEXT:
            found.problems.append(("comment", _("Longer than %(max)d characters.")
                                   % {"max": MAX_TEXT}))
        else:
            found.comment = comment
    return found


def _read_value(found: DataValue, given: object) -> None:
    if given is None or given == "":
        found.problems.append(("value", _("A value is required.")))
    elif isinstance(given, Decimal):
        found.value = given
    elif isinstance(given, str) and NUMBER.fullmatch(given.strip()):
        found.value = Decimal(given.strip())
    elif isinstance(given, str):
        found.value = given  # kept for the message
        found.problems.append(("value", _("“%(value)s” is not a number.") % {
            "value": shown(given)}))
    else:
        found.problems.append(("value", _("Must be a number, written as text (\"12.5\") or "
                                          "as a JSON number.")))
