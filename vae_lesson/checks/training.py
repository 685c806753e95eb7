"""Checkers of notebook 03's exercises (``notebooks/03_train_vae.ipynb``): the VAE's loss, the
importance-weighted bound from log-weights, and the prediction of what beta > 1 does."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from vae_lesson.checks._verdict import F64, Hint, Problem, _call, _check_choice, _fail, _judge, section
from vae_lesson.divergences import kl_diag_normal_std_normal
from vae_lesson.i18n import N_, tr

LOSS_HINT = Hint(
    section("03", 2, "The loss: the negative ELBO per image") + N_(", the equation for the loss"),
    N_("Per image the loss has two parts: the binary cross-entropy of the logits against x, summed over the 784 "
       "pixels (the decoder gives logits, any real number, not probabilities), and the closed-form KL of notebook 01, "
       "summed over the latent dimensions. Add the two parts, then average over the images of the batch: the result "
       "is a single number, a 0-d tensor."),
)
PER_IMAGE = N_("Each part is the log-probability of a whole image or a whole code: sum over pixels and over latent "
               "dimensions, and average only over the batch.")


def check_negative_elbo_loss(loss_fn: Callable[[Tensor, Tensor, Tensor, Tensor], Tensor], hint: int = 1) -> None:
    """Exercise (notebook 03): ``loss_fn(logits, x, mu, logvar)`` returns the VAE's loss, the negative ELBO per image
    averaged over the batch: Bernoulli reconstruction summed over the 784 pixels plus the KL summed over latent
    dimensions. logits and x are (N, 784), mu and logvar (N, d); the result is a 0-d tensor, differentiable in
    logits, mu and logvar. ``hint=2`` gives a more specific hint."""
    g = torch.Generator().manual_seed(6)
    n, d = 8, 5
    logits = 2 * torch.randn(n, 784, generator=g, dtype=F64)
    x = (torch.rand(n, 784, generator=g, dtype=F64) < 0.2).to(F64)
    mu, logvar = torch.randn(2, n, d, generator=g, dtype=F64)
    with_grad = [t.clone().requires_grad_(True) for t in (logits, mu, logvar)]
    answer, error = _call(loss_fn, with_grad[0], x.clone(), *with_grad[1:])
    if error:
        return _fail(error, LOSS_HINT, hint)
    bce = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    rec, kl = bce.sum(-1), kl_diag_normal_std_normal(mu, logvar)
    ref = (rec + kl).mean()
    if isinstance(answer, Tensor) and answer.numel() == 1:
        answer = answer.reshape(())
    per_dim_kl = 0.5 * (mu**2 + logvar.exp() - 1 - logvar)
    per_image = tr(PER_IMAGE)
    mistakes = [
        (bce.mean() + kl.mean(), tr("you averaged the reconstruction over pixels: that divides it by 784 and so "
                                    "weights the KL 784 times too strongly."), per_image),
        (bce.mean() + per_dim_kl.mean(), tr("you averaged over pixels and latent dimensions: both must be summed per "
                                            "image before the average over the batch."), per_image),
        (rec.mean(), tr("the KL term is missing: the loss has a reconstruction part and a KL part.")),
        ((rec - kl).mean(), tr("the KL must be added to the loss, not subtracted: the loss is minus the ELBO, and the "
                               "ELBO subtracts the KL.")),
        (-ref, tr("the sign is flipped: the loss is the *negative* ELBO, so that minimising it maximises the ELBO.")),
        (rec + kl, tr("you returned one loss per image: the average over the batch is missing.")),
        ((rec + kl).sum(), tr("you summed over the batch: average it, so that the loss does not grow with the batch "
                              "size.")),
        ((rec + per_dim_kl.mean(-1)).mean(), tr("you averaged the KL over latent dimensions: sum it, like the "
                                                "reconstruction over pixels."), per_image),
    ]
    _judge(answer, ref, mistakes, "loss_fn", tr("summed over pixels and latent dimensions, averaged over the batch: "
           "the negative ELBO per image."), LOSS_HINT, hint,
           known={tr("the batch size N"): n, tr("the number of pixels"): 784}, grad_from=tr("logits, mu and logvar"))


IWAE_HINT = Hint(
    section("03", 5, "Evaluating like the papers") + N_(", the equation for L_k"),
    N_("L_k is the log of the average of the k weights over the samples (the first axis), one value per image; a "
       "weight is the exponential of a log-weight. Exponentiating log-weights near -850 underflows to 0, so never "
       "form the weights themselves: section 5 names the function that takes the log of a sum of exponentials "
       "without underflow, and an average is a sum divided by k."),
)
STABLE = N_("Section 5 names the function that takes the log of a sum of exponentials stably: it pulls the largest "
            "log-weight out before exponentiating the rest.")


def check_iwae_from_log_weights(bound_fn: Callable[[Tensor], Tensor], hint: int = 1) -> None:
    """Exercise (notebook 03): ``bound_fn(log_w)`` with log-weights log p(x, z_i) - log q(z_i|x) of shape (k, N)
    returns L_k = log (1/k) sum_i exp(log_w_i) per image, shape (N,), computed stably. ``hint=2`` gives a more
    specific hint."""
    g = torch.Generator().manual_seed(7)
    k, n = 50, 6
    log_w = -150 + 40 * torch.randn(k, n, generator=g, dtype=F64) - 700 * (torch.arange(n, dtype=F64) == 0)
    answer, error = _call(bound_fn, log_w.clone())
    if error:
        return _fail(error, IWAE_HINT, hint)
    ref = torch.logsumexp(log_w, 0) - math.log(k)
    mistakes = [
        (log_w.mean(0), tr("that is the average of the log-weights, the ELBO estimate L_1; L_k averages the weights "
                           "themselves, *inside* the log.")),
        (torch.logsumexp(log_w, 0), tr("off by a constant: yours is log k = {log_k:.3f} larger than L_k for every "
                                       "image. You took the log of the sum of the weights, where L_k takes the log of "
                                       "their mean.", log_k=math.log(k))),
        (log_w.max(0).values, tr("the largest log-weight is only part of the answer: the other weights add to it."),
         tr(STABLE)),
        (torch.logsumexp(log_w, 1) - math.log(n), tr("you reduced over the images (dimension 1); the samples are "
                                                     "along dimension 0.")),
    ]
    same_shape = isinstance(answer, Tensor) and answer.shape == ref.shape
    if same_shape and bool((~torch.isfinite(answer) & torch.isfinite(ref)).any()):
        return _fail(Problem(tr("you got -inf: the weights underflow to 0 when you exponentiate log-weights below "
                                "about -745 nats in float64 (below about -104 in float32, where real models' "
                                "log-weights often lie)."), tr(STABLE)), IWAE_HINT, hint)
    _judge(answer, ref, mistakes, "bound_fn", tr("logsumexp over the samples minus log k: L_k without underflow, even "
           "for -850 nats."), IWAE_HINT, hint, known={"log k": math.log(k), "k": k})


#: answer -> (correct?, explanation); the explanations are English, translated when shown.
BETA_FEEDBACK = {
    "lower": (True, N_("a KL weight beta > 1 makes each nat of KL more expensive, so the optimiser buys a smaller KL "
                       "with worse reconstructions: blurrier, more prototypical digits.")),
    "higher": (False, N_("which term of the loss does beta multiply, and what does an optimiser do with a term whose "
                         "price goes up? Section 2 trained a model with a KL weight of 784: look at its KL.")),
    "same": (False, N_("beta changes the exchange rate between reconstruction and KL. Would the optimum stay where "
                       "it was if one side became more expensive? Section 2 trained a model with a KL weight of 784: "
                       "look at its KL.")),
}
BETA_HINT = Hint(
    section("03", 2, "What a per-pixel mean does"),
    N_("The β-VAE's loss is the reconstruction term plus β times the KL. With β = 4 a nat of KL costs four times as "
       "much as a nat of reconstruction: which of the two will the optimiser give up? Compare the KL printed for the "
       "two models of section 2 (a KL weight of 1 and of 784)."),
)


def check_beta_prediction(answer: str, hint: int = 1) -> None:
    """Exercise (notebook 03): predict whether training with beta > 1 gives a "lower", "higher" or the "same" KL.
    ``hint=2`` gives a more specific hint."""
    _check_choice(answer, BETA_FEEDBACK, BETA_HINT, hint)
