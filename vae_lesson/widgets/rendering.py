"""What every widget of the course shares for drawing: one lock per widget, so that two threads never change its
state or draw its figure at once; images shown at their natural size; and values set from code put on a slider's
step, so that the browser has nothing to round and send back.

Why the lock: ipykernel 7 handles the browser's widget messages on another thread while a cell runs. After Run All,
a value a cell sets from code comes back from the browser (rounded to the slider's step) while the cell is still
drawing; two ``savefig`` calls on one matplotlib figure at once leave its renderer broken, and every later image is
a transparent PNG. Methods that change a widget's state or draw it are therefore decorated with ``locked``.
"""

from __future__ import annotations

import functools
import math
import struct
from collections.abc import Callable
from typing import Any, TypeVar

import ipywidgets as widgets

Method = TypeVar("Method", bound=Callable[..., Any])

# A slider's whole width (label, track, readout) and its label's: ipywidgets' defaults leave a track of about 120 px,
# where a 60 px drag crosses half the range of a latent coordinate; these leave about 260 px, and the 2-D explorer's
# sliders, digit and latent scatter still fit side by side in a laptop's notebook.
SLIDER_WIDTH = "400px"
SLIDER_STYLE = {"description_width": "40px"}  # room for "z[31]" or "t"


def locked(method: Method) -> Method:
    """Run ``method`` holding its object's ``_lock``, a ``threading.RLock`` made in ``__init__`` (re-entrant: a
    locked method may call another, and a slider's observer runs inside the ``set_*`` method that moved it)."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) in pixels of PNG bytes, read from the IHDR chunk (PNG specification, section 11.2.2)."""
    if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        raise ValueError("not PNG bytes: they must start with the PNG signature and an IHDR chunk.")
    return struct.unpack(">II", png[16:24])


def show_png(image: widgets.Image, png: bytes) -> None:
    """Show ``png`` in ``image`` at its natural size: the layout's width and height are the PNG's, so that a row
    (HBox) taller than the image cannot stretch it."""
    width, height = png_size(png)
    size = (f"{width}px", f"{height}px")
    if (image.layout.width, image.layout.height) != size:  # set once: a slider's update then only sends the PNG
        image.layout.width, image.layout.height = size
        image.layout.object_fit = "contain"
    image.value = png


def image_row(children: list[widgets.Widget], **layout: str) -> widgets.HBox:
    """An HBox whose children keep their own size: aligned to the top instead of stretched to the row's height, and
    wrapped onto a new line in a narrow window instead of squeezed to a narrower width."""
    return widgets.HBox(children, layout=widgets.Layout(align_items="flex-start", flex_flow="row wrap", **layout))


def on_step(slider: widgets.FloatSlider, value: float) -> float:
    """``value`` rounded to the nearest of ``slider``'s steps (min + k step), as the browser's slider would keep it,
    rounded to the step's decimals; a value set from code should be this, or the browser sends back another."""
    decimals = max(0, -math.floor(math.log10(slider.step) + 1e-9))
    steps = round((value - slider.min) / slider.step)
    return min(max(round(slider.min + steps * slider.step, decimals), slider.min), slider.max)
