"""Exercise checkers: each runs a student's answer on fresh inputs, compares it with the reference,
and says in one plain sentence what is wrong (shape, sign, a missing sum or mean, a factor off) with a hint.

They print their verdict, return None and never raise, so a wrong answer never ends in a bare traceback.
Notebook 01's checkers (``check_kl_diag``, ``check_elbo_mc``, ``check_zero_gap_q``, ``check_gap_sign``)
are used in ``notebooks/01_elbo.ipynb``; notebook 02's (``check_reparam_sample``, ``check_score_grad_mu``,
``check_optimal_baseline``) in ``notebooks/02_gradients.ipynb``; notebook 03's (``check_negative_elbo_loss``,
``check_iwae_from_log_weights``, ``check_beta_prediction``) in ``notebooks/03_train_vae.ipynb``; notebook 05's
(``check_auroc``, ``check_sneaky_corruption``) in ``notebooks/05_density_and_anomalies.ipynb``; notebook 04's
(``check_slerp``, ``check_class_direction``) in ``notebooks/04_latent_explorer.ipynb``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor
from torch.distributions import MultivariateNormal

from vae_lesson.divergences import kl_diag_normal_std_normal
from vae_lesson.linear_gaussian import LinearGaussianModel

F64 = torch.float64


def report(passed: bool, message: str) -> None:
    """Print a checker's verdict: a confirmation, or 'Not yet' with the diagnosis.

    Checkers return nothing, so a check cell shows only this sentence.
    """
    print(("✅ Correct. " if passed else "❌ Not yet. ") + message)


def _close(a: object, b: Tensor, rtol: float = 1e-6, atol: float = 1e-8) -> None:
    return isinstance(a, Tensor) and a.shape == b.shape and torch.allclose(a.to(b.dtype), b, rtol=rtol, atol=atol)


UNSOLVED = "the exercise is not solved yet: replace `...` with your answer in the cell above and run it again."


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


def _call(fn: Callable, *args: object) -> tuple[object, str | None]:
    """Run the student's function; turn an exception into a sentence instead of a traceback."""
    try:
        return fn(*args), None
    except NotImplementedError:
        return None, "the exercise is not solved yet: replace `raise NotImplementedError` with your code."
    except Exception as error:  # a student's bug, reported in words
        return None, f"your code raised {type(error).__name__}: {error}"


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
        (-ref, "the sign is flipped: a KL is never negative; it is 0.5 * (mu² + σ² - 1 - log σ²)."),
        (2 * ref, "your answer is twice too large: the formula has a factor 0.5 in front."),
        (ref / 2, "your answer is half the right value: the factor 0.5 appears once, not twice."),
        (ref + 0.5 * d, "you left out the -1 inside the sum (your answer is d/2 too large)."),
        (0.5 * (mu**2 + (0.5 * logvar).exp() - 1 - 0.5 * logvar).sum(-1),
         "you used σ where the formula has σ² = exp(logvar): logvar is the log of the variance."),
        (0.5 * (mu**2 + logvar.exp() - 1 - logvar.exp().log1p()).sum(-1),
         "the last term is -log σ² = -logvar itself, no further log needed."),
    ]
    problem = _diagnose(answer, ref, mistakes, "kl_fn")
    if problem:
        return report(False, problem)
    return report(True, "Your KL matches the closed form, one value per example, never negative.")


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
    problem = _diagnose(answer, ref, mistakes, "elbo_mc_fn")
    if problem:
        return report(False, problem)
    return report(True, "Your estimator averages log p(x, z) - log q(z) over the samples, one ELBO per example.")


def check_zero_gap_q(model: LinearGaussianModel, x: Tensor, q_mean: object, q_cov: object) -> None:
    """Exercise (notebook 01): choose q = N(q_mean, q_cov) for which the ELBO of x equals log p(x) exactly."""
    if _unsolved(q_mean, q_cov):
        return report(False, UNSOLVED)
    post_mean, post_cov = model.posterior(x)
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
                             "which has seen x. Hint: the model can give you its exact posterior (notebook 01, section 3).")
    if mean_ok:
        return report(False, "the mean is right but the covariance is not: the posterior covariance is "
                             "(I + WᵀW / σ²)⁻¹, narrower than the prior's.")
    if cov_ok:
        return report(False, "the covariance is right but the mean is not: the posterior mean is Σ Wᵀ (x - b) / σ².")
    return report(False, "neither the mean nor the covariance is the posterior's; the gap is the KL to p(z|x), "
                         "so q must equal p(z|x). Hint: the model can give you its exact posterior (notebook 01, section 3).")


