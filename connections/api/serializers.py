"""Representations: what the API answers (what it accepts is in `connections.api.inputs`).

They expect the querysets of the views (`select_related`/`prefetch_related`), so a page costs
the same number of queries whatever its length. Links offer only what the viewer may do.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, tzinfo
from functools import cached_property

from django.db.models import Manager
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from connections import policies
from connections.api import tokens
from connections.choices import Health, ListenerProtocol, RequestState, ServiceState
from connections.models import (
    AccessRequest,
    ApiToken,
    CloudAccount,
    Event,
    Finding,
    HealthSample,
    Instance,
    PublishedService,
    RequestZone,
    SecurityGroup,
    ServiceBackend,
    Team,
    Vpc,
    VSwitch,
)

# A request's answer carries its last day of health; the rest is a link away.
RECENT_HISTORY_POINTS = 300


def recent_history(access_request: AccessRequest):
    since = timezone.now() - timedelta(days=1)
    return access_request.health_samples.filter(at__gte=since)[:RECENT_HISTORY_POINTS]


# Stands for a row's id in a URL built once per request (ids are digits: the routes want them).
_ID = 918273645


def _url(request, name: str, pk: int | None = None) -> str:
    """The absolute URL of an API route, reversed once per request and route: a list page
    asks for the same few routes for each of its rows."""
    templates = request.__dict__.setdefault("_portal_url_templates", {})
    template = templates.get(name)
    if template is None:
        kwargs = {"pk": _ID} if pk is not None else {}
        template = templates[name] = request.build_absolute_uri(
            reverse(f"api:{name}", kwargs=kwargs)
        )
    return template if pk is None else template.replace(f"/{_ID}/", f"/{pk}/")


# --- shared pieces -------------------------------------------------------------------------------


class OutputOnly:
    """Every field is output only: read-only, so the schema lists each as always present."""

    def get_fields(self) -> dict:
        fields = super().get_fields()
        for field in fields.values():
            field.read_only = True
        return fields


class Representation(OutputOnly, serializers.ModelSerializer):
    pass


class HandBuilt:
    """For representations built by hand (a list's most asked-for rows): what every row of a
    page asks alike, read once — one serializer serves a page's rows, and each read is a lookup
    through DRF's request or a thread-local, a few microseconds a row that a page multiplies —
    and the fields a detail serializer declares on top of its list's, built as DRF would."""

    @cached_property
    def viewer(self):
        return self.context["request"].user

    @cached_property
    def time_zone(self) -> tzinfo:
        return timezone.get_current_timezone()

    def with_declared_rest(self, obj, row: dict) -> dict:
        """`row`, and the fields this serializer declares beyond it (a detail serializer's
        events, say) built as DRF builds them. Which those are depends on the class alone (no
        serializer here picks its fields by context: one that did would need its own rule) and
        is found at its first row; a class with none never builds its fields (DRF builds them
        afresh for every serializer, which costs a list page more than its rows' dicts)."""
        rest = _DECLARED_REST.get(type(self))
        if rest is None:
            rest = _DECLARED_REST[type(self)] = [name for name in self.fields if name not in row]
        for name in rest:
            field = self.fields[name]
            attribute = field.get_attribute(obj)
            row[name] = None if attribute is None else field.to_representation(attribute)
        return row


# Per hand-built serializer class, the names of its declared fields beyond its hand-built row.
_DECLARED_REST: dict[type, list[str]] = {}


class Shape(OutputOnly, serializers.Serializer):
    pass


class TeamSerializer(Representation):
    class Meta:
        model = Team
        fields = ["id", "slug", "name"]


class AccountSerializer(Representation):
    """An account as far as teams need to know it: never its credentials."""

    class Meta:
        model = CloudAccount
        fields = ["name", "uid"]


def _datetime(value: datetime | None, time_zone: tzinfo) -> str | None:
    """What a DateTimeField answers (ISO 8601 in the current time zone, "Z" for UTC), for the
    representations built by hand, at a third of its cost (a page has 150 of them); the time
    zone is read once a page (HandBuilt.time_zone)."""
    if value is None:
        return None
    text = value.astimezone(time_zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _float(value) -> float | None:
    """What a FloatField answers."""
    return None if value is None else float(value)


def _last_error(record) -> dict | None:
    if not (record.last_error_code or record.last_error_message):
        return None
    return {"code": record.last_error_code, "message": record.last_error_message}


class LastErrorSerializer(Shape):
    code = serializers.CharField()
    message = serializers.CharField()


@extend_schema_field(LastErrorSerializer(allow_null=True))
class LastErrorField(serializers.Field):
    """The last error of a workflow as `{code, message}`, or null."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, record) -> dict | None:
        return _last_error(record)


class OwnersLastErrorField(LastErrorField):
    """A service's last error, for its owners only (policies.sees_owner_fields)."""

    def to_representation(self, service) -> dict | None:
        if not policies.sees_owner_fields(self.context["request"].user, service):
            return None
        return super().to_representation(service)


class EventSerializer(Representation):
    """A line of the timeline: who did what, from which state to which."""

    actor = serializers.SerializerMethodField(help_text="Username, or null for the system.")
    service = serializers.IntegerField(source="service_id", allow_null=True)
    access_request = serializers.IntegerField(source="access_request_id", allow_null=True)

    class Meta:
        model = Event
        fields = [
            "id",
            "created_at",
            "actor",
            "verb",
            "service",
            "access_request",
            "from_state",
            "to_state",
            "detail",
            "cloud_request_id",
        ]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_actor(self, event: Event) -> str | None:
        return event.actor.get_username() if event.actor_id else None


def _link_field(description: str) -> serializers.URLField:
    return serializers.URLField(required=False, help_text=description)


# --- services ------------------------------------------------------------------------------------


class ServiceZoneSerializer(Shape):
    zone_id = serializers.CharField()
    vswitch_id = serializers.CharField(
        source="vswitch.vswitch_id", allow_null=True, help_text="Null unless you own the service."
    )


class ListenerSerializer(Shape):
    protocol = serializers.ChoiceField(choices=ListenerProtocol.choices)
    port = serializers.IntegerField()


class BackendSerializer(Shape):
    instance_id = serializers.CharField(source="instance.instance_id")
    name = serializers.CharField(source="instance.name")
    private_ip = serializers.CharField(source="instance.private_ip")
    port = serializers.IntegerField()
    weight = serializers.IntegerField()
    healthy = serializers.BooleanField(
        allow_null=True, help_text="As the load balancer's health checks saw it; null: not yet."
    )
    health_reason = serializers.CharField(help_text="Why it is not healthy, e.g. CONNECT_FAILED.")


class ServiceLinksSerializer(serializers.Serializer):
    self = _link_field("This service (GET; DELETE retires it).")
    events = _link_field("Its audit trail (service owners).")
    request_access = _link_field("POST an access request here, with `service` set to this id.")
    retire = _link_field("DELETE to retire (its owners, when available or failed).")
    retry = _link_field("POST to resume a failed publish or retire (its owners).")
    findings = _link_field("What the health sweep found about it (its owners).")


@dataclasses.dataclass
class ServiceRelations:
    """The zones (zone, vSwitch), trusted teams and backends of services, as plain values by
    service id: for a page, from the rows' own JSON lists and one query for the backends the
    person may see (`of_page`); for one service, its prefetched rows."""

    owner_teams: dict[int, dict] = dataclasses.field(default_factory=dict)
    vpc_ids: dict[int, str] = dataclasses.field(default_factory=dict)
    zones: dict[int, list[tuple[str, str]]] = dataclasses.field(default_factory=dict)
    trusted_teams: dict[int, list[dict]] = dataclasses.field(default_factory=dict)
    backends: dict[int, list[dict]] = dataclasses.field(default_factory=dict)

    @classmethod
    def of_page(cls, services: list[PublishedService], user) -> ServiceRelations:
        """From rows of `with_row_relations()`, and the backends of the rows the person owns."""
        related = cls(
            owner_teams={
                s.pk: {"id": s.owner_team_id, "slug": s.owner_team_slug, "name": s.owner_team_name}
                for s in services
            },
            vpc_ids={s.pk: s.vpc_cloud_id for s in services},
            zones={s.pk: [tuple(zone) for zone in s.zone_list or ()] for s in services},
            trusted_teams={
                s.pk: [{"id": pk, "slug": slug, "name": name} for pk, slug, name in teams]
                for s in services
                if (teams := s.trusted_team_list)
            },
        )
        # Backends are their owners' business: inside the rows (with_backend_lists, which the
        # view asks for) when the person sees every row's, else fetched for the rows they own.
        if policies.sees_every_owner_field(user):
            rows = [(s.pk, *_json_backend(b)) for s in services for b in s.backend_list or ()]
        else:
            owned = [s.pk for s in services if policies.sees_owner_fields(user, s)]
            rows = _BACKEND_ROWS.filter(service_id__in=owned) if owned else ()
        for service_id, *values in rows:
            related.backends.setdefault(service_id, []).append(
                dict(zip(_BACKEND_FIELDS, values, strict=True))
            )
        return related

    @classmethod
    def prefetched(cls, service: PublishedService) -> ServiceRelations:
        pk = service.pk
        return cls(
            owner_teams={pk: _team(service.owner_team)},
            vpc_ids={pk: service.vpc.vpc_id},
            zones={pk: [(zone.zone_id, zone.vswitch.vswitch_id) for zone in service.zones.all()]},
            trusted_teams={
                pk: [
                    {"id": t.pk, "slug": t.slug, "name": t.name}
                    for t in service.trusted_teams.all()
                ]
            },
            backends={
                pk: [
                    dict(
                        zip(
                            _BACKEND_FIELDS,
                            (_attribute(backend, path) for path in _BACKEND_VALUES),
                            strict=True,
                        )
                    )
                    for backend in service.backends.all()
                ]
            },
        )


# A backend as the API shows it (BackendSerializer), and where each value comes from.
_BACKEND_FIELDS = (
    "instance_id",
    "name",
    "private_ip",
    "port",
    "weight",
    "healthy",
    "health_reason",
)
_BACKEND_VALUES = (
    "instance__instance_id", "instance__name", "instance__private_ip", "port", "weight",
    "healthy", "health_reason",
)  # fmt: skip


# The labels of choices, as get_FOO_display() gives them, without its per-call flattening.
SERVICE_STATE_LABELS = dict(ServiceState.choices)
REQUEST_STATE_LABELS = dict(RequestState.choices)
HEALTH_LABELS = dict(Health.choices)


def _label(labels: dict, value: str) -> str:
    return str(labels.get(value, value))


def _json_backend(values: list) -> list:
    """A backend from a JSON list (with_backend_lists) as its columns give it: SQLite's JSON
    has no booleans, so `healthy` comes as 0 or 1."""
    healthy = values[_BACKEND_FIELDS.index("healthy")]
    if healthy is not None:
        values[_BACKEND_FIELDS.index("healthy")] = bool(healthy)
    return values


# Built once (its joins resolved), filtered per page.
_BACKEND_ROWS = ServiceBackend.objects.values_list("service_id", *_BACKEND_VALUES)


def _team(team: Team) -> dict:
    return {"id": team.pk, "slug": team.slug, "name": team.name}


def _attribute(obj, path: str):
    for name in path.split("__"):
        obj = getattr(obj, name)
    return obj


class ServiceListSerializer(serializers.ListSerializer):
    """A page of the catalog: its rows' zones, trusted teams and backends as plain values
    (ServiceRelations), with no model object per related row. The rows must come from
    `with_row_relations()` (and `with_backend_lists()` for a person who sees every row's
    backends), as the view's CATALOG_ROWS do."""

    def to_representation(self, data) -> list[dict]:
        services = list(data.all() if isinstance(data, Manager) else data)
        related = ServiceRelations.of_page(services, self.context["request"].user)
        return [self.child.represent(service, related) for service in services]


class ServiceSerializer(HandBuilt, Representation):
    """A published service of the catalog. Backends and events are for its owners only."""

    state_label = serializers.CharField(source="get_state_display")
    health_label = serializers.CharField(source="get_health_display")
    owner_team = TeamSerializer()
    vpc_id = serializers.SerializerMethodField(
        help_text="The provider's VPC; null unless you own the service."
    )
    zones = serializers.SerializerMethodField()
    listener = serializers.SerializerMethodField()
    trusted_teams = TeamSerializer(many=True)
    backends = serializers.SerializerMethodField(
        help_text="The server group's members; null unless you own the service."
    )
    last_error = OwnersLastErrorField(help_text="Null unless you own the service.")
    links = serializers.SerializerMethodField()

    class Meta:
        model = PublishedService
        fields = [
            "id",
            "name",
            "description",
            "state",
            "state_label",
            "health",
            "health_label",
            "health_reason",
            "health_checked_at",
            "owner_team",
            "vpc_id",
            "zones",
            "listener",
            "auto_accept",
            "connection_limit",
            "trusted_teams",
            "endpoint_service_id",
            "endpoint_service_name",
            "backends",
            "last_error",
            "created_at",
            "updated_at",
            "links",
        ]
        list_serializer_class = ServiceListSerializer

    def _sees_owner_fields(self, service: PublishedService) -> bool:
        return policies.sees_owner_fields(self.viewer, service)

    def to_representation(self, service: PublishedService) -> dict:
        return self.represent(service, ServiceRelations.prefetched(service))

    def represent(self, service: PublishedService, related: ServiceRelations) -> dict:
        """The fields declared above (the schema), built straight from the rows: a catalog page
        is the API's most asked-for answer, and DRF's generic path costs about a dozen objects
        and a signature inspection per field per row. Equal to the generic output
        (tests/connections/test_api_services.py checks it, for every role)."""
        owner = self._sees_owner_fields(service)
        time_zone = self.time_zone
        row = {
            "id": service.pk,
            "name": service.name,
            "description": service.description,
            "state": service.state,
            "state_label": _label(SERVICE_STATE_LABELS, service.state),
            "health": service.health,
            "health_label": _label(HEALTH_LABELS, service.health),
            "health_reason": service.health_reason,
            "health_checked_at": _datetime(service.health_checked_at, time_zone),
            "owner_team": related.owner_teams[service.pk],
            "vpc_id": related.vpc_ids[service.pk] if owner else None,
            "zones": [
                {"zone_id": zone_id, "vswitch_id": vswitch_id if owner else None}
                for zone_id, vswitch_id in related.zones.get(service.pk, ())
            ],
            "listener": {"protocol": service.listener_protocol, "port": service.listener_port},
            "auto_accept": service.auto_accept,
            "connection_limit": service.connection_limit,
            "trusted_teams": related.trusted_teams.get(service.pk, []),
            "endpoint_service_id": service.endpoint_service_id,
            "endpoint_service_name": service.endpoint_service_name,
            "backends": related.backends.get(service.pk, []) if owner else None,
            "last_error": _last_error(service) if owner else None,
            "created_at": _datetime(service.created_at, time_zone),
            "updated_at": _datetime(service.updated_at, time_zone),
            "links": self.get_links(service),
        }
        return self.with_declared_rest(service, row)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_vpc_id(self, service: PublishedService) -> str | None:
        return service.vpc.vpc_id if self._sees_owner_fields(service) else None

    @extend_schema_field(ServiceZoneSerializer(many=True))
    def get_zones(self, service: PublishedService) -> list[dict]:
        """The zones it is offered in; which vSwitch the NLB uses there is its owners' business."""
        owner = self._sees_owner_fields(service)
        return [
            {"zone_id": zone.zone_id, "vswitch_id": zone.vswitch.vswitch_id if owner else None}
            for zone in service.zones.all()
        ]

    @extend_schema_field(ListenerSerializer)
    def get_listener(self, service: PublishedService) -> dict:
        return {"protocol": service.listener_protocol, "port": service.listener_port}

    @extend_schema_field(BackendSerializer(many=True, allow_null=True))
    def get_backends(self, service: PublishedService) -> list | None:
        if not self._sees_owner_fields(service):
            return None
        return BackendSerializer(service.backends.all(), many=True).data

    @extend_schema_field(ServiceLinksSerializer)
    def get_links(self, service: PublishedService) -> dict:
        request = self.context["request"]
        actions = policies.allowed_actions(self.viewer, service)
        links = {"self": _url(request, "service-detail", pk=service.pk)}
        if "request_access" in actions:
            links["request_access"] = _url(request, "accessrequest-list")
        if self._sees_owner_fields(service):
            links["events"] = f"{_url(request, 'event-list')}?service={service.pk}"
            links["findings"] = f"{_url(request, 'finding-list')}?service={service.pk}"
        if "retire" in actions:
            links["retire"] = links["self"]
        if "retry" in actions:
            links["retry"] = _url(request, "service-retry", pk=service.pk)
        return links


class ServiceDetailSerializer(ServiceSerializer):
    events = serializers.SerializerMethodField(
        help_text="The service's timeline, oldest first; null unless you own the service."
    )

    class Meta(ServiceSerializer.Meta):
        fields = [*ServiceSerializer.Meta.fields, "events"]

    @extend_schema_field(EventSerializer(many=True, allow_null=True))
    def get_events(self, service: PublishedService) -> list | None:
        if not self._sees_owner_fields(service):
            return None
        return EventSerializer(service.events.all(), many=True).data


# --- access requests -----------------------------------------------------------------------------


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
    self = _link_field("This request (GET; DELETE revokes it).")
    service = _link_field("The service it asks for.")
    events = _link_field("Its audit trail.")
    health_history = _link_field("Its health history: 30 days, hourly after the first day.")
    approve = _link_field("POST to approve (the service's owners, while pending approval).")
    reject = _link_field("POST `{reason}` to reject (the service's owners, while pending).")
    revoke = _link_field("DELETE to revoke (either side, while it is live).")
    retry = _link_field("POST to resume it after a failure (either side).")


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
            "state_label": _label(REQUEST_STATE_LABELS, access_request.state),
            "health": access_request.health,
            "health_label": _label(HEALTH_LABELS, access_request.health),
            "health_reason": access_request.health_reason,
            "health_checked_at": _datetime(access_request.health_checked_at, time_zone),
            "probe_latency_ms": _float(access_request.probe_latency_ms),
            "service": {"id": access_request.service.pk, "name": access_request.service.name},
            "consumer_team": _team(access_request.consumer_team),
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
            "expires_at": _datetime(access_request.expires_at, time_zone),
            "last_error": _last_error(access_request),
            "created_at": _datetime(access_request.created_at, time_zone),
            "updated_at": _datetime(access_request.updated_at, time_zone),
            "connected_at": _datetime(access_request.connected_at, time_zone),
            "closed_at": _datetime(access_request.closed_at, time_zone),
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
            "self": _url(request, "accessrequest-detail", pk=access_request.pk),
            "service": _url(request, "service-detail", pk=access_request.service_id),
            "events": f"{_url(request, 'event-list')}?access_request={access_request.pk}",
            "health_history": _url(request, "accessrequest-health-history", pk=access_request.pk),
        }
        for action in ("approve", "reject", "retry"):
            if action in actions:
                links[action] = _url(request, f"accessrequest-{action}", pk=access_request.pk)
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


# --- findings ------------------------------------------------------------------------------------


class FindingLinksSerializer(serializers.Serializer):
    service = _link_field("The service it concerns, if any.")
    clean_up = _link_field("POST to remove it (only what the portal made; the owners).")


class FindingSerializer(Representation):
    """Something the health sweep found in the cloud that no request of the portal accounts for."""

    kind_label = serializers.CharField(source="get_kind_display")
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
            links["service"] = _url(request, "service-detail", pk=finding.service_id)
        if "clean_up" in policies.allowed_actions(request.user, finding):
            links["clean_up"] = _url(request, "finding-clean-up", pk=finding.pk)
        return links


# --- VPCs ----------------------------------------------------------------------------------------


class VSwitchSerializer(Representation):
    class Meta:
        model = VSwitch
        fields = ["vswitch_id", "name", "zone_id", "cidr"]


class SecurityGroupSerializer(Representation):
    class Meta:
        model = SecurityGroup
        fields = ["security_group_id", "name"]


class InstanceSerializer(Representation):
    class Meta:
        model = Instance
        fields = ["instance_id", "name", "zone_id", "private_ip", "status"]


class VpcSerializer(Representation):
    """A VPC of one of the user's teams: what a request or a publish chooses from."""

    account = AccountSerializer()
    team = TeamSerializer(
        allow_null=True,
        help_text="The team that owns it; null: unassigned (listed for platform admins only).",
    )
    vswitches = VSwitchSerializer(many=True)
    security_groups = SecurityGroupSerializer(many=True)
    instances = InstanceSerializer(many=True, help_text="Candidate backends for publishing.")

    class Meta:
        model = Vpc
        fields = [
            "vpc_id",
            "name",
            "cidr",
            "account",
            "team",
            "vswitches",
            "security_groups",
            "instances",
        ]


# --- tokens --------------------------------------------------------------------------------------


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
