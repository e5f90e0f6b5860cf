"""The cloud's error shape, and the constructors for the refusals every product shares.

An `ApiError` raised anywhere below the WSGI app becomes the JSON body
`{"RequestId", "HostId", "Code", "Message", "Recommend"}` with its HTTP status. Codes that no
source names outright are cloudsim's conventions and are listed in cloudsim/README.md.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A refusal the way the cloud words it: a code, a message, an HTTP status."""

    def __init__(
        self,
        code: str,
        message: str,
        status: int = 400,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.headers = headers or {}
        # Fields the error body carries besides the usual five (a RAM denial's AccessDeniedDetail).
        self.extra = extra or {}


def missing(name: str) -> ApiError:
    return ApiError(
        "MissingParameter",
        f'The input parameter "{name}" that is mandatory for processing this request '
        "is not supplied.",
    )


def mandatory(name: str) -> ApiError:
    """The gateway's answer for a parameter the operation's metadata marks required."""
    return ApiError(f"Missing{name}", f"{name} is mandatory for this action.")


def invalid(name: str, reason: str) -> ApiError:
    return ApiError("InvalidParameter", f'The parameter "{name}" is invalid: {reason}.')


def not_found(code: str, what: str, ident: str, status: int = 400) -> ApiError:
    """PrivateLink answers its not-found codes with HTTP 400, NLB with 404 (the metadata)."""
    return ApiError(code, f"The specified {what} {ident!r} does not exist.", status)


def wrong_state(code: str, what: str, ident: str, status: str, wanted: str) -> ApiError:
    return ApiError(
        code,
        f"The {what} {ident!r} is {status}; this operation needs it to be {wanted}.",
    )


def dry_run() -> ApiError:
    return ApiError("DryRunOperation", "Request validation has been passed with DryRun flag set.")


def ram_denied(action: str, decision: str, principal_type: str, principal: str) -> ApiError:
    """RAM's refusal: HTTP 403 Forbidden.RAM, with AccessDeniedDetail naming the action (the RAM
    access-denied troubleshooting guide; ECS's announcement of its authentication change shows
    the body)."""
    return ApiError(
        "Forbidden.RAM",
        "User not authorized to operate on the specified resource, or this API doesn't support "
        "RAM.",
        status=403,
        extra={
            "AccessDeniedDetail": {
                "AuthAction": action,
                "AuthPrincipalType": principal_type,
                "AuthPrincipalDisplayName": principal,
                "NoPermissionType": decision,
                "PolicyType": "AccountLevelIdentityBasedPolicy",
            }
        },
    )
