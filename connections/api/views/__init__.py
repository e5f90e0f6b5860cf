"""API views: thin over the verbs (connections/actions.py), the policies (who sees what) and
the filtersets; one module per resource, as the serializers.

A view turns input into rows (serializers), calls one verb, and answers with the object's
representation. State changes are POST actions or DELETE, never a write of `state`; every refusal
is an exception that `connections.api.errors` turns into a problem document.
"""

from connections.api.views.access_requests import AccessRequestViewSet
from connections.api.views.base import PortalViewSet, validated
from connections.api.views.events_and_vpcs import EventViewSet, VpcViewSet
from connections.api.views.findings import FindingViewSet
from connections.api.views.services import ServiceViewSet

__all__ = [
    "AccessRequestViewSet",
    "EventViewSet",
    "FindingViewSet",
    "PortalViewSet",
    "ServiceViewSet",
    "VpcViewSet",
    "validated",
]
