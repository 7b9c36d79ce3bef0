"""The DHIS2 export: a plan's approved values as a ``dataValueSets`` JSON document.

One document per plan and period range, holding the approved entries of the targets the user
may see, each as a DHIS2 data value: the target's data element (and category option combo),
the DHIS2 period its period ends in (``dhis2.periods``), the responsible unit's org unit, the
value as plain text and the entry's note as the comment. Identifiers are UIDs when every unit
(or target) of the document has one, otherwise codes: the DHIS2 code, or ours where there is
none. The document says so in ``dataElementIdScheme`` / ``orgUnitIdScheme``, which DHIS2
reads, and in ``notes`` (which DHIS2 ignores, as every key it does not know), with what a
person must know: the Decree-09 periods and the identifiers that are only ours.

Two queries whatever the number of entries: the plan, and the entries with their targets,
units and mappings.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from dhis2 import periods
from dhis2.document import CODE, UID
from dhis2.models import DataElementMapping, OrgUnitMapping
from targets import access, rules
from targets.models import EntryStatus, Plan, ProgressEntry, Target, Unit
from targets.numbers import shown, written


class ExportRefused(Exception):
    """A document that cannot be made as asked (two targets on one DHIS2 data value)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def plans_exportable_by(user) -> QuerySet[Plan]:
    """The plans with a target the user may see."""
    return Plan.objects.filter(
        pk__in=access.targets_visible_to(user).values("plan_id")
    ).order_by("code")


def period_bound(text: str, calendar: rules.Calendar) -> rules.Period:
    """A bound of the export's range, written as our key (``2026-Q1``) or a DHIS2 period
    (``2026Q1``), as the period of ``calendar`` it names; NotExchangeable if it names none."""
    text = text.strip()
    if rules.PERIOD_KEY.fullmatch(text) and rules.period_by_key(text, calendar):
        periods.to_dhis2(text, calendar)  # the nine-month period is refused with its reason
        return rules.period_by_key(text, calendar)
    if periods.DHIS2_PERIOD.fullmatch(text) or any(
        pattern.fullmatch(text) for pattern, _kind in periods.OTHER_TYPES
    ):
        return periods.from_dhis2(text, calendar)
    raise periods.NotExchangeable(_(
        "“%(period)s” is not a period: write 2026-Q1, 2026-H1, 2026-03 or 2026 (or as DHIS2 "
        "does, 2026Q1, 2026S1, 202603)."
    ) % {"period": shown(text)})


@dataclass(frozen=True)
class _Identified:
    value: str
    ours: bool  # our own code: the object has no DHIS2 identifier of the scheme


def _mapping(obj: Unit | Target, name: str) -> OrgUnitMapping | DataElementMapping | None:
    return getattr(obj, name, None)


def _identifier(obj: Unit | Target, mapping, scheme: str) -> _Identified:
    if scheme == UID:
        return _Identified(mapping.uid, ours=False)
    if mapping is not None and mapping.code:
        return _Identified(mapping.code, ours=False)
    return _Identified(obj.code, ours=True)


def _scheme(mappings: list) -> str:
    """UID when every object has a DHIS2 UID, otherwise CODE."""
    return UID if mappings and all(m is not None and m.uid for m in mappings) else CODE


def exported_entries(
    *, user, plan: Plan, first: rules.Period | None, last: rules.Period | None
) -> list[ProgressEntry]:
    """The approved entries of the plan's targets the user may see, whose period lies within
    ``first`` … ``last`` (either may be None: open), by target and period."""
    entries = ProgressEntry.objects.filter(
        status=EntryStatus.APPROVED,
        target__plan=plan,
        target__in=access.targets_visible_to(user),
    )
    if first is not None:
        entries = entries.filter(period_start__gte=first.start)
    if last is not None:
        entries = entries.filter(period_end__lte=last.end)
    return list(
        entries.select_related(
            "target__responsible_unit__dhis2_org_unit", "target__dhis2_data_element"
        )
        .only(
            "period", "period_end", "value", "note", "target__code", "target__frequency",
            "target__reporting_calendar", "target__responsible_unit__code",
            *(f"target__responsible_unit__dhis2_org_unit__{name}" for name in ("uid", "code")),
            *(f"target__dhis2_data_element__{name}"
              for name in ("uid", "code", "category_option_combo")),
        )
        .order_by("target__code", "period_end")
    )


