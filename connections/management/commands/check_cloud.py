"""Check each cloud account's endpoint and credentials, and say plainly what is wrong."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from connections.cloud import CloudError, CloudNotAuthorised, CloudSession
from connections.crypto import SecretUnreadable
from connections.models import CloudAccount


class Command(BaseCommand):
    help = "Call STS GetCallerIdentity in every cloud account and report the answer."

    def handle(self, *args, **options):
        endpoint = settings.CLOUD_ENDPOINT or "the SDKs' regional endpoints"
        self.stdout.write(f"cloud endpoint: {endpoint}")
        accounts = list(CloudAccount.objects.all())
        if not accounts:
            raise CommandError("no cloud accounts are configured (Django admin → Cloud accounts)")
        problems = 0
        for account in accounts:
            label = f"{account.name} ({account.uid}, {account.get_credential_source_display()})"
            try:
                identity = CloudSession(account).sts.caller_identity()
            except CloudNotAuthorised as error:
                problems += 1
                self.stdout.write(f"FAIL {label}: credentials refused: {error.code}")
            except CloudError as error:
                problems += 1
                self.stdout.write(f"FAIL {label}: {error.code}: {error.message}")
            except SecretUnreadable:
                problems += 1
                self.stdout.write(
                    f"FAIL {label}: stored secret unreadable (encryption key changed?)"
                )
            else:
                uid = str(identity.get("AccountId", ""))
                if uid != account.uid:
                    problems += 1
                    self.stdout.write(f"FAIL {label}: credentials belong to account {uid}")
                else:
                    self.stdout.write(f"ok   {label}: {identity.get('Arn', '')}")
        if problems:
            raise CommandError(f"{problems} account(s) failed the check")
