"""The workers' safety rules, end to end through the real worker, the SDKs and cloudsim: credentials
of the wrong account change nothing, another portal's resources are never adopted, a message that
kills its worker ends as a recorded failure, and whitelisting waits for a withdrawal in flight.

(That no cloud call is made inside a database transaction is checked after every test that uses
the `world` fixture: see tests/connections/conftest.py.)"""

import shutil
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from connections import actions
from connections.choices import INSTALLATION_TAG_KEY, REQUEST_TAG_KEY, RequestState
from connections.cloud import CloudAccountMismatch, CloudNotFound, CloudSession
from connections.inventory import sync_account
from connections.models import AccessRequest, CloudAccount, Vpc
from connections.workflows.runner import MAX_DELIVERIES
from portal.celery import app as celery_app
from tests.conftest import CRASH_ON_DIR
from tests.connections.conftest import wait_for_state, wait_until
from tests.connections.workflows.test_recovery import refuse_once
from tests.connections.workflows.test_workflows import endpoint_exists, request_from, verbs

pytestmark = pytest.mark.worker


def vpc_homes() -> dict[str, tuple]:
    return {vpc.vpc_id: (vpc.account_id, vpc.team_id, vpc.present) for vpc in Vpc.objects.all()}


def test_an_inventory_sync_with_another_accounts_keys_changes_nothing(world):
    account_a = CloudAccount.objects.get(pk=world.accounts["A"].pk)
    account_a.access_key_id, account_a.access_key_secret = "demo-b-key", "demo-b-secret"
    account_a.save()
    before = vpc_homes()

    celery_app.send_task("connections.sync_inventory", args=(account_a.pk,))

    wait_until(
        lambda: (
            "inventory sync of Account A" in world.worker.log()
            and "AccountMismatch" in world.worker.log()
        ),
        what="the worker's refusal",
    )
    # Without the check, VPC3 (account B's) would now be account A's, and VPC1 and VPC2 gone.
    assert vpc_homes() == before
    with pytest.raises(CloudAccountMismatch):
        sync_account(account_a)
    assert vpc_homes() == before


def create_tagged_endpoint(world, service, installation: str, uuid_hex: str) -> str:
    """An endpoint in VPC1 as a portal would make it for a request with this uuid."""
    vpc1 = world.vpc("VPC1")
    api = CloudSession(vpc1.account).privatelink
    result = api.create_endpoint(
        name="made-elsewhere",
        vpc_id=vpc1.vpc_id,
        service_id=service.endpoint_service_id,
        security_group_ids=[group.security_group_id for group in world.security_groups("VPC1")],
        zones=[(zone.zone_id, zone.vswitch.vswitch_id) for zone in world.zones("VPC1", "g")],
        tags=[
            {"Key": "managed-by", "Value": "privatelink-portal"},
            {"Key": INSTALLATION_TAG_KEY, "Value": installation},
            {"Key": REQUEST_TAG_KEY, "Value": uuid_hex},
        ],
        client_token=f"elsewhere-{installation}",
    )
    return result["EndpointId"]


def test_teardown_never_adopts_another_portals_endpoint(world, seed_service):
    access_request = request_from(world, seed_service)
    wait_for_state(access_request, RequestState.PENDING_APPROVAL)
    ours = access_request.endpoint_id
    # Another portal sharing the account, started on a copy of this database: the same uuid.
    foreign = create_tagged_endpoint(world, seed_service, "another-portal", access_request.uuid.hex)
    # As if CreateVpcEndpoint's answer had been lost: only the tags can find our endpoint.
    AccessRequest.objects.filter(pk=access_request.pk).update(endpoint_id="", endpoint_domain="")

    actions.revoke_request(world.consumer, access_request)
    wait_for_state(access_request, RequestState.REVOKED)

    assert access_request.endpoint_id == ours
    assert access_request.events.get(verb="found endpoint").detail == f"{ours} by its tag"
    with pytest.raises(CloudNotFound):
        CloudSession(world.vpc("VPC1").account).privatelink.get_endpoint(ours)
    assert CloudSession(world.vpc("VPC1").account).privatelink.get_endpoint(foreign)
    assert settings.PORTAL_INSTALLATION_ID != "another-portal"


@pytest.fixture
def crash_on():
    """Make the worker die before every call of the actions named (tests/chaos.py)."""
    shutil.rmtree(CRASH_ON_DIR, ignore_errors=True)
    CRASH_ON_DIR.mkdir(parents=True)

    def crash(action: str, on: bool = True) -> None:
        marker = CRASH_ON_DIR / action
        if on:
            marker.touch()
        else:
            marker.unlink()

    yield crash
    shutil.rmtree(CRASH_ON_DIR, ignore_errors=True)


