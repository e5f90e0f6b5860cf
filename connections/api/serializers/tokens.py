"""The API's tokens."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from connections.api import tokens
from connections.api.serializers.common import Representation
from connections.models import ApiToken


class ApiTokenSerializer(Representation):
    """A token as its owner may see it later: everything but the key."""

    active = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "active",
        ]

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_active(self, token: ApiToken) -> bool:
        return token.revoked_at is None and not tokens.is_expired(token)


class IssuedTokenSerializer(ApiTokenSerializer):
    token = serializers.CharField(
        source="key", help_text="The key: shown this once, only its hash is kept."
    )

    class Meta(ApiTokenSerializer.Meta):
        fields = ["token", *ApiTokenSerializer.Meta.fields]
