"""The domain's enumerations: states, roles, protocols, with their labels and badge colours.

Which state may follow which, what each verb needs of a state and what Retry resumes is the state
machine's (connections/states.py). Templates and serializers ask these classes for labels and
colours.
"""

from django.db import models


class Role(models.TextChoices):
    """A person's role in a team: members request access; owners also publish and approve."""

    MEMBER = "member", "Member"
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"


MANAGING_ROLES = frozenset({Role.OWNER, Role.ADMIN})


class CredentialSource(models.TextChoices):
    """How the portal authenticates to a cloud account."""

    ACCESS_KEY = "access_key", "Access key (stored encrypted)"
    RAM_ROLE = "ram_role", "RAM role assumed through STS"
    DEFAULT_CHAIN = "default_chain", "Default credential chain"


class ListenerProtocol(models.TextChoices):
    TCP = "TCP", "TCP"
    UDP = "UDP", "UDP"


class ServiceState(models.TextChoices):
    """Life of a published service: steps 1–4 of the seed, then retirement."""

    PROVISIONING = "provisioning", "Provisioning"
    AVAILABLE = "available", "Available"
    RETIRING = "retiring", "Retiring"
    RETIRED = "retired", "Retired"
    FAILED = "failed", "Failed"


SERVICE_BADGES = {
    ServiceState.PROVISIONING: "blue",
    ServiceState.AVAILABLE: "green",
    ServiceState.RETIRING: "orange",
    ServiceState.RETIRED: "closed",
    ServiceState.FAILED: "red",
}


class RequestState(models.TextChoices):
    """Life of an access request: step 5 (provisioning), step 6 (approval), then revocation."""

    SUBMITTED = "submitted", "Submitted"
    PROVISIONING = "provisioning", "Provisioning"
    PENDING_APPROVAL = "pending_approval", "Pending approval"
    CONNECTING = "connecting", "Connecting"
    CONNECTED = "connected", "Connected"
    REVOKING = "revoking", "Revoking"
    REVOKED = "revoked", "Revoked"
    REJECTED = "rejected", "Rejected"
    FAILED = "failed", "Failed"


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

    UNKNOWN = "unknown", "Unknown"
    HEALTHY = "healthy", "Healthy"
    DEGRADED = "degraded", "Degraded"
    DOWN = "down", "Down"


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
