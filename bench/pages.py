"""The list pages under load, side by side with the Django admin's change list of the same rows.

With 10,000 services and 100,000 requests (1,000 and 10,000 with --short), each page is asked
for in turn, interleaved with the admin's list of the same model, by a signed-in platform admin
through Django's test client (no network, the same process and database for both):

| page | its admin counterpart |
| --- | --- |
| catalog `/` | `/admin/connections/publishedservice/` |
| my requests `/requests/` | `/admin/connections/accessrequest/` |
| approval queue `/approvals/` | `/admin/connections/accessrequest/?state__exact=pending_approval` |

It prints each page's p50 and p95, the ratio of its p50 to the admin's (target: at most 0.5), and
the queries each page makes at the full size and at a tenth of it (target: the same number).

    .venv/bin/python bench/pages.py            # 10,000 services, 100,000 requests
    .venv/bin/python bench/pages.py --short    # a tenth, for CI

The database is the embedded SQLite under a temporary folder unless DATABASE_URL names another
(PostgreSQL: give an empty database; its tables are made and left behind).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import environment

environment.prepare(
    "pages", DJANGO_SETTINGS_MODULE="tests.settings", API_RATE_USER="", ALLOWED_HOSTS="testserver"
)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from fill import percentile, populate, set_up_people  # noqa: E402

from connections.models import AccessRequest, PublishedService  # noqa: E402

PAGES = [
    ("catalog", "/", "/admin/connections/publishedservice/"),
    ("my requests", "/requests/", "/admin/connections/accessrequest/"),
    (
        "approval queue",
        "/approvals/",
        "/admin/connections/accessrequest/?state__exact=pending_approval",
    ),
]


def timed(client: Client, url: str) -> float:
    started = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, (url, response.status_code)
    return elapsed


def queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return len(captured)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="a tenth of the rows, fewer rounds")
    parser.add_argument("--rounds", type=int, default=None, help="requests per page (default 30)")
    args = parser.parse_args()
    services, requests = (1_000, 10_000) if args.short else (10_000, 100_000)
    rounds = args.rounds or (10 if args.short else 30)

    call_command("migrate", verbosity=0)
    person = set_up_people()
    client = Client()
    client.force_login(person)

    started = time.perf_counter()
    populate(services // 10, requests // 10)
    for _name, page, _admin in PAGES:
        # Once first: a new connection's one-time probes (SQLite's JSON support, read by the
        # catalog's JSON lists) are the process's, not the page's.
        client.get(page)
    small = {name: queries(client, page) for name, page, _admin in PAGES}
    populate(services - services // 10, requests - requests // 10, start=services // 10)
    print(
        f"{PublishedService.objects.count():,} services, {AccessRequest.objects.count():,} "
        f"requests on {connection.vendor}, made in {time.perf_counter() - started:.1f} s; "
        f"{rounds} rounds per page"
    )
    print(f"{'page':<16}{'p50 ms':>9}{'p95 ms':>9}{'admin p50':>11}{'admin p95':>11}"
          f"{'ratio':>8}{'queries':>9}{'at 1/10':>9}")  # fmt: skip
    worst = 0.0
    for name, page, admin in PAGES:
        timed(client, page), timed(client, admin)  # warm caches and connections
        ours, theirs = [], []
        for _ in range(rounds):  # interleaved: both see the same machine at the same moments
            ours.append(timed(client, page))
            theirs.append(timed(client, admin))
        ratio = statistics.median(ours) / statistics.median(theirs)
        worst = max(worst, ratio)
        print(
            f"{name:<16}{statistics.median(ours) * 1000:>9.1f}{percentile(ours, 0.95) * 1000:>9.1f}"
            f"{statistics.median(theirs) * 1000:>11.1f}{percentile(theirs, 0.95) * 1000:>11.1f}"
            f"{ratio:>8.2f}{queries(client, page):>9}{small[name]:>9}"
        )
    print(f"worst ratio {worst:.2f} (target at most 0.5)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
