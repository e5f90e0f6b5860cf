"""Fixtures for cloudsim's tests: an in-process emulator per test and SDK clients aimed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from cloudsim.server import CloudSim
from tests.cloudsim.support import (
    ACCOUNT_A,
    ACCOUNT_B,
    HEALTH_SCALE,
    RAM_USER_A,
    Clients,
    Network,
    clients_for,
    discover,
)


@pytest.fixture(scope="session")
def shared_sim() -> Iterator[CloudSim]:
    with CloudSim(delay_scale=0, health_interval_scale=HEALTH_SCALE) as emulator:
        yield emulator


@pytest.fixture
def sim(shared_sim: CloudSim) -> CloudSim:
    """The emulator, back at its scenario: no delays, fast health checks, no faults.

    One emulator serves the session (reset before each test) because starting one with its
    data plane costs more than the typical test; tests that need other settings start their own.
    """
    shared_sim.reset()
    return shared_sim


@pytest.fixture
def account_a(sim: CloudSim) -> Clients:
    return clients_for(sim, *ACCOUNT_A)


@pytest.fixture
def account_b(sim: CloudSim) -> Clients:
    return clients_for(sim, *ACCOUNT_B)


@pytest.fixture
def ram_user_a(sim: CloudSim) -> Clients:
    """Account A's RAM user (portal-a-key): the identity RAM policies limit."""
    return clients_for(sim, *RAM_USER_A)


@pytest.fixture
def net_a(account_a: Clients) -> Network:
    return discover(account_a)


@pytest.fixture
def net_b(account_b: Clients) -> Network:
    return discover(account_b)


@pytest.fixture
def freeze_clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[CloudSim], None]:
    """Stop an emulator's clock where it is: then only `POST /_sim/clock` moves it, so the real
    time a slow machine spends between calls cannot use up an operation's delay. The SDKs' calls
    still pass: signatures carry no checked timestamp, and sessions expire on this same clock."""

    def freeze(emulator: CloudSim) -> None:
        stopped = emulator.store._clock()
        monkeypatch.setattr(emulator.store, "_clock", lambda: stopped)

    return freeze
