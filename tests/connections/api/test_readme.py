"""The README's REST API walk-through, run verbatim with bash against a live portal.

A real web server (`manage.py runserver`) on a free loopback port serves the API from the test
database; the session's Celery worker does the cloud work against cloudsim; the demo world and the
published seed service come from the workflow fixtures. Nothing is mocked: the script's curl
calls go over HTTP, and its waits are the API's `wait_for`.
"""

import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from connections.choices import RequestState
from connections.models import AccessRequest, ApiToken
from tests.conftest import ROOT, free_port, subprocess_env

pytestmark = pytest.mark.worker

SCRIPT_TIMEOUT = 240


def readme_walkthrough() -> str:
    """The fenced sh block of the README's "REST API" section, as written."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## REST API\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```sh\n(.*?)^```$", section, flags=re.DOTALL | re.MULTILINE)
    assert len(blocks) == 1, "the REST API section has one sh block: the walk-through"
    return blocks[0]


@pytest.fixture
def live_portal(world, tmp_path):
    """`manage.py runserver` on the test database, as in production: DEBUG off, no SSL redirect
    (plain HTTP on loopback), and no rate limit in the way of a test."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "runserver.log"
    env = subprocess_env(
        CLOUD_ENDPOINT=world.cloudsim.url,
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        API_RATE_USER="",
        API_RATE_ANON="",
        API_RATE_TOKEN="",
    )
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_serving(f"{url}/api/v1/problems/", server, log_path)
            yield url
        finally:
            server.terminate()
            server.wait(timeout=20)


def _wait_until_serving(url: str, server: subprocess.Popen, log_path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"runserver exited:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise RuntimeError(f"runserver did not answer in {timeout}s:\n{log_path.read_text()}")


def path_without_jq(tmp_path) -> str:
    """A PATH with only what the walk-through needs: it must work where jq is not installed
    (with jq, it only pretty-prints), and this machine may have it."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    curl = shutil.which("curl")
    assert curl, "the walk-through needs curl"
    (bin_dir / "curl").symlink_to(curl)
    (bin_dir / "python3").symlink_to(sys.executable)
    return str(bin_dir)


def test_the_readme_walkthrough_requests_waits_connects_and_revokes(
    live_portal, seed_service, tmp_path
):
    result = subprocess.run(
        [shutil.which("bash"), "-c", readme_walkthrough()],
        cwd=tmp_path,
        env={**subprocess_env(), "PORTAL": live_portal, "PATH": path_without_jq(tmp_path)},
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT,
    )

    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    access_request = AccessRequest.objects.get()
    assert f"access request {access_request.pk} is revoked" in result.stdout
    assert access_request.state == RequestState.REVOKED
    assert access_request.consumer_team.slug == "apps"
    assert access_request.vpc.name == "VPC1"
    assert [zone.zone_id for zone in access_request.zones.all()] == [
        "cn-hangzhou-g",
        "cn-hangzhou-k",
    ]
    # The endpoint the script printed was the real one, and it was connected before the revoke.
    assert f"endpoint domain: {access_request.endpoint_domain}" in result.stdout
    assert access_request.endpoint_domain.endswith(".privatelink.aliyuncs.com")
    assert '"state": "connected"' in result.stdout  # shown with python3, jq being hidden
    verbs = [event.verb for event in access_request.events.all()]
    assert {"requested", "approve", "connected", "revoke"} <= set(verbs)
    assert access_request.events.get(verb="approve").actor.username == "provider"
    # Both tokens were revoked at the end.
    assert ApiToken.objects.filter(name="readme").count() == 2
    assert not ApiToken.objects.filter(name="readme", revoked_at__isnull=True).exists()
