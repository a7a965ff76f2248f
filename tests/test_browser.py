"""Notebook 01 in a real browser: JupyterLab runs every cell, then the auction playground's bid
slider is moved as a user would and the utilities shown in its table are checked.

Needs Chromium and the Playwright package (``scripts/setup_browser.sh`` installs both); the
test skips without them, or fails under ``COURSE_LIB_REQUIRE_BROWSER=1``. A screenshot of the
playground goes to ``build/test-output/browser/`` (or to ``$COURSE_LIB_TEST_OUTPUT``).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat
import pytest
from browser_support import chromium_context, output_dir, require_browser

from course_lib import launch

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "01_vickrey_auction.ipynb"
SCREENSHOT = "01_auction_playground.png"
PAGE_SCREENSHOT = "01_jupyterlab.png"  # the whole window, for the README
SERVER_START_TIMEOUT_S = 60
RUN_ALL_TIMEOUT_S = 150
WIDGET_UPDATE_TIMEOUT_MS = 20_000

# Settings for a quiet, predictable JupyterLab: no news or update toasts, and every cell kept
# in the DOM so that the widget can be found whatever the scroll position.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification":
        {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}


# ---------------------------------------------------------------------------------------------
# The JupyterLab server.


# Loopback requests must not go through an http_proxy from the environment.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class LabServer:
    process: subprocess.Popen[bytes]
    port: int
    token: str
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}?token={self.token}"

    def log_tail(self, chars: int = 6000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError as error:
            return f"(no server log: {error})"

    def api(self, path: str, method: str = "GET") -> Any:
        request = urllib.request.Request(self.url(path), method=method)
        with _DIRECT.open(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _prepare_root(root: Path) -> None:
    """Copy notebook 01 into ``root`` with every output and execution count cleared."""
    nb = nbformat.read(ROOT / "notebooks" / NOTEBOOK, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, root / NOTEBOOK)


def _write_lab_settings(settings_dir: Path) -> None:
    for name, values in LAB_SETTINGS.items():
        path = settings_dir / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def _server_env(state: Path) -> dict[str, str]:
    """The notebook's environment: references on, small budgets, inline figures, and Jupyter
    config/runtime dirs of its own (the kernels stay those of this interpreter's prefix)."""
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env.update(COURSE_LIB_REFERENCE="all", COURSE_LIB_QUICK="1",
               JUPYTER_CONFIG_DIR=str(state / "config"), JUPYTER_DATA_DIR=str(state / "data"),
               JUPYTER_RUNTIME_DIR=str(state / "runtime"), PYTHONHASHSEED="0")
    # The kernel runs in a temporary folder: let it import this checkout's course_lib.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def _start_server(tmp: Path) -> LabServer:
    root, state = tmp / "root", tmp / "state"
    root.mkdir()
    state.mkdir()
    _prepare_root(root)
    _write_lab_settings(state / "settings")
    port, token = _free_port(), secrets.token_hex(16)
    command = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1",
        f"--port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True",
        f"--LabApp.user_settings_dir={state / 'settings'}",
        f"--LabApp.workspaces_dir={state / 'workspaces'}",
        "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]
    if os.geteuid() == 0:  # containers and CI runners often run as root
        command.append("--allow-root")
    log_path = tmp / "jupyter-lab.log"
    with log_path.open("wb") as log:
        # A session of its own, so that the whole process group can be stopped at the end.
        process = subprocess.Popen(command, cwd=root, env=_server_env(state), stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
    return LabServer(process, port, token, log_path)


def _wait_for_server(server: LabServer, timeout: float = SERVER_START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with code {server.process.returncode}; "
                               f"log:\n{server.log_tail()}")
        try:
            server.api("api/status")
            return
        except (urllib.error.URLError, OSError, ValueError):
            time.sleep(0.5)
    raise TimeoutError(f"JupyterLab did not answer on {server.base_url} within {timeout:.0f} s; "
                       f"log:\n{server.log_tail()}")


def _stop_server(server: LabServer) -> None:
    """Shut the kernels down through the API (they run in sessions of their own, outside the
    server's process group), then stop the server's process group."""
    if server.process.poll() is None:
        try:
            for kernel in server.api("api/kernels"):
                server.api(f"api/kernels/{kernel['id']}", method="DELETE")
        except (urllib.error.URLError, OSError, ValueError):
            pass  # the server's own shutdown below stops its kernels too
    for sig, wait_s in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        if server.process.poll() is not None:
            break
        try:
            os.killpg(server.process.pid, sig)
        except ProcessLookupError:
            break
        try:
            server.process.wait(timeout=wait_s)
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture
def lab_server(tmp_path: Path) -> Iterator[LabServer]:
    require_browser()
    server = _start_server(tmp_path)
    try:
        _wait_for_server(server)
        yield server
    finally:
        _stop_server(server)


# ---------------------------------------------------------------------------------------------
# The browser.


@pytest.fixture
def browser_page() -> Iterator[Page]:
    with chromium_context(viewport={"width": 1280, "height": 1100}) as context:
        yield context.new_page()


# JupyterLab's notebook panel for the file, found through the application object that
# --LabApp.expose_app_in_browser puts on window.
FIND_PANEL_JS = f"""() => {{
    const app = window.jupyterapp;
    if (!app || !app.shell) return null;
    return Array.from(app.shell.widgets('main')).find(
        w => w.context && w.context.path === '{NOTEBOOK}') || null;
}}"""

OPEN_AND_RUN_ALL_JS = f"""async () => {{
    const panel = ({FIND_PANEL_JS})();
    await panel.context.ready;
    await panel.sessionContext.ready;
    window.jupyterapp.shell.activateById(panel.id);
    await window.jupyterapp.commands.execute('notebook:run-all-cells');
}}"""

EXECUTION_STATE_JS = f"""() => {{
    const panel = ({FIND_PANEL_JS})();
    const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
    const code = panel.content.model.toJSON().cells.filter(c => c.cell_type === 'code');
    const errors = code.flatMap(c => c.outputs).filter(o => o.output_type === 'error')
        .map(o => `${{o.ename}}: ${{o.evalue}}`);
    return {{
        status: kernel ? kernel.status : 'no kernel',
        pending: code.filter(c => c.execution_count === null).length,
        errors: errors,
    }};
}}"""


def _run_all_cells(page: Page, server: LabServer) -> None:
    page.goto(server.url(f"lab/tree/{NOTEBOOK}"), wait_until="domcontentloaded")
    page.wait_for_function(f"() => ({FIND_PANEL_JS})() !== null", timeout=60_000)
    page.evaluate(OPEN_AND_RUN_ALL_JS)
    deadline = time.monotonic() + RUN_ALL_TIMEOUT_S
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        state = page.evaluate(EXECUTION_STATE_JS)
        if state["errors"]:
            pytest.fail(f"a cell of {NOTEBOOK} failed in the browser: {state['errors']}")
        if state["status"] == "idle" and state["pending"] == 0:
            return
        time.sleep(0.5)
    pytest.fail(f"{NOTEBOOK} did not finish within {RUN_ALL_TIMEOUT_S} s (last state "
                f"{state}); server log:\n{server.log_tail()}")


def _wait_for_idle_kernel(page: Page, timeout: float = 20, settle_polls: int = 3) -> None:
    """Wait until the kernel has stayed idle for a few polls in a row (slider updates arrive
    as a burst of messages, with short idle gaps between them)."""
    deadline, idle_polls = time.monotonic() + timeout, 0
    while idle_polls < settle_polls:
        if time.monotonic() > deadline:
            pytest.fail(f"the kernel did not become idle within {timeout:.0f} s")
        idle_polls = idle_polls + 1 if page.evaluate(EXECUTION_STATE_JS)["status"] == "idle" else 0
        time.sleep(0.2)


def _playground(page: Page) -> Locator:
    """The output area that holds the AuctionPlayground widget, once it has rendered."""
    widget = page.locator(".jp-OutputArea-output").filter(
        has=page.locator("td.utility")).filter(has=page.locator("label", has_text="your bid"))
    widget.wait_for(state="visible", timeout=WIDGET_UPDATE_TIMEOUT_MS)
    return widget


def _bid_slider(playground: Locator) -> Locator:
    return playground.locator(".widget-slider").filter(
        has=playground.page.locator("label", has_text="your bid"))


def _utility(playground: Locator, mechanism: str) -> Locator:
    return playground.locator(f"td.utility[data-mechanism='{mechanism}']")


def _expect_utilities(playground: Locator, first_price: str, vickrey: str) -> None:
    from playwright.sync_api import expect

    for mechanism, text in (("first_price", first_price), ("vickrey", vickrey)):
        expect(_utility(playground, mechanism)).to_have_text(
            text, timeout=WIDGET_UPDATE_TIMEOUT_MS)


def _type_bid(slider: Locator, bid: str) -> None:
    """Type a bid into the slider's editable readout, as a user can in ipywidgets 8."""
    readout = slider.locator(".widget-readout")
    readout.click()
    readout.press("Control+a")
    readout.press_sequentially(bid)
    readout.press("Enter")


def _press_arrows(page: Page, slider: Locator, key: str, times: int) -> None:
    """Reach the slider's handle from the keyboard alone (Shift+Tab from the bid's text box,
    the next stop in the tab order) and move it, one step per key press."""
    from playwright.sync_api import expect

    handle = slider.locator(".noUi-handle")
    slider.locator(".widget-readout").focus()
    page.keyboard.press("Shift+Tab")
    expect(handle).to_be_focused()
    for _ in range(times):
        page.keyboard.press(key)


# ---------------------------------------------------------------------------------------------


def test_auction_playground_in_the_browser(lab_server: LabServer, browser_page: Page) -> None:
    """Value 0.80 against bids 0.45 and 0.62. Bidding 0.80 wins: first price charges the bid
    (utility 0), Vickrey charges 0.62 (utility 0.18). Bidding 0.50 loses under both rules;
    bidding 0.70 wins again, and only the first-price utility depends on the bid."""
    from playwright.sync_api import expect

    page, playground = browser_page, None
    try:
        _run_all_cells(page, lab_server)
        # The title cell's badges render as links (to this notebook on Colab and on Binder).
        for url in (launch.colab_url(NOTEBOOK), launch.binder_url(NOTEBOOK)):
            expect(page.locator(f'.jp-RenderedMarkdown a[href="{url}"] img')).to_have_count(1)
        playground = _playground(page)
        playground.scroll_into_view_if_needed()
        slider = _bid_slider(playground)
        readout = slider.locator(".widget-readout")
        expect(readout).to_have_text("0.80")
        _expect_utilities(playground, first_price="+0.00", vickrey="+0.18")

        _type_bid(slider, "0.5")
        expect(readout).to_have_text("0.50")
        _expect_utilities(playground, first_price="+0.00", vickrey="+0.00")

        _press_arrows(page, slider, "ArrowRight", 20)
        expect(readout).to_have_text("0.70")
        _expect_utilities(playground, first_price="+0.10", vickrey="+0.18")
        # The figure is redrawn after the table: let the kernel finish that update so that
        # the screenshot shows the final curve.
        _wait_for_idle_kernel(page)
        expect(playground.locator(".jp-OutputArea-output img")).to_have_count(1)
    finally:
        _screenshot(page, playground)


def _screenshot(page: Page, playground: Locator | None) -> None:
    """The playground's output area (sliders, table and figure), or the whole page when it
    was not found; and the whole JupyterLab window. Best effort: on a failing run the
    assertion, not a screenshot error, is what gets reported."""
    path = output_dir("browser") / SCREENSHOT
    try:
        if playground is not None and playground.count() == 1:
            playground.scroll_into_view_if_needed(timeout=5000)
            playground.screenshot(path=str(path), timeout=10_000)
        else:
            page.screenshot(path=str(path), timeout=10_000)
        path = output_dir("browser") / PAGE_SCREENSHOT
        page.screenshot(path=str(path), timeout=10_000)
    except Exception as error:
        warnings.warn(f"no screenshot saved to {path}: {error}", stacklevel=1)
