"""The REST API's lists against bare views of their rows, served by one gunicorn in one run.

gunicorn (2 sync workers, production settings, DEBUG off) serves the portal and, beside it, bare
views (bench/lists_site_urls.py): plain Django views answering a JsonResponse, with no
authentication, throttling or serializer. Clients on keep-alive connections ask, interleaved:

| list | against | its bare counterpart |
| --- | --- | --- |
| `GET /api/v1/services/` | same rows | `/bench/bare/service-rows/?as=<who>` |
| `GET /api/v1/services/` | columns | `/bench/bare/services/` |
| `GET /api/v1/access-requests/` | same rows | `/bench/bare/access-request-rows/?as=<who>` |
| `GET /api/v1/access-requests/` | columns | `/bench/bare/access-requests/` |
| `GET /api/v1/events/` | columns | `/bench/bare/events/` |

"same rows": every field and link the API answers that person (services: zones, trusted teams,
labels; the backends, VPC and owners' links for the admin; requests: service, teams, requester,
VPC, account, zones, security groups, labels, links), as a plain view would build them: the
page, then its related rows one query each (tests/bench/test_list_yardsticks.py checks the two
answer equal JSON). This is the yardstick of the targets (at least 0.5). "columns": the
page's own columns and its owning team in one query, no related rows: a floor that answers less
than the API does. The bare views write dates as strings themselves, so JsonResponse's encoder
never calls back into Python.

It prints each list's requests per second and p50 beside its bare view's and the ratio, as a
platform admin (sees every row) and as a team member, first with 1,000 services and 10,000
requests and then with 100,000 requests, and each list's p50 at 100,000 over its p50 at 10,000
(target for access-requests: at most 1.2): as measured ("÷"), and divided by the bare view's
own growth measured beside it ("÷ by bare"). The two sizes are measured a while apart, and a
shared machine's speed moves in between; the bare views read their 50 rows down an index, so
their p50 stays put as rows are added and stands for the machine's speed.

    .venv/bin/python bench/api_lists.py            # 10,000 then 100,000 requests
    .venv/bin/python bench/api_lists.py --short    # 1,000 then 10,000, fewer rounds (CI)

The database is SQLite under a temporary folder unless DATABASE_URL names another (PostgreSQL:
give an empty database; its tables are made and left behind).
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import time

import environment

VAR = environment.prepare(
    "lists",
    DJANGO_SETTINGS_MODULE="bench.lists_site",
    ALLOWED_HOSTS="127.0.0.1",
    SECURE_SSL_REDIRECT="false",
    DEBUG="false",
    # The benchmark asks far faster than a person: no rate limit may answer for the portal.
    API_RATE_USER="",
)
ROOT = environment.ROOT

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from fill import percentile, populate, set_up_people  # noqa: E402
from processes import free_port  # noqa: E402

from connections.api.tokens import issue_token  # noqa: E402
from connections.choices import Role  # noqa: E402
from connections.models import AccessRequest, Event, Membership, Team  # noqa: E402

# (list, yardstick, the API's path, its bare view's: `{who}` is the person measuring)
LISTS = [
    ("services", "same rows", "/api/v1/services/", "/bench/bare/service-rows/?as={who}"),
    ("services", "columns", "/api/v1/services/", "/bench/bare/services/"),
    (
        "access-requests",
        "same rows",
        "/api/v1/access-requests/",
        "/bench/bare/access-request-rows/?as={who}",
    ),
    ("access-requests", "columns", "/api/v1/access-requests/", "/bench/bare/access-requests/"),
    ("events", "columns", "/api/v1/events/", "/bench/bare/events/"),
]


class Gunicorn:
    def __init__(self):
        self.port = free_port()
        self.log = VAR / "gunicorn.log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}",
             "--workers", "2", "--worker-class", "sync", "--keep-alive", "30",
             "--log-level", "warning", "bench.lists_site_wsgi:application"],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=self.log.open("w"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log = self.log.read_text()[-2000:]
                    raise SystemExit(f"gunicorn did not start:\n{log}") from None
                time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def timed_get(conn: http.client.HTTPConnection, path: str, token: str | None) -> float:
    headers = {"Authorization": f"Token {token}"} if token else {}
    started = time.perf_counter()
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - started
    if response.status != 200:
        raise SystemExit(f"{path}: HTTP {response.status}: {body[:300]!r}")
    return elapsed


def compare(port: int, path: str, bare: str, token: str, rounds: int) -> dict:
    """Interleaved on one keep-alive connection each: both see the same machine moments."""
    ours_conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    bare_conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for _ in range(3):  # warm both gunicorn workers' caches and connections
        timed_get(ours_conn, path, token), timed_get(bare_conn, bare, None)
    ours, theirs = [], []
    for _ in range(rounds):
        ours.append(timed_get(ours_conn, path, token))
        theirs.append(timed_get(bare_conn, bare, None))
    ours_conn.close(), bare_conn.close()
    return {
        "p50": statistics.median(ours),
        "p95": percentile(ours, 0.95),
        "bare_p50": statistics.median(theirs),
        # Requests per second of one client in a row: the inverse of the mean time.
        "rps": len(ours) / sum(ours),
        "bare_rps": len(theirs) / sum(theirs),
    }


def people() -> dict[str, str]:
    """Tokens of a platform admin (every row) and of a member of one team of ten."""
    admin = set_up_people()
    member = type(admin).objects.create_user("member")
    Membership.objects.create(team=Team.objects.get(slug="apps"), user=member, role=Role.MEMBER)
    return {"admin": issue_token(admin)[1], "member": issue_token(member)[1]}


def events_for_requests() -> None:
    """An event per request, as its first step writes one, for the events list."""
    have = set(Event.objects.values_list("access_request_id", flat=True))
    Event.objects.bulk_create(
        (
            Event(access_request_id=pk, verb="requested", to_state="submitted")
            for pk in AccessRequest.objects.values_list("pk", flat=True)
            if pk not in have
        ),
        batch_size=5000,
    )


def analyze() -> None:
    """Fresh planner statistics after a bulk load, as autovacuum would gather them soon after."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def measure(port: int, tokens: dict[str, str], rounds: int) -> dict:
    return {
        (who, name, against): compare(port, path, bare.format(who=who), token, rounds)
        for who, token in tokens.items()
        for name, against, path, bare in LISTS
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="a tenth of the rows, fewer rounds")
    args = parser.parse_args()
    services, requests = (100, 10_000) if args.short else (1_000, 100_000)
    rounds = 20 if args.short else 60

    call_command("migrate", verbosity=0)
    tokens = people()
    populate(services, requests // 10)
    events_for_requests()
    analyze()
    server = Gunicorn()
    try:
        small = measure(server.port, tokens, rounds)
        populate(0, requests - requests // 10, first_request=requests // 10)
        events_for_requests()
        analyze()
        large = measure(server.port, tokens, rounds)
    finally:
        server.stop()

    print(
        f"{services:,} services; {requests // 10:,} then {requests:,} requests "
        f"({connection.vendor}); {rounds} rounds each, gunicorn with 2 sync workers"
    )
    print(
        f"{'as':<7}{'list':<17}{'against':<10}{'req/s':>7}{'bare':>6}{'ratio':>7}"
        f"{'p50 ms':>8}{'bare':>6}{'p95':>6}{'at 10× rows':>13}{'bare':>6}{'÷':>6}{'÷ by bare':>11}"
    )
    for (who, name, against), figures in large.items():
        before = small[(who, name, against)]
        growth = figures["p50"] / before["p50"]
        bare_growth = figures["bare_p50"] / before["bare_p50"]
        print(
            f"{who:<7}{name:<17}{against:<10}{figures['rps']:>7.0f}{figures['bare_rps']:>6.0f}"
            f"{figures['rps'] / figures['bare_rps']:>7.2f}{before['p50'] * 1000:>8.1f}"
            f"{before['bare_p50'] * 1000:>6.1f}{before['p95'] * 1000:>6.1f}"
            f"{figures['p50'] * 1000:>13.1f}{figures['bare_p50'] * 1000:>6.1f}"
            f"{growth:>6.2f}{growth / bare_growth:>11.2f}"
        )


if __name__ == "__main__":
    main()
