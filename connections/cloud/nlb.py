"""NLB 2022-04-30: load balancer, server group and listener of a published service (steps 1–3).

Every list is read to its last page: NLB's lists take at most 100 items a page ("Valid values: 1
to 100. Default value: 20", the SDK's models), GetListenerHealthStatus's servers included.
"""

from alibabacloud_nlb20220430 import models
from alibabacloud_nlb20220430.client import Client

from connections.cloud.base import CloudResult, ProductApi

PAGE = 100


class NlbApi(ProductApi):
    client_class = Client
    models = models
    host = "nlb.{region}.aliyuncs.com"
    product = "nlb"

    def zones(self) -> list[str]:
        """The region's zones where NLB is offered."""
        return [zone["ZoneId"] for zone in self.call("DescribeZones").get("Zones") or []]

    def create_load_balancer(
        self,
        *,
        name: str,
        vpc_id: str,
        zones: list[tuple[str, str]],
        tags: list[dict],
        client_token: str,
    ) -> CloudResult:
        return self.call(
            "CreateLoadBalancer",
            LoadBalancerName=name,
            AddressType="Intranet",
            AddressIpVersion="ipv4",
            VpcId=vpc_id,
            ZoneMappings=[{"ZoneId": zone, "VSwitchId": vswitch} for zone, vswitch in zones],
            Tag=tags,
            ClientToken=client_token,
        )

    def dry_run_create_load_balancer(self, *, vpc_id: str, zones: list[tuple[str, str]]) -> None:
        """create_load_balancer's checks without a load balancer: the cloud answers
        DryRunOperation (a CloudError) when they pass."""
        self.call(
            "CreateLoadBalancer",
            AddressType="Intranet",
            AddressIpVersion="ipv4",
            VpcId=vpc_id,
            ZoneMappings=[{"ZoneId": zone, "VSwitchId": vswitch} for zone, vswitch in zones],
            DryRun=True,
        )

    def get_load_balancer(self, nlb_id: str) -> CloudResult:
        return self.call("GetLoadBalancerAttribute", LoadBalancerId=nlb_id)

    def delete_load_balancer(self, nlb_id: str, *, client_token: str) -> CloudResult:
        return self.call("DeleteLoadBalancer", LoadBalancerId=nlb_id, ClientToken=client_token)

    def create_server_group(
        self, *, name: str, vpc_id: str, protocol: str, tags: list[dict], client_token: str
    ) -> CloudResult:
        return self.call(
            "CreateServerGroup",
            ServerGroupName=name,
            ServerGroupType="Instance",
            VpcId=vpc_id,
            Protocol=protocol,
            Scheduler="Wrr",
            HealthCheckConfig={"HealthCheckEnabled": True, "HealthCheckType": "TCP"},
            Tag=tags,
            ClientToken=client_token,
        )

    def get_server_group(self, server_group_id: str) -> dict | None:
        result = self.call("ListServerGroups", ServerGroupIds=[server_group_id])
        groups = result.get("ServerGroups") or []
        return groups[0] if groups else None

    def add_servers(
        self, server_group_id: str, servers: list[tuple[str, int, int]], *, client_token: str
    ) -> CloudResult:
        return self.call(
            "AddServersToServerGroup",
            ServerGroupId=server_group_id,
            Servers=[
                {"ServerId": server, "ServerType": "Ecs", "Port": port, "Weight": weight}
                for server, port, weight in servers
            ],
            ClientToken=client_token,
        )

    def list_servers(self, server_group_id: str) -> list[dict]:
        return self.pages("ListServerGroupServers", "Servers", PAGE, ServerGroupId=server_group_id)

    def delete_server_group(self, server_group_id: str, *, client_token: str) -> CloudResult:
        return self.call(
            "DeleteServerGroup", ServerGroupId=server_group_id, ClientToken=client_token
        )

    def create_listener(
        self,
        *,
        nlb_id: str,
        server_group_id: str,
        protocol: str,
        port: int,
        tags: list[dict],
        client_token: str,
    ) -> CloudResult:
        return self.call(
            "CreateListener",
            LoadBalancerId=nlb_id,
            ServerGroupId=server_group_id,
            ListenerProtocol=protocol,
            ListenerPort=port,
            Tag=tags,
            ClientToken=client_token,
        )

    def get_listener(self, listener_id: str) -> CloudResult:
        return self.call("GetListenerAttribute", ListenerId=listener_id)

    def delete_listener(self, listener_id: str, *, client_token: str) -> CloudResult:
        return self.call("DeleteListener", ListenerId=listener_id, ClientToken=client_token)

    def unhealthy_servers(self, listener_id: str) -> list[dict]:
        """The servers the listener's health checks do not find healthy (only those are
        listed), each with its Status (Initial, Unhealthy, Unused: weight 0, Unavailable:
        checks off) and, when unhealthy, Reason.ReasonCode; every page."""
        servers: list[dict] = []
        token = None
        while True:
            result = self.call(
                "GetListenerHealthStatus", ListenerId=listener_id, MaxResults=PAGE, NextToken=token
            )
            for listener in result.get("ListenerHealthStatus") or []:
                for group in listener.get("ServerGroupInfos") or []:
                    servers.extend(group.get("NonNormalServers") or [])
            token = result.get("NextToken") or None
            if token is None:
                return servers

    # --- what the waiting steps and the sweep read, one account at a time ---
    def all_load_balancers(self) -> list[dict]:
        return self.pages("ListLoadBalancers", "LoadBalancers", PAGE)

    def all_listeners(self) -> list[dict]:
        return self.pages("ListListeners", "Listeners", PAGE)

    def all_servers(self) -> list[dict]:
        """The servers of every server group of the account, each with its ServerGroupId."""
        return self.pages("ListServerGroupServers", "Servers", PAGE)

    # --- finding what the portal made, by its tag (an id lost before it was saved) ---
    def tagged_load_balancers(self, tags: dict[str, str]) -> list[str]:
        return self.tagged_ids("ListLoadBalancers", "LoadBalancers", "LoadBalancerId", tags, PAGE)

    def tagged_server_groups(self, tags: dict[str, str]) -> list[str]:
        return self.tagged_ids("ListServerGroups", "ServerGroups", "ServerGroupId", tags, PAGE)

    def tagged_listeners(self, tags: dict[str, str]) -> list[str]:
        return self.tagged_ids("ListListeners", "Listeners", "ListenerId", tags, PAGE)
