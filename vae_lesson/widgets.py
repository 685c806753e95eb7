"""Interactive widgets of the course (ipywidgets 8). Each widget's logic lives in a class whose state
can be read and driven from Python, so it is tested without a browser; ``.widget`` is what a notebook displays.

``ElboExplorer`` is taught in ``notebooks/01_elbo.ipynb``; ``LatentExplorer``, ``DigitEncoder`` and
``Interpolator`` in ``notebooks/04_latent_explorer.ipynb``. The latent-space widgets never draw a new figure
per update: digits are encoded to PNG directly from their pixels, and the latent scatter is rendered once,
with its markers drawn on top by blitting, so that a slider responds at once.
"""

from __future__ import annotations

import html
import io
import math
import struct
import zlib
from collections.abc import Callable, Sequence

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse

from vae_lesson.data import load_mnist
from vae_lesson.evaluation import posterior_means_and_logvars
from vae_lesson.latent import INTERPOLATION_MODES, decode_images, dimensions_by_kl, interpolate, typical_prior_norm
from vae_lesson.linear_gaussian import LinearGaussianModel
from vae_lesson.models import VAE, flatten_images


def figure_png(fig: Figure, dpi: int = 80) -> bytes:
    """Render a matplotlib figure to PNG bytes (for an ``ipywidgets.Image``), without pyplot."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _gaussian_pdf(z: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    return torch.exp(-0.5 * ((z - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))


class ElboExplorer:
    """Move a 1-D Gaussian q(z) = N(mean, exp(log_std)^2) and watch ELBO + KL(q || p(z|x)) stay equal to log p(x).

    ``model`` is a :class:`LinearGaussianModel` with a 1-D latent, ``x`` one data point (D,) or (1, D).
    Sliders ``.mean`` and ``.log_std`` set q; ``.values()`` returns the exact log p(x), ELBO and KL for it;
    ``.widget`` displays the sliders, the densities of q and the posterior, and a bar chart of the three numbers.
    Taught in ``notebooks/01_elbo.ipynb``.
    """

    LOG_STD_RANGE = (-3.0, 1.0)

    def __init__(self, model: LinearGaussianModel, x: torch.Tensor, mean_halfwidth: float = 3.0) -> None:
        if model.latent_dim != 1:
            raise ValueError(f"ElboExplorer needs a model with a 1-D latent, got latent_dim = {model.latent_dim}.")
        self.model = model
        self.x = model._check_x(x.reshape(1, -1))
        post_mean, post_cov = model.posterior(self.x)
        self.post_mean, self.post_std = post_mean.item(), post_cov.sqrt().item()
        self.log_px = model.log_marginal(self.x).item()

        centre = round(self.post_mean, 1)
        self.mean = widgets.FloatSlider(
            value=round(centre - 1.5, 2), min=centre - mean_halfwidth, max=centre + mean_halfwidth, step=0.05,
            description="q mean", continuous_update=True,
        )
        self.log_std = widgets.FloatSlider(
            value=0.0, min=self.LOG_STD_RANGE[0], max=self.LOG_STD_RANGE[1], step=0.05,
            description="q log-std", continuous_update=True,
        )
        self._build_figure()
        self.image = widgets.Image(format="png")
        self.readout = widgets.HTML()
        self.widget = widgets.VBox([widgets.HBox([self.mean, self.log_std]), self.image, self.readout])
        for slider in (self.mean, self.log_std):
            slider.observe(self._on_change, names="value")
        self.update()

    def values(self) -> dict[str, float]:
        """Exact log p(x), ELBO and KL(q || p(z|x)) in nats for the q the sliders set."""
        q_mean = torch.tensor([[self.mean.value]], dtype=self.model.W.dtype)
        q_cov = torch.tensor([[math.exp(2 * self.log_std.value)]], dtype=self.model.W.dtype)
        elbo = self.model.elbo(self.x, q_mean, q_cov).item()
        kl = self.model.kl_to_posterior(self.x, q_mean, q_cov).item()
        return {"log p(x)": self.log_px, "ELBO": elbo, "KL": kl}

    def set_q(self, mean: float, log_std: float) -> None:
        """Drive the sliders from code; values outside the sliders' ranges are an error, not silently clipped."""
        for slider, value, name in ((self.mean, mean, "mean"), (self.log_std, log_std, "log_std")):
            if not slider.min <= value <= slider.max:
                raise ValueError(f"{name} = {value} is outside the slider's range [{slider.min}, {slider.max}].")
        with self.widget.hold_trait_notifications():
            self.mean.value, self.log_std.value = mean, log_std
        self.update()

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
        self.ax_bars.set_ylim(min(low, -10) - 1, max(10, -low) + 1)
        self.ax_bars.set_title("ELBO + KL = log p(x)")
        self.fig.tight_layout()

    def _on_change(self, _change: dict) -> None:
        self.update()

    def update(self) -> None:
        """Redraw q's density, the bars and the readout for the current slider values."""
        values = self.values()
        self.q_line.set_ydata(_gaussian_pdf(self.z, self.mean.value, math.exp(self.log_std.value)))
        for bar, value in zip(self.bars, values.values()):
            bar.set_height(value)
        self.gap.set_y(values["ELBO"])
        self.gap.set_height(values["KL"])
        self.image.value = figure_png(self.fig)
        self.readout.value = (
            f"log p(x) = {values['log p(x)']:.4f} &nbsp; ELBO = {values['ELBO']:.4f} &nbsp; "
            f"KL = {values['KL']:.4f} &nbsp; ELBO + KL = {values['ELBO'] + values['KL']:.4f} nats"
        )


