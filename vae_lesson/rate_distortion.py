"""beta and the rate-distortion plane (Alemi et al. 2018, "Fixing a Broken ELBO"): train a VAE for each of several
weights beta of the KL, place each on the plane of distortion D = -E[log p(x|z)] against rate R = E[KL(q(z|x) || p(z))],
and keep what the notebook and its widget show of each (reconstructions, samples, active units).

Training maximises E[log p(x|z)] - beta KL, i.e. minimises D + beta R: beta sets the exchange rate between nats of
code and nats of distortion, so each beta picks its own point of the plane. The ELBO, -(D + R), is constant along
the lines of slope -1. Taught in ``notebooks/07_conditional_and_beta.ipynb``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from matplotlib.axes import Axes
from torch import Tensor

from vae_lesson.data import pixel_means
from vae_lesson.evaluation import RateDistortion, active_units, rate_distortion, reconstruction_means, sample_means
from vae_lesson.models import VAE
from vae_lesson.train import History, fit


@dataclass
class BetaRun:
    """One model of a beta sweep: its ``beta``, the ``model`` and its training ``history``, its place on the plane
    (``point``, on the evaluation images), its ``active_units``, and pictures: ``reconstructions`` of the evaluation
    images' first few and ``samples`` decoded from the prior (each (n, 28, 28) pixel probabilities)."""

    beta: float
    model: VAE
    history: History
    point: RateDistortion
    active_units: int
    reconstructions: Tensor
    samples: Tensor


def train_beta_sweep(betas: Sequence[float], x_train: Tensor, x_eval: Tensor, epochs: int, latent_dim: int = 16,
                     hidden: Sequence[int] = (256,), num_pictures: int = 8, seed: int = 0,
                     **fit_args) -> list[BetaRun]:
    """Train one VAE (``latent_dim``, one hidden layer of 256 by default: small, to train in seconds) per beta on
    ``x_train`` (grey levels in [0, 1], dynamically binarized by :func:`vae_lesson.train.fit`), each from the same
    seeded initialization and minibatch order, then measure each on the binary images ``x_eval``.
    ``fit_args`` go to ``fit`` (by default notebook 03's recipe, KL warm-up included; the warm-up ends at beta).
    Taught in ``notebooks/07_conditional_and_beta.ipynb``."""
    if not betas or any(not float(b) > 0 for b in betas):
        raise ValueError(f"betas must be positive numbers, got {list(betas)!r}.")
    runs = []
    for beta in betas:
        with torch.random.fork_rng():  # the same initial weights for every beta, the notebook's random state untouched
            torch.manual_seed(seed)
            model = VAE(latent_dim, hidden=hidden)
        model.init_output_bias(x_train)
        history = fit(model, x_train, epochs, beta=float(beta), generator=torch.Generator().manual_seed(seed),
                      progress=False, **fit_args)
        runs.append(BetaRun(
            beta=float(beta), model=model, history=history,
            point=rate_distortion(model, x_eval, generator=torch.Generator().manual_seed(seed)),
            active_units=active_units(model, x_eval)[0],
            reconstructions=reconstruction_means(model, x_eval[:num_pictures]).reshape(-1, 28, 28),
            samples=sample_means(model, num_pictures, torch.Generator().manual_seed(seed)).reshape(-1, 28, 28),
        ))
    return runs


def collapsed_point(x_train: Tensor, x_eval: Tensor, clip: float = 1e-3) -> RateDistortion:
    """Where a fully collapsed VAE sits: R = 0 (q(z|x) = p(z) for every x, so z says nothing) and D the distortion
    of the best decoder that ignores z, one independent Bernoulli per pixel with the training images' mean
    intensity (what ``init_output_bias`` starts a decoder at), on the binary images ``x_eval``. Nats per image."""
    x_train, x_eval = x_train.reshape(len(x_train), -1), x_eval.reshape(len(x_eval), -1)
    p = pixel_means(x_train).clamp(clip, 1 - clip)
    log_p = (x_eval.double() * p.log() + (1 - x_eval.double()) * (1 - p).log()).sum(1)
    return RateDistortion(0.0, -log_p.mean().item())


def plot_rate_distortion(points: Mapping[str, RateDistortion], ax: Axes, elbo_levels: Sequence[float] = (),
                         highlight: str | None = None, annotations: Mapping[str, str] | None = None,
                         paths: Mapping[str, Sequence[RateDistortion]] | None = None,
                         label_offsets: Mapping[str, tuple[float, float]] | None = None) -> Axes:
    """Draw models on the rate-distortion plane: distortion D on the horizontal axis, rate R on the vertical (as in
    Alemi et al. 2018, Fig. 1), one labelled dot per model; dashed lines D + R = -ELBO for each of ``elbo_levels``
    (values of D + R, in nats); the ``highlight``-ed model ringed. ``annotations`` add text beside chosen models;
    ``paths`` draw labelled lines through sequences of points (e.g. a training run epoch by epoch, its first
    point marked "epoch 1"). ``label_offsets`` move chosen models' labels (in points from the dot; default (6, 4))."""
    names = list(points)
    d = np.array([points[n].distortion for n in names])
    r = np.array([points[n].rate for n in names])
    ax.scatter(d, r, s=30, color="tab:blue", zorder=3)
    all_d, all_r = d, r  # every point drawn, for the axes' limits
    for (label, path), colour in zip((paths or {}).items(), ["tab:orange", "tab:green", "tab:purple"]):
        path_d, path_r = [p.distortion for p in path], [p.rate for p in path]
        ax.plot(path_d, path_r, "-o", ms=3, color=colour, label=label, zorder=2)
        ax.annotate("epoch 1", (path_d[0], path_r[0]), textcoords="offset points", xytext=(4, 2), fontsize=7,
                    color=colour)
        all_d, all_r = np.append(all_d, path_d), np.append(all_r, path_r)
    for name, di, ri in zip(names, d, r):
        text = name + ("" if annotations is None or name not in annotations else f"\n{annotations[name]}")
        offset = (label_offsets or {}).get(name, (6, 4))
        ax.annotate(text, (di, ri), textcoords="offset points", xytext=offset, fontsize=8)
    if highlight is not None:
        ax.scatter([points[highlight].distortion], [points[highlight].rate], s=180, facecolors="none",
                   edgecolors="tab:red", lw=2, zorder=4)
    # room for the labels beside the dots: 10% beyond the largest distortion, 15% above the largest rate
    x_max, y_max = 1.1 * max(all_d.max(), *elbo_levels, 1.0), 1.15 * max(all_r.max(), 1.0)
    for level in elbo_levels:  # D + R = level, from (level, 0) up and to the left, slope -1
        ax.plot([level, level - y_max], [0, y_max], ls="--", lw=0.8, color="grey", zorder=1)
        # labelled where the line leaves the plot at the top (or at the left edge, for a line that leaves there)
        top = (level - y_max, y_max) if level >= y_max else (0.0, level)
        ax.annotate(f"D+R={level:g}", top, textcoords="offset points", xytext=(3, -10), fontsize=7, color="grey")
    ax.set(xlim=(0, x_max), ylim=(0, y_max), xlabel="distortion D = −E[log p(x|z)] (nats per image)",
           ylabel="rate R = E[KL(q(z|x) ‖ p(z))] (nats per image)")
    return ax
