"""The audit trail, and the VPCs a person may request from."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins

from connections.api.schema import (
    READ_PROBLEMS,
    problems,
)
from connections.api.serializers import (
    EventSerializer,
    VpcSerializer,
)
from connections.api.views.base import PortalViewSet
from connections.filtersets import (
    EventFilterSet,
    VpcFilterSet,
)
from connections.models import (
    Event,
    Instance,
    SecurityGroup,
    Vpc,
    VSwitch,
)


@extend_schema_view(
    list=extend_schema(
        summary="The audit trail",
        description="Events of the services and requests you may see, newest first.",
        responses={200: EventSerializer(many=True), **problems(*READ_PROBLEMS)},
    )
)
class EventViewSet(mixins.ListModelMixin, PortalViewSet):
    queryset = Event.objects.none()  # the model, for the schema; rows: get_queryset
    serializer_class = EventSerializer
    filterset_class = EventFilterSet
    ordering_fields = ["created_at"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self) -> QuerySet[Event]:
        return Event.objects.visible_to(self.request.user).select_related("actor")


@extend_schema_view(
    list=extend_schema(
        summary="Your VPCs",
        description="The VPCs your teams own, with their team, account, vSwitches, security "
        "groups and instances: what a request or a publish chooses from. Platform admins see "
        "every VPC, unassigned ones (`team` null) included.",
        responses={200: VpcSerializer(many=True), **problems(*READ_PROBLEMS)},
    )
)
class VpcViewSet(mixins.ListModelMixin, PortalViewSet):
    queryset = Vpc.objects.none()  # the model, for the schema; rows: get_queryset
    serializer_class = VpcSerializer
    filterset_class = VpcFilterSet
    ordering_fields = ["vpc_id", "name"]
    ordering = ["vpc_id"]

    def get_queryset(self) -> QuerySet[Vpc]:
        return (
            Vpc.objects.usable_by(self.request.user)
            .filter(present=True)
            .select_related("account", "team")
            .prefetch_related(
                Prefetch("vswitches", VSwitch.objects.filter(present=True)),
                Prefetch("security_groups", SecurityGroup.objects.filter(present=True)),
                Prefetch("instances", Instance.objects.filter(present=True)),
            )
        )
