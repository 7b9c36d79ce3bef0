"""A plan's targets as IATI 2.03 results (issue 15): one ``iati-activity`` per plan, each area
a ``result``, each target an ``indicator`` with its ``baseline`` and one ``period`` per
reporting period — the target the plan's trajectory expects at the period's end (rule 2) and,
once an entry for the period is approved, the actual.

Only approved values are read (the selector prefetches nothing else). Values are written in the
target's own unit of measure, which every indicator's description names: money stays in the
currency its unit names and is never converted. Titles and descriptions are in Vietnamese and,
where the content has a translation (and for the sentences we write), in English.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.utils import translation
from django.utils.translation import gettext as _
from lxml import etree

from targets import rules
from targets.formatting import tidy_decimal
from targets.models import Area, Plan, Target, ValueType

IATI_VERSION = "2.03"
LANGUAGES = ("vi", "en")  # Vietnamese first: the content's own language
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

# Codes of IATI's codelists.
MEASURE_UNIT, MEASURE_PERCENTAGE = "1", "2"  # IndicatorMeasure
RESULT_OUTCOME = "2"  # ResultType: a term plan's targets are the outcomes it commits to
VOCABULARY_REPORTING_ORG = "99"  # ResultVocabulary and IndicatorVocabulary
ROLE_IMPLEMENTING = "4"  # OrganisationRole
LOCAL_GOVERNMENT = "11"  # OrganisationType
PLANNED_START, ACTUAL_START, PLANNED_END, ACTUAL_END = "1", "2", "3", "4"  # ActivityDateType
PIPELINE, IMPLEMENTATION, FINALISATION = "1", "2", "3"  # ActivityStatus
DESCRIPTION_GENERAL = "1"  # DescriptionType
SECTOR_DAC_5, SECTOR_DAC_3 = "1", "2"  # SectorVocabulary

# Characters XML 1.0 cannot hold (lxml refuses them): dropped from the text we write.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_QUANTUM = Decimal("0.000001")  # the precision of an assessment's expected value


@dataclass(frozen=True)
class IatiDefaults:
    """What a plan's activity says when the admin sets nothing for it (the IATI_* settings).

    An empty ``reporting_org_ref`` publishes each plan under its own unit's code and name.
    """

    reporting_org_ref: str
    reporting_org_type: str
    reporting_org_name: str
    reporting_org_name_en: str
    sector: str
    recipient_country: str

    @classmethod
    def from_settings(cls) -> IatiDefaults:
        return cls(
            reporting_org_ref=settings.IATI_REPORTING_ORG_REF,
            reporting_org_type=settings.IATI_REPORTING_ORG_TYPE,
            reporting_org_name=settings.IATI_REPORTING_ORG_NAME,
            reporting_org_name_en=settings.IATI_REPORTING_ORG_NAME_EN,
            sector=settings.IATI_SECTOR,
            recipient_country=settings.IATI_RECIPIENT_COUNTRY,
        )


@dataclass(frozen=True)
class Publisher:
    """The identifiers and organisation one plan is published under."""

    identifier: str
    org_ref: str
    org_type: str
    org_names: dict[str, str]  # by language
    sector: str


def plan_publisher(plan: Plan, defaults: IatiDefaults) -> Publisher:
    """The plan's IATI activity as set in the admin, or the defaults (read with the plan:
    ``select_related("unit", "iati_activity")``)."""
    unit_names = {"vi": plan.unit.name, "en": plan.unit.name_en}
    try:
        activity = plan.iati_activity
    except ObjectDoesNotExist:
        activity = None
    if activity is not None:
        names = {"vi": activity.reporting_org_name, "en": activity.reporting_org_name_en}
        return Publisher(
            identifier=activity.identifier, org_ref=activity.reporting_org_ref,
            org_type=activity.reporting_org_type,
            org_names=names if any(names.values()) else unit_names,
            sector=activity.sector or defaults.sector,
        )
    org_ref = defaults.reporting_org_ref or plan.unit.code
    names = {"vi": defaults.reporting_org_name, "en": defaults.reporting_org_name_en}
    if not defaults.reporting_org_ref or not any(names.values()):
        names = unit_names
    return Publisher(
        identifier=f"{org_ref}-{plan.code}", org_ref=org_ref,
        org_type=defaults.reporting_org_type, org_names=names, sector=defaults.sector,
    )


def iati_number(value: Decimal) -> str:
    """A value as IATI reads it: plain notation, to six decimals, without padding zeros."""
    rounded = value.quantize(_QUANTUM, rounding=ROUND_HALF_EVEN)
    if rounded == 0:
        return "0"  # not "-0"
    return format(tidy_decimal(rounded), "f")


def activity_status(plan: Plan, today: date) -> str:
    """Before the term: pipeline; during it: implementation; after it: finalisation (the last
    periods are still reported and approved)."""
    if today < plan.start:
        return PIPELINE
    return IMPLEMENTATION if today <= plan.end else FINALISATION


# --- building the document ---------------------------------------------------------------------


def _text(value: str) -> str:
    return _NOT_XML.sub("", value or "").strip()


def _narratives(parent: etree._Element, texts: dict[str, str], fallback: str) -> None:
    """One ``narrative`` per language that has text; ``fallback`` (a code) in Vietnamese when
    none has (IATI requires one)."""
    written = False
    for language in LANGUAGES:
        text = _text(texts.get(language, ""))
        if text:
            narrative = etree.SubElement(parent, "narrative")
            narrative.set(XML_LANG, language)
            narrative.text = text
            written = True
    if not written:
        _narratives(parent, {"vi": fallback or "-"}, "-")


def _sub(parent: etree._Element, tag: str, **attributes: str) -> etree._Element:
    # Attribute names with a hyphen (iso-date) are written iso_date here.
    return etree.SubElement(
        parent, tag, {name.replace("_", "-"): value for name, value in attributes.items()}
    )


def _in_each_language(write) -> dict[str, str]:
    """``write()``'s sentences in each language."""
    texts = {}
    for language in LANGUAGES:
        with translation.override(language):
            texts[language] = write(language)
    return texts


