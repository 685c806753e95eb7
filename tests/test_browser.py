"""Every notebook with widgets, in the real JupyterLab, in a real browser (Debian's chromium driven by Playwright).

For each course notebook whose stored outputs contain a widget (today 01, 04 and 07), JupyterLab is started on a copy
of it (so that autosave never touches the repository) and, as a student would:

- all cells are run (Run All), and every code cell must execute without an error or stderr output. Run All is
  timed and printed against the same notebook run headless (nbclient) just before;
- every rendered widget image must be non-blank (not transparent, not a single colour) and keep its natural aspect
  ratio (``clientWidth / clientHeight`` within 2% of ``naturalWidth / naturalHeight``);
- every control of every widget is moved: each slider dragged with the mouse, each text box typed into (Enter),
  each button clicked, each toggle button pressed, each dropdown changed. After each, the widget's picture must
  change (dropdowns, which only choose what a button does, are exempt), and all its images must still be non-blank
  and undistorted;
- notebook 01: the ElboExplorer shows the state its cell left it in, the numbers the cell prints (item 2 of
  issue 14: values set from code are on the sliders' step, so the browser sends nothing different back).

Screenshots of each widget after Run All and after its controls moved, and ``timings.json``, are saved to a folder
whose path is printed (``python -m pytest tests/test_browser.py -s``); ``VAE_LESSON_SCREENSHOTS=DIR`` chooses it.

Without chromium or Playwright the tests are skipped, unless ``VAE_LESSON_REQUIRE_BROWSER=1`` (CI sets it), where
their absence is a failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from vae_lesson.classroom import course_notebooks

CHROMIUM = "/usr/bin/chromium"
NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
REQUIRED = os.environ.get("VAE_LESSON_REQUIRE_BROWSER") == "1"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
VIEWPORT = {"width": 1400, "height": 900}  # a laptop's browser window
RUN_ALL_TIMEOUT_MS = 480_000  # notebook 04 under CI's second configuration (one thread, no AVX2) is the slowest
ASPECT_TOLERANCE = 0.02
MIN_TRACK_PX = 240


def widget_notebooks() -> list[Path]:
    """The course's notebooks whose stored outputs show a widget."""
    found = []
    for path in course_notebooks(NOTEBOOKS_DIR):
        nb = nbformat.read(path, as_version=4)
        if any(WIDGET_MIME in output.get("data", {}) for cell in nb.cells if cell.cell_type == "code"
               for output in cell.outputs):
            found.append(path)
    return found


WIDGET_NOTEBOOKS = widget_notebooks()


def test_the_browser_test_covers_the_widget_notebooks():
    """Notebooks 01 (ElboExplorer), 04 (latent-space widgets) and 07 (conditional and beta explorers) are found, so
    none can drop out unnoticed."""
    names = [path.name for path in WIDGET_NOTEBOOKS]
    assert {"01_elbo.ipynb", "04_latent_explorer.ipynb", "07_conditional_and_beta.ipynb"} <= set(names), names


def _need(condition: bool, what: str) -> None:
    if not condition:
        if REQUIRED:
            pytest.fail(f"{what} (VAE_LESSON_REQUIRE_BROWSER=1; .ci/run installs it)")
        pytest.skip(what)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def screenshots() -> Path:
    """The folder for screenshots and timings (printed at the end)."""
    folder = Path(os.environ.get("VAE_LESSON_SCREENSHOTS") or tempfile.mkdtemp(prefix="vae-lesson-screenshots-"))
    folder.mkdir(parents=True, exist_ok=True)
    yield folder
    print(f"\nscreenshots of the widgets in JupyterLab, and timings.json: {folder}")


@contextlib.contextmanager
def jupyter_lab_server(notebooks: list[Path]):
    """A JupyterLab server on temporary copies of ``notebooks``; yields (base URL, token, folder).
    Also used by benchmarks/browser_latency.py."""
    folder = Path(tempfile.mkdtemp(prefix="vae-lesson-browser-"))
    (folder / "course").mkdir()  # what JupyterLab serves: only the notebooks, as a student would see them
    for path in notebooks:
        shutil.copy(path, folder / "course" / path.name)
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


