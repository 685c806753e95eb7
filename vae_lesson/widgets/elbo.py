"""The ELBO explorer of ``notebooks/01_elbo.ipynb``: move a 1-D Gaussian q(z) with two sliders and watch
ELBO + KL(q || p(z|x)) stay equal to log p(x), on a linear-Gaussian model where all three numbers are exact.
"""

from __future__ import annotations

import math
import threading

import ipywidgets as widgets
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from vae_lesson.i18n import tr
from vae_lesson.linear_gaussian import LinearGaussianModel
from vae_lesson.plots import figure_png
from vae_lesson.widgets.rendering import locked, on_step, show_png
from vae_lesson.widgets.snapshot import _ShowsPicture


def _gaussian_pdf(z: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    """The density of N(mean, std^2) at the points z."""
    return torch.exp(-0.5 * ((z - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))


class ElboExplorer(_ShowsPicture):
    """Move a 1-D Gaussian q(z) = N(mean, exp(log_std)^2) and watch ELBO + KL(q || p(z|x)) stay equal to log p(x).

    ``model`` is a :class:`LinearGaussianModel` with a 1-D latent, ``x`` one data point (D,) or (1, D).
    Sliders ``.mean`` and ``.log_std`` (step ``STEP``) set q; ``.values()`` returns the exact log p(x), ELBO and KL
    for it; ``.widget`` holds the sliders, the densities of q and the posterior, and a bar chart of the three
    numbers. Safe to drive from two threads at once (a cell, and the browser's messages that ipykernel 7 handles
    on another thread). The sliders' labels are in the language of the course's messages when it is made; the
    figure's labels stay English (matplotlib's default font has no Hangul). Taught in ``notebooks/01_elbo.ipynb``.
    """

    LOG_STD_RANGE = (-3.0, 1.0)
    STEP = 0.001  # the sliders' step: fine enough that the posterior itself is on the grid to print precision
    SLIDER_WIDTH = "520px"

    def __init__(self, model: LinearGaussianModel, x: torch.Tensor, mean_halfwidth: float = 3.0) -> None:
        if model.latent_dim != 1:
            raise ValueError(f"ElboExplorer needs a model with a 1-D latent, got latent_dim = {model.latent_dim}.")
        self.model = model
        self.x = model._check_x(x.reshape(1, -1))
        post_mean, post_cov = model.posterior(self.x)
        self.post_mean, self.post_std = post_mean.item(), post_cov.sqrt().item()
        self.log_px = model.log_marginal(self.x).item()

        self._lock = threading.RLock()
        centre = round(self.post_mean, 1)
        self.mean = self._slider(tr("q mean"), round(centre - 1.5, 2), centre - mean_halfwidth, centre + mean_halfwidth)
        self.log_std = self._slider(tr("q log-std"), 0.0, *self.LOG_STD_RANGE)
        self._build_figure()
        self.image = widgets.Image(format="png")
        self.readout = widgets.HTML()
        self.widget = widgets.VBox([self.mean, self.log_std, self.image, self.readout])
        self._holding = False
        for slider in (self.mean, self.log_std):
            slider.observe(self._on_change, names="value")
        self.update()

    def _slider(self, description: str, value: float, low: float, high: float) -> widgets.FloatSlider:
        """A slider from ``low`` to ``high`` (rounded to the step's decimals) with step ``STEP``."""
        decimals = max(0, -math.floor(math.log10(self.STEP) + 1e-9))
        return widgets.FloatSlider(value=value, min=round(low, decimals), max=round(high, decimals), step=self.STEP,
                                   description=description, continuous_update=True, readout_format=f".{decimals}f",
                                   layout=widgets.Layout(width=self.SLIDER_WIDTH))

    @locked
    def values(self) -> dict[str, float]:
        """Exact log p(x), ELBO and KL(q || p(z|x)) in nats for the q the sliders set."""
        q_mean = torch.tensor([[self.mean.value]], dtype=self.model.W.dtype)
        q_cov = torch.tensor([[math.exp(2 * self.log_std.value)]], dtype=self.model.W.dtype)
        elbo = self.model.elbo(self.x, q_mean, q_cov).item()
        kl = self.model.kl_to_posterior(self.x, q_mean, q_cov).item()
        return {"log p(x)": self.log_px, "ELBO": elbo, "KL": kl}

    @locked
    def set_q(self, mean: float, log_std: float) -> tuple[float, float]:
        """Drive the sliders from code (one redraw); values outside the sliders' ranges are an error, not clipped.

        Each value is rounded to its slider's step (``STEP``), as the browser would round it, so that what the widget
        shows is what ``values()`` reports; returns the (mean, log_std) set.
        """
        for slider, value, name in ((self.mean, mean, "mean"), (self.log_std, log_std, "log_std")):
            if not slider.min <= value <= slider.max:
                raise ValueError(f"{name} = {value} is outside the slider's range [{slider.min}, {slider.max}].")
        # Each slider notifies its observer as soon as it is set (a container's hold_trait_notifications holds only
        # the container's own traits), so the observer is told to skip those redraws, and one redraw follows.
        self._holding = True
        try:
            self.mean.value, self.log_std.value = on_step(self.mean, mean), on_step(self.log_std, log_std)
        finally:
            self._holding = False
        self.update()
        return self.mean.value, self.log_std.value

    def _build_figure(self) -> None:
        self.fig = Figure(figsize=(9, 3.2))
        FigureCanvasAgg(self.fig)
        self.ax_density, self.ax_bars = self.fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.6, 1]})
        self.z = torch.linspace(self.mean.min - 1.5, self.mean.max + 1.5, 400)
        post = _gaussian_pdf(self.z, self.post_mean, self.post_std)
        self.ax_density.plot(self.z, post, color="black", label="posterior p(z|x)")
        (self.q_line,) = self.ax_density.plot(self.z, post, color="tab:orange", label="q(z)")
        self.ax_density.set_xlabel("latent z")
        self.ax_density.set_ylabel("density")
        self.ax_density.set_ylim(0, 1.3 * max(post.max().item(), _gaussian_pdf(torch.zeros(1), 0, 0.2).item()))
        self.ax_density.legend(loc="upper right")
        self.bars = self.ax_bars.bar(["log p(x)", "ELBO", "KL"], [0, 0, 0], color=["black", "tab:orange", "tab:red"])
        # the KL drawn again on top of the ELBO bar: together they reach exactly log p(x)
        (self.gap,) = self.ax_bars.bar(["ELBO"], [0], bottom=[0], color="none", edgecolor="tab:red", hatch="//",
                                       label="gap = KL")
        self.ax_bars.legend(loc="upper left", fontsize=8)
        self.ax_bars.axhline(0, color="grey", lw=0.8)
        self.ax_bars.set_ylabel("nats")
        low = self.log_px - 10
        self.bar_limits = (min(low, -10) - 1, max(10, -low) + 1)
        self.ax_bars.set_ylim(*self.bar_limits)
        self.ax_bars.set_title("ELBO + KL = log p(x)")
        self.fig.tight_layout()

    @locked
    def _on_change(self, _change: dict) -> None:
        if not self._holding:  # read under the lock: set_q on another thread may be holding the redraws
            self.update()

    @locked
    def update(self) -> None:
        """Redraw q's density, the bars and the readout for the current slider values."""
        values = self.values()
        self.q_line.set_ydata(_gaussian_pdf(self.z, self.mean.value, math.exp(self.log_std.value)))
        for bar, value in zip(self.bars, values.values()):
            bar.set_height(value)
        self.gap.set_y(values["ELBO"])
        self.gap.set_height(values["KL"])
        # the bars' axis grows to show a large KL (and the ELBO it pushes down) whole, and shrinks back after
        low, high = self.bar_limits
        self.ax_bars.set_ylim(min(low, 1.08 * values["ELBO"]), max(high, 1.08 * values["KL"]))
        show_png(self.image, figure_png(self.fig))
        self.readout.value = tr(
            "log p(x) = {log_p:.4f} &nbsp; ELBO = {elbo:.4f} &nbsp; KL = {kl:.4f} &nbsp; ELBO + KL = {total:.4f} nats",
            log_p=values["log p(x)"], elbo=values["ELBO"], kl=values["KL"], total=values["ELBO"] + values["KL"])
