"""The one way a state changes: a guarded, conditional update with its event in one transaction."""

from django.db import transaction
from django.utils import timezone

from connections.choices import REQUEST_TRANSITIONS, SERVICE_TRANSITIONS, Health, RequestState
from connections.models import AccessRequest, Event, PublishedService


class InvalidTransition(Exception):
    """The object's state does not allow this change (shown to the user as a conflict)."""

    def __init__(self, obj, to_state: str):
        self.obj, self.to_state = obj, to_state
        super().__init__(
            f"{obj._meta.verbose_name} {obj.pk} cannot go from {obj.state} to {to_state}"
        )


class LostRace(InvalidTransition):
    """Someone else changed the state between our read and our write: nothing was overwritten."""


TRANSITIONS = {PublishedService: SERVICE_TRANSITIONS, AccessRequest: REQUEST_TRANSITIONS}


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
    if to_state not in TRANSITIONS[model][from_state]:
        raise InvalidTransition(obj, to_state)
    if model is AccessRequest and from_state == RequestState.CONNECTED:
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
    if isinstance(obj, AccessRequest):
        return Event.objects.create(verb=verb, actor=actor, access_request=obj, **fields)
    return Event.objects.create(verb=verb, actor=actor, service=obj, **fields)
