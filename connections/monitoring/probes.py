"""The data-plane probe: seed step 7 run by a worker. A TCP connect to the endpoint through the
address a client in the consumer's VPC would use, then, on a TCP listener, an HTTP GET whose
answer (the ECS greeting, in the demo) is kept when the service speaks HTTP.

The same function answers the pages' "Test connection", and `probe_many` the health sweep.
"""

from __future__ import annotations

import http.client
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from connections.choices import ListenerProtocol
from connections.cloud import dataplane
from connections.models import ConnectionTest
from connections.models.access import NO_HTTP_ANSWER

CONNECT_TIMEOUT_SECONDS = 3
READ_TIMEOUT_SECONDS = 5
# Probes at once in a sweep: they wait on the network, not on the CPU.
PROBE_THREADS = 32
ANSWER_LIMIT = 500


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    target: str
    latency_ms: float | None = None
    answer: str = ""
    error: str = ""


def probe(host: str, port: int, vpc_id: str, protocol: str) -> ProbeResult:
    """Connect to host:port as a client in `vpc_id` would, and read what answers."""
    try:
        located = dataplane.locate(host, port, vpc_id)
    except dataplane.Unreachable as unreachable:
        located = unreachable
    return _probe_located(host, port, protocol, located)


def probe_many(targets: list[tuple[str, int, str, str]]) -> list[ProbeResult]:
    """`probe` for many (host, port, vpc_id, protocol) at once, in order: their addresses asked
    for in one go, the connections made by a pool of threads (a sweep's thousands). A TCP
    connect only: an NLB listener speaks TCP, not HTTP, and a GET to each of thousands of
    endpoints every sweep would load the providers' services (and costs 4 times as long);
    a person's "Test connection" reads the answer. Raises
    dataplane.Unreachable when the addresses cannot be looked up at all: that says nothing
    about the endpoints."""
    if not targets:
        return []
    located = dataplane.locate_many([(h, p, v) for h, p, v, _protocol in targets])
    with ThreadPoolExecutor(max_workers=PROBE_THREADS, thread_name_prefix="probe") as pool:
        return list(
            pool.map(
                lambda pair: _probe_located(
                    pair[0][0], pair[0][1], pair[0][3], pair[1], read_answer=False
                ),
                zip(targets, located, strict=True),
            )
        )


def _probe_located(
    host: str, port: int, protocol: str, located, *, read_answer: bool = True
) -> ProbeResult:
    target = f"{host}:{port}"
    if isinstance(located, dataplane.Unreachable):
        return ProbeResult(False, target, error=located.message)
    address, loopback_port = located
    if protocol != ListenerProtocol.TCP:
        return ProbeResult(False, target, error=f"A {protocol} listener cannot be probed yet.")
    started = time.monotonic()
    try:
        sock = socket.create_connection((address, loopback_port), timeout=CONNECT_TIMEOUT_SECONDS)
    except OSError as error:
        return ProbeResult(False, target, error=f"TCP connect failed: {error.strerror or error}.")
    latency_ms = (time.monotonic() - started) * 1000
    if not read_answer:
        sock.close()
        return ProbeResult(True, target, latency_ms)
    # The GET goes over the connection just made: one connection per probe, not two.
    return ProbeResult(True, target, latency_ms, answer=_http_answer(sock, host))


def _http_answer(sock: socket.socket, host: str) -> str:
    """The status and start of the body of `GET /` over `sock` (closed after), or a note that
    the service is not HTTP."""
    address, port = sock.getpeername()[:2]
    connection = http.client.HTTPConnection(address, port, timeout=READ_TIMEOUT_SECONDS)
    sock.settimeout(READ_TIMEOUT_SECONDS)
    connection.sock = sock
    try:
        connection.request("GET", "/", headers={"Host": host, "User-Agent": "privatelink-portal"})
        response = connection.getresponse()
        body = response.read(ANSWER_LIMIT).decode("utf-8", errors="replace").strip()
    except (OSError, http.client.HTTPException):
        return NO_HTTP_ANSWER
    finally:
        connection.close()
    return f"HTTP {response.status} {response.reason}: {body}"[:ANSWER_LIMIT]


def run_connection_test(test_id: int) -> str:
    """Run a recorded "Test connection" and store its result (the task's body)."""
    test = ConnectionTest.objects.select_related("access_request__service", "access_request__vpc")
    test = test.filter(pk=test_id, finished_at__isnull=True).first()
    if test is None:
        return "gone or done"
    access_request = test.access_request
    service = access_request.service
    result = probe(
        access_request.endpoint_domain,
        service.listener_port,
        access_request.vpc.vpc_id,
        service.listener_protocol,
    )
    with transaction.atomic():
        ConnectionTest.objects.filter(pk=test.pk).update(
            finished_at=timezone.now(),
            target=result.target,
            ok=result.ok,
            latency_ms=result.latency_ms,
            answer=result.answer,
            error=result.error,
        )
    return "ok" if result.ok else f"failed: {result.error}"
