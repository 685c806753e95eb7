"""The Korean edition (issue 20): built from the English notebooks and the per-notebook catalogs, and checked to be
current. The tooling is tested on a small course made here (a missing, empty, stale or link-changing translation is
named; outputs survive a rebuild only while a code cell is unchanged; links are moved one folder down); then the
real edition: the check passes, every code cell equals its English one except the one setup line, and each Korean
notebook stores the outputs of a clean run."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from vae_lesson import classroom, translation
from vae_lesson.classroom import COURSE

ROOT = Path(__file__).resolve().parents[1]
NAMES = [name for name, _ in COURSE]
HANGUL = re.compile("[\uac00-\ud7a3]")


def small_course(folder: Path) -> Path:
    """A two-cell copy of every course notebook (title, Colab cell, a markdown cell with links, a code cell)."""
    for name in NAMES:
        nb = nbformat.v4.new_notebook()
        nb.cells = [
            nbformat.v4.new_markdown_cell(f"# {name}\n\nIntro with a [term](GLOSSARY.md#elbo).", id="title"),
            nbformat.v4.new_code_cell("pass", id=classroom.COLAB_CELL_ID),
            nbformat.v4.new_markdown_cell("## 1. A section\n\nSee [the guide](INSTRUCTOR.md), [home](../README.md) "
                                          "and [next](01_elbo.ipynb).", id="prose"),
            nbformat.v4.new_code_cell("print('hello')", id="code"),
        ]
        nb.cells[0].source = classroom.with_navigation(nb.cells[0].source, name)
        nbformat.write(nb, folder / name)
    return folder


def fill(folder: Path, name: str, **korean: str) -> None:
    path = translation.catalog_path(folder, name)
    catalog = json.loads(path.read_text(encoding="utf-8"))
    for cell_id, text in korean.items():
        catalog["cells"][cell_id]["ko"] = text
    path.write_text(json.dumps(catalog, ensure_ascii=False), encoding="utf-8")


KOREAN = {"title": "# 제목\n\n[용어](GLOSSARY.md#elbo)가 있는 소개.",
          "prose": "## 1. 한 절\n\n[안내서](INSTRUCTOR.md), [처음](../README.md), [다음](01_elbo.ipynb)을 보세요."}


def translated_course(folder: Path) -> Path:
    """``small_course`` with every cell translated and the Korean notebooks built."""
    small_course(folder)
    classroom.update_translations(folder)
    for name in NAMES:
        fill(folder, name, **KOREAN)
    classroom.update_translations(folder)
    return folder


def test_translate_writes_catalog_entries_and_check_names_every_missing_cell(tmp_path):
    folder = small_course(tmp_path)
    problems = classroom.update_translations(folder)
    assert sum("no translation" in p for p in problems) == 2 * len(NAMES)
    for name in NAMES:
        catalog = json.loads(translation.catalog_path(folder, name).read_text(encoding="utf-8"))
        assert list(catalog["cells"]) == ["title", "prose"]
        assert catalog["cells"]["prose"]["ko"] == ""
        assert "Open in Binder" not in catalog["cells"]["title"]["en"]  # navigation is not translated
    problems = classroom.update_translations(folder, check=True)
    assert sum("the translation is empty" in p for p in problems) == 2 * len(NAMES)
    for name in NAMES:
        fill(folder, name, **KOREAN)
    assert classroom.update_translations(folder) == []
    assert classroom.update_translations(folder, check=True) == []
    assert classroom.main(["translate", "--check", "--notebooks", str(folder)]) == 0


def test_a_korean_notebook_has_the_english_code_one_setup_line_korean_navigation_and_moved_links(tmp_path):
    folder = translated_course(tmp_path)
    ko = nbformat.read(folder / "ko" / "02_gradients.ipynb", as_version=4)
    title, colab, prose, code = ko.cells
    assert title.source.startswith("# 제목\n\n[![Open in Binder]")
    assert "notebooks/ko/02_gradients.ipynb" in title.source
    assert "이전: [01 · ELBO](01_elbo.ipynb)" in title.source and "[처음으로](00_start_here.ipynb)" in title.source
    assert "(../GLOSSARY.md#elbo)" in title.source
    assert "(INSTRUCTOR.md)" in prose.source and "(../../README.ko.md)" in prose.source
    assert "(01_elbo.ipynb)" in prose.source
    assert colab.source == "pass"
    assert code.source == translation.SETUP_LINE + "\nprint('hello')"


def test_check_names_a_changed_english_cell_and_translate_marks_it_stale(tmp_path):
    folder = translated_course(tmp_path)
    path = folder / "03_train_vae.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[2].source += " One more sentence."
    nbformat.write(nb, path)
    assert classroom.update_translations(folder, check=True) == [
        "03_train_vae.ipynb, cell prose: the English cell changed after it was translated",
        "03_train_vae.ipynb: its catalog lacks entries for new or changed English cells"]
    assert classroom.main(["translate", "--check", "--notebooks", str(folder)]) == 1
    classroom.update_translations(folder)
    entry = json.loads(translation.catalog_path(folder, "03_train_vae.ipynb").read_text())["cells"]["prose"]
    assert entry["stale"] is True and entry["en"].endswith("One more sentence.") and entry["ko"] == KOREAN["prose"]
    assert "One more sentence." not in entry["en_before"]
    assert classroom.update_translations(folder, check=True) == [
        "03_train_vae.ipynb, cell prose: the English cell changed after it was translated"]
    del entry["stale"], entry["en_before"]  # as a translator does once "ko" is updated
    catalog_file = translation.catalog_path(folder, "03_train_vae.ipynb")
    catalog = json.loads(catalog_file.read_text())
    catalog["cells"]["prose"] = entry
    catalog_file.write_text(json.dumps(catalog, ensure_ascii=False))
    assert classroom.update_translations(folder, check=True) == []


def test_check_names_lost_links_wrong_headings_a_missing_notebook_and_a_deleted_cell(tmp_path):
    folder = small_course(tmp_path)
    classroom.update_translations(folder)
    for name in NAMES:
        fill(folder, name, **KOREAN)
    fill(folder, "01_elbo.ipynb", prose="## 1. 한 절\n\n링크가 없습니다.")
    fill(folder, "04_latent_explorer.ipynb", prose="### 한 절\n\n[안내서](INSTRUCTOR.md), [처음](../README.md), "
         "[다음](01_elbo.ipynb).")
    classroom.update_translations(folder)
    (folder / "ko" / "05_density_and_anomalies.ipynb").unlink()
    catalog_file = translation.catalog_path(folder, "06_real_data.ipynb")
    catalog = json.loads(catalog_file.read_text())
    catalog["cells"]["gone"] = {"sha": "0", "en": "x", "ko": "엑스"}
    catalog_file.write_text(json.dumps(catalog, ensure_ascii=False))
    problems = classroom.update_translations(folder, check=True)
    assert "01_elbo.ipynb, cell prose: the translation's links differ from the English cell's" in problems
    assert any(p.startswith("04_latent_explorer.ipynb, cell prose: the translation's headings") for p in problems)
    assert any(p.startswith("05_density_and_anomalies.ipynb: notebooks/ko/05") for p in problems)
    assert "06_real_data.ipynb, cell gone: translates a cell the English notebook no longer has" in problems


def test_outputs_survive_a_rebuild_only_while_the_code_is_unchanged(tmp_path):
    folder = translated_course(tmp_path)
    target = folder / "ko" / "01_elbo.ipynb"
    ko = nbformat.read(target, as_version=4)
    ko.cells[3].outputs = [nbformat.v4.new_output("stream", name="stdout", text="hello\n")]
    ko.cells[3].execution_count = 2
    nbformat.write(ko, target)
    fill(folder, "01_elbo.ipynb", prose=KOREAN["prose"] + " 한 문장 더.")
    classroom.update_translations(folder)
    kept = nbformat.read(target, as_version=4)
    assert kept.cells[2].source.endswith("한 문장 더.") and kept.cells[3].outputs[0].text == "hello\n"
    english = nbformat.read(folder / "01_elbo.ipynb", as_version=4)
    english.cells[3].source = "print('bye')"
    nbformat.write(english, folder / "01_elbo.ipynb")
    classroom.update_translations(folder)
    rebuilt = nbformat.read(target, as_version=4)
    assert rebuilt.cells[3].outputs == [] and rebuilt.cells[3].execution_count is None


def test_a_corrupt_catalog_is_a_clear_error(tmp_path):
    folder = small_course(tmp_path)
    classroom.update_translations(folder)
    translation.catalog_path(folder, "00_start_here.ipynb").write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="not a valid translation catalog.*restore it with git"):
        classroom.update_translations(folder, check=True)


def test_relocated_links_leave_urls_and_anchors_alone():
    text = ("[a](https://example.org/x.md) [b](#local) [c](GLOSSARY.md) [d](../benchmarks/RESULTS.md#fit) "
            '[e](05_density_and_anomalies.ipynb#x) <a href="GLOSSARY.md#nat">nat</a>')
    assert translation.relocated_links(text) == (
        "[a](https://example.org/x.md) [b](#local) [c](../GLOSSARY.md) [d](../../benchmarks/RESULTS.md#fit) "
        '[e](05_density_and_anomalies.ipynb#x) <a href="../GLOSSARY.md#nat">nat</a>')


# --- the real edition ---------------------------------------------------------------------------------------------


def test_the_korean_edition_is_current():
    """An English edit cannot land without its translation: this fails naming each cell (how to update one:
    CONTRIBUTING.md, "The Korean edition")."""
    problems = classroom.update_translations(check=True)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", NAMES)
def test_a_korean_notebook_runs_the_english_code_and_reads_korean(name):
    english = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    korean = nbformat.read(ROOT / "notebooks" / "ko" / name, as_version=4)
    assert [c.id for c in korean.cells] == [c.id for c in english.cells]
    setup = translation.first_setup_cell(english, classroom.COLAB_CELL_ID)
    for en, ko in zip(english.cells, korean.cells):
        if en.cell_type == "code":
            assert ko.source == (translation.SETUP_LINE + "\n" if en.id == setup else "") + en.source
        else:
            assert HANGUL.search(ko.source), f"{name}, cell {en.id} is not translated"
    # a clean run's outputs: every code cell ran, in order
    counts = [c.execution_count for c in korean.cells if c.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1)), f"{name}: run notebooks/ko/{name} again (README.md)"


def test_student_copies_in_korean(tmp_path, capsys):
    assert classroom.main(["student-copies", str(tmp_path), "--lang", "ko"]) == 0
    for name in NAMES:
        copy = nbformat.read(tmp_path / name, as_version=4)
        assert HANGUL.search(copy.cells[0].source)
        assert not any(classroom.is_solution(cell) for cell in copy.cells)


@pytest.mark.parametrize("edition, folders", [("en", {"notebooks"}), ("ko", {"notebooks/ko"}),
                                              ("all", {"notebooks", "notebooks/ko"})])
def test_nbval_runs_the_edition_that_VAE_LESSON_NOTEBOOKS_names(edition, folders):
    """CI's second run checks the Korean notebooks instead of the English ones (conftest.py)."""
    result = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "notebooks"], cwd=ROOT,
                            env={**os.environ, "VAE_LESSON_NOTEBOOKS": edition}, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    collected = {line.split("::")[0] for line in result.stdout.splitlines() if ".ipynb::" in line}
    assert {str(Path(path).parent) for path in collected} == folders
    assert len(collected) == len(NAMES) * len(folders)
