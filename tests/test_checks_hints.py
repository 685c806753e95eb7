"""Hints that teach (issue 16): no checker prints a line of a solution, whatever the answer (wrong, a student copy's
stub that raises, unfinished) and at either hint level; each diagnosis (shape, sign, factor, offset, missing sum,
detached, NaN, not written yet, unfinished) is named; hint=2 says more than hint=1, in words, and points to a
heading that exists in the notebook; a wrong prediction never gets the right choice.

The checkers are called as the notebooks call them (the check cell after each solution cell), with the student
copy's stub of the solution cell (``classroom.stub_source``) as the unfinished exercise."""

import ast
import contextlib
import functools
import io
import json
import math
import re
from pathlib import Path

import nbformat
import pytest
import torch
import torch.nn.functional as F

from vae_lesson import checks, pretrained
from vae_lesson.checks._verdict import F64
from vae_lesson.classroom import course_notebooks, is_solution, stub_source
from vae_lesson.linear_gaussian import LinearGaussianModel
from vae_lesson.models import VAE

ROOT = Path(__file__).resolve().parents[1]
MIN_LENGTH = 12  # shorter solution lines ("x = ...", "return z") say nothing a hint may not


# --- the notebooks' solutions and check cells -------------------------------------------------------------------


def exercises() -> list[tuple[str, str, str, list[str]]]:
    """(notebook stem, solution source, checker name, the check call's argument names) for every solution cell."""
    found = []
    for path in course_notebooks():
        cells = nbformat.read(path, as_version=4).cells
        for i, cell in enumerate(cells):
            if not is_solution(cell):
                continue
            check = next(c for c in cells[i + 1:] if c.cell_type == "code")
            call = ast.parse(check.source).body[0].value
            assert isinstance(call, ast.Call) and call.func.value.id == "checks", check.source
            found.append((path.stem, cell.source, call.func.attr, [ast.unparse(arg) for arg in call.args]))
    return found


EXERCISES = exercises()


def fragments(source: str) -> set[str]:
    """The lines of a solution cell worth hiding, stripped, and the expression each returns or assigns: no blank
    lines, comments, def lines, a bare return or lines shorter than ``MIN_LENGTH``."""
    found = set()
    for line in source.splitlines():
        text = line.split("#")[0].strip()
        if len(text) < MIN_LENGTH or text.startswith("def ") or text == "return":
            continue
        found.add(text)
        expression = re.sub(r"^return\s+", "", text)
        assignment = re.match(r"^[\w\s,]+=(?!=)\s*(.+)$", expression)
        if assignment:
            expression = assignment.group(1)
        if len(expression) >= MIN_LENGTH:
            found.add(expression)
    return found


SOLUTION_LINES = set().union(*(fragments(source) for _, source, _, _ in EXERCISES))


def test_every_checker_has_a_solution_cell_and_its_lines_are_collected():
    names = {name for _, _, name, _ in EXERCISES}
    assert names == {name for name in checks.__all__ if name.startswith("check_")}
    assert "return 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(dim=-1)" in SOLUTION_LINES
    assert "0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(dim=-1)" in SOLUTION_LINES
    assert "x = mu + sigma * eps" in SOLUTION_LINES and "mu + sigma * eps" in SOLUTION_LINES
    assert "model.posterior(x)" in SOLUTION_LINES and "torch.zeros_like(x)" in SOLUTION_LINES


# --- the answers fed to the checkers ----------------------------------------------------------------------------


def kl(mu, logvar):
    return 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(-1)


def bce(logits, x):
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(-1)


def score(f, mu, sigma, eps):
    x = mu + sigma * eps
    return f(x) * (x - mu) / sigma**2


def pairs(scores_in, scores_out):
    return ((scores_out[:, None] > scores_in[None, :]).double()
            + 0.5 * (scores_out[:, None] == scores_in[None, :]).double()).mean()


