from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Create an operator account for the commands' --user: active, without a password "
        "(it cannot sign in), without memberships or admin rights. Nothing happens if it exists."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")

    def handle(self, *args, username: str, **options) -> None:
        User = get_user_model()
        field = User._meta.get_field(User.USERNAME_FIELD)
        try:
            username = field.clean(username, None)
        except ValidationError as exc:  # a name the admin would refuse too
            reasons = " ".join(exc.messages)
            raise CommandError(f"“{username}” cannot be a username: {reasons}") from None
        user, created = User.objects.get_or_create(**{User.USERNAME_FIELD: username})
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        elif not user.is_active:
            raise CommandError(f"User “{username}” exists but is not active.")
        self.stdout.write(f"Operator {username} {'created' if created else 'exists already'}.")
