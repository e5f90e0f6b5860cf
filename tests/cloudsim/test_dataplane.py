"""The loopback data plane on its own: real web servers, real proxies, real health checks.

Everything here dials 127.0.0.1 only. Health checks run every 2 s * 0.05 = 0.1 s in the
background; tests that count results one by one use a long interval, so only the first
(immediate) round and their own check_now() calls count.
"""

from __future__ import annotations

import contextlib
import http.client
import itertools
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from cloudsim import dataplane as dataplane_module
from cloudsim.dataplane import (
    BackendHealth,
    BackendSpec,
    DataPlane,
    HealthCheckSpec,
)

ECS03 = "i-ecs03"
ECS04 = "i-ecs04"
GREETING = {ECS03: "Hello World ! This is ECS03.", ECS04: "Hello World ! This is ECS04."}
WHO = {text: instance for instance, text in GREETING.items()}
HEALTHY = BackendHealth("Healthy", None)
# Only the immediate first round runs in the background: 1000 s * 0.05 = 50 s to the next one.
COUNTED = HealthCheckSpec(interval_s=1000.0, healthy_threshold=3, unhealthy_threshold=3)


# -- fixtures and helpers ------------------------------------------------------------------------


@pytest.fixture
def dp() -> Iterator[DataPlane]:
    plane = DataPlane(interval_scale=0.05)
    yield plane
    plane.shutdown()


@pytest.fixture
def web(dp: DataPlane) -> dict[str, int]:
    """ECS03 and ECS04 of the walk-through, each with nginx on port 80."""
    return {instance: dp.add_web_server(instance, 80, text) for instance, text in GREETING.items()}


@pytest.fixture
def stub_http() -> Iterator[tuple[int, list[str]]]:
    """A plain HTTP server whose status depends on the path; records the paths it was asked."""
    paths: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            paths.append(self.path)
            status = {"/ok": 200, "/moved": 302}.get(self.path, 503)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01})
    thread.start()
    yield server.server_address[1], paths
    server.shutdown()
    server.server_close()
    thread.join()


def pair(weight3: int = 100, weight4: int = 100) -> list[BackendSpec]:
    return [BackendSpec(ECS03, 80, weight3), BackendSpec(ECS04, 80, weight4)]


def get(port: int, path: str = "/") -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        response = conn.getresponse()
        assert response.status == 200
        return response.read().decode()
    finally:
        conn.close()


def who(port: int) -> str:
    """Which instance answered a GET through `port`."""
    return WHO[get(port).rstrip("\n")]


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def status_of(dp: DataPlane, listener: str, instance: str, port: int = 80) -> BackendHealth:
    return dp.backend_health(listener)[(instance, port)]


# -- web servers ---------------------------------------------------------------------------------


def test_web_server_answers_its_body_on_any_path_like_nginx(dp, web):
    conn = http.client.HTTPConnection("127.0.0.1", web[ECS03], timeout=5)
    for path in ("/", "/index.html", "/any/thing?x=1"):  # one kept-alive HTTP/1.1 connection
        conn.request("GET", path)
        response = conn.getresponse()
        assert response.status == 200
        assert response.getheader("Content-Type").startswith("text/plain")
        assert response.read() == b"Hello World ! This is ECS03.\n"
    conn.request("HEAD", "/")
    head = conn.getresponse()
    assert (head.status, head.read()) == (200, b"")
    conn.close()
    assert get(web[ECS04]) == "Hello World ! This is ECS04.\n"
    assert web[ECS03] != web[ECS04]


def test_stop_refuses_connections_and_start_serves_again(dp, web):
    kept_alive = http.client.HTTPConnection("127.0.0.1", web[ECS03], timeout=5)
    kept_alive.request("GET", "/")
    assert kept_alive.getresponse().read() == b"Hello World ! This is ECS03.\n"

    dp.stop_web_server(ECS03)
    assert not dp.web_server_running(ECS03)
    assert refused(web[ECS03])
    # A stopped nginx drops its open connections too.
    with pytest.raises((http.client.HTTPException, OSError)):
        kept_alive.request("GET", "/")
        kept_alive.getresponse()
    kept_alive.close()
    assert get(web[ECS04]) == "Hello World ! This is ECS04.\n"  # the other one is untouched

    dp.start_web_server(ECS03)
    assert dp.web_server_running(ECS03)
    assert get(web[ECS03]) == "Hello World ! This is ECS03.\n"  # the same port again


