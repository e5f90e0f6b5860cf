"""Who may do and see what: the one place that decides, for the verbs, the API and the pages.

Roles: team members request access for their team and see its requests; team owners and admins
also publish, approve, reject and retire their team's services and see their backends, errors
and timelines. Platform admins (Django superusers) may do anything. A team uses only the VPCs it
owns (`Vpc.team`), with their vSwitches, security groups and instances: sharing a cloud account
never shares networks. A VPC that no team owns is for platform admins alone.

An action is allowed when the person may do it (`permitted`, their roles) and the object's state
allows it (`connections.states.state_allows`, the state machine's to say):
`allowed_actions` is both. The verbs refuse with `require` (403) before they look at the state
(409), the API's links and the pages' buttons show `allowed_actions`, and the querysets filter
with the `*_q` conditions below. This module reads the database only for a person's memberships,
once per user object (or inside the query that finds the person: `memberships_list`), so a list
page can ask about every row.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, Q, Subquery
from django.utils.translation import gettext_lazy as _

from connections import states
from connections.choices import MANAGING_ROLES
from connections.json_lists import related_json_list
from connections.states import REQUEST_DECIDABLE


@dataclass(frozen=True)
class Roles:
    """A person's teams and roles, read once. `platform_admin` is a Django superuser, who runs
    the portal; a team's own "admin" role (choices.Role.ADMIN) manages that team only."""

    platform_admin: bool
    member_of: frozenset[int]
    manager_of: frozenset[int]

    def is_member(self, team_id: int | None) -> bool:
        return self.platform_admin or team_id in self.member_of

    def manages(self, team_id: int | None) -> bool:
        return self.platform_admin or team_id in self.manager_of


NOBODY = Roles(False, frozenset(), frozenset())
_CACHE_ATTRIBUTE = "_portal_roles"


def roles_of(user) -> Roles:
    """The user's roles, read on first use and kept on the user object (one per web request)."""
    if user is None:
        return NOBODY
    cached = getattr(user, _CACHE_ATTRIBUTE, None)
    if cached is not None:
        return cached
    if not (user.is_authenticated and user.is_active):
        setattr(user, _CACHE_ATTRIBUTE, NOBODY)
        return NOBODY
    return remember_memberships(user, user.memberships.values_list("team_id", "role"))


def memberships_list(user_column: str) -> Subquery:
    """The memberships of the person in the outer query's `user_column`, as a JSON list of
    [team id, role]: read with the row that finds the person (an API token's), they cost no
    query of their own. Hand them to `remember_memberships`."""
    return related_json_list(
        apps.get_model("connections", "Membership").objects.all(), "user",
        ["team_id", "role"], ["team_id"], outer=user_column,
    )  # fmt: skip


def remember_memberships(user, memberships) -> Roles:
    """Keep the person's roles, from their memberships as (team id, role) pairs (none at all:
    an empty list; a platform admin needs none)."""
    if not (user.is_authenticated and user.is_active):
        roles = NOBODY
    else:
        memberships = list(memberships)
        roles = Roles(
            platform_admin=user.is_superuser,
            member_of=frozenset(team for team, _ in memberships),
            manager_of=frozenset(team for team, role in memberships if role in MANAGING_ROLES),
        )
    setattr(user, _CACHE_ATTRIBUTE, roles)
    return roles


def forget_roles(user) -> None:
    """Read the memberships again at the next question (after a long wait, say)."""
    if hasattr(user, _CACHE_ATTRIBUTE):
        delattr(user, _CACHE_ATTRIBUTE)


def is_platform_admin(user) -> bool:
    return roles_of(user).platform_admin


def is_member(user, team) -> bool:
    return roles_of(user).is_member(team.pk)


def manages(user, team) -> bool:
    return roles_of(user).manages(team.pk)


# --- teams and networks --------------------------------------------------------------------------


def teams_q(user, *, managed: bool = False) -> Q:
    """The teams a person acts for (as a member, or as an owner when `managed`)."""
    roles = roles_of(user)
    if roles.platform_admin:
        return Q()
    return Q(pk__in=roles.manager_of if managed else roles.member_of)


