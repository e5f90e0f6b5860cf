"""Where the conformance tests send their calls: the real cloud, when a test account's
credentials are given in the environment, or cloudsim otherwise, through the same official SDKs.

Environment for a real account (a RAM user's key of an account kept for tests):
- `CONFORMANCE_ACCESS_KEY_ID`, `CONFORMANCE_ACCESS_KEY_SECRET`: the credentials;
- `CONFORMANCE_REGION` (default cn-hangzhou);
- `CONFORMANCE_VPC_ID`: a VPC of the account with vSwitches in two zones NLB offers, and a
  security group; the tests make their resources there;
- `CONFORMANCE_CREATE=1`: allow the tests that create resources (an NLB, a server group, a
  listener, an endpoint service, an endpoint: billed while they exist, a few minutes). Each
  carries the tag `privatelink-portal-conformance` with the run's id and is deleted after the
  test, whether it passed or not; a run first deletes what an interrupted run left with the tag.
"""

from __future__ import annotations

import importlib
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
from alibabacloud_tea_openapi.utils_models import Config
from darabonba.runtime import RuntimeOptions

PRODUCTS = {
    "privatelink": ("alibabacloud_privatelink20200415", "privatelink.{region}.aliyuncs.com"),
    "nlb": ("alibabacloud_nlb20220430", "nlb.{region}.aliyuncs.com"),
    "vpc": ("alibabacloud_vpc20160428", "vpc.{region}.aliyuncs.com"),
    "ecs": ("alibabacloud_ecs20140526", "ecs.{region}.aliyuncs.com"),
    "sts": ("alibabacloud_sts20150401", "sts.{region}.aliyuncs.com"),
}
TAG_KEY = "privatelink-portal-conformance"


def real_account_given() -> bool:
    return bool(os.environ.get("CONFORMANCE_ACCESS_KEY_ID"))


@dataclass
class Target:
    """One account of a cloud, its SDK clients, and what the tests may use in it."""

    key: str
    secret: str
    region: str
    endpoint: str | None  # host:port of cloudsim; None: the products' regional endpoints
    vpc_id: str
    real: bool
    may_create: bool
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, product: str):
        if product not in self._clients:
            package, host = PRODUCTS[product]
            client_class = importlib.import_module(f"{package}.client").Client
            config = Config(
                access_key_id=self.key,
                access_key_secret=self.secret,
                region_id=self.region,
                connect_timeout=5000,
                read_timeout=20000,
            )
            config.endpoint = self.endpoint or host.format(region=self.region)
            config.protocol = "http" if self.endpoint else "https"
            self._clients[product] = client_class(config)
        return self._clients[product]

    def call(self, product: str, action: str, *, region: bool = True, **params: Any) -> dict:
        """`action` with wire-named parameters (and RegionId unless `region` is False): the
        answer's body, or the SDK's exception for a refusal."""
        models = importlib.import_module(f"{PRODUCTS[product][0]}.models")
        client = self.client(product)
        method = getattr(client, _method_name(client, action))
        request_class = getattr(models, f"{action}Request", None)
        args = []
        if request_class is not None:
            request = request_class().from_map({k: v for k, v in params.items() if v is not None})
            if region and hasattr(request, "region_id"):
                request.region_id = self.region
            args.append(request)
        response = method(*args, RuntimeOptions(autoretry=False))
        return response.body.to_map() if response.body is not None else {}

    def refusal(self, product: str, action: str, **params: Any) -> AlibabaCloudException:
        """The refusal a call must meet (AssertionError if it is answered)."""
        try:
            answer = self.call(product, action, **params)
        except AlibabaCloudException as refused:
            return refused
        raise AssertionError(f"{action} was answered, not refused: {answer}")

    def tags(self) -> list[dict[str, str]]:
        return [{"Key": TAG_KEY, "Value": self.run_id}]

    def wait(self, what: str, ready: Callable[[], Any], timeout: float) -> Any:
        """Poll `ready` (the cloud's own answer) until it is truthy, within `timeout`."""
        deadline = time.monotonic() + timeout
        pause = 0.05 if not self.real else 3.0
        while True:
            value = ready()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: not within {timeout:.0f}s")
            time.sleep(pause)


def _method_name(client: Any, action: str) -> str:
    """The SDK's `<snake_case>_with_options` method for an operation."""
    for name in dir(client):
        wanted = name.removesuffix("_with_options").replace("_", "") == action.lower()
        if wanted and name.endswith("_with_options") and not name.endswith("_async"):
            return name
    raise AttributeError(f"the SDK has no method for {action}")


def fake_id(prefix: str) -> str:
    """An id shaped like the cloud's that names nothing."""
    return f"{prefix}-{uuid.uuid4().hex[:20]}"
