"""Cloud accounts and their network inventory (zones, VPCs, vSwitches, security groups,
instances), mirrored from the cloud."""

from __future__ import annotations

from django.db import models

from connections import crypto, policies
from connections.choices import CredentialSource
from connections.models.teams import Team


class CloudAccount(models.Model):
    """An Alibaba Cloud account the portal works in, and how it authenticates there.

    The access key secret is stored encrypted (`connections.crypto`) and never displayed.
    A RAM role is assumed with the credentials of `assume_from`, or of the default chain.
    """

    name = models.CharField(max_length=100, unique=True)
    uid = models.CharField("account UID", max_length=32, unique=True)
    region = models.CharField(max_length=32, default="cn-hangzhou")
    credential_source = models.CharField(
        max_length=20, choices=CredentialSource.choices, default=CredentialSource.ACCESS_KEY
    )
    access_key_id = models.CharField(max_length=128, blank=True)
    access_key_secret_encrypted = models.TextField(blank=True, editable=False)
    role_arn = models.CharField("RAM role ARN", max_length=256, blank=True)
    assume_from = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text="Account whose credentials assume the role; empty: the default credential chain.",
    )
    inventory_synced_at = models.DateTimeField(null=True, blank=True)
    # What the last health sweep could not read in this account (credentials, throttling…).
    sweep_error = models.TextField(blank=True)
    swept_at = models.DateTimeField(null=True, blank=True)
    # The last run of the access checks (connections/cloud_check.py): one {status, what,
    # detail} per check, run by a worker when an admin asks for it.
    access_check = models.JSONField(default=list, blank=True)
    access_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.uid})"

    @property
    def access_key_secret(self) -> str:
        return (
            crypto.decrypt(self.access_key_secret_encrypted)
            if self.access_key_secret_encrypted
            else ""
        )

    @access_key_secret.setter
    def access_key_secret(self, value: str) -> None:
        self.access_key_secret_encrypted = crypto.encrypt(value) if value else ""


class Zone(models.Model):
    """A zone of an account's region, as DescribeZones lists it, and whether NLB and
    PrivateLink are offered in it (each product's own DescribeZones: each supports a subset of
    the region's zones)."""

    account = models.ForeignKey(CloudAccount, on_delete=models.CASCADE, related_name="zones")
    zone_id = models.CharField(max_length=64)
    local_name = models.CharField(max_length=100, blank=True)
    nlb_offered = models.BooleanField(default=True)
    privatelink_offered = models.BooleanField(default=True)

    class Meta:
        ordering = ["zone_id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "zone_id"], name="one_zone_per_account")
        ]

    def __str__(self) -> str:
        return self.zone_id


class VpcQuerySet(models.QuerySet):
    def usable_by(self, user) -> VpcQuerySet:
        """The VPCs the person's teams own (gone ones included: a choice of one is refused as
        gone, not as unknown); platform admins: all of them."""
        return self.filter(policies.vpcs_q(user))


class Vpc(models.Model):
    """A VPC mirrored from an account by the inventory sync, owned by at most one team.

    The team (assigned by a platform admin, or from a cloud tag at sync: connections/inventory.py)
    is the only one that may use the VPC and everything in it; unassigned, only platform admins
    may. Sharing a cloud account does not share networks.
    """

    account = models.ForeignKey(CloudAccount, on_delete=models.CASCADE, related_name="vpcs")
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="vpcs",
        help_text="The team that uses this VPC and what is in it. Empty: platform admins only.",
    )
    # Who gave it to its team: a platform admin's choice stands; a cloud tag's may be changed by
    # the tag (connections/inventory.py).
    team_assigned_by = models.CharField(
        max_length=10, choices=[("admin", "platform admin"), ("tag", "cloud tag")], blank=True
    )
    vpc_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=128, blank=True)
    cidr = models.CharField(max_length=64, blank=True)
    # False once a sync no longer finds it; kept because requests and services refer to it.
    present = models.BooleanField(default=True)

    objects = VpcQuerySet.as_manager()

    class Meta:
        ordering = ["account__name", "name", "vpc_id"]
        verbose_name = "VPC"

    def __str__(self) -> str:
        return f"{self.name} ({self.vpc_id})" if self.name else self.vpc_id


class InVpcQuerySet(models.QuerySet):
    """What lives in a VPC (vSwitches, security groups, instances) belongs to the VPC's team."""

    def usable_by(self, user) -> InVpcQuerySet:
        return self.filter(policies.vpcs_q(user, "vpc__"))


class VSwitch(models.Model):
    """A vSwitch of a mirrored VPC, in one zone."""

    vpc = models.ForeignKey(Vpc, on_delete=models.CASCADE, related_name="vswitches")
    vswitch_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=128, blank=True)
    zone_id = models.CharField(max_length=64)
    cidr = models.CharField(max_length=64, blank=True)
    present = models.BooleanField(default=True)

    objects = InVpcQuerySet.as_manager()

    class Meta:
        ordering = ["zone_id", "vswitch_id"]
        verbose_name = "vSwitch"
        verbose_name_plural = "vSwitches"

    def __str__(self) -> str:
        label = self.name or self.vswitch_id
        return f"{label} ({self.zone_id}, {self.cidr})"


class SecurityGroup(models.Model):
    """A security group of a mirrored VPC."""

    vpc = models.ForeignKey(Vpc, on_delete=models.CASCADE, related_name="security_groups")
    security_group_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=128, blank=True)
    present = models.BooleanField(default=True)

    objects = InVpcQuerySet.as_manager()

    class Meta:
        ordering = ["name", "security_group_id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.security_group_id})" if self.name else self.security_group_id


class Instance(models.Model):
    """An ECS instance of a mirrored VPC: a candidate backend of a published service."""

    vpc = models.ForeignKey(Vpc, on_delete=models.CASCADE, related_name="instances")
    instance_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=128, blank=True)
    zone_id = models.CharField(max_length=64, blank=True)
    private_ip = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=32, blank=True)
    present = models.BooleanField(default=True)

    objects = InVpcQuerySet.as_manager()

    class Meta:
        ordering = ["name", "instance_id"]

    def __str__(self) -> str:
        return (
            f"{self.name} ({self.instance_id}, {self.private_ip})"
            if self.name
            else self.instance_id
        )