def vpcs_q(user, prefix: str = "") -> Q:
    """The VPCs a person's teams own (platform admins: every VPC, unassigned ones included).

    `prefix` filters what lives in a VPC: `vpcs_q(user, "vpc__")` for vSwitches, security
    groups and instances."""
    roles = roles_of(user)
    if roles.platform_admin:
        return Q()
    return Q(**{f"{prefix}team_id__in": roles.member_of})


def publishes_for_some_team(user) -> bool:
    """Owners of a team (and platform admins) publish; everyone else is refused up front."""
    roles = roles_of(user)
    return roles.platform_admin or bool(roles.manager_of)


def may_use_vpc(user, team, vpc) -> bool:
    """A team uses its own VPCs; a VPC nobody owns is for platform admins only."""
    return vpc.team_id == team.pk or (vpc.team_id is None and is_platform_admin(user))


# --- what a person may see -----------------------------------------------------------------------


def requests_q(user, prefix: str = "") -> Q:
    """Requests the person may see: their teams' own, and those to their teams' services.

    A join, not a subquery, for the services: SQLite then reads a list newest first down its
    (created_at) index, testing each row, and stops at the page's end (a subquery makes it
    merge two indexes and sort every visible request: bench/api_lists.py)."""
    roles = roles_of(user)
    if roles.platform_admin:
        return Q()
    return Q(**{f"{prefix}consumer_team_id__in": roles.member_of}) | Q(
        **{f"{prefix}service__owner_team_id__in": roles.member_of}
    )


def events_q(user) -> Q:
    """Events of the services and requests the person may see; a service's own timeline
    (its cloud resources and errors) is for its owners only."""
    roles = roles_of(user)
    if roles.platform_admin:
        return Q()
    return Q(service__owner_team_id__in=roles.manager_of) | requests_q(user, "access_request__")


def sees_owner_fields(user, service) -> bool:
    """A service's backends, last error and timeline are its owners' business: the cloud's
    messages name the owner's account, NLB and vSwitches."""
    return roles_of(user).manages(service.owner_team_id)


def sees_every_owner_field(user) -> bool:
    """Does the person see the owner fields of every service (a list may read them for all)?"""
    return roles_of(user).platform_admin


def owner_fields_q(user, prefix: str = "") -> Q:
    """The services whose owner fields the person sees (`sees_owner_fields`), as a condition:
    a list fetches backends for those rows alone."""
    if sees_every_owner_field(user):
        return Q()
    return Q(**{f"{prefix}owner_team_id__in": roles_of(user).manager_of})


def sees_request(user, access_request) -> bool:
    roles = roles_of(user)
    return roles.is_member(access_request.consumer_team_id) or roles.is_member(
        access_request.service.owner_team_id
    )


def findings_q(user) -> Q:
    """What the health sweep found (models.Finding) concerns a service's owners; one that no
    service of the portal accounts for is for platform admins alone."""
    roles = roles_of(user)
    if roles.platform_admin:
        return Q()
    return Q(service__owner_team_id__in=roles.manager_of)


def _team_ids(user_id: int | None, roles=None):
    """The ids of the person's teams (with one of `roles`), as a subquery: the rows' own team
    column is compared with it, so the lists' (team, newest first) indexes serve."""
    # Looked up by name: the models import this module for their querysets.
    memberships = apps.get_model("connections", "Membership").objects.filter(
        user_id=user_id, user__is_active=True
    )
    if roles is not None:
        memberships = memberships.filter(role__in=roles)
    return memberships.values("team_id")


def team_requests_q(user_id: int | None) -> Q:
    """The requests of the person's own teams (their "My team's requests"), by the person's
    id: a poll asks it without reading the person first."""
    return Q(consumer_team_id__in=_team_ids(user_id))


def _is_platform_admin_q(user_id: int | None) -> Q:
    """ "The person is a platform admin", as a condition inside a query that finds rows by the
    person's id (a poll's), without reading the person first."""
    admin = get_user_model().objects.filter(pk=user_id, is_superuser=True, is_active=True)
    return Q(Exists(admin))


def seen_requests_q(user_id: int | None) -> Q:
    """The requests the person may see (`requests_q`), by the person's id: a page's poll asks it
    before it compares what the page shows, without reading the person first."""
    teams = _team_ids(user_id)
    return (
        Q(consumer_team_id__in=teams)
        | Q(service__owner_team_id__in=teams)
        | _is_platform_admin_q(user_id)
    )


