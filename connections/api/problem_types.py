"""The kinds of error the API answers, each a documented problem type (RFC 9457): its code (the
last part of its `type` URI, served under /api/v1/problems/), status and title. How an exception
becomes one of them: errors.py."""

from __future__ import annotations

from dataclasses import dataclass

from rest_framework import exceptions

PROBLEM_CONTENT_TYPE = "application/problem+json"


@dataclass(frozen=True)
class ProblemType:
    """One kind of error: its code (the last part of its `type` URI), status and title."""

    code: str
    status: int
    title: str
    description: str


PROBLEM_TYPES: dict[str, ProblemType] = {
    problem.code: problem
    for problem in (
        ProblemType(
            "validation_failed",
            400,
            "The request is not valid",
            "One entry in `errors` per failed check: the field (null for the request as a "
            "whole), a stable code such as `zone_not_offered` or `unknown_vpc`, and a message.",
        ),
        ProblemType("invalid_json", 400, "The body is not valid JSON", "Send a JSON object."),
        ProblemType(
            "bad_request",
            400,
            "Bad request",
            "The request itself is malformed, e.g. a Host header the portal does not serve.",
        ),
        ProblemType(
            "invalid_idempotency_key",
            400,
            "The Idempotency-Key header is not valid",
            "Use 1 to 255 printable ASCII characters, e.g. a UUID.",
        ),
        ProblemType(
            "invalid_credentials",
            400,
            "Wrong username or password",
            "The username and password do not match an active account.",
        ),
        ProblemType(
            "not_token_authenticated",
            400,
            "The request carries no token",
            "Only a request authenticated with a token can revoke that token.",
        ),
        ProblemType(
            "not_authenticated",
            401,
            "Authentication required",
            "Send `Authorization: Token <key>` with a token from POST /api/v1/auth/token/.",
        ),
        ProblemType("invalid_token", 401, "The token is not valid", "Unknown or malformed key."),
        ProblemType("token_expired", 401, "The token has expired", "Ask for a new token."),
        ProblemType("token_revoked", 401, "The token has been revoked", "Ask for a new token."),
        ProblemType(
            "authentication_failed", 401, "Authentication failed", "The credentials were refused."
        ),
        ProblemType(
            "csrf_failed",
            403,
            "CSRF check failed",
            "A browser session's unsafe request (POST, DELETE) needs the CSRF token in the "
            "X-CSRFToken header. Scripts should use a token instead of a session.",
        ),
        ProblemType(
            "permission_denied",
            403,
            "Not allowed",
            "The policies do not let this user do this (e.g. only the service's owners approve).",
        ),
        ProblemType(
            "not_found",
            404,
            "Not found",
            "It does not exist, or this user may not see it.",
        ),
        ProblemType(
            "method_not_allowed", 405, "Method not allowed", "See the schema for the methods."
        ),
        ProblemType(
            "not_acceptable", 406, "Not acceptable", "The API answers JSON (or HTML for browsers)."
        ),
        ProblemType(
            "invalid_transition",
            409,
            "Not possible in the current state",
            "The object's state does not allow this (e.g. approving a connected request).",
        ),
        ProblemType(
            "concurrent_change",
            409,
            "Changed by someone else",
            "The state changed while this request ran; read it again and retry if still needed.",
        ),
        ProblemType(
            "service_has_live_requests",
            409,
            "The service still has live connections",
            "Revoke them first, or retire with ?force=true to revoke them in the same step.",
        ),
        ProblemType(
            "idempotency_key_in_progress",
            409,
            "A request with this Idempotency-Key is still running",
            "Retry once the first request has answered.",
        ),
        ProblemType(
            "too_many_tokens",
            409,
            "Too many active tokens",
            "Each person may hold a limited number of active tokens (API_MAX_TOKENS_PER_USER): "
            "revoke one you no longer use (DELETE /api/v1/auth/tokens/{id}/) first.",
        ),
        ProblemType(
            "payload_too_large",
            413,
            "The body is too large",
            "The request body is larger than the portal accepts (DATA_UPLOAD_MAX_MEMORY_SIZE).",
        ),
        ProblemType(
            "unsupported_media_type",
            415,
            "Unsupported media type",
            "Send the body as application/json.",
        ),
        ProblemType(
            "idempotency_key_reused",
            422,
            "The Idempotency-Key was used for another request",
            "A key stands for one request (same path, same body) for 24 hours: use a new key.",
        ),
        ProblemType(
            "throttled",
            429,
            "Too many requests",
            "Wait the number of seconds in Retry-After.",
        ),
        ProblemType(
            "too_many_waits",
            429,
            "Too many waits at once",
            "Each person may hold a few `wait_for` reads open at a time "
            "(API_MAX_WAITS_PER_USER): wait for one to answer, or poll with If-None-Match.",
        ),
        ProblemType(
            "internal_error",
            500,
            "Internal error",
            "An unexpected error, logged on the server; nothing about it is sent to the client.",
        ),
        ProblemType(
            "temporarily_unavailable",
            503,
            "Temporarily unavailable",
            "The database, the cache or the task queue is busy or out of reach; retry after the "
            "number of seconds in Retry-After.",
        ),
    )
}


class Problem(exceptions.APIException):
    """An error of one of the types above, raised by API code that is not a service."""

    def __init__(self, code: str, detail: str | None = None):
        problem = PROBLEM_TYPES[code]
        self.status_code = problem.status
        super().__init__(detail or problem.title, code=code)
