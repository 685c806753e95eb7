"""Anomaly detection with a density model: corruptions that make out-of-distribution images, ROC curves and
AUROC, and scoring a data set by its estimated log-likelihood.

Convention throughout: a **score** is an anomaly score, and a **higher score means more anomalous** (every function
named ``*score*`` returns one). :func:`log_likelihoods` returns log p(x), not a score: its anomaly score is its negative.
Taught in ``notebooks/05_density_and_anomalies.ipynb``.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from vae_lesson.elbo import elbo, iwae_bound
from vae_lesson.models import VAE, flatten_images


# --- corruptions: each maps images (N, 28, 28) in [0, 1] to images of the same shape and range ---------------------

def _check_images(x: Tensor) -> None:
    if x.ndim != 3 or x.shape[1:] != (28, 28):
        raise ValueError(f"expected images of shape (N, 28, 28), got {tuple(x.shape)}.")


def gaussian_noise(x: Tensor, generator: torch.Generator | None = None, std: float = 0.3) -> Tensor:
    """Add N(0, std^2) noise to every pixel, then clip to [0, 1]."""
    _check_images(x)
    return (x + std * torch.randn(x.shape, generator=generator, dtype=x.dtype)).clamp_(0.0, 1.0)


def occlusion(x: Tensor, generator: torch.Generator | None = None, size: int = 10) -> Tensor:
    """Cover a ``size`` x ``size`` square at a random position of each image with full ink (value 1)."""
    _check_images(x)
    out = x.clone()
    corners = torch.randint(0, 28 - size + 1, (len(x), 2), generator=generator)
    for image, (row, col) in zip(out, corners.tolist()):
        image[row : row + size, col : col + size] = 1.0
    return out


def rotate90(x: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Rotate each image by 90 degrees counter-clockwise (deterministic; ``generator`` is accepted for uniformity)."""
    _check_images(x)
    return torch.rot90(x, 1, dims=(1, 2)).contiguous()