def approval_queue_q(user_id: int | None) -> Q:
    """Requests waiting for a decision (step 6) on services the person manages, or on every
    service for a platform admin, by the person's id (the live header count and the queue's poll
    ask it without reading the person first)."""
    services = apps.get_model("connections", "PublishedService").objects.filter(
        owner_team_id__in=_team_ids(user_id, MANAGING_ROLES)
    )
    # Subqueries, not joins: the count and the page read the (state, …) indexes alone.
    managed = Q(service_id__in=services.values("pk"))
    return (managed | _is_platform_admin_q(user_id)) & Q(state__in=REQUEST_DECIDABLE)


# --- what a person may do ------------------------------------------------------------------------

REQUEST_ACTIONS = ("approve", "reject", "revoke", "retry", "test", "amend")
SERVICE_ACTIONS = ("request_access", "configure", "retire", "retry")
FINDING_ACTIONS = ("clean_up",)


def _kind(obj) -> str:
    return obj._meta.model_name


def permitted(user, action: str, obj) -> bool:
    """May this person do `action` to `obj`, whatever its state?"""
    roles = roles_of(user)
    if _kind(obj) == "finding":
        owner_team_id = obj.service.owner_team_id if obj.service_id else None
        return action in FINDING_ACTIONS and (
            roles.platform_admin or (owner_team_id is not None and roles.manages(owner_team_id))
        )
    if _kind(obj) == "publishedservice":
        if action == "request_access":
            return roles.platform_admin or bool(roles.member_of)
        return action in SERVICE_ACTIONS and roles.manages(obj.owner_team_id)
    owner_team_id = obj.service.owner_team_id
    if action in ("approve", "reject"):
        return roles.manages(owner_team_id)
    if action == "amend":  # the requesting team's choices: theirs to change
        return roles.is_member(obj.consumer_team_id)
    # Either side: the requesting team's members, or the service's owners.
    either_side = roles.is_member(obj.consumer_team_id) or roles.manages(owner_team_id)
    return action in REQUEST_ACTIONS and either_side


def allowed_actions(user, obj) -> frozenset[str]:
    """What the person may do to `obj` now: the buttons of a page, the links of the API."""
    actions = {"publishedservice": SERVICE_ACTIONS, "finding": FINDING_ACTIONS}.get(
        _kind(obj), REQUEST_ACTIONS
    )
    return frozenset(a for a in actions if permitted(user, a, obj) and states.state_allows(a, obj))


REFUSALS = {
    "approve": _("Only owners of %(owner)s may approve."),
    "reject": _("Only owners of %(owner)s may reject."),
    "revoke": _("Only the requesting team or the service's owners may revoke."),
    "retry": _("Only the requesting team or the service's owners may retry."),
    "test": _("Only the requesting team or the service's owners may test the connection."),
    "amend": _("Only the requesting team may change its request."),
    "retire": _("Only owners of %(owner)s may retire it."),
    "configure": _("Only owners of %(owner)s may change its settings."),
    "request_access": _("Only members of a team may request access."),
    "clean_up": _("Only owners of %(owner)s may clean up what the health sweep found."),
}
SERVICE_REFUSALS = {**REFUSALS, "retry": _("Only owners of %(owner)s may retry it.")}


def require(user, action: str, obj) -> None:
    """Refuse (403) unless the person may do `action` to `obj`; its state is the verb's to check."""
    if permitted(user, action, obj):
        return
    if _kind(obj) == "finding" and not obj.service_id:
        raise PermissionDenied(_("Only platform admins may clean up what no service accounts for."))
    if _kind(obj) == "finding":
        raise PermissionDenied(str(REFUSALS[action]) % {"owner": obj.service.owner_team})
    service = obj if _kind(obj) == "publishedservice" else obj.service
    messages = SERVICE_REFUSALS if service is obj else REFUSALS
    raise PermissionDenied(str(messages[action]) % {"owner": service.owner_team})


def require_publisher(user, team) -> None:
    if not manages(user, team):
        raise PermissionDenied(_("Only owners of %(team)s may publish for it.") % {"team": team})


def require_requester(user, team) -> None:
    if not is_member(user, team):
        raise PermissionDenied(
            _("Only members of %(team)s may request access for it.") % {"team": team}
        )
