"""The few errors the rest of the portal sees from the cloud, and the translation from the SDKs'.

Workflows decide with these alone: retry later (RetryableCloudError), wait for another change to
finish (CloudBusy), treat as gone (CloudNotFound), fail with a message a person can act on
(CloudInvalidInput), or fail for credentials or permissions (CloudNotAuthorised). What a code
means is decided per operation (connections/cloud/operations.py), in the cloud's spelling.
"""

from __future__ import annotations

import logging

from alibabacloud_credentials.exceptions import CredentialException
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException, ThrottlingException
from darabonba.exceptions import RetryError, UnretryableException
from Tea.exceptions import TeaException

from connections.cloud.operations import GUIDANCE, Operation

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


class CloudBusy(RetryableCloudError):
    """Another change of the same account or resource is still under way (the cloud refuses
    concurrent calls of some operations), or the account is at the operation's rate limit: the
    call is made again once it may be, however long that takes; it is not an error streak."""


class CloudNotFound(CloudError):
    """The resource does not exist (any more)."""


class CloudInvalidInput(CloudError):
    """The cloud refused the request as it stands: retrying the same call cannot help."""


class CloudNotAuthorised(CloudError):
    """The credentials are wrong, expired, or lack the permission."""


class CloudAccountMismatch(CloudError):
    """The credentials work, but in another account than the one they are stored for."""


# Codes any operation may answer (the gateway's and each product's common ones): the service is
# busy or failing, or the caller is throttled (Alibaba's common error codes; the Terraform
# provider's NeedRetry: ServiceUnavailable, any code with "Throttling" in it, any HTTP 5xx;
# NLB's SystemBusy, which its metadata lists on nearly every operation).
RETRYABLE_CODES = frozenset({"SystemBusy", "ServiceUnavailable", "InternalError"})
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
        "Forbidden.NoPermission",
        "Forbidden.AccessDenied",
        "EntityNotExist.Role",
    }
)
# RAM's refusals: the message names the action the policy lacks (GUIDANCE).
RAM_DENIALS = frozenset({"Forbidden.RAM", "Forbidden.NoPermission", "NoPermission"})


def translate(exc: Exception, operation: Operation | None = None) -> CloudError:
    """Map an exception raised by an SDK call of `operation` to one of the domain errors."""
    if isinstance(exc, CloudError):
        return exc
    if isinstance(exc, AlibabaCloudException):
        return _from_response(exc, operation)
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


def _from_response(exc: AlibabaCloudException, operation: Operation | None) -> CloudError:
    data = exc.data if isinstance(exc.data, dict) else {}
    code = str(exc.code or data.get("Code") or "Unknown")
    message = _guided(
        code, str(data.get("Message") or "The cloud refused the request."), data, operation
    )
    request_id = str(data.get("RequestId") or exc.request_id or "")
    status = exc.status_code
    kwargs = {"request_id": request_id, "status_code": status}
    if isinstance(exc, ThrottlingException) or "Throttling" in code:
        # Over the account's rate limit for the operation (the portal paces its calls to the
        # documented ones, pacing.py; the console or another tool may share them): wait, as for
        # a busy account. The header, when sent, is in milliseconds (tea-openapi's
        # get_throttling_time_left).
        retry_after = getattr(exc, "retry_after", None)
        return CloudBusy(code, message, retry_after=(retry_after or 0) / 1000 or None, **kwargs)
    if code == "InvalidSecurityToken.Expired":
        # An assumed-role session ran out: a new session makes the same call work.
        return RetryableCloudError(code, message, **kwargs)
    if code in AUTH_CODES:
        return CloudNotAuthorised(code, message, **kwargs)
    if operation is not None and code in operation.busy:
        return CloudBusy(code, message, **kwargs)
    retryable = operation.retry if operation is not None else frozenset()
    if code in retryable or code in RETRYABLE_CODES or (status or 0) >= 500:
        return RetryableCloudError(code, message, **kwargs)
    if operation is not None and code in operation.gone:
        return CloudNotFound(code, message, **kwargs)
    return CloudInvalidInput(code, message, **kwargs)


def _guided(code: str, message: str, data: dict, operation: Operation | None) -> str:
    """What the person should do about `code` (operations.GUIDANCE), then the cloud's words."""
    advice = GUIDANCE.get(code)
    if advice is None:
        return message
    denied = (
        data.get("AccessDeniedDetail") if isinstance(data.get("AccessDeniedDetail"), dict) else {}
    )
    action = operation.ram_action if operation is not None else "the operation"
    missing = str(denied.get("AuthAction") or action)
    return f"{advice.format(action=action, missing=missing)} ({message})"