GAP_SIGN_FEEDBACK = {
    "positive": (True, "log p(x) - ELBO = KL(q || p(z|x)) > 0 for every q that differs from the posterior."),
    "negative": (False, "a negative gap would make the ELBO larger than log p(x); the gap is a KL, and a KL is never negative."),
    "zero": (False, "the gap is zero only when q is exactly the posterior p(z|x); any other q leaves a positive KL."),
    "either": (False, "the sign is always the same: the gap equals KL(q || p(z|x)), which Gibbs' inequality makes ≥ 0."),
}


def check_gap_sign(answer: str) -> None:
    """Exercise (notebook 01): predict the sign of log p(x) - ELBO for a q that is not the posterior."""
    _check_choice(answer, GAP_SIGN_FEEDBACK)


# --- notebook 02: gradients through sampling ------------------------------------------------------------------------

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
            (mu + logvar.exp() * eps, "you scaled eps by the variance exp(logvar); scale it by the standard deviation exp(logvar / 2)."),
            (mu + logvar * eps, "logvar is the log of the variance, not the standard deviation: use exp(0.5 * logvar) * eps."),
            (mu + (0.5 * logvar) * eps, "you scaled eps by logvar / 2, a log: exponentiate it, exp(0.5 * logvar) * eps."),
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
        (f(x) * (x - mu) / sigma, "you divided by sigma once; the score of the mean is (x - mu) / sigma², so divide by sigma²."),
        (f(x) * (x - mu), "you left out the division by sigma²: the score of the mean is (x - mu) / sigma²."),
        (-ref, "the sign is flipped: d/dmu log N(x; mu, sigma²) = (x - mu) / sigma², not (mu - x) / sigma²."),
        ((x - mu) / sigma**2, "you returned the score alone: it must be multiplied by f(x) (its mean is zero, "
                              "which is what makes baselines possible)."),
        (-2 * torch.sin(2 * x) + 1, "that is f'(x), the reparameterization estimator; the score-function estimator "
                                    "multiplies f(x) by the score instead, and needs no derivative of f."),
        (ref.mean(), "you averaged: return one estimate per sample, shape (S,); the estimate is their mean."),
        (f(eps) * eps, "evaluate f at the samples x = mu + sigma * eps, not at eps."),
    ]
    problem = _diagnose(answer, ref, mistakes, "score_fn")
    if problem:
        return report(False, problem)
    return report(True, "f(x) (x - mu) / sigma² per sample: unbiased, and no derivative of f needed.")


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
    ref = (values * score**2).mean() / (score**2).mean()
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
    problem = _diagnose(answer, ref, mistakes, "baseline_fn")
    if problem:
        return report(False, problem)
    return report(True, "b* = E[f s²] / E[s²], the constant that minimises the variance of (f - b) s.")


# --- notebook 03: training and evaluating a VAE --------------------------------------------------------------------

