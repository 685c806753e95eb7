"""Latency of notebook 04's and notebook 07's widgets, kernel side: from a slider's new value to the new image bytes
(decode plus PNG encoding, and for the 2-D model the scatter's marker), as the slider's observer runs it.

Beside it, a reference measured in the same run: the naive way, a new matplotlib figure per update, rendered to
PNG. Medians and 90th percentiles over many random slider values.

Usage:  python benchmarks/widget_latency.py [--updates N]
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from vae_lesson import pretrained  # noqa: E402
from vae_lesson.data import load_mnist  # noqa: E402
from vae_lesson.data import binarized_test_set, test_subset  # noqa: E402
from vae_lesson.rate_distortion import train_beta_sweep  # noqa: E402
from vae_lesson.widgets import BetaExplorer, ConditionalExplorer, DigitEncoder, Interpolator, LatentExplorer  # noqa: E402


def timed(action, values) -> list[float]:
    """Milliseconds of ``action(value)`` for each value."""
    times = []
    for value in values:
        start = time.perf_counter()
        action(value)
        times.append(1000 * (time.perf_counter() - start))
    return times


def naive_update(model, z: torch.Tensor, means: torch.Tensor | None = None, labels: torch.Tensor | None = None) -> bytes:
    """What the explorer avoids: decode, then a new figure per update (with the latent scatter and its marker,
    if ``means`` is given) rendered to PNG."""
    with torch.no_grad():
        image = torch.sigmoid(model.decode(z[None])).reshape(28, 28)
    fig, axes = plt.subplots(1, 2 if means is not None else 1, figsize=(5.5 if means is not None else 2.5, 2.5))
    ax = axes[0] if means is not None else axes
    ax.imshow(image, cmap="gray_r", vmin=0, vmax=1)
    ax.axis("off")
    if means is not None:
        axes[1].scatter(means[:, 0], means[:, 1], c=labels, cmap="tab10", s=2)
        axes[1].plot(z[0], z[1], "X", color="black")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    plt.close(fig)
    return buffer.getvalue()


def summary(name: str, times: list[float], reference: list[float] | None = None) -> None:
    median = statistics.median(times)
    p90 = statistics.quantiles(times, n=10)[-1]
    line = f"{name:<58} median {median:6.2f} ms, 90th percentile {p90:6.2f} ms"
    if reference:
        line += (f"  (a new figure per update: median {statistics.median(reference):.1f} ms, "
                 f"{statistics.median(reference) / median:.0f}x slower)")
    print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--updates", type=int, default=300, help="slider changes per measurement")
    args = parser.parse_args()
    print(f"# vae_lesson widget latency\nmachine: {platform.machine()}, {os.cpu_count()} CPUs, torch "
          f"{torch.__version__} with {torch.get_num_threads()} threads, Python {platform.python_version()}")
    x_test, y_test = load_mnist("test")
    g = torch.Generator().manual_seed(0)
    values = (torch.rand(args.updates, generator=g) * 6 - 3).tolist()

    for name in ["mnist-2d", "mnist-32d"]:
        model = pretrained.load(name)
        explorer = LatentExplorer(model, x_test, y_test)
        slider = explorer.sliders[0]

        def move(value: float) -> None:
            slider.value = value  # the observer decodes and re-encodes the image(s), as in the notebook

        timed(move, values[:20])  # warm-up
        scatter = (explorer.mu, explorer.labels) if explorer.scatter is not None else (None, None)
        reference = timed(lambda v: naive_update(model, explorer.z, *scatter), values[:60])
        what = "image + latent scatter marker" if explorer.scatter is not None else "image"
        summary(f"{name}: explorer slider -> new {what}", timed(move, values), reference)

    model = pretrained.load("mnist-32d")
    interpolator = Interpolator(model, x_test[0], x_test[1])
    ts = (torch.rand(args.updates, generator=g)).tolist()
    timed(lambda t: setattr(interpolator.t, "value", t), ts[:20])
    summary("mnist-32d: interpolator t slider -> new image", timed(lambda t: setattr(interpolator.t, "value", t), ts))
    encoder = DigitEncoder(pretrained.load("mnist-2d"), x_test, y_test)
    indices = torch.randint(len(x_test), (args.updates,), generator=g).tolist()
    summary("mnist-2d: encoder new digit -> images + ellipse", timed(encoder.select, indices))

    # notebook 07
    conditional = ConditionalExplorer(pretrained.load("mnist-cvae"), x_test, y_test)
    slider = conditional.sliders[0]
    timed(lambda v: setattr(slider, "value", v), values[:20])
    summary("mnist-cvae: conditional explorer slider -> digit + row of 10",
            timed(lambda v: setattr(slider, "value", v), values))
    labels = torch.randint(10, (args.updates,), generator=g).tolist()
    summary("mnist-cvae: conditional explorer class button -> digit + row",
            timed(lambda y: setattr(conditional.class_buttons, "value", y), labels))
    x_train, _ = load_mnist("train")
    runs = train_beta_sweep([0.1, 0.3, 1.0, 3.0, 10.0], x_train[:2000], binarized_test_set()[test_subset(300)], epochs=1)
    beta_explorer = BetaExplorer(runs, x_test[:8].numpy(), elbo_levels=[100, 140, 180])
    betas = [runs[i].beta for i in torch.randint(len(runs), (args.updates,), generator=g).tolist()]
    summary("beta explorer slider -> plane + strip (models of a 1-epoch sweep)",
            timed(lambda b: setattr(beta_explorer.slider, "value", b), betas))


if __name__ == "__main__":
    main()
