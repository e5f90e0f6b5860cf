"""The end-to-end and API-list benchmarks still run in their short modes and print every row
(their figures are for people and bench/RESULTS.md, not asserts: timings move on a shared
machine); what must not change is asserted: every request reaches its state, every list
answers."""

import os
import re
import subprocess
import sys
from pathlib import Path

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


def test_the_short_end_to_end_benchmark_reaches_every_state_and_prints_each_ratio(tmp_path):
    out = run_bench("end_to_end.py", tmp_path)
    rows = re.findall(r"^(.+?)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", out, re.M)
    labels = [label.strip() for label, *_ in rows]
    assert labels == [
        "seed publish → available (first time)",
        "1 request → pending approval (first time)",
        "approve → connected (first time)",
        "seed publish → available (known)",
        "1 request → pending approval (known)",
        "approve → connected (known)",
        "12 at once, 1 worker, the slowest",
    ], out
    # The portal can never beat the cloud's own time.
    assert all(float(portal) >= float(cloud) for _, portal, cloud, _ratio in rows), out


def test_the_short_list_benchmark_measures_every_list_for_both_people(tmp_path):
    out = run_bench("api_lists.py", tmp_path)
    rows = re.findall(r"^(admin|member)\s+(services|access-requests|events)\s", out, re.M)
    assert len(rows) == 6, out
