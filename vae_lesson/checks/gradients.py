"""Checkers of notebook 02's exercises (``notebooks/02_gradients.ipynb``): the reparameterized sample, the
score-function estimator and the optimal baseline."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from vae_lesson.checks._verdict import F64, _call, _close, _conclude, _diagnose, report
from vae_lesson.estimators import optimal_baseline

SIGMA_HINT = "the exercise defines logvar = log sigma²; solve that for sigma."


def check_reparam_sample(sample_fn: Callable[[Tensor, Tensor, Tensor], Tensor]) -> None:
    """Exercise (notebook 02): ``sample_fn(mu, logvar, eps)`` returns z = mu + exp(logvar / 2) * eps, with gradients
    flowing to mu and logvar."""
    g = torch.Generator().manual_seed(3)
    mu = torch.randn(5, 3, generator=g, dtype=F64).requires_grad_(True)
    logvar = torch.randn(5, 3, generator=g, dtype=F64).requires_grad_(True)
    eps = torch.randn(5, 3, generator=g, dtype=F64)
    answer, error = _call(sample_fn, mu, logvar, eps)
    if error:
        return report(False, error + " Hint: turn the standard normal noise eps into a sample of N(mu, sigma^2), "
                                     "with sigma computed from logvar (notebook 02, section 3).")
    with torch.no_grad():
        std = (0.5 * logvar).exp()
        ref = mu + std * eps
        mistakes = [
            (mu + logvar.exp() * eps, "you scaled eps by the variance exp(logvar), where z needs the "
                                      "standard deviation sigma: " + SIGMA_HINT),
            (mu + logvar * eps, "logvar is the log of the variance, not the standard deviation: "
                                + SIGMA_HINT),
            (mu + (0.5 * logvar) * eps, "you scaled eps by logvar / 2 = log sigma, a log, not sigma itself: "
                                        + SIGMA_HINT),
            (std * eps, "you left out the mean: z = mu + sigma * eps."),
            (mu * std * eps, "the mean is added, not multiplied: z = mu + sigma * eps."),
        ]
    if isinstance(answer, Tensor) and _close(answer.detach(), mu.detach() - std * eps):
        mirrored = True
    else:
        problem = _diagnose(answer.detach() if isinstance(answer, Tensor) else answer, ref, mistakes, "sample_fn")
        if problem:
            if isinstance(answer, Tensor) and answer.shape == ref.shape and not _close(answer.detach(), ref):
                problem += " (Use the eps that is passed in; drawing new noise inside gives different values.)"
            return report(False, problem)
        mirrored = False
    if answer.grad_fn is None:
        return report(False, "the values are right but no gradient can flow: your z is detached from mu and logvar "
                             "(.detach(), .sample(), torch.no_grad() or a NumPy round trip cut the graph).")
    grad_mu, grad_logvar = torch.autograd.grad(answer.sum(), (mu, logvar), allow_unused=True)
    if grad_mu is None or grad_logvar is None or not grad_mu.abs().sum() > 0 or not grad_logvar.abs().sum() > 0:
        return report(False, "the values are right but the gradient to mu or logvar is zero or missing; "
                             "build z from mu and logvar with differentiable torch operations.")
    note = " (With -sigma * eps, which works too: eps and -eps have the same distribution.)" if mirrored else ""
    return report(True, "z = mu + sigma * eps, and gradients reach both mu and logvar." + note)


SCORE_HINT = "notebook 02, section 2 derives the score of the mean, d/dmu log N(x; mu, sigma²)."


def check_score_grad_mu(score_fn: Callable[[Callable, Tensor, Tensor, Tensor], Tensor]) -> None:
    """Exercise (notebook 02): ``score_fn(f, mu, sigma, eps)`` returns the per-sample score-function estimates of
    d/dmu E[f(x)], f(x_s) (x_s - mu) / sigma^2 with x_s = mu + sigma * eps_s, shape (S,)."""
    g = torch.Generator().manual_seed(4)
    mu, sigma = torch.tensor(0.7, dtype=F64), torch.tensor(1.6, dtype=F64)
    eps = torch.randn(1000, generator=g, dtype=F64)
    f = lambda x: torch.cos(2 * x) + x  # noqa: E731
    answer, error = _call(score_fn, f, mu, sigma, eps)
    if error:
        return report(False, error + " Hint: the score-function estimate is f(x) times the derivative of log N(x; "
                                     "mu, sigma^2) with respect to mu, at samples x drawn with eps (notebook 02, "
                                     "section 2).")
    x = mu + sigma * eps
    ref = f(x) * (x - mu) / sigma**2
    mistakes = [
        (f(x) * (x - mu) / sigma, "you divided by sigma once; the score of the mean divides by sigma²: "
                                  + SCORE_HINT),
        (f(x) * (x - mu), "you left out the division by sigma² in the score of the mean: " + SCORE_HINT),
        (-ref, "the sign is flipped: check the sign of the score of the mean; " + SCORE_HINT),
        ((x - mu) / sigma**2, "you returned the score alone: it must be multiplied by f(x) (its mean is zero, "
                              "which is what makes baselines possible)."),
        (-2 * torch.sin(2 * x) + 1, "that is f'(x), the reparameterization estimator; the score-function estimator "
                                    "multiplies f(x) by the score instead, and needs no derivative of f."),
        (ref.mean(), "you averaged: return one estimate per sample, shape (S,); the estimate is their mean."),
        (f(eps) * eps, "evaluate f at the samples x = mu + sigma * eps, not at eps."),
    ]
    _conclude(_diagnose(answer, ref, mistakes, "score_fn"),
              "f(x) (x - mu) / sigma² per sample: unbiased, and no derivative of f needed.")


def check_optimal_baseline(baseline_fn: Callable[[Tensor, Tensor], Tensor]) -> None:
    """Exercise (notebook 02): ``baseline_fn(values, score)`` returns b* = E[f s²] / E[s²] estimated from
    per-sample values f (S,) and scores s (S,), a 0-d tensor."""
    g = torch.Generator().manual_seed(5)
    eps = torch.randn(5000, generator=g, dtype=F64)
    values, score = (1.5 + eps) ** 2 + 3.0, eps
    answer, error = _call(baseline_fn, values.clone(), score.clone())
    if error:
        return report(False, error + " Hint: the variance-minimising constant baseline is a ratio of two averages "
                                     "over the samples; its derivation is in notebook 02, sections 2 and 4.")
    ref = optimal_baseline(values, score)  # the package's b*, taught in notebook 02
    mistakes = [
        (values.mean(), "that is the mean of f: a good, common baseline, but not the variance-minimising one; "
                        "weight each f by s², b* = E[f s²] / E[s²]."),
        ((values * score).mean() / score.mean(), "you weighted by s instead of s²; minimising E[(f - b)² s²] gives weights s²."),
        ((values * score**2).mean(), "you forgot to divide by E[s²]."),
        ((values * score**2).sum() / (score**2).mean(), "you summed f s² but averaged s²: use the mean in both, or the sum in both."),
        ((values * score**2).mean() / score.mean() ** 2, "the denominator is E[s²], the mean of the squares, not the square of the mean."),
    ]
    if isinstance(answer, Tensor) and answer.numel() == 1:
        answer = answer.reshape(())
    _conclude(_diagnose(answer, ref, mistakes, "baseline_fn"),
              "b* = E[f s²] / E[s²], the constant that minimises the variance of (f - b) s.")
