"""The Korean edition of the notebooks, built from the English ones and per-notebook translation catalogs.

``notebooks/ko/translations/NN_name.json`` holds one entry per markdown cell of ``notebooks/NN_name.ipynb``, keyed
by the English cell's id, with a hash of the English source it translates::

    {"notebook": "01_elbo.ipynb", "cells": {"<cell id>": {"sha": "<hash>", "en": "<English>", "ko": "<Korean>"}}}

:func:`build_translation` makes ``notebooks/ko/NN_name.ipynb``: the English notebook's cells in order, each
markdown cell replaced by its Korean text, each code cell copied unchanged, except the first one after the Colab
cell, which starts with :data:`SETUP_LINE` (Korean messages). A code cell keeps the outputs the Korean notebook
already stores for it while its source is unchanged; otherwise it has none until the notebook is run again.
Relative links are rewritten for the notebook's place one folder down (``GLOSSARY.md`` -> ``../GLOSSARY.md``,
``../README.md`` -> ``../../README.ko.md``); the translation keeps the English link targets.

``python -m vae_lesson.classroom translate`` writes the Korean notebooks; ``--check`` (a test runs it) names every
cell whose translation is missing, empty or older than its English source, and every Korean notebook that is
missing or not what the catalogs make. How to update a translation: CONTRIBUTING.md, "The Korean edition".
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import nbformat

from vae_lesson.files import atomic_writer

KOREAN = "ko"
TRANSLATIONS = "translations"
#: The one line by which a Korean notebook's code differs from the English one's.
SETUP_LINE = 'from vae_lesson import set_language; set_language("ko")  # 검사기와 위젯의 메시지를 한국어로'
NAVIGATION_LINE = re.compile(r"^(\[!\[Open in|&nbsp;·&nbsp;)")
#: Markdown and HTML link targets that are relative paths (not URLs, anchors or absolute paths).
RELATIVE_LINK = re.compile(r"(\]\(|href=\")(?![a-z][a-z0-9+.-]*:|#|/)([^)\"\s]+)")


def edition_dir(notebooks_dir: Path) -> Path:
    """The Korean notebooks' folder: ``notebooks/ko``."""
    return Path(notebooks_dir) / KOREAN


def catalog_path(notebooks_dir: Path, name: str) -> Path:
    """The catalog of notebook ``name``: ``notebooks/ko/translations/NN_name.json``."""
    return edition_dir(notebooks_dir) / TRANSLATIONS / (Path(name).stem + ".json")


def without_navigation(source: str) -> str:
    """A cell's source without the generated badge and link lines under a title (they are rebuilt per edition)."""
    lines = source.split("\n")
    kept = [line for line in lines if not NAVIGATION_LINE.match(line)]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip("\n") if len(kept) != len(lines) else source


def source_hash(source: str) -> str:
    """The hash a catalog entry stores of the English source it translates (navigation lines left out)."""
    return hashlib.sha256(without_navigation(source).encode("utf-8")).hexdigest()[:16]


def translatable(cell: nbformat.NotebookNode) -> bool:
    return cell.cell_type == "markdown"


def relocated_links(text: str) -> str:
    """Relative link targets rewritten for a notebook one folder below the English ones: the notebooks and the
    instructor's guide have Korean namesakes beside it; everything else is one more ``../`` away, and README.md
    becomes README.ko.md."""

    def move(match: re.Match) -> str:
        prefix, target = match.groups()
        path, anchor = (target.split("#", 1) + [""])[:2]
        if path.endswith(".ipynb") and "/" not in path or path == "INSTRUCTOR.md":
            moved = path
        elif path == "../README.md":
            moved = "../../README.ko.md"
        else:
            moved = "../" + path
        return prefix + moved + ("#" + anchor if anchor else "")

    return RELATIVE_LINK.sub(move, text)


def link_targets(text: str) -> list[str]:
    """The relative link targets of a text, in order (to compare a translation's links with the English ones)."""
    return [m.group(2) for m in RELATIVE_LINK.finditer(text)]


class Problem(NamedTuple):
    notebook: str
    cell: str
    message: str

    def __str__(self) -> str:
        return f"{self.notebook}, cell {self.cell}: {self.message}"


def empty_catalog(name: str) -> dict:
    return {"notebook": name, "cells": {}}


