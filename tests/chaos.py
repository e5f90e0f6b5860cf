"""Loaded into the test worker (`--include tests.chaos`): when a test switches it on, the worker
process dies right after each cloud write succeeds, once per write.

That is the worst moment for a redelivery: the cloud has acted, the database has not recorded
it. With `acks_late` and `reject_on_worker_lost` the broker hands the message to a fresh process,
which must finish the job without making anything twice. Switched on by creating the folder
PORTAL_CHAOS_DIR; each write that already crashed once leaves a marker file there.
"""

import hashlib
import json
import os
from pathlib import Path

from connections.cloud.base import ProductApi

READ_PREFIXES = ("Get", "List", "Describe")
_original_call = ProductApi.call


def _crash_once_after_writes(self, action, **params):
    result = _original_call(self, action, **params)
    folder = Path(os.environ.get("PORTAL_CHAOS_DIR", "/nonexistent"))
    if folder.is_dir() and not action.startswith(READ_PREFIXES):
        fingerprint = hashlib.sha256(
            json.dumps([action, params], sort_keys=True, default=str).encode()
        )
        marker = folder / fingerprint.hexdigest()
        try:
            marker.touch(exist_ok=False)
        except FileExistsError:
            return result
        with (folder / "crashes.log").open("a") as log:
            log.write(f"{action}\n")
        os._exit(1)
    return result


ProductApi.call = _crash_once_after_writes
