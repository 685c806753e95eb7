"""Small runtime helpers every notebook's setup cell uses: seeding and an environment report.

Taught in ``notebooks/00_start_here.ipynb``.
"""

from __future__ import annotations

import platform
import random
from importlib import metadata

import numpy as np
import torch

#: The packages whose versions the environment check of notebook 00 reports.
REPORTED_PACKAGES = ("torch", "numpy", "matplotlib", "ipywidgets", "jupyterlab", "nbval", "vae-lesson")


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python's, NumPy's and PyTorch's global generators; return a fresh ``torch.Generator`` seeded too.

    Call it once in a notebook's setup cell so a Restart & Run All gives the same numbers.
    Library functions still take an explicit ``generator`` where reproducibility matters.
    Taught in ``notebooks/00_start_here.ipynb``.
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def package_version(name: str) -> str:
    """The installed version of a distribution, or ``"not installed"``."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def environment_report() -> dict[str, str]:
    """Versions of Python and the course's packages, for the environment check of notebook 00."""
    report = {"python": platform.python_version()}
    report.update({name: package_version(name) for name in REPORTED_PACKAGES})
    return report