def load_catalog(path: Path, name: str) -> dict:
    """A notebook's catalog (an empty one if the file does not exist yet); a corrupt file is a clear error."""
    if not path.exists():
        return empty_catalog(name)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data.get("cells"), dict):
            raise ValueError('no "cells" object')
    except ValueError as error:
        raise ValueError(f"{path} is not a valid translation catalog ({error}); restore it with git.") from error
    return data


def heading_problem(english_source: str, korean: str) -> str | None:
    """Why a translation's headings do not match the English cell's (count, or level and section number), if so."""
    def shape(text: str) -> list[str]:
        return [re.match(r"^#+\s*(\d+\.)?", line).group(0).strip() for line in text.split("\n") if line.startswith("#")]
    english, translated = shape(english_source), shape(korean)
    if english != translated:
        return f"the translation's headings {translated} differ from the English cell's {english} (level, number)"
    return None


def catalog_problems(english: nbformat.NotebookNode, catalog: dict, name: str) -> list[Problem]:
    """Every markdown cell of ``english`` whose translation is missing, empty, stale or has other links; and
    every catalog entry for a cell the English notebook no longer has."""
    problems, ids = [], set()
    for cell in english.cells:
        if not translatable(cell):
            continue
        ids.add(cell.id)
        entry = catalog["cells"].get(cell.id)
        if entry is None:
            problems.append(Problem(name, cell.id, "no translation"))
        elif entry.get("sha") != source_hash(cell.source) or entry.get("stale"):
            problems.append(Problem(name, cell.id, "the English cell changed after it was translated"))
        elif not str(entry.get("ko", "")).strip():
            problems.append(Problem(name, cell.id, "the translation is empty"))
        elif sorted(link_targets(entry["ko"])) != sorted(link_targets(without_navigation(cell.source))):
            problems.append(Problem(name, cell.id, "the translation's links differ from the English cell's"))
        elif heading := heading_problem(without_navigation(cell.source), entry["ko"]):
            problems.append(Problem(name, cell.id, heading))
    problems += [Problem(name, key, "translates a cell the English notebook no longer has")
                 for key in catalog["cells"] if key not in ids]
    return problems


def updated_catalog(english: nbformat.NotebookNode, catalog: dict) -> dict:
    """``catalog`` with an entry, to be translated (empty ``ko``), for each English markdown cell that has none, and
    each stale entry marked for a translator: ``"stale": true``, the new English in ``en``, the English it translated
    in ``en_before``, its old ``ko`` kept. Delete ``stale`` and ``en_before`` once ``ko`` is updated."""
    updated = copy.deepcopy(catalog)
    cells = {}
    for cell in english.cells:
        if not translatable(cell):
            continue
        entry = updated["cells"].get(cell.id)
        source, sha = without_navigation(cell.source), source_hash(cell.source)
        if entry is None:
            entry = {"sha": sha, "en": source, "ko": ""}
        elif entry.get("sha") != sha:
            entry = {"sha": sha, "stale": True, "en": source, "en_before": entry.get("en", ""), "ko": entry.get("ko", "")}
        cells[cell.id] = entry
    updated["cells"] = cells  # in the English notebook's order; entries of deleted cells are dropped
    return updated


def first_setup_cell(nb: nbformat.NotebookNode, colab_cell_id: str) -> str | None:
    """The id of the code cell that gets :data:`SETUP_LINE`: the first code cell after the Colab cell."""
    return next((cell.id for cell in nb.cells if cell.cell_type == "code" and cell.id != colab_cell_id), None)


def build_translation(english: nbformat.NotebookNode, catalog: dict, stored: nbformat.NotebookNode | None,
                      title_cell: Callable[[str], str], colab_cell_id: str) -> nbformat.NotebookNode:
    """The Korean notebook made from ``english`` and its ``catalog`` (entries assumed current): markdown
    translated (``title_cell(text)`` adds the navigation to the first cell), code copied with the setup line,
    outputs kept from the ``stored`` Korean notebook where a code cell's source is unchanged."""
    built = copy.deepcopy(english)
    old = {cell.id: cell for cell in stored.cells} if stored is not None else {}
    setup_id = first_setup_cell(english, colab_cell_id)
    for i, cell in enumerate(built.cells):
        if translatable(cell):
            entry = catalog["cells"].get(cell.id, {})
            text = relocated_links(entry.get("ko", "")) or cell.source
            cell.source = title_cell(text) if i == 0 else text
            continue
        if cell.cell_type != "code":
            continue
        if cell.id == setup_id:
            cell.source = SETUP_LINE + "\n" + cell.source
        previous = old.get(cell.id)
        if previous is not None and previous.cell_type == "code" and previous.source == cell.source:
            cell.outputs, cell.execution_count = previous.outputs, previous.execution_count
        else:
            cell.outputs, cell.execution_count = [], None
    built.metadata["vae_lesson"] = {"edition": KOREAN}
    return built


