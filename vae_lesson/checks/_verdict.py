"""What every exercise checker shares: the verdict it prints, the guard that keeps it from raising, and the
comparison of an answer with the reference and with the typical mistakes.

A checker prints one verdict ("✅ Correct. ..." or "❌ Not yet. ..."), returns None and never raises:
whatever the student's code (or an object passed in its place) does is caught by :func:`_call` and reported in
one sentence.
Used by the checkers of notebooks 01-05 (``vae_lesson.checks``).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

F64 = torch.float64

#: The verdict on a student copy's placeholder ``...``.
UNSOLVED = "the exercise is not solved yet: replace `...` with your answer in the cell above and run it again."
#: The verdict on a student copy's stub, a function that raises ``NotImplementedError``.
UNSOLVED_STUB = "the exercise is not solved yet: replace `raise NotImplementedError` with your code."
#: Who is blamed when an exception comes out of the student's own function.
YOUR_CODE = "your code"


def report(passed: bool, message: str) -> None:
    """Print a checker's verdict: a confirmation, or 'Not yet' with the diagnosis.

    Checkers return nothing, so a check cell shows only this sentence.
    """
    print(("✅ Correct. " if passed else "❌ Not yet. ") + message)


def _close(a: object, b: Tensor, rtol: float = 1e-6, atol: float = 1e-8) -> bool:
    """True if ``a`` is a tensor of ``b``'s shape whose values, converted to ``b``'s dtype, match ``b``'s."""
    return isinstance(a, Tensor) and a.shape == b.shape and torch.allclose(a.to(b.dtype), b, rtol=rtol, atol=atol)


def _unsolved(*answers: object) -> bool:
    """True if an answer is still the student copy's placeholder ``...``."""
    return any(answer is Ellipsis for answer in answers)


def _check_choice(answer: object, feedback: dict[str, tuple[bool, str]]) -> None:
    """Judge a one-word prediction against ``feedback`` (answer -> (correct?, explanation))."""
    if _unsolved(answer):
        return report(False, UNSOLVED)
    key = str(answer).strip().lower()
    if key not in feedback:
        return report(False, f"answer with one of {', '.join(map(repr, feedback))}, got {answer!r}.")
    return report(*feedback[key])


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


def _diagnose(answer: object, reference: Tensor, mistakes: list[tuple[Tensor, str]], what: str) -> str | None:
    """None if ``answer`` is right, else the message of the first matching typical mistake or a generic one."""
    if not isinstance(answer, Tensor):
        return f"{what} must return a torch tensor, got {type(answer).__name__}."
    for wrong, message in mistakes:
        if _close(answer, wrong) and not _close(answer, reference):
            return message
    if answer.shape != reference.shape:
        return f"{what} should return shape {tuple(reference.shape)}, got {tuple(answer.shape)}."
    if not torch.isfinite(answer).all():
        return f"{what} returned NaN or inf; look for a log of a negative number or a division by zero."
    if not _close(answer, reference):
        worst = (answer.to(reference.dtype) - reference).abs().max().item()
        return f"{what} has the right shape but wrong values (largest error {worst:.3g}); check each term of the formula."
    return None


def _conclude(problem: str | None, success: str) -> None:
    """Print the verdict of a checker's last step: ``problem`` if there is one, else the confirmation
    ``success``."""
    report(problem is None, problem or success)
