"""What every exercise checker shares: the verdict it prints, the guard that keeps it from raising, the two hint
levels, and the diagnosis of an answer against the reference (shape, sign, a constant factor or offset, a missing
sum or mean, NaN, an unfinished or detached result, and the typical mistakes each checker lists).

A checker prints one verdict ("✅ Correct. ..." or "❌ Not yet — ..."), returns None and never raises:
whatever the student's code (or an object passed in its place) does is caught by :func:`_call` and reported in
one sentence.
A wrong answer gets what is wrong and a hint. With ``hint=1`` (the default) the hint says where the notebook
teaches the formula (notebook, section, equation); with ``hint=2`` it says more (which terms the formula has,
which axis to reduce), still in words: a checker never prints the solution's code.
Every message is written in English and shown in the course's language of the moment (``vae_lesson.i18n``:
English, or Korean after ``vae_lesson.set_language("ko")``); a hint quotes the Korean notebook's own heading
(:func:`heading`).
Used by the checkers of notebooks 01-07 (``vae_lesson.checks``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import Tensor

from vae_lesson.i18n import N_, catalog, language, tr

F64 = torch.float64

# The messages below are kept in constants, so they are marked with N_ and translated where they are shown
# (``tr(UNSOLVED)``): the language chosen after import counts. Every other message of the checkers goes through
# ``tr`` where it is made; a ``Problem`` holds text in the current language already.

#: The verdict on a student copy's placeholder ``...``.
UNSOLVED = N_("the exercise is not solved yet: replace `...` with your answer in the cell above and run it again.")
#: The verdict on a student copy's stub, a function that raises ``NotImplementedError``.
UNSOLVED_STUB = N_("the exercise is not solved yet: your function is not written yet. "
                   "Replace the `raise NotImplementedError` line with your code.")
#: Who is blamed when an exception comes out of the student's own function.
YOUR_CODE = N_("your code")
#: How a student asks for the second hint level.
MORE = N_("For a more specific hint, run the check again with hint=2.")
#: How a hint names a place in a notebook, and a second section of the same notebook.
PLACE = N_('notebook {notebook}, section {number}, "{title}"')
ALSO = N_(', and section {number}, "{title}"')


def _plain(text: str) -> str:
    """A heading as the hints quote it: the math's dollars and backslashes left out."""
    return text.replace("$", "").replace("\\", "")


def heading(title: str) -> str:
    """The title of a notebook heading, quoted by a hint, in the current language: its translation from the
    catalog of the Korean notebooks' headings (``ko.headings.json``, generated from their translations; a heading
    with math is matched with the math's ``$`` and backslashes left out, as the hints quote it), else the English
    title."""
    translated = tr(title)
    if translated != title or language() == "en":
        return translated
    for english, korean in catalog(language()).items():
        if _plain(english) == title:
            return _plain(korean)
    return title


@dataclass(frozen=True)
class Where:
    """Where a notebook teaches something, as a checker's hint names it (:func:`section`), shown in the language
    current at that moment (``str(where)``): the notebook, the section's number and title, and what follows, e.g.
    ``section(...) + N_(", its last equation")`` or ``section(...).also(2, title)`` for a second section."""

    notebook: str
    number: int
    title: str
    suffixes: tuple = ()  # English phrases (marked with N_) and (number, title) pairs of further sections

    def __add__(self, suffix: str) -> Where:
        return Where(self.notebook, self.number, self.title, (*self.suffixes, suffix))

    def also(self, number: int, title: str) -> Where:
        """This place and section ``number`` of the same notebook, whose heading is ``title``."""
        return Where(self.notebook, self.number, self.title, (*self.suffixes, (number, title)))

    def __str__(self) -> str:
        parts = [tr(PLACE, notebook=self.notebook, number=self.number, title=heading(self.title))]
        for suffix in self.suffixes:
            parts.append(tr(suffix) if isinstance(suffix, str)
                         else tr(ALSO, number=suffix[0], title=heading(suffix[1])))
        return "".join(parts)


def section(notebook: str, number: int, title: str) -> Where:
    """Where a notebook teaches something, as a checker's hint names it: notebook, section number and the heading
    of that section or of one of its subsections, in plain text (``tests/test_checks_hints.py`` checks that the
    heading exists). The heading is translated when the hint is shown, from the Korean notebooks' own headings
    (:func:`heading`)."""
    return Where(notebook, number, title)


class Hint(NamedTuple):
    """A checker's two hint levels: ``where`` the notebook teaches the formula (from :func:`section`, with the
    equation), and a ``specific`` hint in words (the formula's terms, the axes to reduce), never code. Both are
    English, translated when shown."""

    where: Where
    specific: str

    def text(self, level: int, detail: str | None = None) -> str:
        """The hint of ``level`` (1 or 2), in the current language; ``detail``, a hint for the mistake found
        (already translated), replaces the general specific hint at level 2."""
        if level < 2:
            return tr("See {where}.", where=self.where) + " " + tr(MORE)
        return tr("Hint 2: {hint} (Taught in {where}.)", hint=detail or tr(self.specific), where=self.where)


