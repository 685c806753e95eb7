"""Drawing shared by the notebooks and their widgets. The plot helpers take ``ax=None``/``fig=None`` and return
what they drew on; nothing here saves files or changes global style.

``show_digits`` is taught in ``notebooks/00_start_here.ipynb``. The PNG renderers (``figure_png``, ``png_bytes``,
``digit_pixels``) feed the widgets of ``vae_lesson.widgets``: ``figure_png`` the ELBO explorer of
``notebooks/01_elbo.ipynb``, ``png_bytes`` and ``digit_pixels`` the latent-space widgets of
``notebooks/04_latent_explorer.ipynb``, which draw a digit straight from its pixels so that a slider responds at once.
"""

from __future__ import annotations

import io
import math
import struct
import zlib
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


def figure_png(fig: Figure, dpi: int = 80) -> bytes:
    """Render a matplotlib figure to PNG bytes (for an ``ipywidgets.Image``), without pyplot.

    Used by the ELBO explorer of ``notebooks/01_elbo.ipynb``.
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, tag, data, and the CRC-32 of tag and data (PNG specification, section 5.3)."""
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def png_bytes(pixels: np.ndarray) -> bytes:
    """Encode uint8 pixels, grey (H, W) or RGB (H, W, 3), as PNG bytes, without matplotlib (fast: zlib level 1).

    Used by the latent-space widgets of ``notebooks/04_latent_explorer.ipynb``.
    """
    if pixels.dtype != np.uint8 or pixels.ndim not in (2, 3) or (pixels.ndim == 3 and pixels.shape[2] != 3):
        raise ValueError(f"png_bytes expects uint8 pixels (H, W) or (H, W, 3), got {pixels.dtype} {pixels.shape}.")
    height, width = pixels.shape[:2]
    rows = np.concatenate([np.zeros((height, 1), np.uint8), pixels.reshape(height, -1)], axis=1)  # filter 0
    header = struct.pack(">IIBBBBB", width, height, 8, 0 if pixels.ndim == 2 else 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", zlib.compress(rows.tobytes(), 1))
            + _png_chunk(b"IEND", b""))


def digit_pixels(probabilities: np.ndarray | torch.Tensor, scale: int = 6, gap: int = 2,
                 columns: int | None = None) -> np.ndarray:
    """Pixel probabilities (28, 28), or a row of them (N, 28, 28), as dark ink on white uint8 pixels.

    The course's ``gray_r`` convention (0 is white paper, 1 black ink), enlarged ``scale`` times without smoothing,
    images side by side with ``gap`` white columns between them: shape (28 scale, N (28 scale + gap) - gap).
    With ``columns``, the images fill rows of that many (the last row padded with white paper), rows ``gap``
    white lines apart, so that a long row fits beside other panels.
    Used by the latent-space widgets of ``notebooks/04_latent_explorer.ipynb``, with ``png_bytes``.
    """
    images = np.asarray(probabilities, dtype=np.float32).reshape(-1, 28, 28)
    if columns is not None and len(images) > columns:
        if columns < 1:
            raise ValueError(f"columns must be at least 1, got {columns}.")
        rows = -(-len(images) // columns)
        padded = np.concatenate([images, np.zeros((rows * columns - len(images), 28, 28), np.float32)])
        strips = [digit_pixels(padded[r * columns:(r + 1) * columns], scale, gap) for r in range(rows)]
        spacer = np.full((gap, strips[0].shape[1]), 255, np.uint8)
        return np.concatenate([part for strip in strips for part in (strip, spacer)][:-1], axis=0)
    ink = np.rint(255.0 * (1.0 - np.clip(images, 0.0, 1.0))).astype(np.uint8)
    big = ink.repeat(scale, axis=1).repeat(scale, axis=2)
    if len(big) == 1:
        return big[0]
    spacer = np.full((28 * scale, gap), 255, np.uint8)
    parts = [part for image in big for part in (image, spacer)][:-1]
    return np.concatenate(parts, axis=1)
