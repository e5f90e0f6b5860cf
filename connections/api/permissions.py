"""The API's permission classes: thin over `connections.policies`, which alone decides.

The verbs themselves (connections/actions.py) are guarded by the policies; these only refuse
early, before a body is read, what the verbs would refuse anyway.
"""

from __future__ import annotations

from rest_framework import permissions

from connections import policies


class ManagesSomeTeam(permissions.BasePermission):
    """Publishing is for owners: refuse others before reading what they sent."""

    message = "Only owners of a team may publish services."

    def has_permission(self, request, view) -> bool:
        return policies.publishes_for_some_team(request.user)
