"""The problem types: where the `type` of every problem document points."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from connections.api.problem_types import PROBLEM_TYPES, Problem
from connections.api.schema import problems


class ProblemTypeSerializer(serializers.Serializer):
    code = serializers.CharField()
    status = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField()


@extend_schema_view(
    list=extend_schema(summary="Problem types", auth=[]),
    retrieve=extend_schema(
        summary="One problem type",
        description="Where the `type` of a problem document points.",
        auth=[],
        responses={200: ProblemTypeSerializer, **problems(404)},
    ),
)
class ProblemTypeViewSet(viewsets.ViewSet):
    """The error codes of the API, each with its status, title and description."""

    authentication_classes = []
    permission_classes = [AllowAny]
    serializer_class = ProblemTypeSerializer
    lookup_field = "code"
    lookup_value_regex = "[a-z_]+"

    @extend_schema(responses={200: ProblemTypeSerializer(many=True)})
    def list(self, request) -> Response:
        return Response(ProblemTypeSerializer(PROBLEM_TYPES.values(), many=True).data)

    def retrieve(self, request, code: str) -> Response:
        if code not in PROBLEM_TYPES:
            raise Problem("not_found", f"There is no problem type {code!r}.")
        return Response(ProblemTypeSerializer(PROBLEM_TYPES[code]).data)
