"""The control API under `/_sim/`, for tests, demos and the portal's end-to-end checks.

It answers loopback peers only (HTTP 403 otherwise), whatever address the server listens on.
A loopback peer may still be a web page in a developer's browser, which can send "simple"
cross-site requests (a form POST, no preflight) and, through DNS rebinding, read answers. So the
API also refuses (403) any request that carries an `Origin` header or names a non-loopback `Host`,
and POST and DELETE need `Content-Type: application/json` (415 otherwise), which no cross-site
page can send without a CORS preflight that cloudsim never grants.

- `GET /_sim/ping`: `{"status": "ok"}` once the emulator serves;
- `GET /_sim/state`: the whole state (resources with their pending transitions, sessions, stats);
- `POST /_sim/reset`: back to the scenario (created resources, sessions, stats, faults cleared);
- `GET|POST|DELETE /_sim/faults`, `DELETE /_sim/faults/<id>`: list, add (a JSON body as in
  cloudsim/faults.py; the answer carries the fault's `id`), clear, remove one;
- `POST /_sim/instances/<id or name>/web/stop` and `…/web/start`: an instance's web server;
- `POST /_sim/fast-forward`: apply every pending transition now;
- `POST /_sim/clock` with `{"advance": seconds}`: move the emulator clock (STS expiry, delays);
- `POST /_sim/health-check[?listener=lsn-…]`: one synchronous health-check round;
- `GET /_sim/stats`: calls per action (and per product), resources ever created per type, errors
  per code, and per account and `product:action` the most calls seen in any 1 s and any 60 s
  (`peaks`);
- `GET /_sim/resolve?host=H&port=P[&vpc=vpc-…]`: `{"host": "127.0.0.1", "port": N}`, where H:P (an
  endpoint domain, a zone domain or an ENI IP, and a listener port) is reached on loopback; 404
  until the connection is Connected; 409 when H is the ENI address of more than one Connected
  endpoint (overlapping VPCs) and no `vpc` says which client VPC is asking;
- `POST /_sim/resolve` with `{"targets": [{"host", "port", "vpc"?}, …]}`: the same for many
  targets in one call (a health sweep's), `{"answers": [{"host", "port"} or {"error", "message"}]}`;
- `GET /_sim/policies`; `PUT /_sim/policies/<access key id>` with a RAM policy document: the key
  acts under it (over the scenario's) until reset or `DELETE /_sim/policies/<access key id>`;
- `POST /_sim/accounts/<uid>` with `{"privatelink_activated": bool, "service_linked_roles":
  [service names]}` (either): an account's settings, as the console would change them;
- `POST /_sim/zones/<zone id>` with `{"products": ["nlb", "privatelink"]}`: the products the
  zone offers (what each product's DescribeZones lists), until reset;
- `POST /_sim/delays` with `{"delays": {"CreateVpcEndpoint": 3.0, …}}`: real seconds for those
  operations (null: back to the scenario's), until reset;
- `POST /_sim/locks` with `{"resource": id, "lock": "FinancialLocked" | …}`, `DELETE
  /_sim/locks/<id>`: lock a load balancer, endpoint or endpoint service, as the cloud does when
  an account is overdue (cloudsim/products/locks.py).
"""

from __future__ import annotations

import ipaddress
import json
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from cloudsim import ids
from cloudsim.network import AmbiguousAddress, NetworkError
from cloudsim.products import locks
from cloudsim.ram import Policy, PolicyError
from cloudsim.scenario import DEFAULT_DELAYS, PRODUCTS_WITH_ZONES

if TYPE_CHECKING:
    from cloudsim.server import CloudSim

Answer = tuple[int, Any, dict[str, str]]
MAX_BODY = 64 * 1024
# Per call; the clock as a whole stays before _LATEST, which timestamps can still show.
MAX_CLOCK_ADVANCE_S = 10 * 365 * 86400
_LATEST = datetime(9999, 1, 1, tzinfo=UTC).timestamp()