def dhis2_export(
    *,
    user,
    plan: Plan,
    first: rules.Period | None = None,
    last: rules.Period | None = None,
    data_set: str = "",
) -> dict:
    """The ``dataValueSets`` document of the plan's approved values in the range (see the
    module's docstring); ExportRefused when two targets would be the same DHIS2 data value."""
    entries = exported_entries(user=user, plan=plan, first=first, last=last)
    units = {e.target.responsible_unit_id: e.target.responsible_unit for e in entries}
    targets = {e.target_id: e.target for e in entries}
    unit_scheme = _scheme([_mapping(u, "dhis2_org_unit") for u in units.values()])
    element_scheme = _scheme([_mapping(t, "dhis2_data_element") for t in targets.values()])
    org_units = {
        pk: _identifier(u, _mapping(u, "dhis2_org_unit"), unit_scheme) for pk, u in units.items()
    }
    elements = {
        pk: _identifier(t, _mapping(t, "dhis2_data_element"), element_scheme)
        for pk, t in targets.items()
    }
    values, seen, decree_example = [], {}, None
    for entry in entries:
        target = entry.target
        mapping = _mapping(target, "dhis2_data_element")
        combo = mapping.category_option_combo if mapping is not None else ""
        dhis2_period = periods.to_dhis2(entry.period, target.calendar)
        if target.calendar == rules.Calendar.DECREE_09 and decree_example is None:
            decree_example = (rules.period_by_key(entry.period, target.calendar), dhis2_period)
        value = {
            "dataElement": elements[target.pk].value,
            "period": dhis2_period.id,
            "orgUnit": org_units[target.responsible_unit_id].value,
        }
        if combo:
            value["categoryOptionCombo"] = combo
        value["value"] = written(entry.value)
        if entry.note:
            value["comment"] = entry.note
        key = (value["dataElement"], combo, value["orgUnit"], value["period"])
        if key in seen and seen[key] != target.code:
            raise ExportRefused(_(
                "%(first)s and %(second)s would be the same DHIS2 data value (data element "
                "%(element)s, org unit %(unit)s, period %(period)s): give them different data "
                "elements or category option combos in the admin (DHIS2 exchange)."
            ) % {"first": seen[key], "second": target.code, "element": key[0],
                 "unit": key[2], "period": key[3]})
        seen[key] = target.code
        values.append(value)
    document: dict = {}
    if data_set:
        document["dataSet"] = data_set
    document["dataElementIdScheme"] = element_scheme
    document["orgUnitIdScheme"] = unit_scheme
    document["notes"] = _notes(
        plan=plan, first=first, last=last, count=len(values), decree_example=decree_example,
        our_units=sorted(i.value for i in org_units.values() if i.ours),
        our_elements=sorted(i.value for i in elements.values() if i.ours),
    )
    document["dataValues"] = values
    return document


def _notes(
    *,
    plan: Plan,
    first: rules.Period | None,
    last: rules.Period | None,
    count: int,
    decree_example: tuple[rules.Period, periods.Dhis2Period] | None,
    our_units: list[str],
    our_elements: list[str],
) -> list[str]:
    span = {"first": first.key if first else "…", "last": last.key if last else "…"}
    notes = [ngettext(
        "Target Tracker: the approved values of the plan %(plan)s, periods %(first)s to "
        "%(last)s (%(count)d data value).",
        "Target Tracker: the approved values of the plan %(plan)s, periods %(first)s to "
        "%(last)s (%(count)d data values).",
        count,
    ) % {"plan": plan.code, "count": count, **span}]
    if decree_example is not None:
        ours, theirs = decree_example
        notes.append(_(
            "The plan reports on Decree 09/2019 cut-off periods (the 15th of a month to the "
            "14th): each value is given under the DHIS2 period its cut-off falls in, so "
            "%(ours)s (%(start)s to %(end)s) is %(dhis2)s (%(dhis2_start)s to %(dhis2_end)s)."
        ) % {"ours": ours.key, "start": ours.start.isoformat(), "end": ours.end.isoformat(),
             "dhis2": theirs.id, "dhis2_start": theirs.start.isoformat(),
             "dhis2_end": theirs.end.isoformat()})
    if our_units:
        notes.append(_(
            "Org units without a DHIS2 code, given under their codes here: %(codes)s. Map them "
            "in the admin (DHIS2 exchange) before importing this document into DHIS2."
        ) % {"codes": ", ".join(our_units)})
    if our_elements:
        notes.append(_(
            "Targets without a DHIS2 data element code, given under their codes here: "
            "%(codes)s. Map them in the admin (DHIS2 exchange) before importing this document "
            "into DHIS2."
        ) % {"codes": ", ".join(our_elements)})
    return notes