def _activity_description(plan: Plan) -> dict[str, str]:
    return _in_each_language(lambda language: _(
        "The targets of %(plan)s (%(unit)s, %(start)s – %(end)s): for each, the baseline, "
        "the value the plan expects at the end of each reporting period and the approved "
        "value reported for it."
    ) % {
        "plan": plan.localized("name", language), "unit": plan.unit.localized("name", language),
        "start": plan.start.isoformat(), "end": plan.end.isoformat(),
    })


def _indicator_description(target: Target) -> dict[str, str]:
    def write(language: str) -> str:
        own = target.description if language == "vi" else target.description_en
        parts = [_text(own)] if _text(own) else []
        parts.append(_(
            "Unit of measure: %(measure)s. Values are given in this unit as reported: an "
            "amount of money stays in the currency the unit names and is never converted."
        ) % {"measure": target.localized("measure", language)})
        parts.append(_(
            "The target of each period is the value the plan expects at the period's end "
            "(trajectory: %(trajectory)s)."
        ) % {"trajectory": target.get_trajectory_display()})
        if target.aggregation == rules.Aggregation.SUM:
            parts.append(_(
                "Values are running totals: the baseline plus every approved report up to the "
                "end of the period."
            ))
        if target.illustrative:
            parts.append(_(
                "The target value is illustrative: the source names the commitment without "
                "this number."
            ))
        if _text(target.source_text) or target.source_url:
            parts.append(_("Source: %(text)s %(url)s") % {
                "text": _text(target.source_text), "url": target.source_url})
        return "\n\n".join(part.strip() for part in parts)

    return _in_each_language(write)


def _period_comment(value: Decimal) -> dict[str, str]:
    return _in_each_language(lambda language: _(
        "Approved report for the period: %(value)s; the actual is the running total."
    ) % {"value": iati_number(value)})


