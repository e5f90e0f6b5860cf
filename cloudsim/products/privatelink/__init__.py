"""PrivateLink 2020-04-15: endpoint services (the provider's side), endpoints (the consumer's),
their connections, and the account's activation and zones.

One module per part: `services` (endpoint services, their resources and whitelist), `endpoints`
(endpoints, their zones and security groups), `connections` (the provider's accept and reject),
`account` (activation, zones, regions); `common` holds what they share. Every rule they enforce
is written beside it with its source, and listed in docs/cloud-api.md.
"""

from cloudsim.products import tagging
from cloudsim.products.privatelink import account, connections, endpoints, services
from cloudsim.products.privatelink.common import ENDPOINT, PRODUCT, SERVICE

TAG_NOT_FOUND = "InvalidResourceId.NotFound"

# An unknown resource to tag: InvalidResourceId.NotFound, the code PrivateLink's metadata lists
# for TagResources and UntagResources (not the EndpointNotFound of the other operations); a
# resource's 21st tag: QuotaExceed.TagsPerResource (its TagResources metadata).
tagging.register(
    PRODUCT,
    {
        "vpcendpoint": (ENDPOINT, TAG_NOT_FOUND),
        "vpcendpointservice": (SERVICE, TAG_NOT_FOUND),
    },
    page_limit=50,
    with_total=False,
    quota_code="QuotaExceed.TagsPerResource",
)

__all__ = ["PRODUCT", "account", "connections", "endpoints", "services"]
