"""docker-compose.yml agrees with the Procfile and the settings (no Docker engine runs here)."""

import re
import runpy
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

from connections.api.waiting import MAX_TIMEOUT

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = {"web", "worker", "beat", "cloudsim"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def settings_variables() -> set[str]:
    source = (ROOT / "portal" / "settings.py").read_text()
    return set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"', source))


def readme_variables() -> set[str]:
    return set(re.findall(r"^\| `([A-Z_]+)` \|", (ROOT / "README.md").read_text(), re.M))


def test_services_are_the_designed_ones_from_one_image(compose):
    services = compose["services"]

    assert set(services) == {"postgres", "redis"} | APP_SERVICES
    assert {services[name]["build"] for name in APP_SERVICES} == {"."}
    assert len({services[name]["image"] for name in APP_SERVICES}) == 1
    assert (ROOT / "Dockerfile").exists()


def test_worker_and_beat_run_what_the_procfile_runs(compose, procfile):
    for name in ("worker", "beat"):
        assert compose["services"][name]["command"] == procfile[name]


def test_cloudsim_runs_the_emulator_of_the_procfile_on_its_port(compose, procfile):
    compose_command = compose["services"]["cloudsim"]["command"]
    assert procfile["cloudsim"].startswith("python -m cloudsim serve")
    assert compose_command.startswith("python -m cloudsim serve")
    assert "--port 9100" in compose_command and "--state" in compose_command


def test_web_runs_gunicorn_on_the_wsgi_app(compose):
    command = compose["services"]["web"]["command"]
    assert "gunicorn --config gunicorn.conf.py portal.wsgi" in command and "migrate" in command


def test_every_process_of_the_procfile_has_a_service(compose, procfile):
    assert set(procfile) <= set(compose["services"])


def test_dependencies_wait_for_health(compose):
    services = compose["services"]
    for name, service in services.items():
        for dependency, rule in service.get("depends_on", {}).items():
            assert rule == {"condition": "service_healthy"}, (name, dependency)
            assert "healthcheck" in services[dependency], dependency
    assert set(services["web"]["depends_on"]) == {"postgres", "redis", "cloudsim"}
    assert "healthz" in " ".join(services["web"]["healthcheck"]["test"])


def test_environment_points_at_the_compose_services(compose):
    services = compose["services"]
    for name in ("web", "worker", "beat"):
        environment = services[name]["environment"]
        assert urlparse(environment["DATABASE_URL"]).hostname == "postgres"
        assert urlparse(environment["REDIS_URL"]).hostname == "redis"
        endpoint = urlparse(environment["CLOUD_ENDPOINT"])
        assert (endpoint.hostname, endpoint.port) == ("cloudsim", 9100)
        assert environment["DEBUG"] == "false"
    assert "--port 9100" in services["cloudsim"]["command"]


def test_environment_names_are_settings_the_readme_documents(compose):
    documented, read = readme_variables(), settings_variables()
    assert read <= documented, f"undocumented settings: {read - documented}"
    for name in ("web", "worker", "beat"):
        names = set(compose["services"][name]["environment"])
        assert names <= read, f"{name} sets variables the settings never read: {names - read}"


def test_gunicorn_never_kills_a_worker_in_the_middle_of_the_longest_api_wait():
    config = runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))

    assert config["worker_class"] == "gthread"  # a wait holds a thread, not the whole worker
    assert config["timeout"] > MAX_TIMEOUT + 10
