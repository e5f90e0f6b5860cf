"""Mirror each cloud account's VPCs, vSwitches, security groups, instances and zones."""

from django.core.management.base import BaseCommand, CommandError

from connections.cloud import CloudError
from connections.inventory import sync_account
from connections.models import CloudAccount


class Command(BaseCommand):
    help = "Sync the inventory of every cloud account (or of the accounts named)."

    def add_arguments(self, parser):
        parser.add_argument("accounts", nargs="*", help="account names (default: all)")

    def handle(self, *args, accounts, **options):
        queryset = CloudAccount.objects.all()
        if accounts:
            queryset = queryset.filter(name__in=accounts)
            unknown = sorted(set(accounts) - set(queryset.values_list("name", flat=True)))
            if unknown:
                raise CommandError(f"no cloud account named {', '.join(unknown)}")
        failed = 0
        for account in queryset:
            try:
                summary = sync_account(account)
            except CloudError as error:
                failed += 1
                self.stderr.write(f"{account.name}: {error.code}: {error.message}")
            else:
                self.stdout.write(f"{account.name}: {summary}")
        if failed:
            raise CommandError(f"{failed} account(s) could not be synced")
