"""The loopback data plane: instances' web servers, listeners' TCP proxies, real health checks.

Every instance with a web server in the scenario gets a real HTTP/1.1 server on
127.0.0.1:<ephemeral> that stands for the instance's cloud port (80 in the walk-through); every
Running listener gets a TCP proxy on 127.0.0.1:<ephemeral> that hands each client connection to
one backend, picked by smooth weighted round-robin among those its health checks find healthy,
and relays bytes both ways. Scenario addresses (10.x, 172.16.x, 192.168.x) never reach a socket:
a backend is found by its instance id and cloud port, and one without a loopback server simply
fails its checks with CONNECT_FAILED.

Health: a new backend is "Initial" (no data yet, as the NLB API puts it). Its first successful
check makes it "Healthy" at once, so a fresh listener serves traffic after one round instead of
healthy_threshold intervals; otherwise a status flips only after healthy_threshold consecutive
successes or unhealthy_threshold consecutive failures (an Initial backend that keeps failing turns
"Unhealthy" after unhealthy_threshold failures). With checks disabled every backend counts as
healthy.

Threads: one accept thread per listening socket, one thread per accepted connection (web server
request handling, or a proxy relay), one health-check thread per listener; all are daemons and
none polls: they block in select() with a wake-up socket, or wait on an Event.

Locks, and why they cannot deadlock: `DataPlane._lock` guards the registries; proxy accept
threads and health-check threads take it to find a backend's loopback port, so it is never held
while joining those (a removed proxy is closed after the lock is released). It is held while a web
server starts or stops, which joins only that server's accept thread, and that thread never takes
it. A proxy's lock and a health checker's lock guard their own state and are never held while
calling back into the DataPlane.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import selectors
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import cast

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"

INITIAL = "Initial"
HEALTHY = "Healthy"
UNHEALTHY = "Unhealthy"

# Reason codes, named as the NLB/ALB GetListenerHealthStatus APIs name them.
CONNECT_FAILED = "CONNECT_FAILED"
CONNECT_TIMEOUT = "CONNECT_TIMEOUT"
SEND_REQUEST_FAILED = "SEND_REQUEST_FAILED"
RECV_RESPONSE_FAILED = "RECV_RESPONSE_FAILED"
RECV_RESPONSE_TIMEOUT = "RECV_RESPONSE_TIMEOUT"
RESPONSE_FORMAT_ERROR = "RESPONSE_FORMAT_ERROR"
RESPONSE_MISMATCH = "RESPONSE_MISMATCH"

# Scaled intervals below this would turn the checker into a busy loop (a scale of 0 is legal).
_MIN_INTERVAL_S = 0.02
# Scaled timeouts below this would turn a scheduler hiccup on a loaded machine into a false
# failure; a dead backend on loopback fails by refusal, at once, so the floor costs tests nothing.
_MIN_TIMEOUT_S = 0.25
# Loopback connects either succeed or are refused at once; the bound only guards a full backlog.
_BACKEND_CONNECT_TIMEOUT_S = 2.0
# nginx's keepalive_timeout is 75 s; shorter here so idle keep-alive clients free their threads.
_KEEPALIVE_TIMEOUT_S = 15.0
_BACKLOG = 512
_RELAY_CHUNK = 64 * 1024


@dataclass(frozen=True)
class BackendSpec:
    """One server of a listener's server group, as the cloud sees it."""

    server_id: str  # an ECS instance id
    port: int  # the backend port as the cloud sees it (e.g. 80)
    weight: int  # 0–100; 0 receives no traffic

    @property
    def key(self) -> tuple[str, int]:
        return (self.server_id, self.port)


@dataclass(frozen=True)
class HealthCheckSpec:
    """A server group's health-check configuration, in seconds before interval_scale."""

    enabled: bool = True
    check_type: str = "TCP"  # or "HTTP" (GET http_path, 2xx/3xx = healthy)
    connect_port: int = 0  # 0 = the backend's port
    interval_s: float = 2.0
    timeout_s: float = 1.0
    healthy_threshold: int = 2
    unhealthy_threshold: int = 2
    http_path: str = "/"


