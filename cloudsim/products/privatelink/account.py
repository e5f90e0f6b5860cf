"""The account's side of PrivateLink: whether it is activated, and where it is offered.

- CheckProductOpen answers `Success: true` for an activated account ("the only value is true")
  and refuses an account that is not with `NeedOpenProduct` (HTTP 400, "The product is not
  activated."); OpenPrivateLinkService activates it, and refuses an account that already is
  with `OrderOpend` (the API reference of each).
- DescribeZones lists the region's zones where PrivateLink is offered (a subset of the region's:
  "Check the regions and zones that PrivateLink supports"); the answer nests them as
  `Zones.Zone[]` (the SDK's model).
"""

from __future__ import annotations

from typing import Any

from cloudsim import ids
from cloudsim.errors import ApiError
from cloudsim.products.base import Context, product_zones
from cloudsim.products.privatelink.common import PRODUCT


@PRODUCT.action("CheckProductOpen")
def check_product_open(ctx: Context) -> dict[str, Any]:
    if not ctx.store.account(ctx.uid)["privatelink_activated"]:
        raise ApiError("NeedOpenProduct", "The product is not activated.")
    return {"Success": True}


@PRODUCT.action("OpenPrivateLinkService", write=True)
def open_privatelink_service(ctx: Context) -> dict[str, Any]:
    settings = ctx.store.account(ctx.uid)
    if settings["privatelink_activated"]:
        raise ApiError(
            "OrderOpend",
            "You have already activated the service. Go to the console to start using it.",
        )
    ctx.dry_run_passes()
    settings["privatelink_activated"] = True
    return {"OrderId": ids.stable_digits(15, ctx.uid, "privatelink-order")}


@PRODUCT.action("DescribeZones")
def describe_zones(ctx: Context) -> dict[str, Any]:
    zones = [{"ZoneId": zone.id, "LocalName": zone.name} for zone in product_zones(ctx)]
    return {"Zones": {"Zone": zones}}


@PRODUCT.action("DescribeRegions")
def describe_regions(ctx: Context) -> dict[str, Any]:
    return {
        "Regions": {
            "Region": [
                {
                    "RegionId": ctx.region,
                    "LocalName": ctx.region,
                    "RegionEndpoint": PRODUCT.host(ctx.region),
                    "ServiceResourceTypes": {"ServiceResourceType": ["slb", "alb", "nlb"]},
                }
            ]
        }
    }
