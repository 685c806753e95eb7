"""What the latent-space widgets of ``notebooks/04_latent_explorer.ipynb`` share: reading what a student types,
explaining wrong input in a message line under the widget instead of a traceback, and checking the model and
test images a widget is given.

The explanations are in the language of the course's messages at the moment the input is read
(:func:`vae_lesson.set_language`; ``vae_lesson.i18n``).
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable

import ipywidgets as widgets
import torch

from vae_lesson.data import load_mnist
from vae_lesson.i18n import N_, tr
from vae_lesson.models import VAE, flatten_images


class WidgetInputError(ValueError):
    """A value typed into a widget that cannot be used; its message is shown in the widget, not raised."""


def parse_index(text: str, size: int, what: str = N_("test image")) -> int:
    """A typed index into a data set of ``size`` items, or a :class:`WidgetInputError` saying what is wrong
    (``what``, the name of one item, is translated if the catalog has it)."""
    try:
        index = int(str(text).strip())
    except ValueError:
        raise WidgetInputError(tr("'{text}' is not a whole number: type the number of a {what}, 0 to {last}.",
                                  text=text, what=tr(what), last=size - 1)) from None
    if not 0 <= index < size:
        raise WidgetInputError(tr("{index} is outside the {size:,} {what}s: type a number from 0 to {last}.",
                                  index=index, size=size, what=tr(what), last=size - 1))
    return index


def parse_numbers(text: str, count: int, low: float, high: float) -> list[float]:
    """``count`` comma-separated numbers in [low, high] typed by a student, or a :class:`WidgetInputError`."""
    parts = [part for part in str(text).replace(";", ",").split(",") if part.strip()]
    if len(parts) != count:
        if count == 1:  # then the count typed is not 1
            message = tr("The explorer has {count} slider; you typed {typed} numbers. Type {count}, separated by "
                         "commas.", count=count, typed=len(parts))
        elif len(parts) == 1:
            message = tr("The explorer has {count} sliders; you typed {typed} number. Type {count}, separated by "
                         "commas.", count=count, typed=len(parts))
        else:
            message = tr("The explorer has {count} sliders; you typed {typed} numbers. Type {count}, separated by "
                         "commas.", count=count, typed=len(parts))
        raise WidgetInputError(message)
    values = []
    for part in parts:
        try:
            value = float(part)
        except ValueError:
            raise WidgetInputError(tr("'{part}' is not a number: type numbers like 0.5, -1.2.",
                                      part=part.strip())) from None
        if not math.isfinite(value):  # 'nan', 'inf', or a number too large for a float, like 1e400
            raise WidgetInputError(tr("{part} is not a finite number: type numbers like 0.5, -1.2, inside the "
                                      "sliders' range [{low:g}, {high:g}].", part=part.strip(), low=low, high=high))
        if not low <= value <= high:
            raise WidgetInputError(tr("{part} is outside the sliders' range [{low:g}, {high:g}]: the prior N(0, 1) "
                                      "puts almost no mass there, so the decoder was never trained on it. Type a "
                                      "value inside the range.", part=part.strip(), low=low, high=high))
        values.append(value)
    return values


def _check_vae(model: object) -> VAE:
    """The model in evaluation mode, or a TypeError that says which kind of model a widget needs."""
    if not isinstance(model, VAE):
        raise TypeError(f"expected a vae_lesson.models.VAE (e.g. vae_lesson.pretrained.load('mnist-2d')), "
                        f"got {type(model).__name__}.")
    return model.eval()


def _test_set(images: torch.Tensor | None, labels: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (N, 28, 28) and labels (N,) for a widget: MNIST's test set if ``images`` is None; labels -1 if unknown."""
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
        """Show ``text`` under the widget, in red with a warning sign if it explains an ``error``."""
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
        """The text of the widget's message line."""
        return self.messages.text
