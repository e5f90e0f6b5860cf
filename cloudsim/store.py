"""The emulator's state: resources, lazy status transitions, idempotency tokens, statistics.

Everything lives in one JSON-shaped dict guarded by one re-entrant lock, so a call sees and
changes a consistent world and the whole of it can be written to `--state FILE` as it is.

With `--state FILE`, a background flusher writes the state at most every `save_interval` seconds
while it is dirty, and once more on stop: a write only marks the state dirty, so no call waits for
the disk and the lock is held only to serialise a snapshot. ClientToken records, finished NLB jobs
and expired STS sessions are forgotten `retention` seconds (24 h) of emulator time after they were
made, finished or expired, so a long-running emulator's state does not grow without bound.

Asynchronous operations do not run threads. A resource carries its pending transitions as
`[due, seq, effect, argument]` entries; `advance()`, called before every read, applies those that
are due, in (due, seq) order. A delay of 0 therefore means "the next call sees the final state",
`fast_forward()` skips every remaining delay, and a restart resumes the transitions where they
were, since the due times are on the (persisted) emulator clock.
"""

from __future__ import annotations

import collections
import copy
import hashlib
import ipaddress
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cloudsim.errors import ApiError
from cloudsim.metadata import quota
from cloudsim.scenario import Account, Scenario

logger = logging.getLogger(__name__)

Record = dict[str, Any]
Effect = Callable[["Store", Record, Any], None]

EFFECTS: dict[str, Effect] = {}
STATE_VERSION = 1
# How long ClientTokens, finished jobs and expired STS sessions are remembered (emulator time).
RETENTION_S = 24 * 3600.0
# How often (emulator time) advance() looks for what has outlived the retention.
PRUNE_EVERY_S = 60.0
# The flusher writes a dirty state at most this often (seconds).
SAVE_INTERVAL_S = 0.5
# Parameters that change on every retry of the same request: not part of a ClientToken's digest.
_NOISE = frozenset(
    {
        "AccessKeyId",
        "Action",
        "ClientToken",
        "Format",
        "SecurityToken",
        "Signature",
        "SignatureMethod",
        "SignatureNonce",
        "SignatureType",
        "SignatureVersion",
        "Timestamp",
        "Version",
    }
)


def effect(name: str) -> Callable[[Effect], Effect]:
    """Register a transition effect under a name (names, unlike functions, can be persisted)."""

    def register(function: Effect) -> Effect:
        EFFECTS[name] = function
        return function

    return register


@effect("set")
def _set_fields(store: Store, record: Record, fields: dict[str, Any]) -> None:
    record.update(fields)


@effect("delete")
def _delete(store: Store, record: Record, _: Any) -> None:
    store.delete(record["_kind"], record["_id"])


class StateError(RuntimeError):
    """A --state file that cannot be loaded."""


class StoreLock:
    """The store's re-entrant lock, and work put off until its outermost holder lets go.

    Closing a listener's proxy joins its threads, which can take a second; done under the lock it
    would stall every API call meanwhile. Such work is handed to `after_release()` and runs in
    the releasing thread once the lock is free (so still before that call answers).
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._depth = 0  # only the owning thread changes it, while it holds _lock
        self._owner: int | None = None
        self._deferred: list[Callable[[], None]] = []

    def __enter__(self) -> StoreLock:
        self._lock.acquire()
        self._depth += 1
        self._owner = threading.get_ident()
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        deferred: list[Callable[[], None]] = []
        if self._depth == 0:
            self._owner = None
            deferred, self._deferred = self._deferred, []
        self._lock.release()
        for action in deferred:
            try:
                action()
            except Exception:
                logger.exception("work deferred until the store lock was released failed")

    def held(self) -> bool:
        """Whether the calling thread holds the lock."""
        return self._owner == threading.get_ident()

    def after_release(self, action: Callable[[], None]) -> None:
        """Run `action` once the calling thread has released the lock (now if it holds none)."""
        if self.held():
            self._deferred.append(action)
        else:
            action()


def params_digest(raw: dict[str, str]) -> str:
    """What identifies a request's parameters for ClientToken checks (signing noise left out)."""
    pairs = sorted((key, value) for key, value in raw.items() if key not in _NOISE)
    return hashlib.sha256(json.dumps(pairs).encode()).hexdigest()


