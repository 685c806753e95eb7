"""The classroom kit: student copies keep no solution, every exercise has one checker, a copy with the solutions
pasted back is the teacher's notebook again, each copy runs up to its first exercise and stops there with the
checker's "not solved yet", and the navigation links at the top of every notebook are current.
(The answers to "Check your understanding", which student copies leave out by default: tests/test_answers.py.)"""

import ast
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from vae_lesson import classroom, links
from vae_lesson.classroom import COURSE, CHECKER_CALL, is_answer, is_solution, paste_solutions, student_copy

ROOT = Path(__file__).resolve().parents[1]
NAMES = [name for name, _ in COURSE]


def teacher(name: str) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / "notebooks" / name, as_version=4)


def solution_lines(source: str) -> list[str]:
    """The lines of a solution that carry the answer: not its signature, imports, or blank lines."""
    keep = []
    for line in source.splitlines():
        text = line.strip()
        if text and not text.startswith(("def ", "import ", "from ", "#")) and not text.startswith('"""'):
            keep.append(text)
    return keep


def test_the_course_table_matches_the_notebooks_folder():
    assert sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb")) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_student_copy_keeps_no_solution(name):
    nb = teacher(name)
    student = student_copy(nb)
    text = "\n".join(cell.source + str(cell.get("outputs", "")) for cell in student.cells)
    solutions = [cell for cell in nb.cells if is_solution(cell)]
    for cell in solutions:
        for line in solution_lines(cell.source):
            assert line not in text, f"solution text survives in the student copy: {line!r}"
    exercises = [cell for cell in student.cells if classroom.EXERCISE_TAG in cell.metadata.get("tags", [])]
    assert len(exercises) == len(solutions)
    for cell in exercises:
        assert cell.source.startswith(classroom.STUB_MARK) or classroom.STUB_MARK in cell.source
        assert cell.outputs == [] and cell.execution_count is None
        ast.parse(cell.source)  # a stub is valid Python


@pytest.mark.parametrize("name", NAMES)
def test_every_exercise_has_exactly_one_checker_right_after_it(name):
    cells = [cell for cell in teacher(name).cells if cell.cell_type == "code"]
    solution_positions = [i for i, cell in enumerate(cells) if is_solution(cell)]
    for i in solution_positions:
        assert i + 1 < len(cells), "a solution cell is the last code cell: where is its checker?"
        assert len(CHECKER_CALL.findall(cells[i + 1].source)) == 1, cells[i + 1].source
        following = solution_positions[solution_positions.index(i) + 1:] or [len(cells)]
        between = cells[i + 2: following[0]]
        assert not any(CHECKER_CALL.search(cell.source) for cell in between), "a second checker for one exercise"
    orphans = [cell.source for j, cell in enumerate(cells)
               if CHECKER_CALL.search(cell.source) and (j == 0 or not is_solution(cells[j - 1]))]
    assert not orphans, f"checker calls without an exercise before them: {orphans}"


@pytest.mark.parametrize("name", NAMES)
def test_pasting_the_solutions_back_gives_the_teacher_notebook(name):
    nb = teacher(name)
    restored = paste_solutions(student_copy(nb, with_answers=True), nb)
    assert [cell.source for cell in restored.cells] == [cell.source for cell in nb.cells]
    without_answers = paste_solutions(student_copy(nb), nb)
    assert [cell.source for cell in without_answers.cells] == [cell.source for cell in nb.cells if not is_answer(cell)]
    # and the teacher's notebook runs end to end: nbval runs it in this same test session


def test_stub_source_keeps_signatures_and_names():
    stub = classroom.stub_source('import math\n\ndef f(x: int, *, k=2) -> float:\n    """Doc."""\n    return x\n\n'
                                 "a, b = 1, 2\nc: int = 3\nprint(a)")
    assert stub.splitlines()[0] == "import math"
    assert "def f(x: int, *, k=2) -> float:" in stub and '"""Doc."""' in stub and "raise NotImplementedError" in stub
    assert "a, b = ..., ..." in stub and "c = ..." in stub and "print" not in stub and "return x" not in stub
    namespace = {}
    exec(stub, namespace)
    with pytest.raises(NotImplementedError):
        namespace["f"](1)
    assert namespace["a"] is Ellipsis


def test_student_copies_command_writes_every_notebook_and_refuses_the_source_folder(tmp_path, capsys):
    assert classroom.main(["student-copies", str(tmp_path / "copies")]) == 0
    assert sorted(p.name for p in (tmp_path / "copies").iterdir()) == sorted(NAMES)
    assert "wrote" in capsys.readouterr().out
    with pytest.raises(ValueError, match="own notebooks folder"):
        classroom.write_student_copies(ROOT / "notebooks")
    with pytest.raises(FileNotFoundError, match="missing"):
        classroom.write_student_copies(tmp_path / "out", notebooks_dir=tmp_path / "nowhere")


