"""Build the course's website from the stored notebooks, without running them.

Usage:  python tools/build_site.py OUTDIR        (then open OUTDIR/index.html; no server or network needed)

The pages: a landing page (README.md's introduction and its table of the notebooks), one page per notebook with its
stored outputs (typeset math, figures, and a picture of each widget where a live one would be), the instructor's
guide and the glossary; then the Korean edition under ``ko/`` (its notebooks and its instructor's guide; the
glossary is shared). Every notebook page starts with its Binder and Colab badges (``vae_lesson.links``).

The generator is Sphinx with myst-nb (pinned in requirements-site.txt: ``pip install -r requirements-site.txt`` is all
it needs; the course's package is imported from this clone); its configuration is ``site/conf.py``.
This script only stages the files Sphinx reads in a temporary folder, so the repository is never written to:
- the notebooks, the guide and the glossary, with the badges' images taken from ``site/_static`` instead of
  mybinder.org and Colab (the site then shows them offline, as in a classroom without a network), the glossary's
  HTML anchors as MyST targets, and the Colab setup cell left out (it does nothing outside Colab);
- ``index.md``, made from README.md, its links to the repository's files turned into links to the pages or to
  the repository on GitHub.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the course's package from this clone, installed or not (site/conf.py imports it too)

from vae_lesson import links  # noqa: E402
from vae_lesson.classroom import COLAB_CELL_ID, COURSE, course_notebooks  # noqa: E402

DOCUMENTS = ["INSTRUCTOR.md", "GLOSSARY.md"]  # from notebooks/, beside the notebooks on the site
KOREAN = "ko"  # notebooks/ko/: the Korean edition's notebooks and INSTRUCTOR.md, on the site under ko/
LOCAL_BADGES = {links.BINDER_BADGE_IMAGE: "_static/binder-badge.svg", links.COLAB_BADGE_IMAGE: "_static/colab-badge.svg"}
_RELATIVE_LINK = re.compile(r"\]\((?!https?://|#|mailto:)([^)\s]+)\)")


_HTML_ANCHOR = re.compile(r'(?m)^<a id="([^"]+)"></a>\s*$')


def myst_anchors(text: str) -> str:
    """``text`` with each HTML anchor on a line of its own (``<a id="elbo"></a>``, as the glossary marks its terms
    for GitHub and JupyterLab) turned into a MyST target (``(elbo)=``), which Sphinx resolves in links from any page."""
    return _HTML_ANCHOR.sub(lambda m: f"({m[1]})=", text)


def local_badges(text: str, depth: int = 0) -> str:
    """``text`` with the Binder and Colab badge images replaced by the site's own copies (seen from a page ``depth``
    folders below the site's root)."""
    for remote, local in LOCAL_BADGES.items():
        text = text.replace(remote, "../" * depth + local)
    return text


def site_link(target: str) -> str:
    """Where a README link to a repository path points on the site: a notebook or document of the site by its own
    name, anything else to the file on GitHub."""
    if target.startswith("notebooks/") and "/" not in target[len("notebooks/"):].split("#")[0]:
        return target[len("notebooks/"):]
    return f"{links.REPOSITORY_URL}/blob/{links.BRANCH}/{target}"


def landing_page(readme: str) -> str:
    """The site's index.md: README's title, badges and introduction and its table of the notebooks, then the
    navigation (Sphinx toctrees: the notebooks in order, then the documents for instructors)."""
    sections = re.split(r"(?m)^## ", readme)
    intro = sections[0].split("\n")
    intro[0] = "# Variational Autoencoders from first principles"
    notebooks = next(s for s in sections if s.startswith("The notebooks"))
    body = "\n".join(intro).rstrip() + "\n\n## " + notebooks.rstrip() + "\n"
    body = local_badges(_RELATIVE_LINK.sub(lambda m: f"]({site_link(m[1])})", body))
    course = "\n".join(Path(name).stem for name, _ in COURSE)
    documents = "\n".join(Path(name).stem for name in DOCUMENTS)
    korean = "\n".join([*(f"{KOREAN}/{Path(name).stem}" for name, _ in COURSE), f"{KOREAN}/INSTRUCTOR"])
    body += (f"\n## 한국어판 (Korean edition)\n\n모든 노트북과 강사용 안내서가 한국어로도 있습니다: "
             f"[00 · 시작하기]({KOREAN}/{Path(COURSE[0][0]).stem}).\n")
    return (f"{body}\n```{{toctree}}\n:caption: The course\n:maxdepth: 1\n:hidden:\n\n{course}\n```\n\n"
            f"```{{toctree}}\n:caption: For instructors\n:maxdepth: 1\n:hidden:\n\n{documents}\n```\n\n"
            f"```{{toctree}}\n:caption: 한국어판\n:maxdepth: 1\n:hidden:\n\n{korean}\n```\n")


