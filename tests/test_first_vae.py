"""Notebook 00's "Your first VAE": the section is where the course map promises it, its inline model, loss and loop
fit in 40 lines, it is the only model the course writes inline, it shows what it should, and its stored outputs
hold the passed check that the inline loss equals the package's negative ELBO. (The check itself runs under nbval,
with the rest of the notebook.)"""

import re
from pathlib import Path

import nbformat
import pytest

from vae_lesson.classroom import COURSE

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "00_start_here.ipynb"
HEADING = "## Your first VAE"
INLINE_TAG = "inline-vae"  # the cells that hold the inline model, its loss and its training loop
MAX_INLINE_LINES = 40
PASSED = "check passed: the inline loss equals the package's negative ELBO"
#: What only the model, the loss or the training loop writes: a cell of the section that has one is tagged.
MODEL_CODE = re.compile(r"\bnn\.|\bF\.|\boptim\b|\.backward\(")


def level_two_headings(cell: nbformat.NotebookNode) -> list[str]:
    return [line for line in cell.source.splitlines() if line.startswith("## ")]


def section(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    """The cells from the "## Your first VAE" heading up to the next "## " heading."""
    starts = [i for i, cell in enumerate(nb.cells)
              if cell.cell_type == "markdown" and HEADING in level_two_headings(cell)]
    assert len(starts) == 1, f"notebook 00 should have one '{HEADING}' section, found {len(starts)}"
    cells = [nb.cells[starts[0]]]
    for cell in nb.cells[starts[0] + 1:]:
        if cell.cell_type == "markdown" and level_two_headings(cell):
            break
        cells.append(cell)
    return cells


def code_lines(source: str) -> int:
    """Lines that count: every non-blank line, comments included."""
    return sum(1 for line in source.splitlines() if line.strip())


def inline_problem(cells: list[nbformat.NotebookNode]) -> str | None:
    """What is wrong with the section's inline model, loss and loop, or None."""
    code = [cell for cell in cells if cell.cell_type == "code"]
    tagged = [cell for cell in code if INLINE_TAG in cell.metadata.get("tags", [])]
    untagged = [cell.source for cell in code if cell not in tagged and MODEL_CODE.search(cell.source)]
    if untagged:
        return f"model, loss or training code outside the cells tagged '{INLINE_TAG}': {untagged[0][:200]}"
    text = "\n".join(cell.source for cell in tagged)
    for what, pattern in [("a model class", r"class \w+\(nn\.Module\)"), ("an encoder", r"self\.encoder\b"),
                          ("a decoder", r"self\.decoder\b"), ("a summed binary cross-entropy",
                          r"binary_cross_entropy_with_logits\(.*reduction=\"sum\""),
                          ("the closed-form KL", r"logvar\.exp\(\) - 1 - logvar"),
                          ("Adam", r"torch\.optim\.Adam\("), ("a backward pass", r"\.backward\(\)")]:
        if not re.search(pattern, text):
            return f"the inline code has no {what}"
    lines = code_lines(text)
    if lines > MAX_INLINE_LINES:
        return f"the model, loss and training loop take {lines} lines: at most {MAX_INLINE_LINES}"
    return None


@pytest.fixture(scope="module")
def notebook() -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOK, as_version=4)


def test_first_vae_comes_after_the_course_map_and_the_environment_check(notebook):
    headings = [line for cell in notebook.cells if cell.cell_type == "markdown" for line in level_two_headings(cell)]
    order = [headings.index(h) for h in ["## The course map", "## Environment check", HEADING]]
    assert order == sorted(order), headings
    assert headings.index(HEADING) == headings.index("## Environment check") + 1, "the VAE comes right after the check"


def test_inline_model_loss_and_loop_fit_in_forty_lines(notebook):
    assert inline_problem(section(notebook)) is None, inline_problem(section(notebook))


def test_the_inline_check_can_fail():
    def cell(source, tagged=True):
        made = nbformat.v4.new_code_cell(source)
        if tagged:
            made.metadata["tags"] = [INLINE_TAG]
        return made

    good = [cell("class M(nn.Module):\n    def __init__(self):\n        self.encoder = 1\n        self.decoder = 2"),
            cell('r = F.binary_cross_entropy_with_logits(a, x, reduction="sum")\nk = (mu + logvar.exp() - 1 - logvar)'),
            cell("o = torch.optim.Adam(p)\nloss.backward()")]
    assert inline_problem(good) is None
    assert "lines" in inline_problem([*good, cell("\n".join(["x = 1"] * MAX_INLINE_LINES))])
    assert "outside" in inline_problem([*good, cell("loss.backward()", tagged=False)])
    assert "summed" in inline_problem([good[0], cell("r = F.binary_cross_entropy_with_logits(a, x)"), good[2]])


def test_no_other_notebook_writes_a_model_inline():
    for name, _ in COURSE[1:]:
        nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
        inline = [cell.source for cell in nb.cells
                  if cell.cell_type == "code" and re.search(r"\(nn\.Module\)", cell.source)]
        assert not inline, f"{name} defines a model inline; notebook 00 is the one place that may: {inline[0][:200]}"


def test_stored_outputs_hold_the_passed_check_and_the_figures(notebook):
    cells = section(notebook)
    outputs = [output for cell in cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"], "the section stores an error"
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert PASSED in printed, "re-run the notebook: its stored outputs lack the passed loss check"
    checks = [cell.source for cell in cells if cell.cell_type == "code" and "elbo(" in cell.source]
    assert len(checks) == 1 and re.search(r"^assert ", checks[0], re.M) and "load_state_dict" in checks[0], (
        "one cell compares the inline loss with the package's elbo, on the inline model's weights, with an assert")
    assert checks[0].index("assert ") < checks[0].index(PASSED[:12]), "the check is printed only after it passed"
    figures = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(figures) >= 4, "the picture, samples from the prior, reconstructions and the latent map"


def test_evaluation_digits_are_a_random_subset_not_a_prefix(notebook):
    source = "\n".join(cell.source for cell in section(notebook) if cell.cell_type == "code")
    assert "test_subset(" in source
    assert not re.search(r"x_test\[:|y_test\[:", source), "a prefix of MNIST's test set is its cleaner half"


def test_one_sentence_for_each_later_notebook(notebook):
    bullets = [line for cell in section(notebook) if cell.cell_type == "markdown"
               for line in cell.source.splitlines() if line.startswith("- [")]
    linked = [re.match(r"- \[[^]]+\]\(([^)]+\.ipynb)\)", line) for line in bullets]
    assert [m[1] for m in linked if m] == [name for name, _ in COURSE[1:]], bullets


def test_markdown_cells_stay_under_two_hundred_words(notebook):
    long = [cell.source[:80] for cell in notebook.cells
            if cell.cell_type == "markdown" and len(cell.source.split()) > 200]
    assert not long, f"split these markdown cells (one idea per cell, at most 200 words): {long}"
