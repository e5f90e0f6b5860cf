"""Workflows under stress, end to end: verbs racing the worker, failures then retries, lost
messages, expiry, assumed roles, and credentials of the wrong account."""

import time
from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.utils import timezone
from kombu.exceptions import OperationalError
from rest_framework.test import APIClient

from connections import actions
from connections.choices import CredentialSource, RequestState, ServiceState
from connections.cloud import CloudNotFound, CloudSession, forget_sessions
from connections.models import AccessRequest, CloudAccount
from connections.workflows import runner
from connections.workflows.provision import PROVISION
from connections.workflows.reconcile import GRACE, restart_stalled_chains
from connections.workflows.runner import HOP_RUNNING_SECONDS
from portal.celery import app as celery_app
from tests.connections.conftest import http_get_through, wait_for_state, wait_until
from tests.connections.workflows.test_workflows import (
    GREETINGS,
    endpoint_exists,
    request_from,
    verbs,
)

pytestmark = pytest.mark.worker


def slow_down(cloudsim, action: str, milliseconds: int = 1500) -> None:
    cloudsim.control(
        "POST",
        "faults",
        {"kind": "latency", "action": action, "latency_ms": milliseconds, "count": 1},
    )


# A refusal no retry can help, for each action refused below: a code the operation's metadata
# documents (cloudsim checks every answer against it: cloudsim/contract.py).
REFUSALS = {
    "CreateServerGroup": ("QuotaExceeded.QuotaInsufficient", 400),
    "CreateListener": ("QuotaExceeded.QuotaInsufficient", 400),
    "DeleteListener": ("Forbidden.NoPermission", 403),
    "DeleteVpcEndpoint": ("OperationDenied.EndpointProtected", 400),
    "AddUserToVpcEndpointService": ("Mismatch.UserIdAndUserArn", 400),
}


def refuse_once(cloudsim, action: str) -> str:
    """The next call of `action` is refused for good; returns the code it is refused with."""
    code, status = REFUSALS[action]
    cloudsim.control(
        "POST",
        "faults",
        {
            "kind": "error",
            "action": action,
            "count": 1,
            "status": status,
            "code": code,
            "message": f"{action} refused.",
        },
    )
    return code


def calls(cloudsim, action: str) -> int:
    return cloudsim.stats()["calls"].get(action, 0)


def test_revoke_while_the_accept_is_in_flight_ends_revoked(world, seed_service):
    access_request = request_from(world, seed_service)
    wait_for_state(access_request, RequestState.PENDING_APPROVAL)
    slow_down(world.cloudsim, "EnableVpcEndpointConnection")

    actions.approve_request(world.provider, access_request)
    wait_until(lambda: calls(world.cloudsim, "ListVpcEndpointConnections") > 0, what="the accept")
    actions.revoke_request(world.consumer, access_request)

    wait_for_state(access_request, RequestState.REVOKED)
    assert not endpoint_exists(access_request)
    assert "connected" not in verbs(access_request)


def test_revoke_while_the_endpoint_is_being_created_leaves_nothing_behind(world, seed_service):
    slow_down(world.cloudsim, "CreateVpcEndpoint", 2000)
    access_request = request_from(world, seed_service)
    wait_for_state(access_request, RequestState.PROVISIONING)

    actions.revoke_request(world.consumer, access_request)

    wait_until(
        lambda: AccessRequest.objects.get(pk=access_request.pk).endpoint_deleted_at,
        what="the late endpoint deleted",
    )
    access_request.refresh_from_db()
    assert access_request.state == RequestState.REVOKED
    assert access_request.endpoint_id and not endpoint_exists(access_request)
    assert world.cloudsim.stats()["created"]["vpcendpoint"] == 1


def test_closing_the_last_partner_request_takes_its_account_off_the_whitelist(world, seed_service):
    provider_api = CloudSession(seed_service.account).privatelink
    partner_uid = world.accounts["B"].uid
    access_request = request_from(world, seed_service, user="partner", team="partners", vpc="VPC3")
    wait_for_state(access_request, RequestState.PENDING_APPROVAL)
    assert partner_uid in provider_api.list_users(seed_service.endpoint_service_id)

    actions.reject_request(world.provider, access_request, reason="Not for partners.")

    wait_until(
        lambda: "withdrew whitelisting" in verbs(access_request), what="the whitelist withdrawn"
    )
    assert partner_uid not in provider_api.list_users(seed_service.endpoint_service_id)


def test_a_failed_publish_is_retried_to_available_without_a_second_resource(world):
    code = refuse_once(world.cloudsim, "CreateListener")
    from connections import demo

    service = demo.publish_seed_service(world.provider)
    wait_for_state(service, ServiceState.FAILED)
    assert (service.last_error_code, service.failed_phase) == (code, "publish")
    assert service.last_error_message == "CreateListener refused."

    actions.retry_service(world.provider, service)
    wait_for_state(service, ServiceState.AVAILABLE)

    created = world.cloudsim.stats()["created"]
    assert (created["loadbalancer"], created["servergroup"], created["listener"]) == (1, 1, 1)
    assert (service.last_error_code, service.failed_phase) == ("", "")


