"""Notebook 04 in the real JupyterLab, in a real browser (Debian's chromium driven by Playwright).

Starts ``jupyter lab`` on 127.0.0.1 with a token on a copy of the notebook (so that autosave never touches the
repository), runs all cells, waits until every code cell has executed (read from the notebook *model*: JupyterLab
draws only the cells on screen), checks that no cell output is an error, drags the explorer's first slider and
checks that the displayed digit changes. A screenshot is saved to a temporary folder and its path printed.

Without chromium or Playwright the test is skipped, unless ``VAE_LESSON_REQUIRE_BROWSER=1`` (CI sets it), where
their absence is a failure.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "04_latent_explorer.ipynb"
REQUIRED = os.environ.get("VAE_LESSON_REQUIRE_BROWSER") == "1"


def _need(condition: bool, what: str) -> None:
    if not condition:
        if REQUIRED:
            pytest.fail(f"{what} (VAE_LESSON_REQUIRE_BROWSER=1; .ci/run installs it)")
        pytest.skip(what)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def jupyter_lab():
    """A JupyterLab server on a temporary copy of notebook 04; yields (base URL, token, folder)."""
    folder = Path(tempfile.mkdtemp(prefix="vae-lesson-browser-"))
    (folder / "course").mkdir()  # what JupyterLab serves: only the notebook, as a student would see it
    shutil.copy(NOTEBOOK, folder / "course" / NOTEBOOK.name)
    settings = folder / "settings" / "@jupyterlab"
    (settings / "notebook-extension").mkdir(parents=True)
    (settings / "apputils-extension").mkdir(parents=True)
    # Render every cell, not only those on screen, so that the widgets exist in the DOM to be found;
    # and no news pop-up over the notebook (it would also try to reach the internet).
    (settings / "notebook-extension" / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    (settings / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(folder / "settings"), "TQDM_DISABLE": "1",
           "JUPYTER_RUNTIME_DIR": str(folder / "runtime")}
    log = open(folder / "jupyter.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={folder / 'course'}",
         "--LabApp.expose_app_in_browser=True", "--ServerApp.port_retries=0",
         *(["--allow-root"] if os.geteuid() == 0 else [])],  # CI containers often run as root
        cwd=folder / "course", env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"jupyter lab did not start: {(folder / 'jupyter.log').read_text()[-2000:]}")
                time.sleep(0.5)
        yield base, token, folder
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


CELL_STATE = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    if (!panel || !panel.content || !panel.content.model) return null;
    const cells = panel.content.model.cells;
    const states = [];
    for (let i = 0; i < cells.length; i++) {
        const cell = cells.get(i);
        if (cell.type !== 'code') continue;
        const errors = [];
        for (let j = 0; j < cell.outputs.length; j++) {
            const output = cell.outputs.get(j);
            if (output.type === 'error') errors.push(output.toJSON().ename + ': ' + output.toJSON().evalue);
            if (output.type === 'stream' && output.toJSON().name === 'stderr') errors.push('stderr: ' + output.toJSON().text);
        }
        states.push({index: i, count: cell.executionCount, errors: errors});
    }
    return states;
}"""


def test_latent_explorer_in_jupyterlab(jupyter_lab):
    _need(Path(CHROMIUM).exists(), f"{CHROMIUM} is not installed (apt install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need(False, "Playwright for Python is not installed (pip install playwright)")
    base, token, folder = jupyter_lab
    shot = Path(tempfile.mkdtemp(prefix="vae-lesson-screenshot-")) / "04_latent_explorer.png"
    with sync_playwright() as playwright:
        # a persistent context is how Playwright takes a fresh --user-data-dir
        context = playwright.chromium.launch_persistent_context(
            str(folder / "chromium-profile"), executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
            viewport={"width": 1400, "height": 1000},
        )
        try:
            page = context.new_page()
            page.goto(f"{base}/lab/tree/{NOTEBOOK.name}?token={token}")
            page.wait_for_function(
                "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                " && window.jupyterapp.shell.currentWidget.sessionContext"
                " && window.jupyterapp.shell.currentWidget.sessionContext.session"
                " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
                " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.connectionStatus === 'connected'",
                timeout=90_000,
            )
            # The stored notebook has execution counts already: clear them, so that waiting for every count
            # really waits for this run.
            page.evaluate("() => window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
            page.wait_for_function(f"() => ({CELL_STATE})().every(c => c.count === null)", timeout=30_000)
            page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
            page.wait_for_function(
                f"() => {{ const s = ({CELL_STATE})(); return s.length > 0 && s.every(c => c.count !== null) }}",
                timeout=240_000, polling=500,
            )
            states = page.evaluate(f"({CELL_STATE})()")
            errors = [(state["index"], error) for state in states for error in state["errors"]]
            assert not errors, f"cells with error output: {errors}"
            assert [state["count"] for state in states] == list(range(1, len(states) + 1)), states

            slider = page.locator(".widget-slider").first
            slider.scroll_into_view_if_needed()
            image = page.locator(".widget-image").first  # the explorer's decoded digit
            page.wait_for_function("() => document.querySelector('.widget-image') && "
                                   "document.querySelector('.widget-image').naturalWidth > 0", timeout=30_000)
            before = image.screenshot()
            readout_before = page.locator(".widget-readout").first.inner_text()
            handle = slider.locator(".noUi-handle")
            box = handle.bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.mouse.down()
            page.mouse.move(box["x"] + box["width"] / 2 + 60, box["y"] + box["height"] / 2, steps=8)
            page.mouse.up()
            deadline = time.monotonic() + 15
            while image.screenshot() == before:
                assert time.monotonic() < deadline, "the displayed digit did not change after the slider moved"
                page.wait_for_timeout(200)
            readout_after = page.locator(".widget-readout").first.inner_text()
            assert readout_after != readout_before, (readout_before, readout_after)
            page.screenshot(path=str(shot))
            print(f"\nscreenshot of the explorer in JupyterLab: {shot}  (slider z[0]: {readout_before} -> "
                  f"{readout_after})")
        finally:
            context.close()
