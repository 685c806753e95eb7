"""What the widgets with one slider per latent dimension share (``LatentExplorer`` of
``notebooks/04_latent_explorer.ipynb`` and ``ConditionalExplorer`` of ``notebooks/07_conditional_and_beta.ipynb``):
the sliders, the code z they set on top of a reference code, and moving them all at once with one redraw.
"""

from __future__ import annotations

from collections.abc import Sequence

import ipywidgets as widgets
import torch

from vae_lesson.i18n import tr
from vae_lesson.widgets.rendering import SLIDER_STYLE, SLIDER_WIDTH, locked, on_step


class _LatentSliders:
    """A mixin: ``.sliders`` for the latent dimensions ``.dims``, in [-limit, limit] with a step of 0.01; ``z`` is the
    reference code ``_base`` with those dimensions set by the sliders. A subclass makes ``_lock`` (an RLock) and
    defines ``_refresh``, which draws the widget; moving a slider redraws it, and ``set_sliders`` redraws once."""

    _base: torch.Tensor
    dims: list[int]
    limit: float

    def _make_sliders(self, dims: list[int], limit: float) -> list[widgets.FloatSlider]:
        self.dims, self.limit, self._holding = dims, float(limit), False
        self.sliders = [
            widgets.FloatSlider(value=0.0, min=-self.limit, max=self.limit, step=0.01, description=f"z[{j}]",
                                continuous_update=True, readout_format=".2f", layout=widgets.Layout(width=SLIDER_WIDTH),
                                style=SLIDER_STYLE)
            for j in dims
        ]
        for slider in self.sliders:
            slider.observe(lambda _change: self._on_slider(), names="value")
        return self.sliders

    @property
    @locked
    def z(self) -> torch.Tensor:
        """The current latent code (d,): the reference code with the sliders' dimensions set."""
        z = self._base.clone()
        z[self.dims] = torch.tensor([slider.value for slider in self.sliders])
        return z

    @locked
    def set_sliders(self, values: Sequence[float]) -> None:
        """Move all sliders at once (one redraw). Values must lie in the sliders' range; each is rounded to the
        sliders' step (0.01), as the browser would round it, so that ``z`` is what the sliders show."""
        values = [float(v) for v in values]
        if len(values) != len(self.sliders):
            raise ValueError(f"expected {len(self.sliders)} values, one per slider, got {len(values)}.")
        for value in values:
            if not -self.limit <= value <= self.limit:
                raise ValueError(f"{value} is outside the sliders' range [{-self.limit}, {self.limit}].")
        self._holding = True
        try:
            for slider, value in zip(self.sliders, values):
                slider.value = on_step(slider, value)  # what the browser keeps: it has nothing to send back
        finally:
            self._holding = False
        self._refresh()
        if hasattr(self, "messages"):  # the message line must not describe a z the sliders no longer show
            self.messages.say(tr("z set from code: the sliders show it."))

    def _clipped(self, code: torch.Tensor) -> list[float]:
        """The values of ``code`` in the sliders' dimensions, clipped to their range."""
        return [min(max(code[j].item(), -self.limit), self.limit) for j in self.dims]

    @locked
    def _on_slider(self) -> None:
        if not self._holding:  # read under the lock: set_sliders on another thread may be holding the redraws
            self._refresh()

    def _refresh(self) -> None:
        raise NotImplementedError
