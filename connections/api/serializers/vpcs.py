"""The teams' VPCs and their inventory as the API shows them."""

from __future__ import annotations

from connections.api.serializers.common import AccountSerializer, Representation, TeamSerializer
from connections.models import Instance, SecurityGroup, Vpc, VSwitch


class VSwitchSerializer(Representation):
    class Meta:
        model = VSwitch
        fields = ["vswitch_id", "name", "zone_id", "cidr"]


class SecurityGroupSerializer(Representation):
    class Meta:
        model = SecurityGroup
        fields = ["security_group_id", "name"]


class InstanceSerializer(Representation):
    class Meta:
        model = Instance
        fields = ["instance_id", "name", "zone_id", "private_ip", "status"]


class VpcSerializer(Representation):
    """A VPC of one of the user's teams: what a request or a publish chooses from."""

    account = AccountSerializer()
    team = TeamSerializer(
        allow_null=True,
        help_text="The team that owns it; null: unassigned (listed for platform admins only).",
    )
    vswitches = VSwitchSerializer(many=True)
    security_groups = SecurityGroupSerializer(many=True)
    instances = InstanceSerializer(many=True, help_text="Candidate backends for publishing.")

    class Meta:
        model = Vpc
        fields = [
            "vpc_id",
            "name",
            "cidr",
            "account",
            "team",
            "vswitches",
            "security_groups",
            "instances",
        ]