@dataclass(frozen=True)
class BackendHealth:
    """What the health checks currently say about one backend."""

    status: str  # "Initial" | "Healthy" | "Unhealthy"
    reason_code: str | None  # None when healthy/initial; CONNECT_FAILED, RESPONSE_MISMATCH, …


# -- sockets -------------------------------------------------------------------------------------


def _listen(port: int) -> socket.socket:
    """A non-blocking listening socket on loopback (port 0: an ephemeral one)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        # A restarted web server must get its old port back although the connections it closed
        # still sit in TIME_WAIT on that port.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((LOOPBACK, port))
        sock.listen(_BACKLOG)
        # Non-blocking so that accept() after select() cannot hang on a connection that the
        # client abandoned in between.
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def _shutdown_quietly(sock: socket.socket) -> None:
    """Wake whatever thread is blocked on `sock` (it sees EOF); the owner closes it."""
    # OSError: already disconnected or closed, so nothing is left to wake.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _Acceptor:
    """A listening socket on loopback and the daemon thread that accepts from it.

    The thread blocks in select() on the listening socket and on one end of a socket pair;
    close() writes to the other end, so stopping takes no polling and no timeout.
    """

    def __init__(self, name: str, port: int, on_accept: Callable[[socket.socket], None]) -> None:
        self._sock = _listen(port)
        self.port: int = self._sock.getsockname()[1]
        self._on_accept = on_accept
        self._wake_r, self._wake_w = socket.socketpair()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self._sock, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while not self._closing.is_set():
                for key, _ in selector.select():
                    if key.fileobj is self._wake_r:
                        return
                    self._accept_one()

    def _accept_one(self) -> None:
        try:
            conn, _ = self._sock.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return  # the client gave up between select() and accept()
        except OSError:
            # Out of file descriptors: the socket stays readable, so back off instead of
            # spinning; the wait ends early when close() is called.
            logger.warning("accept failed on 127.0.0.1:%s", self.port, exc_info=True)
            self._closing.wait(0.1)
            return
        # Accepted sockets inherit O_NONBLOCK on some platforms (BSD, macOS); handlers block.
        conn.setblocking(True)
        try:
            self._on_accept(conn)
        except Exception:
            # One bad connection must not take the whole listening socket down with it.
            logger.exception("handling a connection on 127.0.0.1:%s failed", self.port)
            conn.close()

    def close(self) -> None:
        """Stop accepting and close the listening socket: new connections are then refused."""
        self._closing.set()
        with contextlib.suppress(OSError):  # already closed: the thread has gone
            self._wake_w.send(b"x")
        if threading.current_thread() is not self._thread:
            self._thread.join()
        # Closed only after the thread has left select(), so no fd is closed under its feet.
        self._sock.close()
        self._wake_r.close()
        self._wake_w.close()


# -- web servers ---------------------------------------------------------------------------------


class _WebHandler(BaseHTTPRequestHandler):
    """nginx serving one index.html: every GET (any path) answers 200 with the body."""

    server: _WebServer  # the handler's `server` argument is our _WebServer, not a socketserver
    protocol_version = "HTTP/1.1"  # keep-alive, as curl and the SDKs expect from nginx
    server_version = "nginx"
    # Headers and body are two writes; without TCP_NODELAY the second can wait for a delayed ACK.
    disable_nagle_algorithm = True
    timeout = _KEEPALIVE_TIMEOUT_S

    def do_GET(self) -> None:
        self._answer(with_body=True)

    def do_HEAD(self) -> None:
        self._answer(with_body=False)

    def _answer(self, with_body: bool) -> None:
        body = self.server.body_bytes
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def version_string(self) -> str:
        return self.server_version  # the base appends Python's version; nginx says just "nginx"

    def log_message(self, format: str, *args: object) -> None:
        pass  # one line per request on stderr would drown the emulator's own output


class _WebServer:
    """An instance's web server: a real HTTP/1.1 server on loopback standing for `cloud_port`."""

    def __init__(self, instance_id: str, cloud_port: int, body: str) -> None:
        self.instance_id = instance_id
        self.cloud_port = cloud_port
        self.body_bytes = b""
        self.set_body(body)
        self.local_port = 0
        # Serialises start and stop; the accept thread never takes it, so stop() may join it.
        self._lock = threading.Lock()
        self._acceptor: _Acceptor | None = None
        # Open connections, so that stop() can drop kept-alive clients as a stopped nginx does.
        self._conns_lock = threading.Lock()
        self._conns: set[socket.socket] = set()

    def set_body(self, body: str) -> None:
        # `echo "…" > index.html` leaves a trailing newline, and curl shows it.
        text = body if body.endswith("\n") else body + "\n"
        self.body_bytes = text.encode()

    @property
    def running(self) -> bool:
        return self._acceptor is not None

    def start(self) -> None:
        with self._lock:
            if self._acceptor is not None:
                return
            name = f"cloudsim-web-{self.instance_id}"
            try:
                acceptor = _Acceptor(name, self.local_port, self._on_accept)
            except OSError:
                if not self.local_port:
                    raise
                # Someone else took the old port meanwhile: serve on a new one.
                acceptor = _Acceptor(name, 0, self._on_accept)
            self._acceptor = acceptor
            self.local_port = acceptor.port

    def stop(self) -> None:
        with self._lock:
            acceptor, self._acceptor = self._acceptor, None
            if acceptor is None:
                return
            acceptor.close()
            with self._conns_lock:
                conns = list(self._conns)
            for conn in conns:
                _shutdown_quietly(conn)

    def _on_accept(self, conn: socket.socket) -> None:
        with self._conns_lock:
            self._conns.add(conn)
        threading.Thread(
            target=self._serve,
            args=(conn,),
            name=f"cloudsim-web-{self.instance_id}-conn",
            daemon=True,
        ).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            _WebHandler(conn, conn.getpeername(), self)  # type: ignore[arg-type]
        except (OSError, ValueError):
            pass  # the client went away, or stop() cut the connection: nothing to answer
        finally:
            with self._conns_lock:
                self._conns.discard(conn)
            conn.close()


