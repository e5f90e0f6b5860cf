"""Print the RAM policy the portal's credentials need in an account (connections/cloud/ram.py)."""

import json

from django.core.management.base import BaseCommand

from connections.cloud.operations import Role
from connections.cloud.ram import policy_for


class Command(BaseCommand):
    help = (
        "Print the least-privilege RAM policy for the portal's credentials in an account that "
        "publishes services (provider), requests access (consumer), or both: attach it to the "
        "RAM user or role the portal uses there."
    )

    def add_arguments(self, parser):
        parser.add_argument("roles", nargs="+", choices=[role.value for role in Role])

    def handle(self, *args, roles, **options):
        document = policy_for({Role(role) for role in roles})
        self.stdout.write(json.dumps(document, indent=2))
