"""Every non-trivial read of the web screens, built on access (the one place scoping lives)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import (
    Case,
    Count,
    F,
    Field,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, Lag
from django.utils.formats import date_format
from django.utils.text import Truncator, capfirst
from django.utils.translation import gettext

from targets import access, rules
from targets.evidence import extension
from targets.formatting import format_number, person_name
from targets.models import (
    Alert,
    EntryStatus,
    ExplanationRequest,
    ExplanationState,
    Milestone,
    Plan,
    ProgressEntry,
    Status,
    Target,
    Unit,
    ValueType,
    localized_expression,
)

STATUS_ROW_FIELDS = (
    "code", "name", "name_en", "measure", "measure_en", "value_type", "target_value", "due_date",
    "tolerance", "plan__code", "area__code", "area__name", "area__name_en",
    "responsible_unit__name", "responsible_unit__name_en",
    *(f"latest_assessment__{name}" for name in (
        "actual", "as_of", "expected", "expected_now", "ratio", "share", "status", "reason",
        "error", "reporting", "projected", "forecast_reached_on", "forecast_never",
    )),
)


# The order of "sort by status": best to worst, then the targets without an approved report.
STATUS_ORDER = (
    Status.ACHIEVED, Status.ON_TRACK, Status.AT_RISK, Status.LAGGING, Status.MISSED,
    Status.NO_DATA,
)


def targets_status_rows(*, user) -> QuerySet[Target]:
    """The status table's rows: visible targets with their latest assessment and last entry.

    Everything a row shows comes from this one query (joins and subqueries), so the
    number of queries does not grow with the number of targets.
    """
    return _status_rows(access.targets_visible_to(user), last_entry=True)


def _status_rows(targets: QuerySet[Target], *, last_entry: bool) -> QuerySet[Target]:
    """``targets`` as rows of a status table; ``last_entry``: with the last entry's period,
    status and value, whatever its state (the signed-in table shows it)."""
    entries = {}
    if last_entry:
        last = ProgressEntry.objects.filter(target=OuterRef("pk")).order_by(
            "-period_end", "-updated_at"
        )
        entries = {
            "last_entry_period": Subquery(last.values("period")[:1]),
            "last_entry_status": Subquery(last.values("status")[:1]),
            "last_entry_value": Subquery(last.values("value")[:1]),
        }
    return (
        targets
        .select_related("plan", "area", "responsible_unit", "latest_assessment")
        # What a row shows and its reason sentence uses: an export builds 6,000 of each
        # object, and the long texts and the assessment's lists are not shown.
        .only(*STATUS_ROW_FIELDS)
        .annotate(
            current_status=Coalesce(F("latest_assessment__status"), Value(Status.NO_DATA)),
            status_rank=Case(
                *(When(current_status=status, then=Value(rank))
                  for rank, status in enumerate(STATUS_ORDER)),
                default=Value(len(STATUS_ORDER)),  # not judged: last
            ),
            **entries,
            # Sorting by a name follows the language it is shown in.
            shown_name=localized_expression("name"),
            shown_area=localized_expression("area__name"),
            shown_unit=localized_expression("responsible_unit__name"),
        )
        .order_by("plan__code", "area__code", "code")
    )


def status_counts(rows: QuerySet[Target]) -> dict[str, int]:
    """How many of ``rows`` have each status (every status present, zeros included)."""
    counts = dict.fromkeys(Status.values, 0)
    for status, n in rows.order_by().values_list("current_status").annotate(n=Count("pk")):
        counts[status] = n
    return counts


# --- the public pages: a published plan, read by anyone --------------------------------------


def public_plans() -> QuerySet[Plan]:
    """The published plans, by code, each with its unit and ``target_count``."""
    return (
        access.plans_public()
        .select_related("unit")
        .annotate(target_count=Count("targets"))
        .order_by("code")
    )


def public_plan(*, code: str) -> Plan:
    """A published plan; Plan.DoesNotExist for any other code."""
    return access.plans_public().select_related("unit").get(code=code)


def public_status_rows(*, plan: Plan) -> QuerySet[Target]:
    """The public status table's rows: the plan's targets with their latest assessment (which
    the evaluation made of approved entries only), and nothing of their entries."""
    return _status_rows(access.targets_public().filter(plan=plan), last_entry=False)


def public_target(*, plan_code: str, code: str) -> Target:
    """A target of a published plan, with what its public page shows (not its owner);
    Target.DoesNotExist for a target of another plan or of a plan not published."""
    return (
        access.targets_public()
        .filter(plan__code=plan_code)
        # register_measure: a register target's chart reads the register (None for others).
        .select_related("plan", "area", "responsible_unit", "latest_assessment",
                        "register_measure__unit")
        .prefetch_related("milestones")
        .get(code=code)
    )


def target_for_page(*, user, code: str) -> Target:
    """One visible target with what its page shows; Target.DoesNotExist outside the scope."""
    return (
        access.targets_visible_to(user)
        # register_measure: whether the target takes its actual from the investment
        # register, read in the same query (None for the others).
        .select_related("plan", "area", "responsible_unit", "owner", "latest_assessment",
                        "register_measure__unit")
        .prefetch_related("milestones")
        .get(code=code)
    )


def target_entries(*, target: Target) -> list[ProgressEntry]:
    """The target's entries, newest period first, each with ``.events`` from the audit history."""
    entries = list(
        target.entries.select_related("author", "reviewer").order_by("-period_end")
    )
    events: dict[int, list] = defaultdict(list)
    history = (
        ProgressEntry.history.filter(target_id=target.pk)
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    for record in history:
        events[record.id].append(record)
    for entry in entries:
        entry.events = _workflow_events(events[entry.pk])
    return entries


def _workflow_events(records: list) -> list:
    """Keep the history records where the workflow state (or the value) changed."""
    kept = []
    previous = None
    for record in records:
        if previous is None or (record.status, record.value) != (previous.status, previous.value):
            # Same state, new value: the author corrected a draft or a returned entry.
            record.edited = previous is not None and record.status == previous.status
            kept.append(record)
        previous = record
    return kept


PERCENT_BOUNDS = (Decimal(0), Decimal(100))


def chart_data(
    *, target: Target, today: date, approved_entries: list[ProgressEntry] | None = None
) -> dict:
    """The trajectory chart's series (DESIGN §3): the expected trajectory (rule 2, a ``smooth``
    curve sampled densely enough to be drawn with straight segments), the milestones, the
    approved actuals, rule 7's forecast line and the latest assessment's as-of point.
    ``approved_entries``: the target's approved entries when the caller has read them."""
    spec = target.spec(milestones=list(target.milestones.all()))
    approved = _register_observations(target, today)
    if approved is None:
        if approved_entries is None:
            approved_entries = approved_entries_of(target=target)
        approved = [rules.Observation(e.period_end, e.value) for e in approved_entries]
    forecast: list[rules.Point] = []
    line = rules.trend_line(spec, approved, today)
    if line is not None and line.first < spec.due_date:
        # A percentage's line stays within 0–100 (the rules keep its own value).
        bounds = PERCENT_BOUNDS if target.value_type == ValueType.PERCENT else (None, None)
        forecast = rules.line_within(line, line.first, spec.due_date, *bounds)
    return {
        "stepped": spec.trajectory == rules.Trajectory.STEP,
        "expected": _points(rules.expected_curve(spec)),
        "milestones": _points(sorted(spec.milestones, key=lambda p: p.date)),
        "actuals": _points(rules.trend_points(spec, approved)),
        "forecast": _points(forecast),
        "as_of": _as_of_point(target),
        # The commitment itself, a point of its own at the due date.
        "target": {"x": spec.due_date.isoformat(), "y": float(spec.target_value)},
        "today": today.isoformat(),
        "measure": target.localized("measure"),
        # A count has whole ticks (no 0.2 park); the axis starts at the smallest value the
        # target may take (0 for counts, money and percentages, unless the plan says less),
        # not below it; a percentage's stops at 100.
        "integer": target.value_type == ValueType.INTEGER,
        "y_min": None if target.min_value is None else float(target.min_value),
        "y_max": 100.0 if target.value_type == ValueType.PERCENT else (
            None if target.max_value is None else float(target.max_value)
        ),
    }


def approved_entries_of(*, target: Target) -> list[ProgressEntry]:
    """The target's approved entries, oldest period first: their period and value only (what
    the rules count and the public page lists; no author, note or evidence)."""
    return list(
        target.entries.filter(status=EntryStatus.APPROVED)
        .order_by("period_end")
        .only("pk", "target_id", "period", "period_start", "period_end", "value")
    )


def _register_observations(target: Target, today: date) -> list[rules.Observation] | None:
    """For a target that takes its actual from the investment register, its value at the end
    of each period ended by today (the evaluation's own reading); None for any other."""
    from register.measures import measures_of  # the app above this one
    from targets.services.evaluation import entries_load

    if not measures_of([target]):
        return None
    return sorted(entries_load([target], today).approved[target.pk],
                  key=lambda o: o.period_end)


def _points(items: Iterable[rules.Point]) -> list[dict]:
    return [{"x": p.date.isoformat(), "y": float(p.value)} for p in items]


def _as_of_point(target: Target) -> dict | None:
    """The latest assessment's actual at its as-of date, with the value expected then."""
    assessment = target.latest_assessment
    if assessment is None or assessment.as_of is None or assessment.actual is None:
        return None
    return {
        "x": assessment.as_of.isoformat(),
        "y": float(assessment.actual),
        "expected": float(assessment.expected) if assessment.expected is not None else None,
    }


def entries_to_review(*, user) -> QuerySet[ProgressEntry]:
    """Submitted entries of the targets the user may review, oldest submission first."""
    return (
        ProgressEntry.objects.filter(
            status=EntryStatus.SUBMITTED, target__in=access.targets_reviewable_by(user)
        )
        .select_related("target", "target__responsible_unit", "author")
        .order_by("submitted_at", "pk")
    )


def entries_of_author_to_fix(*, user) -> QuerySet[ProgressEntry]:
    """The user's drafts and returned entries, for the 'enter progress' screen."""
    return (
        ProgressEntry.objects.filter(
            author=user,
            status__in=(EntryStatus.DRAFT, EntryStatus.RETURNED),
            target__in=access.targets_enterable_by(user),
        )
        .select_related("target", "reviewer")
        .order_by("-updated_at")
    )


def target_alerts(*, target: Target, limit: int = 20) -> list[Alert]:
    """The target's recorded alerts, newest first (DESIGN §5: the target page shows them)."""
    return list(target.alerts.order_by("-created_at", "-pk")[:limit])


# --- the change history of a target and its milestones (the target page, for managers) -------

CHANGES_SHOWN = 50
TEXT_SHOWN = 200  # characters of a long text (description, source) a change shows


@dataclass(frozen=True)
class FieldChange:
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class ChangeEvent:
    when: datetime
    who: str
    subject: str  # the target, or one of its milestones
    summary: str  # what happened, for an event that lists no field ("Created")
    fields: list[FieldChange]


@dataclass(frozen=True)
class TargetChanges:
    events: list[ChangeEvent]
    more: bool  # older changes exist than those listed


def target_changes(*, target: Target, limit: int = CHANGES_SHOWN) -> TargetChanges:
    """The latest changes of the target and its milestones, newest first, at most ``limit``:
    who, when and each field's old → new value as the page shows values. A fixed number of
    queries, however long the history."""
    target_records, more_target = _latest_records(Target.history.filter(id=target.pk), limit)
    milestone_records, more_milestones = _latest_records(
        Milestone.history.filter(target_id=target.pk), limit
    )
    records = sorted(
        [*target_records, *milestone_records],
        key=lambda pair: pair[0].history_date,
        reverse=True,
    )
    more = more_target or more_milestones or len(records) > limit
    deltas = [(record, _delta(record, previous)) for record, previous in records[:limit]]
    names = _related_names(change for _record, delta in deltas for change in delta)
    events = []
    for record, delta in deltas:
        if record.history_type == "~" and not delta:
            continue  # saved without a change (an admin form saved as it was)
        events.append(_event(record, delta, names))
    return TargetChanges(events=events, more=more)


def _latest_records(history: QuerySet, limit: int) -> tuple[list[tuple[Any, Any]], bool]:
    """The newest ``limit`` history records, each with the record before it of the same row
    (None for the first), and whether there are older ones: two queries."""
    before = Window(
        Lag("history_id"),
        partition_by=[F("id")],
        order_by=[F("history_date").asc(), F("history_id").asc()],
    )
    records = list(
        history.annotate(before_id=before)
        .select_related("history_user")
        .order_by("-history_date", "-history_id")[: limit + 1]
    )
    more = len(records) > limit
    records = records[:limit]
    ids = [r.before_id for r in records if r.before_id is not None]
    earlier = history.model._default_manager.in_bulk(ids) if ids else {}
    return [(r, earlier.get(r.before_id)) for r in records], more


# The fields a change lists: what people edit (not the stored assessment or the target link).
CHANGED_FIELDS = {
    Target: [f.name for f in Target._meta.concrete_fields if f.editable and not f.primary_key],
    Milestone: ["date", "value"],
}


def _delta(record, previous) -> list[tuple[Field, Any, Any]]:
    """(field, old, new) for every listed field that differs; a milestone's creation lists its
    value (a target's would be its whole form), its deletion the value it had."""
    model = record.instance_type
    names = CHANGED_FIELDS[model]
    field = model._meta.get_field
    if record.history_type == "+":
        if model is Target:
            return []
        return [(field("value"), None, record.value)]  # the subject names its date
    if record.history_type == "-":
        return [(field("value"), record.value, None)]
    if previous is None:
        return []
    delta = record.diff_against(previous, included_fields=names)
    order = {name: index for index, name in enumerate(names)}
    return [
        (field(c.field), c.old, c.new)
        for c in sorted(delta.changes, key=lambda c: order[c.field])
    ]


def _related_names(changes: Iterable[tuple[Field, Any, Any]]) -> dict[tuple[type, Any], str]:
    """How each unit, plan, area or owner a change names is shown: one query per model."""
    wanted: dict[type, set] = defaultdict(set)
    for field, old, new in changes:
        if field.is_relation:
            wanted[field.related_model] |= {v for v in (old, new) if v is not None}
    names = {}
    for model, pks in wanted.items():
        for pk, obj in model._default_manager.in_bulk(pks).items():
            names[(model, pk)] = person_name(obj) if model is get_user_model() else str(obj)
    return names


def _shown(field: Field, value: Any, names: dict[tuple[type, Any], str]) -> str:
    """A value as the target page shows it: numbers and dates in the language's format,
    choices by their label, units, plans, areas and people by name."""
    if value is None or value == "":
        return "—"
    if field.is_relation:
        return names.get((field.related_model, value), f"#{value}")  # deleted since
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, (Decimal, int)):
        return format_number(value)
    if isinstance(value, date):
        return date_format(value, "SHORT_DATE_FORMAT")
    return Truncator(str(value)).chars(TEXT_SHOWN)


