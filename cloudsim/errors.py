"""The cloud's error shape, and the constructors for the refusals every product shares.

An `ApiError` raised anywhere below the WSGI app becomes the JSON body
`{"RequestId", "HostId", "Code", "Message", "Recommend"}` with its HTTP status. Codes that no
source names outright are cloudsim's conventions and are listed in cloudsim/README.md.
"""

from __future__ import annotations


class ApiError(Exception):
    """A refusal the way the cloud words it: a code, a message, an HTTP status."""

    def __init__(
        self,
        code: str,
        message: str,
        status: int = 400,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.headers = headers or {}


def missing(name: str) -> ApiError:
    return ApiError(
        "MissingParameter",
        f'The input parameter "{name}" that is mandatory for processing this request '
        "is not supplied.",
    )


def invalid(name: str, reason: str) -> ApiError:
    return ApiError("InvalidParameter", f'The parameter "{name}" is invalid: {reason}.')


def not_found(code: str, what: str, ident: str) -> ApiError:
    return ApiError(code, f"The specified {what} {ident!r} does not exist.")


def wrong_state(code: str, what: str, ident: str, status: str, wanted: str) -> ApiError:
    return ApiError(
        code,
        f"The {what} {ident!r} is {status}; this operation needs it to be {wanted}.",
    )


def dry_run() -> ApiError:
    return ApiError("DryRunOperation", "Request validation has been passed with DryRun flag set.")
