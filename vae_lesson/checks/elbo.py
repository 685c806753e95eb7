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
    Hint,
    Problem,
    _call,
    _check_choice,
    _fail,
    _judge,
    _relation,
    _unsolved,
    report,
    section,
)
from vae_lesson.divergences import kl_diag_normal_std_normal
from vae_lesson.i18n import N_, tr
from vae_lesson.linear_gaussian import LinearGaussianModel

KL_HINT = Hint(
    section("01", 7, "The KL term of a VAE, in closed form") + N_(", its last equation"),
    N_("For each latent dimension the KL has four terms: the squared mean, the variance, minus one, and minus the log "
       "of the variance; halve their sum. logvar is already the log of the variance, so the variance is its "
       "exponential. Then add up the latent dimensions (the last axis of mu), which leaves one number per example."),
)
KL_SUM = N_("The KL of independent dimensions is the sum of their KLs: reduce the last axis only, one KL per "
            "example.")


def check_kl_diag(kl_fn: Callable[[Tensor, Tensor], Tensor], hint: int = 1) -> None:
    """Exercise (notebook 01): ``kl_fn(mu, logvar)`` must return KL(N(mu, diag exp(logvar)) || N(0, I)), shape (N,),
    differentiable in mu and logvar. ``hint=2`` gives a more specific hint."""
    g = torch.Generator().manual_seed(1)
    mu, logvar = torch.randn(2, 6, 4, generator=g, dtype=F64)
    answer, error = _call(kl_fn, mu.clone().requires_grad_(True), logvar.clone().requires_grad_(True))
    if error:
        return _fail(error, KL_HINT, hint)
    ref = kl_diag_normal_std_normal(mu, logvar)
    per_dim = 0.5 * (mu**2 + logvar.exp() - 1 - logvar)
    d = mu.shape[-1]
    kl_sum = tr(KL_SUM)
    mistakes = [
        (per_dim, tr("you returned one KL per latent dimension; the sum over the latent dimensions (the last axis) "
                     "is missing."), kl_sum),
        (per_dim.sum(0), tr("you summed over the examples (the first axis) instead of the latent dimensions (the "
                            "last axis)."), kl_sum),
        (ref.sum(), tr("you summed over the examples too: one KL per example must remain."), kl_sum),
        (ref.mean(), tr("you averaged over the examples: one KL per example must remain."), kl_sum),
        (per_dim.mean(-1), tr("you averaged over the latent dimensions, so yours is d = {d} times too small: the KL "
                              "of independent dimensions is their sum, not their mean.", d=d), kl_sum),
        (-ref, tr("the sign is flipped: a KL is never negative. Compare the sign of each of your terms with the "
                  "closed form.")),
        (2 * ref, tr("off by a constant factor: yours is twice the right value. Look at the constant in front of "
                     "the sum.")),
        (ref / 2, tr("off by a constant factor: yours is half the right value. Is the constant in front applied "
                     "twice?")),
        (ref + 0.5 * d, tr("off by a constant: yours is d/2 = {half:g} larger than the right value for every "
                           "example. Of the four terms per dimension, the constant one is missing.", half=d / 2)),
        (0.5 * (mu**2 + (0.5 * logvar).exp() - 1 - 0.5 * logvar).sum(-1),
         tr("you used σ where the formula has the variance σ²: logvar is the log of the variance, not of the "
            "standard deviation.")),
        (0.5 * (mu**2 + logvar.exp() - 1 - logvar.exp().log1p()).sum(-1),
         tr("the last term is minus the log of the variance, which is logvar itself: no further log is needed.")),
    ]
    known = {tr("d, the number of latent dimensions"): d, tr("N, the number of examples"): mu.shape[0]}
    _judge(answer, ref, mistakes, "kl_fn",
           tr("Your KL matches the closed form, one value per example, never negative."),
           KL_HINT, hint, known=known, grad_from=tr("mu and logvar"))


ELBO_HINT = Hint(
    section("01", 2, "Route (a): an identity") + N_(", the equation that names the ELBO"),
    N_("The ELBO of one example is an average over the S samples of z (the first axis of z) of two log-densities: "
       "the model's joint log-density of x and z, minus q's log-density of z. The exercise's statement names the two "
       "methods that give them. Average over the samples only, so that one value per example remains."),
)


