"""The classroom kit: student copies generated from the notebooks, and the notebooks' navigation links.

``python -m vae_lesson.classroom student-copies OUTDIR`` writes a copy of every notebook in which each cell
tagged ``solution`` becomes a stub: a function keeps its signature and raises ``NotImplementedError``; a variable
becomes ``name = ...``. The exercise checker right after it then says "not solved yet" instead of a traceback.
The answers to "Check your understanding" (markdown cells tagged ``answer``) are left out unless ``--with-answers``
is given.
``python -m vae_lesson.classroom navigation`` rewrites the Binder and Colab badges and the previous/next/start links at
the top of every notebook from ``COURSE``, the Colab setup cell under them, and the course's links in README.md and
the instructor's guide from ``vae_lesson.links`` (the one place that names the repository); ``--check`` only
reports what is not current (a test runs it).
Instructors: see ``notebooks/INSTRUCTOR.md``.
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import os
import re
import sys
from pathlib import Path

import nbformat

from vae_lesson import i18n, links, translation
from vae_lesson.files import atomic_writer, require_file

SOLUTION_TAG = "solution"
ANSWER_TAG = "answer"  # a markdown cell with the collapsed answer to one "Check your understanding" question
EXERCISE_TAG = "exercise"  # what a solution cell is tagged in a student copy
STUB_MARK = "# YOUR CODE HERE"
CHECKER_CALL = re.compile(r"\bchecks\.check_\w+\(")
SEPARATOR = " &nbsp;·&nbsp; "
COLAB_CELL_ID = "colab-setup"  # the id of the Colab setup cell under each notebook's title
COLAB_TAG = "colab"

#: The course in order: file name and the short title used in links.
COURSE: list[tuple[str, str]] = [
    ("00_start_here.ipynb", "00 · Start here"),
    ("01_elbo.ipynb", "01 · The ELBO"),
    ("02_gradients.ipynb", "02 · Gradients through sampling"),
    ("03_train_vae.ipynb", "03 · Training a VAE"),
    ("04_latent_explorer.ipynb", "04 · The latent explorer"),
    ("05_density_and_anomalies.ipynb", "05 · Density and anomalies"),
    ("06_real_data.ipynb", "06 · Real data"),
    ("07_conditional_and_beta.ipynb", "07 · A conditional VAE and β"),
]
#: The short titles of the Korean edition's links (``notebooks/ko``), and its words for the navigation.
KOREAN_TITLES: dict[str, str] = {
    "00_start_here.ipynb": "00 · 시작하기",
    "01_elbo.ipynb": "01 · ELBO",
    "02_gradients.ipynb": "02 · 샘플링을 통과하는 기울기",
    "03_train_vae.ipynb": "03 · VAE 훈련하기",
    "04_latent_explorer.ipynb": "04 · 잠재 공간 탐색기",
    "05_density_and_anomalies.ipynb": "05 · 밀도와 이상 탐지",
    "06_real_data.ipynb": "06 · 실제 데이터",
    "07_conditional_and_beta.ipynb": "07 · 조건부 VAE와 β",
}
NAVIGATION_WORDS = {"en": ("Previous", "Next", "Start here"), "ko": ("이전", "다음", "처음으로")}


def default_notebooks_dir() -> Path:
    """The repository's ``notebooks/`` folder, next to the package in a clone."""
    return Path(__file__).resolve().parents[1] / "notebooks"


def course_notebooks(notebooks_dir: str | os.PathLike | None = None) -> list[Path]:
    """The paths of the course's notebooks, in order (from :data:`COURSE`, the one list of them), in
    ``notebooks_dir`` (default: the repository's ``notebooks/``). Used by the tools and the tests."""
    folder = Path(notebooks_dir) if notebooks_dir is not None else default_notebooks_dir()
    return [folder / name for name, _ in COURSE]


# --- student copies ---------------------------------------------------------------------------------------------


def stub_source(source: str) -> str:
    """The stub that replaces a solution cell: each function keeps its signature (and docstring) and raises
    ``NotImplementedError``; each assigned variable becomes ``name = ...``; imports stay; nothing else survives."""
    lines = [STUB_MARK]
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef):
            returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
            lines.append(f"def {node.name}({ast.unparse(node.args)}){returns}:")
            docstring = ast.get_docstring(node)
            if docstring:
                lines.append(f'    """{docstring}"""')
            lines.append("    raise NotImplementedError  # replace this line with your code")
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names = target.elts if isinstance(target, ast.Tuple) else [target]
                left, right = ", ".join(map(ast.unparse, names)), ", ".join(["..."] * len(names))
                lines.append(f"{left} = {right}  # replace ... with your answer")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            lines.insert(0, ast.unparse(node))
    return "\n".join(lines)


