"""The page benchmark still runs and prints its table (its figures are for people, not asserts)."""

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def test_the_short_page_benchmark_prints_every_page_with_the_same_queries_at_both_sizes(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(VAR_DIR=str(tmp_path), PYTHONPATH=str(ROOT))

    run = subprocess.run(
        [sys.executable, str(Path(ROOT) / "bench" / "pages.py"), "--short", "--rounds", "2"],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip

    assert run.returncode == 0, run.stderr[-2000:]
    rows = {
        match["page"]: (int(match["queries"]), int(match["small"]))
        for match in re.finditer(
            r"^(?P<page>catalog|my requests|approval queue)\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+"
            r"\s+[\d.]+\s+(?P<queries>\d+)\s+(?P<small>\d+)$",
            run.stdout,
            re.M,
        )
    }
    assert set(rows) == {"catalog", "my requests", "approval queue"}, run.stdout
    assert all(full == tenth for full, tenth in rows.values()), rows
    assert "1,000 services, 10,000 requests" in run.stdout
