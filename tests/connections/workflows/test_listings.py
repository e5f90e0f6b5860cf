"""Reads after a wait share the account's listing (connections/workflows/listings.py), for every
kind a workflow waits on, against cloudsim through the SDKs: many records waiting in one account
cost one list call, not a read each."""

import time
from collections import Counter
from types import SimpleNamespace

import pytest

from connections import demo
from connections.cloud import CloudNotFound, CloudSession, forget_sessions
from connections.workflows import access, listings

pytestmark = pytest.mark.django_db

WAITING = 5
ZONES = ["cn-hangzhou-g", "cn-hangzhou-k"]


@pytest.fixture
def account(cloudsim):
    cloudsim.reset()
    forget_sessions()
    account = demo.create_accounts()["A"]
    demo.sync_inventory(account)
    return account


def made_load_balancers(cloud: CloudSession, account) -> list[str]:
    vpc = account.vpcs.get(name="VPC2")
    zones = [(z.zone_id, z.vswitch_id) for z in vpc.vswitches.filter(zone_id__in=ZONES)]
    return [
        cloud.nlb.create_load_balancer(
            name=f"board-{n}", vpc_id=vpc.vpc_id, zones=zones, tags=[], client_token=f"lb-{n}"
        )["LoadbalancerId"]
        for n in range(WAITING)
    ]


def made_endpoint_services(cloud: CloudSession, nlb_ids: list[str]) -> list[str]:
    return [
        cloud.privatelink.create_endpoint_service(
            nlb_id=nlb_id, zones=ZONES, auto_accept=False, description="",
            tags=[], client_token=f"eps-{n}",
        )["ServiceId"]
        for n, nlb_id in enumerate(nlb_ids)
    ]  # fmt: skip


def made_listeners(cloud: CloudSession, account, nlb_ids: list[str]) -> list[str]:
    vpc_id = account.vpcs.get(name="VPC2").vpc_id
    listeners = []
    for n, nlb_id in enumerate(nlb_ids):
        group = cloud.nlb.create_server_group(
            name=f"board-{n}", vpc_id=vpc_id, protocol="TCP", tags=[], client_token=f"sgp-{n}"
        )["ServerGroupId"]
        listeners.append(
            cloud.nlb.create_listener(
                nlb_id=nlb_id, server_group_id=group, protocol="TCP", port=80, tags=[],
                client_token=f"lsn-{n}",
            )["ListenerId"]
        )  # fmt: skip
    return listeners


MADE = {
    "load-balancers": lambda cloud, account, nlb_ids: nlb_ids,
    "listeners": made_listeners,
    "endpoint-services": lambda cloud, account, nlb_ids: made_endpoint_services(cloud, nlb_ids),
}


def calls(cloudsim) -> Counter:
    return Counter(cloudsim.stats()["calls"])


@pytest.mark.parametrize(
    ("kind", "status_field", "get_action", "list_action"),
    [
        (listings.LOAD_BALANCERS, "LoadBalancerStatus", "GetLoadBalancerAttribute",
         "ListLoadBalancers"),
        (listings.LISTENERS, "ListenerStatus", "GetListenerAttribute", "ListListeners"),
        (listings.ENDPOINT_SERVICES, "ServiceStatus", "GetVpcEndpointServiceAttribute",
         "ListVpcEndpointServices"),
    ],
)  # fmt: skip
def test_records_waiting_in_one_account_are_read_from_one_listing(
    cloudsim, account, kind, status_field, get_action, list_action
):
    cloud = CloudSession(account)
    nlb_ids = made_load_balancers(cloud, account)
    ids = MADE[kind.name](cloud, account, nlb_ids)
    before = calls(cloudsim)

    # Each record has read its resource once and waited since: a listing taken now will do.
    asked_from = time.time()
    waited = SimpleNamespace(cloud=cloud, read_since=asked_from, expected_at=None)
    statuses, seen = [], set()
    for resource_id in ids:
        statuses.append(listings.read(waited, kind, resource_id)[status_field])
        seen.add(waited.seen_at)
    # Each answer is true as of the one listing, taken at the first read: what a wait is
    # timed by, not when each step read it.
    [listed_at] = seen
    assert asked_from < listed_at < time.time()

    made = calls(cloudsim) - before
    assert statuses == [("Running" if kind is listings.LISTENERS else "Active")] * WAITING
    assert (made[list_action], made[get_action]) == (1, 0)

    # A read that must be newer than that listing lists again: after the step's last read, or
    # after its operation is typically done (the listing would most likely show it under way).
    # One that has not waited reads its own resource (the portal knows nothing newer than its
    # own last call).
    again = SimpleNamespace(cloud=cloud, read_since=time.time(), expected_at=None)
    listings.read(again, kind, ids[0])
    due_later = SimpleNamespace(cloud=cloud, read_since=asked_from, expected_at=time.time())
    listings.read(due_later, kind, ids[0])
    assert due_later.seen_at > again.seen_at
    first = SimpleNamespace(cloud=cloud, read_since=None, expected_at=None)
    listings.read(first, kind, ids[0])
    assert first.seen_at is None  # its own read: true now
    made = calls(cloudsim) - before
    assert (made[list_action], made[get_action]) == (3, 1)