def check_negative_elbo_loss(loss_fn: Callable[[Tensor, Tensor, Tensor, Tensor], Tensor]) -> None:
    """Exercise (notebook 03): ``loss_fn(logits, x, mu, logvar)`` returns the VAE's loss, the negative ELBO per image
    averaged over the batch: Bernoulli reconstruction summed over the 784 pixels plus the KL summed over latent
    dimensions. logits and x are (N, 784), mu and logvar (N, d); the result is a 0-d tensor."""
    import torch.nn.functional as F

    g = torch.Generator().manual_seed(6)
    n, d = 8, 5
    logits = 2 * torch.randn(n, 784, generator=g, dtype=F64)
    x = (torch.rand(n, 784, generator=g, dtype=F64) < 0.2).to(F64)
    mu, logvar = torch.randn(2, n, d, generator=g, dtype=F64)
    answer, error = _call(loss_fn, logits.clone(), x.clone(), mu.clone(), logvar.clone())
    if error:
        return report(False, error + " Hint: the loss per image is the binary cross-entropy summed over pixels plus the "
                                     "closed-form KL summed over latent dimensions (notebook 03, section 2).")
    bce = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    rec, kl = bce.sum(-1), kl_diag_normal_std_normal(mu, logvar)
    ref = (rec + kl).mean()
    if isinstance(answer, Tensor) and answer.numel() == 1:
        answer = answer.reshape(())
    mistakes = [
        (bce.mean() + kl.mean(), "you averaged the reconstruction over pixels: that divides it by 784 and so weights the "
                                 "KL 784 times too strongly. Sum over the pixels, then average over the batch."),
        (bce.mean() + 0.5 * (mu**2 + logvar.exp() - 1 - logvar).mean(),
         "you averaged over pixels and latent dimensions: sum both per image, then average over the batch."),
        (rec.mean(), "the KL term is missing: the loss is reconstruction plus KL(q(z|x) || p(z))."),
        ((rec - kl).mean(), "the KL must be added to the loss: loss = -ELBO = -(reconstruction log-likelihood) + KL."),
        (-ref, "the sign is flipped: the loss is the *negative* ELBO, so that minimising it maximises the ELBO."),
        (rec + kl, "you returned one loss per image, shape (N,): average over the batch with .mean()."),
        ((rec + kl).sum(), "you summed over the batch: average it, so the loss does not grow with the batch size."),
        ((rec + 0.5 * (mu**2 + logvar.exp() - 1 - logvar).mean(-1)).mean(),
         "you averaged the KL over latent dimensions: sum it, like the reconstruction over pixels."),
    ]
    problem = _diagnose(answer, ref, mistakes, "loss_fn")
    if problem:
        return report(False, problem)
    return report(True, "summed over pixels and latent dimensions, averaged over the batch: the negative ELBO per image.")


def check_iwae_from_log_weights(bound_fn: Callable[[Tensor], Tensor]) -> None:
    """Exercise (notebook 03): ``bound_fn(log_w)`` with log-weights log p(x, z_i) - log q(z_i|x) of shape (k, N)
    returns L_k = log (1/k) sum_i exp(log_w_i) per image, shape (N,), computed stably."""
    g = torch.Generator().manual_seed(7)
    k, n = 50, 6
    log_w = -150 + 40 * torch.randn(k, n, generator=g, dtype=F64) - 700 * (torch.arange(n, dtype=F64) == 0)
    answer, error = _call(bound_fn, log_w.clone())
    if error:
        return report(False, error + " Hint: L_k is the log of the average weight; compute it from the log-weights "
                                     "without exponentiating them directly (notebook 03, section 5).")
    ref = torch.logsumexp(log_w, 0) - math.log(k)
    mistakes = [
        (log_w.mean(0), "that is the average of the log-weights, the ELBO estimate L_1; L_k averages the weights "
                        "*inside* the log: logsumexp over the samples minus log k."),
        (torch.logsumexp(log_w, 0), "you forgot to subtract log k: L_k is the log of the *mean* weight, not of their sum."),
        (log_w.max(0).values, "the largest log-weight is only part of the answer: use torch.logsumexp, which adds the rest stably."),
        (torch.logsumexp(log_w, 1) - math.log(n), "you reduced over the images (dim 1); the samples are along dim 0."),
    ]
    if isinstance(answer, Tensor) and answer.shape == ref.shape and bool((~torch.isfinite(answer) & torch.isfinite(ref)).any()):
        return report(False, "you got -inf: exp(log_w) underflows to 0 for log-weights below about -745 nats in "
                             "float64 (below about -104 in float32, where real models' log-weights often lie). "
                             "torch.logsumexp subtracts the largest log-weight before exponentiating (notebook 03, §5).")
    problem = _diagnose(answer, ref, mistakes, "bound_fn")
    if problem:
        return report(False, problem)
    return report(True, "logsumexp over the samples minus log k: L_k without underflow, even for -850 nats.")


