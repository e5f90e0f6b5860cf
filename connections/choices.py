"""States and other choices of the domain, with their groups, allowed transitions and badges.

The state diagrams are contracts (DESIGN.md, "Access request states"); the transition maps below
are their only encoding. Templates and serializers ask these classes for labels and colours.
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


SERVICE_TRANSITIONS: dict[str, frozenset[str]] = {
    # No retiring mid-publish: the publish chain could create a resource after its teardown step.
    ServiceState.PROVISIONING: frozenset({ServiceState.AVAILABLE, ServiceState.FAILED}),
    ServiceState.AVAILABLE: frozenset({ServiceState.RETIRING}),
    ServiceState.RETIRING: frozenset({ServiceState.RETIRED, ServiceState.FAILED}),
    ServiceState.FAILED: frozenset({ServiceState.PROVISIONING, ServiceState.RETIRING}),
    ServiceState.RETIRED: frozenset(),
}
SERVICE_TERMINAL = frozenset({ServiceState.RETIRED})
SERVICE_BADGES = {
    ServiceState.PROVISIONING: "blue",
    ServiceState.AVAILABLE: "green",
    ServiceState.RETIRING: "orange",
    ServiceState.RETIRED: "grey",
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


REQUEST_TRANSITIONS: dict[str, frozenset[str]] = {
    RequestState.SUBMITTED: frozenset({RequestState.PROVISIONING, RequestState.REVOKING}),
    RequestState.PROVISIONING: frozenset(
        {
            RequestState.PENDING_APPROVAL,
            RequestState.CONNECTING,
            RequestState.FAILED,
            RequestState.REVOKING,
        }
    ),
    RequestState.PENDING_APPROVAL: frozenset(
        {RequestState.CONNECTING, RequestState.REJECTED, RequestState.REVOKING}
    ),
    RequestState.CONNECTING: frozenset(
        {RequestState.CONNECTED, RequestState.FAILED, RequestState.REVOKING}
    ),
    RequestState.CONNECTED: frozenset({RequestState.REVOKING}),
    RequestState.REVOKING: frozenset({RequestState.REVOKED, RequestState.FAILED}),
    # A retry resumes the phase that failed; a failed request can also be given up (revoked).
    RequestState.FAILED: frozenset(
        {RequestState.PROVISIONING, RequestState.CONNECTING, RequestState.REVOKING}
    ),
    RequestState.REVOKED: frozenset(),
    RequestState.REJECTED: frozenset(),
}
REQUEST_TERMINAL = frozenset({RequestState.REVOKED, RequestState.REJECTED})
# Live requests hold (or are about to hold) an endpoint: at most one per service and VPC.
REQUEST_LIVE = frozenset(set(RequestState) - REQUEST_TERMINAL)
REQUEST_REVOCABLE = frozenset(
    {
        RequestState.SUBMITTED,
        RequestState.PROVISIONING,
        RequestState.PENDING_APPROVAL,
        RequestState.CONNECTING,
        RequestState.CONNECTED,
        RequestState.FAILED,
    }
)
REQUEST_BADGES = {
    RequestState.SUBMITTED: "grey",
    RequestState.PROVISIONING: "blue",
    RequestState.PENDING_APPROVAL: "yellow",
    RequestState.CONNECTING: "blue",
    RequestState.CONNECTED: "green",
    RequestState.REVOKING: "orange",
    RequestState.REVOKED: "grey",
    RequestState.REJECTED: "grey",
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


# Tags on everything the portal creates, so an operator can tell and a sweep can find it.
MANAGED_BY_TAG = ("managed-by", "privatelink-portal")
SERVICE_TAG_KEY = "privatelink-portal:service"
REQUEST_TAG_KEY = "privatelink-portal:request"