# -- health checks -------------------------------------------------------------------------------


def _tcp_probe(port: int, timeout: float) -> str | None:
    """Connect and close; None when the connection was accepted, else a reason code."""
    try:
        with socket.create_connection((LOOPBACK, port), timeout=timeout):
            return None
    except TimeoutError:
        return CONNECT_TIMEOUT
    except OSError:
        return CONNECT_FAILED


def _http_probe(port: int, path: str, timeout: float) -> str | None:
    """GET `path`; None when the status is 2xx or 3xx, else a reason code."""
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout)
    try:
        try:
            conn.connect()
        except TimeoutError:
            return CONNECT_TIMEOUT
        except OSError:
            return CONNECT_FAILED
        try:
            conn.request(
                "GET", path, headers={"User-Agent": "cloudsim-health-check", "Connection": "close"}
            )
        except (OSError, ValueError, http.client.HTTPException):
            return SEND_REQUEST_FAILED
        try:
            response = conn.getresponse()
        except TimeoutError:
            return RECV_RESPONSE_TIMEOUT
        except ConnectionError:
            return RECV_RESPONSE_FAILED  # includes RemoteDisconnected: closed without a reply
        except http.client.HTTPException:
            return RESPONSE_FORMAT_ERROR
        except OSError:
            return RECV_RESPONSE_FAILED
        return None if 200 <= response.status < 400 else RESPONSE_MISMATCH
    finally:
        conn.close()


@dataclass
class _Tracker:
    """One backend's health: its status and the current run of equal results."""

    status: str = INITIAL
    reason: str | None = None
    successes: int = 0
    failures: int = 0

    def record(self, reason: str | None, spec: HealthCheckSpec) -> None:
        if reason is None:
            self.successes += 1
            self.failures = 0
            # From Initial the first success is enough (see the module docstring).
            if self.status == INITIAL or self.successes >= spec.healthy_threshold:
                self.status, self.reason = HEALTHY, None
        else:
            self.failures += 1
            self.successes = 0
            if self.failures >= spec.unhealthy_threshold:
                self.status = UNHEALTHY
            if self.status == UNHEALTHY:
                self.reason = reason  # the latest cause is the useful one

    def health(self) -> BackendHealth:
        return BackendHealth(self.status, self.reason)


# Maps a backend (instance id, cloud port) to the loopback port that stands for it, or None.
Resolver = Callable[[str, int], int | None]


