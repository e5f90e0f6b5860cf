"""The end-to-end, API-list and soak benchmarks still run in their short modes and print every
row (their figures are for people and bench/RESULTS.md, not asserts: timings move on a shared
machine); what must not change is asserted: every request reaches its state, every list
answers, every check of the soak holds."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def run_bench(name: str, tmp_path) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(VAR_DIR=str(tmp_path), PYTHONPATH=str(ROOT))
    env.pop("DJANGO_SETTINGS_MODULE", None)
    run = subprocess.run(
        [sys.executable, str(Path(ROOT) / "bench" / name), "--short"],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    return run.stdout


@pytest.fixture(scope="module")
def end_to_end(tmp_path_factory) -> str:
    """One run of the short end-to-end benchmark, read by the tests below."""
    return run_bench("end_to_end.py", tmp_path_factory.mktemp("end-to-end"))


def test_the_short_end_to_end_benchmark_reaches_every_state_and_prints_each_ratio(end_to_end):
    out = end_to_end
    rows = re.findall(r"^(.+?)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$", out, re.M)
    labels = [label.strip() for label, *_ in rows]
    assert labels == [
        "seed publish → available (first time)",
        "1 request → pending approval (first time)",
        "approve → connected (first time)",
        "seed publish → available (known)",
        "1 request → pending approval (known)",
        "approve → connected (known)",
        "12 at once, the slowest",
        "12 at once, the median",
        "50 at once, the slowest",
        "50 at once, the median",
    ], out
    # The portal can never beat the cloud's own time.
    assert all(float(portal) >= float(cloud) for _, portal, cloud, _ratio in rows), out
    cpu = re.findall(r"^(12|50) at once: ([\d.]+) \(web ([\d.]+), worker ([\d.]+)", out, re.M)
    assert [count for count, *_ in cpu] == ["12", "50"], out
    assert all(float(total) > 0 and float(worker) > 0 for _, total, _web, worker in cpu), out


def test_fifty_requests_waiting_in_one_account_are_read_with_shared_list_calls(end_to_end):
    """While they wait, the requests' reads are answered by shared listings of the endpoints
    still being made (workflows/listings.py): fewer list calls than reads; each endpoint is read on
    its own once, when it is no longer among them."""
    out = end_to_end
    found = re.search(
        r"^50 at once: (\d+) reads, (\d+) GetVpcEndpointAttribute, (\d+) ListVpcEndpoints",
        out,
        re.M,
    )
    assert found, out
    reads, gets, lists = map(int, found.groups())
    assert reads >= 50, out  # each of them waited at least once
    assert gets == 50, out
    assert 0 < lists < reads, out


def test_the_portal_keeps_within_every_documented_rate_limit(end_to_end):
    """The cloud refused no call for its rate, and no account went over any operation's limit."""
    out = end_to_end
    assert re.search(r"^calls the cloud refused for the rate \(Throttling.User\): 0$", out, re.M)
    verdicts = re.findall(r"limit \d+/\d+s: (within|OVER)$", out, re.M)
    assert "privatelink:CreateVpcEndpoint" in out, out
    assert verdicts and set(verdicts) == {"within"}, out


def test_the_short_list_benchmark_measures_every_list_for_both_people(tmp_path):
    out = run_bench("api_lists.py", tmp_path)
    rows = re.findall(
        r"^(admin|member)\s+(services|access-requests|events)\s+(same rows|columns)\s", out, re.M
    )
    assert sorted(set(rows)) == sorted(
        (who, *measured)
        for who in ("admin", "member")
        for measured in (
            ("services", "same rows"),
            ("services", "columns"),
            ("access-requests", "same rows"),
            ("access-requests", "columns"),
            ("events", "columns"),
        )
    ), out
    assert len(rows) == 10, out


def test_the_short_soak_holds_on_the_embedded_defaults(tmp_path):
    """20 requests through cloud faults and a killed worker (bench/soak.py exits 1 when any of
    its checks fails: run_bench asserts it did not)."""
    out = run_bench("soak.py", tmp_path)
    assert "soak: 20 requests" in out, out
    assert "FAIL" not in out, out
