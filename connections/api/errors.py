"""Every API error as problem details (RFC 9457): `application/problem+json` with type, title,
status, detail and instance, a stable `code`, and for validation failures an `errors` list of
`{field, code, message}` that carries the verbs' own codes (`zone_not_offered`, ...).

The exception handler is the catch-all: whatever a view raises becomes a problem document, and
an unexpected exception is logged here with its traceback, which never reaches the client.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from django.core.exceptions import (
    NON_FIELD_ERRORS,
    DisallowedHost,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, InterfaceError, OperationalError
from django.http import Http404, HttpRequest, JsonResponse
from django.urls import Resolver404, resolve, reverse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import set_rollback

from connections.api.problem_types import PROBLEM_CONTENT_TYPE, PROBLEM_TYPES
from connections.states import InvalidTransition, LostRace
from portal import outages

logger = logging.getLogger(__name__)


# Service refusals that are about the object's current state rather than the input: 409.
CONFLICT_CODES = frozenset({"service_has_live_requests"})
# Codes that DRF gives its exceptions, renamed to ours.
DRF_CODES = {"parse_error": "invalid_json", "unsupported_media_type": "unsupported_media_type"}


@dataclass
class Described:
    status: int
    code: str
    detail: str
    errors: list[dict] | None = None
    headers: dict[str, str] | None = None


# --- turning exceptions into problems ------------------------------------------------------------


def _join(path: str | None, key: str | int | None) -> str | None:
    if key is None:
        return path
    if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def flatten_drf_errors(detail, path: str | None = None) -> Iterator[dict]:
    """DRF's nested error detail as a flat list; nested fields become `zones[0].vswitch_id`."""
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            non_field = key in (NON_FIELD_ERRORS, api_settings.NON_FIELD_ERRORS_KEY)
            yield from flatten_drf_errors(value, path if non_field else _join(path, key))
    elif isinstance(detail, list):
        for index, item in enumerate(detail):
            if isinstance(item, (Mapping, list)):
                # One entry per item of a list of objects: the index says which.
                yield from flatten_drf_errors(item, _join(path, index))
            else:
                yield from flatten_drf_errors(item, path)
    else:
        code = getattr(detail, "code", None) or "invalid"
        yield {"field": path, "code": code, "message": str(detail)}


