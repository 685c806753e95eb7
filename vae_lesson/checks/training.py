"""Checkers of notebook 03's exercises (``notebooks/03_train_vae.ipynb``): the VAE's loss, the
importance-weighted bound from log-weights, and the prediction of what beta > 1 does."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from vae_lesson.checks._verdict import F64, _call, _check_choice, _conclude, _diagnose, report
from vae_lesson.divergences import kl_diag_normal_std_normal

LOGSUMEXP_HINT = ("notebook 03, section 5 names the function that takes the log of a sum of exponentials "
                  "stably.")


def check_negative_elbo_loss(loss_fn: Callable[[Tensor, Tensor, Tensor, Tensor], Tensor]) -> None:
    """Exercise (notebook 03): ``loss_fn(logits, x, mu, logvar)`` returns the VAE's loss, the negative ELBO per image
    averaged over the batch: Bernoulli reconstruction summed over the 784 pixels plus the KL summed over latent
    dimensions. logits and x are (N, 784), mu and logvar (N, d); the result is a 0-d tensor."""
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
    _conclude(_diagnose(answer, ref, mistakes, "loss_fn"),
              "summed over pixels and latent dimensions, averaged over the batch: "
              "the negative ELBO per image.")


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
                        "themselves, *inside* the log (notebook 03, section 5)."),
        (torch.logsumexp(log_w, 0), "you forgot to subtract log k: L_k is the log of the *mean* weight, not of their sum."),
        (log_w.max(0).values, "the largest log-weight is only part of the answer: the other weights add to "
                              "it; " + LOGSUMEXP_HINT),
        (torch.logsumexp(log_w, 1) - math.log(n), "you reduced over the images (dim 1); the samples are along dim 0."),
    ]
    if isinstance(answer, Tensor) and answer.shape == ref.shape and bool((~torch.isfinite(answer) & torch.isfinite(ref)).any()):
        return report(False, "you got -inf: exp(log_w) underflows to 0 for log-weights below about -745 nats in "
                             "float64 (below about -104 in float32, where real models' log-weights often lie). "
                             "Subtracting the largest log-weight before exponentiating avoids it; "
                             + LOGSUMEXP_HINT)
    _conclude(_diagnose(answer, ref, mistakes, "bound_fn"),
              "logsumexp over the samples minus log k: L_k without underflow, even for -850 nats.")


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
