"""The token endpoints: sign in for a token, revoke it, list and revoke one's tokens."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import authenticate
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from connections.api import tokens
from connections.api.filters import StrictOrderingFilter
from connections.api.inputs import TokenRequestSerializer
from connections.api.problem_types import Problem
from connections.api.schema import DETAIL_PROBLEMS, ID_IN_PATH, READ_PROBLEMS, problems
from connections.api.serializers import ApiTokenSerializer, IssuedTokenSerializer
from connections.api.throttling import ThrottledBeforeAuthentication, TokenEndpointRateThrottle
from connections.api.views import PortalViewSet, validated
from connections.models import ApiToken
from portal.signin import FailedSignIns


class TokenView(ThrottledBeforeAuthentication, APIView):
    """POST: a new token for a username and password. DELETE: revoke the token in use."""

    def _signing_in(self) -> bool:
        # No request when the schema generator inspects the view.
        return getattr(self.request, "method", None) == "POST"

    def get_authenticators(self) -> list:
        # Signing in must not fail on a stale token the client still sends.
        return [] if self._signing_in() else super().get_authenticators()

    def get_permissions(self) -> list:
        return [AllowAny()] if self._signing_in() else [IsAuthenticated()]

    def get_throttles(self) -> list:
        return [TokenEndpointRateThrottle()] if self._signing_in() else super().get_throttles()

    @extend_schema(
        summary="Get a token",
        description="The key is in `token`, shown this once. Send it as "
        "`Authorization: Token <key>`. Tokens expire after 30 days unless `expires_in_days` "
        "(at most API_TOKEN_MAX_TTL_DAYS). After repeated wrong passwords for a username, its "
        "sign-ins are refused (429) for a while, wherever they come from.",
        request=TokenRequestSerializer,
        responses={
            201: IssuedTokenSerializer,
            **problems(400, 406, 409, 413, 415, 429, 503),
        },
        auth=[],
    )
    def post(self, request) -> Response:
        data = validated(TokenRequestSerializer, request.data, request)
        failures = FailedSignIns(data["username"])
        if not failures.attempt():
            # Refused before the password is checked: a guesser learns nothing from the answer.
            raise exceptions.Throttled(
                wait=failures.wait(),
                detail="Too many failed sign-ins for this username; try again later.",
            )
        user = authenticate(request, username=data["username"], password=data["password"])
        if user is None or not user.is_active:
            raise Problem("invalid_credentials")
        failures.succeeded()
        days = data.get("expires_in_days")
        try:
            token, key = tokens.issue_token(
                user, name=data["name"], ttl=timedelta(days=days) if days else None
            )
        except tokens.TooManyTokens:
            raise Problem("too_many_tokens") from None
        token.key = key  # for this one answer only: the database has the hash
        response = Response(IssuedTokenSerializer(token).data, status=status.HTTP_201_CREATED)
        # A secret: no cache on the way (a proxy, the browser's disk) may keep a copy.
        response["Cache-Control"] = "no-store"
        return response

    @extend_schema(
        summary="Revoke the token in use",
        request=None,
        responses={204: OpenApiResponse(description="Revoked."), **problems(*READ_PROBLEMS)},
    )
    def delete(self, request) -> Response:
        if not isinstance(request.auth, ApiToken):
            raise Problem("not_token_authenticated")
        tokens.revoke_token(request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(
        summary="Your tokens",
        description="Without their keys.",
        responses={200: ApiTokenSerializer(many=True), **problems(*READ_PROBLEMS)},
    ),
    destroy=extend_schema(
        summary="Revoke one of your tokens",
        parameters=[ID_IN_PATH],
        responses={204: OpenApiResponse(description="Revoked."), **problems(*DETAIL_PROBLEMS)},
    ),
)
class ApiTokenViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, PortalViewSet):
    """The user's own tokens: listed without their keys; DELETE revokes one (kept, for the
    record of when it was used)."""

    queryset = ApiToken.objects.none()  # the model, for the schema; rows: get_queryset
    serializer_class = ApiTokenSerializer
    filter_backends = [StrictOrderingFilter]
    ordering_fields = ["created_at"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self) -> QuerySet[ApiToken]:
        return ApiToken.objects.filter(user=self.request.user)

    def perform_destroy(self, token: ApiToken) -> None:
        tokens.revoke_token(token)
