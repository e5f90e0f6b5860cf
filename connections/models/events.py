"""The timeline: one event per change of a service or request."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from connections import policies, timeline
from connections.choices import RequestState, ServiceState
from connections.models.access import AccessRequest
from connections.models.published import PublishedService


class EventQuerySet(models.QuerySet):
    def visible_to(self, user) -> EventQuerySet:
        return self.filter(policies.events_q(user))


class Event(models.Model):
    """One line of the append-only timeline and audit trail: who did what to which object.

    The actor is a person, or nobody for the system (workers). A transition records its from
    and to states; a cloud step records the cloud's request id for support cases.
    """

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    verb = models.CharField(max_length=64)
    # PROTECT: the audit trail outlives nothing it describes; an admin cannot delete it away.
    service = models.ForeignKey(
        PublishedService, null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    access_request = models.ForeignKey(
        AccessRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    detail = models.TextField(blank=True)
    cloud_request_id = models.CharField(max_length=128, blank=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.verb}"

    def save(self, *args, **kwargs):
        # Append-only: an event once written is history.
        if self.pk is not None:
            raise ValueError("events are append-only")
        super().save(*args, **kwargs)

    @property
    def actor_label(self) -> str:
        return self.actor.get_username() if self.actor_id else "system"

    @property
    def verb_label(self) -> str:
        """The verb in the reader's language (connections/timeline.py); stored, it stays English."""
        return timeline.verb_label(self.verb)

    @property
    def detail_label(self) -> str:
        """The detail: a fixed phrase of the portal's translated, data as written."""
        return timeline.detail_label(self.detail)

    @property
    def detail_is_data(self) -> bool:
        """Written from data (ids, a cloud's message, a justification): not to be translated."""
        return self.detail not in timeline.DETAIL_PHRASES

    @property
    def to_state_label(self) -> str:
        """The state the event led to, as the pages name it."""
        states = RequestState if self.access_request_id else ServiceState
        return states(self.to_state).label if self.to_state in states.values else self.to_state