def is_solution(cell: nbformat.NotebookNode) -> bool:
    return cell.cell_type == "code" and SOLUTION_TAG in cell.metadata.get("tags", [])


def is_answer(cell: nbformat.NotebookNode) -> bool:
    """Whether ``cell`` is the collapsed answer to a "Check your understanding" question (kept out of student
    copies unless asked for)."""
    return cell.cell_type == "markdown" and ANSWER_TAG in cell.metadata.get("tags", [])


def student_copy(nb: nbformat.NotebookNode, with_answers: bool = False) -> nbformat.NotebookNode:
    """A copy of a notebook with every solution cell replaced by its stub, tagged ``exercise``, without outputs;
    the checker cell after it loses its stored verdict (it judged the removed solution). The answer cells (tagged
    ``answer``) are dropped unless ``with_answers``. All else is kept."""
    copied = copy.deepcopy(nb)
    if not with_answers:
        copied.cells = [cell for cell in copied.cells if not is_answer(cell)]
    clear_next_checker = False
    for cell in copied.cells:
        if is_solution(cell):
            cell.source = stub_source(cell.source)
            cell.metadata["tags"] = [EXERCISE_TAG if t == SOLUTION_TAG else t for t in cell.metadata["tags"]]
            cell.outputs, cell.execution_count = [], None
            clear_next_checker = True
        elif cell.cell_type == "code" and clear_next_checker and CHECKER_CALL.search(cell.source):
            cell.outputs, cell.execution_count = [], None
            clear_next_checker = False
    return copied