class _HealthChecker:
    """A listener's health checks: a daemon thread running rounds every interval, and
    run_round() for a synchronous round. Rounds never overlap, so thresholds count each
    result once and in order."""

    def __init__(
        self,
        listener_id: str,
        backends: Iterable[BackendSpec],
        spec: HealthCheckSpec,
        resolve: Resolver,
        interval_scale: float,
    ) -> None:
        self._resolve = resolve
        self._scale = interval_scale
        self._lock = threading.Lock()  # guards spec, backends and trackers
        self._round_lock = threading.Lock()  # one round at a time (thread or check_now)
        self._spec = spec
        self._backends: tuple[BackendSpec, ...] = ()
        self._trackers: dict[tuple[str, int], _Tracker] = {}
        self._apply(backends, spec)
        self._kick = threading.Event()  # "run a round now": set by update() and close()
        self._stopped = False
        self._thread = threading.Thread(
            target=self._run, name=f"cloudsim-health-{listener_id}", daemon=True
        )
        self._thread.start()

    def _apply(self, backends: Iterable[BackendSpec], spec: HealthCheckSpec) -> None:
        # Backends that stay keep their state, so an update does not interrupt traffic; checks
        # that were off start again from Initial, since nothing is known about the meantime.
        self._backends = tuple(backends)
        keep = self._trackers if spec.enabled and self._spec.enabled else {}
        self._trackers = {b.key: keep.get(b.key) or _Tracker() for b in self._backends}
        self._spec = spec

    def update(self, backends: Iterable[BackendSpec], spec: HealthCheckSpec) -> None:
        with self._lock:
            self._apply(backends, spec)
        self._kick.set()  # new backends should not wait a whole interval for their first check

    def close(self) -> None:
        self._stopped = True
        self._kick.set()
        if threading.current_thread() is not self._thread:
            self._thread.join()

    def _run(self) -> None:
        while True:
            # Cleared before the round, so a kick that arrives during it triggers another.
            self._kick.clear()
            if self._stopped:
                return
            try:
                self.run_round()
            except Exception:
                logger.exception("health-check round failed")  # the thread must survive
            with self._lock:
                spec = self._spec
            # Disabled checks wait for an update instead of waking up for nothing.
            self._kick.wait(self._interval(spec) if spec.enabled else None)

    def _interval(self, spec: HealthCheckSpec) -> float:
        return max(spec.interval_s * self._scale, _MIN_INTERVAL_S)

    def _timeout(self, spec: HealthCheckSpec) -> float:
        return max(spec.timeout_s * self._scale, _MIN_TIMEOUT_S)

    def run_round(self) -> None:
        """Check every backend once and count the results toward the thresholds."""
        with self._round_lock:
            with self._lock:
                spec, backends = self._spec, self._backends
            if not spec.enabled or self._stopped:
                return
            # Probing happens without self._lock: reads of the health stay instant meanwhile.
            results = [(backend.key, self._probe(backend, spec)) for backend in backends]
            with self._lock:
                for key, reason in results:
                    tracker = self._trackers.get(key)
                    if tracker is not None:  # an update may have removed it meanwhile
                        tracker.record(reason, self._spec)

    def _probe(self, backend: BackendSpec, spec: HealthCheckSpec) -> str | None:
        port = self._resolve(backend.server_id, spec.connect_port or backend.port)
        if port is None:
            # No loopback server stands for it, and its scenario address must never be dialled.
            return CONNECT_FAILED
        if spec.check_type.upper() == "HTTP":
            return _http_probe(port, spec.http_path or "/", self._timeout(spec))
        return _tcp_probe(port, self._timeout(spec))

    def eligible(self) -> set[tuple[str, int]]:
        """The backends that may receive new connections now."""
        with self._lock:
            if not self._spec.enabled:
                return {b.key for b in self._backends}
            return {key for key, t in self._trackers.items() if t.status == HEALTHY}

    def snapshot(self) -> dict[tuple[str, int], BackendHealth]:
        with self._lock:
            if not self._spec.enabled:
                return {b.key: BackendHealth(HEALTHY, None) for b in self._backends}
            return {key: tracker.health() for key, tracker in self._trackers.items()}


# -- load balancing ------------------------------------------------------------------------------


