"""Check Binder's environment as far as this machine can without Docker: do what repo2docker does with ``binder/``.

Usage:  python tools/check_binder.py [--offline] [--venv FOLDER]     (CI runs it with --offline; about 2-3 minutes)

repo2docker (the tool behind mybinder.org) reads only ``binder/`` when that folder exists: ``runtime.txt`` picks the
Python version, and it runs ``pip install -r binder/requirements.txt`` from the repository's root, so that its
``-e .`` installs the course's package from the clone. This script does the same in a fresh virtual environment
(no system packages), with this machine's Python, which must be the version ``runtime.txt`` names. With ``--offline``
(for machines that reach only a package mirror, such as this project's CI) one line is left out: the
``--extra-index-url`` of PyTorch's CPU wheels, which cannot be reached there; the same ``+cpu`` wheel must then come
from pip's configured local wheels (``find-links``). Then it imports the package in that environment and runs
notebook 00 there against its stored outputs (nbval), as a student's first click on the Binder badge would.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"


def runtime_version(text: str) -> tuple[int, int]:
    """The (major, minor) Python version of a repo2docker ``runtime.txt`` ("python-3.11")."""
    match = re.fullmatch(r"\s*python-(\d+)\.(\d+)\s*", text)
    if not match:
        raise ValueError(f"runtime.txt must read like 'python-3.11', got {text!r}.")
    return int(match[1]), int(match[2])


def offline_requirements(text: str) -> str:
    """binder/requirements.txt without the lines that name a package index (unreachable here); all else kept."""
    kept = [line for line in text.splitlines()
            if not re.match(r"\s*(--extra-index-url|--index-url|-i\s)", line)]
    return "\n".join(kept) + "\n"


def run(command: list[str], what: str) -> None:
    print(f"--- {what}: {' '.join(command)}", flush=True)
    start = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT)
    if result.returncode != 0:
        sys.exit(f"check_binder: {what} failed (exit status {result.returncode}).")
    print(f"    done in {time.perf_counter() - start:.0f} s", flush=True)


def check(venv: Path, offline: bool = False) -> None:
    wanted = runtime_version((BINDER / "runtime.txt").read_text())
    if sys.version_info[:2] != wanted:
        sys.exit(f"check_binder: binder/runtime.txt asks for Python {wanted[0]}.{wanted[1]}, "
                 f"but this is {sys.version.split()[0]}: run the check with that Python.")
    requirements = venv.parent / "binder-requirements.txt"
    text = (BINDER / "requirements.txt").read_text()
    requirements.write_text(offline_requirements(text) if offline else text)
    run([sys.executable, "-m", "venv", str(venv)], "a fresh virtual environment")
    python = str(venv / "bin" / "python")
    run([python, "-m", "pip", "install", "--quiet", "--progress-bar", "off", "-r", str(requirements)],
        "pip install -r binder/requirements.txt, from the repository's root")
    run([python, "-c", "import sys, torch, vae_lesson, ipywidgets; "
                       f"assert vae_lesson.__file__.startswith({str(ROOT)!r}), vae_lesson.__file__; "
                       "assert torch.__version__.endswith('+cpu'), torch.__version__; "
                       "print('    vae_lesson', vae_lesson.__version__, 'from the clone; torch', torch.__version__)"],
        "the package imports in Binder's environment")
    run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "notebooks/00_start_here.ipynb"],
        "notebook 00 runs in Binder's environment and matches its stored outputs")
    print("check_binder: Binder's environment installs, imports the package and runs notebook 00.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--offline", action="store_true", help="leave out the package index lines (PyTorch's CPU "
                        "index), for a machine that reaches only a package mirror and has the +cpu wheel locally")
    parser.add_argument("--venv", type=Path, default=None, help="where to make the environment (default: a "
                        "temporary folder, removed afterwards)")
    args = parser.parse_args(argv)
    if args.venv is not None:
        args.venv.parent.mkdir(parents=True, exist_ok=True)
        check(args.venv.resolve(), args.offline)
    else:
        with tempfile.TemporaryDirectory(prefix="vae-lesson-binder-") as tmp:
            check(Path(tmp) / "venv", args.offline)
    return 0


if __name__ == "__main__":
    sys.exit(main())
