"""Access requests as the API shows them, with their zones, health history and waits."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from connections import policies
from connections.api.serializers.common import (
    HEALTH_LABELS,
    RECENT_HISTORY_POINTS,
    REQUEST_STATE_LABELS,
    AccountSerializer,
    EventSerializer,
    HandBuilt,
    LastErrorField,
    Representation,
    Shape,
    TeamSerializer,
    absolute_url,
    as_float,
    iso_datetime,
    label_of,
    last_error_of,
    link_field,
    recent_history,
    team_dict,
)
from connections.choices import RequestState
from connections.models import AccessRequest, HealthSample, PublishedService, RequestZone


class ServiceRefSerializer(Representation):
    class Meta:
        model = PublishedService
        fields = ["id", "name"]


class RequestZoneSerializer(Representation):
    """A zone of the endpoint: the chosen vSwitch, then the ENI, its IP and the zone's domain."""

    vswitch_id = serializers.CharField(source="vswitch.vswitch_id")

    class Meta:
        model = RequestZone
        fields = ["zone_id", "vswitch_id", "status", "eni_id", "eni_ip", "zone_domain"]


class AccessRequestLinksSerializer(serializers.Serializer):
    self = link_field("This request (GET; DELETE revokes it).")
    service = link_field("The service it asks for.")
    events = link_field("Its audit trail.")
    health_history = link_field("Its health history: 30 days, hourly after the first day.")
    approve = link_field("POST to approve (the service's owners, while pending approval).")
    reject = link_field("POST `{reason}` to reject (the service's owners, while pending).")
    revoke = link_field("DELETE to revoke (either side, while it is live).")
    retry = link_field("POST to resume it after a failure (either side).")


class WaitSerializer(Shape):
    wait_for = serializers.ChoiceField(choices=RequestState.choices)
    outcome = serializers.ChoiceField(
        choices=["reached", "timeout", "unreachable", "failed"],
        help_text="reached; timeout; unreachable: the state can never come from the current one; "
        "failed: the request failed and needs a retry first.",
    )
    state = serializers.ChoiceField(choices=RequestState.choices)
    waited_seconds = serializers.FloatField()
    detail = serializers.CharField()


