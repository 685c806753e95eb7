"""Latency in the browser: notebook 04's 2-D LatentExplorer, from a slider's change in the page to the new picture.

Opens notebook 04 in JupyterLab in headless Chromium (the setup of tests/test_browser.py), runs it, and clicks the
first latent slider's track at ``--moves`` positions spread over its range, as a student would. For each click it
measures, in the page, with ``performance.now()``:

- **image changed**: from the pointer press to the moment the explorer's ``<img>`` gets its new ``src`` (seen by a
  MutationObserver): the widget's message to the kernel, the kernel's decoding and PNG encoding, the message back;
- **painted**: to the end of the next frame after the new image is decoded (``img.decode()`` then two
  ``requestAnimationFrame`` callbacks): what the student sees.

Prints medians and 90th percentiles, and the kernel-side time of the same updates as
benchmarks/widget_latency.py measures it, for comparison. Nothing here is a test: timings depend on the machine.

Usage:  python benchmarks/browser_latency.py [--moves 40]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import test_browser as lab  # noqa: E402  (the JupyterLab and Chromium setup of the browser test)

NOTEBOOK = ROOT / "notebooks" / "04_latent_explorer.ipynb"

#: Installed in the page on the explorer's digit image: one record per new image.
OBSERVE = """(img) => {
    window.__latency = [];
    window.__pressed = null;
    document.addEventListener('pointerdown', () => { window.__pressed = performance.now(); }, true);
    new MutationObserver(async () => {
        const pressed = window.__pressed, changed = performance.now();
        await img.decode();
        requestAnimationFrame(() => requestAnimationFrame(() => {
            window.__latency.push({changed: changed - pressed, painted: performance.now() - pressed});
        }));
    }).observe(img, {attributes: true, attributeFilter: ['src']});
}"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def measure(moves: int) -> dict[str, list[float]]:
    with lab.jupyter_lab_server([NOTEBOOK]) as (base, token, folder), lab.chromium_context(folder) as context:
        page = context.new_page()
        lab._open_and_run_all(page, base, token, NOTEBOOK.name)
        # the first output with latent sliders is the 2-D explorer (z[0], z[1]); its first image is the digit
        cell = page.locator(".jp-Cell").filter(has=page.locator(".widget-slider")).first
        cell.scroll_into_view_if_needed()
        page.evaluate(OBSERVE, cell.locator("img.widget-image").first.element_handle())
        slider = cell.locator(".widget-slider").first
        track, readout = slider.locator(".noUi-target").bounding_box(), slider.locator(".widget-readout")
        attempt = 0
        while page.evaluate("() => window.__latency.length") < moves:
            attempt += 1
            if attempt > 3 * moves:
                raise RuntimeError(f"only {page.evaluate('() => window.__latency.length')} of {attempt} clicks moved z[0]")
            # positions spread over the track, far apart from one click to the next: each click moves z[0]
            fraction = 0.05 + 0.9 * ((attempt * 7) % 41) / 40
            count, value = page.evaluate("() => window.__latency.length"), readout.inner_text()
            page.mouse.click(track["x"] + fraction * track["width"], track["y"] + track["height"] / 2)
            try:
                page.wait_for_function(f"() => window.__latency.length > {count}", timeout=10_000)
            except Exception:
                if readout.inner_text() == value:  # the click landed on the handle itself: nothing moved
                    continue
                raise
            page.wait_for_timeout(300)  # let the kernel go idle: one move at a time, as a student clicks
        records = page.evaluate("() => window.__latency")[:moves]
    return {key: [r[key] for r in records] for key in ("changed", "painted")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--moves", type=int, default=40, help="slider moves to time (at least 30)")
    args = parser.parse_args()
    results = measure(args.moves)
    print(f"2-D LatentExplorer in JupyterLab (headless Chromium), {len(results['painted'])} slider moves:")
    for key, label in (("changed", "pointer press -> new image src"), ("painted", "pointer press -> painted")):
        values = results[key]
        print(f"  {label}: median {statistics.median(values):.1f} ms, "
              f"90th percentile {percentile(values, 0.9):.1f} ms")


if __name__ == "__main__":
    main()