# ---------------------------------------------------------------------------------------------------------------
# Latent-space widgets (notebook 04)
# ---------------------------------------------------------------------------------------------------------------


class WidgetInputError(ValueError):
    """A value typed into a widget that cannot be used; its message is shown in the widget, not raised."""


def png_bytes(pixels: np.ndarray) -> bytes:
    """Encode uint8 pixels, grey (H, W) or RGB (H, W, 3), as PNG bytes, without matplotlib (fast: zlib level 1)."""
    if pixels.dtype != np.uint8 or pixels.ndim not in (2, 3) or (pixels.ndim == 3 and pixels.shape[2] != 3):
        raise ValueError(f"png_bytes expects uint8 pixels (H, W) or (H, W, 3), got {pixels.dtype} {pixels.shape}.")
    height, width = pixels.shape[:2]
    rows = np.concatenate([np.zeros((height, 1), np.uint8), pixels.reshape(height, -1)], axis=1)  # filter 0

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0 if pixels.ndim == 2 else 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows.tobytes(), 1))
            + chunk(b"IEND", b""))


def digit_pixels(probabilities: np.ndarray, scale: int = 6, gap: int = 2) -> np.ndarray:
    """Pixel probabilities (28, 28), or a row of them (N, 28, 28), as dark ink on white (the course's
    ``gray_r`` convention), enlarged ``scale`` times without smoothing: uint8 (28 scale, N (28 scale + gap) - gap)."""
    images = np.asarray(probabilities, dtype=np.float32).reshape(-1, 28, 28)
    ink = np.rint(255.0 * (1.0 - np.clip(images, 0.0, 1.0))).astype(np.uint8)
    big = ink.repeat(scale, axis=1).repeat(scale, axis=2)
    if len(big) == 1:
        return big[0]
    spacer = np.full((28 * scale, gap), 255, np.uint8)
    parts = [part for image in big for part in (image, spacer)][:-1]
    return np.concatenate(parts, axis=1)


def parse_index(text: str, size: int, what: str = "test image") -> int:
    """A typed index into a data set of ``size`` items, or a :class:`WidgetInputError` saying what is wrong."""
    try:
        index = int(str(text).strip())
    except ValueError:
        raise WidgetInputError(f"'{text}' is not a whole number: type the number of a {what}, 0 to {size - 1}.") from None
    if not 0 <= index < size:
        raise WidgetInputError(f"{index} is outside the {size:,} {what}s: type a number from 0 to {size - 1}.")
    return index


