"""The latent-space widgets of ``notebooks/04_latent_explorer.ipynb``: ``LatentExplorer`` (sliders for z, the
decoded digit follows) and ``DigitEncoder`` (a test digit, its reconstruction and samples of its posterior); the
``Interpolator`` (``vae_lesson.widgets.interpolation``) and the ``LatentScatter`` they draw on
(``vae_lesson.widgets.scatter``) are importable from here too.

They never draw a new figure per update: digits are encoded to PNG directly from their pixels
(``vae_lesson.plots.png_bytes``), and the latent scatter is rendered once, with its markers drawn on top by
blitting, so that a slider responds at once. Each widget's ``current_images()`` returns what it displays as a
dict of float32 arrays, keyed by name (each class's docstring lists its keys). Each widget changes its state and
draws under its own lock, since ipykernel 7 runs the browser's messages on another thread while a cell runs.

Their words follow the language of the course's messages (:func:`vae_lesson.set_language`): labels, buttons and
fixed captions are those of the language when the widget is made; messages, captions and read-outs that change
are those of the language when they are shown.
"""

from __future__ import annotations

import threading

import ipywidgets as widgets
import numpy as np
import torch

from vae_lesson.evaluation import posterior_means_and_logvars
from vae_lesson.gaussians import reparameterize
from vae_lesson.i18n import N_, tr
from vae_lesson.latent import decode_images, dimensions_by_kl
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
from vae_lesson.widgets.interpolation import Interpolator
from vae_lesson.widgets.rendering import image_row, locked, show_png
from vae_lesson.widgets.scatter import LatentScatter
from vae_lesson.widgets.sliders import _LatentSliders
from vae_lesson.widgets.snapshot import _ShowsPicture

__all__ = ["DigitEncoder", "Interpolator", "LatentExplorer", "LatentScatter"]


