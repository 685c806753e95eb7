"""Checkers of notebook 02's exercises (``notebooks/02_gradients.ipynb``): the reparameterized sample, the
score-function estimator and the optimal baseline."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from vae_lesson.checks._verdict import (
    F64,
    Hint,
    _call,
    _close,
    _conclude,
    _detached,
    _diagnose,
    _fail,
    _judge,
    section,
)
from vae_lesson.estimators import optimal_baseline
from vae_lesson.i18n import N_, tr

REPARAM_HINT = Hint(
    section("02", 3, "The reparameterization trick") + N_(", its first equation"),
    N_("z is the mean shifted by the noise eps times the standard deviation σ. The encoder gives logvar = log σ², "
       "not σ: solve that for σ (an exponential and a square root). Build z from mu, logvar and the eps passed in "
       "with torch operations, so that gradients reach mu and logvar."),
)
SIGMA = N_("logvar = log σ² is the log of the variance; solve it for σ. The variance and σ differ by a square root, "
           "and undoing a log takes an exponential.")


def check_reparam_sample(sample_fn: Callable[[Tensor, Tensor, Tensor], Tensor], hint: int = 1) -> None:
    """Exercise (notebook 02): ``sample_fn(mu, logvar, eps)`` returns z = mu + exp(logvar / 2) * eps, with gradients
    flowing to mu and logvar. ``hint=2`` gives a more specific hint."""
    g = torch.Generator().manual_seed(3)
    mu = torch.randn(5, 3, generator=g, dtype=F64).requires_grad_(True)
    logvar = torch.randn(5, 3, generator=g, dtype=F64).requires_grad_(True)
    eps = torch.randn(5, 3, generator=g, dtype=F64)
    answer, error = _call(sample_fn, mu, logvar, eps)
    if error:
        return _fail(error, REPARAM_HINT, hint)
    with torch.no_grad():
        std = (0.5 * logvar).exp()
        ref = mu + std * eps
        sigma = tr(SIGMA)
        mistakes = [
            (mu + logvar.exp() * eps, tr("you scaled eps by the variance, where z needs the standard deviation σ."),
             sigma),
            (mu + logvar * eps, tr("you scaled eps by logvar itself: logvar is the log of the variance, not the "
                                   "standard deviation."), sigma),
            (mu + (0.5 * logvar) * eps, tr("you scaled eps by logvar / 2 = log σ, a log, not σ itself."), sigma),
            (std * eps, tr("you left out the mean: z must be centred on mu.")),
            (mu * std * eps, tr("the mean is added to the scaled noise, not multiplied with it.")),
        ]
    if isinstance(answer, Tensor) and _close(answer.detach(), mu.detach() - std * eps):
        note = " " + tr("(With -sigma * eps, which works too: eps and -eps have the same distribution.)")
    else:
        problem = _diagnose(answer, ref, mistakes, "sample_fn",
                            fallback=tr("Use the eps that is passed in: drawing new noise inside gives different "
                                        "values."))
        if problem:
            return _fail(problem, REPARAM_HINT, hint)
        note = ""
    detached = _detached(answer, tr("mu and logvar"))
    if detached:
        return _fail(detached, REPARAM_HINT, hint)
    grad_mu, grad_logvar = torch.autograd.grad(answer.sum(), (mu, logvar), allow_unused=True)
    if grad_mu is None or grad_logvar is None or not grad_mu.abs().sum() > 0 or not grad_logvar.abs().sum() > 0:
        return _fail(tr("the values are right but the gradient to mu or logvar is zero or missing; build z from mu "
                        "and logvar with differentiable torch operations."), REPARAM_HINT, hint)
    return _conclude(None, tr("z = mu + sigma * eps, and gradients reach both mu and logvar.") + note)


SCORE_HINT = Hint(
    section("02", 2, "The score-function estimator (REINFORCE)") + N_(", the equation for the scores"),
    N_("Each sample's estimate is the value of f at that sample times the score of the mean, the derivative of "
       "log N(x; mu, sigma²) with respect to mu that section 2 gives. Build the samples from mu, sigma and eps as the "
       "exercise says, and return one estimate per sample, shape (S,), without averaging."),
)
SIGMA_POWER = N_("The score of the mean has the variance sigma² in its denominator, not the standard deviation "
                 "sigma.")


def check_score_grad_mu(score_fn: Callable[[Callable, Tensor, Tensor, Tensor], Tensor], hint: int = 1) -> None:
    """Exercise (notebook 02): ``score_fn(f, mu, sigma, eps)`` returns the per-sample score-function estimates of
    d/dmu E[f(x)], f(x_s) (x_s - mu) / sigma^2 with x_s = mu + sigma * eps_s, shape (S,). ``hint=2`` gives a more
    specific hint."""
    g = torch.Generator().manual_seed(4)
    mu, sigma = torch.tensor(0.7, dtype=F64), torch.tensor(1.6, dtype=F64)
    eps = torch.randn(1000, generator=g, dtype=F64)
    f = lambda x: torch.cos(2 * x) + x  # noqa: E731
    answer, error = _call(score_fn, f, mu, sigma, eps)
    if error:
        return _fail(error, SCORE_HINT, hint)
    x = mu + sigma * eps
    ref = f(x) * (x - mu) / sigma**2
    sigma_power = tr(SIGMA_POWER)
    mistakes = [
        (f(x) * (x - mu) / sigma, tr("off by a factor sigma: yours is sigma times the right value. Check the power "
                                     "of sigma in the score of the mean."), sigma_power),
        (f(x) * (x - mu), tr("off by a factor sigma²: the division by sigma² in the score of the mean is missing."),
         sigma_power),
        (-ref, tr("the sign is flipped: check the sign of the score of the mean.")),
        ((x - mu) / sigma**2, tr("you returned the score alone: each score must be multiplied by the value of f at "
                                 "that sample (the score's mean is zero, which is what makes baselines possible).")),
        (-2 * torch.sin(2 * x) + 1, tr("that is f'(x), the reparameterization estimator; the score-function "
                                       "estimator multiplies f(x) by the score instead, and needs no derivative of "
                                       "f.")),
        (ref.mean(), tr("you averaged: return one estimate per sample; the estimate is their mean.")),
        (f(eps) * eps, tr("you evaluated f at the noise eps: evaluate it at the samples x, built from mu, sigma and "
                          "eps as the exercise says.")),
    ]
    _judge(answer, ref, mistakes, "score_fn", tr("f(x) (x - mu) / sigma² per sample: unbiased, and no derivative of "
           "f needed."), SCORE_HINT, hint, known={"sigma": sigma.item(), "sigma²": sigma.item() ** 2})


BASELINE_HINT = Hint(
    section("02", 2, "The score-function estimator (REINFORCE)") + N_(", the equation for b* under \"Baselines\""),
    N_("b* is a ratio of two averages over the samples: on top each value of f is weighted by its squared score, "
       "below are the squared scores alone. Use the mean in both (or the sum in both), and return a single number, "
       "a 0-d tensor."),
)


def check_optimal_baseline(baseline_fn: Callable[[Tensor, Tensor], Tensor], hint: int = 1) -> None:
    """Exercise (notebook 02): ``baseline_fn(values, score)`` returns b* = E[f s²] / E[s²] estimated from
    per-sample values f (S,) and scores s (S,), a 0-d tensor. ``hint=2`` gives a more specific hint."""
    g = torch.Generator().manual_seed(5)
    eps = torch.randn(5000, generator=g, dtype=F64)
    values, score = (1.5 + eps) ** 2 + 3.0, eps
    answer, error = _call(baseline_fn, values.clone(), score.clone())
    if error:
        return _fail(error, BASELINE_HINT, hint)
    ref = optimal_baseline(values, score)  # the package's b*, taught in notebook 02
    mistakes = [
        (values.mean(), tr("that is the mean of f: a good, common baseline, but not the variance-minimising one: "
                           "each value of f must be weighted by its squared score.")),
        ((values * score).mean() / score.mean(), tr("you weighted by s instead of s²; minimising the variance gives "
                                                    "weights s².")),
        ((values * score**2).mean(), tr("the division by the average of the squared scores is missing.")),
        ((values * score**2).sum() / (score**2).mean(), tr("off by a factor S = {samples}: you summed on top but "
                                                           "averaged below. Use the mean in both, or the sum in "
                                                           "both.", samples=len(eps))),
        ((values * score**2).mean() / score.mean() ** 2, tr("the denominator is the mean of the squares s², not the "
                                                            "square of the mean of s.")),
    ]
    if isinstance(answer, Tensor) and answer.numel() == 1:
        answer = answer.reshape(())
    _judge(answer, ref, mistakes, "baseline_fn", tr("b* = E[f s²] / E[s²], the constant that minimises the variance "
           "of (f - b) s."), BASELINE_HINT, hint, known={tr("S, the number of samples"): len(eps)})