@pytest.mark.timeout(300)
def test_a_step_that_always_kills_its_worker_fails_after_a_bounded_number_of_deliveries(
    world, seed_service, crash_on
):
    crash_on("CreateVpcEndpoint")
    access_request = request_from(world, seed_service)

    wait_for_state(access_request, RequestState.FAILED, timeout=240)

    assert access_request.last_error_code == "WorkerLost"
    assert access_request.last_error_message == (
        f"The worker running step create_endpoint stopped {MAX_DELIVERIES} times; "
        "the worker log has details."
    )
    assert access_request.failed_phase == "provision"
    # The worker is still there, and a retry goes on once the step no longer crashes.
    crash_on("CreateVpcEndpoint", on=False)
    actions.retry_request(world.consumer, access_request)
    wait_for_state(access_request, RequestState.PENDING_APPROVAL)
    assert (access_request.last_error_code, access_request.task_deliveries) == ("", 1)


def test_whitelisting_waits_while_the_account_is_being_taken_off(world, seed_service):
    closing = request_from(world, seed_service, user="partner", team="partners", vpc="VPC3")
    wait_for_state(closing, RequestState.PENDING_APPROVAL)
    actions.reject_request(world.provider, closing, reason="Not this one.")
    wait_until(lambda: "withdrew whitelisting" in verbs(closing), what="the withdrawal")
    # A withdrawal in flight (its worker between the decision and RemoveUser…):
    AccessRequest.objects.filter(pk=closing.pk).update(
        withdrawing_whitelist_until=timezone.now() + timedelta(minutes=5)
    )

    waiting = request_from(world, seed_service, user="partner", team="partners", vpc="VPC3")
    wait_until(
        lambda: AccessRequest.objects.get(pk=waiting.pk).task_hop >= 2,
        what="the new request waiting",
    )
    waiting.refresh_from_db()
    assert (waiting.state, waiting.endpoint_id) == (RequestState.PROVISIONING, "")
    assert "whitelisted account" not in verbs(waiting)

    # …until it is done: then the account is whitelisted again and the endpoint made.
    AccessRequest.objects.filter(pk=closing.pk).update(withdrawing_whitelist_until=None)
    wait_for_state(waiting, RequestState.PENDING_APPROVAL)
    assert "whitelisted account" in verbs(waiting)
    assert endpoint_exists(waiting)


def test_a_retry_checks_the_credentials_account_again(world, seed_service):
    access_request = request_from(world, seed_service)
    wait_for_state(access_request, RequestState.PENDING_APPROVAL)
    refuse_once(world.cloudsim, "DeleteVpcEndpoint")
    actions.revoke_request(world.consumer, access_request)
    wait_for_state(access_request, RequestState.FAILED)
    assert access_request.progress == "untracked_endpoint_found"  # past the account check
    # Someone pastes account B's keys into account A meanwhile: nothing may be "deleted" now.
    account_a = CloudAccount.objects.get(pk=world.accounts["A"].pk)
    account_a.access_key_id, account_a.access_key_secret = "demo-b-key", "demo-b-secret"
    account_a.save()

    actions.retry_request(world.consumer, access_request)

    wait_for_state(access_request, RequestState.FAILED)
    assert access_request.last_error_code == "AccountMismatch"
    assert endpoint_exists_with(world.accounts["A"], access_request.endpoint_id)


def endpoint_exists_with(account, endpoint_id: str) -> bool:
    """Whether the endpoint exists, asked with the account's scenario keys (not the stored ones)."""
    checker = CloudAccount(name="checker", uid=account.uid, access_key_id="demo-a-key")
    checker.access_key_secret = "demo-a-secret"
    try:
        CloudSession(checker).privatelink.get_endpoint(endpoint_id)
    except CloudNotFound:
        return False
    return True


def test_the_requesting_team_sees_only_the_code_of_a_failure_on_the_services_side(
    world, seed_service
):
    code = refuse_once(world.cloudsim, "AddUserToVpcEndpointService")
    access_request = request_from(world, seed_service, user="partner", team="partners", vpc="VPC3")

    wait_for_state(access_request, RequestState.FAILED)

    assert access_request.last_error_code == code
    assert "AddUserToVpcEndpointService refused" not in access_request.last_error_message
    assert "its owners see the details" in access_request.last_error_message
    told_owners = seed_service.events.get(verb="request failed").detail
    assert told_owners == (
        f"request {access_request.pk}, whitelist_consumer_account: {code}: "
        "AddUserToVpcEndpointService refused."
    )
