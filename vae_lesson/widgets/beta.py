"""The beta explorer of ``notebooks/07_conditional_and_beta.ipynb``: a slider that moves along the models of a beta
sweep (:func:`vae_lesson.rate_distortion.train_beta_sweep`), showing where each sits on the rate-distortion plane
with its reconstructions and samples. Every picture is rendered once, when the widget is made, so that moving the
slider only swaps images.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import ipywidgets as widgets
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from vae_lesson.i18n import N_, tr
from vae_lesson.plots import digit_pixels, figure_png, png_bytes
from vae_lesson.rate_distortion import BetaRun, plot_rate_distortion
from vae_lesson.widgets.rendering import SLIDER_STYLE, SLIDER_WIDTH, image_row, locked, show_png
from vae_lesson.widgets.snapshot import _ShowsPicture

__all__ = ["BetaExplorer"]


class BetaExplorer(_ShowsPicture):
    """A slider over the betas of a sweep; for the chosen model, the rate-distortion plane with that model ringed,
    the evaluation digits above their reconstructions, and samples from the prior.

    ``runs``: the sweep (a list of :class:`vae_lesson.rate_distortion.BetaRun`, in increasing beta); ``inputs``:
    the images the reconstructions are of, (n, 28, 28); ``elbo_levels``: lines D + R = const to draw.
    Drive it with ``select(beta)``; read ``beta``, ``current_image()`` (the reconstructions' and samples' strip
    shown, a float32 array) and ``current_images()`` ({"inputs", "reconstructions", "samples"}, each (n, 28, 28)).
    Its caption is in the language of the course's messages when it is shown (the rate-distortion plane is drawn
    in English). Taught in ``notebooks/07_conditional_and_beta.ipynb``.
    """

    SNAPSHOT_ACTION = N_("move the β slider")

    def __init__(self, runs: Sequence[BetaRun], inputs: np.ndarray, elbo_levels: Sequence[float] = (),
                 scale: int = 2) -> None:
        if not runs:
            raise ValueError("the beta explorer needs at least one model of a sweep.")
        betas = [run.beta for run in runs]
        if betas != sorted(betas) or len(set(betas)) != len(betas):
            raise ValueError(f"the sweep's betas must be distinct and increasing, got {betas}.")
        self.runs, self.inputs, self.scale = list(runs), np.asarray(inputs, np.float32), scale
        self._lock = threading.RLock()
        points = {f"β={run.beta:g}": run.point for run in self.runs}
        self._planes = [self._plane_png(points, f"β={run.beta:g}", elbo_levels) for run in self.runs]
        self.slider = widgets.SelectionSlider(options=[(f"{b:g}", b) for b in betas], value=betas[0], description="β",
                                              continuous_update=True, layout=widgets.Layout(width=SLIDER_WIDTH),
                                              style=SLIDER_STYLE)
        self.plane_image = widgets.Image(format="png")
        self.digits_image = widgets.Image(format="png")
        self.caption = widgets.HTML()
        self.slider.observe(lambda _change: self._refresh(), names="value")
        self.widget = widgets.VBox([self.slider, image_row([
            self.plane_image, widgets.VBox([self.caption, self.digits_image])])])
        self._refresh()

    @staticmethod
    def _plane_png(points: dict, highlight: str, elbo_levels: Sequence[float]) -> bytes:
        fig = Figure(figsize=(4.6, 3.6))
        FigureCanvasAgg(fig)
        plot_rate_distortion(points, fig.add_subplot(), elbo_levels, highlight=highlight)
        fig.tight_layout()
        return figure_png(fig)

    @property
    def beta(self) -> float:
        """The beta of the model shown."""
        return float(self.slider.value)

    @property
    def run(self) -> BetaRun:
        """The model shown, with its measurements."""
        return self.runs[[run.beta for run in self.runs].index(self.beta)]

    @locked
    def select(self, beta: float) -> None:
        """Show the model trained with ``beta`` (one of the sweep's)."""
        betas = [run.beta for run in self.runs]
        if beta not in betas:
            raise ValueError(f"no model was trained with beta = {beta!r}: choose one of {betas}.")
        self.slider.value = float(beta)  # its observer redraws

    @locked
    def current_images(self) -> dict[str, np.ndarray]:
        """What is displayed: 'inputs', 'reconstructions' and 'samples', each (n, 28, 28) float32."""
        run = self.run
        return {"inputs": self.inputs.copy(), "reconstructions": run.reconstructions.numpy().astype(np.float32),
                "samples": run.samples.numpy().astype(np.float32)}

    @locked
    def current_image(self) -> np.ndarray:
        """The strip of digits shown: inputs, reconstructions and samples stacked, (3n, 28, 28) float32."""
        images = self.current_images()
        return np.concatenate([images["inputs"], images["reconstructions"], images["samples"]])

    @locked
    def _refresh(self) -> None:
        run = self.run
        show_png(self.plane_image, self._planes[self.runs.index(run)])
        columns = len(self.inputs)
        show_png(self.digits_image, png_bytes(digit_pixels(self.current_image(), self.scale, columns=columns)))
        self.caption.value = tr("<b>β = {beta:g}</b>: R = {rate:.1f} nats, D = {distortion:.1f} nats, {active} active "
                                "units<br>rows: test digits, their reconstructions, samples from the prior",
                                beta=run.beta, rate=run.point.rate, distortion=run.point.distortion,
                                active=run.active_units)