def parse_numbers(text: str, count: int, low: float, high: float) -> list[float]:
    """``count`` comma-separated numbers in [low, high] typed by a student, or a :class:`WidgetInputError`."""
    parts = [part for part in str(text).replace(";", ",").split(",") if part.strip()]
    if len(parts) != count:
        raise WidgetInputError(
            f"The explorer has {count} slider{'s' if count > 1 else ''}; you typed {len(parts)} "
            f"number{'s' if len(parts) != 1 else ''}. Type {count}, separated by commas."
        )
    values = []
    for part in parts:
        try:
            value = float(part)
        except ValueError:
            raise WidgetInputError(f"'{part.strip()}' is not a number: type numbers like 0.5, -1.2.") from None
        if not math.isfinite(value) or not low <= value <= high:
            raise WidgetInputError(
                f"{part.strip()} is outside the sliders' range [{low:g}, {high:g}]: the prior N(0, 1) puts "
                "almost no mass there, so the decoder was never trained on it. Type a value inside the range."
            )
        values.append(value)
    return values


def _check_vae(model: object) -> VAE:
    if not isinstance(model, VAE):
        raise TypeError(f"expected a vae_lesson.models.VAE (e.g. vae_lesson.pretrained.load('mnist-2d')), "
                        f"got {type(model).__name__}.")
    return model.eval()