def unfinished(*args):
    """A function whose body is not finished: it computes something and returns nothing."""
    _ = args


@pytest.fixture(scope="module")
def setting():
    """The objects the check cells pass besides the answer, per notebook."""
    g = torch.Generator().manual_seed(0)
    model = LinearGaussianModel.random(3, 2, generator=g)
    torch.manual_seed(0)
    return {
        "01_elbo": {"model": model, "x": model.sample(4, generator=g)},
        "04_latent_explorer": {"model_32d": VAE(4, hidden=(16,), activation="relu").eval()},
        "05_density_and_anomalies": {"model": pretrained.load("mnist-32d")},
    }


def wrong_answers(setting) -> dict[str, list[object]]:
    """Wrong answers for each checker: for an exercise with two answers (q_mean_best, q_cov_best), a tuple."""
    model, x = setting["01_elbo"]["model"], setting["01_elbo"]["x"]
    mean, cov = model.posterior(x)
    return {
        "check_kl_diag": [lambda mu, lv: 0.5 * (mu**2 + lv.exp() - 1 - lv), lambda mu, lv: -kl(mu, lv),
                          lambda mu, lv: 2 * kl(mu, lv), lambda mu, lv: kl(mu, lv).detach(),
                          lambda mu, lv: kl(mu, lv) + 1, lambda mu, lv: (mu**2).sum(-1)],
        "check_elbo_mc": [lambda m, x, q, z: m.log_joint(x, z) - q.log_prob(z),
                          lambda m, x, q, z: -(m.log_joint(x, z) - q.log_prob(z)).mean(0),
                          lambda m, x, q, z: m.log_joint(x, z).mean(0)],
        "check_zero_gap_q": [(torch.zeros_like(mean), torch.eye(2, dtype=F64)), (mean, torch.linalg.inv(cov)),
                             (-mean, cov), (mean + 1, 2 * cov), (mean[0], cov)],
        "check_gap_sign": ["negative", "zero", "either", "maybe"],
        "check_reparam_sample": [lambda mu, lv, eps: mu + lv.exp() * eps,
                                 lambda mu, lv, eps: (mu + (0.5 * lv).exp() * eps).detach(),
                                 lambda mu, lv, eps: (0.5 * lv).exp() * eps],
        "check_score_grad_mu": [lambda f, mu, s, eps: score(f, mu, s, eps) * s, lambda f, mu, s, eps: f(eps) * eps,
                                lambda f, mu, s, eps: score(f, mu, s, eps).mean()],
        "check_optimal_baseline": [lambda f, s: f.mean(), lambda f, s: (f * s**2).mean(),
                                   lambda f, s: (f * s**2).sum() / (s**2).mean()],
        "check_negative_elbo_loss": [lambda lg, x, mu, lv: (bce(lg, x) + kl(mu, lv)),
                                     lambda lg, x, mu, lv: bce(lg, x).mean(),
                                     lambda lg, x, mu, lv: torch.tensor((bce(lg, x) + kl(mu, lv)).mean().item())],
        "check_iwae_from_log_weights": [lambda lw: torch.log(torch.exp(lw).mean(0)), lambda lw: lw.mean(0),
                                        lambda lw: torch.logsumexp(lw, 0)],
        "check_beta_prediction": ["higher", "same"],
        "check_slerp": [lambda a, b, t: (1 - t) * a + t * b, lambda a, b, t: ((1 - t) * a + t * b)[:2]],
        "check_class_direction": [torch.zeros(4), torch.zeros(5, 4), torch.full((4,), float("nan"))],
        "check_auroc": [lambda si, so: (so[:, None] > si[None, :]).double().mean(), lambda si, so: 0.5],
        "check_sneaky_corruption": [lambda x, g: x + 0.001, lambda x, g: (x + 0.001).clamp(0, 1),
                                    lambda x, g: 1 - x],
        "check_gaussian_log_likelihood": [lambda x, m, ls: (-(x - m) ** 2 / (2 * ls.exp() ** 2)).sum(-1),
                                          lambda x, m, ls: (-(x - m) ** 2 / (2 * ls.exp() ** 2) - ls).mean(-1),
                                          lambda x, m, ls: -(x - m).square().sum(-1).detach(),
                                          lambda x, m, ls: (x - m).square().sum(-1) / ls],
        "check_sigma_for_beta": [lambda b: math.sqrt(b / 2), lambda b: 392 * b, lambda b: "small", lambda b: float("nan")],
        "check_rate_and_distortion": [lambda mu, lv, lg, x: (bce(lg, x).mean(), kl(mu, lv).mean()),
                                      lambda mu, lv, lg, x: (kl(mu, lv).sum(), bce(lg, x).sum()),
                                      lambda mu, lv, lg, x: kl(mu, lv).mean(),
                                      lambda mu, lv, lg, x: (kl(mu, lv).mean(), -bce(lg, x).mean())],
        "check_style_transfer": [lambda m, img, y: m.decode(m.encode(img.reshape(1, 784), torch.tensor([y]))[0]
                                                             .expand(10, -1), torch.arange(10)).reshape(10, 28, 28),
                                 lambda m, img, y: torch.zeros(10, 28, 28), lambda m, img, y: torch.zeros(28, 28)],
    }


