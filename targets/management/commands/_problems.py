"""Shared by the import commands: print every problem of a failed import, then fail."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import ngettext

from targets.errors import ImportFailed


def fail_with_problems(command: BaseCommand, failed: ImportFailed, file: str) -> CommandError:
    for problem in failed.problems:
        command.stderr.write(str(problem))
    return CommandError(
        ngettext(
            "%(count)d problem in %(file)s; nothing was written.",
            "%(count)d problems in %(file)s; nothing was written.",
            len(failed.problems),
        )
        % {"count": len(failed.problems), "file": file}
    )