def handle(sim: CloudSim, environ: dict[str, Any], path: str) -> Answer:
    if not _from_loopback(environ.get("REMOTE_ADDR", "")):
        return _error(403, "Forbidden", "The control API answers loopback clients only.")
    if environ.get("HTTP_ORIGIN") is not None:
        return _error(
            403, "Forbidden", "The control API refuses requests from web pages (Origin header)."
        )
    if not _loopback_host(environ.get("HTTP_HOST")):
        return _error(403, "Forbidden", "The control API answers requests to a loopback host.")
    method = environ.get("REQUEST_METHOD", "GET")
    if method in ("POST", "PUT", "DELETE") and not _is_json(environ.get("CONTENT_TYPE", "")):
        return _error(
            415,
            "UnsupportedMediaType",
            f"{method} on the control API needs Content-Type: application/json.",
        )
    parts = [part for part in path.split("/") if part][1:]
    try:
        query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
    except ValueError:
        return _error(400, "InvalidParameter", "The query string cannot be parsed.")
    route = (method, tuple(parts[:1]))
    try:
        if route == ("GET", ("ping",)):
            return 200, {"status": "ok", "scenario": sim.scenario.source}, {}
        if route == ("GET", ("state",)):
            with sim.store.lock:
                sim.store.advance()
                return 200, sim.store.snapshot(), {}
        if route == ("POST", ("reset",)):
            sim.reset()
            return 200, {"reset": True}, {}
        if parts[:1] == ["faults"]:
            return _faults(sim, method, parts[1:], environ)
        if parts[:1] == ["instances"] and len(parts) == 4 and parts[2] == "web":
            return _web(sim, method, parts[1], parts[3])
        if route == ("POST", ("fast-forward",)):
            return 200, {"applied": sim.fast_forward()}, {}
        if route == ("POST", ("clock",)):
            return _clock(sim, environ)
        if route == ("POST", ("health-check",)):
            listener = query.get("listener") or None
            if listener is not None and not sim.network.has_listener(listener):
                return _error(404, "NotFound", f"No listener {listener!r} on the data plane.")
            sim.network.check_now(listener)
            return 200, {"checked": listener or "all"}, {}
        if route == ("GET", ("stats",)):
            return 200, sim.store.stats(), {}
        if route == ("GET", ("resolve",)):
            return _resolve(sim, query)
        if route == ("POST", ("resolve",)):
            return _resolve_many(sim, environ)
        if parts[:1] == ["policies"]:
            return _policies(sim, method, parts[1:], environ)
        if route == ("POST", ("accounts",)) and len(parts) == 2:
            return _account(sim, parts[1], _json_body(environ))
        if route == ("POST", ("zones",)) and len(parts) == 2:
            return _zone(sim, parts[1], _json_body(environ))
        if route == ("POST", ("delays",)):
            return _delays(sim, _json_body(environ))
        if parts[:1] == ["locks"]:
            return _locks(sim, method, parts[1:], environ)
    except AmbiguousAddress as exc:
        return _error(409, "Ambiguous", str(exc))
    except NetworkError as exc:
        return _error(404, "NotFound", str(exc))
    except _BadRequest as exc:
        return _error(400, "InvalidParameter", str(exc))
    return _error(404, "NotFound", f"No control route {method} {path}.")


class _BadRequest(ValueError):
    pass


def _from_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _loopback_host(host: str | None) -> bool:
    """No Host (HTTP/1.0), or localhost or a loopback address, with or without a port."""
    if host is None:
        return True
    name = host.strip().lower()
    if name.startswith("["):
        name = name[1 : name.find("]")] if "]" in name else name
    else:
        name = name.rsplit(":", 1)[0]
    if name == "localhost" or name.endswith(".localhost"):
        return True
    return _from_loopback(name)