def test_adding_a_web_server_again_updates_it_in_place(dp, web):
    dp.stop_web_server(ECS03)
    port = dp.add_web_server(ECS03, 80, "Hello again.\n")
    assert dp.web_server_running(ECS03)
    assert port == web[ECS03]
    assert get(port) == "Hello again.\n"  # no doubled newline when the body has one


# -- balancing -----------------------------------------------------------------------------------


def test_equal_weights_alternate_evenly(dp, web):
    port = dp.set_listener("lsn-1", pair(), HealthCheckSpec())
    dp.check_now("lsn-1")
    assert dp.backend_health("lsn-1") == {(ECS03, 80): HEALTHY, (ECS04, 80): HEALTHY}
    answers = [who(port) for _ in range(20)]
    assert Counter(answers) == {ECS03: 10, ECS04: 10}
    assert all(a != b for a, b in itertools.pairwise(answers))


@pytest.mark.parametrize(
    ("weights", "pattern"),
    [
        ((100, 0), [ECS03]),
        ((0, 100), [ECS04]),
        ((75, 25), [ECS03, ECS03, ECS04, ECS03]),  # smooth: interleaved, not A A A B
    ],
)
def test_weights_give_a_deterministic_sequence(dp, web, weights, pattern):
    port = dp.set_listener("lsn-1", pair(*weights), HealthCheckSpec())
    dp.check_now("lsn-1")
    # A weight of 0 takes no traffic but is still checked.
    assert dp.backend_health("lsn-1") == {(ECS03, 80): HEALTHY, (ECS04, 80): HEALTHY}
    answers = [who(port) for _ in range(20)]
    assert answers == pattern * (20 // len(pattern))


def test_concurrent_clients_are_balanced_exactly(dp, web):
    port = dp.set_listener("lsn-1", pair(), HealthCheckSpec())
    dp.check_now("lsn-1")
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: who(port), range(200)))
    # Picks happen one connection after another, so even concurrent clients split exactly.
    assert Counter(answers) == {ECS03: 100, ECS04: 100}


def test_relay_carries_a_half_closed_request_and_the_whole_answer(dp, web):
    # Checks off: this is about the relay, and a loaded machine must not fail the only backend.
    port = dp.set_listener("lsn-1", pair(100, 0), HealthCheckSpec(enabled=False))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
        sock.shutdown(socket.SHUT_WR)  # like `curl` over a half-closing netcat
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")  # as nginx answers HTTP/1.0
    assert data.endswith(b"\r\n\r\nHello World ! This is ECS03.\n")


# -- health --------------------------------------------------------------------------------------


def test_first_round_runs_in_the_background_and_rounds_repeat(dp, web):
    dp.set_listener("lsn-1", pair(), HealthCheckSpec())
    # No check_now(): the first round runs at once, and the first success means Healthy.
    wait_for(lambda: status_of(dp, "lsn-1", ECS03) == HEALTHY)
    dp.stop_web_server(ECS03)
    wait_for(lambda: status_of(dp, "lsn-1", ECS03).status == "Unhealthy")
    assert status_of(dp, "lsn-1", ECS03).reason_code == "CONNECT_FAILED"
    assert status_of(dp, "lsn-1", ECS04) == HEALTHY


def test_a_stopped_backend_is_taken_out_and_brought_back(dp, web):
    port = dp.set_listener("lsn-1", pair(), HealthCheckSpec())
    dp.check_now("lsn-1")

    dp.stop_web_server(ECS03)
    dp.check_now("lsn-1")
    dp.check_now("lsn-1")  # unhealthy_threshold = 2
    assert status_of(dp, "lsn-1", ECS03) == BackendHealth("Unhealthy", "CONNECT_FAILED")
    assert status_of(dp, "lsn-1", ECS04) == HEALTHY
    assert [who(port) for _ in range(10)] == [ECS04] * 10

    dp.start_web_server(ECS03)
    dp.check_now("lsn-1")
    dp.check_now("lsn-1")  # healthy_threshold = 2
    assert status_of(dp, "lsn-1", ECS03) == HEALTHY
    assert Counter(who(port) for _ in range(10)) == {ECS03: 5, ECS04: 5}


