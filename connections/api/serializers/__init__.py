"""Representations: what the API answers (what it accepts is in `connections.api.inputs`).

They expect the querysets of the views (`select_related`/`prefetch_related`), so a page costs
the same number of queries whatever its length. Links offer only what the viewer may do.

One module per resource; what other modules use is importable from here."""

from connections.api.serializers.access_requests import (
    AccessRequestDetailSerializer,
    AccessRequestLinksSerializer,
    AccessRequestSerializer,
    HealthSampleSerializer,
    RequestZoneSerializer,
    ServiceRefSerializer,
    WaitSerializer,
)
from connections.api.serializers.common import (
    RECENT_HISTORY_POINTS,
    AccountSerializer,
    EventSerializer,
    LastErrorSerializer,
    TeamSerializer,
    recent_history,
)
from connections.api.serializers.findings import FindingLinksSerializer, FindingSerializer
from connections.api.serializers.services import (
    BackendSerializer,
    ListenerSerializer,
    ServiceDetailSerializer,
    ServiceLinksSerializer,
    ServiceListSerializer,
    ServiceSerializer,
    ServiceZoneSerializer,
)
from connections.api.serializers.tokens import ApiTokenSerializer, IssuedTokenSerializer
from connections.api.serializers.vpcs import (
    InstanceSerializer,
    SecurityGroupSerializer,
    VpcSerializer,
    VSwitchSerializer,
)

__all__ = [
    "RECENT_HISTORY_POINTS",
    "AccessRequestDetailSerializer",
    "AccessRequestLinksSerializer",
    "AccessRequestSerializer",
    "AccountSerializer",
    "ApiTokenSerializer",
    "BackendSerializer",
    "EventSerializer",
    "FindingLinksSerializer",
    "FindingSerializer",
    "HealthSampleSerializer",
    "InstanceSerializer",
    "IssuedTokenSerializer",
    "LastErrorSerializer",
    "ListenerSerializer",
    "RequestZoneSerializer",
    "SecurityGroupSerializer",
    "ServiceDetailSerializer",
    "ServiceLinksSerializer",
    "ServiceListSerializer",
    "ServiceRefSerializer",
    "ServiceSerializer",
    "ServiceZoneSerializer",
    "TeamSerializer",
    "VSwitchSerializer",
    "VpcSerializer",
    "WaitSerializer",
    "recent_history",
]