class _WeightedRoundRobin:
    """Smooth weighted round-robin, as nginx does it: each pick adds every candidate's weight to
    its running score, takes the highest (the first on a tie) and subtracts the total from it.
    Picks interleave (75/25 gives A A B A, not A A A B) and are deterministic."""

    def __init__(self, backends: Iterable[BackendSpec]) -> None:
        self.backends = tuple(backends)
        self._scores = {b.key: 0 for b in self.backends}

    def pick(self, eligible: set[tuple[str, int]]) -> BackendSpec | None:
        candidates = [b for b in self.backends if b.weight > 0 and b.key in eligible]
        if not candidates:
            return None
        best = candidates[0]
        for backend in candidates:
            self._scores[backend.key] += backend.weight
            if self._scores[backend.key] > self._scores[best.key]:
                best = backend
        self._scores[best.key] -= sum(b.weight for b in candidates)
        return best


# -- proxies -------------------------------------------------------------------------------------


class _Relay:
    """One client connection and its backend connection, relayed by one thread.

    Non-blocking sockets under one selector; each direction holds at most one chunk in flight, so
    a slow reader on one side throttles the other side instead of buffering without bound. An EOF
    is passed on as a half-close (shutdown for writing), so a client that half-closes after its
    request still gets the whole answer; the relay ends when both directions are done, or on the
    first error, and closes both sockets.
    """

    def __init__(
        self, client: socket.socket, backend_port: int, done: Callable[[_Relay], None]
    ) -> None:
        self._client = client
        self._backend_port = backend_port
        self._done = done
        self._lock = threading.Lock()  # abort() against the connect in the relay thread
        self._upstream: socket.socket | None = None
        self._aborted = False

    def start(self) -> None:
        threading.Thread(target=self._run, name="cloudsim-relay", daemon=True).start()

    def abort(self) -> None:
        """Cut both connections (the listener is going away); the relay thread closes them."""
        with self._lock:
            self._aborted = True
            socks = [self._client] + ([self._upstream] if self._upstream else [])
        for sock in socks:
            _shutdown_quietly(sock)

    def _run(self) -> None:
        try:
            try:
                upstream = socket.create_connection(
                    (LOOPBACK, self._backend_port), timeout=_BACKEND_CONNECT_TIMEOUT_S
                )
            except OSError:
                return  # the backend went down since its last check: the client is cut off
            with self._lock:
                self._upstream = upstream
                aborted = self._aborted
            if not aborted:
                self._pump(self._client, upstream)
        except Exception:
            logger.exception("relay to 127.0.0.1:%s failed", self._backend_port)
        finally:
            self._client.close()
            if self._upstream is not None:
                self._upstream.close()
            self._done(self)

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        for sock in (client, upstream):
            sock.setblocking(False)
            # Small request/response exchanges must not wait for delayed ACKs.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        peer = {client: upstream, upstream: client}
        pending = {client: bytearray(), upstream: bytearray()}  # read from key, owed to its peer
        reading = {client, upstream}  # sides that have not sent EOF yet
        interest: dict[socket.socket, int] = {}
        with selectors.DefaultSelector() as selector:
            while not self._aborted:
                for sock in (client, upstream):
                    events = 0
                    if sock in reading and not pending[sock]:
                        events |= selectors.EVENT_READ
                    if pending[peer[sock]]:
                        events |= selectors.EVENT_WRITE
                    _set_interest(selector, interest, sock, events)
                if not interest:
                    return  # both directions finished
                for key, mask in selector.select():
                    sock = cast(socket.socket, key.fileobj)
                    try:
                        if mask & selectors.EVENT_WRITE:
                            self._write(sock, pending[peer[sock]], peer[sock] in reading)
                        if mask & selectors.EVENT_READ:
                            chunk = sock.recv(_RELAY_CHUNK)
                            if chunk:
                                pending[sock] += chunk
                            else:
                                reading.discard(sock)
                                if not pending[sock]:
                                    _half_close(peer[sock])
                    except (BlockingIOError, InterruptedError):
                        continue  # spurious readiness: select again
                    except OSError:
                        return  # reset or broken pipe: the connection is over

    @staticmethod
    def _write(sock: socket.socket, data: bytearray, source_open: bool) -> None:
        sent = sock.send(data)
        del data[:sent]
        if not data and not source_open:
            _half_close(sock)  # the source's EOF, passed on now that its last bytes are out


