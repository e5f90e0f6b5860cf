"""The bridge from control-plane records to the data plane (cloudsim/dataplane.py).

Instances with a web server get a real HTTP server on loopback; a Running listener gets a TCP
proxy on loopback that balances over its server group's servers; `/_sim/resolve` maps what a
client inside a VPC would dial (an endpoint domain, a zone domain or an ENI address, and a
listener port) to that proxy. Scenario addresses (10.x, 172.16.x, 192.168.x) stay data: nothing
here ever connects to them.

Every method is called with the store lock held, so the data plane follows the records in order.
Closing a proxy joins its threads (up to a health check's timeout), so a removed listener's proxy
is detached under the lock and closed once the lock is released (StoreLock.after_release).
"""

from __future__ import annotations

from typing import Any

from cloudsim.dataplane import BackendHealth, BackendSpec, DataPlane, HealthCheckSpec
from cloudsim.store import Record, Store

LOOPBACK = "127.0.0.1"
# Servers still carrying traffic: those being added are not yet, those being removed no longer.
_SERVING = ("Available", "Configuring")
# Endpoints that carry traffic: Active ones, and those whose zones are changing.
_CARRYING = ("Active", "Pending")


class NetworkError(LookupError):
    """A control request about the network that cannot be met; the message says why."""


class AmbiguousAddress(NetworkError):
    """An ENI address that more than one Connected endpoint has (VPC CIDRs may overlap)."""


class Network:
    def __init__(self, store: Store, dataplane: DataPlane) -> None:
        self.store = store
        self.dataplane = dataplane
        self._web_servers: set[str] = set()

    def start(self) -> None:
        """Bring the data plane in line with the state (at start-up and after a reset)."""
        with self.store.lock:
            for instance in self.store.all("instance"):
                web = instance.get("_web")
                if web is None:
                    continue
                instance_id = instance["InstanceId"]
                if instance_id not in self._web_servers:
                    self.dataplane.add_web_server(instance_id, web["port"], web["body"])
                    self._web_servers.add(instance_id)
                wanted = instance.get("_web_running", True)
                if wanted != self.dataplane.web_server_running(instance_id):
                    if wanted:
                        self.dataplane.start_web_server(instance_id)
                    else:
                        self.dataplane.stop_web_server(instance_id)
            for listener in self.store.all("listener"):
                self.sync_listener(listener)

    def reset(self, known_listeners: list[str]) -> None:
        """Drop what the old state had on the data plane, then serve the new state."""
        with self.store.lock:
            for listener_id in known_listeners:
                self.remove_listener(listener_id)
            self.start()

    def shutdown(self) -> None:
        self.dataplane.shutdown()

    # -- web servers ----------------------------------------------------------------------------

    def set_web(self, key: str, running: bool) -> Record:
        """Start or stop an instance's web server; `key` is its id or its name."""
        with self.store.lock:
            instance = next(
                (
                    i
                    for i in self.store.all("instance")
                    if key in (i["InstanceId"], i["InstanceName"])
                ),
                None,
            )
            if instance is None:
                raise NetworkError(f"no instance {key!r}")
            if instance.get("_web") is None:
                raise NetworkError(f"instance {key!r} has no web server in the scenario")
            if running:
                self.dataplane.start_web_server(instance["InstanceId"])
            else:
                self.dataplane.stop_web_server(instance["InstanceId"])
            instance["_web_running"] = running
            self.store.dirty = True
            return instance

    # -- listeners ------------------------------------------------------------------------------

    def sync_listener(self, listener: Record) -> None:
        group = self.store.get("servergroup", listener["ServerGroupId"])
        if listener["ListenerStatus"] != "Running" or group is None:
            self.remove_listener(listener["ListenerId"])
            return
        backends = [
            BackendSpec(server_id=s["ServerId"], port=s["Port"], weight=s["Weight"])
            for s in group["Servers"].values()
            if s["Status"] in _SERVING
        ]
        self.dataplane.set_listener(
            listener["ListenerId"], backends, health_spec(group["HealthCheck"])
        )

    def remove_listener(self, listener_id: str) -> None:
        proxy = self.dataplane.detach_listener(listener_id)
        if proxy is not None:
            # Its port refuses nothing yet, but it takes no new connection; closed (port, checks,
            # relays) as soon as the caller lets go of the store lock.
            self.store.lock.after_release(proxy.close)

    def has_listener(self, listener_id: str) -> bool:
        return self.dataplane.listener_port(listener_id) is not None

    def backend_health(self, listener_id: str) -> dict[tuple[str, int], BackendHealth]:
        return self.dataplane.backend_health(listener_id)

    def check_now(self, listener_id: str | None = None) -> None:
        self.dataplane.check_now(listener_id)

    # -- addresses ------------------------------------------------------------------------------

    def resolve(self, host: str, port: int, vpc_id: str | None = None) -> tuple[str, int]:
        """Where a client in a VPC reaches host:port, on loopback; NetworkError says why not."""
        with self.store.lock:
            self.store.advance()
            return self._resolve(host, port, vpc_id, _Index(self.store))

    def resolve_many(
        self, targets: list[tuple[str, int, str | None]]
    ) -> list[tuple[str, int] | NetworkError]:
        """`resolve` for many targets under one look at the state (a health sweep's thousands of
        endpoints): each answer is an address or the NetworkError that says why not."""
        with self.store.lock:
            self.store.advance()
            index = _Index(self.store)
            answers: list[tuple[str, int] | NetworkError] = []
            for host, port, vpc_id in targets:
                try:
                    answers.append(self._resolve(host, port, vpc_id, index))
                except NetworkError as error:
                    answers.append(error)
            return answers

    def _resolve(self, host: str, port: int, vpc_id: str | None, index: _Index) -> tuple[str, int]:
        endpoint, zones = index.by_domain.get(host) or self._endpoint_for(host, vpc_id)
        if vpc_id is not None and endpoint["VpcId"] != vpc_id:
            endpoint, zones = self._endpoint_for(host, vpc_id)
        # An endpoint whose zones change (Pending) still carries traffic in its other zones.
        if (
            endpoint["EndpointStatus"] not in _CARRYING
            or endpoint["ConnectionStatus"] != "Connected"
        ):
            raise NetworkError(
                f"{host} belongs to endpoint {endpoint['EndpointId']}, whose connection is "
                f"{endpoint['ConnectionStatus']} (endpoint {endpoint['EndpointStatus']})"
            )
        connected = [zone for zone in zones if zone["ZoneStatus"] == "Connected"]
        if not connected:
            raise NetworkError(f"{host}: no Connected zone of {endpoint['EndpointId']}")
        service = self.store.get("vpcendpointservice", endpoint["ServiceId"])
        if service is None:
            raise NetworkError(f"{host}: the endpoint service {endpoint['ServiceId']} is gone")
        zone_ids = {zone["ZoneId"] for zone in connected}
        balancers = {r["ResourceId"] for r in service["Resources"] if r["ZoneId"] in zone_ids}
        for balancer in sorted(balancers):
            for listener in index.listeners.get(balancer, []):
                if listener["ListenerPort"] == port and listener["ListenerStatus"] == "Running":
                    local_port = self.dataplane.listener_port(listener["ListenerId"])
                    if local_port is not None:
                        return LOOPBACK, local_port
        raise NetworkError(
            f"{host}:{port}: no Running listener on port {port} behind "
            f"{service['ServiceId']} in {', '.join(sorted(zone_ids))}"
        )

    def _endpoint_for(self, host: str, vpc_id: str | None) -> tuple[Record, list[dict[str, Any]]]:
        found: list[tuple[Record, list[dict[str, Any]]]] = []
        for endpoint in self.store.all("vpcendpoint"):
            if vpc_id is not None and endpoint["VpcId"] != vpc_id:
                continue
            if host == endpoint["EndpointDomain"]:
                return endpoint, endpoint["Zones"]  # domains carry the endpoint id: unique
            for zone in endpoint["Zones"]:
                if host in (zone["ZoneDomain"], zone["EniIp"]):
                    found.append((endpoint, [zone]))
        if not found:
            where = f" in {vpc_id}" if vpc_id else ""
            raise NetworkError(
                f"{host} is not the domain, zone domain or ENI address of any endpoint{where}"
            )
        # VPCs (of one account or of several) may overlap, so an address can be several
        # endpoints'; only one that carries traffic is a usable answer.
        connected = [match for match in found if _connected(*match)]
        if len(connected) > 1:
            vpcs = ", ".join(sorted({endpoint["VpcId"] for endpoint, _ in connected}))
            raise AmbiguousAddress(
                f"{host} is the address of {len(connected)} Connected endpoints (in {vpcs}); "
                "name the client's VPC with vpc=<VpcId>"
            )
        return connected[0] if connected else found[0]