def _indicator(result: etree._Element, target: Target) -> None:
    spec = target.spec(milestones=list(target.milestones.all()))
    ascending = target.direction == rules.Direction.AT_LEAST
    indicator = _sub(
        result, "indicator",
        measure=MEASURE_PERCENTAGE if target.value_type == ValueType.PERCENT else MEASURE_UNIT,
        ascending="true" if ascending else "false",
    )
    _narratives(_sub(indicator, "title"), {"vi": target.name, "en": target.name_en},
                target.code)
    _narratives(_sub(indicator, "description"), _indicator_description(target), target.code)
    _sub(indicator, "reference", vocabulary=VOCABULARY_REPORTING_ORG, code=target.code)
    _sub(
        indicator, "baseline", year=str(target.baseline_date.year),
        iso_date=target.baseline_date.isoformat(), value=iati_number(target.baseline_value),
    )
    approved = {entry.period: entry for entry in target.approved_entries}
    observations = [rules.Observation(e.period_end, e.value) for e in target.approved_entries]
    for period in target.reporting_periods():
        element = _sub(indicator, "period")
        _sub(element, "period-start", iso_date=period.start.isoformat())
        _sub(element, "period-end", iso_date=period.end.isoformat())
        _sub(element, "target", value=iati_number(rules.expected_at(spec, period.end)))
        entry = approved.get(period.key)
        if entry is None:
            continue
        if spec.aggregation == rules.Aggregation.SUM:
            # Rule 1: the running total, comparable with the trajectory's level.
            actual = _sub(element, "actual", value=iati_number(
                rules.actual_at(spec, observations, period.end)))
            _narratives(_sub(actual, "comment"), _period_comment(entry.value), period.key)
        else:
            _sub(element, "actual", value=iati_number(entry.value))


def _result(activity: etree._Element, area: Area, targets: Iterable[Target]) -> None:
    result = _sub(activity, "result", type=RESULT_OUTCOME)
    _narratives(_sub(result, "title"), {"vi": area.name, "en": area.name_en}, area.code)
    _sub(result, "reference", vocabulary=VOCABULARY_REPORTING_ORG, code=area.code)
    for target in targets:
        _indicator(result, target)


def _activity(root: etree._Element, plan: Plan, targets: Sequence[Target],
              defaults: IatiDefaults, today: date) -> None:
    publisher = plan_publisher(plan, defaults)
    activity = _sub(root, "iati-activity")
    activity.set(XML_LANG, "vi")
    _sub(activity, "iati-identifier").text = publisher.identifier
    reporting = _sub(activity, "reporting-org", ref=publisher.org_ref, type=publisher.org_type)
    _narratives(reporting, publisher.org_names, publisher.org_ref)
    _narratives(_sub(activity, "title"), {"vi": plan.name, "en": plan.name_en}, plan.code)
    _narratives(_sub(activity, "description", type=DESCRIPTION_GENERAL),
                _activity_description(plan), plan.code)
    # Provinces, communes and economic-zone boards: all local government.
    implementing = _sub(activity, "participating-org", role=ROLE_IMPLEMENTING,
                        type=LOCAL_GOVERNMENT)
    _narratives(implementing, {"vi": plan.unit.name, "en": plan.unit.name_en}, plan.unit.code)
    _sub(activity, "activity-status", code=activity_status(plan, today))
    _sub(activity, "activity-date", type=PLANNED_START, iso_date=plan.start.isoformat())
    if today >= plan.start:  # IATI: an actual date is never in the future
        _sub(activity, "activity-date", type=ACTUAL_START, iso_date=plan.start.isoformat())
    _sub(activity, "activity-date", type=PLANNED_END, iso_date=plan.end.isoformat())
    if today > plan.end:
        _sub(activity, "activity-date", type=ACTUAL_END, iso_date=plan.end.isoformat())
    _sub(activity, "recipient-country", code=defaults.recipient_country)
    _sub(activity, "sector", code=publisher.sector,
         vocabulary=SECTOR_DAC_5 if len(publisher.sector) == 5 else SECTOR_DAC_3)
    # Areas in the order of their codes; their targets in the order of theirs.
    by_area: dict[int, list[Target]] = {}
    areas: dict[int, Area] = {}
    for target in sorted(targets, key=lambda t: (t.area.code, t.code)):
        by_area.setdefault(target.area_id, []).append(target)
        areas[target.area_id] = target.area
    for area_id, area_targets in by_area.items():
        _result(activity, areas[area_id], area_targets)


def activities_xml(
    *, plan: Plan, targets: Sequence[Target], defaults: IatiDefaults, generated_at: datetime,
    today: date,
) -> bytes:
    """The IATI 2.03 ``iati-activities`` document of one plan, with the results of ``targets``
    (read by ``iati.selectors.iati_targets``: their areas, milestones and approved entries)."""
    root = etree.Element("iati-activities", {
        "version": IATI_VERSION,
        "generated-datetime": generated_at.isoformat(timespec="seconds"),
    })
    _activity(root, plan, targets, defaults, today)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def export_filename(plan: Plan) -> str:
    return f"iati-{plan.code}.xml"