def stub_namespace(source: str) -> dict[str, object]:
    """What a student copy's stub of a solution cell defines: functions that raise NotImplementedError, and `...`."""
    namespace = {"torch": torch, "math": math, "F": F}
    exec(stub_source(source), namespace)  # the code classroom writes into every student copy
    return {name: value for name, value in namespace.items() if name not in {"torch", "math", "F", "__builtins__"}}


def messages(verdict, setting) -> list[tuple[str, str, int, str]]:
    """(checker, kind of answer, hint level, verdict) for every checker, every kind of answer and both levels."""
    wrong = wrong_answers(setting)
    found = []
    for stem, source, name, arguments in EXERCISES:
        stub = stub_namespace(source)
        answers = [("stub", stub)]
        answers.append(("unfinished", {key: unfinished if callable(value) else None for key, value in stub.items()}))
        for answer in wrong[name]:
            values = answer if isinstance(answer, tuple) else (answer,)
            answers.append(("wrong", dict(zip(stub, values))))
        for kind, namespace in answers:
            args = [namespace[arg] if arg in namespace else setting[stem][arg] for arg in arguments]
            for level in (1, 2):
                passed, out = verdict(functools.partial(getattr(checks, name), hint=level), *args)
                assert not passed, (name, kind, out)
                found.append((name, kind, level, out))
    return found


