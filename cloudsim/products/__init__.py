"""The emulated API products, found by the version a request names (`x-acs-version`)."""

from __future__ import annotations

from cloudsim.products import ecs, nlb, privatelink, sts, vpc
from cloudsim.products.base import Context, Operation, Product

PRODUCTS: dict[str, Product] = {
    module.PRODUCT.version: module.PRODUCT for module in (privatelink, nlb, vpc, ecs, sts)
}

__all__ = ["PRODUCTS", "Context", "Operation", "Product"]
