"""When a waiting step reads the cloud again (connections/workflows/timing.py)."""

import pytest
from django.core.cache import cache

from connections.workflows import timing


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()


def test_an_operation_never_seen_is_read_from_the_start_a_few_percent_late_at_most():
    assert timing.next_read("CreateVpcEndpoint", 0.0, 1) == timing.MIN_INTERVAL_SECONDS
    assert timing.next_read("CreateVpcEndpoint", 10.0, 30) == pytest.approx(timing.LATENESS * 10)
    # However long it takes, a read is never further than MAX_INTERVAL away.
    assert timing.next_read("CreateVpcEndpoint", 1000.0, 99) == timing.MAX_INTERVAL_SECONDS


def test_a_known_operation_is_first_read_just_after_it_typically_ends():
    timing.observed("CreateVpcEndpoint", 2.0, 1.98)  # ended between two close reads

    first = timing.next_read("CreateVpcEndpoint", 0.05, 1)

    assert timing.typical_seconds("CreateVpcEndpoint") == pytest.approx(1.99)
    assert first == pytest.approx(1.99 * 1.02 - 0.05)
    # Past it, short reads again: a few percent of the time waited.
    assert timing.next_read("CreateVpcEndpoint", 2.1, 2) == pytest.approx(timing.LATENESS * 2.1)


def test_the_typical_time_follows_the_cloud_and_does_not_creep_up_by_each_reads_lateness():
    # The first read, at the typical time, always finds it done: aim a little earlier each time.
    timing.observed("EnableVpcEndpointConnection", 1.5, 1.49)
    for _ in range(20):
        typical = timing.typical_seconds("EnableVpcEndpointConnection")
        timing.observed("EnableVpcEndpointConnection", typical * 1.02, None)
    assert timing.typical_seconds("EnableVpcEndpointConnection") < 1.5
    # An operation that got slower moves it up.
    for _ in range(20):
        timing.observed("EnableVpcEndpointConnection", 3.0, 2.95)
    assert timing.typical_seconds("EnableVpcEndpointConnection") == pytest.approx(2.975, abs=0.01)


def test_reads_late_for_the_workers_own_reasons_do_not_slow_the_requests_after():
    timing.observed("CreateVpcEndpoint", 2.0, 1.98)
    # A burst: first reads come at 10 s, queued behind the others, and find it long done.
    for _ in range(50):
        timing.observed("CreateVpcEndpoint", 10.0, None)
    assert timing.typical_seconds("CreateVpcEndpoint") == pytest.approx(1.99)
    # One that was read still going at 4 s, though, proves the cloud took longer.
    timing.observed("CreateVpcEndpoint", 10.0, 4.0)
    assert timing.typical_seconds("CreateVpcEndpoint") == pytest.approx(1.99 + 0.3 * (4.0 - 1.99))


def test_a_first_read_is_never_further_than_a_minute_away():
    timing.observed("CreateLoadBalancer", 600.0, 599.0)
    assert timing.next_read("CreateLoadBalancer", 0.0, 1) == timing.LONGEST_FIRST_READ_SECONDS


def test_a_wait_that_names_no_operation_backs_off():
    reads = [timing.next_read(None, 0.0, waits) for waits in (1, 2, 3, 10)]
    assert 0.4 <= reads[0] <= 0.6 and 0.8 <= reads[1] <= 1.2 and 1.6 <= reads[2] <= 2.4
    assert reads[3] <= timing.LONGEST_WAIT_SECONDS * 1.2
