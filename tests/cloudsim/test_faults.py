"""Injected faults, seen through the SDK the way the portal's retry logic sees them."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from alibabacloud_nlb20220430 import models as nlb_models
from alibabacloud_privatelink20200415 import models as pl_models
from alibabacloud_tea_openapi.exceptions import (
    ClientException,
    ServerException,
    ThrottlingException,
)
from alibabacloud_vpc20160428 import models as vpc_models
from darabonba.exceptions import UnretryableException

from cloudsim.server import CloudSim
from tests.cloudsim import seed
from tests.cloudsim.support import ACCOUNT_A, REGION, UID_A, UID_B, clients_for, control


def describe_vpcs(clients):
    return clients.vpc.describe_vpcs(vpc_models.DescribeVpcsRequest(region_id=REGION)).body


def add_fault(sim, **spec) -> dict:
    status, fault = control(sim, "POST", "faults", spec)
    assert status == 200, fault
    return fault


def test_throttling_with_retry_after_is_a_throttling_exception(sim, account_a):
    add_fault(sim, kind="throttle", action="DescribeVpcs", retry_after_ms=1500, count=1)
    with pytest.raises(ThrottlingException) as throttled:
        describe_vpcs(account_a)
    assert throttled.value.code == "Throttling.User"
    assert throttled.value.retry_after == 1500
    assert throttled.value.status_code == 400
    assert describe_vpcs(account_a).total_count == 2


def test_throttling_without_retry_after_is_a_client_exception(sim, account_a):
    add_fault(sim, kind="throttle", count=1)
    with pytest.raises(ClientException) as throttled:
        describe_vpcs(account_a)
    assert not isinstance(throttled.value, ThrottlingException)
    assert throttled.value.code == "Throttling.User"


def test_unavailable_is_a_server_exception(sim, account_a):
    add_fault(sim, kind="unavailable", product="vpc")
    with pytest.raises(ServerException) as failed:
        describe_vpcs(account_a)
    assert failed.value.code == "ServiceUnavailable"
    assert failed.value.status_code == 503
    # Only the VPC product is affected.
    account_a.nlb.list_load_balancers(nlb_models.ListLoadBalancersRequest())
    assert control(sim, "DELETE", "faults")[0] == 200
    assert describe_vpcs(account_a).total_count == 2


def test_next_n_calls_then_the_fault_expires(sim, account_a):
    # A code DescribeVpcs documents (InternalError, 500): the contract check accepts no other.
    fault = add_fault(
        sim, kind="error", code="InternalError", status=500, action="Describe*", count=2
    )
    for _ in range(2):
        with pytest.raises(ServerException) as failed:
            describe_vpcs(account_a)
        assert failed.value.code == "InternalError"
    assert describe_vpcs(account_a).total_count == 2
    faults = control(sim, "GET", "faults")[1]["faults"]
    assert fault["id"] not in [f["id"] for f in faults]


def test_faults_can_target_one_account(sim, account_a, account_b):
    add_fault(sim, kind="throttle", account=UID_B)
    assert describe_vpcs(account_a).total_count == 2
    with pytest.raises(ClientException) as throttled:
        describe_vpcs(account_b)
    assert throttled.value.code == "Throttling.User"


def outcomes(sim: CloudSim, seed_value: int) -> list[bool]:
    sim.reset()
    clients = clients_for(sim, *ACCOUNT_A)
    add_fault(sim, kind="unavailable", rate=0.5, seed=seed_value)
    results = []
    for _ in range(16):
        try:
            describe_vpcs(clients)
            results.append(True)
        except ServerException:
            results.append(False)
    return results


def test_a_seeded_rate_repeats_exactly(sim):
    first, second = outcomes(sim, 7), outcomes(sim, 7)
    assert first == second
    assert True in first and False in first
    assert outcomes(sim, 8) != first


def test_a_dropped_connection_surfaces_as_a_network_failure(sim, account_a):
    add_fault(sim, kind="drop", count=1)
    with pytest.raises(UnretryableException):
        describe_vpcs(account_a)
    assert describe_vpcs(account_a).total_count == 2


def test_latency_is_added(sim, account_a):
    add_fault(sim, kind="latency", latency_ms=300, count=1)
    started = time.monotonic()
    describe_vpcs(account_a)
    assert time.monotonic() - started >= 0.3


def test_an_injected_concurrent_fault_is_a_client_exception(sim, account_a, net_a):
    published = seed.publish(account_a, net_a)
    endpoint = account_a.privatelink.create_vpc_endpoint(
        seed.endpoint_request(net_a, published.service_id)
    ).body
    add_fault(sim, kind="concurrent", count=1, account=UID_A)
    request = pl_models.EnableVpcEndpointConnectionRequest(
        service_id=published.service_id, endpoint_id=endpoint.endpoint_id, region_id=REGION
    )
    with pytest.raises(ClientException) as refused:
        account_a.privatelink.enable_vpc_endpoint_connection(request)
    assert refused.value.code == "ConcurrentCallNotSupported"
    account_a.privatelink.enable_vpc_endpoint_connection(request)


def accept_both_at_once(sim, published, endpoint_ids: list[str]) -> dict[str, str]:
    """Enable two connections from two threads at the same moment; each one's outcome."""
    start = threading.Barrier(len(endpoint_ids))

    def accept(endpoint_id: str) -> str:
        client = clients_for(sim, *ACCOUNT_A).privatelink
        start.wait()
        try:
            client.enable_vpc_endpoint_connection(
                pl_models.EnableVpcEndpointConnectionRequest(
                    service_id=published.service_id, endpoint_id=endpoint_id, region_id=REGION
                )
            )
        except ClientException as refused:
            return refused.code
        return "ok"

    with ThreadPoolExecutor(max_workers=len(endpoint_ids)) as pool:
        return dict(zip(endpoint_ids, pool.map(accept, endpoint_ids), strict=True))


