"""Scenario files: the accounts, networks and instances a fresh emulator starts with.

A scenario is YAML (the format is documented in cloudsim/README.md). It is validated while it is
read, from PyYAML's node tree rather than from plain Python values, so that every error can name
the file and the line it is about: `scenario.yaml:14: vswitch 'vsw-x' names unknown zone 'z'`.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from cloudsim import ids
from cloudsim.ram import FULL_ACCESS, Policy, PolicyError

DEFAULT_PATH = Path(__file__).resolve().parent / "scenarios" / "default.yaml"

# Seconds each asynchronous operation takes before --delay-scale. Small enough to stay out of a
# person's way, long enough to watch a status change in the console or the portal.
DEFAULT_DELAYS: dict[str, float] = {
    "CreateLoadBalancer": 2.0,
    "DeleteLoadBalancer": 1.0,
    "UpdateLoadBalancerAttribute": 0.5,
    "CreateServerGroup": 0.5,
    "DeleteServerGroup": 0.5,
    "UpdateServerGroupAttribute": 0.5,
    "AddServersToServerGroup": 1.0,
    "RemoveServersFromServerGroup": 1.0,
    "UpdateServerGroupServersAttribute": 0.5,
    "CreateListener": 1.0,
    "DeleteListener": 0.5,
    "StartListener": 0.5,
    "StopListener": 0.5,
    "UpdateListenerAttribute": 0.5,
    "CreateVpcEndpointService": 1.0,
    "UpdateVpcEndpointServiceAttribute": 0.5,
    "AttachResourceToVpcEndpointService": 0.5,
    "DetachResourceFromVpcEndpointService": 0.5,
    "DeleteVpcEndpointService": 1.0,
    "CreateVpcEndpoint": 2.0,
    "EnableVpcEndpointConnection": 1.5,
    "DisableVpcEndpointConnection": 1.0,
    "DeleteVpcEndpoint": 1.5,
    "AddZoneToVpcEndpoint": 1.0,
    "RemoveZoneFromVpcEndpoint": 1.0,
    "AttachSecurityGroupToVpcEndpoint": 0.5,
    "DetachSecurityGroupFromVpcEndpoint": 0.5,
    "UpdateVpcEndpointConnectionAttribute": 0.5,
    # Synchronous calls that the cloud refuses to overlap (ConcurrentCallNotSupported): how long
    # one keeps its account's or its service's lock.
    "AddUserToVpcEndpointService": 0.2,
    "RemoveUserFromVpcEndpointService": 0.2,
    # How long a resource just created stays unknown to reads (eventual consistency).
    "ReadAfterCreate": 0.5,
}

_UID = re.compile(r"^[0-9]{16}$")
_ID_PATTERNS = {
    "vpc": re.compile(r"^vpc-[a-z0-9]{6,32}$"),
    "vsw": re.compile(r"^vsw-[a-z0-9]{6,32}$"),
    "sg": re.compile(r"^sg-[a-z0-9]{6,32}$"),
    "i": re.compile(r"^i-[a-z0-9]{6,32}$"),
}


ACCOUNT_KEYS = ("access_keys", "roles", "vpcs", "privatelink_activated", "service_linked_roles")


class ScenarioError(ValueError):
    """A scenario that cannot be used; the message starts with `file:line:`."""


@dataclass(frozen=True)
class WebServer:
    port: int
    body: str


@dataclass(frozen=True)
class Instance:
    id: str
    name: str
    ip: str
    vswitch_id: str
    zone: str
    security_group_ids: tuple[str, ...]
    instance_type: str
    web: WebServer | None


@dataclass(frozen=True)
class SecurityGroup:
    id: str
    name: str
    description: str


@dataclass(frozen=True)
class VSwitch:
    id: str
    name: str
    cidr: str
    zone: str


@dataclass(frozen=True)
class Vpc:
    id: str
    name: str
    cidr: str
    vswitches: tuple[VSwitch, ...]
    security_groups: tuple[SecurityGroup, ...]
    instances: tuple[Instance, ...]
    tags: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class AccessKey:
    id: str
    secret: str
    user: str | None
    policy: Policy


@dataclass(frozen=True)
class Role:
    name: str
    role_id: str
    trusted_accounts: tuple[str, ...]
    policy: Policy
    max_session_duration: int


@dataclass(frozen=True)
class Account:
    name: str
    uid: str
    access_keys: tuple[AccessKey, ...]
    roles: tuple[Role, ...]
    vpcs: tuple[Vpc, ...]
    # PrivateLink must be activated in an account before it publishes a service
    # (CheckProductOpen, OpenPrivateLinkService).
    privatelink_activated: bool = True
    # Service-linked roles the account already has (by service name, e.g. nlb.aliyuncs.com);
    # the others are created by the first call that needs one, if its caller may.
    service_linked_roles: tuple[str, ...] = ()


# The products whose zones a scenario may limit (each has its own DescribeZones).
PRODUCTS_WITH_ZONES = ("nlb", "privatelink")


@dataclass(frozen=True)
class Zone:
    id: str
    name: str
    # The products that may be deployed in the zone: NLB and PrivateLink each support a subset
    # of a region's zones (each product's DescribeZones and "regions and zones" page).
    products: tuple[str, ...] = PRODUCTS_WITH_ZONES


@dataclass(frozen=True)
class Scenario:
    source: str
    region: str
    zones: tuple[Zone, ...]
    accounts: tuple[Account, ...]
    delays: dict[str, float] = field(default_factory=dict)

    def delay(self, operation: str) -> float:
        return self.delays.get(operation, DEFAULT_DELAYS.get(operation, 0.0))

    def instance(self, key: str) -> tuple[Account, Vpc, Instance] | None:
        """An instance by id or by name."""
        for account in self.accounts:
            for vpc in account.vpcs:
                for instance in vpc.instances:
                    if key in (instance.id, instance.name):
                        return account, vpc, instance
        return None


PROFILES_PATH = Path(__file__).resolve().parent / "profiles"


def profiles() -> list[str]:
    """The names of the timing profiles (cloudsim/profiles/<name>.yaml)."""
    return sorted(path.stem for path in PROFILES_PATH.glob("*.yaml"))


def with_profile(scenario: Scenario, name: str) -> Scenario:
    """`scenario` with the operation times of the profile `name` over its own (a profile is a
    `delays:` mapping, validated like a scenario's)."""
    path = PROFILES_PATH / f"{name}.yaml"
    if not path.exists():
        raise ScenarioError(f"no profile {name!r} (known: {', '.join(profiles())})")
    root = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    reader = _Reader(str(path))
    fields = reader.mapping(root, "a profile", ("delays",))
    delays = (
        reader.delays(fields["delays"]) if isinstance(fields["delays"], yaml.MappingNode) else {}
    )
    return dataclasses.replace(scenario, delays={**scenario.delays, **delays})


def load(path: str | Path | None = None) -> Scenario:
    """Read and validate a scenario file (the demo scenario when `path` is None)."""
    source = Path(path) if path is not None else DEFAULT_PATH
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{source}: cannot read the scenario: {exc.strerror}") from None
    return parse(text, str(path) if path is not None else str(source))


def parse(text: str, source: str = "<scenario>") -> Scenario:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise ScenarioError(f"{source}:{line}: not valid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{source}:1: not valid YAML: {exc}") from None
    if root is None:
        raise ScenarioError(f"{source}:1: the scenario is empty")
    return _Reader(source).scenario(root)


class _Reader:
    """Walks the node tree; `fail(node, …)` turns a problem into `file:line: problem`."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.seen_ids: dict[str, yaml.Node] = {}

    def fail(self, node: yaml.Node, message: str) -> ScenarioError:
        return ScenarioError(f"{self.source}:{node.start_mark.line + 1}: {message}")

    # -- shapes -------------------------------------------------------------------------------

    def mapping(
        self, node: yaml.Node, what: str, required: tuple[str, ...], optional: tuple[str, ...] = ()
    ) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{what} must be a mapping")
        found: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key not in required and key not in optional:
                known = ", ".join(required + optional)
                raise self.fail(key_node, f"{what} has unknown key {key!r} (known: {known})")
            if key in found:
                raise self.fail(key_node, f"{what} repeats key {key!r}")
            found[key] = value_node
        for key in required:
            if key not in found:
                raise self.fail(node, f"{what} lacks the required key {key!r}")
        return found

    def sequence(self, node: yaml.Node, what: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, f"{what} must be a list")
        return list(node.value)

    def text(self, node: yaml.Node, what: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.value == "":
            raise self.fail(node, f"{what} must be a non-empty string")
        return node.value

    def number(self, node: yaml.Node, what: str, low: float, high: float) -> float:
        try:
            value = float(self.text(node, what))
        except ValueError:
            raise self.fail(node, f"{what} must be a number") from None
        if not low <= value <= high:
            raise self.fail(node, f"{what} must be between {low:g} and {high:g}")
        return value

    def integer(self, node: yaml.Node, what: str, low: int, high: int) -> int:
        value = self.number(node, what, low, high)
        if value != int(value):
            raise self.fail(node, f"{what} must be a whole number")
        return int(value)

    def texts(self, node: yaml.Node, what: str) -> list[tuple[yaml.Node, str]]:
        return [(item, self.text(item, what)) for item in self.sequence(node, what + "s")]

    def resource_id(
        self, owner: yaml.Node, fields: dict[str, yaml.Node], prefix: str, what: str, *parts: str
    ) -> str:
        node = fields.get("id")
        if node is None:
            value = ids.stable(prefix, *parts)
        else:
            value = self.text(node, f"{what} id")
            if not _ID_PATTERNS[prefix].match(value):
                raise self.fail(node, f"{what} id {value!r} does not look like '{prefix}-…'")
        if value in self.seen_ids:
            raise self.fail(node or owner, f"id {value!r} is used twice")
        self.seen_ids[value] = node or owner
        return value

    # -- content ------------------------------------------------------------------------------

    def scenario(self, root: yaml.Node) -> Scenario:
        top = self.mapping(root, "the scenario", ("region", "zones", "accounts"), ("delays",))
        region = self.text(top["region"], "region")
        zones: dict[str, Zone] = {}
        for node in self.sequence(top["zones"], "zones"):
            fields = self.mapping(node, "a zone", ("id",), ("name", "products"))
            zone_id = self.text(fields["id"], "zone id")
            if not zone_id.startswith(region + "-"):
                raise self.fail(fields["id"], f"zone {zone_id!r} is not in region {region!r}")
            if zone_id in zones:
                raise self.fail(fields["id"], f"zone {zone_id!r} is listed twice")
            name = self.text(fields["name"], "zone name") if "name" in fields else zone_id
            products = PRODUCTS_WITH_ZONES
            if "products" in fields:
                products = tuple(
                    product for _, product in self.texts(fields["products"], "product")
                )
                unknown = set(products) - set(PRODUCTS_WITH_ZONES)
                if unknown:
                    raise self.fail(
                        fields["products"],
                        f"zone {zone_id!r} names unknown products {sorted(unknown)} "
                        f"(known: {', '.join(PRODUCTS_WITH_ZONES)})",
                    )
            zones[zone_id] = Zone(zone_id, name, products)
        if not zones:
            raise self.fail(top["zones"], "a scenario needs at least one zone")
        delays = self.delays(top["delays"]) if "delays" in top else {}

        account_nodes = self.sequence(top["accounts"], "accounts")
        uids: dict[str, yaml.Node] = {}
        for node in account_nodes:
            fields = self.mapping(node, "an account", ("name", "uid"), ACCOUNT_KEYS)
            uid = self.uid(fields["uid"])
            if uid in uids:
                raise self.fail(fields["uid"], f"account uid {uid} is used twice")
            uids[uid] = node
        names: set[str] = set()
        keys: set[str] = set()
        accounts = []
        for node in account_nodes:
            account = self.account(node, zones, set(uids), keys)
            if account.name in names:
                raise self.fail(node, f"account name {account.name!r} is used twice")
            names.add(account.name)
            accounts.append(account)
        return Scenario(self.source, region, tuple(zones.values()), tuple(accounts), delays)

    def delays(self, node: yaml.Node) -> dict[str, float]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, "delays must be a mapping of operation name to seconds")
        delays = {}
        for key_node, value_node in node.value:
            operation = self.text(key_node, "an operation name")
            if operation not in DEFAULT_DELAYS:
                raise self.fail(
                    key_node,
                    f"delays names unknown operation {operation!r} "
                    f"(known: {', '.join(sorted(DEFAULT_DELAYS))})",
                )
            delays[operation] = self.number(value_node, f"delay of {operation}", 0, 3600)
        return delays

    def uid(self, node: yaml.Node) -> str:
        uid = self.text(node, "uid")
        if not _UID.match(uid):
            raise self.fail(node, f"uid {uid!r} must be 16 digits (quote it in YAML)")
        return uid

    def account(
        self, node: yaml.Node, zones: dict[str, Zone], uids: set[str], keys: set[str]
    ) -> Account:
        fields = self.mapping(node, "an account", ("name", "uid"), ACCOUNT_KEYS)
        name = self.text(fields["name"], "account name")
        uid = self.uid(fields["uid"])
        access_keys = []
        for key_node in self.sequence(fields.get("access_keys", _EMPTY), "access_keys"):
            key = self.access_key(key_node)
            if key.id in keys:
                raise self.fail(key_node, f"access key {key.id!r} is used twice")
            keys.add(key.id)
            access_keys.append(key)
        roles = []
        for role_node in self.sequence(fields.get("roles", _EMPTY), "roles"):
            role = self.role(role_node, uid, uids)
            if any(r.name.lower() == role.name.lower() for r in roles):
                raise self.fail(role_node, f"role {role.name!r} is defined twice")
            roles.append(role)
        vpcs = []
        for vpc_node in self.sequence(fields.get("vpcs", _EMPTY), "vpcs"):
            vpc = self.vpc(vpc_node, uid, zones)
            if any(v.name == vpc.name for v in vpcs):
                raise self.fail(vpc_node, f"VPC name {vpc.name!r} is used twice in account {name}")
            vpcs.append(vpc)
        activated = True
        if "privatelink_activated" in fields:
            activated = self.flag(fields["privatelink_activated"], "privatelink_activated")
        linked = tuple(
            service
            for _, service in self.texts(fields.get("service_linked_roles", _EMPTY), "service name")
        )
        return Account(name, uid, tuple(access_keys), tuple(roles), tuple(vpcs), activated, linked)

    def flag(self, node: yaml.Node, what: str) -> bool:
        value = self.text(node, what).lower()
        if value not in ("true", "false"):
            raise self.fail(node, f"{what} must be true or false")
        return value == "true"

    def access_key(self, node: yaml.Node) -> AccessKey:
        fields = self.mapping(node, "an access key", ("id", "secret"), ("user", "allow", "policy"))
        user = self.text(fields["user"], "user") if "user" in fields else None
        if user is None and ("allow" in fields or "policy" in fields):
            raise self.fail(
                node, "an account's own key (no user) is not limited by RAM: give it a user"
            )
        return AccessKey(
            self.text(fields["id"], "access key id"),
            self.text(fields["secret"], "access key secret"),
            user,
            self.policy(node, fields),
        )

    def policy(self, node: yaml.Node, fields: dict[str, yaml.Node]) -> Policy:
        """`allow: [patterns]` (one Allow statement) or `policy: {a RAM policy document}`."""
        if "allow" in fields and "policy" in fields:
            raise self.fail(node, "give either allow or policy, not both")
        if "policy" in fields:
            try:
                return Policy.parse(yaml.safe_load(yaml.serialize(fields["policy"])))
            except PolicyError as error:
                raise self.fail(fields["policy"], f"policy: {error}") from None
        if "allow" not in fields:
            return FULL_ACCESS
        patterns = []
        for item, pattern in self.texts(fields["allow"], "allow pattern"):
            if pattern != "*" and ":" not in pattern:
                raise self.fail(item, f"allow pattern {pattern!r} must look like 'product:Action'")
            patterns.append(pattern)
        return Policy.allowing(patterns)

    def role(self, node: yaml.Node, uid: str, uids: set[str]) -> Role:
        fields = self.mapping(
            node,
            "a role",
            ("name",),
            ("trusted_accounts", "allow", "policy", "max_session_duration"),
        )
        name = self.text(fields["name"], "role name")
        if not re.fullmatch(r"[A-Za-z0-9.\-]{1,64}", name):
            raise self.fail(fields["name"], f"role name {name!r} has characters RAM refuses")
        trusted = []
        for item, trusted_uid in self.texts(fields.get("trusted_accounts", _EMPTY), "account"):
            if trusted_uid not in uids:
                raise self.fail(item, f"role {name!r} trusts unknown account {trusted_uid!r}")
            trusted.append(trusted_uid)
        duration = 3600
        if "max_session_duration" in fields:
            duration = self.integer(
                fields["max_session_duration"], "max_session_duration", 900, 43200
            )
        role_id = "3" + ids.stable_digits(16, uid, "role", name.lower())
        return Role(name, role_id, tuple(trusted), self.policy(node, fields), duration)

    def vpc(self, node: yaml.Node, uid: str, zones: dict[str, Zone]) -> Vpc:
        fields = self.mapping(
            node,
            "a VPC",
            ("name", "cidr"),
            ("id", "vswitches", "security_groups", "instances", "tags"),
        )
        name = self.text(fields["name"], "VPC name")
        tags = self.tags(fields["tags"], f"tags of VPC {name!r}") if "tags" in fields else ()
        vpc_id = self.resource_id(node, fields, "vpc", "VPC", uid, "vpc", name)
        network = self.network(fields["cidr"], f"CIDR of VPC {name!r}")

        vswitches: list[VSwitch] = []
        for vsw_node in self.sequence(fields.get("vswitches", _EMPTY), "vswitches"):
            vsw_fields = self.mapping(vsw_node, "a vSwitch", ("name", "cidr", "zone"), ("id",))
            vsw_name = self.text(vsw_fields["name"], "vSwitch name")
            vsw_id = self.resource_id(
                vsw_node, vsw_fields, "vsw", "vSwitch", uid, "vsw", name, vsw_name
            )
            zone = self.text(vsw_fields["zone"], "zone")
            if zone not in zones:
                raise self.fail(
                    vsw_fields["zone"], f"vswitch {vsw_name!r} names unknown zone {zone!r}"
                )
            cidr = self.network(vsw_fields["cidr"], f"CIDR of vSwitch {vsw_name!r}")
            if not cidr.subnet_of(network):
                raise self.fail(
                    vsw_fields["cidr"], f"vswitch {vsw_name!r} CIDR {cidr} is outside VPC {network}"
                )
            for other in vswitches:
                if cidr.overlaps(ipaddress.ip_network(other.cidr)):
                    raise self.fail(
                        vsw_fields["cidr"],
                        f"vswitch {vsw_name!r} CIDR {cidr} overlaps vswitch {other.name!r}",
                    )
                if other.name == vsw_name:
                    raise self.fail(vsw_fields["name"], f"vswitch name {vsw_name!r} is used twice")
            vswitches.append(VSwitch(vsw_id, vsw_name, str(cidr), zone))

        groups: list[SecurityGroup] = []
        for sg_node in self.sequence(fields.get("security_groups", _EMPTY), "security_groups"):
            sg_fields = self.mapping(sg_node, "a security group", ("name",), ("id", "description"))
            sg_name = self.text(sg_fields["name"], "security group name")
            if any(g.name == sg_name for g in groups):
                raise self.fail(sg_fields["name"], f"security group {sg_name!r} is used twice")
            sg_id = self.resource_id(
                sg_node, sg_fields, "sg", "security group", uid, "sg", name, sg_name
            )
            description = (
                self.text(sg_fields["description"], "description")
                if "description" in sg_fields
                else ""
            )
            groups.append(SecurityGroup(sg_id, sg_name, description))

        instances: list[Instance] = []
        used_ips: set[str] = set()
        for inst_node in self.sequence(fields.get("instances", _EMPTY), "instances"):
            instance = self.instance(inst_node, uid, name, vswitches, groups, used_ips)
            if any(i.name == instance.name for i in instances):
                raise self.fail(inst_node, f"instance name {instance.name!r} is used twice")
            instances.append(instance)
        return Vpc(
            vpc_id, name, str(network), tuple(vswitches), tuple(groups), tuple(instances), tags
        )

    def tags(self, node: yaml.Node, what: str) -> tuple[tuple[str, str], ...]:
        """A mapping of tag keys to values, both text, at most MAX_TAGS of them."""
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{what} must be a mapping of keys to values")
        tags = []
        for key_node, value_node in node.value:
            key = self.text(key_node, "tag key")
            if any(key == known for known, _ in tags):
                raise self.fail(key_node, f"{what} repeat the key {key!r}")
            tags.append((key, self.text(value_node, f"value of tag {key!r}")))
        if len(tags) > MAX_TAGS:
            raise self.fail(node, f"{what}: at most {MAX_TAGS} tags")
        return tuple(tags)

    def instance(
        self,
        node: yaml.Node,
        uid: str,
        vpc_name: str,
        vswitches: list[VSwitch],
        groups: list[SecurityGroup],
        used_ips: set[str],
    ) -> Instance:
        fields = self.mapping(
            node,
            "an instance",
            ("name", "vswitch", "ip"),
            ("id", "zone", "security_groups", "instance_type", "web"),
        )
        name = self.text(fields["name"], "instance name")
        instance_id = self.resource_id(
            node, fields, "i", "instance", uid, "instance", vpc_name, name
        )
        vsw_key = self.text(fields["vswitch"], "vswitch")
        vswitch = next((v for v in vswitches if vsw_key in (v.id, v.name)), None)
        if vswitch is None:
            raise self.fail(
                fields["vswitch"], f"instance {name!r} names unknown vswitch {vsw_key!r}"
            )
        if "zone" in fields and self.text(fields["zone"], "zone") != vswitch.zone:
            raise self.fail(
                fields["zone"],
                f"instance {name!r} is in zone {fields['zone'].value!r} "
                f"but its vswitch {vswitch.name!r} is in {vswitch.zone!r}",
            )
        ip_text = self.text(fields["ip"], "ip")
        try:
            address = ipaddress.ip_address(ip_text)
        except ValueError:
            raise self.fail(fields["ip"], f"{ip_text!r} is not an IP address") from None
        subnet = ipaddress.ip_network(vswitch.cidr)
        if address not in subnet or address in (subnet.network_address, subnet.broadcast_address):
            raise self.fail(
                fields["ip"],
                f"instance {name!r} IP {ip_text} is not a host of vswitch {vswitch.name!r} "
                f"({vswitch.cidr})",
            )
        if ip_text in used_ips:
            raise self.fail(fields["ip"], f"IP {ip_text} is used twice")
        used_ips.add(ip_text)
        if "security_groups" in fields:
            group_ids = []
            for item, key in self.texts(fields["security_groups"], "security group"):
                group = next((g for g in groups if key in (g.id, g.name)), None)
                if group is None:
                    raise self.fail(item, f"instance {name!r} names unknown security group {key!r}")
                group_ids.append(group.id)
        else:
            group_ids = [groups[0].id] if groups else []
        web = None
        if "web" in fields:
            web_fields = self.mapping(fields["web"], "a web server", ("port", "body"))
            web = WebServer(
                self.integer(web_fields["port"], "web port", 1, 65535),
                self.text(web_fields["body"], "web body"),
            )
        instance_type = (
            self.text(fields["instance_type"], "instance_type")
            if "instance_type" in fields
            else "ecs.g7.large"
        )
        return Instance(
            instance_id,
            name,
            ip_text,
            vswitch.id,
            vswitch.zone,
            tuple(group_ids),
            instance_type,
            web,
        )

    def network(self, node: yaml.Node, what: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        value = self.text(node, what)
        try:
            return ipaddress.ip_network(value)
        except ValueError:
            raise self.fail(
                node, f"{what} {value!r} is not a CIDR block such as 10.0.0.0/16"
            ) from None


MAX_TAGS = 20
_EMPTY = yaml.SequenceNode("tag:yaml.org,2002:seq", [])
