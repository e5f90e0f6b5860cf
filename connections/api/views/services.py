"""The catalog, publishing (seed steps 1–4) and retirement."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from connections import actions, policies
from connections.api.conditional import conditional_response
from connections.api.idempotency import idempotent
from connections.api.inputs import (
    RetireQuerySerializer,
    ServicePublishSerializer,
)
from connections.api.permissions import ManagesSomeTeam
from connections.api.schema import (
    DETAIL_PROBLEMS,
    ETAG_HEADER,
    ID_IN_PATH,
    IDEMPOTENT,
    IF_NONE_MATCH,
    LOCATION_HEADER,
    NOT_MODIFIED,
    READ_PROBLEMS,
    WRITE_PROBLEMS,
    problems,
)
from connections.api.serializers import (
    ServiceDetailSerializer,
    ServiceSerializer,
)
from connections.api.serializers.services import SERVICE_FIELDS
from connections.api.views.base import PortalViewSet, validated
from connections.filtersets import (
    PublishedServiceFilterSet,
)
from connections.models import (
    Event,
    PublishedService,
)

# A catalog row: the columns its fields read (SERVICE_FIELDS), and the rest inside the row
# (with_row_relations). Built once, at import: resolving its subqueries costs more than running
# them; each request takes a copy (.all()).
CATALOG_ROWS = PublishedService.objects.only(*SERVICE_FIELDS.columns).with_row_relations()
# For a person who sees every row's backends, they come inside the rows too.
CATALOG_ROWS_WITH_BACKENDS = CATALOG_ROWS.with_backend_lists()


@extend_schema_view(
    list=extend_schema(
        summary="The catalog",
        description="Every published service; filter by state, owning team or words.",
        responses={200: ServiceSerializer(many=True), **problems(*READ_PROBLEMS)},
    ),
    retrieve=extend_schema(
        summary="One service",
        parameters=[ID_IN_PATH, IF_NONE_MATCH, ETAG_HEADER],
        responses={
            200: ServiceDetailSerializer,
            304: NOT_MODIFIED,
            **problems(*DETAIL_PROBLEMS),
        },
    ),
)
class ServiceViewSet(mixins.ListModelMixin, PortalViewSet):
    """The catalog, publishing (seed steps 1–4) and retirement."""

    queryset = PublishedService.objects.none()  # the model, for the schema; rows: get_queryset
    serializer_class = ServiceSerializer
    filterset_class = PublishedServiceFilterSet
    ordering_fields = ["name", "created_at", "updated_at"]
    ordering = ["name"]
    problem_field_names = {
        "vpc": "vpc_id",
        "listener_port": "listener.port",
        "listener_protocol": "listener.protocol",
    }

    def get_queryset(self) -> QuerySet[PublishedService]:
        # The catalog is public to every signed-in user (docs/design.md, "REST API").
        if self.action == "list":
            # What a row shows and its links ask, no more; the backends of the rows a person
            # owns, unless they see every row's: ServiceListSerializer, by values.
            if policies.sees_every_owner_field(self.request.user):
                return CATALOG_ROWS_WITH_BACKENDS.all()
            return CATALOG_ROWS.all()
        return PublishedService.objects.with_owner_details(self.request.user).prefetch_related(
            Prefetch("events", Event.objects.select_related("actor"))
        )

    def get_permissions(self) -> list:
        if self.action == "create":
            return [IsAuthenticated(), ManagesSomeTeam()]
        return super().get_permissions()

    def retrieve(self, request, *args, **kwargs) -> Response:
        service = self.get_object()
        data = ServiceDetailSerializer(service, context=self.get_serializer_context()).data
        return conditional_response(request, data)

    @extend_schema(
        summary="Publish a service",
        description="Team owners: an internal NLB over the backends, a listener and an endpoint "
        "service (seed steps 1–4), built by a worker. Answers at once with state provisioning.",
        request=ServicePublishSerializer,
        parameters=[*IDEMPOTENT, LOCATION_HEADER],
        responses={201: ServiceDetailSerializer, **problems(*WRITE_PROBLEMS, 409, 422)},
    )
    @idempotent
    def create(self, request, *args, **kwargs) -> Response:
        arguments = validated(ServicePublishSerializer, request.data, request)
        service = actions.publish_service(request.user, **arguments)
        response = self.represent(service, ServiceDetailSerializer, status.HTTP_201_CREATED)
        response["Location"] = response.data["links"]["self"]
        return response

    @extend_schema(
        summary="Retire a service",
        description="Its owners: tear it down in order. Refused (409) while requests are live, "
        "unless `force=true`, which revokes them first. Answers 202 with state retiring.",
        parameters=[
            ID_IN_PATH,
            OpenApiParameter("force", OpenApiTypes.BOOL, description="Revoke live requests first."),
        ],
        responses={202: ServiceDetailSerializer, **problems(*WRITE_PROBLEMS, 404, 409)},
    )
    def destroy(self, request, *args, **kwargs) -> Response:
        force = validated(RetireQuerySerializer, request.query_params, request)["force"]
        service = actions.retire_service(request.user, self.get_object(), force=force)
        return self.represent(service, ServiceDetailSerializer, status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Retry a failed publish or retire",
        request=None,
        parameters=[ID_IN_PATH, *IDEMPOTENT],
        responses={202: ServiceDetailSerializer, **problems(*WRITE_PROBLEMS, 404, 409, 422)},
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def retry(self, request, *args, **kwargs) -> Response:
        service = actions.retry_service(request.user, self.get_object())
        return self.represent(service, ServiceDetailSerializer, status.HTTP_202_ACCEPTED)
