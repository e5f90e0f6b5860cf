"""The embedded cache (no Redis): Django's file-based cache, made fit for counting.

Web, worker and beat share it through one folder. Django's own `incr` reads a value and writes
it back, so two processes counting at once lose a count, and it gives the count a new lifetime;
its `add` looks, then writes. The rate-limit pacing (connections/cloud/pacing.py) counts cloud
calls with them: here they hold a lock file while they do, and a count keeps its lifetime, as
Redis's INCR does. Django also culls a random third of the entries once there are MAX_ENTRIES,
live counts and all: here expired entries go first.
"""

from __future__ import annotations

import os
import pickle
import time
from contextlib import contextmanager

from django.core.cache.backends import filebased
from django.core.files import locks


class FileBasedCache(filebased.FileBasedCache):
    @contextmanager
    def _counting(self):
        self._createdir()
        with open(os.path.join(self._dir, "counting.lock"), "a+b") as lock:
            locks.lock(lock, locks.LOCK_EX)
            try:
                yield
            finally:
                locks.unlock(lock)

    def add(self, key, value, timeout=filebased.DEFAULT_TIMEOUT, version=None):
        with self._counting():
            return super().add(key, value, timeout, version)

    def incr(self, key, delta=1, version=None):
        with self._counting():
            fname = self._key_to_file(key, version)
            try:
                with open(fname, "rb") as entry:
                    expiry = pickle.load(entry)  # noqa: S301 - its own file, as get() reads it
            except (FileNotFoundError, EOFError):
                expiry = 0
            value = self.get(key, self._missing_key, version)
            if value is self._missing_key:
                raise ValueError(f"Key {key!r} not found")
            remaining = None if expiry is None else max(expiry - time.time(), 0.001)
            self.set(key, value + delta, remaining, version)
            return value + delta

    def _cull(self):
        if len(self._list_cache_files()) < self._max_entries:
            return
        for fname in self._list_cache_files():
            try:
                with open(fname, "rb") as entry:
                    self._is_expired(entry)  # which deletes an expired entry
            except FileNotFoundError:
                pass  # another process removed it meanwhile
        super()._cull()