def _event(record, delta, names: dict[tuple[type, Any], str]) -> ChangeEvent:
    if record.instance_type is Target:
        subject = gettext("Target")
    else:
        subject = gettext("Milestone of %(date)s") % {
            "date": date_format(record.date, "SHORT_DATE_FORMAT")
        }
    summary = {"+": gettext("Created"), "-": gettext("Removed")}.get(record.history_type, "")
    user = record.history_user
    return ChangeEvent(
        when=record.history_date,
        who=person_name(user) if user is not None else gettext("not recorded"),
        subject=subject,
        summary=summary,
        fields=[
            FieldChange(capfirst(field.verbose_name), _shown(field, old, names),
                        _shown(field, new, names))
            for field, old, new in delta
        ],
    )


def import_template_rows(*, user, today: date) -> list[tuple[str, str]]:
    """(target code, period) for every target the user reports on and every period of it that
    has begun and has no submitted or approved entry yet: the rows of an import template, in
    code and period order. Two queries, whatever the targets."""
    targets = list(
        access.targets_enterable_by(user)
        .order_by("code")
        .only("pk", "code", "frequency", "baseline_date", "due_date", "reporting_calendar")
    )
    reported = set(
        ProgressEntry.objects.filter(
            target__in=[t.pk for t in targets],
            status__in=(EntryStatus.SUBMITTED, EntryStatus.APPROVED),
        ).values_list("target_id", "period")
    )
    return [
        (target.code, period.key)
        for target in targets
        for period in target.reporting_periods()
        if rules.period_started(period, today) and (target.pk, period.key) not in reported
    ]


