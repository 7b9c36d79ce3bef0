"""The DHIS2 import: a ``dataValueSets`` document checked in a dry run, then written whole.

Each data value is read (``dhis2.document``), its data element, org unit and category option
combo found among the targets and units the user may see (``dhis2.models``: the mappings, or
our own codes), and its DHIS2 period turned into the target's period (``dhis2.periods``).
What is left is a row like an entries file's — target, period, value, note (the comment) —
and from there the entries import takes over (``targets.services.imports``): the same checks
of scope, reporting period, value and workflow state, the same all-or-nothing write through
the workflow's bulk statements, the same alerts settled and targets re-assessed.

Imported values land where the entries file's do: **submitted** for review by default, or, for
a manager, **approved** — which only approves entries that someone else submitted with the
same values (four eyes: nobody approves a value they set or submitted). A value equal to the
entry already approved (or already submitted, when importing as submitted) changes nothing, so
a document exported here imports back with nothing to change. An approved or submitted entry
with another value is locked: the value is refused, never overwritten.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import PurePath

from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from dhis2 import periods
from dhis2.document import CODE, UID, DataValue, DataValueSet, parse
from dhis2.models import (
    DEFAULT_COMBO_CODE,
    DEFAULT_COMBO_UID,
    DataElementMapping,
    Dhis2Upload,
    OrgUnitMapping,
)
from targets import access
from targets.errors import ImportFailed, Problem
from targets.models import EntryStatus, ImportState, Target, Unit
from targets.numbers import shown
from targets.services import imports as entries_import
from targets.services.alerts import AlertSettings

logger = logging.getLogger(__name__)

BATCH = 500  # identifiers per query
KEPT_PROBLEMS = 500  # problems a failed import keeps for its result page (all are counted)
PREVIEW_LIFETIME = timedelta(days=1)  # an unconfirmed upload is dropped after this
# The keys that say which target and period a data value is.
IDENTIFYING = {"", "dataElement", "period", "orgUnit", "categoryOptionCombo",
               "attributeOptionCombo"}
# The entries import names its fields after the entries file's columns; here, DHIS2's keys.
FIELD_NAMES = {"target": "dataElement", "note": "comment"}


@dataclass
class Dhis2Row(entries_import.EntryRow):
    """A data value as a row of the entries import, with its DHIS2 identifiers."""

    data_element: str = ""
    period_id: str = ""
    org_unit: str = ""

    @property
    def place(self) -> str:
        label = " ".join(
            shown(part, 24) for part in (self.data_element, self.period_id, self.org_unit) if part
        )
        where = _("%(file)s data value %(number)d") % {"file": self.filename,
                                                       "number": self.number}
        return where.strip() + (f" ({label})" if label else "")


@dataclass
class Dry:
    """A dry run: every data value with its problems or what it would do."""

    rows: list[Dhis2Row]
    counts: dict[str, int] = field(default_factory=dict)  # action → data values

    @property
    def problems(self) -> list[Problem]:
        return [p for row in self.rows for p in row.problems]

    @property
    def changes(self) -> int:
        return sum(n for action, n in self.counts.items() if action != "unchanged")


def _chunks(values: Iterable[str]) -> Iterator[list[str]]:
    values = sorted(set(values))
    for start in range(0, len(values), BATCH):
        yield values[start : start + BATCH]


def _combo(given: str) -> str:
    """A category option combo as compared: "" for none or DHIS2's default."""
    return "" if given in ("", DEFAULT_COMBO_UID, DEFAULT_COMBO_CODE) else given


# --- finding the units and targets a document names ------------------------------------------


def _units(ids: set[str], scheme: str | None, visible) -> dict[str, Unit]:
    """The units the user may see, by the identifiers of the document that name them: a DHIS2
    UID, a DHIS2 code, or our code for a unit without one; undeclared, in that order."""
    by_uid: dict[str, Unit] = {}
    by_code: dict[str, Unit] = {}
    ours: dict[str, Unit] = {}
    for chunk in _chunks(ids):
        mappings = OrgUnitMapping.objects.filter(unit__in=visible).select_related("unit")
        if scheme != CODE:
            by_uid.update((m.uid, m.unit) for m in mappings.filter(uid__in=chunk))
        if scheme != UID:
            by_code.update((m.code, m.unit) for m in mappings.filter(code__in=chunk))
            ours.update((u.code, u) for u in visible.filter(code__in=chunk))
    return {i: u for i in ids if (u := by_uid.get(i) or by_code.get(i) or ours.get(i))}


Candidate = tuple[Target, str]  # a target and its category option combo ("" for none)