def test_thresholds_count_consecutive_results(dp, web):
    dp.set_listener("lsn-1", pair(), COUNTED)
    wait_for(lambda: status_of(dp, "lsn-1", ECS03) == HEALTHY)  # the first round: one success

    dp.stop_web_server(ECS03)
    dp.check_now("lsn-1")
    dp.check_now("lsn-1")
    assert status_of(dp, "lsn-1", ECS03) == HEALTHY  # 2 failures < 3
    dp.check_now("lsn-1")
    assert status_of(dp, "lsn-1", ECS03) == BackendHealth("Unhealthy", "CONNECT_FAILED")

    dp.start_web_server(ECS03)
    dp.check_now("lsn-1")
    dp.check_now("lsn-1")
    assert status_of(dp, "lsn-1", ECS03) == BackendHealth("Unhealthy", "CONNECT_FAILED")
    dp.check_now("lsn-1")
    assert status_of(dp, "lsn-1", ECS03) == HEALTHY


def test_a_backend_without_a_web_server_fails_without_any_socket(dp, web, monkeypatch):
    dialled: list[tuple[int, float]] = []
    monkeypatch.setattr(dataplane_module, "_tcp_probe", lambda *a: dialled.append(a) or None)
    backends = [
        BackendSpec("i-nowhere", 80, 100),  # no such instance on the data plane
        BackendSpec(ECS03, 8080, 100),  # ECS03's server stands for port 80, not 8080
    ]
    dp.set_listener("lsn-1", backends, COUNTED)
    dp.check_now("lsn-1")  # with the immediate round: 1 or 2 failures, under the threshold of 3
    assert all(h == BackendHealth("Initial", None) for h in dp.backend_health("lsn-1").values())
    dp.check_now("lsn-1")
    dp.check_now("lsn-1")
    assert dp.backend_health("lsn-1") == {
        ("i-nowhere", 80): BackendHealth("Unhealthy", "CONNECT_FAILED"),
        (ECS03, 8080): BackendHealth("Unhealthy", "CONNECT_FAILED"),
    }
    assert dialled == []


def test_no_healthy_backend_closes_the_client_at_once(dp, web):
    dp.stop_web_server(ECS03)
    port = dp.set_listener("lsn-1", pair(100, 0), HealthCheckSpec())
    dp.check_now("lsn-1")
    dp.check_now("lsn-1")
    assert status_of(dp, "lsn-1", ECS03).status == "Unhealthy"
    # ECS04 is healthy but has weight 0: it never takes traffic.
    assert status_of(dp, "lsn-1", ECS04) == HEALTHY
    # Closed without a byte (a FIN, or a reset), not left hanging until the 5 s timeout.
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as sock,
        contextlib.suppress(ConnectionResetError),
    ):
        assert sock.recv(1024) == b""


def test_http_check_type_gets_the_path(dp, web, monkeypatch):
    asked: list[str] = []
    real_probe = dataplane_module._http_probe

    def spy(port: int, path: str, timeout: float) -> str | None:
        asked.append(path)
        return real_probe(port, path, timeout)

    monkeypatch.setattr(dataplane_module, "_http_probe", spy)
    spec = HealthCheckSpec(check_type="HTTP", http_path="/health")
    port = dp.set_listener("lsn-1", pair(), spec)
    dp.check_now("lsn-1")
    assert dp.backend_health("lsn-1") == {(ECS03, 80): HEALTHY, (ECS04, 80): HEALTHY}
    assert asked and set(asked) == {"/health"}

    dp.stop_web_server(ECS04)
    dp.check_now("lsn-1")
    dp.check_now("lsn-1")
    assert status_of(dp, "lsn-1", ECS04) == BackendHealth("Unhealthy", "CONNECT_FAILED")
    assert {who(port) for _ in range(4)} == {ECS03}


def test_http_probe_accepts_2xx_and_3xx_only(stub_http):
    port, paths = stub_http
    assert dataplane_module._http_probe(port, "/ok", 2.0) is None
    assert dataplane_module._http_probe(port, "/moved", 2.0) is None
    assert dataplane_module._http_probe(port, "/broken", 2.0) == "RESPONSE_MISMATCH"
    assert paths == ["/ok", "/moved", "/broken"]


