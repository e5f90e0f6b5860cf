"""What the health sweep finds that no live record accounts for (monitoring/findings.py): an
orphan endpoint, a connection made in the console, a whitelisting left behind; who sees them, and
the clean-up of what is the portal's own, through the real worker and cloudsim."""

import uuid

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied

from connections import actions
from connections.choices import (
    INSTALLATION_TAG_KEY,
    MANAGED_BY_TAG,
    REQUEST_TAG_KEY,
    RequestState,
)
from connections.cloud import CloudSession
from connections.models import Finding
from connections.states import InvalidTransition
from tests.connections.conftest import wait_for_state, wait_until
from tests.connections.monitoring.test_sweep import sweep_through_worker
from tests.connections.workflows.test_workflows import request_from, verbs

pytestmark = pytest.mark.worker


def endpoint_to(world, service, *, tags: list[dict]) -> str:
    """An endpoint made straight in the cloud, as someone at the console would."""
    vpc = world.vpc("VPC1")
    zones = world.zones("VPC1", "g")
    api = CloudSession(vpc.account).privatelink
    result = api.create_endpoint(
        name="made-outside",
        vpc_id=vpc.vpc_id,
        service_id=service.endpoint_service_id,
        security_group_ids=[group.security_group_id for group in world.security_groups("VPC1")],
        zones=[(zone.zone_id, zone.vswitch.vswitch_id) for zone in zones],
        tags=tags,
        client_token=uuid.uuid4().hex,
    )
    return result["EndpointId"]


def orphan_tags() -> list[dict]:
    """This portal's tags, naming a request it does not have."""
    tags = {
        MANAGED_BY_TAG[0]: MANAGED_BY_TAG[1],
        INSTALLATION_TAG_KEY: settings.PORTAL_INSTALLATION_ID,
        REQUEST_TAG_KEY: uuid.uuid4().hex,
    }
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def test_an_orphan_and_an_unmanaged_connection_are_reported_and_only_the_orphan_is_cleaned_up(
    world, seed_service
):
    orphan_id = endpoint_to(world, seed_service, tags=orphan_tags())
    console_id = endpoint_to(world, seed_service, tags=[])

    sweep_through_worker()

    found = {f.kind: f for f in Finding.objects.open()}
    assert set(found) == {Finding.Kind.ORPHAN_ENDPOINT, Finding.Kind.UNMANAGED_CONNECTION}
    orphan, unmanaged = (
        found[Finding.Kind.ORPHAN_ENDPOINT],
        found[Finding.Kind.UNMANAGED_CONNECTION],
    )
    assert (orphan.resource_id, unmanaged.resource_id) == (orphan_id, console_id)
    assert orphan.service == unmanaged.service == seed_service
    assert orphan.cleanable and not unmanaged.cleanable
    # The service's owners see them; the consumer does not.
    assert set(Finding.objects.visible_to(world.provider)) == {orphan, unmanaged}
    assert not Finding.objects.visible_to(world.consumer).exists()
    with pytest.raises(InvalidTransition):
        actions.clean_up_finding(world.provider, unmanaged)

    actions.clean_up_finding(world.provider, orphan)

    wait_until(lambda: Finding.objects.get(pk=orphan.pk).resolved_at, what="the orphan's clean-up")
    api = CloudSession(world.vpc("VPC1").account).privatelink
    gone = api.find_endpoint(orphan_id)
    assert gone is None or gone["EndpointStatus"] == "Deleting"
    assert api.find_endpoint(console_id)["EndpointStatus"] != "Deleting"
    assert "orphan endpoint deleted" in verbs(seed_service)

    sweep_through_worker()
    assert list(Finding.objects.open()) == [unmanaged]


def test_a_whitelisting_left_behind_is_reported_and_only_the_portals_own_is_withdrawn(
    world, seed_service
):
    provider_api = CloudSession(seed_service.account).privatelink
    partner_uid = world.accounts["B"].uid
    partner = request_from(world, seed_service, user="partner", team="partners", vpc="VPC3")
    wait_for_state(partner, RequestState.PENDING_APPROVAL)
    # The revoke cannot take the account off the whitelist: it ends failed, the entry stays.
    world.cloudsim.control(
        "POST",
        "faults",
        {"kind": "error", "action": "RemoveUserFromVpcEndpointService", "count": 1,
         "code": "Forbidden.RAM", "status": 403, "message": "not allowed"},
    )  # fmt: skip
    actions.revoke_request(world.partner, partner)
    wait_for_state(partner, RequestState.FAILED)
    # And someone whitelisted another account at the console.
    provider_api.add_user(seed_service.endpoint_service_id, "1999999999999999", client_token="x")

    sweep_through_worker()

    stale = {f.resource_id: f for f in Finding.objects.open()}
    ours = stale[f"{seed_service.pk}:{partner_uid}"]
    theirs = stale[f"{seed_service.pk}:1999999999999999"]
    assert ours.kind == theirs.kind == Finding.Kind.STALE_WHITELIST
    assert ours.cleanable and not theirs.cleanable
    with pytest.raises(InvalidTransition):
        actions.clean_up_finding(world.provider, theirs)
    with pytest.raises(PermissionDenied):
        actions.clean_up_finding(world.partner, ours)

    actions.clean_up_finding(world.provider, ours)

    wait_until(lambda: Finding.objects.get(pk=ours.pk).resolved_at, what="the clean-up")
    assert set(provider_api.list_users(seed_service.endpoint_service_id)) == {"1999999999999999"}
    assert "withdrew stale whitelisting" in verbs(seed_service)
