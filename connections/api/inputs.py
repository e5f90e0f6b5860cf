"""What the API accepts: request bodies and query strings.

These serializers only check shapes and turn ids into rows: an unknown id is a 400 that names the
field and its item (`zones[1].vswitch_id`, code `unknown_vswitch`). Every rule about what may be
requested lives in `connections.actions`, which the views call with the result, so the pages and
the API refuse the same things with the same codes.

Cloud ids (VPCs, vSwitches, security groups, instances) are looked up only among the VPCs of the
user's teams (policies.vpcs_q): another team's id is as unknown as one that does not exist, so
the answers tell nobody which ids other teams have, even in a cloud account they share (the
catalog shows a service's VPC and vSwitches to its owners only).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Model
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from connections import policies
from connections.api import waiting
from connections.choices import ListenerProtocol, RequestState
from connections.models import (
    MAX_ROW_ID,
    Instance,
    PublishedService,
    SecurityGroup,
    Team,
    Vpc,
    VSwitch,
)
from connections.preflight import BackendChoice, ZoneChoice

# Ports, weights and limits are 32-bit columns: larger numbers are refused before the verbs.
MAX_INT32 = 2**31 - 1
USERNAME_MAX_LENGTH = get_user_model()._meta.get_field("username").max_length


def _error(message: str, code: str) -> list[ErrorDetail]:
    return [ErrorDetail(message, code=code)]


def _by_id(rows, field: str, values: list[str]) -> dict[str, Model]:
    return {getattr(row, field): row for row in rows.filter(**{f"{field}__in": values})}


def resolve_team(user, slug: str | None, errors: dict) -> Team | None:
    """The named team, or the user's only team when none is named."""
    if slug:
        team = Team.objects.filter(slug=slug).first()
        if team is None:
            errors["team"] = _error(f"There is no team {slug!r}.", "unknown_team")
        return team
    # The teams the user is in (a platform admin acts for any team, but must name it).
    teams = list(Team.objects.filter(pk__in=policies.roles_of(user).member_of)[:2])
    if len(teams) != 1:
        errors["team"] = _error(
            "Say which team this is for (its slug): you are not in exactly one team.",
            "team_required",
        )
        return None
    return teams[0]


def resolve_zones(user, items: list[dict], errors: dict) -> list[ZoneChoice]:
    wanted = [item["vswitch_id"] for item in items]
    vswitches = _by_id(VSwitch.objects.usable_by(user), "vswitch_id", wanted)
    choices, item_errors = [], []
    for item in items:
        vswitch = vswitches.get(item["vswitch_id"])
        if vswitch is None:
            item_errors.append(
                {
                    "vswitch_id": _error(
                        f"There is no vSwitch {item['vswitch_id']!r}.", "unknown_vswitch"
                    )
                }
            )
        else:
            item_errors.append({})
            choices.append(ZoneChoice(item["zone_id"], vswitch))
    if any(item_errors):
        errors["zones"] = item_errors
    return choices


def resolve_vpc(user, vpc_id: str, errors: dict) -> Vpc | None:
    vpcs = Vpc.objects.usable_by(user).select_related("account")
    vpc = vpcs.filter(vpc_id=vpc_id).first()
    if vpc is None:
        errors["vpc_id"] = _error(f"There is no VPC {vpc_id!r}.", "unknown_vpc")
    return vpc


class ZoneInputSerializer(serializers.Serializer):
    zone_id = serializers.CharField(max_length=64, help_text="e.g. cn-hangzhou-g")
    vswitch_id = serializers.CharField(max_length=64, help_text="A vSwitch of the VPC in the zone.")


class AccessRequestCreateSerializer(serializers.Serializer):
    """Ask for an endpoint to a service in one of the team's VPCs (seed step 5)."""

    service = serializers.IntegerField(min_value=1, max_value=MAX_ROW_ID, help_text="Service id.")
    team = serializers.SlugField(
        max_length=100,
        required=False,
        help_text="Slug of the requesting team; optional when you are in one team only.",
    )
    vpc_id = serializers.CharField(max_length=64, help_text="Cloud id of the team's VPC.")
    security_group_ids = serializers.ListField(
        child=serializers.CharField(max_length=64), max_length=50
    )
    zones = ZoneInputSerializer(many=True, max_length=20)
    justification = serializers.CharField(max_length=5000, allow_blank=True)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)

    def validate(self, data: dict) -> dict:
        errors: dict = {}
        service = PublishedService.objects.filter(pk=data["service"]).first()
        if service is None:
            errors["service"] = _error(f"There is no service {data['service']}.", "unknown_service")
        user = self.context["request"].user
        team = resolve_team(user, data.get("team"), errors)
        if team is not None:
            # Before the ids are looked up: someone outside the team gets the 403 of the
            # services, not a 400 about ids of VPCs they cannot see anyway.
            policies.require_requester(user, team)
        vpc = resolve_vpc(user, data["vpc_id"], errors)
        wanted = list(dict.fromkeys(data["security_group_ids"]))
        groups = _by_id(SecurityGroup.objects.usable_by(user), "security_group_id", wanted)
        unknown = {
            index: _error(f"There is no security group {group_id!r}.", "unknown_security_group")
            for index, group_id in enumerate(data["security_group_ids"])
            if group_id not in groups
        }
        if unknown:
            errors["security_group_ids"] = unknown
        zones = resolve_zones(user, data["zones"], errors)
        if errors:
            raise serializers.ValidationError(errors)
        return {
            "service": service,
            "team": team,
            "vpc": vpc,
            "security_groups": [groups[group_id] for group_id in wanted],
            "zones": zones,
            "justification": data["justification"],
            "expires_at": data.get("expires_at"),
        }


class RejectSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=5000, allow_blank=True, default="", help_text="Shown to the requesting team."
    )


class BackendInputSerializer(serializers.Serializer):
    instance_id = serializers.CharField(max_length=64)
    port = serializers.IntegerField(min_value=-MAX_INT32, max_value=MAX_INT32)
    weight = serializers.IntegerField(min_value=-MAX_INT32, max_value=MAX_INT32, default=100)


class ListenerInputSerializer(serializers.Serializer):
    protocol = serializers.ChoiceField(choices=ListenerProtocol.choices, default="TCP")
    port = serializers.IntegerField(min_value=-MAX_INT32, max_value=MAX_INT32)


class ServicePublishSerializer(serializers.Serializer):
    """Publish a service behind a new internal NLB (seed steps 1–4)."""

    team = serializers.SlugField(
        max_length=100,
        required=False,
        help_text="Slug of the owning team; optional when you are in one team only.",
    )
    name = serializers.SlugField(max_length=64)
    description = serializers.CharField(max_length=5000, allow_blank=True, default="")
    vpc_id = serializers.CharField(max_length=64, help_text="Cloud id of the team's VPC.")
    zones = ZoneInputSerializer(many=True, max_length=20, help_text="Two zones at least.")
    backends = BackendInputSerializer(many=True, max_length=100)
    listener = ListenerInputSerializer()
    auto_accept = serializers.BooleanField(default=False)
    trusted_teams = serializers.ListField(
        child=serializers.SlugField(max_length=100),
        max_length=100,
        default=list,
        help_text="Slugs of teams whose requests are approved at once.",
    )
    connection_limit = serializers.IntegerField(
        required=False, allow_null=True, min_value=-MAX_INT32, max_value=MAX_INT32
    )

    def validate(self, data: dict) -> dict:
        errors: dict = {}
        user = self.context["request"].user
        team = resolve_team(user, data.get("team"), errors)
        if team is not None:
            policies.require_publisher(user, team)  # first, as for a request (above)
        vpc = resolve_vpc(user, data["vpc_id"], errors)
        zones = resolve_zones(user, data["zones"], errors)
        wanted = [b["instance_id"] for b in data["backends"]]
        instances = _by_id(Instance.objects.usable_by(user), "instance_id", wanted)
        backend_errors = [
            {}
            if b["instance_id"] in instances
            else {
                "instance_id": _error(
                    f"There is no instance {b['instance_id']!r}.", "unknown_instance"
                )
            }
            for b in data["backends"]
        ]
        if any(backend_errors):
            errors["backends"] = backend_errors
        trusted = _by_id(Team.objects.all(), "slug", data["trusted_teams"])
        unknown_trusted = {
            index: _error(f"There is no team {slug!r}.", "unknown_team")
            for index, slug in enumerate(data["trusted_teams"])
            if slug not in trusted
        }
        if unknown_trusted:
            errors["trusted_teams"] = unknown_trusted
        if errors:
            raise serializers.ValidationError(errors)
        return {
            "team": team,
            "name": data["name"],
            "description": data["description"],
            "vpc": vpc,
            "zones": zones,
            "backends": [
                BackendChoice(instances[b["instance_id"]], b["port"], b["weight"])
                for b in data["backends"]
            ],
            "listener_port": data["listener"]["port"],
            "listener_protocol": data["listener"]["protocol"],
            "auto_accept": data["auto_accept"],
            "trusted_teams": list(trusted.values()),
            "connection_limit": data.get("connection_limit"),
        }


# --- query strings -------------------------------------------------------------------------------


class WaitQuerySerializer(serializers.Serializer):
    wait_for = serializers.ChoiceField(choices=RequestState.choices, required=False)
    timeout = serializers.FloatField(
        min_value=0, max_value=waiting.MAX_TIMEOUT, default=waiting.DEFAULT_TIMEOUT
    )


class RetireQuerySerializer(serializers.Serializer):
    force = serializers.BooleanField(default=False)


# --- tokens --------------------------------------------------------------------------------------


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=USERNAME_MAX_LENGTH)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)
    name = serializers.CharField(
        max_length=100, allow_blank=True, default="", help_text="A label, e.g. the script's name."
    )
    expires_in_days = serializers.IntegerField(
        min_value=1, max_value=365, required=False, help_text="Default: 30 days."
    )