def test_navigation_is_current():
    assert classroom.update_navigation(check=True) == [], "run: python -m vae_lesson.classroom navigation"


def test_navigation_links_point_to_existing_notebooks_in_order():
    for i, (name, _) in enumerate(COURSE):
        lines = classroom.navigation_lines(name)
        assert name in lines[0]
        targets = re.findall(r"\]\(([^)]+\.ipynb)\)", lines[1])
        expected = ([NAMES[i - 1]] if i > 0 else []) + ([NAMES[i + 1]] if i + 1 < len(NAMES) else []) + (
            [NAMES[0]] if i > 1 else [])
        assert targets == expected
        assert all((ROOT / "notebooks" / target).is_file() for target in targets)


def test_navigation_rewrites_stale_links():
    source = "# Title\n\n[![Open in Binder](x)](y)\n&nbsp;·&nbsp; Next: [old](old.ipynb)\n\nText."
    updated = classroom.with_navigation(source, "01_elbo.ipynb")
    assert updated.splitlines()[3] == classroom.navigation_lines("01_elbo.ipynb")[1]
    assert updated.endswith("\n\nText.") and "old.ipynb" not in updated


WITH_EXERCISES = [name for name in NAMES if any(is_solution(cell) for cell in teacher(name).cells)]


def test_notebooks_without_exercises_are_copied_unchanged():
    for name in set(NAMES) - set(WITH_EXERCISES):
        assert student_copy(teacher(name), with_answers=True) == teacher(name)
        assert student_copy(teacher(name)).cells == [cell for cell in teacher(name).cells if not is_answer(cell)]
    assert len(WITH_EXERCISES) == 7  # notebooks 01-07; 00 has none


@pytest.mark.parametrize("name", WITH_EXERCISES)
def test_student_copy_runs_to_its_first_exercise_and_the_checker_says_what_to_do(name):
    student = student_copy(teacher(name))
    first = next(i for i, cell in enumerate(student.cells) if classroom.EXERCISE_TAG in cell.metadata.get("tags", []))
    checker = next(i for i in range(first + 1, len(student.cells)) if student.cells[i].cell_type == "code")
    student.cells = student.cells[: checker + 1]
    client = NotebookClient(student, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT / "notebooks")}})
    client.execute()  # raises if any cell before the checker fails
    verdict = "".join(out.get("text", "") for out in student.cells[checker].outputs)
    assert verdict.startswith("❌ Not yet —") and "not solved yet" in verdict, verdict


def test_navigation_moves_every_link_to_a_new_repository_and_adds_the_colab_cell(tmp_path, monkeypatch):
    """Change ``links.REPOSITORY``, run ``navigation``: every notebook's badges and Colab cell and README's badges
    follow; a notebook that lost its Colab cell gets it back, once, under the title."""
    (tmp_path / "notebooks").mkdir()
    for name in NAMES[:3]:
        shutil.copy(ROOT / "notebooks" / name, tmp_path / "notebooks" / name)
    nb = nbformat.read(tmp_path / "notebooks" / NAMES[1], as_version=4)
    nb.cells = [cell for cell in nb.cells if cell.get("id") != classroom.COLAB_CELL_ID]
    nbformat.write(nb, tmp_path / "notebooks" / NAMES[1])
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    monkeypatch.setattr(classroom, "COURSE", COURSE[:3])
    monkeypatch.setattr(links, "REPOSITORY", "a-university/vae-course")
    assert classroom.update_navigation(tmp_path / "notebooks", check=True) == [*NAMES[:3], "README.md"]
    classroom.update_navigation(tmp_path / "notebooks")
    assert classroom.update_navigation(tmp_path / "notebooks", check=True) == []
    for name in NAMES[:3]:
        nb = nbformat.read(tmp_path / "notebooks" / name, as_version=4)
        assert [cell.get("id") for cell in nb.cells].count(classroom.COLAB_CELL_ID) == 1
        assert nb.cells[1].id == classroom.COLAB_CELL_ID and "a-university/vae-course@v" in nb.cells[1].source
        assert links.repositories_named(nb.cells[0].source) == {"a-university/vae-course"}
    readme = (tmp_path / "README.md").read_text()
    assert links.repositories_named(readme) == {"a-university/vae-course"}
    assert "github.com/computationalmodelling/nbval" in readme  # not a course link: left alone
