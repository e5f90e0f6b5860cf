"""The demo world against cloudsim, driven by a real worker: fixtures for the workflow tests."""

import time
import urllib.request
from dataclasses import dataclass

import pytest

from connections import demo
from connections.cloud import forget_sessions
from connections.models import CloudAccount, PublishedService, SecurityGroup, Team, Vpc, VSwitch
from connections.preflight import ZoneChoice
from tests.conftest import LOCKED_CALLS_LOG, purge_queues
from tests.connections import verbs
from tests.factories import VpcFactory

WORKFLOW_TIMEOUT = 60


@dataclass
class World:
    """The demo scenario in the portal, synced from a freshly reset cloudsim."""

    users: dict
    accounts: dict[str, CloudAccount]
    cloudsim: object
    worker: object

    def __getattr__(self, name):
        if name in self.users:
            return self.users[name]
        raise AttributeError(name)

    def team(self, slug: str) -> Team:
        return Team.objects.get(slug=slug)

    def vpc(self, name: str) -> Vpc:
        return Vpc.objects.get(name=name)

    def zones(self, vpc_name: str, *letters: str) -> list[ZoneChoice]:
        vswitches = VSwitch.objects.filter(vpc__name=vpc_name)
        return [
            ZoneChoice(f"cn-hangzhou-{z}", vswitches.get(zone_id=f"cn-hangzhou-{z}"))
            for z in letters
        ]

    def security_groups(self, vpc_name: str) -> list[SecurityGroup]:
        return list(SecurityGroup.objects.filter(vpc__name=vpc_name))


@pytest.fixture
def world(transactional_db, cloudsim, celery_worker_process):
    """The demo, synced; afterwards, no cloud call of the worker's may have been made inside a
    database transaction (which would hold its locks for as long as the cloud takes)."""
    # Messages a previous test left queued would only find their rows gone, but they could
    # still reach cloudsim between its reset and this test's counts.
    purge_queues()
    cloudsim.reset()
    forget_sessions()
    LOCKED_CALLS_LOG.unlink(missing_ok=True)
    users = demo.create_people()
    accounts = demo.create_accounts()
    for account in accounts.values():
        demo.sync_inventory(account)
    yield World(users=users, accounts=accounts, cloudsim=cloudsim, worker=celery_worker_process)
    locked = LOCKED_CALLS_LOG.read_text().split() if LOCKED_CALLS_LOG.exists() else []
    assert not locked, f"cloud calls made inside a database transaction: {locked}"


def wait_for_state(obj, *states: str, timeout: float = WORKFLOW_TIMEOUT):
    """Poll the row until it reaches one of `states`; fail with its timeline if it does not."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        obj.refresh_from_db()
        if obj.state in states:
            return obj
        time.sleep(0.1)
    timeline = "\n".join(
        f"  {e.verb} {e.from_state}->{e.to_state} {e.detail}" for e in obj.events.all()
    )
    error = f"{obj.last_error_code} {obj.last_error_message}".strip()
    raise AssertionError(f"{obj} is {obj.state} ({error}), not {states}:\n{timeline}")


def wait_until(predicate, timeout: float = WORKFLOW_TIMEOUT, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} not reached within {timeout}s")


@pytest.fixture
def seed_service(world) -> PublishedService:
    """The seed's nginx-hangzhou, published through the workflow (steps 1–4)."""
    service = demo.publish_seed_service(world.provider)
    return wait_for_state(service, "available")


def http_get_through(cloudsim, host: str, port: int = 80) -> str:
    """Step 7: where a client in the VPC would reach host:port, on loopback, and what answers."""
    resolved = cloudsim.resolve(host, port)
    assert resolved is not None, f"{host}:{port} does not resolve"
    address, loopback_port = resolved
    assert address.startswith("127."), address
    with urllib.request.urlopen(f"http://{address}:{loopback_port}/", timeout=5) as response:
        return response.read().decode().strip()


# --- the verbs' small world, without the cloud (test_actions.py, test_preflight.py) -------------


@pytest.fixture
def setup(monkeypatch) -> verbs.Setup:
    """A consumer team with its VPC and a service's owners; any cloud call fails the test."""
    verbs.forbid_cloud_calls(monkeypatch)
    return verbs.Setup()


@pytest.fixture
def provider_vpc(setup):
    return VpcFactory(account=setup.account, team=setup.owner_team, vpc_id="vpc-provider")
