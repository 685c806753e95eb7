"""One repository location (``vae_lesson.links``) behind every badge and link, and the Colab setup cell at the top
of every notebook: what it runs in Colab (checked with a stand-in ``google.colab`` module) and that it does nothing
anywhere else."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import tomllib
import types
from pathlib import Path

import nbformat
import pytest

from vae_lesson import __version__, links
from vae_lesson.classroom import COLAB_CELL_ID, LINKED_DOCUMENTS, colab_cell_source, course_notebooks

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = course_notebooks(ROOT / "notebooks")


def test_pyproject_names_the_same_repository():
    urls = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]
    assert urls["Repository"] == links.REPOSITORY_URL


def test_every_course_link_points_at_the_one_repository():
    """Every Binder, Colab and pip link, and every GitHub link to a repository named like the course's, in the
    documents, the notebooks, the package, the tools and the site's sources, names ``links.REPOSITORY``."""
    files = [ROOT / name for name in LINKED_DOCUMENTS] + NOTEBOOKS + [ROOT / "notebooks" / "GLOSSARY.md"]
    files += [p for folder in ("vae_lesson", "tools", "site", "binder") for p in (ROOT / folder).rglob("*")
              if p.is_file() and p.suffix in {".py", ".md", ".txt", ".svg"} and p.name != "links.py"]
    named = {path.relative_to(ROOT): links.repositories_named(path.read_text(encoding="utf-8"))
             for path in files if path.exists()}
    assert all(found <= {links.REPOSITORY} for found in named.values()), {p: f for p, f in named.items() if f}
    for path in [ROOT / "README.md", *NOTEBOOKS]:  # the badges are really there
        assert links.REPOSITORY in named[path.relative_to(ROOT)], path.name


def test_relink_moves_only_the_course_links(monkeypatch):
    monkeypatch.setattr(links, "REPOSITORY", "a-university/vae-course")
    text = ("[b](https://mybinder.org/v2/gh/vae-lesson/vae-lesson/HEAD?urlpath=lab/tree/notebooks/x.ipynb) "
            "[c](https://colab.research.google.com/github/vae-lesson/vae-lesson/blob/main/notebooks/x.ipynb) "
            "git clone https://github.com/vae-lesson/vae-lesson.git; pip install 'vae-lesson @ "
            "git+https://github.com/vae-lesson/vae-lesson@v1.0.0' [nbval](https://github.com/computationalmodelling/nbval)"
            " pip install git+https://github.com/pytorch/vision https://github.com/someone/vae-lesson-notes")
    moved = links.relink(text)
    assert links.repositories_named(moved) == {"a-university/vae-course"}
    assert moved.count("a-university/vae-course") == 4
    assert f"https://mybinder.org/v2/gh/a-university/vae-course/{links.BRANCH}?urlpath=lab/tree/notebooks/x.ipynb" in moved
    assert (f"https://colab.research.google.com/github/a-university/vae-course/blob/{links.RELEASE_TAG}/notebooks/"
            "x.ipynb") in moved
    assert "https://github.com/a-university/vae-course.git" in moved and "vae-course@v1.0.0'" in moved
    for other in ("github.com/computationalmodelling/nbval", "git+https://github.com/pytorch/vision",
                  "https://github.com/someone/vae-lesson-notes"):
        assert other in moved, f"{other} is not the course's: left alone"


def test_badges_open_the_notebook_on_binder_and_colab():
    badges = links.badges("notebooks/04_latent_explorer.ipynb")
    assert (f"(https://mybinder.org/v2/gh/{links.REPOSITORY}/{links.BRANCH}?urlpath=lab/tree/notebooks/"
            "04_latent_explorer.ipynb)") in badges
    # Colab opens the notebook of the release whose package its setup cell installs
    assert (f"(https://colab.research.google.com/github/{links.REPOSITORY}/blob/{links.RELEASE_TAG}/notebooks/"
            "04_latent_explorer.ipynb)") in badges
    assert badges.count("[![Open in") == 2


def test_colab_installs_a_pinned_release():
    """Colab installs the package from the git tag of the version in pyproject.toml, not a moving branch."""
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert version == __version__
    assert links.pip_requirement() == f"vae-lesson @ git+https://github.com/{links.REPOSITORY}@v{version}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_starts_with_the_colab_cell(path):
    nb = nbformat.read(path, as_version=4)
    cell = nb.cells[1]
    assert cell.cell_type == "code" and cell.id == COLAB_CELL_ID, "the Colab cell must come right after the title"
    assert cell.source == colab_cell_source()
    assert cell.outputs == [], "outside Colab the cell prints nothing"
    assert sum(c.get("id") == COLAB_CELL_ID for c in nb.cells) == 1


def _run_cell(monkeypatch, in_colab: bool, installed: dict[str, str] | None = None) -> tuple[list, list]:
    """Run the Colab cell as a kernel would; returns (commands it ran, widget-manager calls). ``installed``: the
    versions that pip leaves installed, by package (default: those already loaded)."""
    commands, enabled = [], []
    monkeypatch.setattr(subprocess, "run", lambda args, **kwargs: commands.append((list(args), kwargs)))
    if in_colab:
        colab = types.ModuleType("google.colab")
        colab.output = types.SimpleNamespace(enable_custom_widget_manager=lambda: enabled.append(True))
        google = types.ModuleType("google")
        google.colab = colab
        monkeypatch.setitem(sys.modules, "google", google)
        monkeypatch.setitem(sys.modules, "google.colab", colab)
        versions = {name: sys.modules[name].__version__ for name in ("numpy", "torch", "ipywidgets", "matplotlib")
                    if name in sys.modules}
        versions.update(installed or {})
        monkeypatch.setattr(importlib.metadata, "version", lambda name: versions[name])
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(compile(colab_cell_source(), "<colab cell>", "exec"), {})
    return commands, enabled


def test_colab_cell_in_colab_installs_the_package_and_enables_widgets(monkeypatch, capsys):
    import ipywidgets  # noqa: F401  (loaded, as in a kernel that displayed something)

    commands, enabled = _run_cell(monkeypatch, in_colab=True)
    assert len(commands) == 1
    args, kwargs = commands[0]
    assert args[:4] == [sys.executable, "-m", "pip", "install"] and args[-1] == links.pip_requirement()
    assert kwargs.get("check") is True, "a failed install must stop the notebook, not pass silently"
    assert enabled == [True]
    assert capsys.readouterr().out == "", "nothing to say when no loaded package changed"


def test_colab_cell_asks_for_a_restart_when_the_install_upgraded_a_loaded_package(monkeypatch, capsys):
    import ipywidgets  # noqa: F401

    _run_cell(monkeypatch, in_colab=True, installed={"ipywidgets": "99.0.0"})
    out = capsys.readouterr().out
    assert "Restart session" in out and "run the notebook again" in out


def test_colab_cell_elsewhere_does_nothing(monkeypatch, capsys):
    commands, enabled = _run_cell(monkeypatch, in_colab=False)
    assert commands == [] and enabled == []
    assert capsys.readouterr() == ("", "")


def test_colab_cell_stays_a_few_plain_lines():
    """No shell magic (``!pip``): the cell is plain Python, so that any kernel, nbval and the test above run it."""
    source = colab_cell_source()
    assert not re.search(r"^\s*[!%]", source, re.M)
    assert len(source.splitlines()) <= 16
