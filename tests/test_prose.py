"""Prose that a student reading English as a second language can follow (issue 16, item 7): one idea per
markdown cell, and no markdown cell over 200 words. A long derivation is split over several cells instead."""

from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_WORDS = 200
CHECKED = ["00_start_here.ipynb", "01_elbo.ipynb", "02_gradients.ipynb", "03_train_vae.ipynb",
           "04_latent_explorer.ipynb", "05_density_and_anomalies.ipynb", "06_real_data.ipynb",
           "07_conditional_and_beta.ipynb"]


def words(source: str) -> int:
    """The course's word count: whitespace-separated pieces, LaTeX and links included."""
    return len(source.split())


def long_cells(nb: nbformat.NotebookNode) -> list[tuple[int, str, int]]:
    """(position, opening, words) of every markdown cell over MAX_WORDS words."""
    return [(i, cell.source.strip().splitlines()[0][:60], words(cell.source))
            for i, cell in enumerate(nb.cells)
            if cell.cell_type == "markdown" and words(cell.source) > MAX_WORDS]


@pytest.mark.parametrize("name", CHECKED)
def test_no_markdown_cell_is_over_200_words(name):
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    found = long_cells(nb)
    assert not found, (f"markdown cells over {MAX_WORDS} words "
                       f"(split them at an idea boundary, keeping every step): {found}")


def test_the_word_check_can_fail():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("word " * MAX_WORDS),
                nbformat.v4.new_code_cell("x = 1\n" * 300),
                nbformat.v4.new_markdown_cell("## Long\n\n" + "word " * MAX_WORDS)]
    assert [position for position, _, _ in long_cells(nb)] == [2]