def test_a_failed_retire_is_retried_to_retired(world, seed_service):
    refuse_once(world.cloudsim, "DeleteListener")

    actions.retire_service(world.provider, seed_service)
    wait_for_state(seed_service, ServiceState.FAILED)
    assert seed_service.failed_phase == "retire"

    actions.retry_service(world.provider, seed_service)
    wait_for_state(seed_service, ServiceState.RETIRED)
    with pytest.raises(CloudNotFound):
        CloudSession(seed_service.account).nlb.get_load_balancer(seed_service.nlb_id)


def test_a_failed_clean_up_after_reject_is_retried(world, seed_service):
    access_request = request_from(world, seed_service)
    wait_for_state(access_request, RequestState.PENDING_APPROVAL)
    code = refuse_once(world.cloudsim, "DeleteVpcEndpoint")

    actions.reject_request(world.provider, access_request, reason="Not now.")
    wait_until(lambda: "cleanup failed" in verbs(access_request), what="the clean-up failure")
    access_request.refresh_from_db()
    assert access_request.state == RequestState.REJECTED
    assert access_request.last_error_code == code
    assert endpoint_exists(access_request)

    actions.retry_request(world.consumer, access_request)
    wait_until(
        lambda: AccessRequest.objects.get(pk=access_request.pk).endpoint_deleted_at, what="deletion"
    )
    assert not endpoint_exists(access_request)


