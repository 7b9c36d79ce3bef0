"""Loading the demo data set (fixtures/demo.yaml) through the real services."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import yaml
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Model
from simple_history.models import HistoricalRecords

from targets.errors import ImportFailed, Problem
from targets.models import EntryStatus, Membership, Profile, ProgressEntry, Target, Unit
from targets.services import entries as workflow


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    roles: str


@contextmanager
def _history_by(user: AbstractBaseUser) -> Iterator[None]:
    """Attribute the history rows written inside to ``user``, as django-simple-history's
    request middleware does for the signed-in user: the workflow's services are called here
    outside a request, for the people of the demo."""
    context = HistoricalRecords.context
    outer = getattr(context, "request", None)
    context.request = SimpleNamespace(user=user)
    try:
        yield
    finally:
        if outer is None:
            del context.request
        else:
            context.request = outer


def _save(obj: Model, operator: AbstractBaseUser, **kwargs) -> None:
    obj._history_user = operator
    obj._change_reason = "demo data"
    obj.save(**kwargs)


@transaction.atomic
def demo_load(path: str | Path, *, operator: AbstractBaseUser) -> list[DemoLogin]:
    """Create the demo users, owners and entries; loading twice changes nothing. The history
    names ``operator`` for memberships and owners, the demo's people for their entries."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    User = get_user_model()
    logins = []
    units = {u.code: u for u in Unit.objects.all()}
    for spec in data.get("users", []):
        user, created = User.objects.get_or_create(
            username=spec["username"],
            defaults={
                "first_name": spec.get("first_name", ""),
                "last_name": spec.get("last_name", ""),
                "email": spec.get("email", ""),
                "is_staff": bool(spec.get("superuser", False)),
                "is_superuser": bool(spec.get("superuser", False)),
            },
        )
        if created:
            user.set_password(spec["password"])
            user.save(update_fields=["password"])
        Profile.objects.update_or_create(
            user=user, defaults={"language": spec.get("language", "vi")}
        )
        roles = ["administrator"] if user.is_superuser else []
        for membership in spec.get("memberships", []):
            unit = units.get(membership["unit"])
            if unit is None:
                raise ImportFailed(
                    [Problem(str(path), "memberships", f"unknown unit {membership['unit']}")]
                )
            found = Membership.objects.filter(user=user, unit=unit).first()
            if found is None or found.role != membership["role"]:
                found = found or Membership(user=user, unit=unit)
                found.role = membership["role"]
                _save(found, operator)
            roles.append(f"{membership['role']} of {unit.code}")
        logins.append(DemoLogin(user.username, spec["password"], ", ".join(roles)))
    users = {u.username: u for u in User.objects.all()}
    for code, username in (data.get("owners") or {}).items():
        for target in Target.objects.filter(code=code).exclude(owner=users[username]):
            target.owner = users[username]
            _save(target, operator, update_fields=["owner"])
    for item in data.get("entries", []):
        _load_entry(item, users)
    for item in data.get("project_reports", []):
        _load_project_report(item, users)
    return logins


def _load_project_report(item: dict, users: dict) -> None:
    """A project's quarterly report through the register's workflow (the register is loaded
    first: ``load_register``)."""
    from register import services as register_workflow  # the app above this one
    from register.models import Project, ProjectReport

    project = Project.objects.get(code=item["project"])
    period = str(item["period"])
    if ProjectReport.objects.filter(project=project, period=period).exists():
        return
    author = users[item["author"]]
    with _history_by(author):
        report = register_workflow.project_report_save_draft(
            user=author, project_id=project.pk, period=period, stage=item["stage"],
            stage_date=item["stage_date"], registered_capital=item["registered_capital"],
            disbursed_capital=item["disbursed_capital"], jobs_filled=item.get("jobs_filled", 0),
            note=item.get("note", ""),
        )
        status = item.get("status", EntryStatus.APPROVED)
        if status == EntryStatus.DRAFT:
            return
        report = register_workflow.project_report_submit(user=author, report_id=report.pk)
    reviewer = users.get(item.get("reviewer", ""))
    with _history_by(reviewer):
        if status == EntryStatus.APPROVED:
            register_workflow.project_report_approve(user=reviewer, report_id=report.pk,
                                                     reassess=None)
        elif status == EntryStatus.RETURNED:
            register_workflow.project_report_return(user=reviewer, report_id=report.pk,
                                                    comment=item["comment"])


def _load_entry(item: dict, users: dict) -> None:
    target = Target.objects.select_related("responsible_unit").get(code=item["target"])
    period = str(item["period"])
    if ProgressEntry.objects.filter(target=target, period=period).exists():
        return
    author = users[item["author"]]
    with _history_by(author):
        entry = workflow.entry_save_draft(
            user=author, target_id=target.pk, period=period, value=item["value"],
            note=item.get("note", ""),
        )
        status = item.get("status", EntryStatus.APPROVED)
        if status == EntryStatus.DRAFT:
            return
        entry = workflow.entry_submit(user=author, entry_id=entry.pk)
    reviewer = users.get(item.get("reviewer", ""))
    with _history_by(reviewer):
        if status == EntryStatus.APPROVED:
            # The demo is evaluated once loaded (at its date), not at each approval.
            workflow.entry_approve(user=reviewer, entry_id=entry.pk, reassess=None)
        elif status == EntryStatus.RETURNED:
            workflow.entry_return(user=reviewer, entry_id=entry.pk, comment=item["comment"])
