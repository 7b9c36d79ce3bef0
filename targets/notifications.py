"""Composing alert digests: what an alert says, in the reader's language, as text and HTML."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from email.utils import parseaddr
from itertools import groupby
from urllib.parse import urlencode

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from targets.models import EXPLANATION_KINDS, Alert, AlertKind, AlertRecipient, Digest, Status
from targets.verdicts import Verdict, reason_sentence, status_label


def _day(iso: str | None) -> str:
    if not iso:
        return ""
    return formats.date_format(date.fromisoformat(iso), "SHORT_DATE_FORMAT")


def _number(text: str | None) -> str:
    """A stored decimal string in the active language's notation (22,5 in Vietnamese)."""
    if not text:
        return ""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return text
    return formats.number_format(value, use_l10n=True, force_grouping=True)


def alert_event(alert: Alert) -> str:
    """What happened, in the active language."""
    p = alert.params or {}
    values = {
        "status": status_label(alert.status),
        "previous": status_label(alert.previous_status or Status.NO_DATA),
        "actual": _number(p.get("actual")),
        "expected": _number(p.get("expected")),
        "evaluated_on": formats.date_format(alert.evaluated_on, "SHORT_DATE_FORMAT"),
        "milestone": _day(p.get("milestone")),
        "period": p.get("period", ""),
        "deadline": _day(p.get("deadline")),
        "since": _day(p.get("since")),
        "days": p.get("days", ""),
        "by": p.get("by", ""),
        "due": _day(p.get("due")),
        "question": p.get("question", ""),
        "requested_by": p.get("requested_by", ""),
        "asked_on": _day(p.get("asked_on")),
    }
    kind = alert.kind
    if kind == AlertKind.WORSENED:
        if alert_verdict(alert) is not None:
            text = _("Status worsened from %(previous)s to %(status)s.")
        else:
            # Recorded before verdicts were kept: the figures of the evaluation date itself.
            text = _(
                "Status worsened from %(previous)s to %(status)s "
                "(actual %(actual)s, expected %(expected)s on %(evaluated_on)s)."
            )
    elif kind == AlertKind.RECOVERED:
        text = _("Recovered: the status is now %(status)s (it was %(previous)s).")
    elif kind == AlertKind.MILESTONE_MISSED:
        text = _("The milestone of %(milestone)s was missed.")
    elif kind == AlertKind.OVERDUE:
        text = _("The report for %(period)s is overdue (it was due by %(deadline)s).")
    elif kind == AlertKind.ESCALATED:
        text = _(
            "Still %(status)s %(days)s days after the first alert (%(since)s): "
            "escalated to the managers of the parent unit."
        )
    elif kind == AlertKind.REMINDER:
        text = _(
            "The report for %(period)s is due by %(deadline)s and nothing has been "
            "submitted yet."
        )
    elif kind == AlertKind.EXPLANATION_ASKED:
        text = _("%(by)s asks for an explanation by %(due)s: “%(question)s”")
    elif kind == AlertKind.EXPLANATION_ANSWERED:
        text = _("%(by)s answered the explanation request.")
    elif kind == AlertKind.EXPLANATION_ACCEPTED:
        text = _("%(by)s accepted the explanation.")
    elif kind == AlertKind.EXPLANATION_ASKED_AGAIN:
        text = _("%(by)s asks again for an explanation by %(due)s: “%(question)s”")
    elif kind == AlertKind.EXPLANATION_ESCALATED:
        text = _(
            "The explanation %(requested_by)s asked for on %(asked_on)s was not answered by "
            "%(due)s: escalated to the managers of the parent unit."
        )
    elif kind == AlertKind.REPORT_REQUESTED:
        text = _(
            "%(by)s reminds you: the report for %(period)s (due by %(deadline)s) has not "
            "been submitted."
        )
    else:
        text = "%(status)s"
    return text % values


def alert_verdict(alert: Alert) -> Verdict | None:
    """The verdict kept with the alert; None for kinds without one and for older alerts."""
    return Verdict.from_params(alert.params or {})


def alert_reason(alert: Alert) -> str:
    """Rule 8's sentence for the verdict behind the alert ("" when none was kept)."""
    verdict = alert_verdict(alert)
    return reason_sentence(verdict) if verdict is not None else ""


def alert_message(alert: Alert) -> str:
    """What happened and, where the alert kept its verdict, why: one text for the screens."""
    return " ".join(part for part in (alert_event(alert), alert_reason(alert)) if part)


def target_link(site_url: str, code: str) -> str:
    """The target page; the web screens serve it at /targets/<code>/."""
    return f"{site_url.rstrip('/')}/targets/{code}/"


