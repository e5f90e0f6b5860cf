"""What the requesting user may do, for the API's permission checks and for the links of a page.

The verbs themselves are guarded by `connections.policies` (in the services); nothing here lets
anyone do more. Links only offer what the policies would allow.
"""

from __future__ import annotations

from dataclasses import dataclass

from rest_framework import permissions

from connections import policies
from connections.choices import MANAGING_ROLES
from connections.models import Membership


@dataclass(frozen=True)
class Viewer:
    """The user's teams and roles, read once per request.

    `policies.is_member` and `policies.manages` answer for one team with a query each; the links
    of a list page need the answer for every row, so this reads the memberships once and applies
    the same rules: platform admins manage everything, owners and admins manage their team.
    """

    is_admin: bool
    member_of: frozenset[int]
    manager_of: frozenset[int]

    @classmethod
    def of(cls, user) -> Viewer:
        if not user.is_authenticated:
            return cls(False, frozenset(), frozenset())
        roles = list(Membership.objects.filter(user=user).values_list("team_id", "role"))
        return cls(
            is_admin=policies.is_platform_admin(user),
            member_of=frozenset(team for team, _ in roles),
            manager_of=frozenset(team for team, role in roles if role in MANAGING_ROLES),
        )

    def is_member(self, team_id: int) -> bool:
        return self.is_admin or team_id in self.member_of

    def manages(self, team_id: int) -> bool:
        return self.is_admin or team_id in self.manager_of


def viewer_of(request) -> Viewer:
    """The request's Viewer, computed on first use."""
    viewer = getattr(request, "_portal_viewer", None)
    if viewer is None:
        viewer = request._portal_viewer = Viewer.of(request.user)
    return viewer


class ManagesSomeTeam(permissions.BasePermission):
    """Publishing is for owners: refuse others before reading what they sent."""

    message = "Only owners of a team may publish services."

    def has_permission(self, request, view) -> bool:
        return policies.managed_teams(request.user).exists()
