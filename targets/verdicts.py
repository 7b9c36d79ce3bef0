"""What a verdict means, said in a sentence (DESIGN §3 rule 8), in the reader's language.

The rules name the rule that decided a status (``reason``); this module turns a verdict —
from a fresh judgement, a stored assessment, or the figures kept with an alert — into the
sentence that screens and emails show, e.g. "Lagging: on the current pace 62 of 80 by
31/12/2030 (below 90 %)".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from targets import rules
from targets.formatting import format_number, format_percent

if TYPE_CHECKING:
    from targets.models import Assessment, Target


@dataclass(frozen=True)
class Verdict:
    status: str
    reason: str
    actual: Decimal | None
    as_of: date | None
    expected: Decimal | None  # at the as-of date (at the evaluation date without one)
    ratio: Decimal | None
    projected: Decimal | None
    target_value: Decimal
    due_date: date
    tolerance: Decimal
    percent: bool = False  # a percentage: a projection is shown within 0–100

    @classmethod
    def from_judgement(cls, target: Target, judgement: rules.Judgement) -> Verdict:
        return cls(
            status=str(judgement.status),
            reason=str(judgement.reason),
            actual=judgement.actual,
            as_of=judgement.as_of,
            expected=judgement.expected,
            ratio=judgement.ratio,
            projected=judgement.forecast.projected,
            target_value=target.target_value,
            due_date=target.due_date,
            tolerance=target.tolerance,
            percent=target.value_type == "percent",
        )

    @classmethod
    def from_assessment(cls, target: Target, assessment: Assessment) -> Verdict | None:
        if not assessment.status:
            return None
        return cls(
            status=assessment.status,
            reason=assessment.reason,
            actual=assessment.actual,
            as_of=assessment.as_of,
            expected=assessment.expected,
            ratio=assessment.ratio,
            projected=assessment.projected,
            target_value=target.target_value,
            due_date=target.due_date,
            tolerance=target.tolerance,
            percent=target.value_type == "percent",
        )

    def params(self) -> dict[str, Any]:
        """The verdict as JSON-safe strings, to keep with an alert."""
        return {
            "status": self.status,
            "reason": self.reason,
            "actual": _text(self.actual),
            "as_of": self.as_of.isoformat() if self.as_of else None,
            # As the screens show it: to two places.
            "expected": _text(round(self.expected, 2) if self.expected is not None else None),
            "ratio": _text(self.ratio),
            "projected": _text(self.projected),
            "target": _text(self.target_value),
            "due": self.due_date.isoformat(),
            "tolerance": _text(self.tolerance),
            "percent": self.percent,
        }

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> Verdict | None:
        """The verdict kept with an alert; None for alerts recorded before verdicts were kept."""
        try:
            return cls(
                status=params["status"],
                reason=params["reason"],
                actual=_decimal(params.get("actual")),
                as_of=date.fromisoformat(params["as_of"]) if params.get("as_of") else None,
                expected=_decimal(params.get("expected")),
                ratio=_decimal(params.get("ratio")),
                projected=_decimal(params.get("projected")),
                target_value=Decimal(params["target"]),
                due_date=date.fromisoformat(params["due"]),
                tolerance=Decimal(params["tolerance"]),
                percent=bool(params.get("percent")),
            )
        except (KeyError, TypeError, ValueError, InvalidOperation):
            return None


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def _decimal(text: str | None) -> Decimal | None:
    return None if text in (None, "") else Decimal(text)


def _day(value: date | None) -> str:
    return date_format(value, "SHORT_DATE_FORMAT") if value else "—"


def _threshold(ratio: Decimal) -> str:
    return format_percent(ratio)


def status_label(status: str) -> str:
    from targets.models import Status

    try:
        return str(Status(status).label)
    except ValueError:
        return status


class _Formatted(dict):
    """The values a sentence may use, each formatted only when the chosen sentence asks for
    it (``%`` looks them up one by one): a status table or export formats one sentence per
    row, and most sentences use three or four of the nine values."""

    def __init__(self, makers: dict) -> None:
        super().__init__()
        self.makers = makers

    def __missing__(self, key: str) -> str:
        value = self[key] = self.makers[key]()
        return value


def reason_sentence(verdict: Verdict) -> str:
    """Rule 8: the status and the rule that decided it, in a sentence of the active language."""
    values = _Formatted({
        "status": lambda: status_label(verdict.status),
        "actual": lambda: format_number(verdict.actual),
        "expected": lambda: format_number(verdict.expected, 2),
        "as_of": lambda: _day(verdict.as_of),
        "ratio": lambda: format_percent(verdict.ratio),
        "target": lambda: format_number(verdict.target_value),
        "due": lambda: _day(verdict.due_date),
        "on_track_from": lambda: _threshold(1 - verdict.tolerance),
        "at_risk_from": lambda: _threshold(1 - 2 * verdict.tolerance),
    })
    reason = verdict.reason
    if reason == rules.Reason.ACHIEVED:
        text = _("%(status)s: %(actual)s reached the target of %(target)s (as of %(as_of)s).")
    elif reason == rules.Reason.MISSED:
        text = _("%(status)s: the due date %(due)s has passed with %(actual)s of %(target)s.")
    elif reason == rules.Reason.NO_DATA:
        text = _("%(status)s: no report has been approved yet.")
    elif reason == rules.Reason.PACE:
        projected = verdict.projected
        if projected is not None and verdict.percent:
            projected = rules.clamp_percent(projected)
        values["projected"] = format_number(projected, 2)
        text = _(
            "%(status)s: on the current pace %(projected)s of %(target)s by %(due)s "
            "(below %(on_track_from)s)."
        )
    elif verdict.status == rules.Status.ON_TRACK:
        text = _(
            "%(status)s: %(actual)s against %(expected)s expected as of %(as_of)s "
            "(%(ratio)s of the planned progress)."
        )
    elif verdict.status == rules.Status.AT_RISK:
        text = _(
            "%(status)s: %(actual)s against %(expected)s expected as of %(as_of)s "
            "(%(ratio)s of the planned progress, below %(on_track_from)s)."
        )
    else:
        text = _(
            "%(status)s: %(actual)s against %(expected)s expected as of %(as_of)s "
            "(%(ratio)s of the planned progress, below %(at_risk_from)s)."
        )
    return text % values


def assessment_sentence(target: Target, assessment: Assessment | None) -> str:
    """The reason sentence of a target's stored assessment ("" when there is none to give)."""
    if assessment is None:
        return ""
    if assessment.error:
        return _("Could not be judged: %(error)s") % {"error": assessment.error}
    verdict = Verdict.from_assessment(target, assessment)
    if verdict is None or not verdict.reason:  # made before reasons were kept
        return ""
    return reason_sentence(verdict)