BETA_FEEDBACK = {
    "lower": (True, "a KL weight beta > 1 makes each nat of KL more expensive, so the optimiser buys a smaller KL "
                    "with worse reconstructions: blurrier, more prototypical digits."),
    "higher": (False, "beta multiplies the KL in the loss, so beta > 1 penalises it more, not less; expect a lower KL."),
    "same": (False, "the optimum trades reconstruction against KL; changing their exchange rate beta moves it, "
                    "towards a lower KL for beta > 1."),
}


def check_beta_prediction(answer: str) -> None:
    """Exercise (notebook 03): predict whether training with beta > 1 gives a "lower", "higher" or the "same" KL."""
    _check_choice(answer, BETA_FEEDBACK)


# --- notebook 05: density and anomalies ----------------------------------------------------------------------------

def check_auroc(auroc_fn: Callable[[Tensor, Tensor], float]) -> None:
    """Exercise (notebook 05): ``auroc_fn(scores_in, scores_out)`` returns the AUROC, the probability that a random
    anomaly (out) scores higher than a random normal image (in), ties counting one half."""
    g = torch.Generator().manual_seed(8)
    scores_in = torch.randint(0, 6, (30,), generator=g).to(F64)
    scores_out = torch.randint(2, 9, (20,), generator=g).to(F64)
    answer, error = _call(auroc_fn, scores_in.clone(), scores_out.clone())
    if error:
        return report(False, error + " Hint: the AUROC is the fraction of (anomaly, normal) pairs in which the anomaly "
                                     "scores higher, ties counting one half (notebook 05, section 3).")
    greater = (scores_out[:, None] > scores_in[None, :]).double()
    equal = (scores_out[:, None] == scores_in[None, :]).double()
    ref = (greater + 0.5 * equal).mean()
    try:
        value = torch.as_tensor(answer, dtype=F64).reshape(())
    except (TypeError, ValueError, RuntimeError):
        return report(False, f"auroc_fn must return one number, got {type(answer).__name__} of shape "
                             f"{tuple(getattr(answer, 'shape', ()))}.")
    mistakes = [
        (1 - ref, "you swapped the roles: the AUROC is P(anomaly scores higher than a normal image), "
                  "with scores_out the anomalies."),
        (greater.mean(), "ties must count one half: add 0.5 * (scores_out == scores_in) to the count."),
        ((greater + equal).mean(), "ties count one half, not one: add 0.5 * (scores_out == scores_in)."),
        ((greater + 0.5 * equal).sum(), "divide by the number of pairs, len(scores_in) * len(scores_out)."),
    ]
    problem = _diagnose(value, ref, mistakes, "auroc_fn")
    if problem:
        return report(False, problem)
    return report(True, f"AUROC = {ref.item():.4f}: the fraction of (anomaly, normal) pairs ranked correctly, ties half.")


def check_sneaky_corruption(corrupt_fn: Callable[[Tensor, torch.Generator], Tensor], model: torch.nn.Module) -> None:
    """Exercise (notebook 05): ``corrupt_fn(x, generator)`` changes MNIST test images (N, 28, 28) in [0, 1] visibly
    (mean absolute change at least 0.05 per pixel), yet the score -log p(x) of ``model`` does not flag them
    (AUROC at most 0.6 against untouched test images)."""
    from vae_lesson.anomaly import auroc
    from vae_lesson.data import binarize, load_mnist, test_subset
    from vae_lesson.elbo import iwae_bound

    x, _ = load_mnist("test")
    index = test_subset(1000, seed=5)  # random test digits stand for the whole set; a slice would not
    clean, source = x[index[:500]], x[index[500:]]
    answer, error = _call(corrupt_fn, source.clone(), torch.Generator().manual_seed(9))
    if error:
        return report(False, error)
    if not isinstance(answer, Tensor) or answer.shape != source.shape:
        return report(False, f"corrupt_fn must return images of shape {tuple(source.shape)}, got "
                             f"{tuple(getattr(answer, 'shape', ())) or type(answer).__name__}.")
    answer = answer.detach().float()
    if not torch.isfinite(answer).all() or answer.min() < 0 or answer.max() > 1:
        return report(False, "the corrupted images must stay in [0, 1]; clip them with .clamp(0, 1).")
    change = (answer - source).abs().mean().item()
    if change < 0.05:
        return report(False, f"that barely changes the images (mean change {change:.3f} per pixel, below 0.05): "
                             "a detector should not flag what is hardly there.")
    g = torch.Generator().manual_seed(10)
    with torch.no_grad():
        score_in = -iwae_bound(model, binarize(clean, g), 10, g)
        score_out = -iwae_bound(model, binarize(answer, g), 10, g)
    area = auroc(score_in, score_out)
    if area > 0.6:
        return report(False, f"the detector catches it: AUROC {area:.2f} (mean change {change:.3f} per pixel). "
                             "Look at section 4: which images does the model find *more* likely than real digits?")
    return report(True, f"a visible change (mean {change:.3f} per pixel) that -log p(x) misses: AUROC {area:.2f}.")


