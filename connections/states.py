"""The state machine of published services and access requests, and its one writer.

Everything about states that is not a label lives here: which state may follow which (the
transition maps, the diagrams of docs/design.md in code), the groups the verbs and pages ask about
(terminal, live, revocable, decidable), which workflow carries each in-flight state on, what a
Retry resumes, what each action needs of a record's state (`state_allows`), and `transition`, the
only code that changes a state. Who may act is `connections.policies`; labels and badge colours
are `connections.choices`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import apps
from django.db import transaction
from django.utils import timezone

from connections.choices import Health, RequestState, ServiceState

if TYPE_CHECKING:
    from connections.models import AccessRequest, Event, PublishedService

# --- which state may follow which -----------------------------------------------------------------

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


def sources_of(transitions: dict[str, frozenset[str]], to_state: str) -> frozenset[str]:
    """The states from which `to_state` may be reached: the verbs' groups come from the maps."""
    return frozenset(state for state, targets in transitions.items() if to_state in targets)


# A person may retire a service, or revoke a request, from these states.
SERVICE_RETIRABLE = sources_of(SERVICE_TRANSITIONS, ServiceState.RETIRING)
REQUEST_REVOCABLE = sources_of(REQUEST_TRANSITIONS, RequestState.REVOKING)
# A request waits for the provider's decision (step 6) where it may still be rejected.
REQUEST_DECIDABLE = sources_of(REQUEST_TRANSITIONS, RequestState.REJECTED)

# --- which workflow carries which state, and what a retry resumes -------------------------------

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


# --- what a record's state allows -----------------------------------------------------------------


def _is_request(record) -> bool:
    return record._meta.model_name == "accessrequest"


def _transitions_of(record) -> dict[str, frozenset[str]]:
    return REQUEST_TRANSITIONS if _is_request(record) else SERVICE_TRANSITIONS


def retry_plan(record: PublishedService | AccessRequest) -> tuple[str, str | None] | None:
    """What a retry of `record` does: (the workflow to resume, the state to resume it in), the
    state being None for work that leaves the state as it is (a closed request's clean-up, an
    available service's new settings); None: nothing to retry."""
    phase = record.failed_phase
    if not phase:
        return None
    if not _is_request(record):
        if phase == CONFIGURE_WORKFLOW and record.state == ServiceState.AVAILABLE:
            return CONFIGURE_WORKFLOW, None
        transitions, workflows = SERVICE_TRANSITIONS, SERVICE_WORKFLOWS
    else:
        if phase == CLEANUP_WORKFLOW and record.state in REQUEST_TERMINAL:
            return CLEANUP_WORKFLOW, None
        transitions, workflows = REQUEST_TRANSITIONS, REQUEST_WORKFLOWS
    if record.state != RequestState.FAILED:  # the same value for services
        return None
    to_state = resume_state(transitions, workflows, phase)
    return (phase, to_state) if to_state else None


def state_allows(action: str, record) -> bool:
    """Does the record's state allow `action`, whoever asks? (`policies.allowed_actions` adds who
    may.) The actions are those of `policies`: REQUEST_, SERVICE_ and FINDING_ACTIONS."""
    kind = record._meta.model_name
    if kind == "finding":
        # Only what the portal made, and only once: a clean-up under way is not asked twice.
        return action == "clean_up" and record.cleanable and record.state == record.OPEN
    if action == "retry":
        return retry_plan(record) is not None
    if kind == "publishedservice":
        return {
            "request_access": record.state == ServiceState.AVAILABLE,
            "configure": record.state == ServiceState.AVAILABLE,
            "retire": record.state in SERVICE_RETIRABLE,
        }.get(action, False)
    return {
        # A failed request's zones and security groups may change before its retry while the
        # cloud holds nothing made with them: its endpoint is not made yet.
        "amend": record.state == RequestState.FAILED
        and record.failed_phase == REQUEST_WORKFLOWS[RequestState.PROVISIONING]
        and not record.endpoint_id,
        "approve": record.state in REQUEST_DECIDABLE,
        "reject": record.state in REQUEST_DECIDABLE,
        "revoke": record.state in REQUEST_REVOCABLE,
        "test": record.state == RequestState.CONNECTED,
    }.get(action, False)


# --- the one writer -------------------------------------------------------------------------------


class InvalidTransition(Exception):
    """The object's state does not allow this change (shown to the user as a conflict)."""

    def __init__(self, obj, to_state: str):
        self.obj, self.to_state = obj, to_state
        super().__init__(
            f"{obj._meta.verbose_name} {obj.pk} cannot go from {obj.state} to {to_state}"
        )


class LostRace(InvalidTransition):
    """Someone else changed the state between our read and our write: nothing was overwritten."""


def transition(
    obj: PublishedService | AccessRequest,
    to_state: str,
    *,
    verb: str,
    actor=None,
    detail: str = "",
    cloud_request_id: str = "",
    task_token: str | None = None,
    **fields,
) -> Event:
    """Move `obj` from its current state to `to_state`, writing `fields` and an event.

    The update is conditional on the state `obj` was read in (and, for a workflow, on its task
    chain still being the record's), so a concurrent change makes this raise LostRace instead of
    silently overwriting the other outcome.
    """
    model = type(obj)
    from_state = obj.state
    if to_state not in _transitions_of(obj)[from_state]:
        raise InvalidTransition(obj, to_state)
    if _is_request(obj) and from_state == RequestState.CONNECTED:
        # Health is a connected request's (connections/monitoring/rules.py): leaving, it is unknown.
        fields = {"health": Health.UNKNOWN, "health_reason": "", **fields}
    now = timezone.now()
    guard = {"pk": obj.pk, "state": from_state}
    if task_token is not None:
        guard["task_token"] = task_token
    with transaction.atomic():
        updated = model.objects.filter(**guard).update(state=to_state, updated_at=now, **fields)
        if updated != 1:
            raise LostRace(obj, to_state)
        event = record_event(
            obj,
            verb,
            actor=actor,
            from_state=from_state,
            to_state=to_state,
            detail=detail,
            cloud_request_id=cloud_request_id,
        )
    obj.state = to_state
    obj.updated_at = now
    for name, value in fields.items():
        setattr(obj, name, value)
    return event


def record_event(
    obj: PublishedService | AccessRequest, verb: str, *, actor=None, **fields
) -> Event:
    """Append an event to the timeline of a service or of a request."""
    # Looked up by name: the models import this module for their state groups.
    events = apps.get_model("connections", "Event").objects
    if _is_request(obj):
        return events.create(verb=verb, actor=actor, access_request=obj, **fields)
    return events.create(verb=verb, actor=actor, service=obj, **fields)
