"""API views: thin over the verbs (connections/actions.py), the policies (who sees what) and
the filtersets.

A view turns input into rows (serializers), calls one verb, and answers with the object's
representation. State changes are POST actions or DELETE, never a write of `state`; every refusal
is an exception that `connections.api.errors` turns into a problem document.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django_filters import MultipleChoiceFilter
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from connections import actions, policies
from connections.api.conditional import conditional_response
from connections.api.filters import FilterBackend, StrictOrderingFilter
from connections.api.idempotency import idempotent
from connections.api.inputs import (
    AccessRequestCreateSerializer,
    RejectSerializer,
    RetireQuerySerializer,
    ServicePublishSerializer,
    WaitQuerySerializer,
)
from connections.api.pagination import HealthHistoryPagination
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
    AccessRequestDetailSerializer,
    AccessRequestSerializer,
    EventSerializer,
    FindingSerializer,
    HealthSampleSerializer,
    ServiceDetailSerializer,
    ServiceSerializer,
    VpcSerializer,
)
from connections.api.serializers.access_requests import ACCESS_REQUEST_FIELDS
from connections.api.serializers.services import SERVICE_FIELDS
from connections.api.throttling import ThrottledBeforeAuthentication
from connections.api.waiting import wait_for_state, waiting_slot
from connections.choices import RequestState
from connections.filtersets import (
    AccessRequestFilterSet,
    EventFilterSet,
    FindingFilterSet,
    PublishedServiceFilterSet,
    VpcFilterSet,
)
from connections.models import (
    AccessRequest,
    Event,
    Finding,
    Instance,
    PublishedService,
    SecurityGroup,
    Vpc,
    VSwitch,
)

# A catalog row: the columns its fields read (SERVICE_FIELDS), and the rest inside the row
# (with_row_relations). Built once, at import: resolving its subqueries costs more than running
# them; each request takes a copy (.all()).
CATALOG_ROWS = PublishedService.objects.only(*SERVICE_FIELDS.columns).with_row_relations()
# A request's row: the columns its fields read (ACCESS_REQUEST_FIELDS), its zones and security
# groups inside the row (with_row_relations). Built once, at import, as the catalog's.
REQUEST_ROWS = AccessRequest.objects.only(*ACCESS_REQUEST_FIELDS.columns).with_row_relations()
# For a person who sees every row's backends, they come inside the rows too.
CATALOG_ROWS_WITH_BACKENDS = CATALOG_ROWS.with_backend_lists()


def validated(serializer_class, data, request) -> dict:
    serializer = serializer_class(data=data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class PortalViewSet(ThrottledBeforeAuthentication, viewsets.GenericViewSet):
    """What every viewset of the API shares: filters, ordering, numeric ids in URLs, and the
    address throttle before any refusal of credentials."""

    filter_backends = [FilterBackend, StrictOrderingFilter]
    lookup_value_regex = "[0-9]+"
    # Service field names (in their ValidationErrors) as this API's input calls them.
    problem_field_names: dict[str, str] = {}

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        self.refuse_repeated_parameters(request)

    def refuse_repeated_parameters(self, request) -> None:
        """A parameter given twice is ambiguous (Django would take the last): refuse it, unless
        it is a filter that takes several values (`state=a&state=b`)."""
        filterset = getattr(self, "filterset_class", None)
        repeatable = {
            name
            for name, query_filter in (filterset.base_filters.items() if filterset else ())
            if isinstance(query_filter, MultipleChoiceFilter)
        }
        repeated = {
            name: [ErrorDetail("Give this parameter once.", code="repeated_parameter")]
            for name, values in request.query_params.lists()
            if len(values) > 1 and name not in repeatable
        }
        if repeated:
            raise ValidationError(repeated)

    def represent(self, obj, serializer_class, status_code: int = status.HTTP_200_OK) -> Response:
        """The object as re-read through this view's queryset, so its relations are current."""
        fresh = self.get_queryset().get(pk=obj.pk)
        return Response(
            serializer_class(fresh, context=self.get_serializer_context()).data, status_code
        )