def invert(x: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Swap ink and background: 1 - x (deterministic; ``generator`` is accepted for uniformity)."""
    _check_images(x)
    return 1.0 - x


def shuffle_pixels(x: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Permute each image's 784 pixels at random: the same ink, no shape."""
    _check_images(x)
    order = torch.rand(len(x), 784, generator=generator).argsort(dim=1)
    return x.reshape(len(x), 784).gather(1, order).reshape(x.shape)


CORRUPTIONS: dict[str, Callable[[Tensor, torch.Generator | None], Tensor]] = {
    "Gaussian noise": gaussian_noise,
    "occlusion": occlusion,
    "rotated 90°": rotate90,
    "inverted": invert,
    "shuffled pixels": shuffle_pixels,
}
"""The corruptions of notebook 05, by name."""


# --- ROC and AUROC ------------------------------------------------------------------------------------------------

def _scores(scores_in: Tensor, scores_out: Tensor) -> tuple[Tensor, Tensor]:
    scores_in, scores_out = torch.as_tensor(scores_in).double().flatten(), torch.as_tensor(scores_out).double().flatten()
    if len(scores_in) == 0 or len(scores_out) == 0:
        raise ValueError("both score lists must be non-empty.")
    if not (torch.isfinite(scores_in).all() and torch.isfinite(scores_out).all()):
        raise ValueError("scores must be finite (no NaN or inf).")
    return scores_in, scores_out


def roc_curve(scores_in: Tensor, scores_out: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """The ROC curve of flagging an image as anomalous when its score is at least a threshold.

    Higher score = more anomalous. ``scores_in``: scores of in-distribution images (negatives);
    ``scores_out``: scores of anomalies (positives). Returns (false positive rate, true positive rate,
    thresholds), from the strictest threshold (nothing flagged: (0, 0)) to the loosest (everything: (1, 1)).
    """
    scores_in, scores_out = _scores(scores_in, scores_out)
    scores = torch.cat([scores_in, scores_out])
    is_out = torch.cat([torch.zeros(len(scores_in)), torch.ones(len(scores_out))]).double()
    order = torch.argsort(scores, descending=True, stable=True)
    scores, is_out = scores[order], is_out[order]
    last_of_group = torch.ones(len(scores), dtype=torch.bool)
    last_of_group[:-1] = scores[1:] != scores[:-1]  # ties share one threshold
    tp = torch.cumsum(is_out, 0)[last_of_group]
    fp = torch.cumsum(1 - is_out, 0)[last_of_group]
    zero = torch.zeros(1, dtype=torch.float64)
    tpr = torch.cat([zero, tp / len(scores_out)])
    fpr = torch.cat([zero, fp / len(scores_in)])
    thresholds = torch.cat([torch.tensor([float("inf")], dtype=torch.float64), scores[last_of_group]])
    return fpr, tpr, thresholds


def auroc(scores_in: Tensor, scores_out: Tensor) -> float:
    """Area under the ROC curve: the probability that a random anomaly scores higher than a random
    in-distribution image, ties counting one half. Higher score = more anomalous; 1.0 separates perfectly,
    0.5 is chance, 0.0 is perfectly reversed. Computed from ranks (the Mann-Whitney U statistic)."""
    scores_in, scores_out = _scores(scores_in, scores_out)
    rank_sum_out = ranks(torch.cat([scores_in, scores_out]))[len(scores_in):].sum().item()
    n_in, n_out = len(scores_in), len(scores_out)
    return (rank_sum_out - n_out * (n_out + 1) / 2) / (n_in * n_out)


def score_margin(scores_in: Tensor, scores_out: Tensor) -> float:
    """How far the typical anomaly's score lies above the typical in-distribution score, in units of the
    in-distribution scores' spread: (median(scores_out) - median(scores_in)) / std(scores_in), a plain number.

    Higher score = more anomalous. The AUROC saturates at 1 once the two sets separate; the margin keeps measuring
    how far apart they are, which is what decides how robust a threshold is. Taught in
    ``notebooks/05_density_and_anomalies.ipynb``.
    """
    scores_in, scores_out = _scores(scores_in, scores_out)
    if len(scores_in) < 2:
        raise ValueError("scores_in needs at least two scores to have a spread.")
    spread = scores_in.std().item()
    if spread == 0:
        raise ValueError("the in-distribution scores are all equal: their spread is zero, so the margin is undefined.")
    return (scores_out.median().item() - scores_in.median().item()) / spread


# --- scoring a data set -------------------------------------------------------------------------------------------

def log_likelihoods(
    model: VAE, x: Tensor, num_samples: int = 100, generator: torch.Generator | None = None,
    batch_size: int = 500, bound: str = "iwae",
) -> Tensor:
    """Estimated log p(x) per binary image of x (N, 784) or (N, 28, 28), (N,) nats, computed in chunks of
    ``batch_size`` images: ``bound="iwae"`` uses L_k with k = ``num_samples``; ``bound="elbo"`` a
    ``num_samples``-sample ELBO. Grey images are refused (binarize them first). Higher = more typical: the anomaly
    score is its negative, -log p(x). Taught in ``notebooks/05_density_and_anomalies.ipynb``."""
    if bound not in ("iwae", "elbo"):
        raise ValueError(f"bound must be 'iwae' or 'elbo', got {bound!r}.")
    x = flatten_images(x)
    parts = []
    with torch.no_grad():
        for start in range(0, len(x), batch_size):
            xb = x[start : start + batch_size]
            if bound == "iwae":
                parts.append(iwae_bound(model, xb, num_samples, generator))
            else:
                parts.append(elbo(model, xb, num_samples, generator))
    return torch.cat(parts)


# --- rank agreement and a complexity correction ------------------------------------------------------------------

def ranks(values: Tensor) -> Tensor:
    """Ranks 1..N of a 1-D tensor, ties sharing their average rank."""
    _, inverse, counts = torch.unique(values.double(), return_inverse=True, return_counts=True)
    ends = torch.cumsum(counts, 0).double()
    return (ends - (counts.double() - 1) / 2)[inverse]


def spearman(a: Tensor, b: Tensor) -> float:
    """Spearman's rank correlation of two score lists: 1 when they order the items identically."""
    ra, rb = ranks(torch.as_tensor(a).flatten()), ranks(torch.as_tensor(b).flatten())
    return torch.corrcoef(torch.stack([ra, rb]))[0, 1].item()


def complexity_nats(x_binary: Tensor) -> Tensor:
    """A model-free measure of how complex each binary image is: the length of its zlib-compressed pixels,
    converted from bits to nats, shape (N,). Blank and simple images compress to little; noise to a lot."""
    bits = flatten_images(x_binary).to(torch.uint8).numpy()
    lengths = [8 * len(zlib.compress(np.packbits(row).tobytes(), 9)) for row in bits]
    return torch.tensor(lengths, dtype=torch.float64) * math.log(2)


def complexity_corrected_score(log_px: Tensor, x_binary: Tensor) -> Tensor:
    """Anomaly score -log p(x) - complexity(x) (Serrà et al. 2020): the model's code length for x minus a generic
    compressor's. High when the model explains x worse than a general-purpose compressor does; higher = more anomalous."""
    return -log_px.double() - complexity_nats(x_binary)
