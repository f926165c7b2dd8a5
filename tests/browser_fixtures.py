"""Headless Chromium for the browser tests (`browser_page`, `browser`).

Debian's `chromium`, driven by Playwright. CI always has it (the test
command installs it); elsewhere a missing Chromium skips the test.
"""

import os
import shutil

import pytest

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path():
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("chromium is missing: CI must install Debian's chromium package")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium); this test always runs in CI")
    return path


@pytest.fixture
def browser():
    """A Chromium browser: open as many contexts (separate sessions) as a test needs."""
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def browser_page(browser):
    """One page in a fresh context, 1280 px wide."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.set_default_timeout(30_000)
    yield context.new_page()
    context.close()
