"""Load the demo scenario into the portal (demo mode only)."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

DEMO_PASSWORD = "demo"  # noqa: S105 - documented demo login, refused outside DEBUG
DEMO_USERS = {
    "provider": {"first_name": "Priya", "last_name": "Provider"},
    "consumer": {"first_name": "Carlos", "last_name": "Consumer"},
    "partner": {"first_name": "Pat", "last_name": "Partner"},
    "admin": {"first_name": "Ada", "last_name": "Admin", "is_staff": True, "is_superuser": True},
}


class Command(BaseCommand):
    help = "Create the demo logins (password 'demo'). Refused unless DEBUG is on."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("load_demo creates well-known passwords: it needs DEBUG on.")
        user_model = get_user_model()
        for username, fields in DEMO_USERS.items():
            user, created = user_model.objects.get_or_create(username=username, defaults=fields)
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
        self.stdout.write(f"demo logins: {', '.join(DEMO_USERS)} (password '{DEMO_PASSWORD}')")
