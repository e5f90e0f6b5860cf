"""The cloud adapter: the only package that imports the Alibaba Cloud SDKs.

`CloudSession(account)` gives one client per product for a CloudAccount; calls raise only the
domain errors of `connections.cloud.errors`.
"""

from functools import cached_property

from connections.cloud.base import Credentials
from connections.cloud.credentials import credentials_for, forget_sessions
from connections.cloud.errors import (
    CloudAccountMismatch,
    CloudBusy,
    CloudError,
    CloudInvalidInput,
    CloudNotAuthorised,
    CloudNotFound,
    RetryableCloudError,
)
from connections.cloud.inventory import EcsApi, VpcApi
from connections.cloud.nlb import NlbApi
from connections.cloud.privatelink import PrivateLinkApi
from connections.cloud.sts import StsApi

__all__ = [
    "CloudAccountMismatch",
    "CloudBusy",
    "CloudError",
    "CloudInvalidInput",
    "CloudNotAuthorised",
    "CloudNotFound",
    "CloudSession",
    "Credentials",
    "RetryableCloudError",
    "forget_sessions",
]


class CloudSession:
    """The product clients for one cloud account, created on first use. `patient`: a call the
    account's rate limit has no room for waits for it in place (base.PATIENCE_SECONDS at most),
    for jobs that read one thing after another; a workflow step is refused it and waits its
    turn by re-scheduling."""

    def __init__(self, account, *, patient: bool = False):
        self.account, self.patient = account, patient

    @cached_property
    def credentials(self) -> Credentials:
        return credentials_for(self.account)

    def _api(self, api_class):
        return api_class(self.credentials, self.account.region, self.account.uid, self.patient)

    @cached_property
    def nlb(self) -> NlbApi:
        return self._api(NlbApi)

    @cached_property
    def privatelink(self) -> PrivateLinkApi:
        return self._api(PrivateLinkApi)

    @cached_property
    def vpc(self) -> VpcApi:
        return self._api(VpcApi)

    @cached_property
    def ecs(self) -> EcsApi:
        return self._api(EcsApi)

    @cached_property
    def sts(self) -> StsApi:
        return self._api(StsApi)

    def verify_account(self) -> None:
        """Refuse credentials that belong to another account than the one they are stored for.

        With another account's keys every lookup is "not found": a teardown would report
        success while deleting nothing, and an inventory sync would re-home that account's VPCs
        (and with them, teams' networks) to this one.
        """
        uid = str(self.sts.caller_identity().get("AccountId", ""))
        if uid != self.account.uid:
            raise CloudAccountMismatch(
                "AccountMismatch",
                f"The credentials of {self.account.name} belong to account {uid or 'unknown'}, "
                f"not {self.account.uid}.",
            )
