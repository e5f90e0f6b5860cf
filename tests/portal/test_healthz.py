"""`/healthz`: 200 when the database and the broker answer, 503 naming the part that does not."""

import time

import pytest

from portal.celery import app as celery_app


@pytest.fixture
def broker(monkeypatch):
    """Point the Celery app at another broker for one test."""

    def use(url: str, options: dict) -> None:
        monkeypatch.setitem(celery_app.conf, "broker_url", url)
        monkeypatch.setitem(celery_app.conf, "broker_transport_options", options)

    return use


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
    broker(private_redis.url, {"socket_connect_timeout": 1, "socket_timeout": 1})
    assert client.get("/healthz").status_code == 200

    private_redis.stop()
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