@dataclass(frozen=True)
class ReviewContext:
    """What a reviewer weighs an entry against (the review page)."""

    previous: ProgressEntry | None  # the latest approved entry of an earlier period
    expected: Decimal  # the plan's value at the entry's period end (rule 2)
    actual_if_approved: Decimal  # rule 1 with this value counted (a sum adds it)
    ratio_if_approved: Decimal  # rule 3 at the entry's period end with it
    assessment: Any  # the target's latest assessment (None before the first)
    reason: str  # its reason sentence
    comments: list[tuple[datetime, str, str]]  # (when, who, comment) of each return, oldest first
    evidence_image: bool  # the evidence file is an image the page can show
    evidence_pdf: bool  # the evidence file is a PDF the page can show in a frame


IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")


def _evidence_extension(entry: ProgressEntry) -> str:
    """The extension of the stored file: the one checked against its content on upload."""
    return extension(entry.evidence_file.name) if entry.evidence_file else ""


def evidence_shown_inline(entry: ProgressEntry) -> bool:
    """Whether the entry's evidence is a file a page of this site may show: an image or a PDF
    (the types whose content the upload checked); anything else is downloaded."""
    return f".{_evidence_extension(entry)}" in (*IMAGE_EXTENSIONS, ".pdf")


def review_context(*, entry: ProgressEntry) -> ReviewContext:
    """The previous approved value, the expected value and the ratio the entry would give at
    its period end, the target's status and reason, and the comments it was returned with."""
    from targets import verdicts

    target = entry.target
    spec = target.spec()
    approved = list(
        ProgressEntry.objects.filter(target=target, status=EntryStatus.APPROVED)
        .exclude(pk=entry.pk)
        .order_by("period_end")
    )
    earlier = [e for e in approved if e.period_end < entry.period_end]
    observations = [
        rules.Observation(e.period_end, e.value) for e in approved if e.period != entry.period
    ] + [rules.Observation(entry.period_end, entry.value)]
    actual = rules.actual_at(spec, observations, entry.period_end)
    expected = rules.expected_at(spec, entry.period_end)
    # Each return once: the history row that made the entry returned (later rows while it
    # stays returned, an edit of its note say, repeat the comment).
    comments = []
    before = None
    for record in entry.history.order_by("history_date", "history_id").select_related(
        "history_user"
    ):
        returned = record.status == EntryStatus.RETURNED
        if returned and (before is None or before.status != EntryStatus.RETURNED
                         or before.review_comment != record.review_comment):
            who = record.history_user
            name = person_name(who)
            comments.append((record.history_date, name, record.review_comment))
        before = record
    assessment = target.latest_assessment
    return ReviewContext(
        previous=earlier[-1] if earlier else None,
        expected=expected,
        actual_if_approved=actual,
        ratio_if_approved=rules.progress_ratio(spec, actual, expected),
        assessment=assessment,
        reason=verdicts.assessment_sentence(target, assessment),
        comments=comments,
        evidence_image=f".{_evidence_extension(entry)}" in IMAGE_EXTENSIONS,
        evidence_pdf=_evidence_extension(entry) == "pdf",
    )


