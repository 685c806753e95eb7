"""Latency in the browser: notebook 04's 2-D LatentExplorer, from a slider's change in the page to the new picture.

Opens notebook 04 in JupyterLab in headless Chromium (the setup of tests/test_browser.py), runs it, and clicks the
first latent slider's track (of the 2-D explorer, or with ``--explorer 32d`` the 32-D one) at ``--moves``
positions spread over its range, as a student would. For each click it measures, in the page, with
``performance.now()``:

- **sent**: to the moment the page sends the slider's new value to the kernel (a wrapper around the page's
  ``WebSocket.send``, installed before JupyterLab connects);
- **first** and **answered**: to the arrival of the first and of the last message received between that send and
  the image's change (expected: the kernel's "busy" status, and the message carrying the new PNG; the script does
  not read the messages' contents);
- **changed**: to the moment the explorer's ``<img>`` gets its new ``src`` (seen by a MutationObserver);
- **decoded**: to the end of ``img.decode()``;
- **frame**: to the frame that shows the new image (the first animation frame after decoding, then a message
  posted from it, which runs once the main thread has done that frame's work; rasterization and display follow):
  what the student sees, end to end, less those last steps;
- **painted**: the earlier measure, two ``requestAnimationFrame`` callbacks, which waits for one more frame.

Prints medians and 90th percentiles (and how many moves each stage was seen in), then the same kind of kernel
reached directly over ZMQ (a fresh python3 kernel through jupyter_client: no server, no browser), an empty execute
request timed to its "busy" status and to its reply. Compare the kernel's own work with benchmarks/widget_latency.py.
Nothing here is a test: timings depend on the machine, and on a 2-core machine the browser, the server and the
kernel share the cores.

Usage:  python benchmarks/browser_latency.py [--moves 40] [--explorer 2d|32d]
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

#: Installed in the page before the notebook's kernel connects: notes when the page sends a message to the kernel
#: (the first after a press is the slider's new value) and when each message from the server arrives.
WIRETAP = """() => {
    window.__sent = [];
    window.__received = [];
    const send = WebSocket.prototype.send;
    WebSocket.prototype.send = function (data) { window.__sent.push(performance.now()); return send.call(this, data); };
    // message listeners, function or object (handleEvent), get a timing wrapper; removal finds it again
    const wrappers = new WeakMap();
    const timed = (listener) => {
        if (!listener || (typeof listener !== 'function' && typeof listener.handleEvent !== 'function')) return listener;
        if (!wrappers.has(listener)) {
            wrappers.set(listener, function (event) {
                window.__received.push(performance.now());
                return typeof listener === 'function' ? listener.call(this, event) : listener.handleEvent(event);
            });
        }
        return wrappers.get(listener);
    };
    const add = WebSocket.prototype.addEventListener, remove = WebSocket.prototype.removeEventListener;
    WebSocket.prototype.addEventListener = function (type, listener, options) {
        return add.call(this, type, type === 'message' ? timed(listener) : listener, options);
    };
    WebSocket.prototype.removeEventListener = function (type, listener, options) {
        return remove.call(this, type, type === 'message' && listener && wrappers.has(listener) ? wrappers.get(listener) : listener, options);
    };
    const onmessage = Object.getOwnPropertyDescriptor(WebSocket.prototype, 'onmessage');
    const handlers = new WeakMap();  // the handler the page set, for the getter
    Object.defineProperty(WebSocket.prototype, 'onmessage', {
        configurable: true,
        set(handler) { handlers.set(this, handler); onmessage.set.call(this, typeof handler === 'function' ? timed(handler) : handler); },
        get() { return handlers.has(this) ? handlers.get(this) : onmessage.get.call(this); },
    });
}"""

#: Installed in the page on the explorer's digit image: one record per new image. "frame" is when the frame that
#: shows the new image has been prepared: the first animation frame after the image is decoded, then a message
#: posted from it, which runs once the main thread has done that frame's work, before rasterization and display
#: (a second requestAnimationFrame, used before, waits for the frame after, and overstates by up to a frame).
OBSERVE = """(img) => {
    window.__latency = [];
    window.__pressed = null;
    document.addEventListener('pointerdown', () => { window.__pressed = performance.now(); }, true);
    const after = (t) => (window.__sent.find((s) => s >= t) ?? NaN);
    new MutationObserver(async () => {
        const pressed = window.__pressed, changed = performance.now();
        const sent = after(pressed);
        const replies = window.__received.filter((r) => r >= sent && r <= changed);
        const first = replies[0] ?? NaN, answer = replies.pop() ?? NaN;
        await img.decode();
        const decoded = performance.now();
        requestAnimationFrame(() => {
            const channel = new MessageChannel();
            channel.port1.onmessage = () => {
                const frame = performance.now();
                requestAnimationFrame(() => window.__latency.push({
                    sent: sent - pressed, first: first - pressed, answered: answer - pressed, changed: changed - pressed,
                    decoded: decoded - pressed, frame: frame - pressed, painted: performance.now() - pressed,
                }));
            };
            channel.port2.postMessage(null);
        });
    }).observe(img, {attributes: true, attributeFilter: ['src']});
}"""

#: What each record's fields measure, in the order printed.
STAGES = {
    "sent": "pointer press -> the new value's message leaves for the kernel",
    "first": "pointer press -> the first message back arrives (expected: the kernel's 'busy')",
    "answered": "pointer press -> the last message before the new src arrives (expected: the new PNG)",
    "changed": "pointer press -> new image src",
    "decoded": "pointer press -> new image decoded",
    "frame": "pointer press -> the frame showing it (end to end)",
    "painted": "pointer press -> the frame after that (double requestAnimationFrame, as measured before)",
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


#: The explorers that --explorer can choose, in notebook 04's order: the 2-D one also redraws the latent scatter.
EXPLORERS = ("2d", "32d")


def measure(moves: int, explorer: str = "2d") -> dict[str, list[float]]:
    with lab.jupyter_lab_server([NOTEBOOK]) as (base, token, folder), lab.chromium_context(folder) as context:
        page = context.new_page()
        page.add_init_script(f"({WIRETAP})()")
        lab._open_and_run_all(page, base, token, NOTEBOOK.name)
        # outputs with latent sliders: the 2-D explorer (z[0], z[1]) first, then the 32-D one; the first image is the digit
        cell = page.locator(".jp-Cell").filter(has=page.locator(".widget-slider")).nth(EXPLORERS.index(explorer))
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
    return {key: [r[key] for r in records] for key in STAGES}


def kernel_round_trip(requests: int = 30) -> dict[str, list[float]]:
    """The same kind of kernel, reached directly over ZMQ (jupyter_client: no server, no browser): milliseconds from
    sending an empty execute request to its "busy" status and to its reply, one request at a time."""
    import time

    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3")
    rows: dict[str, list[float]] = {"busy": [], "reply": []}
    try:
        client.execute_interactive("pass", timeout=60)
        for _ in range(requests):
            start = time.perf_counter()
            msg_id = client.execute("pass", store_history=False)
            while True:
                msg = client.get_iopub_msg(timeout=10)
                if msg["parent_header"].get("msg_id") == msg_id and msg["content"].get("execution_state") == "busy":
                    rows["busy"].append((time.perf_counter() - start) * 1e3)
                    break
            client.get_shell_msg(timeout=10)
            rows["reply"].append((time.perf_counter() - start) * 1e3)
            while client.get_iopub_msg(timeout=10)["content"].get("execution_state") != "idle":
                pass
            time.sleep(0.3)  # idle between requests, as between a student's clicks
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--moves", type=int, default=40, help="slider moves to time (at least 30)")
    parser.add_argument("--explorer", choices=EXPLORERS, default="2d",
                        help="notebook 04's 2-D LatentExplorer (digit and latent scatter; the default) or the 32-D one "
                             "(the digit only)")
    args = parser.parse_args()
    results = measure(args.moves, args.explorer)
    print(f"{args.explorer.upper()} LatentExplorer in JupyterLab (headless Chromium), {len(results['painted'])} slider moves:")
    for key, label in STAGES.items():
        values = [v for v in results[key] if v == v]  # NaN where a stage was not seen
        if not values:
            print(f"  {label}: not seen")
            continue
        print(f"  {label}: median {statistics.median(values):.1f} ms, "
              f"90th percentile {percentile(values, 0.9):.1f} ms ({len(values)} moves)")
    direct = kernel_round_trip()
    print("The same kind of kernel reached directly over ZMQ (no server, no browser), an empty execute request:")
    for key, label in (("busy", "request -> 'busy'"), ("reply", "request -> reply")):
        print(f"  {label}: median {statistics.median(direct[key]):.1f} ms, "
              f"90th percentile {percentile(direct[key], 0.9):.1f} ms")


if __name__ == "__main__":
    main()