def _test_set(images: torch.Tensor | None, labels: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    if images is None:
        return load_mnist("test")
    images = flatten_images(torch.as_tensor(images, dtype=torch.float32)).reshape(-1, 28, 28)
    labels = torch.full((len(images),), -1) if labels is None else torch.as_tensor(labels)
    if len(labels) != len(images):
        raise ValueError(f"got {len(images)} images but {len(labels)} labels.")
    return images, labels


class _MessageArea:
    """An HTML line under a widget where a student's wrong input is explained; callbacks run through ``guard``."""

    def __init__(self) -> None:
        self.html = widgets.HTML()
        self.text = ""

    def say(self, text: str, error: bool = False) -> None:
        self.text = text
        colour = "#b00020" if error else "#333"
        self.html.value = f'<span style="color:{colour}">{"⚠ " if error else ""}{html.escape(text)}</span>'

    def guard(self, action: Callable[[], None]) -> None:
        """Run a callback; a wrong input becomes a message, never a kernel traceback or a frozen widget."""
        try:
            action()
        except WidgetInputError as error:
            self.say(str(error), error=True)


class _ReportsInput:
    """Widgets with a message line: ``.message`` is its text ('' when all is well)."""

    messages: _MessageArea

    @property
    def message(self) -> str:
        return self.messages.text


class LatentScatter:
    """The posterior means of many images in a 2-D latent, coloured by label, rendered once; a marker, an
    ellipse and sample points are then drawn on top by blitting, which takes milliseconds, not a new figure."""

    def __init__(self, means: torch.Tensor, labels: torch.Tensor, limit: float = 4.0, size: float = 3.6,
                 dpi: int = 80) -> None:
        self.fig = Figure(figsize=(size + 0.8, size), dpi=dpi)
        self.canvas = FigureCanvasAgg(self.fig)
        self.ax = self.fig.add_subplot()
        points = self.ax.scatter(means[:, 0], means[:, 1], c=labels, cmap="tab10", vmin=-0.5, vmax=9.5, s=2,
                                 alpha=0.5, rasterized=True)
        self.fig.colorbar(points, ax=self.ax, ticks=range(10), label="digit")
        self.ax.set(xlim=(-limit, limit), ylim=(-limit, limit), xlabel="z[0]", ylabel="z[1]", aspect="equal")
        self.ax.set_title("test set: means of q(z|x)", fontsize=9)
        (self.samples,) = self.ax.plot([], [], ".", color="black", ms=4, animated=True)
        self.ellipse = Ellipse((0, 0), 0, 0, fill=False, edgecolor="black", lw=1.5, animated=True)
        self.ax.add_patch(self.ellipse)
        (self.marker,) = self.ax.plot([], [], "X", color="black", mec="white", ms=11, animated=True)
        self.fig.tight_layout()
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(self.fig.bbox)

    def render(self, point: Sequence[float], ellipse: tuple[Sequence[float], Sequence[float]] | None = None,
               samples: np.ndarray | None = None) -> bytes:
        """PNG of the scatter with a marker at ``point``, optionally an axis-aligned ellipse (centre, (width,
        height)) and sample points."""
        self.canvas.restore_region(self.background)
        if samples is not None:
            self.samples.set_data(samples[:, 0], samples[:, 1])
            self.ax.draw_artist(self.samples)
        if ellipse is not None:
            self.ellipse.set_center(tuple(ellipse[0]))
            self.ellipse.set_width(ellipse[1][0])
            self.ellipse.set_height(ellipse[1][1])
            self.ax.draw_artist(self.ellipse)
        self.marker.set_data([point[0]], [point[1]])
        self.ax.draw_artist(self.marker)
        return png_bytes(np.asarray(self.canvas.buffer_rgba())[..., :3].copy())


class LatentExplorer(_ReportsInput):
    """Sliders for latent dimensions; the decoded image sigmoid(decode(z)) follows them at once.

    For a 2-D latent there is one slider per dimension and, beside the image, the test set's latent scatter
    with a marker at the current z. For a larger latent, the ``num_sliders`` dimensions with the largest
    average KL (the ones the model uses most) get sliders, and the others stay at the posterior mean of a
    reference test digit (typed into the "digit #" box). ``.sliders`` are the ``FloatSlider`` widgets,
    ``.dims`` the latent dimensions they set, ``.z`` the current code, ``current_image()`` the image shown.
    A box takes a whole z typed as numbers; wrong input is explained in the widget (``.message``).
    Taught in ``notebooks/04_latent_explorer.ipynb``.
    """

    MAX_SLIDERS = 8

    def __init__(self, model: VAE, images: torch.Tensor | None = None, labels: torch.Tensor | None = None,
                 reference_index: int = 0, num_sliders: int | None = None, slider_limit: float = 3.0,
                 scale: int = 6) -> None:
        self.model = _check_vae(model)
        self.images, self.labels = _test_set(images, labels)
        self.mu, self.logvar = posterior_means_and_logvars(self.model, self.images)
        d = self.model.latent_dim
        count = min(d, self.MAX_SLIDERS) if num_sliders is None else num_sliders
        if not isinstance(count, int) or not 1 <= count <= d:
            raise ValueError(f"num_sliders must be a whole number from 1 to the latent size {d}, got {num_sliders!r}.")
        self.dims = sorted(dimensions_by_kl(self.mu, self.logvar)[:count].tolist())
        self.limit, self.scale = float(slider_limit), scale
        self.sliders = [
            widgets.FloatSlider(value=0.0, min=-self.limit, max=self.limit, step=0.01, description=f"z[{j}]",
                                continuous_update=True, readout_format=".2f")
            for j in self.dims
        ]
        self.index_box = widgets.Text(description="digit #", continuous_update=False,
                                      placeholder=f"0 to {len(self.images) - 1}")
        self.z_box = widgets.Text(description="type z", continuous_update=False,
                                  placeholder=", ".join(["0.0"] * count))
        self.messages = _MessageArea()
        self.image = widgets.Image(format="png")
        self.scatter = LatentScatter(self.mu, self.labels, limit=self.limit + 1) if d == 2 else None
        self.scatter_image = widgets.Image(format="png")
        self._base = torch.zeros(d)
        self._holding = False
        for slider in self.sliders:
            slider.observe(lambda _change: self._refresh(), names="value")
        self.index_box.observe(lambda change: self.messages.guard(lambda: self.type_reference(change["new"])),
                               names="value")
        self.z_box.observe(lambda change: self.messages.guard(lambda: self.type_z(change["new"])), names="value")
        panels = [self.image] + ([self.scatter_image] if self.scatter is not None else [])
        self.widget = widgets.VBox([
            widgets.HBox([widgets.VBox(self.sliders), *panels]),
            widgets.HBox([self.index_box, self.z_box]),
            self.messages.html,
        ])
        self.set_reference(reference_index)

    @property
    def z(self) -> torch.Tensor:
        """The current latent code (d,): the reference digit's posterior mean with the sliders' dimensions set."""
        z = self._base.clone()
        z[self.dims] = torch.tensor([slider.value for slider in self.sliders])
        return z

    def set_sliders(self, values: Sequence[float]) -> None:
        """Move all sliders at once (one redraw). Values must lie in the sliders' range."""
        values = [float(v) for v in values]
        if len(values) != len(self.sliders):
            raise ValueError(f"expected {len(self.sliders)} values, one per slider, got {len(values)}.")
        for value in values:
            if not -self.limit <= value <= self.limit:
                raise ValueError(f"{value} is outside the sliders' range [{-self.limit}, {self.limit}].")
        self._holding = True
        try:
            for slider, value in zip(self.sliders, values):
                slider.value = value
        finally:
            self._holding = False
        self._refresh()

    def set_reference(self, index: int | str) -> None:
        """Hold the dimensions without sliders at test image ``index``'s posterior mean, and move the sliders
        to that mean too (clipped to their range)."""
        index = parse_index(index, len(self.images))
        self._base = self.mu[index].clone()
        self.set_sliders([min(max(self._base[j].item(), -self.limit), self.limit) for j in self.dims])
        label = int(self.labels[index])
        self.messages.say(f"z starts at the posterior mean of test image {index}"
                          + (f" (a {label})." if label >= 0 else "."))

    def type_reference(self, text: str) -> None:
        """The "digit #" box: like ``set_reference`` but from text; wrong input raises WidgetInputError."""
        if str(text).strip():
            self.set_reference(text)

    def type_z(self, text: str) -> None:
        """The "type z" box: one number per slider, separated by commas."""
        if str(text).strip():
            self.set_sliders(parse_numbers(text, len(self.sliders), -self.limit, self.limit))
            self.messages.say("z set from the typed numbers.")

    def current_image(self) -> np.ndarray:
        """The image currently displayed: sigmoid(decode(z)) as a float32 array (28, 28)."""
        return self._image.copy()

    def _refresh(self) -> None:
        if self._holding:
            return
        z = self.z
        self._image = decode_images(self.model, z[None])[0]
        self.image.value = png_bytes(digit_pixels(self._image, self.scale))
        if self.scatter is not None:
            self.scatter_image.value = self.scatter.render(z.tolist())


class DigitEncoder(_ReportsInput):
    """Pick a test digit (by number, or a random one of a class): the widget shows it, its reconstruction
    sigmoid(decode(mean of q)), and for a 2-D latent its posterior q(z|x) as a 2-standard-deviation ellipse on
    the test set's scatter; a button draws samples z ~ q(z|x) and shows their decodings.

    Drive it with ``select(index)``, ``select_random(label)`` and ``draw_samples()``; read ``index``,
    ``posterior`` (mean, std) and ``current_images()``. Taught in ``notebooks/04_latent_explorer.ipynb``.
    """

    def __init__(self, model: VAE, images: torch.Tensor | None = None, labels: torch.Tensor | None = None,
                 index: int = 0, num_samples: int = 8, seed: int = 0, scale: int = 4) -> None:
        self.model = _check_vae(model)
        self.images, self.labels = _test_set(images, labels)
        self.mu, self.logvar = posterior_means_and_logvars(self.model, self.images)
        self.num_samples, self.scale = num_samples, scale
        self.generator = torch.Generator().manual_seed(seed)
        self.index_box = widgets.Text(description="digit #", continuous_update=False,
                                      placeholder=f"0 to {len(self.images) - 1}")
        self.digit = widgets.Dropdown(options=list(range(10)), value=7, description="class", layout={"width": "150px"})
        self.random_button = widgets.Button(description="a random one")
        self.sample_button = widgets.Button(description="draw samples from q(z|x)")
        self.messages = _MessageArea()
        self.pair_image = widgets.Image(format="png")
        self.samples_image = widgets.Image(format="png")
        self.scatter = LatentScatter(self.mu, self.labels) if self.model.latent_dim == 2 else None
        self.scatter_image = widgets.Image(format="png")
        self.index_box.observe(lambda change: self.messages.guard(lambda: self.type_index(change["new"])),
                               names="value")
        self.random_button.on_click(lambda _button: self.messages.guard(lambda: self.select_random(self.digit.value)))
        self.sample_button.on_click(lambda _button: self.messages.guard(self.draw_samples))
        left = widgets.VBox([widgets.HTML("<b>input</b> | <b>reconstruction</b>"), self.pair_image,
                             widgets.HTML("<b>decodings of samples z ~ q(z|x)</b>"), self.samples_image])
        panels = [left] + ([self.scatter_image] if self.scatter is not None else [])
        self.widget = widgets.VBox([
            widgets.HBox([self.index_box, self.digit, self.random_button, self.sample_button]),
            widgets.HBox(panels),
            self.messages.html,
        ])
        self.select(index)  # also sets the (still empty) samples

    @property
    def posterior(self) -> tuple[torch.Tensor, torch.Tensor]:
        """q(z|x)'s mean and standard deviation (each (d,)) for the selected image."""
        return self.mu[self.index], (0.5 * self.logvar[self.index]).exp()

    def select(self, index: int | str) -> None:
        """Show test image ``index``; clears the posterior samples."""
        self.index = parse_index(index, len(self.images))
        self._reconstruction = decode_images(self.model, self.mu[self.index][None])[0]
        self._samples, self.sample_codes = np.zeros((0, 28, 28), np.float32), None
        label = int(self.labels[self.index])
        self.messages.say(f"test image {self.index}" + (f", labelled {label}." if label >= 0 else "."))
        self._refresh()

    def type_index(self, text: str) -> None:
        """The "digit #" box: like ``select`` but from text."""
        if str(text).strip():
            self.select(text)

    def select_random(self, label: int) -> None:
        """Show a random test image of class ``label`` (reproducible: the widget's generator is seeded)."""
        candidates = torch.nonzero(self.labels == int(label)).flatten()
        if len(candidates) == 0:
            raise WidgetInputError(f"there is no test image labelled {label}; choose a class from 0 to 9.")
        pick = torch.randint(len(candidates), (1,), generator=self.generator).item()
        self.select(int(candidates[pick]))

    def draw_samples(self) -> None:
        """Draw ``num_samples`` codes z = mean + std * eps from q(z|x) and decode them."""
        mean, std = self.posterior
        eps = torch.randn(self.num_samples, len(mean), generator=self.generator)
        z = mean + std * eps
        self.sample_codes = z.numpy()
        self._samples = decode_images(self.model, z)
        self.messages.say(f"{self.num_samples} samples of q(z|x) for test image {self.index}: the spread of these "
                          "decodings is the encoder's uncertainty.")
        self._refresh()

    def current_images(self) -> dict[str, np.ndarray]:
        """What is displayed: 'input' (28, 28) intensities, 'reconstruction' (28, 28) and 'samples' (S, 28, 28)."""
        return {"input": self.images[self.index].numpy().copy(), "reconstruction": self._reconstruction.copy(),
                "samples": self._samples.copy()}

    def _refresh(self) -> None:
        pair = np.stack([self.images[self.index].numpy(), self._reconstruction])
        self.pair_image.value = png_bytes(digit_pixels(pair, self.scale))
        blank = np.zeros((self.num_samples, 28, 28), np.float32)
        shown = self._samples if len(self._samples) else blank
        self.samples_image.value = png_bytes(digit_pixels(shown, self.scale // 2 + 1))
        if self.scatter is not None:
            mean, std = self.posterior
            self.scatter_image.value = self.scatter.render(mean.tolist(), (mean.tolist(), (4 * std).tolist()),
                                                           self.sample_codes)


class Interpolator(_ReportsInput):
    """Walk from one digit's posterior mean to another's: the slider ``.t`` in [0, 1] moves z(t) along a straight
    line or a great circle (``.mode``: "linear" or "spherical"); the widget shows the decoding at t, the strip
    of decodings along the whole path, and |z(t)| against the norm sqrt(d) typical of prior samples.

    ``current_image()`` is sigmoid(decode(z(t))); ``current_images()`` the strip (steps, 28, 28), from
    x_a's decoding to x_b's. Given ``images``, two boxes choose the endpoints by test-set number.
    Taught in ``notebooks/04_latent_explorer.ipynb``.
    """

    def __init__(self, model: VAE, x_a: torch.Tensor, x_b: torch.Tensor, steps: int = 9,
                 images: torch.Tensor | None = None, scale: int = 3) -> None:
        self.model = _check_vae(model)
        if not isinstance(steps, int) or steps < 2:
            raise ValueError(f"steps must be a whole number >= 2, got {steps!r}.")
        self.steps, self.scale = steps, scale
        self.images = None if images is None else _test_set(images, None)[0]
        self.t = widgets.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.01, description="t",
                                     continuous_update=True, readout_format=".2f")
        self.mode = widgets.ToggleButtons(options=list(INTERPOLATION_MODES), value="linear", description="path")
        self.index_a = widgets.Text(description="from #", continuous_update=False)
        self.index_b = widgets.Text(description="to #", continuous_update=False)
        self.messages = _MessageArea()
        self.image = widgets.Image(format="png")
        self.strip_image = widgets.Image(format="png")
        self.readout = widgets.HTML()
        self.t.observe(lambda _change: self._refresh_current(), names="value")
        self.mode.observe(lambda _change: self._refresh_all(), names="value")
        for box in (self.index_a, self.index_b):
            box.observe(lambda _change: self.messages.guard(self.type_indices), names="value")
        boxes = [widgets.HBox([self.index_a, self.index_b])] if self.images is not None else []
        self.widget = widgets.VBox([
            widgets.HBox([self.t, self.mode]), *boxes,
            widgets.HBox([self.image, widgets.VBox([widgets.HTML("<b>the whole path, t = 0 to 1</b>"),
                                                    self.strip_image, self.readout])]),
            self.messages.html,
        ])
        self.set_endpoints(x_a, x_b)

    def set_endpoints(self, x_a: torch.Tensor, x_b: torch.Tensor) -> None:
        """Encode two images (each (28, 28) or (784,)) and interpolate between their posterior means."""
        codes = []
        for name, x in (("x_a", x_a), ("x_b", x_b)):
            x = torch.as_tensor(x, dtype=torch.float32)
            if x.numel() != 784:
                raise ValueError(f"{name} must be one image of 28x28 = 784 pixels, got shape {tuple(x.shape)}.")
            with torch.no_grad():
                codes.append(self.model.encode(x.reshape(1, 784))[0][0])
        self.z_a, self.z_b = codes
        self._refresh_all()

    def type_indices(self) -> None:
        """The two boxes: endpoints by test-set number, once both are filled in."""
        if self.images is None or not (self.index_a.value.strip() and self.index_b.value.strip()):
            return
        a = parse_index(self.index_a.value, len(self.images))
        b = parse_index(self.index_b.value, len(self.images))
        self.set_endpoints(self.images[a], self.images[b])
        self.messages.say(f"from test image {a} to test image {b}.")

    def z_at(self, t: float) -> torch.Tensor:
        """The code at fraction t of the current path, (d,)."""
        return interpolate(self.z_a, self.z_b, torch.tensor([float(t)]), self.mode.value)[0]

    def current_image(self) -> np.ndarray:
        """The decoding at the slider's t, (28, 28)."""
        return self._image.copy()

    def current_images(self) -> np.ndarray:
        """The strip of decodings at ``steps`` evenly spaced t from 0 to 1, (steps, 28, 28)."""
        return self._strip.copy()

    def _refresh_all(self) -> None:
        ts = torch.linspace(0, 1, self.steps)
        path = interpolate(self.z_a, self.z_b, ts, self.mode.value)
        self._strip = decode_images(self.model, path)
        self.strip_image.value = png_bytes(digit_pixels(self._strip, self.scale))
        self._refresh_current()

    def _refresh_current(self) -> None:
        z = self.z_at(self.t.value)
        self._image = decode_images(self.model, z[None])[0]
        self.image.value = png_bytes(digit_pixels(self._image, 2 * self.scale))
        self.readout.value = (f"|z(t)| = {z.norm():.2f} at t = {self.t.value:.2f} (endpoints {self.z_a.norm():.2f} "
                              f"and {self.z_b.norm():.2f}); samples of the prior N(0, I) have |z| near "
                              f"sqrt(d) = {typical_prior_norm(self.model.latent_dim):.2f}")