def _set_interest(
    selector: selectors.BaseSelector,
    interest: dict[socket.socket, int],
    sock: socket.socket,
    events: int,
) -> None:
    """Register, modify or unregister `sock` so the selector waits for exactly `events`."""
    old = interest.get(sock, 0)
    if events == old:
        return
    if not events:
        selector.unregister(sock)
        del interest[sock]
    elif not old:
        selector.register(sock, events)
        interest[sock] = events
    else:
        selector.modify(sock, events)
        interest[sock] = events


def _half_close(sock: socket.socket) -> None:
    # OSError: the other side is already gone; the relay notices on its next read or write.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_WR)


class _TcpProxy:
    """A listener on loopback: accepts, picks a healthy backend, relays."""

    def __init__(
        self,
        listener_id: str,
        backends: list[BackendSpec],
        health: HealthCheckSpec,
        resolve: Resolver,
        interval_scale: float,
    ) -> None:
        self.listener_id = listener_id
        self._resolve = resolve
        self._lock = threading.Lock()  # guards the balancer, the relays and `closed`
        self._balancer = _WeightedRoundRobin(_unique(backends))
        self._relays: set[_Relay] = set()
        self._closed = False
        self.checker = _HealthChecker(
            listener_id, self._balancer.backends, health, resolve, interval_scale
        )
        try:
            self._acceptor = _Acceptor(f"cloudsim-proxy-{listener_id}", 0, self._on_accept)
        except OSError:
            self.checker.close()  # no thread may outlive a proxy that never came up
            raise
        self.port = self._acceptor.port

    def update(self, backends: list[BackendSpec], health: HealthCheckSpec) -> None:
        unique = _unique(backends)
        with self._lock:
            # A changed list restarts the rotation, so what follows an update is predictable.
            if unique != self._balancer.backends:
                self._balancer = _WeightedRoundRobin(unique)
        self.checker.update(unique, health)

    def _on_accept(self, client: socket.socket) -> None:
        # Picked on the accept thread, one connection after another: the order is deterministic.
        eligible = self.checker.eligible()
        with self._lock:
            backend = None if self._closed else self._balancer.pick(eligible)
        # Resolved after the proxy lock is released (see the module docstring on locks).
        port = None if backend is None else self._resolve(backend.server_id, backend.port)
        if port is None:
            client.close()  # nothing healthy, or gone since its last check: refuse at once
            return
        relay = _Relay(client, port, self._relay_done)
        with self._lock:
            if self._closed:
                client.close()
                return
            self._relays.add(relay)
        relay.start()

    def _relay_done(self, relay: _Relay) -> None:
        with self._lock:
            self._relays.discard(relay)

    @property
    def connection_count(self) -> int:
        """Client connections being relayed now."""
        with self._lock:
            return len(self._relays)

    def retire(self) -> None:
        """Take no new connection from now on (closes at once those still being accepted);
        cheap and non-blocking, unlike close()."""
        with self._lock:
            self._closed = True

    def close(self) -> None:
        """Close the port, stop the checks and cut the connections in flight, as a deleted
        listener does."""
        self._acceptor.close()
        with self._lock:
            self._closed = True
            relays = list(self._relays)
        for relay in relays:
            relay.abort()
        self.checker.close()


def _unique(backends: Iterable[BackendSpec]) -> tuple[BackendSpec, ...]:
    """The backends in order, one per (server, port): the first occurrence wins."""
    seen: dict[tuple[str, int], BackendSpec] = {}
    for backend in backends:
        seen.setdefault(backend.key, backend)
    return tuple(seen.values())


# -- the data plane ------------------------------------------------------------------------------


