"""Repository hygiene: Binder's requirements agree with the root ones, and notebooks are stored cleanly."""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def pins(path: Path) -> dict[str, str]:
    """name -> version for every `name==version` line of a requirements file."""
    found = {}
    for line in path.read_text().splitlines():
        match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)==([^\s#;]+)\s*(#.*)?", line)
        if match:
            found[match[1].lower()] = match[2]
    return found


def test_binder_pins_the_same_packages_and_versions():
    root, binder = pins(ROOT / "requirements.txt"), pins(ROOT / "binder" / "requirements.txt")
    assert root, "requirements.txt pins nothing"
    assert binder["torch"] == root["torch"] + "+cpu", "Binder must use the CPU build of the same torch"
    assert {k: v for k, v in binder.items() if k != "torch"} == {k: v for k, v in root.items() if k != "torch"}


def test_binder_installs_the_package_and_python_311():
    lines = [line.strip() for line in (ROOT / "binder" / "requirements.txt").read_text().splitlines()]
    assert "-e ." in lines or "." in lines, "repo2docker does not install the root package by itself"
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in lines
    assert not any(line.startswith("--index-url") for line in lines), "--index-url would replace PyPI"
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.11"


def test_readme_gives_the_commands_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "pip install -r requirements.txt && python -m pytest" in readme
    assert "pip install -r requirements.txt && jupyter lab notebooks/00_start_here.ipynb" in readme
    assert re.search(r"^python -m pytest$", ci, re.M)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_from_one_clean_run(path):
    nb = json.loads(path.read_text())
    counts = [c["execution_count"] for c in nb["cells"] if c["cell_type"] == "code"]
    assert counts == list(range(1, len(counts) + 1)), "re-run it with tools/execute_notebooks.py"
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", f"a cell stores an error: {out.get('ename')}"
            assert "image/svg+xml" not in out.get("data", {}), "store PNG figures, not SVG"
            text = "".join(out.get("text", ""))
            assert not re.search(r"/(home|root|tmp|work)/|\d+(\.\d+)?(it/s|s/it)|\r", text), text[:200]


def test_packaged_data_carries_its_credit():
    readme = (ROOT / "vae_lesson" / "datasets" / "README.md").read_text()
    assert "Yann LeCun" in readme and "Attribution-Share Alike 3.0" in readme
