"""Published services as the API shows them."""

from __future__ import annotations

import dataclasses

from django.db.models import Manager
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from connections import policies
from connections.api.serializers.common import (
    HEALTH_LABELS,
    SERVICE_STATE_LABELS,
    EnglishLabelField,
    EventSerializer,
    HandBuilt,
    OwnersLastErrorField,
    Representation,
    Shape,
    TeamSerializer,
    absolute_url,
    last_error_of,
    link_field,
    team_dict,
)
from connections.api.serializers.rows import Field, Fields, column, label, moment
from connections.choices import ListenerProtocol
from connections.models import PublishedService, ServiceBackend


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
    self = link_field("This service (GET; DELETE retires it).")
    events = link_field("Its audit trail (service owners).")
    request_access = link_field("POST an access request here, with `service` set to this id.")
    retire = link_field("DELETE to retire (its owners, when available or failed).")
    retry = link_field("POST to resume a failed publish or retire (its owners).")
    findings = link_field("What the health sweep found about it (its owners).")


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
            owner_teams={pk: team_dict(service.owner_team)},
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


def _json_backend(values: list) -> list:
    """A backend from a JSON list (with_backend_lists) as its columns give it: SQLite's JSON
    has no booleans, so `healthy` comes as 0 or 1."""
    healthy = values[_BACKEND_FIELDS.index("healthy")]
    if healthy is not None:
        values[_BACKEND_FIELDS.index("healthy")] = bool(healthy)
    return values


# Built once (its joins resolved), filtered per page.
_BACKEND_ROWS = ServiceBackend.objects.values_list("service_id", *_BACKEND_VALUES)


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


def _owners_only(read):
    """A value for the service's owners (policies.sees_owner_fields); null for anyone else."""
    return lambda service, page: read(service, page) if page.sees_owner_fields(service) else None


# A catalog row, field by field (rows.py): the serializer's fields, the list's columns and the
# hand-built row all come from here. Links read the state, the failed phase and the owning team
# (policies.allowed_actions).
SERVICE_FIELDS = Fields(
    Field("id", lambda service, _: service.pk, ("id",)),
    column("name"),
    column("description"),
    column("state"),
    label("state_label", "state", SERVICE_STATE_LABELS),
    column("health"),
    label("health_label", "health", HEALTH_LABELS),
    column("health_reason"),
    moment("health_checked_at"),
    Field("owner_team", lambda service, page: page.related.owner_teams[service.pk]),
    Field("vpc_id", _owners_only(lambda service, page: page.related.vpc_ids[service.pk])),
    Field(
        "zones",
        lambda service, page: [
            {"zone_id": zone_id, "vswitch_id": vswitch_id if owner else None}
            for owner in (page.sees_owner_fields(service),)
            for zone_id, vswitch_id in page.related.zones.get(service.pk, ())
        ],
    ),
    Field(
        "listener",
        lambda service, _: {"protocol": service.listener_protocol, "port": service.listener_port},
        ("listener_protocol", "listener_port"),
    ),
    column("auto_accept"),
    column("connection_limit"),
    Field("trusted_teams", lambda service, page: page.related.trusted_teams.get(service.pk, [])),
    column("endpoint_service_id"),
    column("endpoint_service_name"),
    Field(
        "backends", _owners_only(lambda service, page: page.related.backends.get(service.pk, []))
    ),
    Field(
        "last_error",
        _owners_only(lambda service, _: last_error_of(service)),
        ("last_error_code", "last_error_message"),
    ),
    moment("created_at"),
    moment("updated_at"),
    Field(
        "links",
        lambda service, page: page.get_links(service),
        ("state", "failed_phase", "owner_team_id"),
    ),
)


# Its fields are SERVICE_FIELDS; those declared here are the ones that are not plain model fields,
# typed for the schema. (A comment: the docstring is the schema's description.)
class ServiceSerializer(HandBuilt, Representation):
    """A published service of the catalog. Backends and events are for its owners only."""

    state_label = EnglishLabelField(source="get_state_display")
    health_label = EnglishLabelField(source="get_health_display")
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
        fields = SERVICE_FIELDS.names
        list_serializer_class = ServiceListSerializer

    def sees_owner_fields(self, service: PublishedService) -> bool:
        return policies.sees_owner_fields(self.viewer, service)

    def to_representation(self, service: PublishedService) -> dict:
        return self.represent(service, ServiceRelations.prefetched(service))

    def represent(self, service: PublishedService, related: ServiceRelations) -> dict:
        """SERVICE_FIELDS built straight from the rows: a catalog page is the API's most
        asked-for answer, and DRF's generic path costs about a dozen objects and a signature
        inspection per field per row. Equal to the generic output
        (tests/connections/api/test_services.py checks it, for every role)."""
        self.related = related
        return self.with_declared_rest(service, SERVICE_FIELDS.row(service, self))

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_vpc_id(self, service: PublishedService) -> str | None:
        return service.vpc.vpc_id if self.sees_owner_fields(service) else None

    @extend_schema_field(ServiceZoneSerializer(many=True))
    def get_zones(self, service: PublishedService) -> list[dict]:
        """The zones it is offered in; which vSwitch the NLB uses there is its owners' business."""
        owner = self.sees_owner_fields(service)
        return [
            {"zone_id": zone.zone_id, "vswitch_id": zone.vswitch.vswitch_id if owner else None}
            for zone in service.zones.all()
        ]

    @extend_schema_field(ListenerSerializer)
    def get_listener(self, service: PublishedService) -> dict:
        return {"protocol": service.listener_protocol, "port": service.listener_port}

    @extend_schema_field(BackendSerializer(many=True, allow_null=True))
    def get_backends(self, service: PublishedService) -> list | None:
        if not self.sees_owner_fields(service):
            return None
        return BackendSerializer(service.backends.all(), many=True).data

    @extend_schema_field(ServiceLinksSerializer)
    def get_links(self, service: PublishedService) -> dict:
        request = self.context["request"]
        actions = policies.allowed_actions(self.viewer, service)
        links = {"self": absolute_url(request, "service-detail", pk=service.pk)}
        if "request_access" in actions:
            links["request_access"] = absolute_url(request, "accessrequest-list")
        if self.sees_owner_fields(service):
            links["events"] = f"{absolute_url(request, 'event-list')}?service={service.pk}"
            links["findings"] = f"{absolute_url(request, 'finding-list')}?service={service.pk}"
        if "retire" in actions:
            links["retire"] = links["self"]
        if "retry" in actions:
            links["retry"] = absolute_url(request, "service-retry", pk=service.pk)
        return links


class ServiceDetailSerializer(ServiceSerializer):
    events = serializers.SerializerMethodField(
        help_text="The service's timeline, oldest first; null unless you own the service."
    )

    class Meta(ServiceSerializer.Meta):
        fields = [*ServiceSerializer.Meta.fields, "events"]

    @extend_schema_field(EventSerializer(many=True, allow_null=True))
    def get_events(self, service: PublishedService) -> list | None:
        if not self.sees_owner_fields(service):
            return None
        return EventSerializer(service.events.all(), many=True).data