class DataPlane:
    """Loopback web servers for instances and TCP proxies for listeners, with health checks.

    Thread-safe: the API server calls it from many request threads.
    """

    def __init__(self, interval_scale: float = 1.0) -> None:
        self._scale = interval_scale
        # Guards the two registries and `_closed`. Never held while joining a thread or doing
        # I/O, because health-check and accept threads take it to resolve backends.
        self._lock = threading.Lock()
        self._web: dict[str, _WebServer] = {}
        self._proxies: dict[str, _TcpProxy] = {}
        self._closed = False

    # -- web servers ----------------------------------------------------------------------------

    def add_web_server(self, instance_id: str, port: int, body: str) -> int:
        """Serve `body` for the instance's `port`; returns the loopback port.

        Adding an instance again updates its port and body in place and starts it if stopped.
        """
        # Web servers start and stop under the lock, so that none can start again after
        # shutdown(); stop() joins only the server's own accept thread, which never takes it.
        with self._lock:
            self._check_open()
            web = self._web.get(instance_id)
            if web is None:
                web = self._web[instance_id] = _WebServer(instance_id, port, body)
            else:
                web.cloud_port = port
                web.set_body(body)
            web.start()
            return web.local_port

    def stop_web_server(self, instance_id: str) -> None:
        with self._lock:
            self._web_server(instance_id).stop()

    def start_web_server(self, instance_id: str) -> None:
        with self._lock:
            self._web_server(instance_id).start()

    def web_server_running(self, instance_id: str) -> bool:
        with self._lock:
            web = self._web.get(instance_id)
        return web is not None and web.running

    def _web_server(self, instance_id: str) -> _WebServer:
        """The instance's server; the caller holds the lock."""
        self._check_open()
        try:
            return self._web[instance_id]
        except KeyError:
            raise KeyError(f"no web server for instance {instance_id!r}") from None

    def _loopback_port(self, server_id: str, port: int) -> int | None:
        """The loopback port standing for (server_id, port), if a running server serves it."""
        with self._lock:
            web = self._web.get(server_id)
            if web is None or web.cloud_port != port or not web.running:
                return None
            return web.local_port

    # -- listeners ------------------------------------------------------------------------------

    def set_listener(
        self, listener_id: str, backends: list[BackendSpec], health: HealthCheckSpec
    ) -> int:
        """Create or update the listener's proxy; its loopback port is stable across updates."""
        with self._lock:
            self._check_open()
            proxy = self._proxies.get(listener_id)
            if proxy is None:
                proxy = _TcpProxy(listener_id, backends, health, self._loopback_port, self._scale)
                self._proxies[listener_id] = proxy
            else:
                proxy.update(backends, health)
            return proxy.port

    def remove_listener(self, listener_id: str) -> None:
        proxy = self.detach_listener(listener_id)
        if proxy is not None:
            proxy.close()  # outside the lock: it joins threads that may be resolving backends

    def detach_listener(self, listener_id: str) -> _TcpProxy | None:
        """Unregister the listener's proxy and stop it taking connections, without waiting.

        The caller must `close()` what it gets: that joins the proxy's threads, which can take
        a health check's timeout, so callers holding other locks close it after releasing them.
        """
        with self._lock:
            proxy = self._proxies.pop(listener_id, None)
        if proxy is not None:
            proxy.retire()
        return proxy

    def connection_count(self, listener_id: str) -> int | None:
        """Connections the listener's proxy is relaying now; None without a proxy."""
        with self._lock:
            proxy = self._proxies.get(listener_id)
        return None if proxy is None else proxy.connection_count

    def listener_port(self, listener_id: str) -> int | None:
        with self._lock:
            proxy = self._proxies.get(listener_id)
        return None if proxy is None else proxy.port

    def backend_health(self, listener_id: str) -> dict[tuple[str, int], BackendHealth]:
        """Health by (server_id, port); {} for a listener that has no proxy."""
        with self._lock:
            proxy = self._proxies.get(listener_id)
        return {} if proxy is None else proxy.checker.snapshot()

    def check_now(self, listener_id: str | None = None) -> None:
        """One synchronous round for one listener (none if unknown) or for all of them."""
        with self._lock:
            if listener_id is None:
                proxies = list(self._proxies.values())
            else:
                proxies = [p for p in (self._proxies.get(listener_id),) if p is not None]
        for proxy in proxies:  # outside the lock: probing resolves backends through it
            proxy.checker.run_round()

    # -- lifecycle ------------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop every server, proxy and health-check thread; later calls do nothing."""
        with self._lock:
            self._closed = True
            proxies, self._proxies = list(self._proxies.values()), {}
            webs, self._web = list(self._web.values()), {}
        for proxy in proxies:
            proxy.close()
        for web in webs:
            web.stop()

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("the data plane has been shut down")