class Problem(NamedTuple):
    """What is wrong with an answer, in one sentence, and optionally a more specific hint for ``hint=2``."""

    message: str
    detail: str | None = None


def report(passed: bool, message: str) -> None:
    """Print a checker's verdict: a confirmation, or 'Not yet —' and the diagnosis.

    Checkers return nothing, so a check cell shows only this sentence.
    """
    print((tr("✅ Correct. ") if passed else tr("❌ Not yet — ")) + message)


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
        return _fail(tr(UNSOLVED), hint, level)
    key = str(answer).strip().lower()
    if key not in feedback:
        return report(False, tr("answer with one of {choices}, got {answer!r}.",
                                choices=", ".join(map(repr, feedback)), answer=answer))
    correct, explanation = feedback[key]  # explanations are English, marked with N_
    return report(True, tr(explanation)) if correct else _fail(tr(explanation), hint, level)


def _call(fn: Callable, *args: object, culprit: str = YOUR_CODE) -> tuple[object, str | None]:
    """The guard: run ``fn(*args)`` and return ``(result, None)``, or ``(None, sentence)`` if it raised.

    ``culprit`` names what is blamed in the sentence: the student's function (the default, for which a
    ``NotImplementedError`` means the student copy's stub is still there) or, e.g., ``N_("the model")`` passed to
    a checker (English, translated here).
    The sentence is one line ending in a full stop, whatever the exception's message looks like.
    """
    try:
        return fn(*args), None
    except Exception as error:  # a student's bug, or an object that is not what the checker needs, in words
        if isinstance(error, NotImplementedError) and culprit == YOUR_CODE:
            return None, tr(UNSOLVED_STUB)
        detail = " ".join(str(error).split())  # the exception's own message, as it is
        fields = {"culprit": tr(culprit), "error": type(error).__name__, "detail": detail}
        sentence = tr("{culprit} raised {error}: {detail}", **fields) if detail else tr("{culprit} raised {error}",
                                                                                      **fields)
        return None, sentence if sentence.endswith((".", "!", "?")) else sentence + "."


# --- the diagnosis --------------------------------------------------------------------------------------------

#: Factors worth naming even for a single number: a wrong scalar is "off by a factor" only if the factor is one
#: of these (or a size the checker names); any two numbers have *some* ratio.
ROUND_FACTORS = (2.0, 3.0, 4.0, 10.0)


def _unfinished(answer: object, what: str) -> Problem | None:
    """The diagnosis of an answer that is not there yet: None returned (no return line) or ``...``."""
    if answer is None:
        return Problem(tr("{what} returned None: it looks unfinished. Does it end with a line that returns the "
                          "result?", what=what))
    if answer is Ellipsis:
        return Problem(tr("{what} returned `...`: it is unfinished; replace `...` with your code.", what=what))
    return None


def _shapes(answer: Tensor, reference: Tensor) -> str | None:
    """'wrong shape: expected ..., got ...', or None if the shapes agree."""
    if answer.shape == reference.shape:
        return None
    return tr("wrong shape: expected {expected}, got {got}", expected=tuple(reference.shape), got=tuple(answer.shape))


