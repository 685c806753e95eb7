"""Repository hygiene: Binder's requirements agree with the root ones, and notebooks are stored cleanly."""

import json
import re
import sys
from pathlib import Path

import pytest

from vae_lesson.classroom import course_notebooks

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = course_notebooks(ROOT / "notebooks")  # test_classroom checks that COURSE lists every notebook


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


def _is_exempt_from_asserts(source: str) -> bool:
    """Cells whose output is ignored for a reason that no assert can check: installed versions, a live widget."""
    return "environment_report()" in source or source.rstrip().endswith(".widget")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_ignored_outputs_are_checked_by_asserts(path):
    """CONTRIBUTING.md: a trajectory's figures are not compared digit for digit, but the claim the prose makes
    from them is asserted, in the cell itself or in one of the next two code cells (e.g. after a plot)."""
    code = ["".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    for i, source in enumerate(code):
        if source.startswith("# NBVAL_IGNORE_OUTPUT") and not _is_exempt_from_asserts(source):
            assert any(re.search(r"^\s*assert ", s, re.M) for s in code[i : i + 3]), (
                f"code cell {i} ignores its output for nbval but nothing asserts the claims made from it:\n{source[:300]}")


def test_ci_also_runs_the_tests_as_on_another_cpu():
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    second = "ATEN_CPU_CAPABILITY=default OMP_NUM_THREADS=1 VAE_LESSON_NOTEBOOKS=ko python -m pytest"
    assert re.search(rf"^{re.escape(second)}$", ci, re.M), \
        "CI must run the tests a second time as on another CPU, with the Korean edition's notebooks (issue 20)"
    assert second in readme, "README's testing section must say how CI runs the second time"


def test_ci_checks_binder_and_installs_the_sites_generator():
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^python tools/check_binder\.py( --offline)?$", ci, re.M)
    dev = (ROOT / "requirements-dev.txt").read_text()
    assert "-r requirements-site.txt" in dev.splitlines()
    site = pins(ROOT / "requirements-site.txt")
    assert {"sphinx", "myst-nb", "sphinx-mathjax-offline"} <= set(site)
    assert not set(site) & set(pins(ROOT / "requirements.txt")), "the site's generator stays out of students' installs"


def test_the_binder_check_leaves_out_only_the_package_index():
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from check_binder import offline_requirements, runtime_version
    finally:
        sys.path.pop(0)
    text = (ROOT / "binder" / "requirements.txt").read_text()
    offline = offline_requirements(text)
    assert "--extra-index-url" in text and "--extra-index-url" not in offline
    assert pins(ROOT / "binder" / "requirements.txt") == {
        m[1].lower(): m[2] for m in re.finditer(r"(?m)^\s*([A-Za-z0-9_.\-]+)==(\S+)", offline)}
    assert "-e ." in offline.splitlines()
    assert runtime_version((ROOT / "binder" / "runtime.txt").read_text()) == (3, 11)
    with pytest.raises(ValueError, match="python-3.11"):
        runtime_version("3.11")
