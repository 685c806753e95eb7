"""Checkers of notebook 07's exercises (``notebooks/07_conditional_and_beta.ipynb``): a batch's rate and
distortion from an encoder's and a decoder's outputs, and style transfer with a conditional VAE."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from vae_lesson.checks._verdict import (
    F64, Hint, Problem, _call, _close, _conclude, _diagnose, _fail, _judge, _unfinished, section,
)
from vae_lesson.conditional import style_transfer
from vae_lesson.divergences import kl_diag_normal_std_normal
from vae_lesson.i18n import N_, tr
from vae_lesson.likelihoods import bernoulli_log_likelihood
from vae_lesson.models import ConditionalVAE

RATE_HINT = Hint(
    section("07", 2, "Rate and distortion") + N_(", the definitions of R and D"),
    N_("The rate is the KL from q(z|x) to the prior, in closed form per image (summed over the latent dimensions), "
       "then averaged over the images. The distortion is minus the Bernoulli log-likelihood of each image under the "
       "decoder's logits (summed over the pixels), then averaged over the images. Both are positive numbers of nats; "
       "return the rate first."),
)


def _pair(answer: object) -> Tensor | object:
    """A student's (rate, distortion) as a float64 tensor of two numbers, or the answer itself if it is not a pair."""
    if isinstance(answer, (tuple, list)) and len(answer) == 2:
        try:
            return torch.stack([torch.as_tensor(a, dtype=F64).reshape(()) for a in answer])
        except (TypeError, ValueError, RuntimeError):
            return answer
    return answer


def check_rate_and_distortion(rd_fn: Callable[[Tensor, Tensor, Tensor, Tensor], tuple], hint: int = 1) -> None:
    """Exercise (notebook 07): ``rd_fn(mu, logvar, logits, x)`` returns the batch's ``(rate, distortion)`` in nats
    per image: R = mean over images of KL(N(mu, exp(logvar)) || N(0, I)), D = mean over images of
    -log p(x|z) under Bernoulli ``logits`` (N, 784) of binary images x (N, 784). ``hint=2`` is more specific."""
    g = torch.Generator().manual_seed(7)
    n, d, pixels = 5, 4, 784
    mu, logvar = torch.randn(n, d, generator=g, dtype=F64), torch.randn(n, d, generator=g, dtype=F64) * 0.5 - 1
    logits = torch.randn(n, pixels, generator=g, dtype=F64) * 2
    x = (torch.rand(n, pixels, generator=g, dtype=F64) < 0.2).to(F64)
    answer, error = _call(rd_fn, mu.clone(), logvar.clone(), logits.clone(), x.clone())
    if error:
        return _fail(error, RATE_HINT, hint)
    unfinished = _unfinished(answer, "rd_fn")
    if unfinished:
        return _conclude(unfinished, "", RATE_HINT, hint)
    if not (isinstance(answer, (tuple, list)) and len(answer) == 2):
        return _conclude(Problem(tr("rd_fn must return a pair of numbers: the rate first, the distortion second.")),
                         "", RATE_HINT, hint)
    value = _pair(answer)
    kl = kl_diag_normal_std_normal(mu, logvar)
    log_lik = bernoulli_log_likelihood(logits, x)
    rate, distortion = kl.mean(), -log_lik.mean()
    ref = torch.stack([rate, distortion])
    per_pixel = -(log_lik / pixels).mean()
    mistakes = [
        (torch.stack([distortion, rate]), tr("the two are swapped: return the rate (the KL) first, then the "
                                             "distortion.")),
        (torch.stack([rate, -distortion]), tr("the distortion's sign is flipped: D is *minus* the log-likelihood, a "
                                              "positive number of nats (how badly x is rebuilt).")),
        (torch.stack([kl.sum(), -log_lik.sum()]), tr("you summed over the images: R and D are averages per image.")),
        (torch.stack([kl.sum(), distortion]), tr("the rate is summed over the images: average it.")),
        (torch.stack([rate, -log_lik.sum()]), tr("the distortion is summed over the images: average it.")),
        (torch.stack([rate, per_pixel]), tr("the distortion is averaged over the pixels: sum over the pixels (a "
                                            "likelihood of an image is the sum of its pixels' log-probabilities), "
                                            "then average over the images.")),
        (torch.stack([2 * rate, distortion]), tr("the rate is twice too large: the KL of a Gaussian has a factor one "
                                                 "half.")),
        (torch.stack([kl_diag_normal_std_normal(mu, logvar).mean() / d, distortion]),
         tr("the rate is averaged over the latent dimensions: sum the KL over them (the dimensions are independent, "
            "so their KLs add up), then average over the images.")),
        (torch.stack([-rate, distortion]), tr("the rate's sign is flipped: a KL divergence is never negative.")),
        (torch.stack([kl_diag_normal_std_normal(mu, 2 * logvar).mean(), distortion]),
         tr("the rate treats logvar as log sigma: logvar is the log of the *variance*, so exp(logvar) is sigma "
            "squared.")),
    ]
    if isinstance(value, Tensor) and value.shape == (2,) and torch.isfinite(value).all() \
            and not any(_close(value, wrong) for wrong, *_ in mistakes):
        rate_ok, distortion_ok = _close(value[0], rate), _close(value[1], distortion)
        if rate_ok != distortion_ok:  # say which of the two is wrong
            return _conclude(Problem(tr("the rate is right, but the distortion is not: check its definition term by "
                                        "term.") if rate_ok else
                                     tr("the distortion is right, but the rate is not: check its definition term by "
                                        "term.")), "", RATE_HINT, hint)
    success = tr("R = {rate:.2f} nats and D = {distortion:.1f} nats per image on this batch; the batch's mean ELBO "
                 "is -(D + R) = {elbo:.1f}.", rate=rate.item(), distortion=distortion.item(),
                 elbo=-(rate + distortion).item())
    _judge(value, ref, mistakes, "rd_fn", success, RATE_HINT, hint, known={tr("the number of images"): n,
                                                                            tr("the number of pixels"): pixels})


