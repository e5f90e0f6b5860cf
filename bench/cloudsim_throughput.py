"""Calls per second through the official SDKs: cloudsim against moto's server, same workload.

Both emulators run in this process on loopback (moto's `ThreadedMotoServer`, cloudsim's
`CloudSim`), each behind werkzeug's threaded server, and both are driven by 8 client threads
doing the same mix: one CreateVpcEndpoint to three reads (two of the thread's own newest
endpoint, one of a random earlier one). cloudsim runs with no delays, like moto.

    .venv/bin/python bench/cloudsim_throughput.py            # 10 s per emulator
    .venv/bin/python bench/cloudsim_throughput.py --short    # 2 s per emulator, for CI
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import boto3
from alibabacloud_nlb20220430 import models as nlb_models
from alibabacloud_nlb20220430.client import Client as NlbClient
from alibabacloud_privatelink20200415 import models as pl_models
from alibabacloud_privatelink20200415.client import Client as PrivateLinkClient
from alibabacloud_tea_openapi.utils_models import Config
from moto.server import ThreadedMotoServer

from cloudsim import scenario
from cloudsim.server import CloudSim

# The demo's shape with /16 vSwitches: a long run creates thousands of endpoint addresses.
BENCH_SCENARIO = """
region: cn-hangzhou
zones: [{id: cn-hangzhou-g}, {id: cn-hangzhou-k}]
accounts:
  - name: A
    uid: "1111111111111111"
    access_keys: [{id: bench-key, secret: bench-secret}]
    vpcs:
      - name: provider
        cidr: 192.168.0.0/16
        vswitches:
          - {name: p-g, cidr: 192.168.2.0/24, zone: cn-hangzhou-g}
          - {name: p-k, cidr: 192.168.4.0/24, zone: cn-hangzhou-k}
      - name: consumer
        cidr: 10.0.0.0/8
        vswitches:
          - {name: c-g, cidr: 10.1.0.0/16, zone: cn-hangzhou-g}
          - {name: c-k, cidr: 10.2.0.0/16, zone: cn-hangzhou-k}
        security_groups: [{name: sg-consumer}]
