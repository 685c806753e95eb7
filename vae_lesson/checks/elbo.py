"""Checkers of notebook 01's exercises (``notebooks/01_elbo.ipynb``): the VAE's KL term in closed form, the
Monte Carlo ELBO, the q that closes the gap, and the sign of the gap."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor
from torch.distributions import MultivariateNormal

from vae_lesson.checks._verdict import (
    F64,
    UNSOLVED,
    _call,
    _check_choice,
    _conclude,
    _diagnose,
    _unsolved,
    report,
)
from vae_lesson.divergences import kl_diag_normal_std_normal
from vae_lesson.linear_gaussian import LinearGaussianModel


def check_kl_diag(kl_fn: Callable[[Tensor, Tensor], Tensor]) -> None:
    """Exercise (notebook 01): ``kl_fn(mu, logvar)`` must return KL(N(mu, diag exp(logvar)) || N(0, I)), shape (N,)."""
    g = torch.Generator().manual_seed(1)
    mu, logvar = torch.randn(2, 6, 4, generator=g, dtype=F64)
    answer, error = _call(kl_fn, mu.clone(), logvar.clone())
    if error:
        return report(False, error + " Hint: use the closed form of KL(N(mu, sigma^2) || N(0, 1)) derived in "
                                     "notebook 01, section 7, written with logvar, summed over the latent "
                                     "dimensions.")
    ref = kl_diag_normal_std_normal(mu, logvar)
    per_dim = 0.5 * (mu**2 + logvar.exp() - 1 - logvar)
    d = mu.shape[-1]
    mistakes = [
        (per_dim, "you returned one KL per latent dimension, shape (N, d): sum over the latent dimensions with .sum(-1)."),
        (ref.sum(), "you summed over the batch too: return one KL per example, shape (N,), by summing over dim=-1 only."),
        (ref.mean(), "you averaged over the batch: return one KL per example, shape (N,), by summing over dim=-1 only."),
        (per_dim.mean(-1), "you averaged over the latent dimensions: the KL of independent dimensions is their sum (d times larger)."),
        (-ref, "the sign is flipped: a KL is never negative; compare the sign of each term with the closed "
               "form in notebook 01, section 7."),
        (2 * ref, "your answer is twice too large: the formula has a factor 0.5 in front."),
        (ref / 2, "your answer is half the right value: the factor 0.5 appears once, not twice."),
        (ref + 0.5 * d, "you left out the -1 inside the sum (your answer is d/2 too large)."),
        (0.5 * (mu**2 + (0.5 * logvar).exp() - 1 - 0.5 * logvar).sum(-1),
         "you used σ where the formula has σ² = exp(logvar): logvar is the log of the variance."),
        (0.5 * (mu**2 + logvar.exp() - 1 - logvar.exp().log1p()).sum(-1),
         "the last term is -log σ² = -logvar itself, no further log needed."),
    ]
    _conclude(_diagnose(answer, ref, mistakes, "kl_fn"),
              "Your KL matches the closed form, one value per example, never negative.")


def check_elbo_mc(elbo_mc_fn: Callable[[LinearGaussianModel, Tensor, MultivariateNormal, Tensor], Tensor]) -> None:
    """Exercise (notebook 01): ``elbo_mc_fn(model, x, q, z)``, given samples z (S, N, d) from q, returns the
    Monte Carlo ELBO, the mean over samples of log p(x, z) - log q(z), shape (N,)."""
    g = torch.Generator().manual_seed(2)
    model = LinearGaussianModel.random(4, 2, noise_std=0.6, generator=g)
    x = model.sample(3, generator=g)
    q_mean = torch.randn(3, 2, generator=g, dtype=F64)
    q = MultivariateNormal(q_mean, 0.3 * torch.eye(2, dtype=F64))
    z = q_mean + 0.3**0.5 * torch.randn(50, 3, 2, generator=g, dtype=F64)
    answer, error = _call(elbo_mc_fn, model, x, q, z)
    if error:
        return report(False, error + " Hint: the ELBO is the average over samples z ~ q of log p(x, z) - log q(z); "
                                     "the model and q each have a method for their log-density (notebook 01, "
                                     "section 2).")
    joint, log_q = model.log_joint(x, z), q.log_prob(z)
    single = joint - log_q
    ref = single.mean(0)
    mistakes = [
        (single, "you returned one estimate per sample, shape (S, N): average over the samples with .mean(0)."),
        (single.mean(), "you averaged over the examples too: return one ELBO per example, shape (N,), with .mean(0)."),
        (single.mean(1), "you averaged over the wrong axis: samples are along dim 0, examples along dim 1."),
        (single.sum(0), "you summed over the samples: a Monte Carlo estimate is their mean (yours is S times too large)."),
        (joint.mean(0), "you left out -log q(z): without it you estimate E_q[log p(x, z)], which is not the ELBO."),
        ((joint + log_q).mean(0), "log q(z) must be subtracted, not added: ELBO = E_q[log p(x, z) - log q(z)]."),
        (-ref, "the sign is flipped: the ELBO is E_q[log p(x, z) - log q(z)], a lower bound on log p(x)."),
        ((model.log_likelihood(x, z) - log_q).mean(0),
         "you used log p(x | z) where the formula needs log p(x, z) = log p(x | z) + log p(z): the prior term is missing."),
    ]
    _conclude(_diagnose(answer, ref, mistakes, "elbo_mc_fn"),
              "Your estimator averages log p(x, z) - log q(z) over the samples, one ELBO per example.")


POSTERIOR_HINT = "Hint: the model can give you its exact posterior (notebook 01, section 3)."


def check_zero_gap_q(model: LinearGaussianModel, x: Tensor, q_mean: object, q_cov: object) -> None:
    """Exercise (notebook 01): choose q = N(q_mean, q_cov) for which the ELBO of x equals log p(x) exactly."""
    if _unsolved(q_mean, q_cov):
        return report(False, UNSOLVED)
    posterior, error = _call(lambda: tuple(model.posterior(x)), culprit="the model")
    if error:
        return report(False, error + " Pass the check cell's model and x: the 2-D model of section 3 and its "
                                     "data.")
    post_mean, post_cov = posterior
    n, d = post_mean.shape
    if not isinstance(q_mean, Tensor) or not isinstance(q_cov, Tensor):
        return report(False, "q_mean and q_cov must be torch tensors.")
    if q_mean.shape != (n, d) or q_cov.shape not in {(d, d), (n, d, d)}:
        return report(False, f"q_mean must have shape ({n}, {d}) and q_cov ({d}, {d}); "
                             f"got {tuple(q_mean.shape)} and {tuple(q_cov.shape)}.")
    q_mean, q_cov = q_mean.to(F64), q_cov.to(F64)
    mean_ok = torch.allclose(q_mean, post_mean, atol=1e-6)
    cov_ok = torch.allclose(q_cov, post_cov.expand_as(q_cov), atol=1e-6)
    if mean_ok and cov_ok:
        gap = (model.log_marginal(x) - model.elbo(x, q_mean, q_cov)).abs().max().item()
        return report(True, f"q is the exact posterior p(z|x), so the gap log p(x) - ELBO = KL is zero (here {gap:.1e}).")
    if torch.allclose(q_mean, torch.zeros_like(q_mean)) and torch.allclose(q_cov, torch.eye(d, dtype=F64)):
        return report(False, "that q is the prior p(z) = N(0, I); the gap closes at the posterior p(z|x), "
                             "which has seen x. " + POSTERIOR_HINT)
    if mean_ok:
        return report(False, "the mean is right but the covariance is not: the posterior covariance is "
                             "(I + WᵀW / σ²)⁻¹, narrower than the prior's.")
    if cov_ok:
        return report(False, "the covariance is right but the mean is not: the posterior mean is Σ Wᵀ (x - b) / σ².")
    return report(False, "neither the mean nor the covariance is the posterior's; the gap is the KL to p(z|x), "
                         "so q must equal p(z|x). " + POSTERIOR_HINT)


GAP_SIGN_FEEDBACK = {
    "positive": (True, "log p(x) - ELBO = KL(q || p(z|x)) > 0 for every q that differs from the posterior."),
    "negative": (False, "a negative gap would make the ELBO larger than log p(x); the gap is a KL, and a KL is never negative."),
    "zero": (False, "the gap is zero only when q is exactly the posterior p(z|x); any other q leaves a positive KL."),
    "either": (False, "the sign is always the same: the gap equals KL(q || p(z|x)), which Gibbs' inequality makes ≥ 0."),
}


def check_gap_sign(answer: str) -> None:
    """Exercise (notebook 01): predict the sign of log p(x) - ELBO for a q that is not the posterior."""
    _check_choice(answer, GAP_SIGN_FEEDBACK)
