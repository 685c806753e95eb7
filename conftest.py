"""pytest configuration shared by the unit tests and the nbval notebook run.

Progress bars never reach compared notebook output: nbval's kernels inherit this environment.
"""

import os

os.environ.setdefault("TQDM_DISABLE", "1")

# Which edition of the notebooks nbval runs: VAE_LESSON_NOTEBOOKS=en (the default: notebooks/*.ipynb), ko (the
# Korean edition, notebooks/ko/*.ipynb, instead: CI's second run) or all. A notebook named on the command line
# always runs.
from pathlib import Path

_ROOT = Path(__file__).resolve().parent
_EDITIONS = {"en": {"en"}, "ko": {"ko"}, "all": {"en", "ko"}}


def _edition_of(path: Path) -> str | None:
    """'en' or 'ko' for the course's notebooks and the Korean folder, None for anything else."""
    try:
        relative = path.resolve().relative_to(_ROOT / "notebooks")
    except ValueError:
        return None
    if relative.parts[:1] == ("ko",):
        return "ko"
    return "en" if path.suffix == ".ipynb" and len(relative.parts) == 1 else None


def pytest_ignore_collect(collection_path, config):
    choice = os.environ.get("VAE_LESSON_NOTEBOOKS", "en").strip().lower() or "en"
    if choice not in _EDITIONS:
        raise ValueError(f"VAE_LESSON_NOTEBOOKS={choice!r}: use en, ko or all.")
    edition = _edition_of(Path(collection_path))
    named = any(Path(str(arg).split("::")[0]).resolve() == Path(collection_path).resolve()
                for arg in config.args)
    if edition is None or named:
        return None
    return True if edition not in _EDITIONS[choice] else None