def check_slerp(slerp_fn: Callable[[Tensor, Tensor, float], Tensor]) -> None:
    """Exercise (notebook 04): ``slerp_fn(z_a, z_b, t)`` for codes (d,) and a number t in [0, 1] returns the point
    at fraction t of the path whose direction follows the great circle from z_a/|z_a| to z_b/|z_b| and whose norm
    is (1 - t)|z_a| + t|z_b| (``vae_lesson.latent.slerp``). Tested on codes of norms about 1 and 3 at 150 degrees,
    where Shoemake's formula applied to the codes themselves overshoots both norms."""
    from vae_lesson.latent import lerp, slerp

    g = torch.Generator().manual_seed(4)
    u, v = torch.randn(2, 5, generator=g, dtype=F64)
    u = u / u.norm()
    v = v - torch.dot(v, u) * u
    v = v / v.norm()
    angle = math.radians(150.0)
    z_a, z_b = 1.2 * u, 3.0 * (math.cos(angle) * u + math.sin(angle) * v)
    u_a, u_b = z_a / z_a.norm(), z_b / z_b.norm()
    omega = torch.arccos(torch.dot(u_a, u_b))

    def arc(t: float, a: Tensor = u_a, b: Tensor = u_b) -> Tensor:  # Shoemake's weights on two vectors
        return (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)

    for t in (0.0, 0.3, 0.7, 1.0):
        answer, error = _call(slerp_fn, z_a.clone(), z_b.clone(), t)
        if error:
            return report(False, error)
        reference = slerp(z_a, z_b, t)
        norm = (1 - t) * z_a.norm() + t * z_b.norm()
        chord = lerp(u_a, u_b, t)
        mistakes = [
            (lerp(z_a, z_b, t), f"that is the straight line between z_a and z_b: here its norm is "
                                f"{lerp(z_a, z_b, t).norm():.2f} where the path needs (1 - t)|z_a| + t|z_b| = "
                                f"{norm:.2f}. Interpolate the direction along the great circle and the norm "
                                "linearly (section 3)."),
            (slerp(z_b, z_a, t), "your path runs backwards, from z_b to z_a: at t = 0 it must give z_a."),
            (arc(t, z_a, z_b), f"that is Shoemake's slerp applied to z_a and z_b themselves: here its norm is "
                               f"{arc(t, z_a, z_b).norm():.2f} where the path needs (1 - t)|z_a| + t|z_b| = "
                               f"{norm:.2f}. Apply the sine weights to the unit vectors, then multiply by the "
                               "interpolated norm (section 3)."),
            (arc(t), "your point is a unit vector: you found the direction on the great circle but did not "
                     "multiply it by the interpolated norm (1 - t)|z_a| + t|z_b|."),
            (arc(t) * z_a.norm() ** (1 - t) * z_b.norm() ** t,
             "the direction is right but the norm is interpolated geometrically; the path's norm must change "
             "linearly, (1 - t)|z_a| + t|z_b|."),
            (arc(t) * (t * z_a.norm() + (1 - t) * z_b.norm()),
             "the direction is right but the norm runs backwards: at t = 0 it must be |z_a|, at t = 1 |z_b|."),
            (torch.sin((1 - t) * omega) * u_a * norm + torch.sin(t * omega) * u_b * norm,
             "the division by sin(w) is missing, so the path does not start at z_a and end at z_b."),
            (chord / chord.norm() * norm, "the norm is right, but you normalised the straight line between the unit "
                                          "vectors: that direction is on the great circle but does not move at "
                                          "constant angular speed. Use the sine weights of section 3."),
        ]
        if isinstance(answer, Tensor) and answer.shape == reference.shape and not torch.isfinite(answer).all():
            return report(False, f"at t = {t}: slerp_fn returned NaN or inf. arccos needs a cosine in [-1, 1]: did "
                                 "you divide the dot product by both norms, and sin(w) by a nonzero angle?")
        wrong = _diagnose(answer, reference, mistakes, "slerp_fn")
        if wrong:
            return report(False, f"at t = {t}: {wrong}")
    return report(True, "your path starts at z_a, ends at z_b, turns along the great circle at constant speed, "
                        "and its norm changes linearly from |z_a| to |z_b|.")


