"""The project-report workflow: the same states, scoping and four-eyes rule as progress entries.

draft ──submit──▶ submitted ──approve──▶ approved
  ▲                   │
  └─(edit)─ returned ◀┘ return (with a comment)

Staff of the project's unit (and managers of it or above) write and submit a project's report
for a calendar quarter; a manager of the unit or above who did not write, change or submit it
approves or returns it. Every transition re-reads the report under a row lock and checks the
version the caller showed. Approving a report copies its figures to the project when it is the
project's latest, and re-assesses the targets whose register measure counts the project.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from register.models import Project, ProjectReport, Stage, TargetMeasure
from targets import access, rules
from targets.errors import NotAllowed, StaleEntry, WorkflowError
from targets.models import EntryStatus, Target
from targets.services.alerts import AlertSettings
from targets.services.entries import Refusal, Reviewed
from targets.services.evaluation import targets_reassess

EDITABLE = (EntryStatus.DRAFT, EntryStatus.RETURNED)
# The figures a report carries, copied to the project when it is the project's latest.
FIGURES = ("stage", "stage_date", "registered_capital", "disbursed_capital", "jobs_filled")
# Investors report quarterly (the investment law: by the 10th of the month after the quarter).
REPORT_FREQUENCY = rules.Frequency.QUARTERLY
REPORT_DEADLINE_DAYS = 10  # a quarter's report is on time until the 10th of the month after


def report_deadline(period: rules.Period) -> date:
    """The last day a project's report of ``period`` is on time."""
    return rules.add_days(period.end, REPORT_DEADLINE_DAYS)


def report_period(key: Any) -> rules.Period:
    """The calendar quarter written ``key`` (``2026-Q3``)."""
    text = str(key or "").strip()
    period = rules.period_by_key(text)
    if period is None or rules.key_frequency(text) != REPORT_FREQUENCY:
        raise WorkflowError(
            _("“%(period)s” is not a quarter: write it as 2026-Q3.") % {"period": text[:20]},
            "period",
        )
    return period


def period_holding(day: date) -> rules.Period:
    return rules.period_containing(REPORT_FREQUENCY, day, rules.Calendar.CALENDAR)


def _label(report: ProjectReport) -> dict[str, str]:
    return {"code": report.project.code, "period": report.period}


def _changed_meanwhile(code: str, period: str) -> StaleEntry:
    return StaleEntry(
        _("Someone else changed the report of %(code)s for %(period)s since you opened it, so "
          "nothing was changed: look at it again as it is now.") % {"code": code, "period": period}
    )


def _require_state(report: ProjectReport, states: tuple[str, ...], action: str) -> None:
    if report.status not in states:
        raise WorkflowError(
            _("A report that is %(state)s cannot be %(action)s.")
            % {"state": report.get_status_display().lower(), "action": action}
        )


def _require_version(report: ProjectReport, version: int | None) -> None:
    if version is not None and report.version != version:
        raise _changed_meanwhile(report.project.code, report.period)


def _save(report: ProjectReport, fields: list[str], user) -> None:
    report.version += 1
    report._history_user = user
    report.save(update_fields=[*fields, "version", "updated_at"])


def _number(value: Any, field: str, *, whole: bool = False) -> Decimal:
    try:
        number = Decimal(str(value).strip().replace(" ", "")) if value is not None else None
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or number < 0 or (
        whole and number != number.to_integral_value()
    ):
        message = (_("Give a whole number, 0 or more.") if whole
                   else _("Give an amount, 0 or more."))
        raise WorkflowError(message, field)
    if abs(number) >= Decimal(10) ** 18:
        raise WorkflowError(_("This amount is too large."), field)
    return number