class LatentExplorer(_ShowsPicture, _LatentSliders, _ReportsInput):
    """Sliders for latent dimensions; the decoded image sigmoid(decode(z)) follows them at once.

    For a 2-D latent there is one slider per dimension and, beside the image, the test set's latent scatter
    with a marker at the current z. For a larger latent, the ``num_sliders`` dimensions with the largest
    average KL (the ones the model uses most) get sliders, and the others stay at the posterior mean of a
    reference test digit (typed into the "digit #" box). ``.sliders`` are the ``FloatSlider`` widgets,
    ``.dims`` the latent dimensions they set, ``.z`` the current code. ``current_images()`` returns the image
    shown, {"decoded": sigmoid(decode(z)) (28, 28)}.
    A box takes a whole z typed as numbers; wrong input is explained in the widget (``.message``).
    Its labels are in the language of the course's messages when it is made; its messages in the language when
    they are shown. Taught in ``notebooks/04_latent_explorer.ipynb``.
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
        self._lock = threading.RLock()
        self.scale = scale
        self._make_sliders(sorted(dimensions_by_kl(self.mu, self.logvar)[:count].tolist()), slider_limit)
        self.index_box = widgets.Text(description=tr("digit #"), continuous_update=False,
                                      placeholder=tr("0 to {last}", last=len(self.images) - 1))
        self.z_box = widgets.Text(description=tr("type z"), continuous_update=False,
                                  placeholder=", ".join(["0.0"] * count))
        self.messages = _MessageArea()
        self.image = widgets.Image(format="png")
        self.scatter = LatentScatter(self.mu, self.labels, limit=self.limit + 1) if d == 2 else None
        self.scatter_image = widgets.Image(format="png")
        self._base = torch.zeros(d)
        self.index_box.observe(lambda change: self.messages.guard(lambda: self.type_reference(change["new"])),
                               names="value")
        self.z_box.observe(lambda change: self.messages.guard(lambda: self.type_z(change["new"])), names="value")
        panels = [self.image] + ([self.scatter_image] if self.scatter is not None else [])
        self.widget = widgets.VBox([
            image_row([widgets.VBox(self.sliders), *panels]),
            widgets.HBox([self.index_box, self.z_box]),
            self.messages.html,
        ])
        self.set_reference(reference_index)

    @locked
    def set_reference(self, index: int | str) -> None:
        """Hold the dimensions without sliders at test image ``index``'s posterior mean, and move the sliders
        to that mean too (clipped to their range, rounded to their step)."""
        index = parse_index(index, len(self.images))
        self._base = self.mu[index].clone()
        self.set_sliders(self._clipped(self._base))
        label, step = int(self.labels[index]), self.sliders[0].step
        if label >= 0:
            self.messages.say(tr("z starts at the posterior mean of test image {index} (a {label}), rounded to the "
                                 "sliders' step of {step:g}.", index=index, label=label, step=step))
        else:
            self.messages.say(tr("z starts at the posterior mean of test image {index}, rounded to the sliders' step "
                                 "of {step:g}.", index=index, step=step))

    def type_reference(self, text: str) -> None:
        """The "digit #" box: like ``set_reference`` but from text; wrong input raises WidgetInputError."""
        if str(text).strip():
            self.set_reference(text)

    def type_z(self, text: str) -> None:
        """The "type z" box: one number per slider, separated by commas."""
        if str(text).strip():
            self.set_sliders(parse_numbers(text, len(self.sliders), -self.limit, self.limit))
            self.messages.say(tr("z set from the typed numbers."))

    @locked
    def current_images(self) -> dict[str, np.ndarray]:
        """What is displayed, as float32 arrays: 'decoded', sigmoid(decode(z)) for the current z, (28, 28)."""
        return {"decoded": self._image.copy()}

    @locked
    def _refresh(self) -> None:
        z = self.z
        self._image = decode_images(self.model, z[None])[0].numpy()
        show_png(self.image, png_bytes(digit_pixels(self._image, self.scale)))
        if self.scatter is not None:
            show_png(self.scatter_image, self.scatter.render(z.tolist()))


class DigitEncoder(_ShowsPicture, _ReportsInput):
    """Pick a test digit (by number, or a random one of a class): the widget shows it, its reconstruction
    sigmoid(decode(mean of q)), and for a 2-D latent its posterior q(z|x) as a 2-standard-deviation ellipse on
    the test set's scatter (whose axes show every test code; thin cross-hairs mark the mean, under a red
    ellipse), with a zoom on it beside (``zoom_image``: a window of 3 standard deviations, where a typical
    ellipse is large enough to see); the "draw samples" button draws samples z ~ q(z|x) and shows their decodings
    (grey placeholders before).

    Drive it with ``select(index)``, ``select_random(label)`` and ``draw_samples()``; read ``index``,
    ``posterior`` (mean, std) and ``current_images()``: {"input": the image (28, 28), "reconstruction":
    sigmoid(decode(mean of q)) (28, 28), "samples": decodings of the drawn z (S, 28, 28), S = 0 before a draw}.
    The random digits and samples come from ``generator`` (default: a new generator seeded with 0, so that
    the widget is reproducible). Its labels and buttons are in the language of the course's messages when it is
    made; its messages and captions in the language when they are shown.
    Taught in ``notebooks/04_latent_explorer.ipynb``.
    """

    SNAPSHOT_ACTION = N_("pick digits and draw samples")

    PLACEHOLDER_INK = 0.08  # the light grey of the sample frames before a draw
    SAMPLE_COLUMNS = 4  # samples in rows of 4, so that the panels fit side by side in a laptop's notebook

    def __init__(self, model: VAE, images: torch.Tensor | None = None, labels: torch.Tensor | None = None,
                 index: int = 0, num_samples: int = 8, generator: torch.Generator | None = None,
                 scale: int = 4) -> None:
        self.model = _check_vae(model)
        self.images, self.labels = _test_set(images, labels)
        self.mu, self.logvar = posterior_means_and_logvars(self.model, self.images)
        self._lock = threading.RLock()
        self.num_samples, self.scale = num_samples, scale
        self.generator = torch.Generator().manual_seed(0) if generator is None else generator
        self.index_box = widgets.Text(description=tr("digit #"), continuous_update=False,
                                      placeholder=tr("0 to {last}", last=len(self.images) - 1))
        self.digit = widgets.Dropdown(options=list(range(10)), value=7, description=tr("class"),
                                      layout={"width": "150px"})
        self.random_button = widgets.Button(description=tr("a random one"))
        self.sample_button = widgets.Button(description=tr("draw samples"),
                                            tooltip=tr("draw z ~ q(z|x) and decode them"))
        self.messages = _MessageArea()
        self.pair_image = widgets.Image(format="png")
        self.samples_image = widgets.Image(format="png")
        self.scatter = (LatentScatter(self.mu, self.labels, limit=None, marker="crosshair")
                        if self.model.latent_dim == 2 else None)
        self.scatter_image = widgets.Image(format="png")
        self.zoom_caption, self.zoom_image = widgets.HTML(), widgets.Image(format="png")
        self.index_box.observe(lambda change: self.messages.guard(lambda: self.type_index(change["new"])),
                               names="value")
        self.random_button.on_click(lambda _button: self.messages.guard(lambda: self.select_random(self.digit.value)))
        self.sample_button.on_click(lambda _button: self.messages.guard(self.draw_samples))
        self.samples_caption = widgets.HTML()
        left = widgets.VBox([widgets.HTML(tr("<b>input</b> | <b>reconstruction</b>")), self.pair_image,
                             self.samples_caption, self.samples_image])
        right = image_row([self.scatter_image, widgets.VBox([self.zoom_caption, self.zoom_image])])
        panels = [left] + ([right] if self.scatter is not None else [])
        self.widget = widgets.VBox([
            widgets.HBox([self.index_box, self.digit, self.random_button, self.sample_button]),
            image_row(panels),
            self.messages.html,
        ])
        self.select(index)  # also sets the (still empty) samples

    @property
    @locked
    def posterior(self) -> tuple[torch.Tensor, torch.Tensor]:
        """q(z|x)'s mean and standard deviation (each (d,)) for the selected image."""
        return self.mu[self.index], (0.5 * self.logvar[self.index]).exp()

    @locked
    def select(self, index: int | str) -> None:
        """Show test image ``index`` (and its number in the "digit #" box); clears the posterior samples."""
        self.index = parse_index(index, len(self.images))
        self.index_box.value = str(self.index)  # its observer sees the number already shown, and does nothing
        self._reconstruction = decode_images(self.model, self.mu[self.index][None])[0].numpy()
        self._samples, self.sample_codes = np.zeros((0, 28, 28), np.float32), None
        label = int(self.labels[self.index])
        self.messages.say(tr("test image {index}, labelled {label}.", index=self.index, label=label) if label >= 0
                          else tr("test image {index}.", index=self.index))
        self._refresh()

    def type_index(self, text: str) -> None:
        """The "digit #" box: like ``select`` but from text."""
        if str(text).strip() and str(text).strip() != str(getattr(self, "index", None)):
            self.select(text)

    @locked
    def select_random(self, label: int) -> None:
        """Show a random test image of class ``label``, drawn with the widget's generator."""
        candidates = torch.nonzero(self.labels == int(label)).flatten()
        if len(candidates) == 0:
            raise WidgetInputError(tr("there is no test image labelled {label}; choose a class from 0 to 9.",
                                      label=label))
        pick = torch.randint(len(candidates), (1,), generator=self.generator).item()
        self.select(int(candidates[pick]))

    @locked
    def draw_samples(self) -> None:
        """Draw ``num_samples`` codes z = mean + std * eps from q(z|x) (reparameterized) and decode them."""
        z = reparameterize(self.mu[self.index], self.logvar[self.index], self.num_samples, generator=self.generator)
        self.sample_codes = z.numpy()
        self._samples = decode_images(self.model, z).numpy()
        self.messages.say(tr("{count} samples of q(z|x) for test image {index}: the spread of these decodings is the "
                             "encoder's uncertainty.", count=self.num_samples, index=self.index))
        self._refresh()

    @locked
    def current_images(self) -> dict[str, np.ndarray]:
        """What is displayed, as float32 arrays: 'input' (28, 28) intensities, 'reconstruction' (28, 28) and
        'samples' (S, 28, 28), S = ``num_samples`` after ``draw_samples()`` and 0 before."""
        return {"input": self.images[self.index].numpy().copy(), "reconstruction": self._reconstruction.copy(),
                "samples": self._samples.copy()}

    @locked
    def _refresh(self) -> None:
        pair = np.stack([self.images[self.index].numpy(), self._reconstruction])
        show_png(self.pair_image, png_bytes(digit_pixels(pair, self.scale)))
        drawn = len(self._samples) > 0
        placeholder = np.full((self.num_samples, 28, 28), self.PLACEHOLDER_INK, np.float32)
        show_png(self.samples_image, png_bytes(digit_pixels(self._samples if drawn else placeholder,
                                                            self.scale // 2 + 1, columns=self.SAMPLE_COLUMNS)))
        self.samples_caption.value = (
            tr("<b>decodings of samples z ~ q(z|x)</b>") if drawn
            else tr("<b>decodings of samples z ~ q(z|x)</b> (none yet: press <i>draw samples</i>)"))
        if self.scatter is not None:
            mean, std = self.posterior
            show_png(self.scatter_image, self.scatter.render(mean.tolist(), (mean.tolist(), (4 * std).tolist()),
                                                             self.sample_codes))
            zoom, half = self.scatter.zoom(mean.tolist(), std.tolist(), self.sample_codes)
            show_png(self.zoom_image, zoom)
            self.zoom_caption.value = tr("<b>zoom</b>: z ± {half:.2f} around<br>the mean of q(z|x)", half=half)
