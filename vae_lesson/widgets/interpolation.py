"""The interpolator of ``notebooks/04_latent_explorer.ipynb``: a path between two digits' codes, straight or along
a great circle, with the decoding at the slider's t and the strip of decodings along the whole path.
"""

from __future__ import annotations

import threading

import ipywidgets as widgets
import numpy as np
import torch

from vae_lesson.i18n import N_, tr
from vae_lesson.latent import INTERPOLATION_MODES, decode_images, interpolate, typical_prior_norm
from vae_lesson.models import VAE
from vae_lesson.plots import digit_pixels, png_bytes
from vae_lesson.widgets.inputs import WidgetInputError, _check_vae, _MessageArea, _ReportsInput, _test_set, parse_index
from vae_lesson.widgets.rendering import SLIDER_STYLE, SLIDER_WIDTH, image_row, locked, show_png
from vae_lesson.widgets.snapshot import _ShowsPicture

MARK_COLOUR = (255, 127, 14)  # matplotlib's tab:orange: the frame of the strip nearest the slider's t
GAP = 2  # white columns between the strip's frames (digit_pixels' default)
#: The path buttons' labels (translated when the widget is made); the buttons' values stay the modes' names.
MODE_LABELS = {"linear": N_("linear"), "spherical": N_("spherical")}


def mark_frame(strip: np.ndarray, frame: int, width: int, border: int = 3) -> np.ndarray:
    """RGB copy of a grey strip of frames ``width`` pixels wide (``GAP`` apart) with frame ``frame`` outlined."""
    rgb = np.repeat(strip[..., None], 3, axis=2)
    left = frame * (width + GAP)
    box = rgb[:, left:left + width]
    for edge in (box[:border], box[-border:], box[:, :border], box[:, -border:]):
        edge[...] = MARK_COLOUR
    return rgb


