"""Plot helpers shared by the notebooks. Each takes ``ax=None``/``fig=None`` and returns what it drew on;
none saves files or changes global style.

``show_digits`` is taught in ``notebooks/00_start_here.ipynb``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure


def _as_images(images: torch.Tensor | np.ndarray) -> np.ndarray:
    array = images.detach().cpu().numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    if array.ndim == 2 and array.shape[1] == 784:
        array = array.reshape(-1, 28, 28)
    if array.ndim != 3:
        raise ValueError(f"expected images of shape (N, 28, 28) or (N, 784), got {tuple(array.shape)}.")
    return array


def show_digits(
    images: torch.Tensor | np.ndarray,
    labels: Sequence[object] | torch.Tensor | None = None,
    ncols: int = 10,
    fig: Figure | None = None,
    title: str | None = None,
) -> Figure:
    """A grid of digit images (N, 28, 28) or (N, 784), values in [0, 1], with optional labels under each.

    Returns the figure; pass ``fig`` to draw into an existing one.
    Taught in ``notebooks/00_start_here.ipynb``; used by every notebook that shows digits.
    """
    array = _as_images(images)
    n = len(array)
    if labels is not None and len(labels) != n:
        raise ValueError(f"got {n} images but {len(labels)} labels.")
    ncols = max(1, min(ncols, n))
    nrows = max(1, math.ceil(n / ncols))
    if fig is None:
        fig = plt.figure(figsize=(1.0 * ncols, 1.15 * nrows + (0.3 if title else 0.0)))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i < n:
            ax.imshow(array[i], cmap="gray_r", vmin=0.0, vmax=1.0, interpolation="nearest")
            if labels is not None:
                label = labels[i].item() if isinstance(labels[i], torch.Tensor) else labels[i]
                ax.set_title(str(label), fontsize=9, pad=2)
    if title:
        fig.suptitle(title)
    return fig
