"""Who may do what. Every service checks here; views and the API only hide what these refuse.

Roles: team members request access for their team; team owners and admins also publish, approve,
reject and retire their team's services. Platform admins (Django superusers) may do anything.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from connections.choices import MANAGING_ROLES
from connections.models import (
    AccessRequest,
    CloudAccount,
    Event,
    Membership,
    PublishedService,
    Team,
    Vpc,
)


def is_platform_admin(user) -> bool:
    return bool(user.is_active and user.is_superuser)


def is_member(user, team: Team) -> bool:
    return is_platform_admin(user) or Membership.objects.filter(user=user, team=team).exists()


def manages(user, team: Team) -> bool:
    return (
        is_platform_admin(user)
        or Membership.objects.filter(user=user, team=team, role__in=MANAGING_ROLES).exists()
    )


def team_uses_account(team: Team, account: CloudAccount) -> bool:
    return account.teams.filter(pk=team.pk).exists()


def teams_of(user) -> QuerySet[Team]:
    return (
        Team.objects.all()
        if is_platform_admin(user)
        else Team.objects.filter(memberships__user=user)
    )


def managed_teams(user) -> QuerySet[Team]:
    if is_platform_admin(user):
        return Team.objects.all()
    return Team.objects.filter(memberships__user=user, memberships__role__in=MANAGING_ROLES)


# --- the verbs ------------------------------------------------------------------------------------


def can_publish(user, team: Team) -> bool:
    return manages(user, team)


def can_request(user, team: Team) -> bool:
    return is_member(user, team)


def can_decide(user, access_request: AccessRequest) -> bool:
    """Approve or reject: the owners of the service's team (step 6)."""
    return manages(user, access_request.service.owner_team)


def can_revoke(user, access_request: AccessRequest) -> bool:
    """Either side: the consumer team's members, or the service's owners."""
    return is_member(user, access_request.consumer_team) or manages(
        user, access_request.service.owner_team
    )


def can_retry_request(user, access_request: AccessRequest) -> bool:
    return can_revoke(user, access_request)


def can_manage_service(user, service: PublishedService) -> bool:
    """Retire or retry a service: its owners."""
    return manages(user, service.owner_team)


def require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


def require_publisher(user, team: Team) -> None:
    require(can_publish(user, team), f"Only owners of {team} may publish for it.")


def require_requester(user, team: Team) -> None:
    require(can_request(user, team), f"Only members of {team} may request access for it.")


# --- what a user may see --------------------------------------------------------------------------


def visible_requests(user) -> QuerySet[AccessRequest]:
    """The requester's team sees its requests; the service's team sees requests to its services."""
    requests = AccessRequest.objects.all()
    if is_platform_admin(user):
        return requests
    teams = Team.objects.filter(memberships__user=user)
    return requests.filter(Q(consumer_team__in=teams) | Q(service__owner_team__in=teams))


def visible_events(user) -> QuerySet[Event]:
    """Events of the services and requests the user may see (the catalog is public)."""
    events = Event.objects.all()
    if is_platform_admin(user):
        return events
    teams = Team.objects.filter(memberships__user=user)
    return events.filter(
        Q(service__owner_team__in=teams)
        | Q(access_request__consumer_team__in=teams)
        | Q(access_request__service__owner_team__in=teams)
    )


def vpcs_in_usable_accounts(user) -> QuerySet[Vpc]:
    """The VPCs mirrored from accounts that the user's teams may use, gone ones included (so a
    choice of one that vanished is refused as gone, not as unknown)."""
    vpcs = Vpc.objects.all()
    if is_platform_admin(user):
        return vpcs
    return vpcs.filter(account__teams__memberships__user=user).distinct()


def usable_vpcs(user) -> QuerySet[Vpc]:
    """The VPCs in accounts that the user's teams may use."""
    return vpcs_in_usable_accounts(user).filter(present=True)