def action_link(site_url: str, alert: Alert) -> str:
    """Where the reader acts on the alert, when that is not the target page: a unit reminded
    to report goes to the entry screen, on the period it was reminded of ("" otherwise)."""
    if alert.kind != AlertKind.REPORT_REQUESTED:
        return ""
    path = reverse("targets:report", args=[alert.target.code])
    period = (alert.params or {}).get("period")
    query = f"?{urlencode({'period': period})}" if period else ""
    return f"{site_url.rstrip('/')}{path}{query}"


def message_id(digest: Digest, from_email: str) -> str:
    """A Message-ID that is the same on every attempt, so a re-sent digest is recognisable."""
    domain = parseaddr(from_email)[1].rpartition("@")[2] or "localhost"
    return f"<digest-{digest.pk}-{digest.run}@{domain}>"


@dataclass(frozen=True)
class DigestItem:
    code: str
    name: str
    kind: str
    message: str  # what happened (it names the kind: the kind's label is not repeated)
    reason: str  # why: rule 8's sentence ("" for an alert without a verdict)
    link: str
    resolved: bool
    action: str = ""  # where to act on it, beside the target page ("" for most kinds)


@dataclass(frozen=True)
class TargetAlerts:
    """A target of a digest, said once, with what happened to it."""

    code: str
    name: str
    link: str
    items: list[DigestItem]


def by_target(items: Sequence[DigestItem]) -> list[TargetAlerts]:
    """The items grouped by target, in the digest's order (by target code)."""
    return [
        TargetAlerts(code, group[0].name, group[0].link, group)
        for code, grouped in groupby(items, key=lambda item: item.code)
        for group in [list(grouped)]
    ]


def digest_language(digest: Digest) -> str:
    profile = getattr(digest.user, "profile", None)
    language = profile.language if profile is not None else settings.LANGUAGE_CODE
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


ITEM_ORDER = ("alert__target__code", "alert__kind", "alert__subject")


def digest_items(digest_ids: Iterable[int]) -> dict[int, list[AlertRecipient]]:
    """The alerts of each digest, with their targets, in the email's order: one query for
    any number of digests (a sender reads a whole batch at once)."""
    items: dict[int, list[AlertRecipient]] = {}
    for item in (
        AlertRecipient.objects.filter(digest_id__in=list(digest_ids))
        .select_related("alert__target")
        .order_by("digest_id", *ITEM_ORDER)
    ):
        items.setdefault(item.digest_id, []).append(item)
    return items


def digest_message(
    digest: Digest,
    *,
    site_url: str,
    from_email: str,
    items: Sequence[AlertRecipient] | None = None,
) -> EmailMultiAlternatives:
    """The digest email for one recipient and one run, in the recipient's language.

    ``items``: the digest's alerts as ``digest_items`` reads them (read here if not given).
    """
    if items is None:
        items = digest_items([digest.pk]).get(digest.pk, [])
    with translation.override(digest_language(digest)):
        rows = [
            DigestItem(
                code=item.alert.target.code,
                name=item.alert.target.localized("name"),
                kind=str(AlertKind(item.alert.kind).label),
                message=alert_event(item.alert),
                reason=alert_reason(item.alert),
                link=target_link(site_url, item.alert.target.code),
                resolved=item.alert.resolved_at is not None,
                action=action_link(site_url, item.alert),
            )
            for item in items
        ]
        context = {
            "user": digest.user,
            "items": rows,
            "targets": by_target(rows),
            "evaluated_on": digest.evaluated_on,
            # A digest of an evaluation says so; one of a workflow's events (an explanation
            # asked, answered, decided) is not the evaluation's news.
            "evaluation": any(item.alert.kind not in EXPLANATION_KINDS for item in items),
            "inbox_link": f"{site_url.rstrip('/')}/alerts/",
        }
        subject = ngettext(
            "[%(product)s] %(count)d new alert (%(date)s)",
            "[%(product)s] %(count)d new alerts (%(date)s)",
            len(rows),
        ) % {
            "product": _("Target Tracker"),  # the product's name in the reader's language
            "count": len(rows),
            "date": formats.date_format(digest.evaluated_on, "SHORT_DATE_FORMAT"),
        }
        subject = " ".join(subject.split())  # one line, no stray spaces
        text = render_to_string("emails/digest.txt", context)
        html = render_to_string("emails/digest.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=from_email,
        to=[digest.user.email],
        headers={"Message-ID": message_id(digest, from_email)},
    )
    message.attach_alternative(html, "text/html")
    return message
