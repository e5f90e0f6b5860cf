"""One SDK client per product and account, with the portal's endpoint, timeouts and errors.

Each product class (nlb.py, privatelink.py, …) sends operations by their wire name with their
wire parameters; the official SDK builds the typed request, signs it and flattens it, exactly as
it would for any other caller. Every answer comes back as a `CloudResult` with the cloud's
request id, which the workflows keep on their events.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from time import sleep
from typing import Any, ClassVar
from urllib.parse import urlparse

from alibabacloud_credentials.client import Client as DefaultCredentialChain
from alibabacloud_tea_openapi.utils_models import Config
from darabonba.runtime import RuntimeOptions
from django.conf import settings

from connections.cloud import operations, pacing
from connections.cloud.errors import CloudBusy, translate

logger = logging.getLogger(__name__)

# How long a patient client (the health sweep, the inventory sync, check_cloud: jobs that read
# one thing after another, not workflow steps, which wait their turn by re-scheduling) sleeps for
# its turn under a rate limit: NLB's reads come back within the second; longer, it is refused.
PATIENCE_SECONDS = 10.0
# Milliseconds, as the SDK counts them. A read that outlasts this is treated as a network error
# and retried by the workflow (safe: every create carries a ClientToken).
CONNECT_TIMEOUT_MS = 5_000
READ_TIMEOUT_MS = 20_000


@dataclass(frozen=True)
class Credentials:
    """What an SDK client authenticates with. Its repr never shows the secret."""

    access_key_id: str = ""
    access_key_secret: str = ""
    security_token: str = ""
    expires_at: float | None = None  # epoch seconds, for STS sessions

    def __repr__(self) -> str:
        kind = (
            "default chain"
            if self.uses_default_chain
            else ("sts" if self.security_token else "key")
        )
        return f"Credentials({kind}, {self.access_key_id or '-'})"

    @property
    def uses_default_chain(self) -> bool:
        return not self.access_key_id

    def config_kwargs(self) -> dict:
        if self.uses_default_chain:
            return {"credential": DefaultCredentialChain()}
        kwargs = {"access_key_id": self.access_key_id, "access_key_secret": self.access_key_secret}
        if self.security_token:
            kwargs["security_token"] = self.security_token
        return kwargs


@dataclass(frozen=True)
class CloudResult:
    """The body of a successful answer (wire names, as the cloud sent them) and its request id."""

    data: dict[str, Any]
    request_id: str

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)


def build_config(credentials: Credentials, region: str, product_host: str) -> Config:
    """SDK configuration: CLOUD_ENDPOINT (cloudsim) when set, else the product's regional host."""
    config = Config(
        region_id=region,
        connect_timeout=CONNECT_TIMEOUT_MS,
        read_timeout=READ_TIMEOUT_MS,
        **credentials.config_kwargs(),
    )
    if settings.CLOUD_ENDPOINT:
        endpoint = urlparse(settings.CLOUD_ENDPOINT)
        config.endpoint = endpoint.netloc
        config.protocol = endpoint.scheme or "http"
    else:
        config.endpoint = product_host.format(region=region)
        config.protocol = "https"
    return config


class ProductApi:
    """Calls one product's operations through its official SDK client."""

    client_class: ClassVar[type]
    models: ClassVar[Any]
    host: ClassVar[str]
    product: ClassVar[str]  # its name in connections/cloud/operations.py and in RAM

    def __init__(
        self, credentials: Credentials, region: str, account_uid: str = "", patient: bool = False
    ):
        self.region, self.account_uid, self.patient = region, account_uid, patient
        self._client = self.client_class(build_config(credentials, region, self.host))

    @classmethod
    def _method_name(cls, action: str) -> str:
        """The SDK's `<snake_case>_with_options` method for an operation, found once per class."""
        if "_methods" not in cls.__dict__:
            cls._methods = {
                name.removesuffix("_with_options").replace("_", ""): name
                for name in dir(cls.client_class)
                if name.endswith("_with_options") and not name.endswith("_async")
            }
        return cls._methods[action.lower()]

    def call(self, action: str, **params: Any) -> CloudResult:
        """Send `action` with wire-named parameters; raise a domain CloudError on failure.

        Only the operations connections/cloud/operations.py lists may be called (a KeyError
        otherwise): that list is what the RAM policies grant. Every call carries the account's
        RegionId where the operation takes one: PrivateLink documents it as required on every
        operation, and the SDK does not add it from the client's configuration. A call the
        account's documented rate limit leaves no room for is not sent: CloudBusy says when
        there will be (pacing.py), or, for a patient client, the call waits for it.
        """
        operation = operations.operation(self.product, action)
        while (wait := pacing.wait_for_turn(self.account_uid, self.region, operation)) > 0:
            if not self.patient or wait > PATIENCE_SECONDS:
                calls, period = operation.rate_limit
                raise CloudBusy(
                    "Paced",
                    f"{action} is at the cloud's rate limit for the account ({calls} calls in "
                    f"{period:g} s); the next in {wait:.1f} s.",
                    retry_after=wait,
                )
            sleep(wait)
        return self.send(action, params, operation)

    def send(
        self, action: str, params: dict[str, Any], operation: operations.Operation | None
    ) -> CloudResult:
        """`call` without the check that the portal calls `action` (`operation`: its entry in
        the table, which says what its error codes mean; None reads codes generically)."""
        method = getattr(self._client, self._method_name(action))
        # Operations without parameters (GetCallerIdentity) have no request model.
        request_class = getattr(self.models, f"{action}Request", None)
        args = []
        if request_class is not None:
            request = request_class().from_map({k: v for k, v in params.items() if v is not None})
            if hasattr(request, "region_id") and request.region_id is None:
                request.region_id = self.region
            args = [request]
        try:
            response = method(*args, RuntimeOptions(autoretry=False))
        except Exception as exc:
            error = translate(exc, operation)
            logger.info("cloud %s failed: %s (request %s)", action, error.code, error.request_id)
            raise error from exc
        body = response.body.to_map() if response.body is not None else {}
        return CloudResult(data=body, request_id=str(body.get("RequestId", "")))

    def pages(self, action: str, list_key: str, page_size: int, **params: Any) -> list[dict]:
        """Every item a MaxResults/NextToken List… `action` returns, page after page."""
        items: list[dict] = []
        token = None
        while True:
            result = self.call(action, MaxResults=page_size, NextToken=token, **params)
            items.extend(result.get(list_key) or [])
            token = result.get("NextToken") or None
            if token is None:
                return items

    def tagged_ids(
        self, action: str, list_key: str, id_key: str, tags: dict[str, str], page_size: int
    ) -> list[str]:
        """The ids of what a List… `action` finds carrying every one of `tags`: what the portal
        made and tagged, whose id was lost before it was saved (every page: the tags should
        name one record's resources, and a second one must be seen to be refused)."""
        tag_filter = [{"Key": key, "Value": value} for key, value in tags.items()]
        return [item[id_key] for item in self.pages(action, list_key, page_size, Tag=tag_filter)]
