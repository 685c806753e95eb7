"""What every exercise checker shares: the verdict it prints, the guard that keeps it from raising, the two hint
levels, and the diagnosis of an answer against the reference (shape, sign, a constant factor or offset, a missing
sum or mean, NaN, an unfinished or detached result, and the typical mistakes each checker lists).

A checker prints one verdict ("✅ Correct. ..." or "❌ Not yet — ..."), returns None and never raises:
whatever the student's code (or an object passed in its place) does is caught by :func:`_call` and reported in
one sentence.
A wrong answer gets what is wrong and a hint. With ``hint=1`` (the default) the hint says where the notebook
teaches the formula (notebook, section, equation); with ``hint=2`` it says more (which terms the formula has,
which axis to reduce), still in words: a checker never prints the solution's code.
Used by the checkers of notebooks 01-05 (``vae_lesson.checks``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import torch
from torch import Tensor

F64 = torch.float64

#: The verdict on a student copy's placeholder ``...``.
UNSOLVED = "the exercise is not solved yet: replace `...` with your answer in the cell above and run it again."
#: The verdict on a student copy's stub, a function that raises ``NotImplementedError``.
UNSOLVED_STUB = ("the exercise is not solved yet: your function is not written yet. "
                 "Replace the `raise NotImplementedError` line with your code.")
#: Who is blamed when an exception comes out of the student's own function.
YOUR_CODE = "your code"
#: How a student asks for the second hint level.
MORE = "For a more specific hint, run the check again with hint=2."


def section(notebook: str, number: int, title: str) -> str:
    """Where a notebook teaches something, as a checker's hint names it: notebook, section number and the heading
    of that section or of one of its subsections, in plain text (``tests/test_checks_hints.py`` checks that the
    heading exists)."""
    return f'notebook {notebook}, section {number}, "{title}"'


class Hint(NamedTuple):
    """A checker's two hint levels: ``where`` the notebook teaches the formula (from :func:`section`, with the
    equation), and a ``specific`` hint in words (the formula's terms, the axes to reduce), never code."""

    where: str
    specific: str

    def text(self, level: int, detail: str | None = None) -> str:
        """The hint of ``level`` (1 or 2); ``detail``, a hint for the mistake found, replaces the general
        specific hint at level 2."""
        if level < 2:
            return f"See {self.where}. {MORE}"
        return f"Hint 2: {detail or self.specific} (Taught in {self.where}.)"


class Problem(NamedTuple):
    """What is wrong with an answer, in one sentence, and optionally a more specific hint for ``hint=2``."""

    message: str
    detail: str | None = None


def report(passed: bool, message: str) -> None:
    """Print a checker's verdict: a confirmation, or 'Not yet —' and the diagnosis.

    Checkers return nothing, so a check cell shows only this sentence.
    """
    print(("✅ Correct. " if passed else "❌ Not yet — ") + message)


def _level(hint: object) -> int:
    """The hint level asked for: 2 for ``hint=2`` (or more), else 1."""
    try:
        return 2 if int(hint) >= 2 else 1  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return 1


def _fail(problem: Problem | str, hint: Hint | None, level: int = 1) -> None:
    """Print 'Not yet' with ``problem`` and, if the checker has one, the hint of ``level``."""
    message, detail = (problem, None) if isinstance(problem, str) else problem
    report(False, message if hint is None else f"{message} {hint.text(_level(level), detail)}")


def _conclude(problem: Problem | str | None, success: str, hint: Hint | None = None, level: int = 1) -> None:
    """Print the verdict of a checker's last step: ``problem`` with its hint if there is one, else the
    confirmation ``success``."""
    if problem is None:
        return report(True, success)
    return _fail(problem, hint, level)


def _close(a: object, b: Tensor, rtol: float = 1e-6, atol: float = 1e-8) -> bool:
    """True if ``a`` is a tensor of ``b``'s shape whose values, converted to ``b``'s dtype, match ``b``'s."""
    return isinstance(a, Tensor) and a.shape == b.shape and torch.allclose(a.to(b.dtype), b, rtol=rtol, atol=atol)


def _unsolved(*answers: object) -> bool:
    """True if an answer is still the student copy's placeholder ``...``."""
    return any(answer is Ellipsis for answer in answers)


def _check_choice(answer: object, feedback: dict[str, tuple[bool, str]], hint: Hint | None = None,
                  level: int = 1) -> None:
    """Judge a one-word prediction against ``feedback`` (answer -> (correct?, explanation)); a wrong choice gets
    its explanation (a nudge, never the right choice) and the hint."""
    if _unsolved(answer) or answer is None:
        return _fail(UNSOLVED, hint, level)
    key = str(answer).strip().lower()
    if key not in feedback:
        return report(False, f"answer with one of {', '.join(map(repr, feedback))}, got {answer!r}.")
    correct, explanation = feedback[key]
    return report(True, explanation) if correct else _fail(explanation, hint, level)


def _call(fn: Callable, *args: object, culprit: str = YOUR_CODE) -> tuple[object, str | None]:
    """The guard: run ``fn(*args)`` and return ``(result, None)``, or ``(None, sentence)`` if it raised.

    ``culprit`` names what is blamed in the sentence: the student's function (the default, for which a
    ``NotImplementedError`` means the student copy's stub is still there) or, e.g., "the model" passed to a
    checker.
    The sentence is one line ending in a full stop, whatever the exception's message looks like.
    """
    try:
        return fn(*args), None
    except Exception as error:  # a student's bug, or an object that is not what the checker needs, in words
        if isinstance(error, NotImplementedError) and culprit == YOUR_CODE:
            return None, UNSOLVED_STUB
        detail = " ".join(str(error).split())
        sentence = f"{culprit} raised {type(error).__name__}" + (f": {detail}" if detail else "")
        return None, sentence if sentence.endswith((".", "!", "?")) else sentence + "."


# --- the diagnosis --------------------------------------------------------------------------------------------

#: Factors worth naming even for a single number: a wrong scalar is "off by a factor" only if the factor is one
#: of these (or a size the checker names); any two numbers have *some* ratio.
ROUND_FACTORS = (2.0, 3.0, 4.0, 10.0)


def _unfinished(answer: object, what: str) -> Problem | None:
    """The diagnosis of an answer that is not there yet: None returned (no return line) or ``...``."""
    if answer is None:
        return Problem(f"{what} returned None: it looks unfinished. Does it end with a line that returns the result?")
    if answer is Ellipsis:
        return Problem(f"{what} returned `...`: it is unfinished; replace `...` with your code.")
    return None


def _shapes(answer: Tensor, reference: Tensor) -> str | None:
    """'wrong shape: expected ..., got ...', or None if the shapes agree."""
    if answer.shape == reference.shape:
        return None
    return f"wrong shape: expected {tuple(reference.shape)}, got {tuple(answer.shape)}"


def _reduction(answer: Tensor, reference: Tensor) -> str:
    """Where it explains a wrong shape, the reduction that is missing or extra: one axis too many (a sum or mean
    over it gives the reference) or too few (the reference summed or averaged over it gives the answer)."""
    big, small, missing = (answer, reference, True) if answer.dim() > reference.dim() else (reference, answer, False)
    if big.dim() != small.dim() + 1 or not torch.isfinite(big).all():
        return "."
    for axis in range(big.dim()):
        if small.shape != big.shape[:axis] + big.shape[axis + 1:]:
            continue
        for name, reduce in (("sum", torch.sum), ("mean", torch.mean)):
            if _close(reduce(big.to(F64), axis), small.to(F64)):
                if missing:
                    return f": a {name} over dimension {axis} (of size {big.shape[axis]}) is missing."
                return f": you took the {name} over dimension {axis} (of size {big.shape[axis]}) too, which must stay."
    return "."


def _named(value: float, known: dict[str, float], round_ones: Sequence[float] = ()) -> str | None:
    """The name of ``value`` among ``known`` sizes (or '' for one of ``round_ones``), else None."""
    for name, size in known.items():
        if abs(value - size) <= 1e-6 * max(1.0, abs(size)):
            return name
    if any(abs(value - r) <= 1e-6 * r for r in round_ones):
        return ""
    return None


def _relation(answer: Tensor, reference: Tensor, known: dict[str, float] | None = None, rtol: float = 1e-6,
              atol: float = 1e-8) -> str | None:
    """How ``answer`` relates to ``reference`` (same shape, finite) when it is wrong in a simple way: the sign
    flipped, a constant factor, or a constant offset; sizes in ``known`` (name -> value) are named. None if no
    such relation holds."""
    known = known or {}
    a, r = answer.detach().to(F64), reference.detach().to(F64)
    if torch.allclose(a, -r, rtol=rtol, atol=atol) and not torch.allclose(a, r, rtol=rtol, atol=atol):
        return "the sign is flipped: yours is the negative of the right value."
    several = a.numel() > 1
    norm = (r * r).sum()
    if norm > 0:
        factor = ((a * r).sum() / norm).item()
        magnitude = max(abs(factor), 1 / abs(factor)) if factor else 0.0
        name = _named(magnitude, known, ROUND_FACTORS)
        if factor and torch.allclose(a, factor * r, rtol=rtol, atol=atol) and (several or name is not None):
            sign = "the sign is flipped and " if factor < 0 else ""
            size = "too large" if abs(factor) > 1 else "too small"
            named = f", and {magnitude:.4g} is {name}" if name else ""
            return (f"{sign}off by a constant factor: yours is {abs(factor):.4g} times the right value "
                    f"(a factor {magnitude:.4g} {size}{named}).")
    offset = (a - r).mean().item()
    name = _named(abs(offset), known)
    if offset and torch.allclose(a, r + offset, rtol=rtol, atol=atol) and (several or name is not None):
        named = f", and {abs(offset):.4g} is {name}" if name else ""
        return (f"off by a constant: yours is {abs(offset):.4g} {'larger' if offset > 0 else 'smaller'} than the "
                f"right value{' everywhere' if several else ''}{named}. A constant term is missing, extra or wrong.")
    return None


def _detached(answer: Tensor, inputs: str) -> Problem | None:
    """The diagnosis of a result that gradients cannot flow through, although the inputs ``inputs`` require them."""
    if answer.requires_grad:
        return None
    return Problem(f"the values are right, but your result is detached from {inputs}: no gradient can flow back "
                   "through it, so a model could not learn from it.",
                   "Detaching, sampling with a distribution's own sampler, computing under no_grad, or a round "
                   "trip through NumPy or Python numbers cuts the graph: build the result from the inputs with "
                   "torch operations only.")


def _diagnose(answer: object, reference: Tensor, mistakes: Sequence[tuple], what: str,
              known: dict[str, float] | None = None, fallback: str = "") -> Problem | None:
    """None if ``answer`` is right, else what is wrong with it: unfinished, not a tensor, the first matching
    typical mistake of ``mistakes`` (tuples ``(wrong value, message)`` or ``(wrong value, message, hint-2
    detail)``), a wrong shape, NaN, a flipped sign, a constant factor or offset (``known`` names sizes), or wrong
    values (followed by ``fallback``)."""
    unfinished = _unfinished(answer, what)
    if unfinished:
        return unfinished
    if not isinstance(answer, Tensor):
        return Problem(f"{what} must return a torch tensor, got {type(answer).__name__}.")
    answer = answer.detach()
    shapes = _shapes(answer, reference)
    for wrong, message, *detail in mistakes:
        if _close(answer, wrong) and not _close(answer, reference):
            return Problem(f"{shapes}: {message}" if shapes else message, *detail)
    if shapes:
        return Problem(shapes + _reduction(answer, reference))
    if not torch.isfinite(answer).all():
        return Problem(f"{what} returned NaN or inf; look for a log of a negative number or a division by zero.")
    if not _close(answer, reference):
        relation = _relation(answer, reference, known)
        if relation:
            return Problem(relation)
        worst = (answer.to(reference.dtype) - reference).abs().max().item()
        return Problem(f"{what} has the right shape but wrong values (largest error {worst:.3g}); "
                       f"check each term of the formula. {fallback}".rstrip())
    return None


def _judge(answer: object, reference: Tensor, mistakes: Sequence[tuple], what: str, success: str, hint: Hint,
           level: int, *, known: dict[str, float] | None = None, grad_from: str | None = None) -> None:
    """A checker's last step: diagnose ``answer`` (:func:`_diagnose`) and, if ``grad_from`` names inputs that
    require gradients, check that it is attached to them (:func:`_detached`); then print the verdict."""
    problem = _diagnose(answer, reference, mistakes, what, known)
    if problem is None and grad_from:
        problem = _detached(answer, grad_from)
    _conclude(problem, success, hint, level)