@contextlib.contextmanager
def chromium_context(folder: Path):
    """A headless chromium with a fresh profile in ``folder``, driven by Playwright; yields the browser context.
    Also used by benchmarks/browser_latency.py."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # a persistent context is how Playwright takes a fresh --user-data-dir
        context = playwright.chromium.launch_persistent_context(
            str(folder / "chromium-profile"), executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
            viewport=VIEWPORT,
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="module")
def jupyter_lab():
    """A JupyterLab server on temporary copies of the widget notebooks; yields (base URL, token, folder)."""
    with jupyter_lab_server(WIDGET_NOTEBOOKS) as server:
        yield server


@pytest.fixture(scope="module")
def browser(jupyter_lab):
    """A headless chromium (a fresh profile) driven by Playwright; yields the browser context."""
    _need(Path(CHROMIUM).exists(), f"{CHROMIUM} is not installed (apt install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _need(False, "Playwright for Python is not installed (pip install playwright)")
    with chromium_context(jupyter_lab[2]) as context:
        yield context


CELL_STATE = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    if (!panel || !panel.content || !panel.content.model) return null;
    const cells = panel.content.model.cells;
    const states = [];
    for (let i = 0; i < cells.length; i++) {
        const cell = cells.get(i);
        if (cell.type !== 'code') continue;
        const errors = [], texts = [];
        for (let j = 0; j < cell.outputs.length; j++) {
            const output = cell.outputs.get(j).toJSON();
            if (output.output_type === 'error') errors.push(output.ename + ': ' + output.evalue);
            if (output.output_type === 'stream') {
                const text = Array.isArray(output.text) ? output.text.join('') : output.text;
                if (output.name === 'stderr') errors.push('stderr: ' + text); else texts.push(text);
            }
        }
        states.push({index: i, count: cell.executionCount, errors: errors, text: texts.join('')});
    }
    return states;
}"""

# What each rendered image inside an element shows: its natural and displayed size, whether it is blank, and a hash
# of its pixels (to tell whether the picture changed). Images not displayed (zero size) are reported as such.
IMAGES = """async (root) => {
    const result = [];
    for (const img of root.querySelectorAll('img.widget-image')) {
        if (!img.complete || img.naturalWidth === 0) { try { await img.decode(); } catch (e) {} }
        const info = {natural: [img.naturalWidth, img.naturalHeight], client: [img.clientWidth, img.clientHeight]};
        if (img.naturalWidth > 0) {
            const canvas = document.createElement('canvas');
            canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
            const context = canvas.getContext('2d');
            context.drawImage(img, 0, 0);
            const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
            let opaque = 0, hash = 2166136261;
            const colours = new Set();
            for (let i = 0; i < data.length; i += 4) {
                if (data[i + 3] > 0) opaque++;
                if (colours.size < 16) colours.add(data[i] * 16777216 + data[i + 1] * 65536 + data[i + 2] * 256 + data[i + 3]);
                hash = Math.imul(hash ^ (data[i] | data[i + 1] << 8 | data[i + 2] << 16 | data[i + 3] << 24), 16777619);
            }
            info.opaque = opaque; info.colours = colours.size; info.hash = hash >>> 0;
        }
        result.push(info);
    }
    return result;
}"""

# Text each control would type: keyed by the box's description. ``{n}`` is the number of sliders in the widget.
TYPED = {"digit #": ["123", "4"], "type z": ["0.6", "-0.4"], "from #": ["3", "5"], "to #": ["4", "6"]}


def _images(cell) -> list[dict]:
    return cell.evaluate(IMAGES)


def _check_images(cell, where: str) -> list[dict]:
    """Every displayed image in ``cell`` is non-blank and undistorted; returns their descriptions."""
    images = _images(cell)
    assert images, f"{where}: no image in the widget"
    for number, image in enumerate(images):
        (nat_w, nat_h), (cli_w, cli_h) = image["natural"], image["client"]
        assert nat_w > 0 and nat_h > 0, f"{where}: image {number} has no picture ({image})"
        if cli_w == 0 and cli_h == 0:
            continue  # not displayed (a hidden panel)
        assert image["opaque"] > 0 and image["colours"] > 1, f"{where}: image {number} is blank ({image})"
        natural, shown = nat_w / nat_h, cli_w / cli_h
        assert abs(shown / natural - 1) <= ASPECT_TOLERANCE, (
            f"{where}: image {number} is distorted: natural {nat_w}x{nat_h}, displayed {cli_w}x{cli_h}")
    assert any(image["client"][0] > 0 for image in images), f"{where}: no image is displayed"
    return images


def _wait_for_change(page, cell, before: list[dict], what: str, timeout_s: float = 30) -> None:
    """Wait until some image in ``cell`` shows other pixels than ``before``."""
    hashes = [image.get("hash") for image in before]
    deadline = time.monotonic() + timeout_s
    while [image.get("hash") for image in _images(cell)] == hashes:
        assert time.monotonic() < deadline, f"{what}: the widget's picture did not change within {timeout_s} s"
        page.wait_for_timeout(150)


