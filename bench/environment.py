"""The environment a benchmark runs the portal in, set before Django is imported: the project
on the import path, a folder of its own for state and logs (VAR_DIR) and a throwaway secret.
Each benchmark calls `prepare` first (they run from this folder, so `import environment`)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The portal as deployed (production settings), answering a test client on loopback.
PORTAL = {
    "DJANGO_SETTINGS_MODULE": "portal.settings",
    "ALLOWED_HOSTS": "testserver",
    "SECURE_SSL_REDIRECT": "false",
}


def prepare(name: str, **settings: str) -> Path:
    """Set VAR_DIR (a new temporary folder named after the benchmark) and `settings` as
    environment variables, unless the caller's environment already has them; return VAR_DIR."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    var = Path(os.environ.setdefault("VAR_DIR", tempfile.mkdtemp(prefix=f"bench-{name}-")))
    for key, value in {"SECRET_KEY": "bench-only-not-a-secret", **settings}.items():
        os.environ.setdefault(key, value)
    return var
