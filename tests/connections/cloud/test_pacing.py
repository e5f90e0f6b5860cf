"""The portal paces its cloud calls to the documented rate limits (connections/cloud/pacing.py),
so that the cloud never has to refuse one; and the embedded cache it counts in loses no count
when two processes count at once (portal/cache.py)."""

import subprocess
import sys
import textwrap

import pytest
from django.core.cache import cache

from connections.cloud import CloudBusy, CloudSession, base, forget_sessions, pacing
from connections.cloud.operations import RATE_LIMITS, operation
from connections.models import CloudAccount
from tests.conftest import ROOT

pytestmark = pytest.mark.django_db


@pytest.fixture
def account_a(cloudsim):
    cloudsim.reset()
    forget_sessions()
    cache.clear()  # no count left by an earlier test
    account = CloudAccount(name="A", uid="1111111111111111", access_key_id="demo-a-key")
    account.access_key_secret = "demo-a-secret"
    account.save()
    return account


@pytest.fixture
def stopped_clock(monkeypatch):
    """The pacer's clock stopped at a moment of the test's choosing (`now[0]`): however slow the
    machine, every call below falls in the same period until the test moves it."""
    now = [pacing.clock()]
    monkeypatch.setattr(pacing, "clock", lambda: now[0])
    return now


def test_a_call_beyond_the_rate_waits_its_turn_and_the_cloud_refuses_none(
    account_a, cloudsim, stopped_clock
):
    """NLB's reads: 20 a second per account and API. The 21st is not sent: CloudBusy says how
    long until it may be (the caller waits that long, as for a busy resource)."""
    assert operation("nlb", "ListLoadBalancers").rate_limit == (20, 1.0)
    nlb = CloudSession(account_a).nlb
    for _ in range(20):
        nlb.call("ListLoadBalancers")
    with pytest.raises(CloudBusy) as paced:
        nlb.call("ListLoadBalancers")
    assert paced.value.code == "Paced"
    assert 1.0 < paced.value.retry_after <= 1.1, paced.value.retry_after
    stats = cloudsim.stats()
    assert stats["calls"]["ListLoadBalancers"] == 20
    assert "Throttling.User" not in stats["errors"]
    # Another operation goes at once; this one once its turn has come (asked of the pacer
    # alone: cloudsim's own clock did not stop, and it would still count the 20).
    nlb.call("ListListeners")
    stopped_clock[0] += paced.value.retry_after
    listing = operation("nlb", "ListLoadBalancers")
    assert pacing.wait_for_turn(account_a.uid, account_a.region, listing) == 0


def test_a_patient_client_waits_for_its_turn_in_place(
    account_a, cloudsim, stopped_clock, monkeypatch
):
    """The health sweep, the inventory sync and check_cloud read one thing after another: a call
    with no room waits for its turn where it is instead of failing. (The test's sleep moves the
    pacer's clock and cloudsim's alike: the second passes for both.)"""
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        stopped_clock[0] += seconds
        cloudsim.control("POST", "clock", {"advance": seconds})

    monkeypatch.setattr(base, "sleep", sleep)
    nlb = CloudSession(account_a, patient=True).nlb
    for _ in range(21):
        nlb.call("ListLoadBalancers")
    assert len(slept) == 1 and 1.0 < slept[0] <= 1.1, slept
    stats = cloudsim.stats()
    assert stats["calls"]["ListLoadBalancers"] == 21
    assert "Throttling.User" not in stats["errors"]


def test_the_oldest_calls_leaving_the_window_make_room_first(stopped_clock):
    """A minute's limit in tenths: calls made early in the minute leave it first, so the wait is
    until enough of them have left, not a whole minute from the last call."""
    limit, period = operation("privatelink", "CreateVpcEndpoint").rate_limit
    width = period / pacing.BUCKETS
    start = (int(stopped_clock[0] // width) + 1) * width  # the start of a bucket
    stopped_clock[0] = start
    cache.clear()
    create = operation("privatelink", "CreateVpcEndpoint")
    for _ in range(limit // 2):
        assert pacing.wait_for_turn("9", "cn-hangzhou", create) == 0
    stopped_clock[0] = start + 3 * width
    for _ in range(limit - limit // 2):
        assert pacing.wait_for_turn("9", "cn-hangzhou", create) == 0
    stopped_clock[0] = start + 5 * width
    wait = pacing.wait_for_turn("9", "cn-hangzhou", create)
    # The first half leaves when the window of a call made then no longer reaches its bucket.
    assert wait == pytest.approx(start + (pacing.BUCKETS + 1) * width - stopped_clock[0])
    assert pacing.wait_for_turn("8", "cn-hangzhou", create) == 0  # another account's own


def test_calls_turned_away_together_take_their_turns_one_after_another(stopped_clock):
    """Waiting for the first call to leave, all would come back at once and all but a few be
    turned away again: the n-th turned away waits for n of the counted calls to leave."""
    create = operation("privatelink", "CreateVpcEndpoint")
    limit, period = create.rate_limit
    width = period / pacing.BUCKETS
    start = (int(stopped_clock[0] // width) + 1) * width
    cache.clear()
    stopped_clock[0] = start
    for _ in range(limit // 2):
        assert pacing.wait_for_turn("9", "cn-hangzhou", create) == 0
    stopped_clock[0] = start + 3 * width
    for _ in range(limit - limit // 2):
        assert pacing.wait_for_turn("9", "cn-hangzhou", create) == 0
    stopped_clock[0] = start + 5 * width
    waits = [pacing.wait_for_turn("9", "cn-hangzhou", create) for _ in range(limit // 2 + 1)]
    first_half_leaves = start + (pacing.BUCKETS + 1) * width - stopped_clock[0]
    second_half_leaves = first_half_leaves + 3 * width
    assert waits[:-1] == pytest.approx([first_half_leaves] * (limit // 2))
    assert waits[-1] == pytest.approx(second_half_leaves)


def test_the_portals_rate_limits_are_the_clouds_documented_ones():
    """The portal's table (connections/cloud/operations.py) and cloudsim's data
    (cloudsim/metadata/quotas.json) are kept apart on purpose: each is checked against the
    other."""
    from cloudsim.metadata import quota

    assert RATE_LIMITS
    for (product, name), figure in RATE_LIMITS.items():
        assert quota(product, name) == figure, (product, name)


COUNT_IN_A_PROCESS = textwrap.dedent(
    """
    import sys
    from django.conf import settings
    settings.configure(CACHES={"default": {"BACKEND": sys.argv[1], "LOCATION": sys.argv[2]}})
    import django
    django.setup()
    from django.core.cache import cache
    cache.add("count", 0, 60)
    for _ in range(300):
        cache.incr("count")
    """
)


def count_in_two_processes(backend: str, location) -> int:
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", COUNT_IN_A_PROCESS, backend, str(location)], cwd=ROOT
        )
        for _ in range(2)
    ]
    for process in processes:
        assert process.wait(timeout=120) == 0
    from django.core.cache.backends.filebased import FileBasedCache

    return FileBasedCache(str(location), {}).get("count")


def test_two_processes_counting_in_the_embedded_cache_lose_no_count(tmp_path):
    assert count_in_two_processes("portal.cache.FileBasedCache", tmp_path) == 600
