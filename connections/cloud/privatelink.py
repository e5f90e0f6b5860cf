"""PrivateLink 2020-04-15: endpoint services (step 4), endpoints (5) and connections (6).

Every list is read to its last page: PrivateLink's lists take at most 50 items a page (the SDK's
models and the API reference say 1 to 50; the metadata's schemas say 1,000: the smaller wins).
"""

from alibabacloud_privatelink20200415 import models
from alibabacloud_privatelink20200415.client import Client

from connections.cloud.base import CloudResult, ProductApi
from connections.cloud.errors import CloudInvalidInput

PAGE = 50


class PrivateLinkApi(ProductApi):
    client_class = Client
    models = models
    host = "privatelink.{region}.aliyuncs.com"
    product = "privatelink"

    # --- the account ---
    def is_activated(self) -> bool:
        """Whether PrivateLink is activated in the account (CheckProductOpen answers
        NeedOpenProduct when it is not)."""
        try:
            return bool(self.call("CheckProductOpen").get("Success"))
        except CloudInvalidInput as error:
            if error.code == "NeedOpenProduct":
                return False
            raise

    def zones(self) -> list[str]:
        """The region's zones where PrivateLink is offered."""
        answer = self.call("DescribeZones").get("Zones") or {}
        return [zone["ZoneId"] for zone in answer.get("Zone") or []]

    # --- endpoint services (the provider's side) ---
    def create_endpoint_service(
        self,
        *,
        nlb_id: str,
        zones: list[str],
        auto_accept: bool,
        description: str,
        tags: list[dict],
        client_token: str,
    ) -> CloudResult:
        return self.call(
            "CreateVpcEndpointService",
            ServiceResourceType="nlb",
            Resource=[
                {"ResourceId": nlb_id, "ResourceType": "nlb", "ZoneId": zone} for zone in zones
            ],
            AutoAcceptEnabled=auto_accept,
            ZoneAffinityEnabled=False,
            ServiceDescription=description[:256] or None,
            Payer="Endpoint",
            Tag=tags,
            ClientToken=client_token,
        )

    def get_endpoint_service(self, service_id: str) -> CloudResult:
        return self.call("GetVpcEndpointServiceAttribute", ServiceId=service_id)

    def update_endpoint_service(self, service_id: str, *, auto_accept: bool) -> CloudResult:
        return self.call(
            "UpdateVpcEndpointServiceAttribute", ServiceId=service_id, AutoAcceptEnabled=auto_accept
        )

    def service_resources(self, service_id: str) -> list[dict]:
        """The service's resources, one per load balancer and zone, each while it is attached
        or still being detached."""
        return self.pages(
            "ListVpcEndpointServiceResources", "Resources", PAGE, ServiceId=service_id
        )

    def detach_resource(self, service_id: str, resource_id: str) -> CloudResult:
        """Detach a load balancer from the service in every zone (asynchronous)."""
        return self.call(
            "DetachResourceFromVpcEndpointService",
            ServiceId=service_id,
            ResourceId=resource_id,
            ResourceType="nlb",
        )

    def delete_endpoint_service(self, service_id: str) -> CloudResult:
        return self.call("DeleteVpcEndpointService", ServiceId=service_id)

    # --- its whitelist ---
    def add_user(self, service_id: str, account_uid: str, *, client_token: str) -> CloudResult:
        return self.call(
            "AddUserToVpcEndpointService",
            ServiceId=service_id,
            UserId=account_uid,
            ClientToken=client_token,
        )

    def remove_user(self, service_id: str, account_uid: str) -> CloudResult:
        return self.call(
            "RemoveUserFromVpcEndpointService", ServiceId=service_id, UserId=account_uid
        )

    def list_users(self, service_id: str) -> list[str]:
        users = self.pages("ListVpcEndpointServiceUsers", "Users", PAGE, ServiceId=service_id)
        return [str(user.get("UserId")) for user in users]

    # --- connections (the provider's answer to each endpoint) ---
    def enable_connection(self, service_id: str, endpoint_id: str) -> CloudResult:
        return self.call(
            "EnableVpcEndpointConnection", ServiceId=service_id, EndpointId=endpoint_id
        )

    def get_connection(self, service_id: str, endpoint_id: str) -> dict | None:
        # An empty EndpointId would list every connection of the service: never ask that.
        if not endpoint_id:
            raise ValueError("get_connection needs an endpoint id")
        result = self.call(
            "ListVpcEndpointConnections", ServiceId=service_id, EndpointId=endpoint_id
        )
        matching = [
            c for c in result.get("Connections") or [] if c.get("EndpointId") == endpoint_id
        ]
        return matching[0] if matching else None

    def service_connections(self, service_id: str) -> list[dict]:
        return self.pages("ListVpcEndpointConnections", "Connections", PAGE, ServiceId=service_id)

    # --- endpoints (the consumer's side) ---
    def create_endpoint(
        self,
        *,
        name: str,
        vpc_id: str,
        service_id: str,
        security_group_ids: list[str],
        zones: list[tuple[str, str]],
        tags: list[dict],
        client_token: str,
    ) -> CloudResult:
        return self.call(
            "CreateVpcEndpoint",
            EndpointName=name,
            EndpointType="Interface",
            VpcId=vpc_id,
            ServiceId=service_id,
            SecurityGroupId=security_group_ids,
            Zone=[{"ZoneId": zone, "VSwitchId": vswitch} for zone, vswitch in zones],
            Tag=tags,
            ClientToken=client_token,
        )

    def get_endpoint(self, endpoint_id: str) -> CloudResult:
        return self.call("GetVpcEndpointAttribute", EndpointId=endpoint_id)

    def find_endpoint(self, endpoint_id: str) -> dict | None:
        """One endpoint, with its tags (which GetVpcEndpointAttribute does not answer); None
        when the account has no such endpoint."""
        if not endpoint_id:
            raise ValueError("find_endpoint needs an endpoint id")  # empty lists them all
        found = self.call("ListVpcEndpoints", EndpointId=endpoint_id).get("Endpoints") or []
        return next((e for e in found if e.get("EndpointId") == endpoint_id), None)

    def list_endpoint_zones(self, endpoint_id: str) -> list[dict]:
        return self.pages("ListVpcEndpointZones", "Zones", PAGE, EndpointId=endpoint_id)

    def remove_zone(self, endpoint_id: str, zone_id: str) -> CloudResult:
        """Remove one zone of an endpoint (asynchronous; one zone change at a time)."""
        return self.call("RemoveZoneFromVpcEndpoint", EndpointId=endpoint_id, ZoneId=zone_id)

    def delete_endpoint(self, endpoint_id: str) -> CloudResult:
        return self.call("DeleteVpcEndpoint", EndpointId=endpoint_id)

    # --- what the health sweep and the waiting steps read, one account at a time ---
    def all_endpoints(self, **filters: str) -> list[dict]:
        """The account's endpoints, with their status, connection status and tags; `filters`:
        ListVpcEndpoints's own (EndpointStatus, ConnectionStatus, …), each one value."""
        return self.pages("ListVpcEndpoints", "Endpoints", PAGE, **filters)

    def all_connections(self) -> list[dict]:
        """The connections to every endpoint service of the account (the provider's view), with
        each zone's status."""
        return self.pages("ListVpcEndpointConnections", "Connections", PAGE)

    def all_endpoint_services(self) -> list[dict]:
        return self.pages("ListVpcEndpointServices", "Services", PAGE)

    # --- finding what the portal made, by its tag (an id lost before it was saved) ---
    def tagged_endpoint_services(self, tags: dict[str, str]) -> list[str]:
        return self.tagged_ids("ListVpcEndpointServices", "Services", "ServiceId", tags, PAGE)

    def tagged_endpoints(self, tags: dict[str, str]) -> list[str]:
        return self.tagged_ids("ListVpcEndpoints", "Endpoints", "EndpointId", tags, PAGE)
