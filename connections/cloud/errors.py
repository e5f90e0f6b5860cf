"""The few errors the rest of the portal sees from the cloud, and the translation from the SDKs'.

Workflows decide with these alone: retry later (RetryableCloudError), treat as gone
(CloudNotFound), fail with a message a person can act on (CloudInvalidInput), or fail for
credentials (CloudNotAuthorised).
"""

from __future__ import annotations

import logging

from alibabacloud_credentials.exceptions import CredentialException
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException, ThrottlingException
from darabonba.exceptions import RetryError, UnretryableException
from Tea.exceptions import TeaException

logger = logging.getLogger(__name__)


class CloudError(Exception):
    """A cloud call failed. `code` is the cloud's error code; `message` is safe to show."""

    def __init__(
        self, code: str, message: str, *, request_id: str = "", status_code: int | None = None
    ):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.request_id = request_id
        self.status_code = status_code


class RetryableCloudError(CloudError):
    """Throttled, busy, or a resource still changing: the same call may succeed later."""

    def __init__(self, *args, retry_after: float | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.retry_after = retry_after


class CloudNotFound(CloudError):
    """The resource does not exist (any more)."""


class CloudInvalidInput(CloudError):
    """The cloud refused the request as it stands: retrying the same call cannot help."""


class CloudNotAuthorised(CloudError):
    """The credentials are wrong, expired, or lack the permission."""


class CloudAccountMismatch(CloudError):
    """The credentials work, but in another account than the one they are stored for."""


# docs/cloud-api.md: "Retryable for NLB writes" and "Retryable for PrivateLink writes".
RETRYABLE_CODES = frozenset(
    {
        "SystemBusy",
        "Conflict.Lock",
        "IncorrectStatus.serverGroup",
        "IncorrectStatus.listener",
        "IncorrectStatus.loadBalancer",
        "OperationFailed.ResourceIsConfiguring",
        "ConcurrentCallNotSupported",
        "EndpointLocked",
        "EndpointOperationDenied",
        "EndpointConnectionOperationDenied",
        "EndpointServiceLocked",
        "EndpointServiceOperationDenied",
        "EndpointServiceConnectionDependence",
        "ServiceUnavailable",
        "InternalError",
        "Rejected.Throttling",
    }
)
NOT_FOUND_CODES = frozenset(
    {
        "ResourceNotFound.loadBalancer",
        "ResourceNotFound.listener",
        "ResourceNotFound.serverGroup",
        "ResourceNotFound.BackendServer",
        "EndpointServiceNotFound",
        "EndpointNotFound",
        "EndpointZoneNotFound",
    }
)
AUTH_CODES = frozenset(
    {
        "InvalidAccessKeyId.NotFound",
        "InvalidAccessKeyId.Inactive",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "InvalidSecurityToken.Malformed",
        "InvalidSecurityToken.MismatchWithAccessKey",
        "InvalidCredentials",
        "NoPermission",
        "Forbidden",
        "Forbidden.RAM",
        "Forbidden.AccessDenied",
        "EntityNotExist.Role",
    }
)


def translate(exc: Exception) -> CloudError:
    """Map an exception raised by an SDK call to one of the domain errors."""
    if isinstance(exc, CloudError):
        return exc
    if isinstance(exc, AlibabaCloudException):
        return _from_response(exc)
    if isinstance(exc, UnretryableException | RetryError | OSError | TimeoutError):
        # The network failed before the cloud answered: the call may or may not have happened,
        # which is why every create carries a ClientToken.
        return RetryableCloudError("NetworkError", "The cloud API could not be reached.")
    if isinstance(exc, CredentialException):
        # The default chain found nothing, or a credential provider failed: not the network.
        return CloudNotAuthorised("InvalidCredentials", "No usable cloud credentials were found.")
    if isinstance(exc, TeaException):
        code = getattr(exc, "code", None) or "SdkError"
        if code in AUTH_CODES:
            return CloudNotAuthorised(code, "The cloud credentials are not usable.")
        return CloudInvalidInput(
            code, str(getattr(exc, "message", "")) or "The SDK refused the call."
        )
    # Anything else is a bug on our side (or the SDK's): retrying the same call cannot help.
    logger.error("unexpected error from a cloud call", exc_info=exc)
    return CloudError("InternalError", "The cloud call failed unexpectedly; the log has details.")


def _from_response(exc: AlibabaCloudException) -> CloudError:
    data = exc.data if isinstance(exc.data, dict) else {}
    code = str(exc.code or data.get("Code") or "Unknown")
    message = str(data.get("Message") or "The cloud refused the request.")
    request_id = str(data.get("RequestId") or exc.request_id or "")
    status = exc.status_code
    kwargs = {"request_id": request_id, "status_code": status}
    if isinstance(exc, ThrottlingException):
        # The header is in milliseconds (tea-openapi's get_throttling_time_left).
        return RetryableCloudError(
            code, message, retry_after=(exc.retry_after or 0) / 1000, **kwargs
        )
    if code == "InvalidSecurityToken.Expired":
        # An assumed-role session ran out: a new session makes the same call work.
        return RetryableCloudError(code, message, **kwargs)
    if code in AUTH_CODES:
        return CloudNotAuthorised(code, message, **kwargs)
    if code in RETRYABLE_CODES or code.startswith("Throttling") or (status or 0) >= 500:
        return RetryableCloudError(code, message, **kwargs)
    if code in NOT_FOUND_CODES or code.endswith(".NotFound"):
        return CloudNotFound(code, message, **kwargs)
    return CloudInvalidInput(code, message, **kwargs)
