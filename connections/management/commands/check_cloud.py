"""Check cloud accounts before the portal is trusted with them (connections/cloud_check.py)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from connections.cloud.operations import Role
from connections.cloud_check import FAIL, check
from connections.crypto import SecretUnreadable
from connections.models import CloudAccount

ROLES = {"provider": {Role.PROVIDER}, "consumer": {Role.CONSUMER}, "both": set(Role)}


class Command(BaseCommand):
    help = (
        "For each cloud account (or the one named): who its credentials are, whether "
        "PrivateLink is activated, the zones NLB and PrivateLink offer, and every permission the "
        "portal needs, checked without changing anything (DryRun and ids that name nothing). "
        "One line per check, with what to do about a failure."
    )

    def add_arguments(self, parser):
        parser.add_argument("account", nargs="?", help="an account's name or UID (default: all)")
        parser.add_argument(
            "--role",
            choices=sorted(ROLES),
            default="both",
            help="what the account does for the portal: publish services (provider), request "
            "access (consumer), or both (default)",
        )

    def handle(self, *args, account=None, role="both", **options):
        endpoint = settings.CLOUD_ENDPOINT or "the SDKs' regional endpoints"
        self.stdout.write(f"cloud endpoint: {endpoint}")
        accounts = CloudAccount.objects.all()
        if account:
            accounts = accounts.filter(Q(name=account) | Q(uid=account))
        accounts = list(accounts)
        if not accounts:
            raise CommandError(
                f"no cloud account named {account!r}"
                if account
                else "no cloud accounts are configured (Django admin → Cloud accounts)"
            )
        failing = 0
        for cloud_account in accounts:
            self.stdout.write(f"\n{cloud_account.name} ({cloud_account.uid}), {role}:")
            try:
                lines = check(cloud_account, ROLES[role])
            except SecretUnreadable:
                failing += 1
                self.stdout.write(f"{FAIL} stored secret unreadable (encryption key changed?)")
                continue
            for line in lines:
                self.stdout.write(f"  {line}")
            failing += any(line.status == FAIL for line in lines)
        if failing:
            raise CommandError(f"{failing} account(s) failed a check")
