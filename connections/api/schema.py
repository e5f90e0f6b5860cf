"""OpenAPI pieces shared by the views: the problem document, the error responses, the common
parameters and the response headers, and the postprocessing hooks."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from connections.api.problem_types import PROBLEM_CONTENT_TYPE, PROBLEM_TYPES
from connections.models import MAX_ROW_ID


class ProblemFieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField(
        allow_null=True, help_text="e.g. `zones[0].vswitch_id`; null for the whole request."
    )
    code = serializers.CharField(help_text="e.g. `zone_not_offered`, `unknown_vpc`, `required`.")
    message = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details, with the portal's `code` and field `errors`."""

    type = serializers.CharField(help_text="URI of the problem type: GET it for a description.")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    instance = serializers.CharField(allow_null=True, help_text="The request's path.")
    code = serializers.ChoiceField(choices=sorted(PROBLEM_TYPES))
    errors = ProblemFieldErrorSerializer(
        many=True, required=False, help_text="Validation failures: one entry per failed check."
    )


def _codes(status: int) -> str:
    return ", ".join(f"`{p.code}`" for p in PROBLEM_TYPES.values() if p.status == status)


DESCRIPTIONS = {
    400: "Invalid input",
    401: "No valid token (or session)",
    403: "Not allowed by the policies",
    404: "No such object, or not visible to you",
    405: "Method not allowed",
    406: "Only JSON (or HTML for browsers) can be answered",
    409: "Conflicts with the current state",
    413: "The body is too large",
    415: "The body is not JSON",
    422: "Idempotency-Key reused for another request",
    429: "Rate limited",
    503: "The database is busy; retry",
}


def problems(*statuses: int) -> dict:
    """`responses` entries of extend_schema for these error statuses, as problem+json."""
    return {
        (status, PROBLEM_CONTENT_TYPE): OpenApiResponse(
            ProblemSerializer, description=f"{DESCRIPTIONS[status]}: {_codes(status)}."
        )
        for status in sorted(set(statuses))
    }


# What any API operation may answer: a bad query string, Accept it cannot serve, a throttle, a
# busy database. Authenticated ones add 401; those with a body add 413 and 415.
ANY_PROBLEMS = (400, 406, 429, 503)
READ_PROBLEMS = (*ANY_PROBLEMS, 401)
DETAIL_PROBLEMS = (*READ_PROBLEMS, 404)
WRITE_PROBLEMS = (*READ_PROBLEMS, 403, 413, 415)


# --- parameters and response headers ------------------------------------------------------------

ID_IN_PATH = OpenApiParameter(
    "id", {"type": "integer", "minimum": 1, "maximum": MAX_ROW_ID}, OpenApiParameter.PATH
)
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="An ETag from an earlier answer: 304 if the object has not changed since.",
)
NOT_MODIFIED = OpenApiResponse(description="Not modified: the ETag still matches.")
ETAG_HEADER = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    response=[200, 304],
    description="A weak tag of the representation: send it back in If-None-Match.",
)
LOCATION_HEADER = OpenApiParameter(
    "Location",
    OpenApiTypes.URI,
    OpenApiParameter.HEADER,
    required=True,
    response=[201],
    description="The new object's URL.",
)
IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    # Printable ASCII; no space at either end, which HTTP would strip.
    {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]([ -~]*[!-~])?$"},
    OpenApiParameter.HEADER,
    description=(
        "Optional. Any unique string (e.g. a UUID), 1–255 printable ASCII characters. Sending "
        "the same request again with the same key returns the first answer; the same key with "
        "another body is refused (422). Keys expire after 24 hours."
    ),
)
IDEMPOTENT_REPLAYED_HEADER = OpenApiParameter(
    "Idempotent-Replayed",
    {"type": "string", "enum": ["true"]},
    OpenApiParameter.HEADER,
    response=[201, 202],
    description="`true` when this is the stored first answer to the same Idempotency-Key.",
)
IDEMPOTENT = [IDEMPOTENCY_KEY_PARAMETER, IDEMPOTENT_REPLAYED_HEADER]

# Headers every problem of a status carries, added by `document_problem_headers`.
PROBLEM_HEADERS = {
    "401": {
        "WWW-Authenticate": {
            "schema": {"type": "string"},
            "required": True,
            "description": 'The scheme to authenticate with: `Token realm="api"`.',
        }
    },
    **{
        status: {
            "Retry-After": {
                "schema": {"type": "string", "pattern": "^[0-9]+$"},
                "required": True,
                "description": "Seconds to wait before trying again.",
            }
        }
        for status in ("429", "503")
    },
}


# --- postprocessing hooks ------------------------------------------------------------------------


def _operations(result: dict):
    for path in result.get("paths", {}).values():
        for operation in path.values():
            if isinstance(operation, dict):  # not path-level `parameters`, which are not used
                yield operation


def allow_empty_query_parameters(result: dict, generator, request, public) -> dict:
    """An optional query parameter sent empty (as a search form sends its blank fields) counts as
    left out, as DRF and django-filter read query strings. The schema says so with
    `allowEmptyValue`."""
    for operation in _operations(result):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query" and not parameter.get("required"):
                parameter["allowEmptyValue"] = True
    return result


def document_problem_headers(result: dict, generator, request, public) -> dict:
    """401 answers carry WWW-Authenticate, 429 and 503 answers Retry-After, on every operation."""
    for operation in _operations(result):
        for status, response in operation.get("responses", {}).items():
            if status in PROBLEM_HEADERS:
                response.setdefault("headers", {}).update(PROBLEM_HEADERS[status])
    return result