def paste_solutions(student: nbformat.NotebookNode, teacher: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The student copy with the teacher's solutions pasted back into its exercise cells (matched by cell id)."""
    solutions = {cell.id: cell.source for cell in teacher.cells if is_solution(cell)}
    pasted = copy.deepcopy(student)
    for cell in pasted.cells:
        if EXERCISE_TAG in cell.metadata.get("tags", []):
            cell.source = solutions[cell.id]
    return pasted


def write_notebook(nb: nbformat.NotebookNode, path: Path) -> None:
    """Write a notebook atomically (temporary file, then rename), so a failure never leaves half a file."""
    with atomic_writer(path, "w") as handle:
        nbformat.write(nb, handle)


def write_student_copies(out_dir: Path, notebooks_dir: Path | None = None,
                         with_answers: bool = False) -> list[Path]:
    """Write the student copy of every course notebook into ``out_dir``; returns the paths written.

    ``out_dir`` must not be the notebooks folder itself: a student copy never overwrites the teacher's notebook.
    The answers to "Check your understanding" are kept only with ``with_answers=True``.
    """
    notebooks_dir = Path(notebooks_dir or default_notebooks_dir()).resolve()
    out_dir = Path(out_dir).resolve()
    if out_dir == notebooks_dir:
        raise ValueError(f"{out_dir} is the course's own notebooks folder: choose another folder for the copies.")
    written = []
    for name, _ in COURSE:
        source = require_file(notebooks_dir / name, "notebook", "Pass the folder that holds the course's notebooks.")
        target = out_dir / name
        write_notebook(student_copy(nbformat.read(source, as_version=4), with_answers), target)
        written.append(target)
    return written


# --- navigation ---------------------------------------------------------------------------------------------------


def navigation_lines(name: str, lang: str = "en") -> list[str]:
    """The two lines under a notebook's title: the Binder and Colab badges, then links to the previous, next and
    first notebook, in the English edition (``notebooks/``) or the Korean one (``lang="ko"``, ``notebooks/ko/``)."""
    names = [n for n, _ in COURSE]
    if name not in names:
        raise ValueError(f"{name} is not in the course: {', '.join(names)}.")
    titles = [KOREAN_TITLES[n] if lang == "ko" else title for n, title in COURSE]
    previous, next_, start = NAVIGATION_WORDS[lang]
    i = names.index(name)
    links_ = []
    if i > 0:
        links_.append(f"{previous}: [{titles[i - 1]}]({names[i - 1]})")
    if i + 1 < len(COURSE):
        links_.append(f"{next_}: [{titles[i + 1]}]({names[i + 1]})")
    if i > 1:
        links_.append(f"[{start}]({names[0]})")
    folder = "notebooks/ko" if lang == "ko" else "notebooks"
    return [links.badges(f"{folder}/{name}"), "&nbsp;·&nbsp; " + SEPARATOR.join(links_)]


def with_navigation(source: str, name: str, lang: str = "en") -> str:
    """A title cell's source with its badge and link lines (the two lines after the title) made current."""
    lines = source.split("\n")
    if not lines[0].startswith("# ") or len(lines) < 2:
        raise ValueError(f"{name}: the first cell must start with the '# ' title line.")
    rest = lines[1:]
    while rest and (not rest[0].strip() or rest[0].startswith(("[![Open in", "&nbsp;·&nbsp;"))):
        rest = rest[1:]
    return "\n".join([lines[0], "", *navigation_lines(name, lang), "", *rest])


def colab_cell_source() -> str:
    """The code cell under every notebook's title: in Google Colab it installs the course's package (from the
    release tag in ``vae_lesson.links``) and turns on Colab's widget manager, and asks for a restart if Colab had
    already loaded an older version of a package the install upgraded; anywhere else it does nothing and prints
    nothing."""
    return "\n".join([
        "# Only in Google Colab: install the course's package and turn on Colab's widget manager. Elsewhere: nothing.",
        "import sys",
        "",
        'if "google.colab" in sys.modules:',
        "    import importlib.metadata, subprocess",
        "",
        f'    package = "{links.pip_requirement()}"',
        '    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", package], check=True)',
        "    from google.colab import output",
        "",
        "    output.enable_custom_widget_manager()",
        '    loaded = [m for m in ("numpy", "torch", "ipywidgets", "matplotlib") if m in sys.modules]',
        "    if any(sys.modules[m].__version__ != importlib.metadata.version(m) for m in loaded):",
        '        print("Colab had loaded older packages: Runtime > Restart session, then run the notebook again.")',
    ])


def with_colab_cell(nb: nbformat.NotebookNode) -> bool:
    """Put the current Colab setup cell (id ``colab-setup``) right under the title cell; whether ``nb`` changed."""
    source = colab_cell_source()
    existing = [i for i, cell in enumerate(nb.cells) if cell.get("id") == COLAB_CELL_ID]
    if existing == [1]:  # in place: a new source changes neither its place nor what it prints outside Colab
        changed = nb.cells[1].source != source
        nb.cells[1].source = source
        return changed
    for i in reversed(existing):
        del nb.cells[i]
    cell = nbformat.v4.new_code_cell(source, id=COLAB_CELL_ID)
    cell.metadata["tags"] = [COLAB_TAG]
    nb.cells.insert(1, cell)
    return True


#: The documents outside the notebooks whose course links ``navigation`` keeps pointing at ``links.REPOSITORY``.
LINKED_DOCUMENTS = ("README.md", "CONTRIBUTING.md", "notebooks/INSTRUCTOR.md", "README.ko.md",
                    "notebooks/ko/INSTRUCTOR.md")


def relinked_document(text: str, lang: str = "en") -> str:
    """A document's text with its course links pointing at ``links.REPOSITORY``, and a line of badges (one that
    starts with the Binder badge) made current: it opens notebook 00 (of the Korean edition if ``lang="ko"``)."""
    folder = "notebooks/ko" if lang == "ko" else "notebooks"
    lines = [links.badges(f"{folder}/{COURSE[0][0]}") if line.startswith("[![Open in Binder]") else line
             for line in links.relink(text).split("\n")]
    return "\n".join(lines)


def document_language(relative: str) -> str:
    """The edition a document belongs to: Korean for ``README.ko.md`` and ``notebooks/ko/...``."""
    return "ko" if relative.endswith(".ko.md") or relative.startswith("notebooks/ko/") else "en"


def update_navigation(notebooks_dir: Path | None = None, check: bool = False) -> list[str]:
    """Make every notebook's navigation and Colab cell current, and the course links of the documents beside them
    (or, with ``check``, only list what is not current)."""
    notebooks_dir = Path(notebooks_dir or default_notebooks_dir())
    stale = []
    for name, _ in COURSE:
        path = notebooks_dir / name
        nb = nbformat.read(path, as_version=4)
        current = with_navigation(nb.cells[0].source, name)
        changed = current != nb.cells[0].source
        nb.cells[0].source = current
        changed = with_colab_cell(nb) or changed
        if changed:
            stale.append(name)
            if not check:
                write_notebook(nb, path)
    root = notebooks_dir.resolve().parent
    for relative in LINKED_DOCUMENTS:
        path = root / relative
        text = path.read_text(encoding="utf-8") if path.exists() else None
        if text is not None and (current := relinked_document(text, document_language(relative))) != text:
            stale.append(relative)
            if not check:
                with atomic_writer(path, "w") as handle:
                    handle.write(current)
    return stale


# --- the Korean edition -----------------------------------------------------------------------------------------


def update_translations(notebooks_dir: Path | None = None, check: bool = False) -> list[str]:
    """Build every Korean notebook (``notebooks/ko/``) from its English notebook and catalog
    (``vae_lesson.translation``), add an entry to each catalog for every English cell that has none or whose
    English changed (marked ``stale``), and write the Korean headings the checkers' hints quote
    (``vae_lesson/locale/ko.headings.json``). Returns the problems a translator must solve: cells whose
    translation is missing, empty, stale or has other links or headings. With ``check``, writes nothing and also
    returns every file that is missing or not what the catalogs make."""
    notebooks_dir = Path(notebooks_dir or default_notebooks_dir())
    problems: list[str] = []
    outdated: list[tuple[str, Path, object]] = []  # (what, path, what to write)
    catalogs = []
    for name, _ in COURSE:
        english = nbformat.read(require_file(notebooks_dir / name, "notebook", "Run this in a clone of the course."),
                                as_version=4)
        path = translation.catalog_path(notebooks_dir, name)
        catalog = translation.load_catalog(path, name)
        catalogs.append(catalog)
        problems += [str(problem) for problem in translation.catalog_problems(english, catalog, name)]
        updated = translation.updated_catalog(english, catalog)
        if updated != catalog or not path.exists():
            outdated.append((f"{name}: its catalog lacks entries for new or changed English cells", path, updated))
        target = translation.edition_dir(notebooks_dir) / name
        stored = nbformat.read(target, as_version=4) if target.exists() else None
        built = translation.build_translation(english, catalog, stored,
                                              lambda text: with_navigation(text, name, "ko"), COLAB_CELL_ID)
        if stored is None or not translation.same_text(built, stored):
            outdated.append((f"{name}: notebooks/ko/{name} is missing or not what the English notebook and its "
                             "catalog make (run: python -m vae_lesson.classroom translate)", target, built))
    if notebooks_dir.resolve() == default_notebooks_dir():  # the package's own catalog of the hints' headings
        root = notebooks_dir.resolve().parent
        for korean, english in translation.DOCUMENTS.items():
            path = root / korean
            text = path.read_text(encoding="utf-8") if path.exists() else None
            problem = translation.document_problem(korean, text, english, (root / english).read_text(encoding="utf-8"))
            problems += [problem] if problem else []
        headings, conflicts = translation.heading_translations(catalogs)
        problems += conflicts
        path = i18n.LOCALE_DIR / "ko.headings.json"
        if not path.exists() or json.loads(path.read_text(encoding="utf-8")) != headings:
            outdated.append((f"{path.name}: the Korean headings the hints quote are not current", path, headings))
    if check:
        return problems + [what for what, _, _ in outdated]
    for _, path, content in outdated:
        if path.suffix == ".ipynb":
            write_notebook(content, path)
        else:
            translation.write_catalog(path, content)
        print(f"wrote {path}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vae_lesson.classroom", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    copies = commands.add_parser("student-copies", help="write student copies of every notebook into OUTDIR")
    copies.add_argument("outdir", type=Path)
    copies.add_argument("--notebooks", type=Path, default=None, help="the course's notebooks folder")
    copies.add_argument("--with-answers", action="store_true",
                        help='keep the answers to "Check your understanding" (left out by default)')
    copies.add_argument("--lang", choices=("en", "ko"), default="en",
                        help="the edition to copy: English (notebooks/) or Korean (notebooks/ko/)")
    nav = commands.add_parser("navigation", help="rewrite the badges, links and Colab cell at the top of every "
                              "notebook, and the course links of README.md and the instructor's guide")
    nav.add_argument("--notebooks", type=Path, default=None)
    nav.add_argument("--check", action="store_true", help="only report notebooks whose links are not current")
    tra = commands.add_parser("translate", help="build the Korean notebooks (notebooks/ko/) from the English ones "
                              "and the catalogs in notebooks/ko/translations/")
    tra.add_argument("--notebooks", type=Path, default=None)
    tra.add_argument("--check", action="store_true", help="write nothing; exit 1 naming every cell or notebook "
                     "whose translation is missing or older than its English source")
    args = parser.parse_args(argv)
    if args.command == "student-copies":
        folder = args.notebooks or default_notebooks_dir()
        if args.lang == "ko":
            folder = translation.edition_dir(folder)
        for path in write_student_copies(args.outdir, folder, with_answers=args.with_answers):
            print(f"wrote {path}")
        return 0
    if args.command == "translate":
        problems = update_translations(args.notebooks, check=args.check)
        for problem in problems:
            print(problem)
        print(f"{len(problems)} translation problem(s)" if problems else "the Korean edition is current")
        if problems and not args.check:
            print("Translate the cells named above in notebooks/ko/translations/ (CONTRIBUTING.md, "
                  '"The Korean edition"), then run this again.')
        return 1 if problems else 0
    stale = update_navigation(args.notebooks, check=args.check)
    verb = "not current" if args.check else "updated"
    print(f"navigation, Colab cells or links {verb}: {', '.join(stale)}" if stale
          else "navigation, Colab cells and links are current in every notebook and document")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