# --- explanation requests (the target page; the official report reuses them) -----------------


@dataclass(frozen=True)
class ExplanationEvent:
    """One step in a request's history: when, what, who (empty: the daily escalation)."""

    when: datetime
    what: str
    who: str


def _explanation_step(state: str, before: tuple[str, bool] | None, escalated: bool) -> str:
    if before is None:
        return gettext("Asked")
    if escalated and not before[1]:
        return gettext("Escalated to the managers of the parent unit")
    return {
        ExplanationState.ANSWERED: gettext("Answered"),
        ExplanationState.ACCEPTED: gettext("Accepted"),
        ExplanationState.ASKED_AGAIN: gettext("Asked again"),
    }.get(state, gettext("Changed"))


def explanation_requests(
    *,
    target: Target | None = None,
    unit: Unit | None = None,
    subtree: bool = True,
    states: Iterable[str] | None = None,
) -> list[ExplanationRequest]:
    """The explanation requests of one target, or of the targets of ``unit`` (with everything
    below it unless ``subtree`` is false), newest first, each with its answer (``.answer_or_none``)
    and the steps of its history (``.events``: asked, escalated, answered, accepted, asked
    again — when and by whom). ``states`` keeps only requests in those states.

    Two queries whatever the number of requests. The caller scopes: pass a target or unit
    the reader may see (``access``).
    """
    requests = ExplanationRequest.objects.select_related(
        "target", "requested_by", "decided_by", "previous", "answer__author"
    )
    if target is not None:
        requests = requests.filter(target=target)
    if unit is not None:
        requests = requests.filter(
            target__responsible_unit__path__startswith=unit.path
        ) if subtree else requests.filter(target__responsible_unit=unit)
    if states is not None:
        requests = requests.filter(state__in=list(states))
    found = list(requests.order_by("-created_at", "-pk"))
    steps: dict[int, list[ExplanationEvent]] = defaultdict(list)
    seen: dict[int, tuple[str, bool]] = {}
    for record in (
        ExplanationRequest.history.filter(id__in=[r.pk for r in found])
        .select_related("history_user")
        .order_by("history_date", "history_id")
    ):
        now = (record.state, record.escalated_at is not None)
        before = seen.get(record.id)
        seen[record.id] = now
        if before == now:
            continue
        user = record.history_user
        steps[record.id].append(
            ExplanationEvent(
                when=record.history_date,
                what=_explanation_step(record.state, before, now[1]),
                who=person_name(user),
            )
        )
    for request in found:
        request.events = steps[request.pk]
        request.answer_or_none = request.answer if _has_answer(request) else None
    return found


def _has_answer(request: ExplanationRequest) -> bool:
    try:
        request.answer  # noqa: B018 (select_related read it: no query)
    except ExplanationRequest.answer.RelatedObjectDoesNotExist:
        return False
    return True
