"""What a person does in the Alibaba Cloud console, for tests: any operation, with an account's
own keys, through the same SDK clients the portal uses (connections/cloud), but not limited to
the operations the portal calls.

Changes made here are "outside the portal": the health sweep is expected to notice them.
"""

from __future__ import annotations

import time
from typing import Any

from connections.cloud import CloudSession
from connections.cloud.base import CloudResult


class Console:
    """The console of one cloud account (a connections.models.CloudAccount)."""

    def __init__(self, account):
        self.session = CloudSession(account)

    def call(self, product: str, action: str, **params: Any) -> CloudResult:
        return getattr(self.session, product).send(action, params, None)

    def delete_endpoint(self, endpoint_id: str, timeout: float = 30) -> None:
        """Delete an endpoint as the cloud requires: its zones first, one at a time."""
        deadline = time.monotonic() + timeout
        while True:
            zones = self.call("privatelink", "ListVpcEndpointZones", EndpointId=endpoint_id)
            remaining = zones.get("Zones") or []
            endpoint = self.call("privatelink", "GetVpcEndpointAttribute", EndpointId=endpoint_id)
            if not remaining:
                self.call("privatelink", "DeleteVpcEndpoint", EndpointId=endpoint_id)
                return
            if endpoint.get("EndpointStatus") == "Active" and not any(
                zone.get("ZoneStatus") == "Deleting" for zone in remaining
            ):
                self.call(
                    "privatelink",
                    "RemoveZoneFromVpcEndpoint",
                    EndpointId=endpoint_id,
                    ZoneId=remaining[0]["ZoneId"],
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"the zones of {endpoint_id} were not removed in {timeout}s")
            time.sleep(0.05)