def figures_check(*, period: rules.Period, stage: Any, stage_date: Any,
                  registered_capital: Any, disbursed_capital: Any, jobs_filled: Any,
                  today: date) -> tuple[dict, list[WorkflowError]]:
    """The report's figures checked one by one: those that passed, and a WorkflowError (with
    its field) for each that did not — a known stage reached by the period's end and by
    today, amounts and jobs that are numbers of 0 or more. An import lists them all."""
    content: dict = {}
    errors: list[WorkflowError] = []
    if stage in Stage.values:
        content["stage"] = stage
    else:
        errors.append(WorkflowError(_("Choose a stage from the list."), "stage"))
    if isinstance(stage_date, str):
        try:
            stage_date = date.fromisoformat(stage_date.strip())
        except ValueError:
            stage_date = None
    if not isinstance(stage_date, date):
        errors.append(WorkflowError(
            _("Give the date the stage was reached (2026-09-15)."), "stage_date"))
    elif stage_date > min(period.end, today):
        errors.append(WorkflowError(
            _("The stage date must be on or before the end of %(period)s and not in the future.")
            % {"period": period.key}, "stage_date",
        ))
    else:
        content["stage_date"] = stage_date
    for name, value, whole in (("registered_capital", registered_capital, False),
                               ("disbursed_capital", disbursed_capital, False),
                               ("jobs_filled", jobs_filled, True)):
        try:
            number = _number(value, name, whole=whole)
        except WorkflowError as exc:
            errors.append(exc)
        else:
            content[name] = int(number) if whole else number
    return content, errors


def figures_clean(*, period: rules.Period, stage: Any, stage_date: Any, registered_capital: Any,
                  disbursed_capital: Any, jobs_filled: Any, today: date) -> dict:
    """The report's figures, checked (``figures_check``): WorkflowError for the first problem."""
    content, errors = figures_check(
        period=period, stage=stage, stage_date=stage_date,
        registered_capital=registered_capital, disbursed_capital=disbursed_capital,
        jobs_filled=jobs_filled, today=today,
    )
    if errors:
        raise errors[0]
    return content


@transaction.atomic
def project_report_save_draft(
    *,
    user,
    project_id: int,
    period: Any,
    stage: Any,
    stage_date: Any,
    registered_capital: Any,
    disbursed_capital: Any,
    jobs_filled: Any,
    note: str = "",
    version: int | None = None,
    today: date | None = None,
) -> ProjectReport:
    """Create the project's report for a quarter as a draft, or change its draft or returned
    report. ``version``: the report's version the caller showed (0: none existed; None skips
    the check). The quarter must have started by ``today``. Saving what is saved writes nothing.
    """
    project = Project.objects.select_related("unit").get(pk=project_id)
    if not access.can_enter_for(user, project.unit):
        raise NotAllowed(_("You may not report on this project."))
    found = report_period(period)
    today = today or timezone.localdate()
    if not rules.period_started(found, today):
        raise WorkflowError(
            _("%(period)s has not started yet: it can be reported from %(start)s.")
            % {"period": found.key, "start": found.start.isoformat()}, "period",
        )
    content = figures_clean(
        period=found, stage=stage, stage_date=stage_date, registered_capital=registered_capital,
        disbursed_capital=disbursed_capital, jobs_filled=jobs_filled, today=today,
    )
    content["note"] = (note or "").strip()
    report = (
        ProjectReport.objects.select_for_update().filter(project=project, period=found.key)
        .first()
    )
    if report is None:
        if version:
            raise _changed_meanwhile(project.code, found.key)
        return _create(user=user, project=project, period=found, content=content)
    report.project = project
    if version == 0:
        raise _changed_meanwhile(project.code, found.key)
    _require_version(report, version)
    _require_state(report, EDITABLE, _("changed"))
    changed = [name for name, new in content.items() if getattr(report, name) != new]
    if not changed:
        return report
    for name in changed:
        setattr(report, name, content[name])
    report.last_editor = user
    _save(report, [*changed, "last_editor"], user)
    return report


def _create(*, user, project: Project, period: rules.Period, content: dict) -> ProjectReport:
    report = ProjectReport(
        project=project, period=period.key, period_start=period.start, period_end=period.end,
        status=EntryStatus.DRAFT, author=user, last_editor=user, **content,
    )
    report._history_user = user
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError:
        if ProjectReport.objects.filter(project=project, period=period.key).exists():
            raise _changed_meanwhile(project.code, period.key) from None
        raise
    return report


