"""The conditional explorer of ``notebooks/07_conditional_and_beta.ipynb``: ask a conditional VAE for a digit.

Ten class buttons choose the label y, a few sliders set the style z; the widget shows decode(z, y) and, beside
it, the same z decoded as every class (one handwriting, ten digits). A test digit's number typed into the
"digit #" box sets z to that digit's style (its posterior mean): style transfer. Digits are encoded to PNG straight
from their pixels, as in notebook 04's widgets, so that a slider responds at once.
"""

from __future__ import annotations

import threading
import ipywidgets as widgets
import numpy as np
import torch

from vae_lesson.conditional import decode_with_labels
from vae_lesson.evaluation import posterior_means_and_logvars
from vae_lesson.i18n import N_, tr
from vae_lesson.latent import dimensions_by_kl
from vae_lesson.models import ConditionalVAE
from vae_lesson.plots import digit_pixels, png_bytes
from vae_lesson.widgets.inputs import _MessageArea, _ReportsInput, _test_set, parse_index
from vae_lesson.widgets.rendering import image_row, locked, show_png
from vae_lesson.widgets.sliders import _LatentSliders
from vae_lesson.widgets.snapshot import _ShowsPicture

__all__ = ["ConditionalExplorer"]


def _check_conditional(model: object) -> ConditionalVAE:
    if not isinstance(model, ConditionalVAE):
        raise TypeError(f"expected a vae_lesson.models.ConditionalVAE (e.g. vae_lesson.pretrained.load('mnist-cvae')), "
                        f"got {type(model).__name__}.")
    return model.eval()


class ConditionalExplorer(_ShowsPicture, _LatentSliders, _ReportsInput):
    """Choose a class with the buttons and a style with the sliders; the decoded digit follows at once.

    ``.class_buttons`` choose y (0..C-1); ``.sliders`` set the ``num_sliders`` latent dimensions the model uses
    most (largest average KL over the test images), ``.dims`` says which; the other dimensions stay at the style
    reference: 0, the prior's mean (an average handwriting), until a test digit's number is typed into the
    "digit #" box, which sets the whole z to that digit's posterior mean (encoded with its own label).
    Drive it with ``set_label(y)``, ``set_sliders(values)`` and ``set_style_from(index)``; read ``z``, ``label``,
    ``current_image()`` (the digit shown, sigmoid(decode(z, y)), (28, 28) float32) and ``current_images()``
    ({"decoded": that digit, "all_classes": z decoded with every label, (C, 28, 28)}).
    Its labels are in the language of the course's messages when it is made; its messages in the language when
    they are shown. Taught in ``notebooks/07_conditional_and_beta.ipynb``.
    """

    SNAPSHOT_ACTION = N_("choose a class, move its sliders or type a digit's number")

    def __init__(self, model: ConditionalVAE, images: torch.Tensor | None = None, labels: torch.Tensor | None = None,
                 label: int = 7, num_sliders: int = 4, slider_limit: float = 3.0, scale: int = 6) -> None:
        self.model = _check_conditional(model)
        self.images, self.labels = _test_set(images, labels)
        if (self.labels < 0).any():
            raise ValueError("a conditional VAE encodes an image with its label: give the labels of the images.")
        d, classes = self.model.latent_dim, self.model.num_classes
        if not isinstance(num_sliders, int) or not 1 <= num_sliders <= d:
            raise ValueError(f"num_sliders must be a whole number from 1 to the latent size {d}, got {num_sliders!r}.")
        self.mu, self.logvar = posterior_means_and_logvars(self.model, self.images, labels=self.labels)
        self._lock = threading.RLock()
        self.scale = scale
        self.class_buttons = widgets.ToggleButtons(options=[(str(c), c) for c in range(classes)],
                                                   value=self._check_label(label), description=tr("class"),
                                                   style={"button_width": "34px", "description_width": "40px"})
        self._make_sliders(sorted(dimensions_by_kl(self.mu, self.logvar)[:num_sliders].tolist()), slider_limit)
        self.index_box = widgets.Text(description=tr("digit #"), continuous_update=False,
                                      placeholder=tr("0 to {last}", last=len(self.images) - 1))
        self.messages = _MessageArea()
        self.image = widgets.Image(format="png")
        self.row_caption = widgets.HTML(tr("<b>the same z as every class</b>"))
        self.row_image = widgets.Image(format="png")
        self._base = torch.zeros(d)
        self.class_buttons.observe(lambda _change: self._on_slider(), names="value")
        self.index_box.observe(lambda change: self.messages.guard(lambda: self.type_index(change["new"])),
                               names="value")
        self.widget = widgets.VBox([
            self.class_buttons,
            image_row([widgets.VBox(self.sliders), self.image]),
            self.row_caption, self.row_image,
            self.index_box,
            self.messages.html,
        ])
        self._refresh()
        self.messages.say(tr("z starts at 0, the prior's mean: an average handwriting. Type a test digit's number "
                             "to take its style."))

    def _check_label(self, label: int) -> int:
        classes = self.model.num_classes
        if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or not 0 <= label < classes:
            raise ValueError(f"label must be a class number from 0 to {classes - 1}, got {label!r}.")
        return int(label)

    @property
    def label(self) -> int:
        """The class y the digit is drawn as."""
        return int(self.class_buttons.value)

    @locked
    def set_label(self, label: int) -> None:
        """Draw the current style as class ``label`` (0..C-1)."""
        self.class_buttons.value = self._check_label(label)  # its observer redraws

    @locked
    def set_style_from(self, index: int | str) -> None:
        """Take test image ``index``'s style: z becomes its posterior mean E[q(z|x, y)] (encoded with its own label;
        the sliders show it clipped to their range and rounded to their step). The class buttons stay: the row shows
        that handwriting as every class."""
        index = parse_index(index, len(self.images))
        self._base = self.mu[index].clone()
        self.set_sliders(self._clipped(self._base))
        self.messages.say(tr("z is now the style of test image {index} (a {label}), rounded to the sliders' step of "
                             "{step:g}; the row shows it as every class.", index=index, label=int(self.labels[index]),
                             step=self.sliders[0].step))

    def type_index(self, text: str) -> None:
        """The "digit #" box: like ``set_style_from`` but from text; wrong input is explained in the widget."""
        if str(text).strip():
            self.set_style_from(text)

    @locked
    def current_image(self) -> np.ndarray:
        """The digit shown: sigmoid(decode(z, y)) for the current z and class, (28, 28) float32."""
        return self._row[self.label].copy()

    @locked
    def current_images(self) -> dict[str, np.ndarray]:
        """What is displayed: 'decoded' (28, 28), the digit of the chosen class, and 'all_classes' (C, 28, 28)."""
        return {"decoded": self._row[self.label].copy(), "all_classes": self._row.copy()}

    @locked
    def _refresh(self) -> None:
        classes = torch.arange(self.model.num_classes)
        self._row = decode_with_labels(self.model, self.z.expand(len(classes), -1), classes).numpy()
        show_png(self.image, png_bytes(digit_pixels(self._row[self.label], self.scale)))
        show_png(self.row_image, png_bytes(digit_pixels(self._row, max(1, self.scale // 2))))
