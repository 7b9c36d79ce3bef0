from django.core.management.base import BaseCommand

from targets.management.commands._user import acting_user, add_user_argument
from targets.services.demo import demo_load


class Command(BaseCommand):
    help = "Load the demo users and entries (fixtures/demo.yaml) after the plan files."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", nargs="?", default="fixtures/demo.yaml")
        add_user_argument(
            parser,
            help="the username the memberships and owners are recorded for in the history "
            "(entries are recorded for their demo authors and reviewers)",
        )

    def handle(self, *args, file: str, user: str, **options) -> None:
        logins = demo_load(file, operator=acting_user(user))
        self.stdout.write("Demo logins (DEMO DATA — not for production):")
        for login in logins:
            self.stdout.write(f"  {login.username:<16} {login.password:<22} {login.roles}")