def _targets(ids: set[str], scheme: str | None, visible) -> dict[str, list[Candidate]]:
    """The targets the user may see that each data element identifier of the document names
    (several: one data element is reported by many units), found as the units are."""
    by_uid: dict[str, list[Candidate]] = defaultdict(list)
    by_code: dict[str, list[Candidate]] = defaultdict(list)
    ours: dict[str, list[Candidate]] = defaultdict(list)
    for chunk in _chunks(ids):
        mappings = DataElementMapping.objects.filter(target__in=visible).select_related(
            "target__responsible_unit"
        )
        condition = Q(pk__in=[])
        if scheme != CODE:
            condition |= Q(uid__in=chunk)
        if scheme != UID:
            condition |= Q(code__in=chunk)
        for m in mappings.filter(condition):
            if scheme != CODE and m.uid in chunk:
                by_uid[m.uid].append((m.target, m.category_option_combo))
            if scheme != UID and m.code in chunk:
                by_code[m.code].append((m.target, m.category_option_combo))
        if scheme != UID:
            for target in visible.filter(code__in=chunk).select_related(
                "responsible_unit", "dhis2_data_element"
            ):
                mapping = getattr(target, "dhis2_data_element", None)
                combo = mapping.category_option_combo if mapping is not None else ""
                ours[target.code].append((target, combo))
    return {i: found for i in ids if (found := by_uid.get(i) or by_code.get(i) or ours.get(i))}


def _rows(document: DataValueSet, *, user, filename: str) -> list[Dhis2Row]:
    """A row of the entries import for each data value: its target and period found, or its
    problems."""
    visible_units = access.units_visible_to(user)
    visible_targets = access.targets_visible_to(user)
    units = _units(
        {v.org_unit for v in document.values if v.org_unit}, document.org_unit_scheme,
        visible_units,
    )
    targets = _targets(
        {v.data_element for v in document.values if v.data_element},
        document.data_element_scheme, visible_targets,
    )
    rows = []
    seen: dict[tuple[int, str], int] = {}
    for value in document.values:
        row = Dhis2Row(
            number=value.number, target_code="", period=value.period,
            value_text=value.value if value.value is not None else "",
            note=value.comment or "", note_given=value.comment is not None, problems=[],
            filename=filename, data_element=value.data_element, period_id=value.period,
            org_unit=value.org_unit,
        )
        rows.append(row)
        for name, message in value.problems:
            row.problems.append(Problem(row.place, name, message))
        if any(name in IDENTIFYING for name, _message in value.problems):
            continue  # a bad value or comment: its target and period are still checked
        target = _target_of(row, value, units, targets)
        if target is None:
            continue
        row.target_code = target.code
        try:
            found = periods.dhis2_period(value.period)
        except periods.NotExchangeable as refused:
            row.problems.append(Problem(row.place, "period", refused.message))
            continue
        if found.frequency != target.frequency:
            row.problems.append(Problem(row.place, "period", _(
                "%(code)s reports %(frequency)s: %(period)s is a %(kind)s period."
            ) % {"code": target.code, "frequency": periods.FREQUENCY_NAMES[target.frequency],
                 "period": found.id, "kind": periods.FREQUENCY_NAMES[found.frequency]}))
            continue
        row.period = periods.from_dhis2(found.id, target.calendar).key
        first = seen.setdefault((target.pk, row.period), row.number)
        if first != row.number:
            row.problems.append(Problem(row.place, "period", _(
                "Data value %(first)d already gives %(code)s for %(period)s."
            ) % {"first": first, "code": target.code, "period": found.id}))
    return rows


def _target_of(
    row: Dhis2Row, value: DataValue, units: dict[str, Unit], targets: dict[str, list[Candidate]]
) -> Target | None:
    """The one target the data value is, or None with the row's problem."""
    def problem(name: str, message: str) -> None:
        row.problems.append(Problem(row.place, name, message))

    if _combo(value.attribute_option_combo):
        problem("attributeOptionCombo", _(
            "Attribute option combos are not used here: give the value without one (or with "
            "the default)."))
        return None
    unit = units.get(value.org_unit)
    candidates = targets.get(value.data_element, [])
    if not candidates:
        problem("dataElement", _("Unknown data element “%(id)s”.") % {
            "id": shown(value.data_element)})
    if unit is None:
        problem("orgUnit", _("Unknown org unit “%(id)s”.") % {"id": shown(value.org_unit)})
    if unit is None or not candidates:
        return None
    of_unit = [(t, c) for t, c in candidates if t.responsible_unit_id == unit.pk]
    if not of_unit:
        problem("dataElement", _(
            "No target of %(unit)s is the data element “%(id)s” (it is %(codes)s, of other "
            "units).") % {"unit": unit.code, "id": shown(value.data_element),
                          "codes": ", ".join(sorted(t.code for t, _c in candidates))})
        return None
    combo = _combo(value.category_option_combo)
    matching = [t for t, c in of_unit if c == combo]
    if not matching:
        problem("categoryOptionCombo", _(
            "The category option combo “%(given)s” is not one of %(unit)s's targets on this "
            "data element (%(known)s).") % {
                "given": shown(value.category_option_combo) or _("default"), "unit": unit.code,
                "known": ", ".join(f"{t.code}: {c or _('default')}" for t, c in of_unit)})
        return None
    if len(matching) > 1:
        problem("dataElement", _(
            "The targets %(codes)s are all this data element: give them different category "
            "option combos in the admin (DHIS2 exchange).") % {
                "codes": ", ".join(sorted(t.code for t in matching))})
        return None
    return matching[0]