def check_elbo_mc(elbo_mc_fn: Callable[[LinearGaussianModel, Tensor, MultivariateNormal, Tensor], Tensor],
                  hint: int = 1) -> None:
    """Exercise (notebook 01): ``elbo_mc_fn(model, x, q, z)``, given samples z (S, N, d) from q, returns the
    Monte Carlo ELBO, the mean over samples of log p(x, z) - log q(z), shape (N,). ``hint=2`` gives a more specific
    hint."""
    g = torch.Generator().manual_seed(2)
    model = LinearGaussianModel.random(4, 2, noise_std=0.6, generator=g)
    x = model.sample(3, generator=g)
    q_mean = torch.randn(3, 2, generator=g, dtype=F64)
    q = MultivariateNormal(q_mean, 0.3 * torch.eye(2, dtype=F64))
    z = q_mean + 0.3**0.5 * torch.randn(50, 3, 2, generator=g, dtype=F64)
    answer, error = _call(elbo_mc_fn, model, x, q, z)
    if error:
        return _fail(error, ELBO_HINT, hint)
    joint, log_q = model.log_joint(x, z), q.log_prob(z)
    single = joint - log_q
    ref = single.mean(0)
    mistakes = [
        (single, tr("you returned one estimate per sample: the average over the samples (dimension 0) is missing.")),
        (single.mean(), tr("you averaged over the examples too: one ELBO per example must remain.")),
        (single.mean(1), tr("you averaged over the wrong axis: the samples are along dimension 0, the examples along "
                            "dimension 1.")),
        (single.sum(0), tr("you summed over the samples, so yours is S = {samples} times too large: a Monte Carlo "
                           "estimate is their mean.", samples=z.shape[0])),
        (joint.mean(0), tr("the log q(z) term is missing: without it you estimate the expected log joint density, "
                           "which is not the ELBO.")),
        ((joint + log_q).mean(0), tr("the log q(z) term has the wrong sign: the ELBO subtracts it.")),
        (-ref, tr("the sign is flipped: yours is the negative of the ELBO, a lower bound on log p(x).")),
        ((model.log_likelihood(x, z) - log_q).mean(0),
         tr("you used log p(x | z) where the ELBO needs the joint log p(x, z) = log p(x | z) + log p(z): the prior "
            "term is missing.")),
    ]
    _judge(answer, ref, mistakes, "elbo_mc_fn",
           tr("Your estimator averages log p(x, z) - log q(z) over the samples, one ELBO per example."), ELBO_HINT,
           hint, known={tr("S, the number of samples"): z.shape[0]})


POSTERIOR_HINT = Hint(
    section("01", 3, "A model where everything is exact: probabilistic PCA") + N_(", the equation for p(z|x)"),
    N_("The gap log p(x) - ELBO is the KL divergence from q to the posterior p(z|x) (section 2), and a KL is zero only "
       "between equal distributions. Section 3 derives the posterior's mean and covariance for this model, and says "
       "which class implements those formulas."),
)


def _wrong_part(answer: Tensor, reference: Tensor, which: str) -> str:
    """What is wrong with the mean or the covariance of q, if it relates simply to the posterior's: a sentence
    after a space, from ``which`` (English, with a field ``{relation}``), or ''."""
    relation = _relation(answer, reference.expand_as(answer), rtol=1e-6, atol=1e-6)
    return " " + tr(which, relation=relation) if relation else ""


