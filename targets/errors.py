"""Errors services raise; views and commands turn them into messages."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied


class WorkflowError(Exception):
    """A transition that the entry's state does not allow, or bad input for it."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class StaleEntry(WorkflowError):
    """The entry changed since the caller read it (its version moved on), or someone else
    entered it meanwhile: nothing was written, instead of overwriting their change."""


class NotAllowed(PermissionDenied):
    """The user may not make this change."""


@dataclass(frozen=True)
class Problem:
    """One problem in an imported file, with its place."""

    place: str  # "bat-xat.yaml:57 target BX-OCC" or "row 4 (BX-OCC 2026-Q1)"
    field: str
    message: str
    line: int = 0  # the line in the file, where known: problems are listed in file order

    def __str__(self) -> str:
        field = f" {self.field}:" if self.field else ""
        return f"{self.place}:{field} {self.message}"


class ImportFailed(Exception):
    """A file with problems; nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s); nothing was written")
        self.problems = problems


class StaleRequest(StaleEntry):
    """The explanation request changed since the caller read it (answered, decided, asked
    again by someone else): nothing was written."""
