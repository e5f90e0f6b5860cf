"""The HTTP face of cloudsim: one WSGI app for every product, and `CloudSim` to run it in-process.

One endpoint serves every product, the way the portal points every SDK client at
`127.0.0.1:9100`: the product is the version the request names (`x-acs-version`, or `Version`
with the older signature) and the operation its action (`x-acs-action`, or `Action`). Paths under
`/_sim/` are the control API (cloudsim/control.py).

A call goes: parse → find the operation → authenticate → RAM policy → required parameters →
injected faults → (under the store lock) apply due transitions, replay a ClientToken or run the
handler, mark the state dirty (the store's flusher writes it, cloudsim/store.py). Every refusal
is the cloud's JSON error with a 4xx; a bug becomes a JSON 500, never a traceback. With a
contract log, every answer is checked against the SDK's models and the metadata first
(cloudsim/contract.py).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import re
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from cloudsim import control, ids
from cloudsim.auth import Authenticator, is_secret_name
from cloudsim.contract import ContractLog
from cloudsim.dataplane import DataPlane
from cloudsim.errors import ApiError, invalid, mandatory, missing, ram_denied
from cloudsim.faults import FaultSet
from cloudsim.metadata import required_parameters
from cloudsim.network import Network
from cloudsim.params import Params
from cloudsim.products import PRODUCTS, Context, Product
from cloudsim.ram import ALLOW
from cloudsim.scenario import Scenario, load
from cloudsim.store import Store, params_digest

MAX_BODY = 1 << 20
JSON_TYPE = "application/json;charset=utf-8"
_HEADER_KEYS = {"content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH"}

StartResponse = Callable[..., Any]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class CloudSim:
    """An emulator in this process: `with CloudSim(delay_scale=0) as sim: … sim.url …`."""

    def __init__(
        self,
        scenario: Scenario | str | Path | None = None,
        *,
        delay_scale: float = 1.0,
        state_file: str | Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        health_interval_scale: float = 1.0,
        faults: Iterable[dict[str, Any]] = (),
        fault_seed: int | None = None,
        allow_non_loopback: bool = False,
        access_log: bool = False,
        contract_log: str | Path | None = None,
    ) -> None:
        if not allow_non_loopback and not is_loopback(host):
            raise ValueError(
                f"refusing to listen on {host}: cloudsim serves loopback only "
                "(pass allow_non_loopback to override)"
            )
        self.scenario = scenario if isinstance(scenario, Scenario) else load(scenario)
        self.store = Store(self.scenario, delay_scale=delay_scale, state_file=state_file)
        self.dataplane = DataPlane(interval_scale=health_interval_scale)
        self.network = Network(self.store, self.dataplane)
        self.store.network = self.network
        self.faults = FaultSet(fault_seed)
        for spec in faults:
            self.faults.add(spec)
        self.auth = Authenticator(
            self.scenario, self.store.sessions, self.store.now, self.store.policies
        )
        # Every answer checked against the SDK's models and the metadata (cloudsim/contract.py).
        self.contract = (
            ContractLog(contract_log) if contract_log else ContractLog.from_environment()
        )
        self.app = App(self)
        self.host = host
        self._port = port
        self._access_log = access_log
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> CloudSim:
        """Serve from a background thread; `port=0` picks a free port (see `.port`, `.url`)."""
        server = self._bind()
        # A short poll interval keeps stop() quick (tests start and stop many emulators).
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="cloudsim",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self, ready: Callable[[], None] | None = None) -> None:
        """Serve from the calling thread (the CLI) until interrupted."""
        server = self._bind()
        if ready is not None:
            ready()
        try:
            server.serve_forever()
        finally:
            self._close()

    def _bind(self) -> BaseWSGIServer:
        handler = _AccessLogHandler if self._access_log else _QuietHandler
        self._server = make_server(
            self.host, self._port, self.app, threaded=True, request_handler=handler
        )
        self.network.start()
        self.store.start_flusher()
        return self._server

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._close()

    def _close(self) -> None:
        if self._server is None:
            return
        self._server.server_close()
        self._server = None
        self.store.close()  # the final save
        self.network.shutdown()

    def __enter__(self) -> CloudSim:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            return self._port
        return self._server.socket.getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def endpoint(self) -> str:
        """What an SDK `Config(endpoint=…)` wants: host:port without a scheme."""
        return f"{self.host}:{self.port}"

    # -- conveniences for tests and the control API -------------------------------------------

    def reset(self) -> None:
        # The old listeners' proxies are closed once the lock is released (StoreLock).
        with self.store.lock:
            listeners = [listener["_id"] for listener in self.store.all("listener")]
            self.store.reset()
            self.faults.clear()
            self.network.reset(listeners)

    def fast_forward(self) -> int:
        with self.store.lock:
            return self.store.fast_forward()


class App:
    """The WSGI application."""

    def __init__(self, sim: CloudSim) -> None:
        self.sim = sim
        self.store = sim.store

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        path = environ.get("PATH_INFO") or "/"
        if path == "/_sim" or path.startswith("/_sim/"):
            try:
                status, body, headers = control.handle(self.sim, environ, path)
            except Exception:
                traceback.print_exc(file=sys.stderr)
                status, headers = 500, {}
                body = error_body(
                    "InternalError", "The control call failed.", ids.request_id(), "cloudsim"
                )
            return respond(start_response, status, body, headers)
        return self.api(environ, start_response)

    def api(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        request_id = ids.request_id()
        called: list[str] = []  # the product and action, once the request names them
        try:
            product, operation, params, identity = self._prepare(environ, called)
            outcome = self.sim.faults.decide(product.name, operation.name, identity.uid)
            if outcome.latency_s:
                time.sleep(outcome.latency_s)
            if outcome.drop:
                _drop(environ)
            if outcome.error is not None:
                raise outcome.error
            body = self._run(product, operation.name, operation.write, params, identity, request_id)
            body["RequestId"] = request_id
            self._check_contract(called, 200, body)
            return respond(start_response, 200, body, {"x-acs-request-id": request_id})
        except ApiError as error:
            with self.store.lock:
                self.store.count_error(error.code)
            body = error_body(error.code, error.message, request_id, self._host(environ))
            body.update(error.extra)
            self._check_contract(called, error.status, body)
            return respond(
                start_response,
                error.status,
                body,
                {"x-acs-request-id": request_id, **error.headers},
            )
        except ConnectionError:
            raise
        except Exception:
            traceback.print_exc(file=sys.stderr)
            return respond(
                start_response,
                500,
                error_body(
                    "InternalError",
                    "The request processing has failed due to some unknown error.",
                    request_id,
                    self._host(environ),
                ),
                {"x-acs-request-id": request_id},
            )

    def _host(self, environ: dict[str, Any]) -> str:
        """The HostId of an error: the product's regional endpoint when the request names one."""
        version = environ.get("HTTP_X_ACS_VERSION") or ""
        if not version:
            query = environ.get("QUERY_STRING", "")
            version = next((v for k, v in parse_qsl(query) if k == "Version"), "")
        product = PRODUCTS.get(version)
        return product.host(self.store.scenario.region) if product else "cloudsim"

    def _check_contract(self, called: list[str], status: int, body: dict[str, Any]) -> None:
        """With a contract log (cloudsim/contract.py), check the answer against the SDK's model
        and the metadata's error codes. Refusals of a request that names no operation it could
        check (no action, an unknown version) are the gateway's, not an operation's."""
        if self.sim.contract is not None and len(called) == 2:
            self.sim.contract.check(called[0], called[1], status, body)

    def _prepare(
        self, environ: dict[str, Any], called: list[str]
    ) -> tuple[Product, Any, Params, Any]:
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "POST"):
            raise ApiError("UnsupportedHTTPMethod", f"HTTP method {method} is not supported.")
        body = _read_body(environ)
        query = _parse_pairs(environ.get("QUERY_STRING", ""), "query string")
        raw = dict(query)
        content_type = environ.get("CONTENT_TYPE", "")
        if body and content_type.startswith("application/x-www-form-urlencoded"):
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                raise invalid("body", "not UTF-8") from None
            raw.update(_parse_pairs(text, "form body"))

        def header(name: str) -> str | None:
            return environ.get(_HEADER_KEYS.get(name) or "HTTP_" + name.upper().replace("-", "_"))

        action = header("x-acs-action") or raw.get("Action")
        version = header("x-acs-version") or raw.get("Version")
        if not action:
            raise missing("Action")
        if not version:
            raise missing("Version")
        product = PRODUCTS.get(version)
        if product is None:
            raise ApiError(
                "InvalidVersion",
                f"Specified parameter Version {version!r} is not valid (cloudsim serves "
                f"{', '.join(f'{p.name} {v}' for v, p in PRODUCTS.items())}).",
            )
        operation = product.operations.get(action)
        if operation is not None:
            called.extend((product.name, action))
        if operation is None:
            raise ApiError(
                "InvalidAction.NotFound",
                f"Specified api {action!r} is not found in {product.name} {version}, please check "
                "your url and method.",
                status=404,
            )
        with self.store.lock:
            self.store.count_call(product.name, action)
            identity = self.sim.auth.authenticate(
                method, environ.get("PATH_INFO") or "/", query, raw, header, body
            )
            over_quota = self.store.count_account_call(identity.uid, product.name, action)
        if over_quota:
            # Per account, region and API (the products' "API rate limits" pages).
            raise ApiError("Throttling.User", "Request was denied due to user flow control.", 400)
        decision = identity.decide(f"{product.name}:{action}")
        if decision != ALLOW:
            raise ram_denied(
                f"{product.name}:{action}", decision, identity.identity_type, identity.arn
            )
        # The gateway checks the parameters the operation's metadata marks required (RegionId on
        # every PrivateLink operation) before the operation runs (cloudsim/metadata).
        for name in required_parameters(product.name, action):
            if not _given(raw, name):
                raise mandatory(name)
        region = raw.get("RegionId")
        if product.regional and region and region != self.store.scenario.region:
            raise ApiError("InvalidRegionId", f"The specified region {region!r} does not exist.")
        return product, operation, Params(raw), identity

    def _run(
        self,
        product: Product,
        action: str,
        write: bool,
        params: Params,
        identity: Any,
        request_id: str,
    ) -> dict[str, Any]:
        store = self.store
        with store.lock:
            store.advance()
            token = params.text("ClientToken", max_len=64) if write else None
            if token is not None and params.boolean("DryRun", False):
                token = None
            digest = params_digest(params.raw) if token is not None else ""
            if token is not None:
                replay = store.token_response(
                    identity.uid, action, token, digest, product.token_mismatch_code
                )
                if replay is not None:
                    return dict(replay)
            context = Context(store, identity, params, product, action, request_id)
            body = product.operations[action].handler(context)
            if token is not None:
                store.remember_token(identity.uid, action, token, digest, body)
                body = dict(body)
            if write:
                # Handlers change records in place; the flusher writes the state (--state).
                store.dirty = True
            return body


