"""Celery tasks: thin, named entry points into the workflows (queue `provisioning`), and the
periodic jobs beat runs (portal/celery.py). Each takes ids, never model instances."""

import logging
from datetime import UTC, datetime

from celery import shared_task

from connections.workflows import runner
from connections.workflows.access import CLEANUP, CONNECT, PROVISION, REVOKE
from connections.workflows.service import CONFIGURE, PUBLISH, RETIRE

logger = logging.getLogger(__name__)


@shared_task(name=PUBLISH.task_name)
def publish_service(service_id: int, token: str, **progress) -> str:
    return runner.run(PUBLISH, service_id, token, **progress)


@shared_task(name=CONFIGURE.task_name)
def configure_service(service_id: int, token: str, **progress) -> str:
    return runner.run(CONFIGURE, service_id, token, **progress)


@shared_task(name=RETIRE.task_name)
def retire_service(service_id: int, token: str, **progress) -> str:
    return runner.run(RETIRE, service_id, token, **progress)


@shared_task(name=PROVISION.task_name)
def provision_request(request_id: int, token: str, **progress) -> str:
    return runner.run(PROVISION, request_id, token, **progress)


@shared_task(name=CONNECT.task_name)
def connect_request(request_id: int, token: str, **progress) -> str:
    return runner.run(CONNECT, request_id, token, **progress)


@shared_task(name=REVOKE.task_name)
def revoke_request(request_id: int, token: str, **progress) -> str:
    return runner.run(REVOKE, request_id, token, **progress)


@shared_task(name=CLEANUP.task_name)
def clean_up_request(request_id: int, token: str, **progress) -> str:
    return runner.run(CLEANUP, request_id, token, **progress)


@shared_task(name="connections.probe_connection")
def probe_connection(test_id: int) -> str:
    """A person's "Test connection" (queue `probes`): connect through the endpoint."""
    from connections.monitoring.probes import run_connection_test

    return run_connection_test(test_id)


# A sweep of thousands of connections takes a while; its lease outlasts it (sweep.LEASE_SECONDS).
@shared_task(name="connections.probe_sweep", soft_time_limit=540, time_limit=570)
def probe_sweep() -> dict:
    """The health sweep (queue `probes`; monitoring/sweep.py): health, drift, findings."""
    from connections.monitoring.sweep import sweep

    return sweep().as_dict()


@shared_task(name="connections.probe_history_compact")
def probe_history_compact() -> tuple[int, int]:
    """Fold health history older than a day into hourly points; drop it after 30 days."""
    from connections.monitoring.rules import compact_history

    return compact_history()


# A clean-up that needs more rounds (an orphan endpoint's zones go one at a time) comes back
# this often, this many times at most, then gives up saying so.
CLEAN_UP_ROUND_SECONDS = 5
CLEAN_UP_ROUNDS = 120


@shared_task(name="connections.probe_clean_up")
def probe_clean_up(finding_id: int, round_number: int = 0) -> str:
    """Remove what a finding names, if it is still the portal's (monitoring/findings.py)."""
    from connections.monitoring.findings import STILL_CLEANING, clean_up, give_up_cleaning

    outcome = clean_up(finding_id)
    if not outcome.startswith(STILL_CLEANING):
        return outcome
    if round_number >= CLEAN_UP_ROUNDS:
        return give_up_cleaning(finding_id, outcome)
    probe_clean_up.apply_async(
        args=(finding_id, round_number + 1), countdown=CLEAN_UP_ROUND_SECONDS
    )
    return outcome


@shared_task(name="connections.expire_requests")
def expire_requests() -> int:
    from connections.services import expire_due_requests

    return expire_due_requests()


@shared_task(name="connections.reconcile")
def reconcile(sent_at: float | None = None) -> int:
    """`sent_at`: when beat sent this message (portal/celery.py stamps it). Chains are judged
    as of then: a message sent before it has been received by now, one sent after has not."""
    from connections.workflows.reconcile import restart_stalled_chains

    now = datetime.fromtimestamp(sent_at, UTC) if sent_at else None
    return restart_stalled_chains(now=now)


@shared_task(name="connections.sync_inventories")
def sync_inventories() -> int:
    """Queue one inventory sync per cloud account."""
    from connections.models import CloudAccount

    accounts = list(CloudAccount.objects.values_list("pk", flat=True))
    for account_id in accounts:
        sync_inventory.delay(account_id)
    return len(accounts)


@shared_task(name="connections.sync_inventory")
def sync_inventory(account_id: int) -> str:
    from connections.cloud import CloudError
    from connections.inventory import sync_account
    from connections.models import CloudAccount

    account = CloudAccount.objects.filter(pk=account_id).first()
    if account is None:
        return "account gone"
    try:
        return str(sync_account(account))
    except CloudError as error:
        # The next scheduled sync tries again; the mirror keeps what it had.
        logger.warning("inventory sync of %s failed: %s", account, error)
        return f"failed: {error.code}"


@shared_task(name="connections.check_cloud_account")
def check_cloud_account(account_id: int) -> str:
    """An admin's "Check cloud access" (connections/cloud_check.py), kept on the account."""
    from django.utils import timezone

    from connections.cloud.operations import Role
    from connections.cloud_check import as_data, check
    from connections.models import CloudAccount

    account = CloudAccount.objects.filter(pk=account_id).first()
    if account is None:
        return "account gone"
    lines = check(account, set(Role))
    CloudAccount.objects.filter(pk=account_id).update(
        access_check=as_data(lines), access_checked_at=timezone.now()
    )
    return f"{sum(line.status != 'ok' for line in lines)} problem(s)"
