"""PrivateLink 2020-04-15: endpoint services (step 4), endpoints (5) and connections (6)."""

from alibabacloud_privatelink20200415 import models
from alibabacloud_privatelink20200415.client import Client

from connections.cloud.base import CloudResult, ProductApi


class PrivateLinkApi(ProductApi):
    client_class = Client
    models = models
    host = "privatelink.{region}.aliyuncs.com"

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

    def delete_endpoint_service(self, service_id: str) -> CloudResult:
        return self.call("DeleteVpcEndpointService", ServiceId=service_id)

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
        result = self.call("ListVpcEndpointServiceUsers", ServiceId=service_id, MaxResults=1000)
        return [str(user.get("UserId")) for user in result.get("Users") or []]

    def enable_connection(self, service_id: str, endpoint_id: str) -> CloudResult:
        return self.call(
            "EnableVpcEndpointConnection", ServiceId=service_id, EndpointId=endpoint_id
        )

    def disable_connection(self, service_id: str, endpoint_id: str) -> CloudResult:
        return self.call(
            "DisableVpcEndpointConnection", ServiceId=service_id, EndpointId=endpoint_id
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
        """One endpoint, with its tags (which GetVpcEndpointAttribute does not promise); None
        when the account has no such endpoint."""
        if not endpoint_id:
            raise ValueError("find_endpoint needs an endpoint id")  # empty lists them all
        found = self.call("ListVpcEndpoints", EndpointId=endpoint_id).get("Endpoints") or []
        return next((e for e in found if e.get("EndpointId") == endpoint_id), None)

    def list_endpoint_zones(self, endpoint_id: str) -> list[dict]:
        return self.call("ListVpcEndpointZones", EndpointId=endpoint_id).get("Zones") or []

    def delete_endpoint(self, endpoint_id: str) -> CloudResult:
        return self.call("DeleteVpcEndpoint", EndpointId=endpoint_id)

    # --- what the health sweep reads, one account at a time ---
    # PrivateLink lists take up to 1,000 items a page (docs/cloud-api.md).
    def all_endpoints(self) -> list[dict]:
        """The account's endpoints, with their status, connection status and tags."""
        return self.pages("ListVpcEndpoints", "Endpoints", 1000)

    def all_connections(self) -> list[dict]:
        """The connections to every endpoint service of the account (the provider's view), with
        each zone's status."""
        return self.pages("ListVpcEndpointConnections", "Connections", 1000)

    def all_endpoint_services(self) -> list[dict]:
        return self.pages("ListVpcEndpointServices", "Services", 1000)

    # --- finding what the portal made, by its tag (an id lost before it was saved) ---
    def tagged_endpoint_services(self, tags: dict[str, str]) -> list[str]:
        return self.tagged_ids("ListVpcEndpointServices", "Services", "ServiceId", tags)

    def tagged_endpoints(self, tags: dict[str, str]) -> list[str]:
        return self.tagged_ids("ListVpcEndpoints", "Endpoints", "EndpointId", tags)