# --- services ------------------------------------------------------------------------------------


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


# --- access requests -----------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="Access requests",
        description="Your teams' requests and the requests to your teams' services.",
        responses={200: AccessRequestSerializer(many=True), **problems(*READ_PROBLEMS)},
    ),
)
class AccessRequestViewSet(mixins.ListModelMixin, PortalViewSet):
    """Requests for access (seed step 5), their approval (step 6) and revocation."""

    queryset = AccessRequest.objects.none()  # the model, for the schema; rows: get_queryset
    serializer_class = AccessRequestSerializer
    filterset_class = AccessRequestFilterSet
    ordering_fields = ["created_at", "updated_at"]
    ordering = ["-created_at"]
    problem_field_names = {"vpc": "vpc_id", "security_groups": "security_group_ids"}

    def get_queryset(self) -> QuerySet[AccessRequest]:
        requests = REQUEST_ROWS.visible_to(self.request.user)
        if self.action != "list":
            requests = requests.prefetch_related(
                Prefetch("events", Event.objects.select_related("actor"))
            )
        return requests

    @extend_schema(
        summary="One access request",
        description="With `wait_for`, the answer waits (up to `timeout` seconds, at most 60) "
        "until the request reaches that state, or can no longer reach it; `wait` says which.",
        parameters=[
            ID_IN_PATH,
            IF_NONE_MATCH,
            ETAG_HEADER,
            OpenApiParameter(
                "wait_for",
                OpenApiTypes.STR,
                enum=RequestState.values,
                description="A state to wait for, e.g. connected.",
            ),
            OpenApiParameter(
                "timeout",
                OpenApiTypes.NUMBER,
                description="Seconds to wait at most (0–60, default 30).",
            ),
        ],
        responses={
            200: AccessRequestDetailSerializer,
            304: NOT_MODIFIED,
            **problems(*DETAIL_PROBLEMS),
        },
    )
    def retrieve(self, request, *args, **kwargs) -> Response:
        query = validated(WaitQuerySerializer, request.query_params, request)
        access_request = self.get_object()
        context = self.get_serializer_context()
        if "wait_for" in query:
            with waiting_slot(request.user):
                outcome = wait_for_state(access_request.pk, query["wait_for"], query["timeout"])
            # Re-read as this user sees it now: a request they lost sight of meanwhile is a 404.
            policies.forget_roles(request.user)
            access_request = self.get_queryset().filter(pk=access_request.pk).first()
            if access_request is None:
                raise Http404
            context["wait"] = outcome
        data = AccessRequestDetailSerializer(access_request, context=context).data
        # The tag is the object's alone: how long a wait took is not a change of the object.
        return conditional_response(request, data, tagged={**data, "wait": None})

    @extend_schema(
        summary="Request access",
        description="From one of your team's VPCs, in zones the service offers. The portal "
        "checks everything first (codes such as `zone_not_offered`, `vswitch_not_in_vpc`, "
        "`duplicate_request`), then a worker creates the endpoint.",
        request=AccessRequestCreateSerializer,
        parameters=[*IDEMPOTENT, LOCATION_HEADER],
        responses={201: AccessRequestDetailSerializer, **problems(*WRITE_PROBLEMS, 409, 422)},
    )
    @idempotent
    def create(self, request, *args, **kwargs) -> Response:
        arguments = validated(AccessRequestCreateSerializer, request.data, request)
        access_request = actions.request_access(request.user, **arguments)
        response = self.represent(
            access_request, AccessRequestDetailSerializer, status.HTTP_201_CREATED
        )
        response["Location"] = response.data["links"]["self"]
        return response

    @extend_schema(
        summary="Revoke",
        description="Either side ends access: the endpoint is deleted, then the request is "
        "revoked. Answers 202 with state revoking.",
        parameters=[ID_IN_PATH],
        responses={202: AccessRequestDetailSerializer, **problems(*WRITE_PROBLEMS, 404, 409)},
    )
    def destroy(self, request, *args, **kwargs) -> Response:
        access_request = actions.revoke_request(request.user, self.get_object())
        return self.represent(
            access_request, AccessRequestDetailSerializer, status.HTTP_202_ACCEPTED
        )

    @extend_schema(
        summary="Approve (seed step 6)",
        request=None,
        parameters=[ID_IN_PATH, *IDEMPOTENT],
        responses={
            202: AccessRequestDetailSerializer,
            **problems(*WRITE_PROBLEMS, 404, 409, 422),
        },
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def approve(self, request, *args, **kwargs) -> Response:
        access_request = actions.approve_request(request.user, self.get_object())
        return self.represent(
            access_request, AccessRequestDetailSerializer, status.HTTP_202_ACCEPTED
        )

    @extend_schema(
        summary="Reject",
        request=RejectSerializer,
        parameters=[ID_IN_PATH, *IDEMPOTENT],
        responses={
            202: AccessRequestDetailSerializer,
            **problems(*WRITE_PROBLEMS, 404, 409, 422),
        },
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def reject(self, request, *args, **kwargs) -> Response:
        reason = validated(RejectSerializer, request.data, request)["reason"]
        access_request = actions.reject_request(request.user, self.get_object(), reason=reason)
        return self.represent(
            access_request, AccessRequestDetailSerializer, status.HTTP_202_ACCEPTED
        )

    @extend_schema(
        summary="Retry after a failure",
        request=None,
        parameters=[ID_IN_PATH, *IDEMPOTENT],
        responses={
            202: AccessRequestDetailSerializer,
            **problems(*WRITE_PROBLEMS, 404, 409, 422),
        },
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def retry(self, request, *args, **kwargs) -> Response:
        access_request = actions.retry_request(request.user, self.get_object())
        return self.represent(
            access_request, AccessRequestDetailSerializer, status.HTTP_202_ACCEPTED
        )

    @extend_schema(
        summary="Its health history",
        description="Every change of health and a point every few minutes between; after a day "
        "one point an hour (the worst of it), for 30 days. Newest first.",
        parameters=[ID_IN_PATH],
        responses={200: HealthSampleSerializer(many=True), **problems(*DETAIL_PROBLEMS)},
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="health-history",
        filter_backends=[],
        pagination_class=HealthHistoryPagination,
    )
    def health_history(self, request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.get_object().health_samples.all())
        return self.get_paginated_response(HealthSampleSerializer(page, many=True).data)


# --- findings ------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="What the health sweep found",
        description="Connections the portal does not manage, whitelist entries no live request "
        "needs, endpoints with the portal's tags and no request: for the owners of the service "
        "they concern (platform admins: all). Open ones unless `state` says otherwise.",
        responses={200: FindingSerializer(many=True), **problems(*READ_PROBLEMS)},
    )
)
class FindingViewSet(mixins.ListModelMixin, PortalViewSet):
    queryset = Finding.objects.none()  # the model, for the schema; rows: get_queryset
    serializer_class = FindingSerializer
    filterset_class = FindingFilterSet
    ordering_fields = ["first_seen", "last_seen"]
    ordering = ["-first_seen", "-id"]

    def get_queryset(self) -> QuerySet[Finding]:
        return Finding.objects.visible_to(self.request.user).select_related("account", "service")

    @extend_schema(
        summary="Clean it up",
        description="Remove the orphan endpoint or the whitelist entry, by a worker: only what "
        "the portal made, checked again against the cloud first. Answers 202 with state "
        "cleaning; the finding is resolved when it is done, or shows `clean_up_error`.",
        request=None,
        parameters=[ID_IN_PATH, *IDEMPOTENT],
        responses={202: FindingSerializer, **problems(*WRITE_PROBLEMS, 404, 409, 422)},
    )
    @action(detail=True, methods=["post"], url_path="clean-up", filter_backends=[])
    @idempotent
    def clean_up(self, request, *args, **kwargs) -> Response:
        finding = actions.clean_up_finding(request.user, self.get_object())
        return self.represent(finding, FindingSerializer, status.HTTP_202_ACCEPTED)


# --- events and VPCs -----------------------------------------------------------------------------


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
