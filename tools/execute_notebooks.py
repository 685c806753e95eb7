"""Re-execute notebooks in place and store their outputs cleanly: the equivalent of one
Restart & Run All in a fresh kernel, with execution counts 1, 2, 3, ..., no progress bars
(TQDM_DISABLE=1), no timing metadata and no stored widget state.

Usage:  python tools/execute_notebooks.py [notebooks/NAME.ipynb ...]   (default: every notebook)
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from vae_lesson.classroom import course_notebooks
from vae_lesson.files import atomic_writer

ROOT = Path(__file__).resolve().parents[1]


def execute(path: Path) -> float:
    """Run one notebook top to bottom in a fresh kernel and overwrite it with the results; return seconds."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            cell.metadata.pop("execution", None)
    nb.metadata.pop("widgets", None)
    os.environ["TQDM_DISABLE"] = "1"
    client = NotebookClient(
        nb,
        timeout=900,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
        store_widget_state=False,
    )
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    with atomic_writer(path, "w") as handle:  # a failed run never leaves half a notebook behind
        nbformat.write(nb, handle)
    return elapsed


def main(argv: list[str]) -> None:
    paths = [Path(p) for p in argv] or course_notebooks(ROOT / "notebooks")
    for path in paths:
        print(f"{path.name}: {execute(path.resolve()):.1f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
