"""Tasks are queued by name (services never import ``targets.tasks``): the tests record them."""

from __future__ import annotations

import pytest


def record_queued(monkeypatch: pytest.MonkeyPatch, name: str, send=None) -> list[tuple]:
    """The arguments of every ``name`` task queued from now on, instead of the broker; other
    tasks go on to the broker. ``send``, when given, is called in the broker's place (to fail)."""
    from tracker.celery import app

    queued: list[tuple] = []
    original = app.send_task

    def send_task(task_name: str, args=None, **options):
        if task_name != name:
            return original(task_name, args=args, **options)
        if send is not None:
            return send(task_name, args, **options)
        queued.append(tuple(args or ()))
        return None

    monkeypatch.setattr(app, "send_task", send_task)
    return queued
