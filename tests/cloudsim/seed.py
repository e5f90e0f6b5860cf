"""The seed's console steps as SDK calls: steps 1–4 publish the service, step 5 creates the
endpoint. Shared by the tests that need a published service."""

from __future__ import annotations

from dataclasses import dataclass

from alibabacloud_nlb20220430 import models as nlb_models
from alibabacloud_privatelink20200415 import models as pl_models

from tests.cloudsim.support import REGION, Clients, Network

ZONE_G = "cn-hangzhou-g"
ZONE_H = "cn-hangzhou-h"
ZONE_K = "cn-hangzhou-k"


@dataclass
class Published:
    load_balancer_id: str
    server_group_id: str
    listener_id: str
    service_id: str


def create_load_balancer(
    clients: Clients, net: Network, *, zone_g_address: str | None = None, **extra: object
) -> str:
    """Step 1: an internal NLB in VPC2 over zones G and K (in zone G at `zone_g_address`, when
    one is chosen)."""
    mappings = [
        nlb_models.CreateLoadBalancerRequestZoneMappings(
            zone_id=zone,
            v_switch_id=net.vswitches["VPC2"][zone],
            private_ipv_4address=zone_g_address if zone == ZONE_G else None,
        )
        for zone in (ZONE_G, ZONE_K)
    ]
    request = nlb_models.CreateLoadBalancerRequest(
        address_type="Intranet",
        address_ip_version="ipv4",
        vpc_id=net.vpcs["VPC2"],
        zone_mappings=mappings,
        load_balancer_name="nlb-vpc2",
        region_id=REGION,
        **extra,
    )
    return clients.nlb.create_load_balancer(request).body.loadbalancer_id


def create_server_group(clients: Clients, net: Network, name: str = "RS1") -> str:
    """Step 2, first half: server group RS1 with TCP health checks."""
    request = nlb_models.CreateServerGroupRequest(
        server_group_name=name,
        server_group_type="Instance",
        vpc_id=net.vpcs["VPC2"],
        protocol="TCP",
        scheduler="Wrr",
        health_check_config=nlb_models.CreateServerGroupRequestHealthCheckConfig(
            health_check_enabled=True,
            health_check_type="TCP",
            health_check_connect_port=0,
            healthy_threshold=2,
            unhealthy_threshold=2,
            health_check_connect_timeout=5,
            health_check_interval=10,
        ),
        region_id=REGION,
    )
    return clients.nlb.create_server_group(request).body.server_group_id


def add_servers(clients: Clients, net: Network, group_id: str) -> str:
    """Step 2, second half: ECS03 and ECS04 on port 80 at weight 100."""
    servers = [
        nlb_models.AddServersToServerGroupRequestServers(
            server_id=net.instances[name], server_type="Ecs", port=80, weight=100
        )
        for name in ("ECS03", "ECS04")
    ]
    request = nlb_models.AddServersToServerGroupRequest(
        server_group_id=group_id, servers=servers, region_id=REGION
    )
    return clients.nlb.add_servers_to_server_group(request).body.job_id


def create_listener(clients: Clients, lb_id: str, group_id: str, port: int = 80) -> str:
    """Step 3: a TCP listener on port 80 forwarding to RS1."""
    request = nlb_models.CreateListenerRequest(
        load_balancer_id=lb_id,
        listener_protocol="TCP",
        listener_port=port,
        server_group_id=group_id,
        region_id=REGION,
    )
    return clients.nlb.create_listener(request).body.listener_id


def create_service(clients: Clients, lb_id: str, auto_accept: bool = False) -> str:
    """Step 4: an endpoint service with the NLB as its resource in zones G and K."""
    resources = [
        pl_models.CreateVpcEndpointServiceRequestResource(
            resource_id=lb_id, resource_type="nlb", zone_id=zone
        )
        for zone in (ZONE_G, ZONE_K)
    ]
    request = pl_models.CreateVpcEndpointServiceRequest(
        service_resource_type="nlb",
        resource=resources,
        auto_accept_enabled=auto_accept,
        service_description="nginx-hangzhou",
        region_id=REGION,
    )
    return clients.privatelink.create_vpc_endpoint_service(request).body.service_id


def publish(clients: Clients, net: Network, auto_accept: bool = False) -> Published:
    """Steps 1–4 with no delays (each create is final by the next call)."""
    lb_id = create_load_balancer(clients, net)
    group_id = create_server_group(clients, net)
    add_servers(clients, net, group_id)
    listener_id = create_listener(clients, lb_id, group_id)
    service_id = create_service(clients, lb_id, auto_accept)
    return Published(lb_id, group_id, listener_id, service_id)


def endpoint_request(
    net: Network,
    service_id: str,
    vpc: str = "VPC1",
    zones: tuple[str, ...] = (ZONE_G, ZONE_K),
    security_group: str = "sg-vpc1",
    **extra: object,
) -> pl_models.CreateVpcEndpointRequest:
    """Step 5: an endpoint in VPC1 over zones G and K."""
    return pl_models.CreateVpcEndpointRequest(
        vpc_id=net.vpcs[vpc],
        service_id=service_id,
        security_group_id=[net.security_groups[security_group]],
        zone=[
            pl_models.CreateVpcEndpointRequestZone(
                zone_id=zone, v_switch_id=net.vswitches[vpc][zone]
            )
            for zone in zones
        ],
        endpoint_name="ep-nginx",
        endpoint_type="Interface",
        region_id=REGION,
        **extra,
    )