def test_overlapping_accepts_in_one_account_are_refused(sim, account_a, net_a, freeze_clock):
    """EnableVpcEndpointConnection holds the account for as long as the acceptance takes (its
    delay): another acceptance meanwhile is refused with ConcurrentCallNotSupported."""
    published = seed.publish(account_a, net_a)
    endpoint_ids = [
        account_a.privatelink.create_vpc_endpoint(
            seed.endpoint_request(net_a, published.service_id)
        ).body.endpoint_id
        for _ in range(2)
    ]
    # Acceptances that take no time never overlap (calls are serialised): none is refused.
    assert sorted(accept_both_at_once(sim, published, endpoint_ids).values()) == ["ok", "ok"]
    for endpoint_id in endpoint_ids:
        account_a.privatelink.disable_vpc_endpoint_connection(
            pl_models.DisableVpcEndpointConnectionRequest(
                service_id=published.service_id, endpoint_id=endpoint_id, region_id=REGION
            )
        )

    # An acceptance that takes 30 s (of a frozen clock): the second one, made meanwhile, is
    # refused.
    freeze_clock(sim)
    status, _ = control(sim, "POST", "delays", {"delays": {"EnableVpcEndpointConnection": 30}})
    assert status == 200
    outcomes = accept_both_at_once(sim, published, endpoint_ids)
    assert sorted(outcomes.values()) == ["ConcurrentCallNotSupported", "ok"]
    # Once the first one is over, the refused one goes through.
    assert control(sim, "POST", "clock", {"advance": 30})[0] == 200
    refused = [eid for eid, outcome in outcomes.items() if outcome != "ok"]
    account_a.privatelink.enable_vpc_endpoint_connection(
        pl_models.EnableVpcEndpointConnectionRequest(
            service_id=published.service_id, endpoint_id=refused[0], region_id=REGION
        )
    )
    stats = control(sim, "GET", "stats")[1]
    assert stats["errors"] == {"ConcurrentCallNotSupported": 1}


def test_fault_descriptions_are_validated(sim):
    for spec in (
        {"kind": "meteor"},
        {"kind": "throttle", "rate": 2},
        {"kind": "latency"},
        {"kind": "error", "code": "X", "status": 200},
        {"kind": "throttle", "surprise": True},
        ["not", "an", "object"],
    ):
        status, body = control(sim, "POST", "faults", spec)
        assert status == 400, spec
        assert body["Code"] == "InvalidParameter"


def test_flags_and_constructor_faults_apply_from_the_start():
    throttled = [{"kind": "throttle", "retry_after_ms": 10}]
    with CloudSim(delay_scale=0, faults=throttled) as sim, pytest.raises(ThrottlingException):
        describe_vpcs(clients_for(sim, *ACCOUNT_A))