def _named_for_dhis2(rows: list[Dhis2Row]) -> None:
    """The entries import's field names (target, note) as DHIS2 calls them."""
    for row in rows:
        row.problems = [
            dataclasses.replace(p, field=FIELD_NAMES.get(p.field, p.field)) for p in row.problems
        ]


# --- the dry run and the import --------------------------------------------------------------


def _named(filename: str) -> str:
    """The file's name as problems quote it: no folders, no control characters, not too long."""
    return shown(PurePath(filename).name, 100)


def dhis2_dry_run(
    *, user, content: bytes, filename: str, status: str = EntryStatus.SUBMITTED,
    today: date | None = None,
) -> Dry:
    """Every data value of the document with its problems, or what it would change; writes
    nothing. ImportFailed when the document cannot be read as a data value set at all."""
    filename = _named(filename)
    rows = _rows(parse(content, filename), user=user, filename=filename)
    entries_import.entry_rows_check(
        user=user, rows=rows, status=status, today=today or timezone.localdate()
    )
    _named_for_dhis2(rows)
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        if not row.problems:
            counts[row.action] += 1
    return Dry(rows=rows, counts=dict(counts))


def dhis2_import(
    *, user, content: bytes, filename: str, reassess: AlertSettings,
    status: str = EntryStatus.SUBMITTED, today: date | None = None,
) -> entries_import.ImportResult:
    """Import the whole document or nothing: ImportFailed lists every problem. The same checks
    as the dry run, made again under the entries' row locks."""
    filename = _named(filename)
    rows = _rows(parse(content, filename), user=user, filename=filename)
    try:
        if any(row.problems for row in rows):
            # The other values' problems too: every problem is listed, as in the dry run.
            entries_import.entry_rows_check(
                user=user, rows=rows, status=status, today=today or timezone.localdate()
            )
            raise ImportFailed([])
        return entries_import.entry_rows_import(
            user=user, rows=rows, status=status, today=today, reassess=reassess
        )
    except ImportFailed as failed:
        _named_for_dhis2(rows)
        raise ImportFailed(
            [p for row in rows for p in row.problems] or failed.problems
        ) from None


# --- uploads in the browser: dry run, confirm, result ------------------------------------------


def dhis2_upload_keep(*, user, content: bytes, filename: str, status: str, language: str,
                      values: int) -> Dhis2Upload:
    """Keep a document whose dry run had no problem until it is confirmed (the user's previous
    one, and old ones nobody confirmed, are dropped)."""
    Dhis2Upload.objects.filter(state=ImportState.PREVIEWED).filter(
        Q(user=user) | Q(created_at__lt=timezone.now() - PREVIEW_LIFETIME)
    ).delete()
    return Dhis2Upload.objects.create(
        user=user, filename=shown(filename, 255), content=content, entry_status=status,
        language=language, value_count=values,
    )


@transaction.atomic
def dhis2_upload_import(*, upload_id: int, user, reassess: AlertSettings) -> Dhis2Upload | None:
    """Import a kept document, once: None when it is not the user's, or no longer waits (a
    second click, a second tab, an expired dry run). The outcome stays on the row."""
    claimed = Dhis2Upload.objects.filter(
        pk=upload_id, user=user, state=ImportState.PREVIEWED
    ).update(state=ImportState.RUNNING)
    if not claimed:
        return None
    upload = Dhis2Upload.objects.get(pk=upload_id)
    outcome: dict = {"content": b""}
    with translation.override(upload.language):
        try:
            with transaction.atomic():
                result = dhis2_import(
                    user=user, content=bytes(upload.content), filename=upload.filename,
                    status=upload.entry_status, reassess=reassess,
                )
        except ImportFailed as failed:
            outcome.update(
                state=ImportState.FAILED, problem_count=len(failed.problems),
                problems=[{"place": p.place, "field": p.field, "message": p.message}
                          for p in failed.problems[:KEPT_PROBLEMS]],
            )
        except Exception:
            # A defect, not a problem of the document: say so, and write nothing.
            logger.exception("The DHIS2 import of %s (upload %s) failed", upload.filename,
                             upload.pk)
            outcome.update(state=ImportState.FAILED, error=_(
                "The import stopped on an unexpected error; nothing was written. The "
                "administrators have been told."))
        else:
            outcome.update(
                state=ImportState.DONE, created_count=result.created,
                updated_count=result.updated, approved_count=result.approved,
                unchanged_count=result.unchanged,
            )
    outcome["finished_at"] = timezone.now()
    Dhis2Upload.objects.filter(pk=upload_id).update(**outcome)
    upload.refresh_from_db()
    return upload
