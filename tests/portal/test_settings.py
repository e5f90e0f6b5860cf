"""Settings come from the environment; production values pass Django's deployment checks."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    # Not the tests' own switches either: the browser tests' DJANGO_ALLOW_ASYNC_UNSAFE, say.
    base = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {"SECRET_KEY", "DEBUG", "DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    base.update(DJANGO_SETTINGS_MODULE="portal.settings", VAR_DIR=str(tmp_path / "var"), **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env=base, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_production_values_pass_check_deploy_without_a_warning(tmp_path):
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING",
        tmp_path=tmp_path,
        DEBUG="false",
        SECRET_KEY="x7-Qk2LwVz9bN4cR8sTy1uPm5oHj3gFd6eAa0WqEr2TyUiOpLkJhGfDsAzXcVbNm",
        ALLOWED_HOSTS="portal.example.com",
        DATABASE_URL="postgres://portal@db.example.com:5432/portal",
        REDIS_URL="redis://cache.example.com:6379/0",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_secret_key_is_required_when_debug_is_off(tmp_path):
    result = manage("check", tmp_path=tmp_path, DEBUG="false")

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr
    assert not (tmp_path / "var" / "secret_key").exists()


def test_local_debug_run_generates_its_secret_key_once(tmp_path):
    assert manage("check", tmp_path=tmp_path, DEBUG="true").returncode == 0
    key_file = tmp_path / "var" / "secret_key"
    first = key_file.read_text()

    assert manage("check", tmp_path=tmp_path, DEBUG="true").returncode == 0

    assert len(first) >= 50
    assert key_file.read_text() == first
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"


def test_defaults_need_no_server(tmp_path):
    result = manage(
        "shell", "--no-imports", "-c",
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.CLOUD_ENDPOINT or '-')",
        tmp_path=tmp_path, DEBUG="true",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "portalfs://localhost//", "-"]
