"""Shared by the commands that write: the account their changes are recorded for (--user).

Outside a request django-simple-history knows no user, so every command that writes history
rows names one; an unknown name stops the command before it reads or writes anything.
"""

from argparse import ArgumentParser

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.management.base import CommandError

USER_HELP = (
    "the username every change is recorded for in the history: a person, or an operator "
    "account (manage.py create_operator NAME makes one that cannot sign in)"
)


def add_user_argument(parser: ArgumentParser, help: str = USER_HELP) -> None:
    parser.add_argument("--user", required=True, help=help)


def acting_user(username: str) -> AbstractBaseUser:
    """The active account named ``username``, or a CommandError (the command writes nothing)."""
    try:
        return get_user_model().objects.get(username=username, is_active=True)
    except get_user_model().DoesNotExist:
        raise CommandError(
            f"No active user “{username}”; nothing was written "
            f"(manage.py create_operator {username} makes an operator account)."
        ) from None
