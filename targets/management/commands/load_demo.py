from django.core.management.base import BaseCommand

from targets.services.demo import demo_load


class Command(BaseCommand):
    help = "Load the demo users and entries (fixtures/demo.yaml) after the plan files."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", nargs="?", default="fixtures/demo.yaml")

    def handle(self, *args, file: str, **options) -> None:
        logins = demo_load(file)
        self.stdout.write("Demo logins (DEMO DATA — not for production):")
        for login in logins:
            self.stdout.write(f"  {login.username:<16} {login.password:<22} {login.roles}")
