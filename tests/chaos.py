"""Loaded into the test worker (`--include tests.chaos`): faults and checks around every cloud call
the worker makes, each switched on by a test through a folder or file.

- Crash once after each write (folder PORTAL_CHAOS_DIR exists): the worker process dies right after
  each cloud write succeeds, once per write. That is the worst moment for a redelivery: the cloud
  has acted, the database has not recorded it. With `acks_late` and `reject_on_worker_lost` the
  broker hands the message to a fresh process, which must finish the job without making anything
  twice. Each write that already crashed once leaves a marker file there.
- Crash every time (a file named after the action in PORTAL_CRASH_ON_DIR): the worker process dies
  before each call of that action: a poisoned message, redelivered again and again.
- Always on: a cloud call made inside a database transaction (which holds row locks, and on SQLite
  the whole database's write lock, for as long as the cloud takes) is written to
  PORTAL_LOCKED_CALLS_LOG, for the tests to find.
"""

import hashlib
import json
import os
from pathlib import Path

from django.db import connection

from connections.cloud.base import ProductApi

READ_PREFIXES = ("Get", "List", "Describe")
_original_call = ProductApi.call


def _folder(variable: str) -> Path:
    return Path(os.environ.get(variable, "/nonexistent"))


def _log_if_inside_a_transaction(action: str) -> None:
    if connection.in_atomic_block:
        log = os.environ.get("PORTAL_LOCKED_CALLS_LOG")
        if log:
            with open(log, "a") as out:
                out.write(f"{action}\n")


def _crash_once_after(action: str, params: dict) -> None:
    folder = _folder("PORTAL_CHAOS_DIR")
    if not folder.is_dir() or action.startswith(READ_PREFIXES):
        return
    fingerprint = hashlib.sha256(json.dumps([action, params], sort_keys=True, default=str).encode())
    marker = folder / fingerprint.hexdigest()
    try:
        marker.touch(exist_ok=False)
    except FileExistsError:
        return
    with (folder / "crashes.log").open("a") as log:
        log.write(f"{action}\n")
    os._exit(1)


def _chaotic_call(self, action, **params):
    _log_if_inside_a_transaction(action)
    if (_folder("PORTAL_CRASH_ON_DIR") / action).exists():
        os._exit(1)
    result = _original_call(self, action, **params)
    _crash_once_after(action, params)
    return result


ProductApi.call = _chaotic_call