def _drag(page, slider) -> None:
    """Drag a slider's handle 60 px towards the middle of its track, as a student would with the mouse."""
    slider.scroll_into_view_if_needed()
    handle = slider.locator(".noUi-handle").bounding_box()
    track = slider.locator(".noUi-target").bounding_box()
    # a track long enough to aim with the mouse: 60 px is then a quarter of the range, not half of it
    assert track["width"] >= MIN_TRACK_PX, f"the slider's track is {track['width']:.0f} px long"
    x, y = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
    direction = 1 if x < track["x"] + track["width"] / 2 else -1
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + direction * 60, y, steps=6)
    page.mouse.up()


def _slider_count(cell) -> int:
    return cell.locator(".widget-slider").count()


def _exercise_controls(page, cell, where: str) -> list[str]:
    """Move every control of the widget in ``cell``; after each, its picture changes and stays sound. Returns what
    was done, for the report."""
    done = []
    sliders = cell.locator(".widget-slider")
    for k in range(sliders.count()):
        slider = sliders.nth(k)
        label = slider.locator(".widget-label").first.inner_text().strip()
        readout = slider.locator(".widget-readout")
        value_before, images = readout.inner_text(), _images(cell)
        _drag(page, slider)
        what = f"{where}, slider '{label}'"
        _wait_for_change(page, cell, images, what)
        assert readout.inner_text() != value_before, f"{what}: the readout did not move"
        _check_images(cell, what)
        done.append(f"slider {label}: {value_before} -> {readout.inner_text()}")

    boxes = cell.locator(".widget-text")
    for k in range(boxes.count()):
        box = boxes.nth(k)
        label = box.locator(".widget-label").inner_text().strip()
        assert label in TYPED, f"{where}: no value to type into the box '{label}': add one to TYPED"
        field = box.locator("input")
        current = field.input_value()
        text = next(t for t in TYPED[label] if t != current)
        if label == "type z":  # one number per slider
            text = ", ".join([text] * _slider_count(cell))
        images = _images(cell)
        field.scroll_into_view_if_needed()
        field.fill(text)
        field.press("Enter")
        what = f"{where}, box '{label}' <- {text[:20]}"
        _wait_for_change(page, cell, images, what)
        _check_images(cell, what)
        assert "⚠" not in cell.inner_text(), f"{what}: the widget reports an error: {cell.inner_text()[-300:]}"
        done.append(f"typed {text[:20]!r} into '{label}'")

    dropdowns = cell.locator(".widget-dropdown select")
    for k in range(dropdowns.count()):
        select = dropdowns.nth(k)
        options = select.locator("option").all_inner_texts()
        current = select.input_value()
        choice = next(option for option in options if option != current)
        select.select_option(label=choice)  # chooses what a button does: no picture change of its own
        done.append(f"dropdown {current} -> {choice}")

    buttons = cell.locator("button.widget-button")
    presses = [(buttons.nth(k), "button") for k in range(buttons.count())]
    toggles = cell.locator(".widget-toggle-buttons button")
    labels = toggles.all_inner_texts()
    active = cell.locator(".widget-toggle-buttons button.mod-active").all_inner_texts()
    # each toggle not pressed yet, then the one pressed at first again
    presses += [(toggles.filter(has_text=label), "toggle") for label in labels if label not in active]
    presses += [(toggles.filter(has_text=label), "toggle") for label in active]
    for button, kind in presses:
        label = button.inner_text().strip()
        images = _images(cell)
        button.scroll_into_view_if_needed()
        button.click()
        what = f"{where}, {kind} '{label}'"
        _wait_for_change(page, cell, images, what)
        _check_images(cell, what)
        done.append(f"{kind} '{label}'")
    return done


def _open_and_run_all(page, base: str, token: str, name: str) -> float:
    """Open notebook ``name``, clear its stored outputs, Run All, wait for every cell; returns seconds."""
    # a workspace of its own, reset: JupyterLab would otherwise reopen the previous notebook beside this one
    page.goto(f"{base}/lab/workspaces/{Path(name).stem}/tree/{name}?reset&token={token}")
    page.wait_for_function(
        f"() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
        f" && window.jupyterapp.shell.currentWidget.context"
        f" && window.jupyterapp.shell.currentWidget.context.path === {json.dumps(name)}"
        " && window.jupyterapp.shell.currentWidget.sessionContext"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.connectionStatus === 'connected'"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'",
        timeout=90_000,
    )
    # The stored notebook has execution counts already: clear them, so that waiting for every count really waits
    # for this run.
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
    page.wait_for_function(f"() => ({CELL_STATE})().every(c => c.count === null)", timeout=30_000)
    start = time.perf_counter()
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(
        f"() => {{ const s = ({CELL_STATE})(); return s.length > 0 && s.every(c => c.count !== null) }}",
        timeout=RUN_ALL_TIMEOUT_MS, polling=250,
    )
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'", timeout=60_000)
    return time.perf_counter() - start