def test_an_expired_request_is_revoked_end_to_end(world, seed_service):
    seed_service.trusted_teams.add(world.team("apps"))
    access_request = request_from(world, seed_service)
    wait_for_state(access_request, RequestState.CONNECTED)
    AccessRequest.objects.filter(pk=access_request.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert actions.expire_due_requests() == 1

    wait_for_state(access_request, RequestState.REVOKED)
    assert not endpoint_exists(access_request)
    assert access_request.events.get(verb="expired").actor is None


def test_an_account_reached_through_a_ram_role_runs_the_whole_flow(world, seed_service):
    partner_account = world.accounts["B"]
    partner_account.credential_source = CredentialSource.RAM_ROLE
    partner_account.role_arn = "acs:ram::2222222222222222:role/portal-provisioner"
    partner_account.assume_from = world.accounts["A"]
    partner_account.access_key_id = ""
    partner_account.access_key_secret = ""
    partner_account.save()

    access_request = request_from(world, seed_service, user="partner", team="partners", vpc="VPC3")
    wait_for_state(access_request, RequestState.PENDING_APPROVAL)
    actions.approve_request(world.provider, access_request)
    wait_for_state(access_request, RequestState.CONNECTED)

    assert http_get_through(world.cloudsim, access_request.endpoint_domain) in GREETINGS
    assert calls(world.cloudsim, "AssumeRole") >= 1


def test_a_request_whose_message_was_lost_is_resumed_once_it_is_past_due(world, seed_service):
    with mock.patch.object(celery_app, "send_task", side_effect=ConnectionError("broker down")):
        access_request = request_from(world, seed_service)
    access_request.refresh_from_db()
    due = access_request.task_due_at
    assert access_request.state == RequestState.SUBMITTED
    assert due is not None

    # Not before GRACE has passed: its message may still be on its way.
    assert restart_stalled_chains(now=due + GRACE - timedelta(seconds=1)) == 0
    assert restart_stalled_chains(now=due + GRACE + timedelta(seconds=1)) == 1

    wait_for_state(access_request, RequestState.PENDING_APPROVAL)
    assert "restarted" in verbs(access_request)


def test_the_reconciler_runs_often_enough_to_resume_a_lost_chain_within_a_minute():
    """The worst case: a worker killed while running a hop (bench/soak.py measures it)."""
    every = settings.CELERY_BEAT_SCHEDULE["reconcile"]["schedule"]
    worst = HOP_RUNNING_SECONDS + GRACE.total_seconds() + every
    assert worst <= 45  # leaving a new worker 15 s to start


def test_a_request_posted_while_the_broker_is_away_is_accepted_and_provisioned_once_it_is_back(
    world, seed_service
):
    client = APIClient()
    client.force_authenticate(world.consumer)
    body = {
        "service": seed_service.pk,
        "vpc_id": world.vpc("VPC1").vpc_id,
        "security_group_ids": [g.security_group_id for g in world.security_groups("VPC1")],
        "zones": [
            {"zone_id": zone.zone_id, "vswitch_id": zone.vswitch.vswitch_id}
            for zone in world.zones("VPC1", "g", "k")
        ],
        "justification": "posted while the broker restarts",
    }
    with mock.patch.object(celery_app, "send_task", side_effect=OperationalError("broker away")):
        answer = client.post("/api/v1/access-requests/", body, format="json")

    assert answer.status_code == 201, answer.content
    access_request = AccessRequest.objects.get(pk=answer.json()["id"])
    assert access_request.state == RequestState.SUBMITTED
    # The broker is back; beat's next reconcile finds the chain past due.
    assert restart_stalled_chains(now=access_request.task_due_at + GRACE * 2) == 1
    wait_for_state(access_request, RequestState.PENDING_APPROVAL)


def test_teardown_with_another_accounts_credentials_deletes_nothing(world, seed_service):
    access_request = request_from(world, seed_service)
    wait_for_state(access_request, RequestState.PENDING_APPROVAL)
    consumer_account = CloudAccount.objects.get(pk=world.accounts["A"].pk)
    consumer_account.access_key_id, consumer_account.access_key_secret = (
        "demo-b-key",
        "demo-b-secret",
    )
    consumer_account.save()
    forget_sessions()

    actions.revoke_request(world.consumer, access_request)
    wait_for_state(access_request, RequestState.FAILED)

    assert access_request.last_error_code == "AccountMismatch"
    consumer_account.access_key_id, consumer_account.access_key_secret = (
        "demo-a-key",
        "demo-a-secret",
    )
    consumer_account.save()
    assert endpoint_exists(access_request)
    actions.retry_request(world.consumer, access_request)
    wait_for_state(access_request, RequestState.REVOKED)
    assert not endpoint_exists(access_request)


def test_a_secret_never_reaches_events_errors_or_logs(world, seed_service):
    secret = "wrong-secret-4f1c9e"
    consumer_account = CloudAccount.objects.get(pk=world.accounts["A"].pk)
    consumer_account.access_key_secret = secret
    consumer_account.save()
    forget_sessions()

    access_request = request_from(world, seed_service)
    wait_for_state(access_request, RequestState.FAILED)

    assert access_request.last_error_code == "SignatureDoesNotMatch"
    texts = [
        access_request.last_error_message,
        world.worker.log(),
        world.cloudsim.log_path.read_text(),
    ]
    texts += [f"{e.detail} {e.cloud_request_id}" for e in access_request.events.all()]
    assert not [text for text in texts if secret in text]
    assert "demo-a-secret" not in world.worker.log()


def test_teardown_finds_by_tag_what_was_made_but_never_recorded(world):
    from connections import demo
    from connections.models import PublishedService

    refuse_once(world.cloudsim, "CreateServerGroup")
    service = demo.publish_seed_service(world.provider)
    wait_for_state(service, ServiceState.FAILED)
    nlb_id = service.nlb_id
    # As if CreateLoadBalancer's answer had been lost: the cloud made it, the portal never knew.
    PublishedService.objects.filter(pk=service.pk).update(nlb_id="")

    actions.retire_service(world.provider, service)
    wait_for_state(service, ServiceState.RETIRED)

    assert service.nlb_id == nlb_id
    assert "found load balancer" in verbs(service)
    with pytest.raises(CloudNotFound):
        CloudSession(service.account).nlb.get_load_balancer(nlb_id)


def test_retryable_errors_fail_a_request_after_a_time_in_a_row_not_a_count(world, seed_service):
    """Run in this process, one hop at a time, the worker kept out of it (its messages are not
    sent): a long run of failing calls retries; the same past TRANSIENT_ERRORS_FOR fails. A
    throttled call is not such an error: it waits its turn however long the run."""
    with mock.patch.object(celery_app, "send_task"):
        access_request = request_from(world, seed_service)
        unavailable = {"kind": "unavailable", "count": 1}
        world.cloudsim.control("POST", "faults", unavailable)
        outcome = runner.run(
            PROVISION, access_request.pk, access_request.task_token,
            errors=50, erring_since=time.time() - 60,
        )  # fmt: skip
        assert outcome.startswith("retry "), outcome
        access_request.refresh_from_db()
        assert access_request.state == RequestState.PROVISIONING

        long_ago = time.time() - runner.TRANSIENT_ERRORS_FOR_SECONDS - 1
        world.cloudsim.control("POST", "faults", {"kind": "throttle", "count": 1})
        outcome = runner.run(
            PROVISION, access_request.pk, access_request.task_token, hop=1,
            errors=51, erring_since=long_ago,
        )  # fmt: skip
        assert outcome.startswith("wait create_endpoint: Throttling.User"), outcome
        access_request.refresh_from_db()
        assert access_request.state == RequestState.PROVISIONING

        world.cloudsim.control("POST", "faults", unavailable)
        outcome = runner.run(
            PROVISION, access_request.pk, access_request.task_token, hop=2,
            errors=51, erring_since=long_ago,
        )  # fmt: skip

    assert outcome == "failed"
    access_request.refresh_from_db()
    assert access_request.state == RequestState.FAILED
    assert access_request.last_error_code == "ServiceUnavailable"
    assert "over 10 minutes" in access_request.last_error_message
