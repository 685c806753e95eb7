"""The latent scatter that the 2-D widgets of ``notebooks/04_latent_explorer.ipynb`` draw on: the test set's codes,
rendered once, with a marker, an ellipse and sample points blitted on top for each update.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence

import numpy as np
import torch
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse

from vae_lesson.plots import png_bytes
from vae_lesson.widgets.rendering import locked


class LatentScatter:
    """The posterior means of many images in a 2-D latent, coloured by label, rendered once; a marker, an
    ellipse and sample points are then drawn on top by blitting, which takes milliseconds, not a new figure.

    The axes span [-limit, limit] on both dimensions; ``limit=None`` chooses the smallest whole number >= 4 that
    shows every mean. ``marker="cross"`` draws a large ✖ at the point; ``marker="crosshair"`` thin cross-hairs,
    drawn under a red ellipse and small sample dots, so that a narrow posterior (sigma ~ 0.03) stays visible. ``render`` may be called
    from several threads: the shared canvas is drawn under a lock.
    """

    def __init__(self, means: torch.Tensor, labels: torch.Tensor, limit: float | None = 4.0, size: float = 3.6,
                 dpi: int = 80, marker: str = "cross") -> None:
        if marker not in ("cross", "crosshair"):
            raise ValueError(f"marker must be 'cross' or 'crosshair', got {marker!r}.")
        self._lock = threading.RLock()
        if limit is None:
            limit = max(4.0, math.ceil(float(torch.as_tensor(means).abs().max()) + 0.25))
        self.limit = float(limit)
        self.means = np.asarray(means, np.float64)
        # each code's colour at alpha 0.5 on white, as the scatter draws it, for the zoom
        self._faded = (255 - 0.5 * (255 - 255 * colormaps["tab10"](np.asarray(labels) % 10)[:, :3])).astype(np.uint8)
        self.fig = Figure(figsize=(size + 0.8, size), dpi=dpi)
        self.canvas = FigureCanvasAgg(self.fig)
        self.ax = self.fig.add_subplot()
        points = self.ax.scatter(means[:, 0], means[:, 1], c=labels, cmap="tab10", vmin=-0.5, vmax=9.5, s=2,
                                 alpha=0.5, rasterized=True)
        self.fig.colorbar(points, ax=self.ax, ticks=range(10), label="digit")
        self.ax.set(xlim=(-limit, limit), ylim=(-limit, limit), xlabel="z[0]", ylabel="z[1]", aspect="equal")
        self.ax.set_title("test set: means of q(z|x)", fontsize=9)
        self._marker_first = marker == "crosshair"
        (self.samples,) = self.ax.plot([], [], ".", color="black", ms=2.5 if self._marker_first else 4, animated=True)
        self.ellipse = Ellipse((0, 0), 0, 0, fill=False, edgecolor="tab:red" if self._marker_first else "black",
                               lw=1.5, animated=True)
        self.ax.add_patch(self.ellipse)
        style = ({"marker": "X", "color": "black", "mec": "white", "ms": 11} if marker == "cross" else
                 {"marker": "+", "color": "black", "mew": 0.8, "ms": 18})
        (self.marker,) = self.ax.plot([], [], ls="none", animated=True, **style)
        self.fig.tight_layout()
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(self.fig.bbox)

    @locked
    def render(self, point: Sequence[float], ellipse: tuple[Sequence[float], Sequence[float]] | None = None,
               samples: np.ndarray | None = None) -> bytes:
        """PNG of the scatter with a marker at ``point``, optionally an axis-aligned ellipse (centre, (width,
        height)) and sample points."""
        self.canvas.restore_region(self.background)
        self.marker.set_data([point[0]], [point[1]])
        if self._marker_first:
            self.ax.draw_artist(self.marker)
        if ellipse is not None:
            self.ellipse.set_center(tuple(ellipse[0]))
            self.ellipse.set_width(ellipse[1][0])
            self.ellipse.set_height(ellipse[1][1])
            self.ax.draw_artist(self.ellipse)
        if samples is not None:
            self.samples.set_data(samples[:, 0], samples[:, 1])
            self.ax.draw_artist(self.samples)
        if not self._marker_first:
            self.ax.draw_artist(self.marker)
        return png_bytes(np.asarray(self.canvas.buffer_rgba())[..., :3].copy())

    def zoom(self, point: Sequence[float], std: Sequence[float], samples: np.ndarray | None = None,
             size: int = 132) -> tuple[bytes, float]:
        """A PNG (size x size) zoomed on ``point``: the test codes near it, the ellipse of 2 standard deviations
        ``std``, the samples and cross-hairs at the point, drawn with numpy (about a millisecond, no figure); and
        the half-width of its square window in latent units (3 standard deviations of the wider axis, >= 0.05).
        Taught in ``notebooks/04_latent_explorer.ipynb`` (the digit encoder)."""
        centre, std = np.asarray(point, np.float64), np.asarray(std, np.float64)
        half = max(3.0 * float(std.max()), 0.05)
        pixels = np.full((size, size, 3), 255, np.uint8)

        def to_pixels(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            column = np.rint((z[:, 0] - centre[0] + half) / (2 * half) * (size - 1)).astype(int)
            row = np.rint((centre[1] + half - z[:, 1]) / (2 * half) * (size - 1)).astype(int)
            return row, column

        def dots(z: np.ndarray, colours: np.ndarray) -> None:
            """3 x 3 pixel dots at the codes z, all in one assignment."""
            row, column = to_pixels(z)
            offsets = np.arange(-1, 2)
            rows = (row[:, None, None] + offsets[None, :, None]).repeat(3, axis=2).reshape(len(z), 9)
            columns = (column[:, None, None] + offsets[None, None, :]).repeat(3, axis=1).reshape(len(z), 9)
            inside = (rows >= 0) & (rows < size) & (columns >= 0) & (columns < size)
            colours = np.broadcast_to(colours, (len(z), 3))[:, None, :].repeat(9, axis=1)
            pixels[rows[inside], columns[inside]] = colours[inside]

        near = np.all(np.abs(self.means - centre) <= half * 1.05, axis=1)
        dots(self.means[near], self._faded[near])
        angle = np.linspace(0, 2 * np.pi, 4 * size)
        dots(centre + 2 * std * np.stack([np.cos(angle), np.sin(angle)], axis=1), np.array([214, 39, 40], np.uint8))
        if samples is not None and len(samples):
            dots(np.asarray(samples, np.float64), np.zeros(3, np.uint8))
        middle, arm = (size - 1) // 2, size // 12
        pixels[middle, middle - arm:middle + arm + 1] = pixels[middle - arm:middle + arm + 1, middle] = 0
        pixels[[0, -1], :] = pixels[:, [0, -1]] = 160  # a grey frame
        return png_bytes(pixels), half