def error_body(code: str, message: str, request_id: str, host: str) -> dict[str, str]:
    return {
        "RequestId": request_id,
        "HostId": host,
        "Code": code,
        "Message": message,
        "Recommend": f"https://api.aliyun.com/troubleshoot?q={code}&requestId={request_id}",
    }


def respond(
    start_response: StartResponse, status: int, body: Any, headers: dict[str, str] | None = None
) -> list[bytes]:
    data = json.dumps(body, separators=(",", ":")).encode()
    header_list = [("Content-Type", JSON_TYPE), ("Content-Length", str(len(data)))]
    header_list.extend((headers or {}).items())
    start_response(f"{status} {_REASONS.get(status, 'Error')}", header_list)
    return [data]


_REASONS = {
    200: "OK",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def _read_body(environ: dict[str, Any]) -> bytes:
    length_text = environ.get("CONTENT_LENGTH") or ""
    stream = environ["wsgi.input"]
    if not length_text:
        if environ.get("wsgi.input_terminated"):
            data = stream.read(MAX_BODY + 1)
            if len(data) > MAX_BODY:
                raise ApiError("RequestTooLarge", "The request body is larger than 1 MiB.", 413)
            return data
        return b""
    try:
        length = int(length_text)
    except ValueError:
        raise ApiError("InvalidParameter", "Content-Length is not a number.") from None
    if length < 0 or length > MAX_BODY:
        raise ApiError("RequestTooLarge", "The request body is larger than 1 MiB.", 413)
    return stream.read(length) if length else b""


def _parse_pairs(text: str, where: str) -> dict[str, str]:
    try:
        pairs = parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=2000)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError("InvalidParameter", f"The {where} cannot be parsed: {exc}.") from None
    return dict(pairs)