class _Index:
    """The state looked up by what a resolve asks for, built once per call (under the lock)."""

    def __init__(self, store):
        # An endpoint domain carries the endpoint's id: it names one endpoint.
        self.by_domain = {
            endpoint["EndpointDomain"]: (endpoint, endpoint["Zones"])
            for endpoint in store.all("vpcendpoint")
        }
        self.listeners: dict[str, list[Record]] = {}
        for listener in store.all("listener"):
            self.listeners.setdefault(listener["LoadBalancerId"], []).append(listener)


def _connected(endpoint: Record, zones: list[dict[str, Any]]) -> bool:
    return (
        endpoint["EndpointStatus"] in _CARRYING
        and endpoint["ConnectionStatus"] == "Connected"
        and any(zone["ZoneStatus"] == "Connected" for zone in zones)
    )


def health_spec(config: dict[str, Any]) -> HealthCheckSpec:
    return HealthCheckSpec(
        enabled=bool(config["HealthCheckEnabled"]),
        check_type="HTTP" if config["HealthCheckType"] == "HTTP" else "TCP",
        connect_port=int(config["HealthCheckConnectPort"]),
        interval_s=float(config["HealthCheckInterval"]),
        timeout_s=float(config["HealthCheckConnectTimeout"]),
        healthy_threshold=int(config["HealthyThreshold"]),
        unhealthy_threshold=int(config["UnhealthyThreshold"]),
        http_path=str(config["HealthCheckUrl"] or "/"),
    )
