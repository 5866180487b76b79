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
