"""Shared by the import commands: print every problem of a failed import, then fail."""

from django.core.management.base import BaseCommand, CommandError

from targets.errors import ImportFailed


def fail_with_problems(command: BaseCommand, failed: ImportFailed, file: str) -> CommandError:
    for problem in failed.problems:
        command.stderr.write(str(problem))
    return CommandError(f"{len(failed.problems)} problem(s) in {file}; nothing was written.")
