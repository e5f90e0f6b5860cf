"""The domain's enumerations: states, roles, protocols, with their labels and badge colours.

Which state may follow which, what each verb needs of a state and what Retry resumes is the state
machine's (connections/states.py). Templates and serializers ask these classes for labels and
colours.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """A person's role in a team: members request access; owners also publish and approve."""

    MEMBER = "member", _("Member")
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")


MANAGING_ROLES = frozenset({Role.OWNER, Role.ADMIN})


class CredentialSource(models.TextChoices):
    """How the portal authenticates to a cloud account."""

    ACCESS_KEY = "access_key", _("Access key (stored encrypted)")
    RAM_ROLE = "ram_role", _("RAM role assumed through STS")
    DEFAULT_CHAIN = "default_chain", _("Default credential chain")


class ListenerProtocol(models.TextChoices):
    TCP = "TCP", "TCP"
    UDP = "UDP", "UDP"


class ServiceState(models.TextChoices):
    """Life of a published service: steps 1–4 of the seed, then retirement."""

    PROVISIONING = "provisioning", _("Provisioning")
    AVAILABLE = "available", _("Available")
    RETIRING = "retiring", _("Retiring")
    RETIRED = "retired", _("Retired")
    FAILED = "failed", _("Failed")


SERVICE_BADGES = {
    ServiceState.PROVISIONING: "blue",
    ServiceState.AVAILABLE: "green",
    ServiceState.RETIRING: "orange",
    ServiceState.RETIRED: "closed",
    ServiceState.FAILED: "red",
}


class RequestState(models.TextChoices):
    """Life of an access request: step 5 (provisioning), step 6 (approval), then revocation."""

    SUBMITTED = "submitted", _("Submitted")
    PROVISIONING = "provisioning", _("Provisioning")
    PENDING_APPROVAL = "pending_approval", _("Pending approval")
    CONNECTING = "connecting", _("Connecting")
    CONNECTED = "connected", _("Connected")
    REVOKING = "revoking", _("Revoking")
    REVOKED = "revoked", _("Revoked")
    REJECTED = "rejected", _("Rejected")
    FAILED = "failed", _("Failed")


REQUEST_BADGES = {
    RequestState.SUBMITTED: "grey",
    RequestState.PROVISIONING: "blue",
    RequestState.PENDING_APPROVAL: "yellow",
    RequestState.CONNECTING: "blue",
    RequestState.CONNECTED: "green",
    RequestState.REVOKING: "orange",
    # Closed, and said so: a refusal in red, an ending in the dark "closed" colour (grey reads
    # as "not started yet").
    RequestState.REVOKED: "closed",
    RequestState.REJECTED: "red",
    RequestState.FAILED: "red",
}


class Health(models.TextChoices):
    """Health of a connection, apart from its state: probed, not provisioned."""

    UNKNOWN = "unknown", _("Unknown")
    HEALTHY = "healthy", _("Healthy")
    DEGRADED = "degraded", _("Degraded")
    DOWN = "down", _("Down")


HEALTH_BADGES = {
    Health.UNKNOWN: "grey",
    Health.HEALTHY: "green",
    Health.DEGRADED: "yellow",
    Health.DOWN: "red",
}


# Tags on everything the portal creates, so an operator can tell and a sweep can find it: who
# manages it, which portal installation (settings.PORTAL_INSTALLATION_ID), and the uuid of the
# service or request it was made for.
MANAGED_BY_TAG = ("managed-by", "privatelink-portal")
INSTALLATION_TAG_KEY = "privatelink-portal:installation"
SERVICE_TAG_KEY = "privatelink-portal:service"
REQUEST_TAG_KEY = "privatelink-portal:request"
