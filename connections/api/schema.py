"""OpenAPI pieces shared by the views: the problem document and the error responses."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from connections.api.errors import PROBLEM_CONTENT_TYPE, PROBLEM_TYPES


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
    409: "Conflicts with the object's state",
    415: "The body is not JSON",
    422: "Idempotency-Key reused for another request",
    429: "Rate limited",
}


def problems(*statuses: int) -> dict:
    """`responses` entries of extend_schema for these error statuses, as problem+json."""
    return {
        (status, PROBLEM_CONTENT_TYPE): OpenApiResponse(
            ProblemSerializer, description=f"{DESCRIPTIONS[status]}: {_codes(status)}."
        )
        for status in statuses
    }


# Every authenticated endpoint may answer these.
READ_PROBLEMS = (400, 401, 429)
WRITE_PROBLEMS = (400, 401, 403, 415, 429)


def allow_empty_query_parameters(result: dict, generator, request, public) -> dict:
    """Postprocessing hook: an optional query parameter sent empty (as a search form sends its
    blank fields) counts as left out, as DRF and django-filter read query strings. The schema
    says so with `allowEmptyValue`."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict):
                continue  # path-level `parameters`, which the generator does not use
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query" and not parameter.get("required"):
                    parameter["allowEmptyValue"] = True
    return result