def _headless_seconds(path: Path) -> float:
    """Seconds to run the notebook top to bottom in a fresh kernel without a browser (as nbval and nbconvert do)."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def _check_elbo_explorer_agrees(cell, states: list[dict]) -> str:
    """Notebook 01: after Run All the explorer shows the q that the cell after it left (its first printed line)."""
    printed = next(state["text"] for state in states if "q mean" in state["text"] and "ELBO" in state["text"])
    first = printed.splitlines()[0]
    elbo, kl = (float(re.search(rf"{name}\s+(-?\d+\.\d+)", first).group(1)) for name in ("ELBO", "KL"))
    time.sleep(2)  # anything the browser sends back would arrive now
    readout = cell.locator(".widget-html").last.inner_text()
    shown = {name: float(re.search(rf"{name} = (-?\d+\.\d+)", readout).group(1)) for name in ("ELBO", "KL")}
    assert shown == {"ELBO": elbo, "KL": kl}, f"the widget shows {readout!r}, the cell printed {first!r}"
    return f"explorer shows ELBO {shown['ELBO']}, KL {shown['KL']} as the cell printed"


@pytest.mark.parametrize("notebook", WIDGET_NOTEBOOKS, ids=lambda path: path.stem)
def test_widgets_in_jupyterlab(notebook: Path, jupyter_lab, browser, screenshots):
    base, token, folder = jupyter_lab
    headless = _headless_seconds(folder / "course" / notebook.name)
    page = browser.new_page()
    try:
        browser_seconds = _open_and_run_all(page, base, token, notebook.name)
        states = page.evaluate(f"({CELL_STATE})()")
        errors = [(state["index"], error) for state in states for error in state["errors"]]
        assert not errors, f"cells with error output: {errors}"
        assert [state["count"] for state in states] == list(range(1, len(states) + 1)), states

        cells = page.locator(".jp-Notebook .jp-CodeCell").filter(has=page.locator("img.widget-image"))
        expected = sum(WIDGET_MIME in output.get("data", {})
                       for cell in nbformat.read(notebook, as_version=4).cells if cell.cell_type == "code"
                       for output in cell.outputs)
        deadline = time.monotonic() + 60  # the views render after the kernel has answered
        while cells.count() != expected:
            assert time.monotonic() < deadline, f"{cells.count()} widgets shown, the stored notebook has {expected}"
            page.wait_for_timeout(250)
        report = []
        for k in range(cells.count()):
            cell = cells.nth(k)
            where = f"{notebook.stem}, widget {k + 1}"
            cell.scroll_into_view_if_needed()
            page.wait_for_function("cell => [...cell.querySelectorAll('img.widget-image')].every(i => i.complete)",
                                   arg=cell.element_handle(), timeout=30_000)
            shot = screenshots / f"{notebook.stem}_widget{k + 1}"
            cell.screenshot(path=f"{shot}_after_run_all.png")
            _check_images(cell, f"{where} after Run All")
            if notebook.name == "01_elbo.ipynb" and k == 0:
                report.append(_check_elbo_explorer_agrees(cell, states))
            try:
                report += _exercise_controls(page, cell, where)
            finally:  # on a failure too: the picture shows what went wrong
                cell.screenshot(path=f"{shot}_after_controls.png")
    finally:
        page.evaluate("() => window.jupyterapp.shell.currentWidget && window.jupyterapp.shell.currentWidget"
                      ".sessionContext && window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")
        page.close()
    timings_file = screenshots / "timings.json"
    timings = json.loads(timings_file.read_text()) if timings_file.exists() else {}
    timings[notebook.name] = {"run_all_in_jupyterlab_s": round(browser_seconds, 1), "headless_s": round(headless, 1)}
    timings_file.write_text(json.dumps(timings, indent=1))
    print(f"\n{notebook.name}: Run All in JupyterLab {browser_seconds:.1f} s, headless {headless:.1f} s "
          f"({browser_seconds / headless:.2f}x); {len(report)} controls moved:\n  " + "\n  ".join(report))
