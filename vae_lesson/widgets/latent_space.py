"""The latent-space widgets of ``notebooks/04_latent_explorer.ipynb``: ``LatentExplorer`` (sliders for z, the
decoded digit follows), ``DigitEncoder`` (a test digit, its reconstruction and samples of its posterior) and
``Interpolator`` (a path between two digits' codes, straight or along a great circle).

They never draw a new figure per update: digits are encoded to PNG directly from their pixels
(``vae_lesson.plots.png_bytes``), and the latent scatter is rendered once, with its markers drawn on top by
blitting, so that a slider responds at once. Each widget's ``current_images()`` returns what it displays as a
dict of float32 arrays, keyed by name (each class's docstring lists its keys).
"""

from __future__ import annotations

from collections.abc import Sequence

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse

from vae_lesson.evaluation import posterior_means_and_logvars
from vae_lesson.gaussians import reparameterize
from vae_lesson.latent import INTERPOLATION_MODES, decode_images, dimensions_by_kl, interpolate, typical_prior_norm
from vae_lesson.models import VAE
from vae_lesson.plots import digit_pixels, png_bytes
from vae_lesson.widgets.inputs import (
    WidgetInputError,
    _check_vae,
    _MessageArea,
    _ReportsInput,
    _test_set,
    parse_index,
    parse_numbers,
)


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
    ``.dims`` the latent dimensions they set, ``.z`` the current code. ``current_images()`` returns the image
    shown, {"decoded": sigmoid(decode(z)) (28, 28)}.
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

    def current_images(self) -> dict[str, np.ndarray]:
        """What is displayed, as float32 arrays: 'decoded', sigmoid(decode(z)) for the current z, (28, 28)."""
        return {"decoded": self._image.copy()}

    def _refresh(self) -> None:
        if self._holding:
            return
        z = self.z
        self._image = decode_images(self.model, z[None])[0].numpy()
        self.image.value = png_bytes(digit_pixels(self._image, self.scale))
        if self.scatter is not None:
            self.scatter_image.value = self.scatter.render(z.tolist())


class DigitEncoder(_ReportsInput):
    """Pick a test digit (by number, or a random one of a class): the widget shows it, its reconstruction
    sigmoid(decode(mean of q)), and for a 2-D latent its posterior q(z|x) as a 2-standard-deviation ellipse on
    the test set's scatter; a button draws samples z ~ q(z|x) and shows their decodings.

    Drive it with ``select(index)``, ``select_random(label)`` and ``draw_samples()``; read ``index``,
    ``posterior`` (mean, std) and ``current_images()``: {"input": the image (28, 28), "reconstruction":
    sigmoid(decode(mean of q)) (28, 28), "samples": decodings of the drawn z (S, 28, 28), S = 0 before a draw}.
    The random digits and samples come from ``generator`` (default: a new generator seeded with 0, so that
    the widget is reproducible). Taught in ``notebooks/04_latent_explorer.ipynb``.
    """

    def __init__(self, model: VAE, images: torch.Tensor | None = None, labels: torch.Tensor | None = None,
                 index: int = 0, num_samples: int = 8, generator: torch.Generator | None = None,
                 scale: int = 4) -> None:
        self.model = _check_vae(model)
        self.images, self.labels = _test_set(images, labels)
        self.mu, self.logvar = posterior_means_and_logvars(self.model, self.images)
        self.num_samples, self.scale = num_samples, scale
        self.generator = torch.Generator().manual_seed(0) if generator is None else generator
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
        self._reconstruction = decode_images(self.model, self.mu[self.index][None])[0].numpy()
        self._samples, self.sample_codes = np.zeros((0, 28, 28), np.float32), None
        label = int(self.labels[self.index])
        self.messages.say(f"test image {self.index}" + (f", labelled {label}." if label >= 0 else "."))
        self._refresh()

    def type_index(self, text: str) -> None:
        """The "digit #" box: like ``select`` but from text."""
        if str(text).strip():
            self.select(text)

    def select_random(self, label: int) -> None:
        """Show a random test image of class ``label``, drawn with the widget's generator."""
        candidates = torch.nonzero(self.labels == int(label)).flatten()
        if len(candidates) == 0:
            raise WidgetInputError(f"there is no test image labelled {label}; choose a class from 0 to 9.")
        pick = torch.randint(len(candidates), (1,), generator=self.generator).item()
        self.select(int(candidates[pick]))

    def draw_samples(self) -> None:
        """Draw ``num_samples`` codes z = mean + std * eps from q(z|x) (reparameterized) and decode them."""
        z = reparameterize(self.mu[self.index], self.logvar[self.index], self.num_samples, generator=self.generator)
        self.sample_codes = z.numpy()
        self._samples = decode_images(self.model, z).numpy()
        self.messages.say(f"{self.num_samples} samples of q(z|x) for test image {self.index}: the spread of these "
                          "decodings is the encoder's uncertainty.")
        self._refresh()

    def current_images(self) -> dict[str, np.ndarray]:
        """What is displayed, as float32 arrays: 'input' (28, 28) intensities, 'reconstruction' (28, 28) and
        'samples' (S, 28, 28), S = ``num_samples`` after ``draw_samples()`` and 0 before."""
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

    ``current_images()`` returns {"decoded": sigmoid(decode(z(t))) (28, 28), "strip": the decodings at ``steps``
    evenly spaced t (steps, 28, 28), from x_a's to x_b's}. Given ``images``, two boxes choose the endpoints by
    test-set number.
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

    def current_images(self) -> dict[str, np.ndarray]:
        """What is displayed, as float32 arrays: 'decoded', the decoding at the slider's t (28, 28), and 'strip',
        the decodings at ``steps`` evenly spaced t from 0 to 1 (steps, 28, 28)."""
        return {"decoded": self._image.copy(), "strip": self._strip.copy()}

    def _refresh_all(self) -> None:
        ts = torch.linspace(0, 1, self.steps)
        path = interpolate(self.z_a, self.z_b, ts, self.mode.value)
        self._strip = decode_images(self.model, path).numpy()
        self.strip_image.value = png_bytes(digit_pixels(self._strip, self.scale))
        self._refresh_current()

    def _refresh_current(self) -> None:
        z = self.z_at(self.t.value)
        self._image = decode_images(self.model, z[None])[0].numpy()
        self.image.value = png_bytes(digit_pixels(self._image, 2 * self.scale))
        self.readout.value = (f"|z(t)| = {z.norm():.2f} at t = {self.t.value:.2f} (endpoints {self.z_a.norm():.2f} "
                              f"and {self.z_b.norm():.2f}); samples of the prior N(0, I) have |z| near "
                              f"sqrt(d) = {typical_prior_norm(self.model.latent_dim):.2f}")