class AccessRequestSerializer(HandBuilt, Representation):
    """A team's access to a service: its state, health, endpoint and zones, and what can be done."""

    state_label = serializers.CharField(source="get_state_display")
    health_label = serializers.CharField(source="get_health_display")
    service = ServiceRefSerializer()
    consumer_team = TeamSerializer()
    requester = serializers.SerializerMethodField(help_text="Username of who asked.")
    vpc_id = serializers.CharField(source="vpc.vpc_id")
    account = AccountSerializer(source="vpc.account")
    security_group_ids = serializers.SerializerMethodField()
    zones = RequestZoneSerializer(many=True)
    last_error = LastErrorField()
    links = serializers.SerializerMethodField()

    class Meta:
        model = AccessRequest
        fields = [
            "id",
            "state",
            "state_label",
            "health",
            "health_label",
            "health_reason",
            "health_checked_at",
            "probe_latency_ms",
            "service",
            "consumer_team",
            "requester",
            "vpc_id",
            "account",
            "security_group_ids",
            "zones",
            "endpoint_id",
            "endpoint_domain",
            "justification",
            "decision_reason",
            "expires_at",
            "last_error",
            "created_at",
            "updated_at",
            "connected_at",
            "closed_at",
            "links",
        ]

    def to_representation(self, access_request: AccessRequest) -> dict:
        """The fields declared above (the schema), built straight from the rows of the view's
        queryset (`with_details`): DRF's generic path inspects every field's source on every
        row, most of a page's cost. Equal to the generic output
        (tests/connections/test_api_access_requests.py checks it, for both sides and states)."""
        time_zone = self.time_zone
        vpc = access_request.vpc
        row = {
            "id": access_request.pk,
            "state": access_request.state,
            "state_label": label_of(REQUEST_STATE_LABELS, access_request.state),
            "health": access_request.health,
            "health_label": label_of(HEALTH_LABELS, access_request.health),
            "health_reason": access_request.health_reason,
            "health_checked_at": iso_datetime(access_request.health_checked_at, time_zone),
            "probe_latency_ms": as_float(access_request.probe_latency_ms),
            "service": {"id": access_request.service.pk, "name": access_request.service.name},
            "consumer_team": team_dict(access_request.consumer_team),
            "requester": self.get_requester(access_request),
            "vpc_id": vpc.vpc_id,
            "account": {"name": vpc.account.name, "uid": vpc.account.uid},
            "security_group_ids": self.get_security_group_ids(access_request),
            "zones": [
                {
                    "zone_id": zone.zone_id,
                    "vswitch_id": zone.vswitch.vswitch_id,
                    "status": zone.status,
                    "eni_id": zone.eni_id,
                    "eni_ip": zone.eni_ip,
                    "zone_domain": zone.zone_domain,
                }
                for zone in access_request.zones.all()
            ],
            "endpoint_id": access_request.endpoint_id,
            "endpoint_domain": access_request.endpoint_domain,
            "justification": access_request.justification,
            "decision_reason": access_request.decision_reason,
            "expires_at": iso_datetime(access_request.expires_at, time_zone),
            "last_error": last_error_of(access_request),
            "created_at": iso_datetime(access_request.created_at, time_zone),
            "updated_at": iso_datetime(access_request.updated_at, time_zone),
            "connected_at": iso_datetime(access_request.connected_at, time_zone),
            "closed_at": iso_datetime(access_request.closed_at, time_zone),
            "links": self.get_links(access_request),
        }
        return self.with_declared_rest(access_request, row)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_requester(self, access_request: AccessRequest) -> str | None:
        return access_request.requester.get_username() if access_request.requester_id else None

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_security_group_ids(self, access_request: AccessRequest) -> list[str]:
        return [group.security_group_id for group in access_request.security_groups.all()]

    @extend_schema_field(AccessRequestLinksSerializer)
    def get_links(self, access_request: AccessRequest) -> dict:
        request = self.context["request"]
        actions = policies.allowed_actions(self.viewer, access_request)
        links = {
            "self": absolute_url(request, "accessrequest-detail", pk=access_request.pk),
            "service": absolute_url(request, "service-detail", pk=access_request.service_id),
            "events": f"{absolute_url(request, 'event-list')}?access_request={access_request.pk}",
            "health_history": absolute_url(
                request, "accessrequest-health-history", pk=access_request.pk
            ),
        }
        for action in ("approve", "reject", "retry"):
            if action in actions:
                links[action] = absolute_url(
                    request, f"accessrequest-{action}", pk=access_request.pk
                )
        if "revoke" in actions:
            links["revoke"] = links["self"]
        return links


class HealthSampleSerializer(Representation):
    """A point of a request's health history: every change, and every few minutes between;
    after a day one point an hour (`hourly`), the worst of that hour."""

    class Meta:
        model = HealthSample
        fields = ["at", "health", "latency_ms", "hourly"]


class AccessRequestDetailSerializer(AccessRequestSerializer):
    events = EventSerializer(many=True, help_text="The timeline, oldest first.")
    health_history = serializers.SerializerMethodField(
        help_text=f"The last day's health points, newest first (at most {RECENT_HISTORY_POINTS}); "
        "links.health_history pages through 30 days."
    )
    wait = serializers.SerializerMethodField(help_text="Only with ?wait_for: how the wait ended.")

    class Meta(AccessRequestSerializer.Meta):
        fields = [*AccessRequestSerializer.Meta.fields, "events", "health_history", "wait"]

    @extend_schema_field(HealthSampleSerializer(many=True))
    def get_health_history(self, access_request: AccessRequest) -> list:
        return HealthSampleSerializer(recent_history(access_request), many=True).data

    @extend_schema_field(WaitSerializer(allow_null=True))
    def get_wait(self, access_request: AccessRequest) -> dict | None:
        outcome = self.context.get("wait")
        return WaitSerializer(outcome).data if outcome is not None else None
