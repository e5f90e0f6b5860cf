"""The portal's records: teams, cloud accounts and their inventory, services, requests, events,
one module per concern; every model is importable from here.

State fields change only through `connections.states`; nothing else writes `state`.
"""

from connections.models.access import (
    AccessRequest,
    AccessRequestQuerySet,
    ConnectionTest,
    RequestZone,
)
from connections.models.base import MAX_ROW_ID
from connections.models.events import Event, EventQuerySet
from connections.models.monitoring import Finding, FindingQuerySet, HealthSample, SweepLease
from connections.models.network import (
    CloudAccount,
    Instance,
    InVpcQuerySet,
    SecurityGroup,
    Vpc,
    VpcQuerySet,
    VSwitch,
    Zone,
)
from connections.models.people import Profile
from connections.models.published import (
    PublishedService,
    PublishedServiceQuerySet,
    ServiceBackend,
    ServiceZone,
)
from connections.models.records import WorkflowRecord
from connections.models.teams import Membership, Team
from connections.models.tokens import ApiToken, IdempotencyRecord

__all__ = [
    "MAX_ROW_ID",
    "AccessRequest",
    "AccessRequestQuerySet",
    "ApiToken",
    "CloudAccount",
    "ConnectionTest",
    "Event",
    "EventQuerySet",
    "Finding",
    "FindingQuerySet",
    "HealthSample",
    "IdempotencyRecord",
    "InVpcQuerySet",
    "Instance",
    "Membership",
    "Profile",
    "PublishedService",
    "PublishedServiceQuerySet",
    "RequestZone",
    "SecurityGroup",
    "ServiceBackend",
    "ServiceZone",
    "SweepLease",
    "Team",
    "VSwitch",
    "Vpc",
    "VpcQuerySet",
    "WorkflowRecord",
    "Zone",
]