def _is_json(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() == "application/json"


def _json_body(environ: dict[str, Any]) -> Any:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise _BadRequest("Content-Length is not a number") from None
    if length < 0 or length > MAX_BODY:
        raise _BadRequest("the body must be JSON of at most 64 KiB")
    data = environ["wsgi.input"].read(length) if length else b""
    if not data.strip():
        return {}
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        raise _BadRequest("the body is not JSON (or nested too deeply)") from None


def _faults(sim: CloudSim, method: str, rest: list[str], environ: dict[str, Any]) -> Answer:
    if method == "GET" and not rest:
        return 200, {"faults": sim.faults.describe()}, {}
    if method == "POST" and not rest:
        try:
            fault = sim.faults.add(_json_body(environ))
        except ValueError as exc:
            raise _BadRequest(str(exc)) from None
        return 200, fault.describe(), {}
    if method == "DELETE" and not rest:
        sim.faults.clear()
        return 200, {"cleared": True}, {}
    if method == "DELETE" and len(rest) == 1:
        if not sim.faults.remove(rest[0]):
            return _error(404, "NotFound", f"No fault {rest[0]!r}.")
        return 200, {"removed": rest[0]}, {}
    return _error(405, "MethodNotAllowed", "Use GET, POST or DELETE on /_sim/faults.")


def _policies(sim: CloudSim, method: str, rest: list[str], environ: dict[str, Any]) -> Answer:
    store = sim.store
    if method == "GET" and not rest:
        with store.lock:
            return 200, {"policies": dict(store.policies())}, {}
    if len(rest) != 1 or method not in ("PUT", "DELETE"):
        return _error(405, "MethodNotAllowed", "PUT or DELETE /_sim/policies/<access key id>.")
    key = rest[0]
    found = [k for account in sim.scenario.accounts for k in account.access_keys if k.id == key]
    if not found:
        return _error(404, "NotFound", f"No access key {key!r} in the scenario.")
    if not found[0].user:
        raise _BadRequest(
            f"{key} is an account's own key, which RAM does not limit: give a RAM user's key"
        )
    with store.lock:
        if method == "DELETE":
            store.policies().pop(key, None)
        else:
            document = _json_body(environ)
            try:
                Policy.parse(document)
            except PolicyError as exc:
                raise _BadRequest(f"not a policy cloudsim can judge: {exc}") from None
            store.policies()[key] = document
        store.dirty = True
    return 200, {"access_key": key, "policy": method == "PUT"}, {}


def _account(sim: CloudSim, uid: str, body: Any) -> Answer:
    if not isinstance(body, dict) or not body:
        raise _BadRequest("give privatelink_activated and/or service_linked_roles")
    unknown = set(body) - {"privatelink_activated", "service_linked_roles"}
    if unknown:
        raise _BadRequest(f"unknown settings {sorted(unknown)}")
    activated = body.get("privatelink_activated", True)
    roles = body.get("service_linked_roles", [])
    if not isinstance(activated, bool) or not (
        isinstance(roles, list) and all(isinstance(r, str) for r in roles)
    ):
        raise _BadRequest("privatelink_activated is a boolean, service_linked_roles a list")
    with sim.store.lock:
        if uid not in sim.store.data["accounts"]:
            return _error(404, "NotFound", f"No account {uid!r} in the scenario.")
        settings = sim.store.account(uid)
        settings.update({key: body[key] for key in body})
        sim.store.dirty = True
        return 200, dict(settings), {}


def _zone(sim: CloudSim, zone_id: str, body: Any) -> Answer:
    products = body.get("products") if isinstance(body, dict) else None
    if not isinstance(products, list) or not set(products) <= set(PRODUCTS_WITH_ZONES):
        raise _BadRequest(f"give products, a list of {', '.join(PRODUCTS_WITH_ZONES)}")
    with sim.store.lock:
        if zone_id not in sim.store.data["zones"]:
            return _error(404, "NotFound", f"No zone {zone_id!r} in the scenario.")
        sim.store.data["zones"][zone_id] = sorted(set(products))
        sim.store.dirty = True
    return 200, {"zone": zone_id, "products": sorted(set(products))}, {}


def _delays(sim: CloudSim, body: Any) -> Answer:
    given = body.get("delays") if isinstance(body, dict) else None
    if not isinstance(given, dict):
        raise _BadRequest('give {"delays": {operation: seconds or null}}')
    for operation, seconds in given.items():
        if operation not in DEFAULT_DELAYS:
            raise _BadRequest(f"unknown operation {operation!r}")
        if seconds is not None and (
            isinstance(seconds, bool)
            or not isinstance(seconds, int | float)
            or not 0 <= seconds <= 3600
        ):
            raise _BadRequest(f"the delay of {operation} is seconds between 0 and 3600, or null")
    with sim.store.lock:
        delays = sim.store.data["delays"]
        for operation, seconds in given.items():
            if seconds is None:
                delays.pop(operation, None)
            else:
                delays[operation] = float(seconds)
        sim.store.dirty = True
        return 200, {"delays": dict(delays)}, {}


def _locks(sim: CloudSim, method: str, rest: list[str], environ: dict[str, Any]) -> Answer:
    if method == "POST" and not rest:
        body = _json_body(environ)
        resource = body.get("resource") if isinstance(body, dict) else None
        lock = body.get("lock", "FinancialLocked") if isinstance(body, dict) else None
        if not isinstance(resource, str) or lock not in locks.LOCK_TYPES:
            raise _BadRequest(f"give resource (an id) and lock (one of {locks.LOCK_TYPES})")
        with sim.store.lock:
            sim.store.advance()
            if not locks.lock(sim.store, resource, lock):
                return _error(404, "NotFound", f"No lockable resource {resource!r}.")
            sim.store.dirty = True
        return 200, {"resource": resource, "lock": lock}, {}
    if method == "DELETE" and len(rest) == 1:
        with sim.store.lock:
            if not locks.unlock(sim.store, rest[0]):
                return _error(404, "NotFound", f"No lockable resource {rest[0]!r}.")
            sim.store.dirty = True
        return 200, {"resource": rest[0], "lock": None}, {}
    return _error(405, "MethodNotAllowed", "POST /_sim/locks or DELETE /_sim/locks/<id>.")


def _web(sim: CloudSim, method: str, key: str, verb: str) -> Answer:
    if method != "POST" or verb not in ("start", "stop"):
        return _error(405, "MethodNotAllowed", "POST …/web/start or …/web/stop.")
    instance = sim.network.set_web(key, running=verb == "start")
    return (
        200,
        {
            "InstanceId": instance["InstanceId"],
            "InstanceName": instance["InstanceName"],
            "web_running": instance["_web_running"],
        },
        {},
    )


def _clock(sim: CloudSim, environ: dict[str, Any]) -> Answer:
    body = _json_body(environ)
    seconds = body.get("advance") if isinstance(body, dict) else None
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, int | float)
        or not 0 <= seconds <= MAX_CLOCK_ADVANCE_S  # also refuses NaN and Infinity
    ):
        raise _BadRequest(
            f'send {{"advance": seconds}} with a number of seconds from 0 to {MAX_CLOCK_ADVANCE_S}'
        )
    with sim.store.lock:
        if sim.store.now() + seconds >= _LATEST:
            raise _BadRequest("the emulator clock cannot go past the year 9998")
        sim.store.advance_clock(float(seconds))
        sim.store.advance()
        return 200, {"now": sim.store.iso(), "offset": sim.store.data["clock_offset"]}, {}