def test_a_resource_the_listing_does_not_hold_is_read_on_its_own_and_not_found(cloudsim, account):
    cloud = CloudSession(account)
    waited = SimpleNamespace(cloud=cloud, read_since=time.time(), expected_at=None)

    with pytest.raises(CloudNotFound):
        listings.read(waited, listings.LOAD_BALANCERS, "nlb-gone0000000000000")

    made = calls(cloudsim)
    assert (made["ListLoadBalancers"], made["GetLoadBalancerAttribute"]) == (1, 1)


def test_endpoints_are_read_from_a_listing_of_those_still_in_the_status_waited_on(
    cloudsim, account
):
    """An account's endpoints are as many as its requests, and PrivateLink lists 50 a page: a
    step waiting for its endpoint to be made reads a listing of only the endpoints still
    Creating, and reads its own once it is no longer among them."""
    cloud = CloudSession(account)
    [service_id] = made_endpoint_services(cloud, made_load_balancers(cloud, account)[:1])
    vpc = account.vpcs.get(name="VPC1")
    zones = [(z.zone_id, z.vswitch_id) for z in vpc.vswitches.filter(zone_id__in=ZONES)]
    groups = [g.security_group_id for g in vpc.security_groups.all()]

    def endpoint(n: int) -> str:
        return cloud.privatelink.create_endpoint(
            name=f"board-{n}", vpc_id=vpc.vpc_id, service_id=service_id,
            security_group_ids=groups, zones=zones, tags=[], client_token=f"ep-{n}",
        )["EndpointId"]  # fmt: skip

    made_already = endpoint(0)  # made at once (no delays): Active
    cloudsim.control("POST", "delays", {"delays": {"CreateVpcEndpoint": 600}})
    being_made = [endpoint(n) for n in range(1, WAITING + 1)]
    cloudsim.control("POST", "clock", {"advance": 1})  # past the read-after-create lag
    before = calls(cloudsim)

    waited = SimpleNamespace(cloud=cloud, read_since=time.time(), expected_at=None)
    statuses = [
        listings.read(waited, listings.ENDPOINTS, e, still=access.CREATING)["EndpointStatus"]
        for e in being_made
    ]
    assert statuses == ["Creating"] * WAITING
    made = calls(cloudsim) - before
    assert (made["ListVpcEndpoints"], made["GetVpcEndpointAttribute"]) == (1, 0)
    # Not in that listing (it is not Creating): read on its own.
    done = listings.read(waited, listings.ENDPOINTS, made_already, still=access.CREATING)
    assert done["EndpointStatus"] == "Active"

    cloudsim.control("POST", "clock", {"advance": 600})
    later = SimpleNamespace(cloud=cloud, read_since=time.time(), expected_at=None)
    statuses = [
        listings.read(later, listings.ENDPOINTS, e, still=access.CREATING)["EndpointStatus"]
        for e in being_made
    ]
    assert statuses == ["Active"] * WAITING
    made = calls(cloudsim) - before
    assert (made["ListVpcEndpoints"], made["GetVpcEndpointAttribute"]) == (2, 1 + WAITING)
