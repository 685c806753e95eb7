"""Time each section of each notebook, as a class would run it: one fresh kernel per notebook, cells run in order.

Prints, per notebook, the seconds spent in each "## " section (code cells only), the total, and the kernel's peak
memory (resident set size, the high-water mark over the whole run: what a Binder session or a laptop must hold);
the instructor's guide (notebooks/INSTRUCTOR.md) quotes these figures. Nothing is written to the notebooks.

Usage:  python tools/time_notebooks.py [notebooks/NAME.ipynb ...]   (default: every notebook)
"""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from vae_lesson.classroom import course_notebooks

ROOT = Path(__file__).resolve().parents[1]


#: Run in the kernel after the notebook's last cell: its peak resident set size. Linux reports kilobytes, macOS bytes.
PEAK_RSS_PROBE = "import resource\nprint(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"


def section_times(path: Path) -> tuple[list[tuple[str, float]], float]:
    """(section heading, seconds) in notebook order, code before the first "## " heading being "title and setup";
    and the kernel's peak RSS in MB."""
    nb = nbformat.read(path, as_version=4)
    os.environ["TQDM_DISABLE"] = "1"
    client = NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    sections: list[tuple[str, float]] = [("title and setup", 0.0)]
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "markdown":
                for line in cell.source.splitlines():
                    if line.startswith("## "):
                        sections.append((line[3:].strip(), 0.0))
                continue
            if cell.cell_type != "code":
                continue
            start = time.perf_counter()
            client.execute_cell(cell, index)
            name, seconds = sections[-1]
            sections[-1] = (name, seconds + time.perf_counter() - start)
        probe = nbformat.v4.new_code_cell(PEAK_RSS_PROBE)
        nb.cells.append(probe)
        client.execute_cell(probe, len(nb.cells) - 1)
    peak = int(probe.outputs[0]["text"])
    peak_mb = peak / 1e6 if platform.system() == "Darwin" else peak * 1024 / 1e6
    return sections, peak_mb


def main(paths: list[str]) -> None:
    targets = [Path(p).resolve() for p in paths] or course_notebooks(ROOT / "notebooks")
    for path in targets:
        sections, peak_mb = section_times(path)
        print(f"\n{path.name}: {sum(s for _, s in sections):.0f} s, kernel peak RSS {peak_mb:,.0f} MB")
        for name, seconds in sections:
            print(f"  {seconds:6.1f} s  {name}")


if __name__ == "__main__":
    main(sys.argv[1:])
