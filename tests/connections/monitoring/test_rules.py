"""The health rules (monitoring/rules.py), from what a sweep saw to a verdict and its reason."""

import pytest

from connections.choices import Health
from connections.monitoring.rules import Verdict, backends_verdict, request_verdict, service_verdict

BOTH_ZONES = {"cn-hangzhou-g": "Connected", "cn-hangzhou-k": "Connected"}


@pytest.mark.parametrize(
    ("status", "zones", "backends", "probe_error", "expected"),
    [
        ("Connected", BOTH_ZONES, None, None, Verdict(Health.HEALTHY)),
        (
            None, {}, None, None,
            Verdict(Health.DOWN, "The cloud lists no connection for the endpoint."),
        ),
        ("Pending", BOTH_ZONES, None, None, Verdict(Health.DOWN, "The connection is Pending.")),
        (
            "Connected", {"cn-hangzhou-g": "Connected", "cn-hangzhou-k": "Disconnected"},
            None, None,
            Verdict(Health.DEGRADED, "Zones not connected: cn-hangzhou-k (Disconnected)."),
        ),
        (
            "Connected", BOTH_ZONES, backends_verdict(2, 1), None,
            Verdict(Health.DEGRADED, "1 of 2 backends are unhealthy."),
        ),
        # The worst wins: no backend at all beats a zone down, and says so.
        (
            "Connected", {"cn-hangzhou-g": "Connected", "cn-hangzhou-k": "Deleting"},
            backends_verdict(2, 2), None, Verdict(Health.DOWN, "No backend is healthy."),
        ),
        (
            "Connected", BOTH_ZONES, None, "TCP connect failed: Connection refused.",
            Verdict(Health.DOWN, "The probe failed: TCP connect failed: Connection refused."),
        ),
    ],
)  # fmt: skip
def test_a_requests_verdict(status, zones, backends, probe_error, expected):
    assert request_verdict(status, zones, backends, probe_error) == expected


def test_a_services_verdict_follows_its_endpoint_service_then_its_backends():
    assert service_verdict("Active", None) == Verdict(Health.HEALTHY)
    assert service_verdict(None, backends_verdict(2, 1)).health == Health.DEGRADED
    assert service_verdict("Inactive", None) == Verdict(
        Health.DOWN, "The endpoint service is Inactive."
    )
    assert backends_verdict(2, 0) is None and backends_verdict(0, 0) is None