def same_text(a: nbformat.NotebookNode, b: nbformat.NotebookNode) -> bool:
    """Whether two notebooks have the same cells (ids, types, sources), whatever their outputs."""
    return [(c.id, c.cell_type, c.source) for c in a.cells] == [(c.id, c.cell_type, c.source) for c in b.cells]


#: The Korean documents beside the notebooks, and the English document each translates (paths from the repository's
#: root). Each ends with a marker line naming the hash of the English it translates: ``document_marker``.
DOCUMENTS = {"README.ko.md": "README.md", "notebooks/ko/INSTRUCTOR.md": "notebooks/INSTRUCTOR.md"}
MARKER = re.compile(r"<!-- translated from (\S+) at sha (\w+);.*-->")


def document_hash(text: str) -> str:
    """The hash of an English document as its translation records it: the course's links (which
    ``classroom navigation`` rewrites in both) are left out."""
    from vae_lesson import links  # noqa: PLC0415  (links imports the package's version)

    return source_hash(re.sub(r"https?://\S+", "", links.relink(text)))


def document_marker(english_name: str, english_text: str) -> str:
    """The last line of a Korean document: which English document, as of which hash, it translates."""
    return (f"<!-- translated from {english_name} at sha {document_hash(english_text)}; after updating the "
            "translation, copy this line from `python -m vae_lesson.classroom translate --check` -->")


def document_problem(korean_name: str, korean_text: str | None, english_name: str, english_text: str) -> str | None:
    """Why a Korean document is missing or older than its English source, if it is (with the marker to write)."""
    if korean_text is None:
        return f"{korean_name} is missing: translate {english_name}"
    found = MARKER.search(korean_text)
    if found and found.group(2) == document_hash(english_text):
        return None
    return (f"{korean_name}: {english_name} changed after it was translated (or the marker line is missing); update "
            f"the translation, then end it with: {document_marker(english_name, english_text)}")


HEADING = re.compile(r"^#+\s*(?:\d+\.\s*)?(.*?)\s*$")


def heading_titles(text: str) -> list[str]:
    """The titles of a markdown text's headings, in order, without the ``#`` marks and a section number."""
    return [HEADING.match(line).group(1) for line in text.split("\n") if line.startswith("#")]


def heading_translations(catalogs: list[dict]) -> tuple[dict[str, str], list[str]]:
    """English heading title -> Korean heading title, from the catalogs' translated cells (a cell's headings are
    paired in order), and the English titles translated in more than one way (a problem: a heading reads the same in
    every notebook, and a hint must quote the Korean notebook's own heading). The checkers' hints quote headings
    through this map (``vae_lesson/locale/ko.headings.json``), so a hint names a heading the Korean notebook has."""
    pairs: dict[str, set[str]] = {}
    for catalog in catalogs:
        for entry in catalog["cells"].values():
            english, korean = heading_titles(entry.get("en", "")), heading_titles(entry.get("ko", ""))
            if entry.get("ko") and not entry.get("stale") and len(english) == len(korean):
                for en, ko in zip(english, korean):
                    pairs.setdefault(en, set()).add(ko)
    conflicts = [f"the heading {en!r} is translated in {len(kos)} ways: {sorted(kos)}; use one"
                 for en, kos in sorted(pairs.items()) if len(kos) > 1]
    return {en: min(kos) for en, kos in sorted(pairs.items())}, conflicts


def write_catalog(path: Path, catalog: dict) -> None:
    with atomic_writer(path, "w") as handle:
        json.dump(catalog, handle, ensure_ascii=False, indent=1)
        handle.write("\n")