def _resolve(sim: CloudSim, query: dict[str, str]) -> Answer:
    host, port_text = query.get("host", ""), query.get("port", "")
    # Not str.isdigit(): it accepts "²", which int() refuses.
    if not host or not re.fullmatch(r"[0-9]{1,5}", port_text) or not 0 < int(port_text) < 65536:
        raise _BadRequest("resolve needs host=<name or IP> and port=<1-65535>")
    address, port = sim.network.resolve(host, int(port_text), query.get("vpc") or None)
    return 200, {"host": address, "port": port}, {}


MAX_RESOLVE_TARGETS = 50_000


def _resolve_many(sim: CloudSim, environ: dict[str, Any]) -> Answer:
    """POST {"targets": [{"host", "port", "vpc"?}, …]} → {"answers": [{"host", "port"} or
    {"error": "NotFound", "message"}, …]}, in order."""
    body = _json_body(environ)
    targets = body.get("targets") if isinstance(body, dict) else None
    if not isinstance(targets, list) or len(targets) > MAX_RESOLVE_TARGETS:
        raise _BadRequest(f'send {{"targets": [...]}} with at most {MAX_RESOLVE_TARGETS} targets')
    asked = []
    for target in targets:
        host = target.get("host") if isinstance(target, dict) else None
        port = target.get("port") if isinstance(target, dict) else None
        vpc = target.get("vpc") if isinstance(target, dict) else None
        if not isinstance(host, str) or not host or type(port) is not int or not 0 < port < 65536:
            raise _BadRequest("each target needs a host and a port from 1 to 65535")
        asked.append((host, port, vpc if isinstance(vpc, str) and vpc else None))
    answers = []
    for answer in sim.network.resolve_many(asked):
        if isinstance(answer, NetworkError):
            code = "Ambiguous" if isinstance(answer, AmbiguousAddress) else "NotFound"
            answers.append({"error": code, "message": str(answer)})
        else:
            answers.append({"host": answer[0], "port": answer[1]})
    return 200, {"answers": answers}, {}


def _error(status: int, code: str, message: str) -> Answer:
    request_id = ids.request_id()
    return (
        status,
        {
            "RequestId": request_id,
            "HostId": "cloudsim",
            "Code": code,
            "Message": message,
            "Recommend": "",
        },
        {},
    )
