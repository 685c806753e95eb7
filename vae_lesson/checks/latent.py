"""Checkers of notebook 04's exercises (``notebooks/04_latent_explorer.ipynb``): spherical interpolation
between two codes, and the direction in latent space from one digit class to another."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from vae_lesson.checks._verdict import (
    F64,
    UNSOLVED,
    Hint,
    Problem,
    _call,
    _conclude,
    _diagnose,
    _fail,
    _relation,
    _unsolved,
    section,
)
from vae_lesson.data import binarized_test_set, load_mnist
from vae_lesson.evaluation import posterior_means_and_logvars
from vae_lesson.i18n import N_, tr
from vae_lesson.latent import lerp, slerp


SLERP_HINT = Hint(
    section("04", 3, "Interpolation: straight lines and great circles") + N_(", the equation for z(t)"),
    N_("Split each code into its length and its direction, a unit vector. Interpolate the two lengths on a straight "
       "line. Turn the direction along the great circle with the sine weights of section 3, where ω is the angle "
       "between the two unit vectors; then multiply the direction by the interpolated length."),
)


def check_slerp(slerp_fn: Callable[[Tensor, Tensor, float], Tensor], hint: int = 1) -> None:
    """Exercise (notebook 04): ``slerp_fn(z_a, z_b, t)`` for codes (d,) and a number t in [0, 1] returns the point
    at fraction t of the path whose direction follows the great circle from z_a/|z_a| to z_b/|z_b| and whose norm
    is (1 - t)|z_a| + t|z_b| (``vae_lesson.latent.slerp``). Tested on codes of norms about 1 and 3 at 150 degrees,
    where Shoemake's formula applied to the codes themselves overshoots both norms. ``hint=2`` gives a more
    specific hint."""
    g = torch.Generator().manual_seed(4)
    u, v = torch.randn(2, 5, generator=g, dtype=F64)
    u = u / u.norm()
    v = v - torch.dot(v, u) * u
    v = v / v.norm()
    angle = math.radians(150.0)
    u_a, u_b = u, math.cos(angle) * u + math.sin(angle) * v  # the unit directions, known by construction
    z_a, z_b = 1.2 * u_a, 3.0 * u_b
    omega = torch.tensor(angle, dtype=F64)

    def arc(t: float, a: Tensor = u_a, b: Tensor = u_b) -> Tensor:  # Shoemake's weights on two vectors
        return (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)

    for t in (0.0, 0.3, 0.7, 1.0):
        answer, error = _call(slerp_fn, z_a.clone(), z_b.clone(), t)
        if error:
            return _fail(error, SLERP_HINT, hint)
        reference = slerp(z_a, z_b, t)
        norm = (1 - t) * z_a.norm() + t * z_b.norm()
        chord = lerp(u_a, u_b, t)
        needed = tr("the norm interpolated linearly from |z_a| to |z_b|, {norm:.2f}", norm=norm)
        mistakes = [
            (lerp(z_a, z_b, t), tr("that is the straight line between z_a and z_b: here its norm is {norm:.2f} where "
                                   "the path needs {needed}. Interpolate the direction along the great circle and "
                                   "the norm linearly.", norm=lerp(z_a, z_b, t).norm(), needed=needed)),
            (slerp(z_b, z_a, t), tr("your path runs backwards, from z_b to z_a: at t = 0 it must give z_a.")),
            (arc(t, z_a, z_b), tr("that is Shoemake's slerp applied to z_a and z_b themselves: here its norm is "
                                  "{norm:.2f} where the path needs {needed}. Apply the sine weights to the unit "
                                  "vectors, then multiply by the interpolated norm.", norm=arc(t, z_a, z_b).norm(),
                                  needed=needed)),
            (arc(t), tr("your point is a unit vector: you found the direction on the great circle but did not "
                        "multiply it by the interpolated norm.")),
            (arc(t) * z_a.norm() ** (1 - t) * z_b.norm() ** t,
             tr("the direction is right but the norm is interpolated geometrically; the path's norm must change "
                "linearly from |z_a| to |z_b|.")),
            (arc(t) * (t * z_a.norm() + (1 - t) * z_b.norm()),
             tr("the direction is right but the norm runs backwards: at t = 0 it must be |z_a|, at t = 1 |z_b|.")),
            (torch.sin((1 - t) * omega) * u_a * norm + torch.sin(t * omega) * u_b * norm,
             tr("the division by sin(w) is missing, so the path does not start at z_a and end at z_b.")),
            (chord / chord.norm() * norm, tr("the norm is right, but you normalised the straight line between the "
                                             "unit vectors: that direction is on the great circle but does not move "
                                             "at constant angular speed. Use the sine weights.")),
        ]
        if isinstance(answer, Tensor) and answer.shape == reference.shape and not torch.isfinite(answer).all():
            return _fail(tr("at t = {t}: slerp_fn returned NaN or inf. The arc cosine needs a cosine in [-1, 1]: did "
                            "you divide the dot product by both norms, and is the angle w you divide by nonzero?",
                            t=t), SLERP_HINT, hint)
        wrong = _diagnose(answer, reference, mistakes, "slerp_fn")
        if wrong:
            return _fail(Problem(tr("at t = {t}: {problem}", t=t, problem=wrong.message), wrong.detail),
                         SLERP_HINT, hint)
    return _conclude(None, tr("your path starts at z_a, ends at z_b, turns along the great circle at constant "
                              "speed, and its norm changes linearly from |z_a| to |z_b|."))


def _class_codes(
    model: torch.nn.Module, labels: Tensor, from_label: int, to_label: int
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """The posterior means under ``model`` of the binarized test images (``binarized_test_set``, seed 0) of
    the two classes, averaged and summed over each class: (mean_from, mean_to, sum_from, sum_to), each
    (d,)."""
    mu, _ = posterior_means_and_logvars(model, binarized_test_set(seed=0))
    mu_from, mu_to = mu[labels == from_label], mu[labels == to_label]
    return mu_from.mean(0), mu_to.mean(0), mu_from.sum(0), mu_to.sum(0)


DIRECTION_HINT = Hint(
    section("04", 5, "Exercise 2: the direction from 1 to 7"),
    N_("A direction is the difference of two positions: the average code of the 7s minus the average code of the "
       "1s. Select the posterior means of the test images of each class, average each selection over its images "
       "(the first axis), then subtract. The result has one number per latent dimension."),
)


def check_class_direction(direction: object, model: torch.nn.Module, from_label: int = 1, to_label: int = 7,
                          hint: int = 1) -> None:
    """Exercise (notebook 04): ``direction`` (d,) is the mean posterior mean of the test images labelled
    ``to_label`` minus that of the images labelled ``from_label``, for ``model``'s encoder. The encoder sees the
    test images binarized once with seed 0, ``vae_lesson.data.binarized_test_set(seed=0)``, as in notebooks 03
    and 04 (the models were trained on binary images). ``hint=2`` gives a more specific hint."""
    if _unsolved(direction):
        return _fail(tr(UNSOLVED), DIRECTION_HINT, hint)
    _, y = load_mnist("test")
    codes, error = _call(_class_codes, model, y, from_label, to_label, culprit=N_("the model"))
    if error:
        return _fail(error + " " + tr("Pass the trained VAE that the check cell names, whose encoder gives the "
                                      "posterior means."), None)
    mean_from, mean_to, sum_from, sum_to = codes
    reference = mean_to - mean_from
    if not isinstance(direction, Tensor):
        return _fail(tr("direction must be a torch tensor, got {type}.", type=type(direction).__name__),
                     DIRECTION_HINT, hint)
    answer = direction.detach().to(reference.dtype)
    if answer.shape != reference.shape:
        fields = {"expected": tuple(reference.shape), "got": tuple(answer.shape)}
        return _fail(tr("wrong shape: expected {expected} (one number per latent dimension), got {got}: did you "
                        "average over the images (the first axis)?", **fields) if answer.dim() == 2 else
                     tr("wrong shape: expected {expected} (one number per latent dimension), got {got}.", **fields),
                     DIRECTION_HINT, hint)
    if not torch.isfinite(answer).all():
        return _fail(tr("direction contains NaN or inf: is one of the class selections empty?"), DIRECTION_HINT, hint)
    if torch.allclose(answer, -reference, rtol=1e-4, atol=1e-5):
        return _fail(tr("the sign is flipped: your direction points from {to_label} to {from_label}; it must point "
                        "from the {from_label}s to the {to_label}s.", from_label=from_label, to_label=to_label),
                     DIRECTION_HINT, hint)
    if torch.allclose(answer, sum_to - sum_from, rtol=1e-4, atol=1e-3):
        return _fail(tr("that is a difference of sums over {count_to} and {count_from} images: each class's codes "
                        "must be averaged, not summed.", count_to=(y == to_label).sum(),
                        count_from=(y == from_label).sum()), DIRECTION_HINT, hint)
    if torch.allclose(answer, mean_to, rtol=1e-4, atol=1e-5):
        return _fail(tr("that is the {to_label}s' mean code itself, a position, not a direction: the {from_label}s' "
                        "mean code is missing.", from_label=from_label, to_label=to_label), DIRECTION_HINT, hint)
    if not torch.allclose(answer, reference, rtol=1e-3, atol=1e-4):
        relation = _relation(answer, reference, rtol=1e-4, atol=1e-5)
        if relation:
            return _fail(relation, DIRECTION_HINT, hint)
        cosine = torch.nn.functional.cosine_similarity(answer, reference, dim=0).item()
        return _fail(tr("your direction differs from the reference (cosine similarity {cosine:.2f}, length "
                        "{length:.2f} against {reference:.2f}): use the posterior means (the first output of the "
                        "model's encoder) of all test images of each class, binarized once with seed 0 as in the "
                        "notebook.", cosine=cosine, length=answer.norm(), reference=reference.norm()),
                     DIRECTION_HINT, hint)
    return _conclude(None, tr("from the average {from_label} to the average {to_label} is a step of length "
                              "{length:.2f} in latent space.", from_label=from_label, to_label=to_label,
                              length=reference.norm()))