def printed(checker, *args) -> tuple[bool, str]:
    """Like the ``verdict`` fixture, without capsys (which a module-scoped fixture cannot use)."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert checker(*args) is None
    out = buffer.getvalue()
    assert out.startswith(("✅", "❌")) and out.count("\n") == 1, out
    return out.startswith("✅"), out


@pytest.fixture(scope="module")
def all_messages(setting):
    """Every verdict of :func:`messages`, computed once for the tests below."""
    return messages(printed, setting)


# --- (a) no checker prints a solution line ----------------------------------------------------------------------


def test_no_checker_prints_a_solution_line(all_messages):
    kinds = {(name, kind, level) for name, kind, level, _ in all_messages}
    assert len(kinds) == 18 * 3 * 2  # every checker, wrong/stub/unfinished, hint 1 and 2
    for name, kind, level, out in all_messages:
        flat = " ".join(out.split())
        leaked = [line for line in SOLUTION_LINES if line in flat]
        assert not leaked, (name, kind, level, leaked, out)


def test_no_wrong_answer_gets_code(all_messages):
    """Hints are words: no torch call, method call, power operator or keyword argument in any verdict."""
    code = re.compile(r"torch\.|\.\w+\(|\*\*|\bdim=|\[:|\w\(\w+\)\.\w")
    for name, kind, level, out in all_messages:
        assert not code.search(out), (name, kind, level, out)


def test_the_leak_test_can_fail():
    """The old hint (issue 16) would be caught: a message that carries a solution line is found."""
    old = "❌ Not yet. Hint: 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(dim=-1)"
    assert any(line in old for line in SOLUTION_LINES)


# --- hint levels and where they point ---------------------------------------------------------------------------


def test_hint_2_says_more_than_hint_1(all_messages):
    by_case = {}
    for name, kind, level, out in all_messages:
        by_case.setdefault((name, kind), {}).setdefault(level, []).append(out)
    for (name, kind), levels in by_case.items():
        for first, second in zip(levels[1], levels[2]):
            if "answer with one of" in first:  # not one of the choices: nothing to hint yet
                continue
            assert "hint=2" in first and "Hint 2:" not in first, (name, first)
            assert "Hint 2:" in second and "hint=2" not in second and second != first, (name, second)
            assert re.search(r"notebook 0\d, section \d", first) and re.search(r"notebook 0\d, section \d", second)


def headings(stem: str) -> list[str]:
    """The markdown headings of a notebook in order, in plain text (no LaTeX dollars or backslashes)."""
    nb = json.loads((ROOT / "notebooks" / f"{stem}.ipynb").read_text())
    lines = [line for cell in nb["cells"] if cell["cell_type"] == "markdown"
             for line in "".join(cell["source"]).splitlines() if line.startswith("#")]
    return [line.replace("$", "").replace("\\", "") for line in lines]


SECTION_CALL = re.compile(r'section\("(\d\d)", (\d+), "([^"]+)"\)')


def test_hints_point_to_headings_that_exist():
    """Each ``section(notebook, number, title)`` of the checkers names section ``number`` of that notebook or a
    subsection of it, as the notebook's markdown spells it."""
    calls = [m.groups() for path in (ROOT / "vae_lesson" / "checks").glob("*.py")
             for m in SECTION_CALL.finditer(path.read_text())]
    assert len(calls) >= 14
    stems = {path.stem[:2]: path.stem for path in course_notebooks()}
    for notebook, number, title in calls:
        found = headings(stems[notebook])
        start = next((i for i, h in enumerate(found) if h.startswith(f"## {number}. ")), None)
        assert start is not None, (notebook, number)
        end = next((i for i in range(start + 1, len(found)) if found[i].startswith("## ")), len(found))
        titles = [re.sub(r"^#+\s*(\d+\.\s*)?", "", h).strip() for h in found[start:end]]
        assert title in titles, (notebook, number, title, titles)


# --- (b) each diagnosis is named --------------------------------------------------------------------------------


def not_implemented(*args):
    raise NotImplementedError