_OUTSIDE_LINK = re.compile(r"\]\(((?:\.\./)+)([^)\s]+)\)")


def outside_links(text: str, depth: int) -> str:
    """Links from a page ``depth`` folders below the notebooks' to a repository file that is not on the site (e.g.
    ``../README.md`` from ``notebooks/``), pointed at the file on GitHub."""

    def github(match: re.Match) -> str:
        ups, target = len(match[1]) // 3, match[2]
        if ups <= depth:  # still inside the site (e.g. ../GLOSSARY.md from ko/)
            return match[0]
        return f"]({links.REPOSITORY_URL}/blob/{links.BRANCH}/{target})"

    return _OUTSIDE_LINK.sub(github, text)


def stage_notebook(path: Path, target: Path, depth: int = 0) -> None:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = outside_links(myst_anchors(local_badges(cell.source, depth)), depth)
        elif cell.get("id") == COLAB_CELL_ID:  # Colab's setup does nothing on a page: myst-nb leaves it out
            cell.metadata.setdefault("tags", []).append("remove-cell")
    nbformat.write(nb, target)


def stage(folder: Path) -> None:
    """Write everything Sphinx reads into ``folder``."""
    shutil.copytree(ROOT / "site", folder, dirs_exist_ok=True)
    (folder / KOREAN).mkdir()
    for path in course_notebooks(ROOT / "notebooks"):
        stage_notebook(path, folder / path.name)
        stage_notebook(ROOT / "notebooks" / KOREAN / path.name, folder / KOREAN / path.name, depth=1)
    for name in DOCUMENTS:
        text = (ROOT / "notebooks" / name).read_text(encoding="utf-8")
        (folder / name).write_text(outside_links(myst_anchors(local_badges(text)), 0), encoding="utf-8")
    guide = (ROOT / "notebooks" / KOREAN / "INSTRUCTOR.md").read_text(encoding="utf-8")
    (folder / KOREAN / "INSTRUCTOR.md").write_text(outside_links(local_badges(guide, 1), 1), encoding="utf-8")
    (folder / "index.md").write_text(landing_page((ROOT / "README.md").read_text(encoding="utf-8")),
                                     encoding="utf-8")


def build(outdir: Path) -> Path:
    """Build the site into ``outdir`` (created or updated); returns the path of its landing page."""
    outdir = Path(outdir).resolve()
    with tempfile.TemporaryDirectory(prefix="vae-lesson-site-") as tmp:
        source = Path(tmp) / "source"
        stage(source)
        command = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-d", str(Path(tmp) / "doctrees"),
                   str(source), str(outdir)]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        result = subprocess.run(command, capture_output=True, text=True, env=env)
        if result.returncode != 0:
            raise RuntimeError(f"Sphinx failed (exit status {result.returncode}):\n{result.stderr[-4000:]}")
        if result.stderr.strip():
            print(result.stderr.strip(), file=sys.stderr)
    return outdir / "index.html"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("outdir", type=Path, help="where the HTML goes (created if missing)")
    args = parser.parse_args(argv)
    if args.outdir.resolve() in (ROOT, ROOT / "notebooks"):
        parser.error(f"{args.outdir} is part of the repository's sources: choose an empty folder for the site.")
    index = build(args.outdir)
    print(f"site built: open {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
