"""Headless Chromium for the real-browser tests (tests/test_browser.py, tests/test_book.py).

They drive Debian's Chromium through the Playwright package (``scripts/setup_browser.sh``
installs both; Playwright's own browser download is not used). Without them a test skips, or
fails under ``COURSE_LIB_REQUIRE_BROWSER=1``.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

from gates import REQUIRE_BROWSER, skip_or_fail

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium's own calls home are refused by a closed
# network and slow everything down.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def chromium_path() -> Path:
    return Path(os.environ.get("COURSE_LIB_CHROMIUM", DEFAULT_CHROMIUM))


def missing_requirement() -> str | None:
    """Why this machine cannot run a browser test, or None when it can."""
    if importlib.util.find_spec("playwright") is None:
        return "the Playwright package is not installed (run scripts/setup_browser.sh)"
    chromium = chromium_path()
    if not (chromium.is_file() and os.access(chromium, os.X_OK)):
        return (f"no Chromium executable at {chromium} (run scripts/setup_browser.sh or set "
                "COURSE_LIB_CHROMIUM)")
    return None


def require_browser() -> None:
    reason = missing_requirement()
    if reason is None:
        return
    skip_or_fail(f"browser test: {reason}", REQUIRE_BROWSER)


@contextmanager
def chromium_context(viewport: dict[str, int]) -> Iterator[BrowserContext]:
    """A browser context of a fresh headless Chromium, closed on exit."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_path()),
                                             headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser.new_context(viewport=viewport)
        finally:
            browser.close()


def output_dir(default: str) -> Path:
    """Where a test saves its screenshots: ``$COURSE_LIB_TEST_OUTPUT``, or
    ``build/test-output/<default>``."""
    folder = os.environ.get("COURSE_LIB_TEST_OUTPUT")
    path = Path(folder) if folder else ROOT / "build" / "test-output" / default
    path.mkdir(parents=True, exist_ok=True)
    return path


class _QuietHandler(SimpleHTTPRequestHandler):
    # JavaScript modules and WebAssembly must be served with their own types to load
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".mjs": "text/javascript",
                      ".wasm": "application/wasm", ".whl": "application/zip"}

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def served(folder: Path) -> Iterator[str]:
    """A static web server for ``folder`` on 127.0.0.1; its address (no trailing slash)."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0),
                                functools.partial(_QuietHandler, directory=str(folder)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