def test_probes_report_a_refused_connection(dp):
    with socket.socket() as sock:  # a port that was just free and has no listener
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert dataplane_module._tcp_probe(port, 1.0) == "CONNECT_FAILED"
    assert dataplane_module._http_probe(port, "/", 1.0) == "CONNECT_FAILED"


def test_disabled_checks_count_every_backend_healthy(dp, web):
    port = dp.set_listener("lsn-1", pair(), HealthCheckSpec(enabled=False))
    # No round needed, and none runs: both take traffic at once.
    assert dp.backend_health("lsn-1") == {(ECS03, 80): HEALTHY, (ECS04, 80): HEALTHY}
    assert [who(port) for _ in range(4)] == [ECS03, ECS04, ECS03, ECS04]
    dp.stop_web_server(ECS04)
    dp.check_now("lsn-1")
    assert status_of(dp, "lsn-1", ECS04) == HEALTHY


# -- listener lifecycle --------------------------------------------------------------------------


def test_update_keeps_the_port_and_applies_the_new_backends(dp, web):
    port = dp.set_listener("lsn-1", pair(100, 0), COUNTED)
    dp.check_now("lsn-1")
    assert {who(port) for _ in range(4)} == {ECS03}

    again = dp.set_listener("lsn-1", [BackendSpec(ECS04, 80, 100)], COUNTED)
    assert again == port == dp.listener_port("lsn-1")
    dp.check_now("lsn-1")
    assert dp.backend_health("lsn-1") == {(ECS04, 80): HEALTHY}
    assert {who(port) for _ in range(4)} == {ECS04}

    # A backend that stays keeps its state: ECS04 is serving at once, before any new round.
    dp.set_listener("lsn-1", [BackendSpec(ECS04, 80, 100), BackendSpec(ECS03, 80, 100)], COUNTED)
    assert status_of(dp, "lsn-1", ECS04) == HEALTHY
    assert who(port) == ECS04


def test_set_listener_from_many_threads_makes_one_proxy(dp, web):
    with ThreadPoolExecutor(max_workers=8) as pool:
        ports = set(pool.map(lambda _: dp.set_listener("lsn-1", pair(), COUNTED), range(16)))
    assert len(ports) == 1
    assert ports == {dp.listener_port("lsn-1")}


def test_remove_listener_closes_its_port_and_its_connections(dp, web):
    port = dp.set_listener("lsn-1", pair(), HealthCheckSpec(enabled=False))
    idle = socket.create_connection(("127.0.0.1", port), timeout=5)
    # Accepted and relayed, not merely waiting in the backlog (which closing the port resets).
    wait_for(lambda: dp.connection_count("lsn-1") == 1)

    dp.remove_listener("lsn-1")
    assert refused(port)
    assert dp.listener_port("lsn-1") is None
    assert dp.connection_count("lsn-1") is None
    assert dp.backend_health("lsn-1") == {}
    # Cut, as a deleted listener cuts its connections: the relay's shutdown is a FIN, at once
    # (without the abort, the backend would keep the idle connection open for 15 s).
    assert idle.recv(1024) == b""
    idle.close()
    dp.check_now("lsn-1")  # an unknown listener is not an error
    dp.remove_listener("lsn-1")


def test_shutdown_closes_everything_and_is_idempotent():
    plane = DataPlane(interval_scale=0.05)
    ports = [plane.add_web_server(i, 80, text) for i, text in GREETING.items()]
    ports.append(plane.set_listener("lsn-1", pair(), HealthCheckSpec()))
    plane.check_now()
    assert who(ports[-1]) in GREETING

    before = {t.name for t in threading.enumerate()}
    assert any(name.startswith("cloudsim-health-") for name in before)
    plane.shutdown()
    plane.shutdown()
    assert all(refused(port) for port in ports)
    assert not plane.web_server_running(ECS03)
    assert plane.listener_port("lsn-1") is None
    # The proxy and checker threads are gone (joined), not merely abandoned.
    assert not any(
        t.name in ("cloudsim-health-lsn-1", "cloudsim-proxy-lsn-1") for t in threading.enumerate()
    )
    with pytest.raises(RuntimeError):
        plane.set_listener("lsn-2", pair(), HealthCheckSpec())
