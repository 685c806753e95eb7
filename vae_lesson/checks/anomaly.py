"""Checkers of notebook 05's exercises (``notebooks/05_density_and_anomalies.ipynb``): the AUROC by hand, and
a visible corruption that the likelihood-based detector misses."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from vae_lesson.anomaly import auroc
from vae_lesson.checks._verdict import F64, Hint, _call, _conclude, _fail, _judge, _unfinished, section
from vae_lesson.data import binarize, load_mnist, test_subset
from vae_lesson.elbo import iwae_bound
from vae_lesson.i18n import N_, tr

AUROC_HINT = Hint(
    section("05", 3, "Anomaly detection with -log p(x)") + N_(", and the exercise's statement"),
    N_("Compare every anomaly's score with every normal image's score: a pair counts 1 when the anomaly scores "
       "higher, one half when the two scores are equal, and 0 otherwise. The AUROC is the average over all pairs, a "
       "single number between 0 and 1."),
)
TIES = N_("A pair with equal scores is neither ranked right nor wrong, so it counts one half.")


def check_auroc(auroc_fn: Callable[[Tensor, Tensor], float], hint: int = 1) -> None:
    """Exercise (notebook 05): ``auroc_fn(scores_in, scores_out)`` returns the AUROC, the probability that a random
    anomaly (out) scores higher than a random normal image (in), ties counting one half. ``hint=2`` gives a more
    specific hint."""
    g = torch.Generator().manual_seed(8)
    scores_in = torch.randint(0, 6, (30,), generator=g).to(F64)
    scores_out = torch.randint(2, 9, (20,), generator=g).to(F64)
    answer, error = _call(auroc_fn, scores_in.clone(), scores_out.clone())
    if error:
        return _fail(error, AUROC_HINT, hint)
    unfinished = _unfinished(answer, "auroc_fn")
    if unfinished:
        return _fail(unfinished, AUROC_HINT, hint)
    # every (anomaly, normal) pair: for the diagnosis of ties and of a missing division below
    out_column, in_row = scores_out.unsqueeze(1), scores_in.unsqueeze(0)
    greater, equal = (out_column > in_row).to(F64), (out_column == in_row).to(F64)
    ref = torch.tensor(auroc(scores_in, scores_out), dtype=F64)  # the package's AUROC (from ranks)
    try:
        value = torch.as_tensor(answer, dtype=F64).reshape(())
    except (TypeError, ValueError, RuntimeError):
        return _fail(tr("auroc_fn must return one number, got {type} of shape {shape}.", type=type(answer).__name__,
                        shape=tuple(getattr(answer, "shape", ()))), AUROC_HINT, hint)
    mistakes = [
        (1 - ref, tr("you swapped the roles: the AUROC is P(anomaly scores higher than a normal image), "
                     "with scores_out the anomalies.")),
        (greater.mean(), tr("ties must count one half: yours counts them as 0."), tr(TIES)),
        ((greater + equal).mean(), tr("ties count one half, not one."), tr(TIES)),
        ((greater + 0.5 * equal).sum(), tr("divide by the number of pairs: the AUROC is a fraction of the "
                                           "pairs, between 0 and 1.")),
    ]
    success = tr("AUROC = {auroc:.4f}: the fraction of (anomaly, normal) pairs ranked correctly, ties half.",
                 auroc=ref.item())
    _judge(value, ref, mistakes, "auroc_fn", success, AUROC_HINT, hint,
           known={tr("the number of pairs"): greater.numel()})


def _detection_auroc(model: torch.nn.Module, clean: Tensor, corrupted: Tensor) -> float:
    """The AUROC of the score -log p(x) (``iwae_bound`` with k = 10) of ``model`` at telling ``corrupted``
    images from ``clean`` ones, each (N, 28, 28) in [0, 1] and binarized with a fixed seed."""
    g = torch.Generator().manual_seed(10)
    with torch.no_grad():
        score_in = -iwae_bound(model, binarize(clean, g), 10, g)
        score_out = -iwae_bound(model, binarize(corrupted, g), 10, g)
    return auroc(score_in, score_out)


SNEAKY_HINT = Hint(
    section("05", 4, "Where likelihood fails").also(2, "The most and least likely test digits"),
    N_("Section 2 shows what the images the model finds most likely have in common. A corruption that pushes digits "
       "towards that property, while changing at least 0.05 per pixel on average, lowers -log p(x) instead of raising "
       "it, and the detector misses it."),
)


def check_sneaky_corruption(corrupt_fn: Callable[[Tensor, torch.Generator], Tensor], model: torch.nn.Module,
                            hint: int = 1) -> None:
    """Exercise (notebook 05): ``corrupt_fn(x, generator)`` changes MNIST test images (N, 28, 28) in [0, 1] visibly
    (mean absolute change at least 0.05 per pixel), yet the score -log p(x) of ``model`` does not flag them
    (AUROC at most 0.6 against untouched test images). ``hint=2`` gives a more specific hint."""
    x, _ = load_mnist("test")
    index = test_subset(1000, seed=5)  # random test digits stand for the whole set; a slice would not
    clean, source = x[index[:500]], x[index[500:]]
    answer, error = _call(corrupt_fn, source.clone(), torch.Generator().manual_seed(9))
    problem = error or _unfinished(answer, "corrupt_fn")
    if problem:
        return _fail(problem, SNEAKY_HINT, hint)
    if not isinstance(answer, Tensor) or answer.shape != source.shape:
        return _fail(tr("wrong shape: corrupt_fn must return images of shape {expected}, got {got}.",
                        expected=tuple(source.shape),
                        got=tuple(getattr(answer, "shape", ())) or type(answer).__name__), SNEAKY_HINT, hint)
    answer = answer.detach().float()
    if not torch.isfinite(answer).all() or answer.min() < 0 or answer.max() > 1:
        return _fail(tr("the corrupted images must stay in [0, 1]: clip them to that range."), SNEAKY_HINT, hint)
    change = (answer - source).abs().mean().item()
    if change < 0.05:
        return _fail(tr("that barely changes the images (mean change {change:.3f} per pixel, below 0.05): a detector "
                        "should not flag what is hardly there.", change=change), SNEAKY_HINT, hint)
    area, error = _call(_detection_auroc, model, clean, answer, culprit=N_("the model"))
    if error:
        return _fail(error + " " + tr("Pass the trained VAE that the check cell names, whose likelihood is the "
                                      "score."), None)
    if area > 0.6:
        return _fail(tr("the detector catches it: AUROC {auroc:.2f} (mean change {change:.3f} per pixel). Which "
                        "images does the model find *more* likely than real digits?", auroc=area, change=change),
                     SNEAKY_HINT, hint)
    return _conclude(None, tr("a visible change (mean {change:.3f} per pixel) that -log p(x) misses: AUROC "
                              "{auroc:.2f}.", change=change, auroc=area))
