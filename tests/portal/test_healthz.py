"""`/healthz`: 200 when the database and the broker answer, 503 naming the part that does not."""

import shutil
import subprocess
import time

import pytest
import redis

from portal.celery import app as celery_app
from tests.conftest import free_port


@pytest.fixture
def broker(monkeypatch):
    """Point the Celery app at another broker for one test."""

    def use(url: str, options: dict) -> None:
        monkeypatch.setitem(celery_app.conf, "broker_url", url)
        monkeypatch.setitem(celery_app.conf, "broker_transport_options", options)

    return use


@pytest.fixture
def private_redis():
    """A Redis server of the test's own, so that stopping it disturbs nobody else."""
    binary = shutil.which("redis-server")
    assert binary, "redis-server must be installed to test a stopped broker"
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(host="127.0.0.1", port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield process, f"redis://127.0.0.1:{port}/0"
    process.kill()
    process.wait()


@pytest.mark.django_db
def test_healthy_when_database_and_broker_answer(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "broker": "ok"},
        "failing": [],
    }
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_stopped_redis_broker_is_a_503_naming_the_broker(client, broker, private_redis):
    process, url = private_redis
    broker(url, {"socket_connect_timeout": 1, "socket_timeout": 1})
    assert client.get("/healthz").status_code == 200

    process.kill()
    process.wait()
    started = time.monotonic()
    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["broker"]
    assert body["checks"] == {"database": "ok", "broker": "unavailable"}
    # A probe must answer well within a load balancer's timeout.
    assert time.monotonic() - started < 5


@pytest.mark.django_db
def test_missing_filesystem_broker_folder_is_a_503(client, broker, tmp_path):
    missing = tmp_path / "gone"
    broker("filesystem://", {"data_folder_in": str(missing), "data_folder_out": str(missing)})

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["failing"] == ["broker"]


def test_a_failing_database_check_is_a_503_naming_it_without_the_reason(client, monkeypatch):
    from portal import health

    def broken_database():
        raise OSError("connection refused")

    monkeypatch.setitem(health.CHECKS, "database", broken_database)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["failing"] == ["database"]
    assert "connection refused" not in response.content.decode()


def test_only_get_is_allowed(client):
    assert client.post("/healthz").status_code == 405
