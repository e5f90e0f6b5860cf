"""Celery tasks: thin, named entry points into the workflows (queue `provisioning`) and the
inventory sync (queue `probes`). Each takes ids, never model instances."""

from celery import shared_task

from connections.workflows import runner
from connections.workflows.access import CLEANUP, CONNECT, PROVISION, REVOKE
from connections.workflows.service import PUBLISH, RETIRE


@shared_task(name="connections.publish_service")
def publish_service(service_id: int, token: str, **progress) -> str:
    return runner.run(PUBLISH, service_id, token, **progress)


@shared_task(name="connections.retire_service")
def retire_service(service_id: int, token: str, **progress) -> str:
    return runner.run(RETIRE, service_id, token, **progress)


@shared_task(name="connections.provision_request")
def provision_request(request_id: int, token: str, **progress) -> str:
    return runner.run(PROVISION, request_id, token, **progress)


@shared_task(name="connections.connect_request")
def connect_request(request_id: int, token: str, **progress) -> str:
    return runner.run(CONNECT, request_id, token, **progress)


@shared_task(name="connections.revoke_request")
def revoke_request(request_id: int, token: str, **progress) -> str:
    return runner.run(REVOKE, request_id, token, **progress)


@shared_task(name="connections.clean_up_request")
def clean_up_request(request_id: int, token: str, **progress) -> str:
    return runner.run(CLEANUP, request_id, token, **progress)


@shared_task(name="connections.expire_requests")
def expire_requests() -> int:
    from connections.services import expire_due_requests

    return expire_due_requests()


@shared_task(name="connections.sync_inventory")
def sync_inventory(account_id: int) -> str:
    from connections.inventory import sync_account
    from connections.models import CloudAccount

    account = CloudAccount.objects.filter(pk=account_id).first()
    if account is None:
        return "account gone"
    return str(sync_account(account))
