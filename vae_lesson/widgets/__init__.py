"""Interactive widgets of the course (ipywidgets 8). Each widget's logic lives in a class whose state can be read
and driven from Python, so it is tested without a browser; ``.widget`` is the ipywidgets tree. A notebook displays
the object itself: the live widget, and a picture of it for viewers without a kernel (``widgets.snapshot``).

- ``vae_lesson.widgets.elbo``: ``ElboExplorer``, taught in ``notebooks/01_elbo.ipynb``.
- ``vae_lesson.widgets.latent_space``: ``LatentExplorer`` and ``DigitEncoder``; ``vae_lesson.widgets.interpolation``:
  ``Interpolator``; ``vae_lesson.widgets.scatter``: the ``LatentScatter`` they draw on; all taught in
  ``notebooks/04_latent_explorer.ipynb``.
- ``vae_lesson.widgets.conditional``: ``ConditionalExplorer`` (ask a conditional VAE for a digit) and
  ``vae_lesson.widgets.beta``: ``BetaExplorer`` (along a beta sweep on the rate-distortion plane), both taught in
  ``notebooks/07_conditional_and_beta.ipynb``.
- ``vae_lesson.widgets.sliders``: what the explorers with one slider per latent dimension share (``z``,
  ``set_sliders``).
- ``vae_lesson.widgets.inputs``: what the latent-space widgets share: reading typed input (``parse_index``,
  ``parse_numbers``) and explaining wrong input (``WidgetInputError``) in a message line.
- ``vae_lesson.widgets.snapshot``: ``widget_snapshot``, the picture of a widget's state that every explorer displays
  beside the live widget (GitHub, nbviewer and the website show it).
- ``vae_lesson.widgets.rendering``: what every widget shares for drawing: a lock per widget (``locked``; ipykernel 7
  runs the browser's messages on another thread while a cell runs) and images shown at their natural size
  (``show_png``).

Every public name is importable from ``vae_lesson.widgets`` itself. The PNG rendering the widgets use
(``figure_png``, ``png_bytes``, ``digit_pixels``) lives in ``vae_lesson.plots``.
"""

from vae_lesson.widgets.beta import BetaExplorer
from vae_lesson.widgets.conditional import ConditionalExplorer
from vae_lesson.widgets.elbo import ElboExplorer
from vae_lesson.widgets.inputs import WidgetInputError, parse_index, parse_numbers
from vae_lesson.widgets.interpolation import Interpolator
from vae_lesson.widgets.latent_space import DigitEncoder, LatentExplorer
from vae_lesson.widgets.scatter import LatentScatter

__all__ = [
    "BetaExplorer",
    "ConditionalExplorer",
    "DigitEncoder",
    "ElboExplorer",
    "Interpolator",
    "LatentExplorer",
    "LatentScatter",
    "WidgetInputError",
    "parse_index",
    "parse_numbers",
]
