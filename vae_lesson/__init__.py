"""vae_lesson: the package behind the interactive course on Variational Autoencoders.

Each module teaches one idea and names the notebook where it is taught.
Importing the package does nothing but define names: no seeding, no prints, no global style.
"""

__version__ = "0.1.0"

from vae_lesson.i18n import language, set_language  # noqa: E402  (the Korean notebooks' setup line uses it)