STYLE_HINT = Hint(
    section("07", 1, "Style transfer") + N_(", the recipe of three steps"),
    N_("Encode the digit together with its own label, keep the mean of q(z|x, y) (no sampling), then decode that one "
       "code once for every class 0 to 9, and turn the decoder's logits into pixel probabilities. The result holds ten "
       "images of 28 by 28 pixels, class 0 first."),
)


def check_style_transfer(transfer_fn: Callable[[ConditionalVAE, Tensor, int], Tensor], hint: int = 1) -> None:
    """Exercise (notebook 07): ``transfer_fn(model, image, label)`` encodes ``image`` (28, 28) with its ``label``,
    and decodes the posterior mean with every label: pixel probabilities (10, 28, 28), class 0 first. Checked on a
    small untrained conditional VAE (so the answer cannot be read off the shipped model). ``hint=2`` is more specific."""
    with torch.random.fork_rng():
        torch.manual_seed(3)
        model = ConditionalVAE(3, hidden=(32,)).eval()
        with torch.no_grad():  # labels that matter: their one-hot columns weigh as much as an image's 784 pixels
            model.encoder[0].weight[:, 784:].mul_(20)
            model.decoder[0].weight[:, 3:].mul_(5)
    g = torch.Generator().manual_seed(5)
    image = (torch.rand(28, 28, generator=g) < 0.3).float()
    label = 4
    answer, error = _call(transfer_fn, model, image.clone(), label)
    if error:
        return _fail(error, STYLE_HINT, hint)
    again, _ = _call(transfer_fn, model, image.clone(), label)
    if isinstance(answer, Tensor):
        answer = answer.detach().to(F64)
        if answer.shape == (10, 784):
            answer = answer.reshape(10, 28, 28)
        if isinstance(again, Tensor) and again.shape == answer.shape and not _close(again.detach().to(F64), answer):
            return _conclude(Problem(tr("your result changes from one call to the next: the code was *drawn* from "
                                        "q(z|x, y). Keep its mean instead, so that one style gives one row.")),
                             "", STYLE_HINT, hint)
    ref = style_transfer(model, image, label).to(F64)
    with torch.no_grad():
        classes = torch.arange(10)
        mu, logvar = model.encode(image.reshape(1, -1), torch.tensor([label]))
        logits = model.decode(mu.expand(10, -1), classes).to(F64).reshape(10, 28, 28)
        mu0, _ = model.encode(image.reshape(1, -1), torch.tensor([0]))
        wrong_label = torch.sigmoid(model.decode(mu0.expand(10, -1), classes)).to(F64).reshape(10, 28, 28)
        own_only = torch.sigmoid(model.decode(mu.expand(10, -1), torch.full((10,), label))).to(F64).reshape(10, 28, 28)
        mu_each, _ = model.encode(image.reshape(1, -1).expand(10, -1), classes)  # encoded once with every label
        each_label = torch.sigmoid(model.decode(mu_each, classes)).to(F64).reshape(10, 28, 28)
    mistakes = [
        (logits, tr("these are the decoder's logits: turn them into pixel probabilities with the sigmoid.")),
        (wrong_label, tr("the digit was encoded with label 0, not its own: q(z|x, y) needs the digit's true label, "
                         "or the code holds what the wrong label leaves unexplained.")),
        (own_only, tr("every image is decoded with the digit's own label: decode the code once with each class, 0 "
                      "to 9.")),
        (each_label, tr("the digit was encoded anew with each label: encode it once, with its own label, and decode "
                        "that one code with every label.")),
    ]
    success = tr("one code, ten labels: the posterior mean of the digit's style, decoded as every class. Try it on "
                 "the shipped model below.")
    problem = _diagnose(answer, ref, mistakes, "transfer_fn",
                        fallback=tr("Follow the three steps: encode with the true label, keep the mean, decode with "
                                    "each label, then turn logits into probabilities."))
    _conclude(problem, success, STYLE_HINT, hint)