class Store:
    """Thread-safe state of one emulator. Callers hold `lock` around a whole API call."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        delay_scale: float = 1.0,
        state_file: str | Path | None = None,
        clock: Callable[[], float] = time.time,
        retention: float = RETENTION_S,
        save_interval: float = SAVE_INTERVAL_S,
    ) -> None:
        self.lock = StoreLock()
        self.scenario = scenario
        self.delay_scale = delay_scale
        self.state_file = Path(state_file) if state_file else None
        self.retention = retention
        self.save_interval = save_interval
        self.network: Any = None  # the data-plane bridge, attached by the server
        self._clock = clock
        self.dirty = False
        # One save at a time, so an older snapshot can never replace a newer one on disk.
        self._save_lock = threading.Lock()
        self._flusher: threading.Thread | None = None
        self._stop_flusher = threading.Event()
        self._next_prune = 0.0
        self._expiring: set[tuple[str, str]] = set()
        self.data: dict[str, Any] = {}
        self._owned: dict[tuple[str, str], dict[str, Record]] = {}
        self._pending: set[tuple[str, str]] = set()
        self._used_ips: dict[str, set[str]] = {}
        self._ip_cursor: dict[str, int] = {}
        self._effect_time: float | None = None
        # Calls of each (account, product, action) in the last minute, and the most seen in 1 s
        # and in 60 s.
        self._recent: dict[tuple[str, str, str], collections.deque] = {}
        self._peaks: dict[tuple[str, str, str], list[int]] = {}
        if self.state_file is not None and self.state_file.exists():
            self.load()
        else:
            self.reset()

    # -- lifecycle ------------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the scenario: its networks and instances, nothing created, empty statistics."""
        with self.lock:
            self.data = {
                "version": STATE_VERSION,
                "scenario": self.scenario.source,
                "clock_offset": 0.0,
                "seq": 0,
                "resources": {},
                "tokens": {},
                "sessions": {},
                "stats": {"calls": {}, "calls_by_product": {}, "created": {}, "errors": {}},
            }
            self._recent, self._peaks = {}, {}
            self._add_account_state(self.data)
            self._reindex()
            for account in self.scenario.accounts:
                self._seed_account(account)
            self.dirty = True

    def _add_account_state(self, data: dict[str, Any]) -> None:
        """What an account's settings are now (they start as the scenario says; calls change
        them), and the RAM policies given at run time. A state file written before these
        existed gets the scenario's."""
        accounts = data.setdefault("accounts", {})
        for account in self.scenario.accounts:
            accounts.setdefault(
                account.uid,
                {
                    "privatelink_activated": account.privatelink_activated,
                    "service_linked_roles": list(account.service_linked_roles),
                },
            )
        data.setdefault("policies", {})
        # Which products each zone offers (the scenario's, changed through the control API).
        zones = data.setdefault("zones", {})
        for zone in self.scenario.zones:
            zones.setdefault(zone.id, list(zone.products))
        data.setdefault("delays", {})
        data.setdefault("busy", {})

    def _seed_account(self, account: Account) -> None:
        uid = account.uid
        for vpc in account.vpcs:
            self._put(
                "vpc",
                vpc.id,
                uid,
                {
                    "VpcId": vpc.id,
                    "VpcName": vpc.name,
                    "CidrBlock": vpc.cidr,
                    "VSwitchIds": [v.id for v in vpc.vswitches],
                    "Tags": dict(vpc.tags),
                },
            )
            for vsw in vpc.vswitches:
                self._put(
                    "vswitch",
                    vsw.id,
                    uid,
                    {
                        "VSwitchId": vsw.id,
                        "VSwitchName": vsw.name,
                        "VpcId": vpc.id,
                        "ZoneId": vsw.zone,
                        "CidrBlock": vsw.cidr,
                    },
                )
            for group in vpc.security_groups:
                self._put(
                    "securitygroup",
                    group.id,
                    uid,
                    {
                        "SecurityGroupId": group.id,
                        "SecurityGroupName": group.name,
                        "Description": group.description,
                        "VpcId": vpc.id,
                    },
                )
            for instance in vpc.instances:
                self._put(
                    "instance",
                    instance.id,
                    uid,
                    {
                        "InstanceId": instance.id,
                        "InstanceName": instance.name,
                        "InstanceType": instance.instance_type,
                        "VpcId": vpc.id,
                        "VSwitchId": instance.vswitch_id,
                        "ZoneId": instance.zone,
                        "PrivateIpAddress": instance.ip,
                        "SecurityGroupIds": list(instance.security_group_ids),
                        "Status": "Running",
                        "_web": (
                            {"port": instance.web.port, "body": instance.web.body}
                            if instance.web
                            else None
                        ),
                        "_web_running": instance.web is not None,
                        "_ips": [[instance.vswitch_id, instance.ip]],
                    },
                )

    def _reindex(self) -> None:
        self._owned = {}
        self._pending = set()
        self._used_ips = {}
        self._ip_cursor = {}
        self._expiring = set()
        self._next_prune = 0.0
        for kind, records in self.data["resources"].items():
            for rid, record in records.items():
                self._index(kind, rid, record)

    def _index(self, kind: str, rid: str, record: Record) -> None:
        self._owned.setdefault((kind, record["_owner"]), {})[rid] = record
        if record.get("_pending"):
            self._pending.add((kind, rid))
        if "_expires" in record:
            self._expiring.add((kind, rid))
        for vsw, ip in record.get("_ips", ()):
            self._used_ips.setdefault(vsw, set()).add(ip)

    # -- persistence ----------------------------------------------------------------------------

    def save(self) -> None:
        """Write the state atomically (a crash leaves the previous file, never half of one).

        Called without the store lock: the lock is taken only to serialise a snapshot, and the
        file is written after it is released.
        """
        if self.state_file is None:
            self.dirty = False
            return
        if self.lock.held():
            raise RuntimeError("Store.save() must not be called with the store lock held")
        with self._save_lock:
            with self.lock:
                text = json.dumps(self.data, separators=(",", ":"))
                self.dirty = False
            try:
                self._write(text)
            except BaseException:
                self.dirty = True  # the next flush tries again
                raise

    def _write(self, text: str) -> None:
        assert self.state_file is not None
        directory = self.state_file.parent
        directory.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".cloudsim-", dir=directory)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(temporary, self.state_file)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def save_if_dirty(self) -> None:
        if self.dirty and self.state_file is not None:
            self.save()

    def start_flusher(self) -> None:
        """With a state file: write the state in the background whenever it is dirty."""
        if self.state_file is None or self._flusher is not None:
            return
        self._stop_flusher.clear()
        self._flusher = threading.Thread(target=self._flush, name="cloudsim-flusher", daemon=True)
        self._flusher.start()

    def _flush(self) -> None:
        while not self._stop_flusher.wait(self.save_interval):
            try:
                self.save_if_dirty()
            except Exception:
                logger.exception("cannot write the state to %s", self.state_file)

    def close(self) -> None:
        """Stop the flusher and write what is still unsaved."""
        flusher, self._flusher = self._flusher, None
        if flusher is not None:
            self._stop_flusher.set()
            flusher.join()
        self.save_if_dirty()

    def load(self) -> None:
        assert self.state_file is not None
        try:
            data = json.loads(self.state_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StateError(f"{self.state_file}: cannot load the state: {exc}") from None
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
            raise StateError(f"{self.state_file}: not a cloudsim state file of this version")
        with self.lock:
            self.data = data
            now = self.now()
            for key, entry in list(data["tokens"].items()):
                if not (isinstance(entry, dict) and "digest" in entry and "body" in entry):
                    # A file written before tokens carried their digest: replay it whatever
                    # the parameters, and forget it after the retention.
                    data["tokens"][key] = {"body": entry, "digest": None, "at": now}
            self._add_account_state(data)
            self._reindex()
            self.dirty = False

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self.data)

    # -- clock ----------------------------------------------------------------------------------

    def now(self) -> float:
        return self._clock() + self.data["clock_offset"]

    def advance_clock(self, seconds: float) -> None:
        with self.lock:
            self.data["clock_offset"] += seconds
            self.dirty = True

    def iso(self, moment: float | None = None) -> str:
        moment = self.now() if moment is None else moment
        return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def delay(self, operation: str) -> float:
        """Seconds `operation` takes: a time given at run time (the control API's
        `/_sim/delays`, real seconds), else the scenario's times the delay scale."""
        given = self.data["delays"].get(operation)
        if given is not None:
            return float(given)
        return self.scenario.delay(operation) * self.delay_scale

    # -- calls that may not overlap ---------------------------------------------------------------

    def claim(self, scope: str, seconds: float) -> bool:
        """Hold `scope` (e.g. one account's connection acceptances) for `seconds` of emulator
        time; False, holding nothing, while an earlier claim still holds it. A claim of 0
        seconds holds nothing but still finds an earlier one."""
        busy = self.data["busy"]
        now = self.now()
        if busy.get(scope, 0.0) > now:
            return False
        if seconds > 0:
            busy[scope] = now + seconds
        else:
            busy.pop(scope, None)
        return True

    def release(self, scope: str) -> None:
        self.data["busy"].pop(scope, None)

    # -- read after create ------------------------------------------------------------------------

    def hide_until_consistent(self, record: Record) -> None:
        """A resource just created is not found by reads for the ReadAfterCreate delay, as the
        cloud's eventually consistent reads do right after a create."""
        lag = self.delay("ReadAfterCreate")
        if lag > 0:
            record["_visible_at"] = self.now() + lag

    def visible(self, record: Record) -> bool:
        return record.get("_visible_at", 0.0) <= self.now()

    # -- resources ------------------------------------------------------------------------------

    def get(self, kind: str, rid: str | None, owner: str | None = None) -> Record | None:
        if rid is None:
            return None
        record = self.data["resources"].get(kind, {}).get(rid)
        if record is None or (owner is not None and record["_owner"] != owner):
            return None
        return record

    def owned(self, kind: str, owner: str) -> list[Record]:
        return list(self._owned.get((kind, owner), {}).values())

    def all(self, kind: str) -> list[Record]:
        return list(self.data["resources"].get(kind, {}).values())

    def create(self, kind: str, rid: str, owner: str, record: Record) -> Record:
        """Add a resource made through the API (counted in /_sim/stats)."""
        created = self.data["stats"]["created"]
        created[kind] = created.get(kind, 0) + 1
        return self._put(kind, rid, owner, record)

    def _put(self, kind: str, rid: str, owner: str, record: Record) -> Record:
        record["_kind"] = kind
        record["_id"] = rid
        record["_owner"] = owner
        self.data["resources"].setdefault(kind, {})[rid] = record
        self._index(kind, rid, record)
        self.dirty = True
        return record

    def delete(self, kind: str, rid: str) -> None:
        record = self.data["resources"].get(kind, {}).pop(rid, None)
        if record is None:
            return
        self._owned.get((kind, record["_owner"]), {}).pop(rid, None)
        self._pending.discard((kind, rid))
        self._expiring.discard((kind, rid))
        for vsw, ip in record.get("_ips", ()):
            self._used_ips.get(vsw, set()).discard(ip)
        self.dirty = True

    def next_seq(self) -> int:
        self.data["seq"] += 1
        return self.data["seq"]

    # -- addresses ------------------------------------------------------------------------------

    def allocate_ip(self, record: Record, vswitch: Record, wanted: str | None = None) -> str | None:
        """A free host address of the vSwitch, recorded on `record` (None when it is full).

        Like the cloud, the first and the last three addresses of a vSwitch are reserved.
        """
        network = ipaddress.ip_network(vswitch["CidrBlock"])
        used = self._used_ips.setdefault(vswitch["VSwitchId"], set())
        first = int(network.network_address) + 1
        last = int(network.broadcast_address) - 3
        if wanted is not None:
            # Handlers pass a validated address (params.to_ipv4); a reserved one is not free.
            address = ipaddress.ip_address(wanted)
            if address.version != network.version or not first <= int(address) <= last:
                return None
            choice = str(address)
            if choice in used:
                return None
        else:
            # A cursor per vSwitch keeps allocation cheap when thousands of addresses are taken.
            size = last - first + 1
            start = self._ip_cursor.get(vswitch["VSwitchId"], first)
            choice = None
            for step in range(max(size, 0)):
                number = first + (start - first + step) % size
                candidate = str(ipaddress.ip_address(number))
                if candidate not in used:
                    choice = candidate
                    self._ip_cursor[vswitch["VSwitchId"]] = number + 1
                    break
            if choice is None:
                return None
        used.add(choice)
        record.setdefault("_ips", []).append([vswitch["VSwitchId"], choice])
        return choice

    def release_all_ips(self, record: Record) -> None:
        for vsw, ip in record.pop("_ips", []):
            self._used_ips.get(vsw, set()).discard(ip)

    def release_ip(self, record: Record, vswitch_id: str, address: str) -> None:
        """Give back one address of `record` (a zone removed from an endpoint)."""
        record["_ips"] = [pair for pair in record.get("_ips", []) if pair != [vswitch_id, address]]
        self._used_ips.get(vswitch_id, set()).discard(address)

    def used_ip_count(self, vswitch_id: str) -> int:
        return len(self._used_ips.get(vswitch_id, ()))

    # -- transitions ----------------------------------------------------------------------------

    def schedule(self, record: Record, steps: Iterable[tuple[float, str, Any]]) -> None:
        """Queue effects on `record`; each step's delay counts from the step before it.

        Inside an effect, delays count from that effect's due time, not from the wall clock, so a
        chain of zero delays completes within one `advance()` and a chain's timing does not
        depend on when somebody happened to read the state.
        """
        due = self._effect_time if self._effect_time is not None else self.now()
        pending = record.setdefault("_pending", [])
        if pending:
            due = max(due, max(entry[0] for entry in pending))
        for delay, name, argument in steps:
            due += max(delay, 0.0)
            pending.append([due, self.next_seq(), name, argument])
        self._pending.add((record["_kind"], record["_id"]))
        self.dirty = True

    def cancel(self, record: Record) -> None:
        """Drop the record's pending transitions (an operation overtook them)."""
        record["_pending"] = []
        self._pending.discard((record["_kind"], record["_id"]))

    def advance(self, until: float | None = None) -> int:
        """Apply the transitions due by `until` (default: now); returns how many were applied.

        Also forgets, now and then, what has outlived the retention (see `prune`).
        """
        with self.lock:
            now = self.now()
            if now >= self._next_prune:
                self.prune(now)
            if not self._pending:
                return 0
            limit = now if until is None else until
            applied = 0
            # Effects may queue more effects that are already due (a zero delay): loop until quiet.
            for _ in range(1000):
                due = []
                for key in list(self._pending):
                    record = self.get(*key)
                    if record is None or not record.get("_pending"):
                        self._pending.discard(key)
                        continue
                    for entry in record["_pending"]:
                        if entry[0] <= limit:
                            due.append((entry[0], entry[1], record, entry))
                if not due:
                    break
                due.sort(key=lambda item: (item[0], item[1]))
                for _, _, record, entry in due:
                    pending = record.get("_pending", [])
                    if not any(e is entry for e in pending):
                        continue  # cancelled by an earlier effect in this round
                    pending.remove(entry)
                    if not pending:
                        self._pending.discard((record["_kind"], record["_id"]))
                    self._effect_time = entry[0]
                    try:
                        EFFECTS[entry[2]](self, record, entry[3])
                    finally:
                        self._effect_time = None
                    applied += 1
            if applied:
                self.dirty = True
            return applied

    def fast_forward(self) -> int:
        return self.advance(until=float("inf"))

    # -- idempotency, sessions, statistics ------------------------------------------------------

    def token_response(
        self, uid: str, action: str, token: str, digest: str, mismatch_code: str | None
    ) -> dict | None:
        """The answer first given to this ClientToken, or None when the token is new.

        The same token with other parameters is refused with `mismatch_code` where the product
        documents one (NLB), and otherwise answered as the first time.
        """
        entry = self.data["tokens"].get(f"{uid}|{action}|{token}")
        if entry is None:
            return None
        if mismatch_code and entry["digest"] is not None and entry["digest"] != digest:
            raise ApiError(
                mismatch_code,
                f"The ClientToken {token!r} was used before by a {action} request with other "
                "parameters; use a new ClientToken for a different request.",
            )
        return entry["body"]

    def remember_token(self, uid: str, action: str, token: str, digest: str, body: dict) -> None:
        self.data["tokens"][f"{uid}|{action}|{token}"] = {
            "body": body,
            "digest": digest,
            "at": self.now(),
        }
        self.dirty = True

    def expire(self, record: Record, after: float | None = None) -> None:
        """Forget `record` once the retention has passed (a finished job, for one)."""
        if after is None:
            after = self._effect_time if self._effect_time is not None else self.now()
        record["_expires"] = after + self.retention
        self._expiring.add((record["_kind"], record["_id"]))
        self.dirty = True

    def prune(self, now: float | None = None) -> int:
        """Forget tokens, expiring records and expired sessions older than the retention."""
        with self.lock:
            now = self.now() if now is None else now
            self._next_prune = now + PRUNE_EVERY_S
            horizon = now - self.retention
            tokens = self.data["tokens"]
            stale = [key for key, entry in tokens.items() if entry["at"] <= horizon]
            for key in stale:
                del tokens[key]
            sessions = self.data["sessions"]
            gone = [key for key, session in sessions.items() if session["ExpiresAt"] <= horizon]
            for key in gone:
                del sessions[key]
            busy = self.data["busy"]
            for scope in [scope for scope, until in busy.items() if until <= now]:
                del busy[scope]
            expired = 0
            for kind, rid in list(self._expiring):
                record = self.get(kind, rid)
                if record is None:
                    self._expiring.discard((kind, rid))
                elif record["_expires"] <= now:
                    self.delete(kind, rid)
                    expired += 1
            removed = len(stale) + len(gone) + expired
            if removed:
                self.dirty = True
            return removed

    def sessions(self) -> dict[str, dict]:
        return self.data["sessions"]

    def policies(self) -> dict[str, Any]:
        """Access key id → the RAM policy document given at run time (the control API)."""
        return self.data["policies"]

    def zone_offers(self, zone_id: str, product: str) -> bool:
        return product in self.data["zones"].get(zone_id, ())

    def account(self, uid: str) -> dict[str, Any]:
        """An account's settings: `privatelink_activated`, `service_linked_roles`."""
        return self.data["accounts"][uid]

    def count_call(self, product: str, action: str) -> None:
        stats = self.data["stats"]
        stats["calls"][action] = stats["calls"].get(action, 0) + 1
        by_product = stats["calls_by_product"].setdefault(product, {})
        by_product[action] = by_product.get(action, 0) + 1

    def count_account_call(self, uid: str, product: str, action: str) -> bool:
        """One call of `action` by account `uid`; True when it is over the operation's documented
        rate limit (metadata/quotas.json: at most so many calls in any period of so many
        seconds, the refused calls counted too: the stricter reading). Also kept for the
        account's rates: the most calls seen in any 1 s and any 60 s (`stats()["peaks"]`). In
        memory only, like the faults."""
        now = self.now()
        recent = self._recent.setdefault((uid, product, action), collections.deque())
        recent.append(now)
        while recent and recent[0] <= now - 60:  # no documented period is longer
            recent.popleft()
        last_second = sum(1 for moment in recent if moment > now - 1)
        peak = self._peaks.setdefault((uid, product, action), [0, 0])
        peak[0] = max(peak[0], last_second)
        peak[1] = max(peak[1], len(recent))
        figure = quota(product, action)
        if figure is None:
            return False
        calls, seconds = figure
        return (last_second if seconds <= 1 else len(recent)) > calls

    def count_error(self, code: str) -> None:
        errors = self.data["stats"]["errors"]
        errors[code] = errors.get(code, 0) + 1

    def stats(self) -> dict[str, Any]:
        with self.lock:
            stats = copy.deepcopy(self.data["stats"])
            peaks: dict[str, dict[str, dict[str, int]]] = {}
            for (uid, product, action), (per_second, per_minute) in self._peaks.items():
                peaks.setdefault(uid, {})[f"{product}:{action}"] = {
                    "per_second": per_second,
                    "per_minute": per_minute,
                }
            stats["peaks"] = peaks
            return stats