def check_class_direction(direction: object, model: torch.nn.Module, from_label: int = 1, to_label: int = 7) -> None:
    """Exercise (notebook 04): ``direction`` (d,) is the mean posterior mean of the test images labelled
    ``to_label`` minus that of the images labelled ``from_label``, for ``model``'s encoder. The encoder sees the
    test images binarized once with seed 0, ``binarize(x_test.reshape(-1, 784), torch.Generator().manual_seed(0))``,
    as in notebooks 03 and 04 (the models were trained on binary images)."""
    from vae_lesson.data import binarize, load_mnist
    from vae_lesson.evaluation import posterior_means_and_logvars

    if _unsolved(direction):
        return report(False, UNSOLVED)
    x, y = load_mnist("test")
    mu, _ = posterior_means_and_logvars(model, binarize(x.reshape(-1, 784), torch.Generator().manual_seed(0)))
    mean_from, mean_to = mu[y == from_label].mean(0), mu[y == to_label].mean(0)
    reference = mean_to - mean_from
    if not isinstance(direction, Tensor):
        return report(False, f"direction must be a torch tensor, got {type(direction).__name__}.")
    answer = direction.detach().to(reference.dtype)
    if answer.shape != reference.shape:
        return report(False, f"direction should have shape {tuple(reference.shape)} (one number per latent "
                             f"dimension), got {tuple(answer.shape)}: did you average over the images (dim=0)?")
    if not torch.isfinite(answer).all():
        return report(False, "direction contains NaN or inf: is one of the class selections empty?")
    if torch.allclose(answer, -reference, rtol=1e-4, atol=1e-5):
        return report(False, f"your direction points from {to_label} to {from_label}: subtract the {from_label}s' "
                             f"mean from the {to_label}s' mean.")
    difference_of_sums = mu[y == to_label].sum(0) - mu[y == from_label].sum(0)
    if torch.allclose(answer, difference_of_sums, rtol=1e-4, atol=1e-3):
        return report(False, f"that is a difference of sums over {(y == to_label).sum()} and "
                             f"{(y == from_label).sum()} images; use the mean over each class, .mean(0).")
    if torch.allclose(answer, mean_to, rtol=1e-4, atol=1e-5):
        return report(False, f"that is the {to_label}s' mean code itself, a position, not a direction: "
                             f"subtract the {from_label}s' mean.")
    if not torch.allclose(answer, reference, rtol=1e-3, atol=1e-4):
        cosine = torch.nn.functional.cosine_similarity(answer, reference, dim=0).item()
        return report(False, f"your direction differs from the reference (cosine similarity {cosine:.2f}, length "
                             f"{answer.norm():.2f} against {reference.norm():.2f}): use the posterior means "
                             "(the first output of model.encode) of all test images of each class, binarized "
                             "once with seed 0 as in the notebook.")
    return report(True, f"from the average {from_label} to the average {to_label} is a step of length "
                        f"{reference.norm():.2f} in latent space.")