"""


@dataclass
class Result:
    calls: int
    writes: int
    errors: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.calls / self.seconds


def drive(workers: list[Callable[[random.Random], int]], seconds: float) -> Result:
    """Run each worker in a thread until the time is up (a worker returns 1 for a write)."""
    stop = threading.Event()
    totals = [[0, 0, 0] for _ in workers]

    def loop(index: int) -> None:
        chance = random.Random(index)
        while not stop.is_set():
            try:
                totals[index][1] += workers[index](chance)
                totals[index][0] += 1
            except Exception:
                totals[index][2] += 1

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(len(workers))]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return Result(
        sum(t[0] for t in totals), sum(t[1] for t in totals), sum(t[2] for t in totals), elapsed
    )


def bench_cloudsim(threads: int, seconds: float) -> Result:
    with CloudSim(scenario.parse(BENCH_SCENARIO, "bench"), delay_scale=0) as sim:

        def config() -> Config:
            return Config(
                access_key_id="bench-key",
                access_key_secret="bench-secret",
                region_id="cn-hangzhou",
                endpoint=sim.endpoint,
                protocol="http",
            )

        store = sim.store
        vpcs = {v["VpcName"]: v for v in store.all("vpc")}
        vswitches = {v["VSwitchName"]: v["VSwitchId"] for v in store.all("vswitch")}
        group = store.all("securitygroup")[0]["SecurityGroupId"]
        nlb = NlbClient(config())
        lb_id = nlb.create_load_balancer(
            nlb_models.CreateLoadBalancerRequest(
                address_type="Intranet",
                vpc_id=vpcs["provider"]["VpcId"],
                zone_mappings=[
                    nlb_models.CreateLoadBalancerRequestZoneMappings(
                        zone_id="cn-hangzhou-g", v_switch_id=vswitches["p-g"]
                    ),
                    nlb_models.CreateLoadBalancerRequestZoneMappings(
                        zone_id="cn-hangzhou-k", v_switch_id=vswitches["p-k"]
                    ),
                ],
            )
        ).body.loadbalancer_id
        setup = PrivateLinkClient(config())
        service_id = setup.create_vpc_endpoint_service(
            pl_models.CreateVpcEndpointServiceRequest(
                service_resource_type="nlb",
                resource=[
                    pl_models.CreateVpcEndpointServiceRequestResource(
                        resource_id=lb_id, resource_type="nlb"
                    )
                ],
                auto_accept_enabled=True,
            )
        ).body.service_id
        create = pl_models.CreateVpcEndpointRequest(
            vpc_id=vpcs["consumer"]["VpcId"],
            service_id=service_id,
            security_group_id=[group],
            zone=[
                pl_models.CreateVpcEndpointRequestZone(
                    zone_id="cn-hangzhou-g", v_switch_id=vswitches["c-g"]
                ),
                pl_models.CreateVpcEndpointRequestZone(
                    zone_id="cn-hangzhou-k", v_switch_id=vswitches["c-k"]
                ),
            ],
        )
        made: list[str] = [setup.create_vpc_endpoint(create).body.endpoint_id]

        def worker() -> Callable[[random.Random], int]:
            client = PrivateLinkClient(config())
            state = {"step": 0, "own": made[0]}

            def call(chance: random.Random) -> int:
                step = state["step"] = (state["step"] + 1) % 4
                if step == 0:
                    state["own"] = client.create_vpc_endpoint(create).body.endpoint_id
                    made.append(state["own"])
                    return 1
                if step in (1, 2):
                    client.get_vpc_endpoint_attribute(
                        pl_models.GetVpcEndpointAttributeRequest(endpoint_id=state["own"])
                    )
                    return 0
                client.list_vpc_endpoints(
                    pl_models.ListVpcEndpointsRequest(endpoint_id=chance.choice(made))
                )
                return 0

            return call

        return drive([worker() for _ in range(threads)], seconds)


def bench_moto(threads: int, seconds: float) -> Result:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        options = {
            "endpoint_url": f"http://{host}:{port}",
            "region_name": "us-east-1",
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
        }
        ec2 = boto3.client("ec2", **options)
        elb = boto3.client("elbv2", **options)
        provider = ec2.create_vpc(CidrBlock="192.168.0.0/16")["Vpc"]["VpcId"]
        provider_subnets = [
            ec2.create_subnet(VpcId=provider, CidrBlock=cidr, AvailabilityZone=zone)["Subnet"][
                "SubnetId"
            ]
            for cidr, zone in (("192.168.2.0/24", "us-east-1a"), ("192.168.4.0/24", "us-east-1b"))
        ]
        balancer = elb.create_load_balancer(
            Name="bench-nlb", Subnets=provider_subnets, Scheme="internal", Type="network"
        )["LoadBalancers"][0]["LoadBalancerArn"]
        service = ec2.create_vpc_endpoint_service_configuration(
            NetworkLoadBalancerArns=[balancer], AcceptanceRequired=False
        )["ServiceConfiguration"]["ServiceName"]
        consumer = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [
            ec2.create_subnet(VpcId=consumer, CidrBlock=cidr, AvailabilityZone=zone)["Subnet"][
                "SubnetId"
            ]
            for cidr, zone in (("10.0.0.0/17", "us-east-1a"), ("10.0.128.0/17", "us-east-1b"))
        ]
        group = ec2.create_security_group(
            GroupName="sg-consumer", Description="bench", VpcId=consumer
        )["GroupId"]
        create = {
            "VpcEndpointType": "Interface",
            "VpcId": consumer,
            "ServiceName": service,
            "SubnetIds": subnets,
            "SecurityGroupIds": [group],
        }
        made = [ec2.create_vpc_endpoint(**create)["VpcEndpoint"]["VpcEndpointId"]]

        def worker() -> Callable[[random.Random], int]:
            client = boto3.client("ec2", **options)
            state = {"step": 0, "own": made[0]}

            def call(chance: random.Random) -> int:
                step = state["step"] = (state["step"] + 1) % 4
                if step == 0:
                    state["own"] = client.create_vpc_endpoint(**create)["VpcEndpoint"][
                        "VpcEndpointId"
                    ]
                    made.append(state["own"])
                    return 1
                if step in (1, 2):
                    client.describe_vpc_endpoints(VpcEndpointIds=[state["own"]])
                    return 0
                client.describe_vpc_endpoints(VpcEndpointIds=[chance.choice(made)])
                return 0

            return call

        return drive([worker() for _ in range(threads)], seconds)
    finally:
        server.stop()


def report(name: str, result: Result) -> None:
    print(
        f"{name:9} {result.calls:7d} calls in {result.seconds:5.1f} s ({result.writes} creates, "
        f"{result.errors} errors): {result.rate:8.1f} calls/s",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="2 s per emulator (CI)")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    seconds = 2.0 if args.short else args.seconds
    print(f"mixed workload (1 create : 3 reads), {args.threads} threads, {seconds:g} s each")
    cloudsim_result = bench_cloudsim(args.threads, seconds)
    report("cloudsim", cloudsim_result)
    moto_result = bench_moto(args.threads, seconds)
    report("moto", moto_result)
    ratio = cloudsim_result.rate / moto_result.rate if moto_result.rate else float("inf")
    print(f"ratio     cloudsim / moto = {ratio:.2f}x")
    return 0 if cloudsim_result.errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
