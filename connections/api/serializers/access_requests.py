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
    EnglishLabelField,
    EventSerializer,
    HandBuilt,
    LastErrorField,
    Representation,
    Shape,
    TeamSerializer,
    absolute_url,
    as_float,
    last_error_of,
    link_field,
    recent_history,
    team_dict,
)
from connections.api.serializers.rows import Field, Fields, column, label, moment
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


# A zone of the endpoint as the API shows it (RequestZoneSerializer), in the order of the
# queryset's `zone_list` (AccessRequestQuerySet.with_row_relations).
_ZONE_FIELDS = ("zone_id", "vswitch_id", "status", "eni_id", "eni_ip", "zone_domain")


def _zones(access_request: AccessRequest, _) -> list[dict]:
    return [dict(zip(_ZONE_FIELDS, zone, strict=True)) for zone in access_request.zone_list or ()]


def _security_group_ids(access_request: AccessRequest, _) -> list[str]:
    return [group_id for (group_id,) in access_request.security_group_list or ()]


# A request's row, field by field (rows.py): the serializer's fields, the list's columns and the
# hand-built row all come from here. The rows come from `with_row_relations()`; links read the
# state, the failed phase and both teams (policies.allowed_actions).
ACCESS_REQUEST_FIELDS = Fields(
    Field("id", lambda access_request, _: access_request.pk, ("id",)),
    column("state"),
    label("state_label", "state", REQUEST_STATE_LABELS),
    column("health"),
    label("health_label", "health", HEALTH_LABELS),
    column("health_reason"),
    moment("health_checked_at"),
    Field(
        "probe_latency_ms",
        lambda access_request, _: as_float(access_request.probe_latency_ms),
        ("probe_latency_ms",),
    ),
    Field(
        "service",
        lambda access_request, _: {
            "id": access_request.service_id,
            "name": access_request.service.name,
        },
        ("service", "service__name"),
    ),
    Field(
        "consumer_team",
        lambda access_request, _: team_dict(access_request.consumer_team),
        ("consumer_team", "consumer_team__slug", "consumer_team__name"),
    ),
    Field(
        "requester",
        lambda access_request, page: page.get_requester(access_request),
        ("requester", "requester__username"),
    ),
    Field("vpc_id", lambda access_request, _: access_request.vpc.vpc_id, ("vpc", "vpc__vpc_id")),
    Field(
        "account",
        lambda access_request, _: {
            "name": access_request.vpc.account.name,
            "uid": access_request.vpc.account.uid,
        },
        ("vpc__account", "vpc__account__name", "vpc__account__uid"),
    ),
    Field("security_group_ids", _security_group_ids),
    Field("zones", _zones),
    column("endpoint_id"),
    column("endpoint_domain"),
    column("justification"),
    column("decision_reason"),
    moment("expires_at"),
    Field(
        "last_error",
        lambda access_request, _: last_error_of(access_request),
        ("last_error_code", "last_error_message"),
    ),
    moment("created_at"),
    moment("updated_at"),
    moment("connected_at"),
    moment("closed_at"),
    Field(
        "links",
        lambda access_request, page: page.get_links(access_request),
        ("state", "failed_phase", "consumer_team", "service__owner_team_id"),
    ),
)


# Its fields are ACCESS_REQUEST_FIELDS; those declared here are the ones that are not plain
# model fields, typed for the schema. (A comment: the docstring is the schema's description.)
class AccessRequestSerializer(HandBuilt, Representation):
    """A team's access to a service: its state, health, endpoint and zones, and what can be done."""

    state_label = EnglishLabelField(source="get_state_display")
    health_label = EnglishLabelField(source="get_health_display")
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
        fields = ACCESS_REQUEST_FIELDS.names

    def to_representation(self, access_request: AccessRequest) -> dict:
        """ACCESS_REQUEST_FIELDS built straight from the rows of the view's queryset
        (`with_row_relations`): DRF's generic path inspects every field's source on every row,
        most of a page's cost. Equal to the generic output
        (tests/connections/api/test_access_requests.py checks it, for both sides and states)."""
        return self.with_declared_rest(
            access_request, ACCESS_REQUEST_FIELDS.row(access_request, self)
        )

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
