"""What every resource of the API shares: the base serializers, links, dates, labels, errors, teams,
accounts and events."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from functools import cached_property

from django.urls import reverse
from django.utils import timezone, translation
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from connections import policies
from connections.choices import Health, RequestState, ServiceState
from connections.models import AccessRequest, CloudAccount, Event, Team

# A request's answer carries its last day of health; the rest is a link away.
RECENT_HISTORY_POINTS = 300


def recent_history(access_request: AccessRequest):
    since = timezone.now() - timedelta(days=1)
    return access_request.health_samples.filter(at__gte=since)[:RECENT_HISTORY_POINTS]


# Stands for a row's id in a URL built once per request (ids are digits: the routes want them).
_ID = 918273645


def absolute_url(request, name: str, pk: int | None = None) -> str:
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


def iso_datetime(value: datetime | None, time_zone: tzinfo) -> str | None:
    """What a DateTimeField answers (ISO 8601 in the current time zone, "Z" for UTC), for the
    representations built by hand, at a third of its cost (a page has 150 of them); the time
    zone is read once a page (HandBuilt.time_zone)."""
    if value is None:
        return None
    text = value.astimezone(time_zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def as_float(value) -> float | None:
    """What a FloatField answers."""
    return None if value is None else float(value)


def last_error_of(record) -> dict | None:
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
        return last_error_of(record)


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


def link_field(description: str) -> serializers.URLField:
    return serializers.URLField(required=False, help_text=description)


# The labels of choices, as get_FOO_display() gives them, without its per-call flattening.
SERVICE_STATE_LABELS = dict(ServiceState.choices)


REQUEST_STATE_LABELS = dict(RequestState.choices)


HEALTH_LABELS = dict(Health.choices)


# Each labels dict above in English, made once (a list's every row asks).
_ENGLISH_LABELS: dict[int, dict[str, str]] = {}


def label_of(labels: dict, value: str) -> str:
    """The label in English: the API answers the same whatever language the pages are read in."""
    english = _ENGLISH_LABELS.get(id(labels))
    if english is None:
        with translation.override("en"):
            english = {key: str(label) for key, label in labels.items()}
        _ENGLISH_LABELS[id(labels)] = english
    return english.get(value, value)


class EnglishLabelField(serializers.CharField):
    """A choice's label (`get_state_display`), in English whatever the request's language: the
    pages translate the labels (connections/choices.py), the API does not."""

    def get_attribute(self, instance):
        with translation.override("en"):
            return str(super().get_attribute(instance))


def team_dict(team: Team) -> dict:
    return {"id": team.pk, "slug": team.slug, "name": team.name}