def _given(raw: dict[str, str], name: str) -> bool:
    """A parameter is given as itself (`VpcId=…`) or, for a list or object, by its items
    (`ZoneMappings.1.ZoneId=…`)."""
    if raw.get(name):
        return True
    prefix = name + "."
    return any(key.startswith(prefix) for key in raw)


def _drop(environ: dict[str, Any]) -> None:
    """Close the client's connection without an answer (the `drop` fault)."""
    connection = environ.get("werkzeug.socket")
    if connection is not None:
        with contextlib.suppress(OSError):
            connection.shutdown(socket.SHUT_RDWR)
    # Werkzeug treats a ConnectionError from the app as a dropped client and answers nothing.
    raise ConnectionAbortedError("cloudsim dropped the connection (injected fault)")


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


# A `name=value` pair of a query string, as a request line shows it.
_QUERY_PAIR = re.compile(r"(?<=[?&])([^&=\s]+)=([^&\s]*)")


def redact(text: str) -> str:
    """`text` with the values of secret query parameters (auth.is_secret_name) as ***."""
    return _QUERY_PAIR.sub(
        lambda pair: f"{pair[1]}=***" if is_secret_name(unquote(pair[1])) else pair[0], text
    )


class _AccessLogHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # The request line carries the query, and with the older signature the STS token in it.
        # werkzeug logs `path` (or `requestline` when the request was bad); both are done with.
        self.requestline = redact(self.requestline)
        if hasattr(self, "path"):
            self.path = redact(self.path)
        super().log_request(code, size)