class Interpolator(_ShowsPicture, _ReportsInput):
    """Walk from one digit's posterior mean to another's: the slider ``.t`` in [0, 1] moves z(t) along a straight
    line or a great circle (``.mode``: "linear" or "spherical"); the widget shows the decoding at t (captioned),
    the strip of decodings along the whole path with the frame nearest t outlined in orange, and |z(t)| against
    the norm sqrt(d) typical of prior samples.

    ``current_images()`` returns {"decoded": sigmoid(decode(z(t))) (28, 28), "strip": the decodings at ``steps``
    evenly spaced t (steps, 28, 28), from x_a's to x_b's}; ``marked_frame`` is the strip's outlined frame. Given
    ``images``, two boxes choose the endpoints by test-set number; what is wrong in either is explained.
    Its labels are in the language of the course's messages when it is made (the path buttons' values stay
    "linear" and "spherical"); its messages, caption and read-out in the language when they are shown.
    Taught in ``notebooks/04_latent_explorer.ipynb``.
    """

    SNAPSHOT_ACTION = N_("move along the path and pick its two digits")

    def __init__(self, model: VAE, x_a: torch.Tensor, x_b: torch.Tensor, steps: int = 9,
                 images: torch.Tensor | None = None, scale: int = 3) -> None:
        self.model = _check_vae(model)
        if not isinstance(steps, int) or steps < 2:
            raise ValueError(f"steps must be a whole number >= 2, got {steps!r}.")
        self._lock = threading.RLock()
        self.steps, self.scale = steps, scale
        self.images = None if images is None else _test_set(images, None)[0]
        self.t = widgets.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.01, description="t",
                                     continuous_update=True, readout_format=".2f",
                                     layout=widgets.Layout(width=SLIDER_WIDTH), style=SLIDER_STYLE)
        self.mode = widgets.ToggleButtons(options=[(tr(MODE_LABELS.get(mode, mode)), mode)
                                                   for mode in INTERPOLATION_MODES],
                                          value="linear", description=tr("path"))
        self.index_a = widgets.Text(description=tr("from #"), continuous_update=False)
        self.index_b = widgets.Text(description=tr("to #"), continuous_update=False)
        self.messages = _MessageArea()
        self.image = widgets.Image(format="png")
        self.caption = widgets.HTML()
        self.strip_image = widgets.Image(format="png")
        self.readout = widgets.HTML()
        self.marked_frame = -1
        self.t.observe(lambda _change: self._refresh_current(), names="value")
        self.mode.observe(lambda _change: self._refresh_all(), names="value")
        for box in (self.index_a, self.index_b):
            box.observe(lambda _change: self.messages.guard(self.type_indices), names="value")
        boxes = [widgets.HBox([self.index_a, self.index_b])] if self.images is not None else []
        strip_caption = widgets.HTML(tr("<b>the whole path, t = 0 to 1</b> (orange: the frame nearest t)"))
        self.widget = widgets.VBox([
            widgets.HBox([self.t, self.mode]), *boxes,
            image_row([widgets.VBox([self.caption, self.image]),
                       widgets.VBox([strip_caption, self.strip_image, self.readout])]),
            self.messages.html,
        ])
        self.set_endpoints(x_a, x_b)

    @locked
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

    @locked
    def type_indices(self) -> None:
        """The two boxes: endpoints by test-set number, once both are filled in. What is wrong in either box is
        explained (both, if both are wrong); an empty box clears an earlier message."""
        if self.images is None:
            return
        indices, errors = [], []
        for box in (self.index_a, self.index_b):
            text = box.value.strip()
            try:
                indices.append(parse_index(text, len(self.images)) if text else None)
            except WidgetInputError as error:
                errors.append(f"{box.description}: {error}")
        if errors:
            raise WidgetInputError(" ".join(errors))
        if None in indices:
            self.messages.say(tr("type a test image's number in both boxes.") if indices != [None, None] else "")
            return
        a, b = indices
        self.set_endpoints(self.images[a], self.images[b])
        self.messages.say(tr("from test image {a} to test image {b}.", a=a, b=b))

    def z_at(self, t: float) -> torch.Tensor:
        """The code at fraction t of the current path, (d,)."""
        return interpolate(self.z_a, self.z_b, torch.tensor([float(t)]), self.mode.value)[0]

    @locked
    def current_images(self) -> dict[str, np.ndarray]:
        """What is displayed, as float32 arrays: 'decoded', the decoding at the slider's t (28, 28), and 'strip',
        the decodings at ``steps`` evenly spaced t from 0 to 1 (steps, 28, 28)."""
        return {"decoded": self._image.copy(), "strip": self._strip.copy()}

    @locked
    def _refresh_all(self) -> None:
        ts = torch.linspace(0, 1, self.steps)
        path = interpolate(self.z_a, self.z_b, ts, self.mode.value)
        self._strip = decode_images(self.model, path).numpy()
        self._strip_pixels = digit_pixels(self._strip, self.scale, gap=GAP)
        self.marked_frame = -1  # the strip is redrawn with its mark below
        self._refresh_current()

    @locked
    def _refresh_current(self) -> None:
        t = self.t.value
        z = self.z_at(t)
        self._image = decode_images(self.model, z[None])[0].numpy()
        show_png(self.image, png_bytes(digit_pixels(self._image, 2 * self.scale)))
        self.caption.value = tr("<b>decoding of z(t) at t = {t:.2f}</b>", t=t)
        frame = round(t * (self.steps - 1))
        if frame != self.marked_frame:  # re-encode the strip only when its mark moves
            self.marked_frame = frame
            show_png(self.strip_image, png_bytes(mark_frame(self._strip_pixels, frame, 28 * self.scale)))
        self.readout.value = tr("|z(t)| = {norm:.2f} at t = {t:.2f} (endpoints {norm_a:.2f} and {norm_b:.2f}); "
                                "samples of the prior N(0, I) have |z| near sqrt(d) = {typical:.2f}",
                                norm=z.norm(), t=t, norm_a=self.z_a.norm(), norm_b=self.z_b.norm(),
                                typical=typical_prior_norm(self.model.latent_dim))
