"""Celery tasks: thin, named entry points into the workflows (queue `provisioning`), the probes
and the periodic jobs beat runs. Each takes ids, never model instances. Every name is routed to
its queue explicitly (portal/celery.py, `task_routes`; tests/connections/test_tasks.py holds
the two together)."""

import logging
from datetime import UTC, datetime

from celery import shared_task

from connections.workflows import runner
from connections.workflows.provision import CONNECT, PROVISION
from connections.workflows.retire import RETIRE
from connections.workflows.service import CONFIGURE, PUBLISH
from connections.workflows.teardown import CLEANUP, REVOKE

logger = logging.getLogger(__name__)


def task(name: str, *, former: str = "", **options):
    """A task named `name` and, for one release, also `former`: the name it had until 2026-12
    (README, "Upgrading"). Messages the previous release queued, and a beat still running it, use
    the former name; it runs the same function, on the same queue (portal/celery.py)."""

    def register(function):
        if former:
            shared_task(name=former, **options)(function)
        return shared_task(name=name, **options)(function)

    return register


def _workflow_task(workflow):
    """The task that runs one hop of `workflow`'s chain (its name: `Workflow.task_name`)."""

    def run_hop(record_id: int, token: str, **progress) -> str:
        return runner.run(workflow, record_id, token, **progress)

    run_hop.__name__ = run_hop.__qualname__ = f"run_{workflow.name}"
    return task(workflow.task_name, former=workflow.former_task_name)(run_hop)


run_publish = _workflow_task(PUBLISH)
run_configure = _workflow_task(CONFIGURE)
run_retire = _workflow_task(RETIRE)
run_provision = _workflow_task(PROVISION)
run_connect = _workflow_task(CONNECT)
run_revoke = _workflow_task(REVOKE)
run_cleanup = _workflow_task(CLEANUP)


@task("connections.test_connection", former="connections.probe_connection")
def test_connection(test_id: int) -> str:
    """A person's "Test connection" (queue `probes`): connect through the endpoint."""
    from connections.monitoring.probes import run_connection_test

    return run_connection_test(test_id)


# A sweep of thousands of connections takes a while; its lease outlasts it (sweep.LEASE_SECONDS).
@task(
    "connections.sweep_health",
    former="connections.probe_sweep",
    soft_time_limit=540,
    time_limit=570,
)
def sweep_health() -> dict:
    """The health sweep (queue `probes`; monitoring/sweep.py): health, drift, findings."""
    from connections.monitoring.sweep import sweep

    return sweep().as_dict()


@task("connections.compact_health_history", former="connections.probe_history_compact")
def compact_health_history() -> tuple[int, int]:
    """Fold health history older than a day into hourly points; drop it after 30 days."""
    from connections.monitoring.rules import compact_history

    return compact_history()


# A clean-up that needs more rounds (an orphan endpoint's zones go one at a time) comes back
# this often, this many times at most, then gives up saying so.
CLEAN_UP_ROUND_SECONDS = 5
CLEAN_UP_ROUNDS = 120


@task("connections.clean_up_finding", former="connections.probe_clean_up")
def clean_up_finding(finding_id: int, round_number: int = 0) -> str:
    """Remove what a finding names, if it is still the portal's (monitoring/findings.py)."""
    from connections.monitoring.findings import STILL_CLEANING, clean_up, give_up_cleaning

    outcome = clean_up(finding_id)
    if not outcome.startswith(STILL_CLEANING):
        return outcome
    if round_number >= CLEAN_UP_ROUNDS:
        return give_up_cleaning(finding_id, outcome)
    clean_up_finding.apply_async(
        args=(finding_id, round_number + 1), countdown=CLEAN_UP_ROUND_SECONDS
    )
    return outcome


@task("connections.expire_requests")
def expire_requests() -> int:
    from connections.actions import expire_due_requests

    return expire_due_requests()


@task("connections.reconcile")
def reconcile(sent_at: float | None = None) -> int:
    """`sent_at`: when beat sent this message (portal/celery.py stamps it). Chains are judged
    as of then: a message sent before it has been received by now, one sent after has not."""
    from connections.workflows.reconcile import restart_stalled_chains

    now = datetime.fromtimestamp(sent_at, UTC) if sent_at else None
    return restart_stalled_chains(now=now)


@task("connections.sync_inventories")
def sync_inventories() -> int:
    """Queue one inventory sync per cloud account."""
    from connections.models import CloudAccount

    accounts = list(CloudAccount.objects.values_list("pk", flat=True))
    for account_id in accounts:
        sync_inventory.delay(account_id)
    return len(accounts)


@task("connections.sync_inventory")
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


@task("connections.check_cloud_account")
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
