"""Browser tests: Playwright for Python (sync API) driving Debian's Chromium, headless.

Never `playwright install`: the browser is the system's /usr/bin/chromium (`make test`
installs it with apt-get when missing). Each test gets a fresh browser context and page
against pytest-django's `live_server`; a failing test leaves a screenshot and the page's
HTML under test-results/.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from conftest import TEST_PASSWORD  # the root conftest.py

CHROMIUM = os.environ.get("KETACARE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEFAULT_TIMEOUT_MS = 10_000
E2E_DIR = Path(__file__).resolve().parent
# axe-core from the npm registry, pinned by tests/e2e/axe/package-lock.json and installed by
# scripts/ensure-axe (part of `make test`); Playwright injects it into the page under test.
AXE_JS = E2E_DIR / "axe" / "node_modules" / "axe-core" / "axe.min.js"
# The widths pages must fit without sideways scrolling: a phone, and a tablet at the chair.
PHONE = {"width": 390, "height": 844}
TABLET = {"width": 1024, "height": 768}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if E2E_DIR in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the test item, so `page` can tell whether the test failed.
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(autouse=True)
def _e2e_database(transactional_db):
    """The live server runs in another thread: data must be committed for it to see it."""


@pytest.fixture(scope="package")
def browser():
    """One headless Chromium for the browser tests.

    Scoped to this package rather than the session: the browser tests run together (all are
    transactional), and Playwright is stopped as soon as they are done, so the tests after
    them run with Django's async-safety checks and an environment of their own.
    """
    from playwright.sync_api import sync_playwright

    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"Chromium is not at {CHROMIUM}. Install Debian's chromium "
            "(`apt-get install chromium libharfbuzz-subset0 fonts-liberation`) "
            "or run `make test`, which does. Never `playwright install`.",
            pytrace=False,
        )
    # While Playwright's sync API is started, an asyncio event loop counts as running in this
    # thread, and Django refuses ORM calls from it (SynchronousOnlyOperation): the test's own
    # queries, and pytest-django's flush after each test. The live server runs in its own
    # thread with its own connection, so lifting the check for the browser's lifetime is safe.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                chromium_sandbox=False,
                args=CHROMIUM_ARGS,
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    context.set_default_navigation_timeout(DEFAULT_TIMEOUT_MS)
    # Every browser test also walks the Content-Security-Policy: a page that needs an inline
    # script or style, or eval (an htmx trigger filter), fails here even when it looks fine.
    policy_violations: list[str] = []
    context.on("console", lambda message: _note_policy_violation(message, policy_violations))
    page = context.new_page()
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        out_dir = request.config.rootpath / "test-results"
        out_dir.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-150:]
        try:
            page.screenshot(path=str(out_dir / f"{name}.png"), full_page=True)
            (out_dir / f"{name}.html").write_text(page.content())
            print(f"\nbrowser: {page.url} saved to test-results/{name}.png and .html")
        except Exception as error:  # the page may be gone; the test's own failure matters
            print(f"\nbrowser: could not save a screenshot: {error}")
    context.close()
    if policy_violations and not (report is not None and report.failed):
        pytest.fail(
            "The Content-Security-Policy refused something on the page:\n"
            + "\n".join(policy_violations),
            pytrace=False,
        )


def _note_policy_violation(message, violations: list[str]) -> None:
    text = message.text
    if "Content Security Policy" in text or "evalDisallowed" in text:
        violations.append(f"{message.location.get('url', '')}: {text}")


@pytest.fixture
def login_as(page, live_server):
    """`login_as(username, password=...)` signs in on /accounts/login/ and returns the page."""

    def login(username, password=TEST_PASSWORD):
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
        return page

    return login


_AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ")),
  }));
}"""


def assert_accessible(page) -> None:
    """axe-core's rules (WCAG 2 A/AA and best practices) on the page as it is now: zero
    violations. The message lists each rule broken and up to five elements breaking it."""
    if not AXE_JS.is_file():
        pytest.fail(
            f"axe-core is not installed at {AXE_JS}: run `make test` (scripts/ensure-axe).",
            pytrace=False,
        )
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, not added as a <script>: the page's
        # Content-Security-Policy (rightly) refuses an inline script tag.
        page.evaluate(AXE_JS.read_text(encoding="utf-8") + "\n;undefined")
    violations = page.evaluate(_AXE_RUN)
    assert violations == [], f"axe-core found violations on {page.url}:\n" + "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']} at {', '.join(v['nodes'])}" for v in violations
    )


_OVERFLOW = """(allowed) => {
  const width = document.documentElement.clientWidth;
  const classes = (e) => typeof e.className === "string" && e.className.trim()
    ? "." + e.className.trim().split(/\\s+/).join(".") : "";
  const describe = (e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + classes(e);
  const inAllowed = (e) => allowed.some((selector) => e.closest(selector));
  // Inside a box that clips or scrolls sideways, an element is that box's business: the box
  // is reported below if it scrolls.
  const clipped = (e) => {
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== "visible") return true;
    }
    return false;
  };
  // The contents of a closed <details> are not shown (Chromium still lays them out).
  const folded = (e) => {
    const details = e.closest("details:not([open])");
    return details !== null && !e.closest("summary") && e !== details;
  };
  const sticking = [...document.querySelectorAll("body *")].filter((e) => {
    if (inAllowed(e) || clipped(e) || folded(e)) return false;
    const box = e.getBoundingClientRect();
    // Visually hidden helpers (1 px boxes, the skip link parked off to the left) are meant
    // to be out of sight.
    if (box.width <= 1 || box.height <= 1 || box.right <= 0) return false;
    const style = getComputedStyle(e);
    if (style.visibility === "hidden" || style.position === "fixed") return false;
    return box.right > width + 1;
  });
  const scrollers = [...document.querySelectorAll("body *")].filter((e) => {
    if (inAllowed(e)) return false;
    const overflowX = getComputedStyle(e).overflowX;
    return (overflowX === "auto" || overflowX === "scroll") && e.scrollWidth > e.clientWidth + 1;
  });
  return {
    width, scrollWidth: document.documentElement.scrollWidth,
    sticking: sticking.slice(0, 8).map(describe),
    scrollers: scrollers.slice(0, 8).map(describe),
  };
}"""


def assert_fits_width(page, *, may_scroll: tuple[str, ...] = ()) -> None:
    """Nothing on the page needs sideways scrolling at the viewport's width: the document is
    no wider than the viewport, no element sticks out of it, and no box scrolls sideways
    (a table squeezed into a scrolling box hides its last columns just the same). `may_scroll`
    names, by CSS selector, the boxes allowed to scroll (e.g. a long flowsheet), each a
    deliberate choice in the test that passes it."""
    found = page.evaluate(_OVERFLOW, list(may_scroll))
    assert found["scrollWidth"] <= found["width"] and not found["sticking"], (
        f"{page.url} is wider than {found['width']} px (document {found['scrollWidth']} px); "
        f"sticking out: {', '.join(found['sticking']) or 'none found'}"
    )
    assert not found["scrollers"], (
        f"{page.url}: boxes that scroll sideways at {found['width']} px: "
        + ", ".join(found["scrollers"])
    )


def fits_both_widths(page) -> None:
    """The page fits the tablet and the phone and passes axe at each; left at tablet width."""
    for viewport in (TABLET, PHONE):
        page.set_viewport_size(viewport)
        assert_fits_width(page)
        assert_accessible(page)
    page.set_viewport_size(TABLET)


def sign_out(page) -> None:
    """Sign out from the top bar (at tablet width, where the button is in view)."""
    page.set_viewport_size(TABLET)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))