def _locked(reports: QuerySet[ProjectReport]) -> list[ProjectReport]:
    return list(
        reports.select_for_update(of=("self",)).select_related("project__unit").order_by("pk")
    )


def _gone() -> WorkflowError:
    return WorkflowError(_("This report no longer exists."))


@transaction.atomic
def project_report_submit(*, user, report_id: int, version: int | None = None) -> ProjectReport:
    """draft → submitted, and returned → submitted."""
    locked = _locked(ProjectReport.objects.filter(pk=report_id))
    if not locked:
        raise _gone()
    report = locked[0]
    _require_version(report, version)
    if not access.can_enter_for(user, report.project.unit):
        raise NotAllowed(_("You may not report on this project."))
    _require_state(report, EDITABLE, _("submitted"))
    report.status = EntryStatus.SUBMITTED
    report.submitted_at = timezone.now()
    report.submitted_by = user
    _save(report, ["status", "submitted_at", "submitted_by"], user)
    return report


def review_refusal(user, report: ProjectReport) -> str:
    """Why ``user`` may not approve or return the report as it stands ("" when they may)."""
    if report.status != EntryStatus.SUBMITTED:
        return _("This report is not waiting for review.")
    if not access.can_review_for(user, report.project.unit):
        return _("You may not review this report.")
    if user.pk == report.last_editor_id:
        return _("You set these figures: another manager approves them.")
    if user.pk == report.submitted_by_id:
        return _("You submitted this report: another manager approves it.")
    if user.pk == report.author_id:
        return _("This is your own report: another manager approves it.")
    return ""


def _review(*, user, reports: list[ProjectReport], report_ids: list[int],
            versions: Mapping[int, int] | None, action: str
            ) -> tuple[list[ProjectReport], list[Refusal]]:
    found = {r.pk: r for r in reports}
    versions = versions or {}
    passed, refused = [], []
    for report_id in report_ids:
        report = found.get(report_id)
        try:
            if report is None:
                raise _gone()
            _require_version(report, versions.get(report_id))
            if report.status != EntryStatus.SUBMITTED:
                _require_state(report, (EntryStatus.SUBMITTED,), action)
            refusal = review_refusal(user, report)
            if refusal:
                raise NotAllowed(refusal)
        except (NotAllowed, WorkflowError) as exc:
            refused.append(Refusal(report_id, None, exc))
        else:
            passed.append(report)
    return passed, refused


def _unique(ids: Iterable[int]) -> list[int]:
    return list(dict.fromkeys(int(pk) for pk in ids))


def project_sync(project: Project, user) -> bool:
    """Copy the project's latest approved report's figures to the project (True if changed).
    The caller holds the project's row lock."""
    latest = (
        ProjectReport.objects.filter(project=project, status=EntryStatus.APPROVED)
        .order_by("-period_end").first()
    )
    if latest is None:
        return False
    changed = [name for name in FIGURES if getattr(project, name) != getattr(latest, name)]
    if not changed:
        return False
    for name in changed:
        setattr(project, name, getattr(latest, name))
    project._history_user = user
    project._change_reason = f"project report {latest.period}"
    project.save(update_fields=changed)
    return True


def targets_counting(projects: Iterable[Project]) -> list[Target]:
    """The targets whose register measure's unit holds one of the projects."""
    paths = {p.unit.path for p in projects}
    measures = TargetMeasure.objects.select_related("unit", "target")
    return [
        m.target for m in measures
        if any(path.startswith(m.unit.path) for path in paths)
    ]


