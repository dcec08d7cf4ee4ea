"""Headless Chromium for the browser tests: Debian's chromium driven by Playwright.

Playwright's own browser download is not available here, so it is pointed at the system
browser. Tests using :func:`chromium` are skipped when no browser is installed, unless
``SIM_REQUIRE_BROWSER=1`` (set by ``.ci/run``, which installs it), where they fail instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def executable() -> str | None:
    """The system Chromium, or None."""
    names = ("chromium", "chromium-browser", "google-chrome")
    return next((p for p in map(shutil.which, names) if p), None)


def require() -> str:
    """The browser's path, or skip (fail under ``SIM_REQUIRE_BROWSER=1``) without one."""
    path = executable()
    if path is None:
        if os.environ.get("SIM_REQUIRE_BROWSER") == "1":
            pytest.fail("SIM_REQUIRE_BROWSER=1 but no Chromium is installed")
        pytest.skip("no Chromium on this machine")
    return path


@contextmanager
def chromium() -> Iterator[object]:
    """A Playwright browser on the system Chromium (closed on exit)."""
    path = require()
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


class ConsoleLog:
    """Collects a page's console errors and uncaught exceptions."""

    def __init__(self, page) -> None:
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
