"""The sweep benchmark still runs: its short mode fills cloudsim and the database, sweeps twice,
and prints its table (the figures are for people; what is asserted is what must not change:
every request judged, and cloud calls that do not grow with the requests)."""

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def test_the_short_sweep_benchmark_judges_every_request_in_a_few_calls(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(VAR_DIR=str(tmp_path), PYTHONPATH=str(ROOT))

    run = subprocess.run(
        [sys.executable, str(Path(ROOT) / "bench" / "probe_sweep.py"), "--short"],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )  # fmt: skip

    assert run.returncode == 0, run.stderr[-3000:]
    calls = {
        match["what"]: int(match["calls"].replace(",", ""))
        for match in re.finditer(
            r"^(?P<what>bare cloud reads|first sweep|steady sweep)\s+[\d.]+\s+(?P<calls>[\d,]+)\s",
            run.stdout,
            re.M,
        )
    }
    assert set(calls) == {"bare cloud reads", "first sweep", "steady sweep"}, run.stdout
    # 5 accounts × (STS + endpoints and connections, 200 each: 4 pages of 50 + endpoint services
    # + load balancers + listeners + servers) + 10 services × (health + whitelist + resources):
    # not one per request.
    assert calls["first sweep"] == calls["steady sweep"] == calls["bare cloud reads"] == 95
    assert "1,000 probes, 1,000 health changes, 1,000 of 1,000 requests healthy" in run.stdout