@transaction.atomic
def project_reports_approve(
    *,
    user,
    report_ids: Iterable[int],
    versions: Mapping[int, int] | None = None,
    reassess: AlertSettings | None,
    on: date | None = None,
) -> Reviewed:
    """submitted → approved by a manager of the project's unit (or above) who did not write,
    change or submit it; the projects take their latest approved figures and the targets that
    count them are re-assessed in one run (``reassess``: its alert rules; None only when
    loading data evaluated afterwards)."""
    report_ids = _unique(report_ids)
    # Lock the projects first (in id order), then their reports: two approvals of one
    # project follow each other, so the project ends with its latest report's figures.
    project_ids = list(
        ProjectReport.objects.filter(pk__in=report_ids).values_list("project_id", flat=True)
    )
    projects = list(
        Project.objects.select_for_update().select_related("unit")
        .filter(pk__in=project_ids).order_by("pk")
    )
    locked = _locked(ProjectReport.objects.filter(pk__in=report_ids))
    approve, refused = _review(user=user, reports=locked, report_ids=report_ids,
                               versions=versions, action=_("approved"))
    now = timezone.now()
    for report in approve:
        report.status = EntryStatus.APPROVED
        report.reviewer = user
        report.review_comment = ""
        report.reviewed_at = now
        _save(report, ["status", "reviewer", "review_comment", "reviewed_at"], user)
    touched = [p for p in projects if any(r.project_id == p.pk for r in approve)]
    for project in touched:
        project_sync(project, user)
    if touched and reassess is not None:
        targets = targets_counting(touched)
        if targets:
            targets_reassess(targets, on=on, alert_settings=reassess)
    return Reviewed(approve, refused)


@transaction.atomic
def project_reports_return(
    *, user, report_ids: Iterable[int], comment: str, versions: Mapping[int, int] | None = None
) -> Reviewed:
    """submitted → returned with the reviewer's comment, as ``project_reports_approve`` checks."""
    comment = (comment or "").strip()
    if not comment:
        raise WorkflowError(_("Say what needs fixing: a comment is required."), "comment")
    report_ids = _unique(report_ids)
    locked = _locked(ProjectReport.objects.filter(pk__in=report_ids))
    returned, refused = _review(user=user, reports=locked, report_ids=report_ids,
                                versions=versions, action=_("returned"))
    now = timezone.now()
    for report in returned:
        report.status = EntryStatus.RETURNED
        report.reviewer = user
        report.review_comment = comment
        report.reviewed_at = now
        _save(report, ["status", "reviewer", "review_comment", "reviewed_at"], user)
    return Reviewed(returned, refused)


def project_report_approve(*, user, report_id: int, reassess: AlertSettings | None,
                           version: int | None = None, on: date | None = None) -> ProjectReport:
    reviewed = project_reports_approve(
        user=user, report_ids=[report_id], reassess=reassess, on=on,
        versions={} if version is None else {int(report_id): version},
    )
    reviewed.raise_first()
    return reviewed.done[0]


def project_report_return(*, user, report_id: int, comment: str,
                          version: int | None = None) -> ProjectReport:
    reviewed = project_reports_return(
        user=user, report_ids=[report_id], comment=comment,
        versions={} if version is None else {int(report_id): version},
    )
    reviewed.raise_first()
    return reviewed.done[0]


def opening_record(*, project: Project, period: rules.Period, user) -> bool:
    """Record the project's figures as the approved report of ``period`` from a register
    file (created, or updated when the file says otherwise); True when something was written.
    The stage date must fall by the period's end (the loader checks it first)."""
    figures = {name: getattr(project, name) for name in FIGURES}
    report = (
        ProjectReport.objects.select_for_update().filter(project=project, period=period.key)
        .first()
    )
    if report is None:
        report = ProjectReport(
            project=project, period=period.key, period_start=period.start,
            period_end=period.end, status=EntryStatus.APPROVED, from_file=True, author=user,
            note=_("Register file"), **figures,
        )
        report._history_user = user
        report.save()
        return True
    changed = [n for n, v in figures.items() if getattr(report, n) != v]
    if not changed and report.status == EntryStatus.APPROVED:
        return False
    for name, value in figures.items():
        setattr(report, name, value)
    report.status = EntryStatus.APPROVED
    report.from_file = True
    _save(report, [*FIGURES, "status", "from_file"], user)
    return True