def _reduction(answer: Tensor, reference: Tensor) -> str:
    """Where it explains a wrong shape, the reduction that is missing or extra: one axis too many (a sum or mean
    over it gives the reference) or too few (the reference summed or averaged over it gives the answer)."""
    big, small, missing = (answer, reference, True) if answer.dim() > reference.dim() else (reference, answer, False)
    if big.dim() != small.dim() + 1 or not torch.isfinite(big).all():
        return "."
    for axis in range(big.dim()):
        if small.shape != big.shape[:axis] + big.shape[axis + 1:]:
            continue
        fields = {"axis": axis, "size": big.shape[axis]}
        if _close(big.to(F64).sum(axis), small.to(F64)):
            return ": " + (tr("a sum over dimension {axis} (of size {size}) is missing.", **fields) if missing else
                           tr("you took the sum over dimension {axis} (of size {size}) too, which must stay.",
                              **fields))
        if _close(big.to(F64).mean(axis), small.to(F64)):
            return ": " + (tr("a mean over dimension {axis} (of size {size}) is missing.", **fields) if missing else
                           tr("you took the mean over dimension {axis} (of size {size}) too, which must stay.",
                              **fields))
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
        return tr("the sign is flipped: yours is the negative of the right value.")
    several = a.numel() > 1
    norm = (r * r).sum()
    if norm > 0:
        factor = ((a * r).sum() / norm).item()
        magnitude = max(abs(factor), 1 / abs(factor)) if factor else 0.0
        name = _named(magnitude, known, ROUND_FACTORS)
        if factor and torch.allclose(a, factor * r, rtol=rtol, atol=atol) and (several or name is not None):
            named = tr(", and {value:.4g} is {name}", value=magnitude, name=name) if name else ""
            fields = {"factor": abs(factor), "magnitude": magnitude, "named": named}
            if factor < 0:
                return (tr("the sign is flipped and off by a constant factor: yours is {factor:.4g} times the right "
                           "value (a factor {magnitude:.4g} too large{named}).", **fields) if abs(factor) > 1 else
                        tr("the sign is flipped and off by a constant factor: yours is {factor:.4g} times the right "
                           "value (a factor {magnitude:.4g} too small{named}).", **fields))
            return (tr("off by a constant factor: yours is {factor:.4g} times the right value (a factor "
                       "{magnitude:.4g} too large{named}).", **fields) if abs(factor) > 1 else
                    tr("off by a constant factor: yours is {factor:.4g} times the right value (a factor "
                       "{magnitude:.4g} too small{named}).", **fields))
    offset = (a - r).mean().item()
    name = _named(abs(offset), known)
    if offset and torch.allclose(a, r + offset, rtol=rtol, atol=atol) and (several or name is not None):
        fields = {"offset": abs(offset), "named": tr(", and {value:.4g} is {name}", value=abs(offset), name=name)
                  if name else ""}
        if several:
            return (tr("off by a constant: yours is {offset:.4g} larger than the right value everywhere{named}. A "
                       "constant term is missing, extra or wrong.", **fields) if offset > 0 else
                    tr("off by a constant: yours is {offset:.4g} smaller than the right value everywhere{named}. A "
                       "constant term is missing, extra or wrong.", **fields))
        return (tr("off by a constant: yours is {offset:.4g} larger than the right value{named}. A constant term is "
                   "missing, extra or wrong.", **fields) if offset > 0 else
                tr("off by a constant: yours is {offset:.4g} smaller than the right value{named}. A constant term is "
                   "missing, extra or wrong.", **fields))
    return None


def _detached(answer: Tensor, inputs: str) -> Problem | None:
    """The diagnosis of a result that gradients cannot flow through, although the inputs ``inputs`` (named in the
    current language) require them."""
    if answer.requires_grad:
        return None
    return Problem(tr("the values are right, but your result is detached from {inputs}: no gradient can flow back "
                      "through it, so a model could not learn from it.", inputs=inputs),
                   tr("Detaching, sampling with a distribution's own sampler, computing under no_grad, or a round "
                   "trip through NumPy or Python numbers cuts the graph: build the result from the inputs with "
                   "torch operations only."))


def _diagnose(answer: object, reference: Tensor, mistakes: Sequence[tuple], what: str,
              known: dict[str, float] | None = None, fallback: str = "") -> Problem | None:
    """None if ``answer`` is right, else what is wrong with it: unfinished, not a tensor, the first matching
    typical mistake of ``mistakes`` (tuples ``(wrong value, message)`` or ``(wrong value, message, hint-2
    detail)``), a wrong shape, NaN, a flipped sign, a constant factor or offset (``known`` names sizes), or wrong
    values (followed by ``fallback``). Messages, ``fallback`` and the names in ``known`` are in the current
    language."""
    unfinished = _unfinished(answer, what)
    if unfinished:
        return unfinished
    if not isinstance(answer, Tensor):
        return Problem(tr("{what} must return a torch tensor, got {type}.", what=what, type=type(answer).__name__))
    answer = answer.detach()
    shapes = _shapes(answer, reference)
    for wrong, message, *detail in mistakes:
        if _close(answer, wrong) and not _close(answer, reference):
            return Problem(f"{shapes}: {message}" if shapes else message, *detail)
    if shapes:
        return Problem(shapes + _reduction(answer, reference))
    if not torch.isfinite(answer).all():
        return Problem(tr("{what} returned NaN or inf; look for a log of a negative number or a division by zero.",
                          what=what))
    if not _close(answer, reference):
        relation = _relation(answer, reference, known)
        if relation:
            return Problem(relation)
        worst = (answer.to(reference.dtype) - reference).abs().max().item()
        wrong = tr("{what} has the right shape but wrong values (largest error {worst:.3g}); check each term of the "
                   "formula.", what=what, worst=worst)
        return Problem(f"{wrong} {fallback}".rstrip())
    return None


def _judge(answer: object, reference: Tensor, mistakes: Sequence[tuple], what: str, success: str, hint: Hint,
           level: int, *, known: dict[str, float] | None = None, grad_from: str | None = None) -> None:
    """A checker's last step: diagnose ``answer`` (:func:`_diagnose`) and, if ``grad_from`` names inputs that
    require gradients, check that it is attached to them (:func:`_detached`); then print the verdict."""
    problem = _diagnose(answer, reference, mistakes, what, known)
    if problem is None and grad_from:
        problem = _detached(answer, grad_from)
    _conclude(problem, success, hint, level)