def check_zero_gap_q(model: LinearGaussianModel, x: Tensor, q_mean: object, q_cov: object, hint: int = 1) -> None:
    """Exercise (notebook 01): choose q = N(q_mean, q_cov) for which the ELBO of x equals log p(x) exactly.
    ``hint=2`` gives a more specific hint."""
    if _unsolved(q_mean, q_cov):
        return _fail(tr(UNSOLVED), POSTERIOR_HINT, hint)
    posterior, error = _call(lambda: tuple(model.posterior(x)), culprit=N_("the model"))
    if error:
        return _fail(error + " " + tr("Pass the check cell's model and x: the 2-D model of section 3 and its data."),
                     None)
    post_mean, post_cov = posterior
    n, d = post_mean.shape
    if not isinstance(q_mean, Tensor) or not isinstance(q_cov, Tensor):
        return _fail(tr("q_mean and q_cov must be torch tensors, got {mean_type} and {cov_type}.",
                        mean_type=type(q_mean).__name__, cov_type=type(q_cov).__name__), POSTERIOR_HINT, hint)
    if q_mean.shape != (n, d) or q_cov.shape not in {(d, d), (n, d, d)}:
        return _fail(tr("wrong shape: q_mean must have shape ({n}, {d}) and q_cov ({d}, {d}); got {mean_shape} and "
                        "{cov_shape}.", n=n, d=d, mean_shape=tuple(q_mean.shape), cov_shape=tuple(q_cov.shape)),
                     POSTERIOR_HINT, hint)
    q_mean, q_cov = q_mean.detach().to(F64), q_cov.detach().to(F64)
    if not (torch.isfinite(q_mean).all() and torch.isfinite(q_cov).all()):
        return _fail(tr("q_mean or q_cov contains NaN or inf."), POSTERIOR_HINT, hint)
    mean_ok = torch.allclose(q_mean, post_mean, atol=1e-6)
    cov_ok = torch.allclose(q_cov, post_cov.expand_as(q_cov), atol=1e-6)
    if mean_ok and cov_ok:
        gap = (model.log_marginal(x) - model.elbo(x, q_mean, q_cov)).abs().max().item()
        return report(True, tr("q is the exact posterior p(z|x), so the gap log p(x) - ELBO = KL is zero "
                               "(here {gap:.1e}).", gap=gap))
    prior_cov = torch.allclose(q_cov, torch.eye(d, dtype=F64).expand_as(q_cov))
    if torch.allclose(q_mean, torch.zeros_like(q_mean)) and prior_cov:
        return _fail(tr("that q is the prior p(z) = N(0, I); the gap closes at a q that has seen x."),
                     POSTERIOR_HINT, hint)
    if mean_ok:
        if prior_cov:
            wrong = " " + tr("Your covariance is the prior's, the identity; the posterior has seen x and is narrower.")
        elif torch.allclose(q_cov, torch.linalg.inv(post_cov).expand_as(q_cov), atol=1e-6):
            wrong = " " + tr("Your covariance is the posterior's precision: the covariance is its inverse.")
        else:
            wrong = _wrong_part(q_cov, post_cov, N_("Your covariance: {relation}"))
        return _fail(Problem(tr("the mean is right but the covariance is not.") + wrong,
                             tr("Section 3 completes the square: the posterior covariance is the inverse of the "
                                "precision matrix read off there, the same for every data point.")),
                     POSTERIOR_HINT, hint)
    if cov_ok:
        return _fail(Problem(tr("the covariance is right but the mean is not.")
                             + _wrong_part(q_mean, post_mean, N_("Your mean: {relation}")),
                             tr("Section 3 completes the square: the posterior mean depends on x, through W, b, the "
                                "noise variance and the posterior covariance.")), POSTERIOR_HINT, hint)
    return _fail(tr("neither the mean nor the covariance is the one that closes the gap. What is the gap equal to?"),
                 POSTERIOR_HINT, hint)


#: answer -> (correct?, explanation); the explanations are English, translated when shown.
GAP_SIGN_FEEDBACK = {
    "positive": (True, N_("log p(x) - ELBO = KL(q || p(z|x)) > 0 for every q that differs from the posterior.")),
    "negative": (False, N_("a negative gap would put the ELBO above log p(x). Can a lower bound lie above what it "
                           "bounds? Look at what route (a) writes the gap as.")),
    "zero": (False, N_("a zero gap means the bound is tight. Is it tight for every q, or only for a special one? "
                       "Look at what route (a) writes the gap as.")),
    "either": (False, N_("does the sign of the gap really depend on q? Route (a) writes the gap as one quantity: "
                         "which signs can that quantity take?")),
}
GAP_SIGN_HINT = Hint(
    section("01", 2, "Route (a): an identity") + N_(", the identity log p(x) = ELBO(q) + KL"),
    N_("The gap log p(x) - ELBO(q) is a KL divergence between q and the posterior p(z|x). The subsection on Gibbs' "
       "inequality, at the end of section 2, says which values a KL can take, and when it is zero; here q is not the "
       "posterior."),
)


def check_gap_sign(answer: str, hint: int = 1) -> None:
    """Exercise (notebook 01): predict the sign of log p(x) - ELBO for a q that is not the posterior.
    ``hint=2`` gives a more specific hint."""
    _check_choice(answer, GAP_SIGN_FEEDBACK, GAP_SIGN_HINT, hint)
