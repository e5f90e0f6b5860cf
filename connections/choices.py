"""States and other choices of the domain, with their groups, allowed transitions and badges.

The state diagrams are contracts (docs/design.md, "Access request states"); the transition maps
below are their only encoding. Templates and serializers ask these classes for labels and colours.
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
    # Failed: the health sweep found a resource of it deleted outside the portal; a retry
    # publishes it again (connections/monitoring/provider_drift.py).
    ServiceState.AVAILABLE: frozenset({ServiceState.RETIRING, ServiceState.FAILED}),
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
    # Failed: the health sweep found the connection disabled outside the portal; a retry
    # connects it again.
    RequestState.CONNECTED: frozenset({RequestState.REVOKING, RequestState.FAILED}),
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


def sources_of(transitions: dict[str, frozenset[str]], to_state: str) -> frozenset[str]:
    """The states from which `to_state` may be reached: the verbs' groups come from the maps."""
    return frozenset(state for state, targets in transitions.items() if to_state in targets)


# A person may retire a service, or revoke a request, from these states.
SERVICE_RETIRABLE = sources_of(SERVICE_TRANSITIONS, ServiceState.RETIRING)
REQUEST_REVOCABLE = sources_of(REQUEST_TRANSITIONS, RequestState.REVOKING)
# A request waits for the provider's decision (step 6) where it may still be rejected.
REQUEST_DECIDABLE = sources_of(REQUEST_TRANSITIONS, RequestState.REJECTED)

# The workflow (by name) that carries each in-flight state on. The one place that says so: the
# reconciler restarts a stalled record's workflow from here, and a retry of a failed record
# resumes its failed workflow in the state that workflow runs in (`resume_state`).
SERVICE_WORKFLOWS: dict[str, str] = {
    ServiceState.PROVISIONING: "publish",
    ServiceState.RETIRING: "retire",
}
REQUEST_WORKFLOWS: dict[str, str] = {
    RequestState.SUBMITTED: "provision",
    RequestState.PROVISIONING: "provision",
    RequestState.CONNECTING: "connect",
    RequestState.REVOKING: "revoke",
}
# Removes what a closed request left in the cloud; runs on a terminal request, whose state stays.
CLEANUP_WORKFLOW = "cleanup"
# Applies an owner's change of settings to an available service, which stays available.
CONFIGURE_WORKFLOW = "configure"


def resume_state(
    transitions: dict[str, frozenset[str]], workflows: dict[str, str], failed_phase: str
) -> str | None:
    """Where a retry takes a failed record: the state reachable from `failed` (the same value in
    both state machines) that the failed workflow runs in; None when nothing resumes it there."""
    for state in sorted(transitions[RequestState.FAILED]):
        if workflows.get(state) == failed_phase:
            return state
    return None


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
