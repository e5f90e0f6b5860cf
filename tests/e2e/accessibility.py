"""axe-core in every page the browser tests visit: each violation is a problem of the test that
caused it (tests/e2e/conftest.py collects them like script errors).

axe is vendored for the tests (tests/e2e/vendor/axe-core/) and put in the page through DevTools
(`page.evaluate`), which the page's Content-Security-Policy does not govern: the portal itself
stays free of inline script. Each page is checked as it is shown and, when that is a desktop's
width, again at a phone's (390×844): the stacked lists and the compact header are other layouts.
"""

from __future__ import annotations

from pathlib import Path

AXE = (Path(__file__).parent / "vendor" / "axe-core" / "axe-4.14.1.min.js").read_text()
PHONE = {"width": 390, "height": 844}
# The WCAG 2.x A and AA rules and axe's best practices: everything axe checks by default.
RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v =>
    `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map(n => n.target.join(" ")).join(", ")}`);
}"""


def violations(page) -> list[str]:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE)
    return page.evaluate(RUN)


def audit(page) -> list[str]:
    """The page's violations at its size and, from a desktop, at a phone's; each says where."""
    found = [f"{page.url}: {line}" for line in violations(page)]
    size = page.viewport_size
    if size and size["width"] > PHONE["width"]:
        page.set_viewport_size(PHONE)
        try:
            found += [f"{page.url} (phone): {line}" for line in violations(page)]
        finally:
            page.set_viewport_size(size)
    return found
