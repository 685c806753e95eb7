"""Files that never lose a student's work: atomic writes, and one clear error for a missing file.

Used by ``checkpoints`` (saved models, ``notebooks/03_train_vae.ipynb``), ``classroom`` (student copies),
``pretrained`` and ``data``, and by ``tools/execute_notebooks.py``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


@contextmanager
def atomic_writer(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file next to ``path`` for writing; when the block ends without an error, flush it to disk and
    rename it onto ``path``. An interruption or an error leaves the previous file untouched (and no temporary file).

    ``mode`` is ``"wb"`` or ``"w"`` (text, UTF-8). The rename is atomic on POSIX and Windows: readers see the old
    file or the new one, never half of one. The temporary name is unique, so two writers never share it.
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"mode must be 'wb' or 'w', got {mode!r}.")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **({"encoding": "utf-8"} if mode == "w" else {})) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())  # on disk before the rename, so a power cut cannot leave an empty file
        os.chmod(tmp, 0o644)  # mkstemp creates the file private; the result is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def require_file(path: str | os.PathLike, what: str, remedy: str) -> Path:
    """``path`` as a Path if it is a file; otherwise raise :class:`FileNotFoundError` saying what is missing and
    what to do. Every loader of the course raises this one error for a missing file (a file that exists but is
    corrupt raises the loader's own error: ``CheckpointError``, ``DataFileError``)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"The {what} {path} is missing. {remedy}")
    return path
