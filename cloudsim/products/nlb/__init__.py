"""NLB 2022-04-30: load balancers, server groups and their servers, listeners, and jobs.

One module per resource (`load_balancers`, `server_groups`, `listeners`, which also answers the
backends' health and the jobs); `common` holds what they share. Every rule they enforce is
written beside it with its source, and listed in docs/cloud-api.md.
"""

from cloudsim.products import tagging
from cloudsim.products.nlb import listeners, load_balancers, server_groups
from cloudsim.products.nlb.common import (
    LB,
    LB_NOT_FOUND,
    LSN,
    LSN_NOT_FOUND,
    PAGE_LIMIT,
    PRODUCT,
    SG,
    SG_NOT_FOUND,
)

tagging.register(
    PRODUCT,
    {
        "loadbalancer": (LB, LB_NOT_FOUND),
        "servergroup": (SG, SG_NOT_FOUND),
        "listener": (LSN, LSN_NOT_FOUND),
    },
    page_limit=PAGE_LIMIT,
    with_total=True,
    not_found_status=404,
)

__all__ = ["PRODUCT", "listeners", "load_balancers", "server_groups"]