DIAGNOSES = [
    # shape: expected against got
    (checks.check_kl_diag, lambda mu, lv: kl(mu, lv)[:3], "wrong shape: expected (6,), got (3,)"),
    (checks.check_negative_elbo_loss, lambda lg, x, mu, lv: bce(lg, x) + kl(mu, lv), "expected (), got (8,)"),
    # sign
    (checks.check_elbo_mc, lambda m, x, q, z: (q.log_prob(z) - m.log_joint(x, z)).mean(0), "sign is flipped"),
    (checks.check_score_grad_mu, lambda f, mu, s, eps: -score(f, mu, s, eps), "sign is flipped"),
    (checks.check_auroc, lambda si, so: -pairs(si, so), "sign is flipped"),
    # a constant factor, found by comparing with the reference even where no typical mistake lists it
    (checks.check_kl_diag, lambda mu, lv: 3 * kl(mu, lv), "off by a constant factor: yours is 3 times"),
    (checks.check_elbo_mc, lambda m, x, q, z: 0.5 * (m.log_joint(x, z) - q.log_prob(z)).mean(0),
     "a factor 2 too small"),
    (checks.check_optimal_baseline, lambda f, s: 2 * (f * s**2).mean() / (s**2).mean(), "a factor 2 too large"),
    (checks.check_optimal_baseline, lambda f, s: (f * s**2).sum() / (s**2).mean(), "off by a factor S = 5000"),
    (checks.check_negative_elbo_loss, lambda lg, x, mu, lv: (bce(lg, x) + kl(mu, lv)).mean() / 8,
     "a factor 8 too small, and 8 is the batch size N"),
    # a constant offset
    (checks.check_kl_diag, lambda mu, lv: kl(mu, lv) + 1, "off by a constant: yours is 1 larger"),
    (checks.check_iwae_from_log_weights, lambda lw: torch.logsumexp(lw, 0), "log k = 3.912 larger"),
    # a missing (or extra) sum
    (checks.check_kl_diag, lambda mu, lv: 0.5 * (mu**2 + lv.exp() - 1 - lv), "the sum over the latent dimensions"),
    (checks.check_elbo_mc, lambda m, x, q, z: (m.log_joint(x, z) - q.log_prob(z)) / len(z),
     "a sum over dimension 0 (of size 50) is missing"),
    (checks.check_score_grad_mu, lambda f, mu, s, eps: score(f, mu, s, eps).sum(),
     "you took the sum over dimension 0 (of size 1000) too"),
    # detached
    (checks.check_kl_diag, lambda mu, lv: kl(mu, lv).detach(), "detached from mu and logvar"),
    (checks.check_reparam_sample, lambda mu, lv, eps: (mu + (0.5 * lv).exp() * eps).detach(), "detached"),
    (checks.check_negative_elbo_loss, lambda lg, x, mu, lv: torch.tensor((bce(lg, x) + kl(mu, lv)).mean().item()),
     "detached from logits, mu and logvar"),
    # NaN
    (checks.check_kl_diag, lambda mu, lv: 0.5 * (mu**2 + lv.exp() - 1 - lv.log()).sum(-1), "NaN"),
    # not written yet, and unfinished
    (checks.check_kl_diag, not_implemented, "not written yet"),
    (checks.check_auroc, not_implemented, "Replace the `raise NotImplementedError` line"),
    (checks.check_iwae_from_log_weights, unfinished, "returned None: it looks unfinished"),
    (checks.check_slerp, lambda a, b, t: ..., "returned `...`: it is unfinished"),
]


@pytest.mark.parametrize("checker, answer, expected", DIAGNOSES)
@pytest.mark.parametrize("level", [1, 2])
def test_each_diagnosis_is_named(verdict, checker, answer, expected, level):
    passed, out = verdict(functools.partial(checker, hint=level), answer)
    assert not passed and expected in out, out


# --- predictions: a nudge, never the right choice ---------------------------------------------------------------


@pytest.mark.parametrize(
    "checker, wrong, giveaways",
    [(checks.check_gap_sign, ["negative", "zero", "either"], ["positive", "never negative", "> 0", "≥ 0"]),
     (checks.check_beta_prediction, ["higher", "same"], ["lower", "smaller", "less"])],
)
@pytest.mark.parametrize("level", [1, 2])
def test_a_wrong_prediction_gets_a_nudge_not_the_answer(verdict, checker, wrong, giveaways, level):
    for answer in wrong:
        passed, out = verdict(functools.partial(checker, hint=level), answer)
        assert not passed and "notebook 0" in out and "?" in out, out
        assert not [word for word in giveaways if word in out.lower()], out


def test_the_default_hint_level_is_the_first():
    default = printed(checks.check_kl_diag, not_implemented)
    assert default == printed(functools.partial(checks.check_kl_diag, hint=1), not_implemented)
    assert "Hint 2:" in printed(functools.partial(checks.check_kl_diag, hint=2), not_implemented)[1]
    assert "Hint 2:" in printed(functools.partial(checks.check_kl_diag, hint="2"), not_implemented)[1]
