"""Browser tests: Debian's Chromium driven by Playwright (pytest-playwright), against the portal
served by pytest-django's live server, with the real worker, the SDKs and cloudsim behind it.

Chromium comes from the machine (/usr/bin/chromium; `.ci/run` installs the package): Playwright's
own browser download does not work here. Every page's console is watched: a script error or a
Content-Security-Policy violation fails the test that caused it. Screenshots go to
var/test/…/screenshots (the README shows two of them).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.connections.conftest import seed_service, world  # noqa: F401 - fixtures used here
from tests.e2e import accessibility

# Playwright's sync API keeps an event loop running in the tests' thread from the first browser
# test to the end of the session, where Django's ORM then refuses to run ("async context").
# Nothing async touches the database in the tests: allow it (a test-only switch; processes that
# check a production configuration leave it out, tests/portal/test_settings.py).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(settings.VAR_DIR) / "screenshots"
# Waits for what a worker does, through the pages' one-second polls.
LIVE_TIMEOUT_MS = 30_000


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"The browser tests need Debian's Chromium at {CHROMIUM}: apt-get install chromium"
        )
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}}


class Person:
    """One person's browser (its own context: its own session), watched for script errors."""

    def __init__(self, browser, base_url: str, username: str, **context_args):
        # context_args: the browser's own settings, e.g. timezone_id="Asia/Shanghai".
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, **context_args)
        self.page = self.context.new_page()
        self.base_url, self.username = base_url, username
        self.problems: list[str] = []
        self.expected_missing: set[str] = set()
        self.page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))
        self.page.on("console", self._console)

    def _console(self, message) -> None:
        text = message.text
        if message.location.get("url") in self.expected_missing:
            return  # the browser's note that a page a test opened on purpose answered 404
        if message.type == "error" or "Content Security Policy" in text:
            self.problems.append(f"console {message.type}: {text}")

    def sign_in(self) -> Person:
        self.page.goto(f"{self.base_url}/accounts/login/")
        self.audit()
        # By the fields' names: the page may be in the person's language, not English.
        self.page.locator("input[name=username]").fill(self.username)
        self.page.locator("input[name=password]").fill("demo")
        self.page.locator("form button[type=submit]").click()
        self.page.wait_for_url(re.compile(r".*/$"))
        return self

    def go(self, path: str, status: int = 200) -> None:
        url = f"{self.base_url}{path}"
        if status == 404:
            self.expected_missing.add(url)
        response = self.page.goto(url)
        assert response.status == status, f"{path}: {response.status}, not {status}"
        self.audit()

    def audit(self) -> None:
        """axe-core on the page as it is now (and at a phone's width): every violation is a
        problem, reported when the test ends."""
        for line in accessibility.audit(self.page):
            if line not in self.problems:
                self.problems.append(f"axe: {line}")

    def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        self.audit()  # what is worth a picture is worth a check: a state, an error, a phone


@pytest.fixture
def people(browser, live_server, world):  # noqa: F811 - the world fixture, imported above
    """people("consumer") → that demo login's signed-in browser."""
    opened: list[Person] = []

    def open_for(username: str, **context_args) -> Person:
        person = Person(browser, live_server.url, username, **context_args).sign_in()
        opened.append(person)
        return person

    yield open_for
    problems = [f"{p.username}: {line}" for p in opened for line in p.problems]
    for person in opened:
        person.context.close()
    assert not problems, "\n".join(problems)