def flatten_django_errors(error: DjangoValidationError) -> Iterator[dict]:
    """A service's ValidationError, one entry per check, with the check's code."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            for item in errors:
                yield {
                    "field": None if field == NON_FIELD_ERRORS else field,
                    "code": item.code or "invalid",
                    "message": " ".join(item.messages),
                }
    else:
        for item in error.error_list:
            yield {
                "field": None,
                "code": item.code or "invalid",
                "message": " ".join(item.messages),
            }


def _rename(errors: list[dict], field_names: Mapping[str, str]) -> list[dict]:
    """Service field names (`vpc`) as the API calls them (`vpc_id`)."""
    for entry in errors:
        field = entry["field"]
        if field:
            head, sep, rest = field.partition(".")
            head, bracket, index = head.partition("[")
            entry["field"] = field_names.get(head, head) + bracket + index + sep + rest
    return errors


def _validation(errors: list[dict]) -> Described:
    conflicts = [e["code"] for e in errors if e["code"] in CONFLICT_CODES]
    code = conflicts[0] if conflicts else "validation_failed"
    detail = " ".join(e["message"] for e in errors) or PROBLEM_TYPES[code].title
    return Described(PROBLEM_TYPES[code].status, code, detail, errors)


# Errors of the database that say "not now" rather than "never": a lock held too long, a statement
# or lock timeout, a deadlock or serialisation failure, a connection lost or refused. PostgreSQL
# names them by SQLSTATE (class 08 connection, 40 rollback, 53 resources, 55P03 lock not
# available, 57014 statement timeout, 57P0x shutdown); SQLite only by its message.
TRANSIENT_SQLSTATE_PREFIXES = ("08", "40", "53", "55P03", "57014", "57P0")
# Whole phrases, not words: "connection" alone would match "no such table: connections_vpc".
TRANSIENT_MESSAGES = (
    "database is locked",
    "database table is locked",
    "could not connect",
    "connection refused",
    "server closed the connection",
    "connection is closed",
    "connection already closed",
    "terminating connection",
    "timeout expired",
    "timed out",
)
RETRY_AFTER_SECONDS = "1"


def is_transient_database_error(exc: Exception) -> bool:
    """True for an error that a retry may not meet again (see above). InterfaceError is how
    psycopg reports a connection that closed under the request."""
    if not isinstance(exc, (OperationalError, InterfaceError)):
        return False
    cause = exc.__cause__ or exc
    sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    if sqlstate:
        return sqlstate.startswith(TRANSIENT_SQLSTATE_PREFIXES)
    message = str(cause).lower()
    return any(words in message for words in TRANSIENT_MESSAGES)


def outage_problem(exc: BaseException) -> Described:
    logger.warning("A request met the cache or the broker out of reach: %s", exc)
    return Described(
        503,
        "temporarily_unavailable",
        PROBLEM_TYPES["temporarily_unavailable"].title,
        headers={"Retry-After": str(outages.RETRY_AFTER_SECONDS)},
    )


def _internal_error(exc: Exception) -> Described:
    logger.error("Unhandled error in an API request", exc_info=exc)
    return Described(500, "internal_error", PROBLEM_TYPES["internal_error"].description)


def describe(exc: Exception, field_names: Mapping[str, str] | None = None) -> Described:
    """Status, code, message and field errors for any exception a view may raise."""
    field_names = field_names or {}
    if isinstance(exc, LostRace):  # before InvalidTransition, its base class
        return Described(409, "concurrent_change", str(exc))
    if isinstance(exc, InvalidTransition):
        return Described(409, "invalid_transition", str(exc))
    if isinstance(exc, DjangoValidationError):
        return _validation(_rename(list(flatten_django_errors(exc)), field_names))
    if isinstance(exc, exceptions.ValidationError):
        return _validation(_rename(list(flatten_drf_errors(exc.detail)), field_names))
    if isinstance(exc, Http404):
        return Described(404, "not_found", PROBLEM_TYPES["not_found"].description)
    if isinstance(exc, DjangoPermissionDenied):
        message = str(exc) or PROBLEM_TYPES["permission_denied"].title
        return Described(403, "permission_denied", message)
    if isinstance(exc, RequestDataTooBig):  # before SuspiciousOperation, its base class
        return Described(413, "payload_too_large", PROBLEM_TYPES["payload_too_large"].description)
    if isinstance(exc, SuspiciousOperation):
        # Not the exception's text: it would tell a stranger how the server is configured.
        logger.warning("Suspicious API request: %s", type(exc).__name__)
        return Described(400, "bad_request", PROBLEM_TYPES["bad_request"].description)
    if isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else "error"
        code = DRF_CODES.get(code, code)
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if exc.status_code == 429:
            # Always a Retry-After (the schema promises one): DRF's throttles may give no wait.
            wait = getattr(exc, "wait", None)
            headers["Retry-After"] = str(max(1, math.ceil(wait))) if wait else RETRY_AFTER_SECONDS
        return Described(exc.status_code, code, str(exc.detail), headers=headers)
    if isinstance(exc, DataError):
        # A value the checks let through but the database refused (too long, out of range).
        logger.warning("API request carried a value the database refused: %s", exc)
        return Described(
            400,
            "validation_failed",
            "A value is too long or out of range.",
            [{"field": None, "code": "invalid", "message": "A value is too long or out of range."}],
        )
    if is_transient_database_error(exc):
        logger.warning("API request met a busy or unreachable database: %s", exc)
        return Described(
            503,
            "temporarily_unavailable",
            PROBLEM_TYPES["temporarily_unavailable"].title,
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        )
    if outages.is_outage(exc):
        return outage_problem(exc)
    # Anything else, an IntegrityError included: the verbs turn the conflicts a client can
    # cause (a duplicate name, a second live request) into their own codes, so one that gets here
    # is a bug to log, not the client's doing.
    return _internal_error(exc)


# --- rendering -----------------------------------------------------------------------------------


def _type_uri(request: HttpRequest | None, code: str) -> str:
    """Where the problem type is described: absolute when the request's host allows it."""
    if code not in PROBLEM_TYPES:
        return "about:blank"
    path = reverse("api:problem-detail", kwargs={"code": code})
    try:
        return request.build_absolute_uri(path) if request else path
    except DisallowedHost:
        return path  # a relative reference, resolved against the request's own URL


def problem_document(request: HttpRequest | None, described: Described) -> dict:
    problem = PROBLEM_TYPES.get(described.code)
    document = {
        "type": _type_uri(request, described.code),
        "title": problem.title if problem else described.detail,
        "status": described.status,
        "detail": described.detail,
        "instance": request.get_full_path() if request else None,
        "code": described.code,
    }
    if described.errors is not None:
        document["errors"] = described.errors
    return document


def exception_handler(exc: Exception, context: dict) -> Response:
    """DRF's EXCEPTION_HANDLER: every exception of every API view becomes a problem document."""
    view = context.get("view")
    request = context.get("request")
    described = describe(exc, getattr(view, "problem_field_names", None))
    set_rollback()
    response = Response(
        problem_document(request, described), status=described.status, headers=described.headers
    )
    # The browsable API renders the problem as its HTML page; JSON clients get problem+json.
    renderer = getattr(request, "accepted_renderer", None)
    if renderer is None or renderer.format == "json":
        response.content_type = PROBLEM_CONTENT_TYPE
    return response


def json_problem(request: HttpRequest, described: Described) -> JsonResponse:
    return JsonResponse(
        problem_document(request, described),
        status=described.status,
        content_type=PROBLEM_CONTENT_TYPE,
        headers=described.headers,
    )


def _resolves_to_an_endpoint(path: str) -> bool:
    try:
        return resolve(path).func is not api_not_found
    except Resolver404:
        return False


@csrf_exempt  # a 404 for every method: a POST to no endpoint must not get the CSRF page
def api_not_found(request: HttpRequest, *args, **kwargs) -> JsonResponse:
    """Any /api/ URL that no route matches: a problem, never the site's HTML 404 page.

    Every route ends with a slash; a client that left it out is told so (a redirect would turn
    its POST into a GET)."""
    detail = "No API endpoint at this URL."
    if not request.path.endswith("/") and _resolves_to_an_endpoint(request.path + "/"):
        detail = f"No API endpoint at this URL: add a trailing slash ({request.path}/)."
    return json_problem(request, Described(404, "not_found", detail))


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")
