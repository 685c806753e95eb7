"""Checkers of notebook 06's exercises (``notebooks/06_real_data.ipynb``): the Gaussian log-likelihood of an
image, and the sigma behind an MSE loss averaged over pixels (a beta-VAE in disguise)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from vae_lesson.checks._verdict import F64, Hint, _call, _fail, _judge, section
from vae_lesson.i18n import N_, tr
from vae_lesson.likelihoods import gaussian_log_likelihood

GAUSSIAN_HINT = Hint(
    section("06", 1, "The Gaussian decoder") + N_(", the equation for log p(x|z)"),
    N_("Per image, log N(x; mean, sigma^2 I) has three parts, each summed over the pixels: minus the squared "
       "difference divided by two sigma squared, minus log sigma, and minus half of log 2 pi. log_sigma is the "
       "logarithm of sigma, not sigma itself: take its exponential where sigma appears. The result has one number "
       "per image."),
)
PER_PIXEL = N_("Sum over the pixels (the last axis): a likelihood of an image is the sum of its pixels' "
               "log-densities.")


def check_gaussian_log_likelihood(log_likelihood_fn: Callable[[Tensor, Tensor, Tensor], Tensor], hint: int = 1) -> None:
    """Exercise (notebook 06): ``log_likelihood_fn(x, mean, log_sigma)`` returns log N(x; mean, sigma^2 I) per image,
    summed over pixels: x and mean are (N, D), log_sigma a 0-d tensor; the result is (N,), differentiable in mean
    and log_sigma. ``hint=2`` gives a more specific hint."""
    g = torch.Generator().manual_seed(16)
    n, d = 6, 50
    x = torch.rand(n, d, generator=g, dtype=F64)
    mean = torch.rand(n, d, generator=g, dtype=F64).requires_grad_(True)
    log_sigma = torch.tensor(math.log(0.3), dtype=F64, requires_grad=True)
    answer, error = _call(log_likelihood_fn, x.clone(), mean, log_sigma)
    if error:
        return _fail(error, GAUSSIAN_HINT, hint)
    with torch.no_grad():
        ref = gaussian_log_likelihood(x, mean, log_sigma)
        sigma, sq = log_sigma.exp(), (x - mean).square()
        const = 0.5 * math.log(2 * math.pi)
    per_pixel = tr(PER_PIXEL)
    mistakes = [
        ((-sq / (2 * sigma**2) - log_sigma - const).mean(-1), tr("you averaged over the pixels: sum them."),
         per_pixel),
        ((-sq / (2 * sigma**2)).sum(-1), tr("only the squared-error part is there: the normalising terms, minus log "
                                            "sigma and minus half of log 2 pi per pixel, are missing. Without them "
                                            "sigma could not be learned: the likelihood would always prefer a larger "
                                            "one.")),
        ((-sq / (2 * sigma**2) - const).sum(-1), tr("the minus log sigma term is missing: it is what stops a learned "
                                                    "sigma from growing without limit.")),
        ((-sq / (2 * sigma**2) - log_sigma).sum(-1), tr("the constant, minus half of log 2 pi per pixel, is "
                                                        "missing.")),
        ((-sq / (2 * sigma) - log_sigma - const).sum(-1), tr("divide the squared error by two sigma *squared*, not "
                                                             "by two sigma.")),
        ((-sq / (2 * log_sigma**2) - torch.log(log_sigma.abs()) - const).sum(-1),
         tr("you used log_sigma as if it were sigma: sigma is its exponential.")),
        ((-sq / 2 - log_sigma - const).sum(-1), tr("the squared error must be divided by sigma squared.")),
        (-ref, tr("the sign is flipped: this is a log-density, and a better fit must give a larger (less negative) "
                  "value.")),
        (-sq / (2 * sigma**2) - log_sigma - const, tr("you returned one value per pixel: sum over the pixels, one "
                                                      "value per image."), per_pixel),
    ]
    success = tr("log N(x; mean, sigma^2 I) per image: on these {n} images of {d} pixels with sigma = 0.3 the mean "
                 "is {mean:.2f} nats, the same as torch.distributions.Normal gives.", n=n, d=d, mean=ref.mean().item())
    _judge(answer, ref, mistakes, "log_likelihood_fn", success, GAUSSIAN_HINT, hint,
           known={tr("the number of pixels"): d, "sigma": 0.3}, grad_from=tr("mean and log_sigma"))


SIGMA_HINT = Hint(
    section("06", 1, "The Gaussian decoder") + N_(', the paragraph "a fixed sigma is a beta in disguise"'),
    N_("Write the Gaussian's negative log-likelihood per image: the summed squared error over two sigma squared, plus "
       "the KL. An average over the pixels is the summed error divided by the number of pixels. Scale the negative "
       "ELBO so that the squared-error part matches the loss's, read off the weight the KL then has, set it equal to "
       "beta, and solve for sigma."),
)
PIXELS = 784


def check_sigma_for_beta(sigma_fn: Callable[[float], float], hint: int = 1) -> None:
    """Exercise (notebook 06): ``sigma_fn(beta)`` returns the sigma of a Gaussian decoder whose ELBO, multiplied by a
    constant, is the loss ``F.mse_loss(x_hat, x) + beta * kl`` (the squared error averaged over 784 pixels).
    ``hint=2`` gives a more specific hint."""
    betas = torch.tensor([0.01, 0.5, 2.0, 8.0], dtype=F64)
    answers = []
    for beta in betas.tolist():
        answer, error = _call(sigma_fn, beta)
        if error:
            return _fail(error, SIGMA_HINT, hint)
        answers.append(answer)
    try:
        value = torch.tensor([float(a) for a in answers], dtype=F64)
    except (TypeError, ValueError, RuntimeError):
        value = answers[0]  # not numbers: the diagnosis below says what it is
    ref = (PIXELS * betas / 2).sqrt()
    mistakes = [
        ((betas / 2).sqrt(), tr("that is the sigma for a *summed* squared error: F.mse_loss averages over the 784 "
                                "pixels, which divides the squared error by 784.")),
        ((PIXELS * betas).sqrt(), tr("a factor of the square root of two is missing: the Gaussian divides by *two* "
                                     "sigma squared.")),
        (PIXELS * betas / 2, tr("that is sigma squared: take its square root.")),
        ((betas / (2 * PIXELS)).sqrt(), tr("the average over pixels works the other way: it makes the squared error "
                                           "smaller, so the sigma it stands for is larger.")),
        ((2 * PIXELS * betas).sqrt(), tr("you multiplied by two where you should divide: beta relates to two sigma "
                                         "squared.")),
    ]
    success = tr("sigma = sqrt(784 beta / 2): F.mse_loss + KL (beta = 1) is a Gaussian decoder with sigma of about "
                 "{sigma:.0f}, far more noise than any image has.", sigma=math.sqrt(PIXELS / 2))
    _judge(value, ref, mistakes, "sigma_fn", success, SIGMA_HINT, hint, known={tr("the number of pixels"): PIXELS})
