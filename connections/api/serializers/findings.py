"""Findings of the health sweep as the API shows them."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from connections import policies
from connections.api.serializers.access_requests import ServiceRefSerializer
from connections.api.serializers.common import (
    AccountSerializer,
    EnglishLabelField,
    Representation,
    absolute_url,
    link_field,
)
from connections.models import Finding


class FindingLinksSerializer(serializers.Serializer):
    service = link_field("The service it concerns, if any.")
    clean_up = link_field("POST to remove it (only what the portal made; the owners).")


class FindingSerializer(Representation):
    """Something the health sweep found in the cloud that no request of the portal accounts for."""

    kind_label = EnglishLabelField(source="get_kind_display")
    state = serializers.ChoiceField(
        choices=[Finding.OPEN, Finding.CLEANING, Finding.RESOLVED],
        help_text="open; cleaning (a clean-up is under way); resolved (gone, or cleaned up).",
    )
    account = AccountSerializer()
    service = ServiceRefSerializer(allow_null=True)
    cleanable = serializers.BooleanField(
        help_text="The portal made it, so a clean-up may remove it."
    )
    links = serializers.SerializerMethodField()

    class Meta:
        model = Finding
        fields = [
            "id",
            "kind",
            "kind_label",
            "state",
            "account",
            "service",
            "resource_id",
            "detail",
            "cleanable",
            "clean_up_error",
            "first_seen",
            "last_seen",
            "resolved_at",
            "links",
        ]

    @extend_schema_field(FindingLinksSerializer)
    def get_links(self, finding: Finding) -> dict:
        request = self.context["request"]
        links = {}
        if finding.service_id:
            links["service"] = absolute_url(request, "service-detail", pk=finding.service_id)
        if "clean_up" in policies.allowed_actions(request.user, finding):
            links["clean_up"] = absolute_url(request, "finding-clean-up", pk=finding.pk)
        return links
