"""The decoder's likelihood p(x|z): Bernoulli for binary pixels; Gaussian and continuous Bernoulli for grey levels;
and the bits-per-dimension figure that makes likelihoods of 8-bit images comparable.

Taught in ``notebooks/06_real_data.ipynb`` (the Bernoulli in ``notebooks/03_train_vae.ipynb``).
Every log-likelihood here is in nats and summed over the last axis (the pixels of flattened images): the
likelihood of a whole image, not a per-pixel average.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

LOG_2PI = math.log(2 * math.pi)
#: Below this |logit| the continuous Bernoulli's formulas are replaced by their Taylor series (they are 0/0 at 0).
_CB_TAYLOR_BELOW = 1e-2


def bernoulli_log_likelihood(logits: Tensor, x: Tensor) -> Tensor:
    """log p(x|z) = sum over pixels of x log p + (1 - x) log(1 - p), from logits (..., D) -> (...).

    Summed over the pixels, not averaged: the ELBO is a log-probability of the whole image. A likelihood only
    for binary x: on grey levels it is not normalised (``continuous_bernoulli_log_likelihood`` is).
    """
    logits, x = torch.broadcast_tensors(logits, x)
    return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(-1)


def gaussian_log_likelihood(x: Tensor, mean: Tensor, log_sigma: Tensor | float) -> Tensor:
    """log N(x; mean, sigma^2 I) summed over the last axis: -||x - mean||^2 / (2 sigma^2) - D log sigma - (D/2) log 2 pi.

    ``x`` and ``mean`` are (..., D) (broadcastable); ``log_sigma`` is a scalar (one sigma for every pixel, as in
    the sigma-VAE) or broadcastable to x (one sigma per pixel). With a fixed sigma, maximising it is minimising the
    summed squared error: an "MSE loss" is this likelihood with its sigma hidden.
    """
    log_sigma = torch.as_tensor(log_sigma, dtype=mean.dtype, device=mean.device)
    z = (x - mean) * torch.exp(-log_sigma)
    return (-0.5 * z.square() - log_sigma - 0.5 * LOG_2PI).sum(-1)


def continuous_bernoulli_log_normalizer(logits: Tensor) -> Tensor:
    """log C(lambda) elementwise, where lambda = sigmoid(logits) and C(lambda) = 2 artanh(1 - 2 lambda) / (1 - 2 lambda)
    (C(1/2) = 2): the constant that turns x^lambda (1 - x)^(1 - lambda) into a density on [0, 1]
    (Loaiza-Ganem & Cunningham 2019). In logits, C = eta / tanh(eta / 2), which is stable for large |eta|."""
    a = logits.abs()
    small = a < _CB_TAYLOR_BELOW
    safe = torch.where(small, torch.ones_like(a), a)  # keeps the unused branch finite, and its gradient too
    exact = torch.log(safe) - torch.log(torch.tanh(safe / 2))
    taylor = math.log(2.0) + a.square() / 12
    return torch.where(small, taylor, exact)


def continuous_bernoulli_log_likelihood(x: Tensor, logits: Tensor) -> Tensor:
    """log CB(x; lambda) summed over the last axis, lambda = sigmoid(logits): the Bernoulli's x log lambda +
    (1 - x) log(1 - lambda), which is what BCE on grey levels computes, plus log C(lambda), which makes it a
    density over x in [0, 1]."""
    logits, x = torch.broadcast_tensors(logits, x)
    bce = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    return (continuous_bernoulli_log_normalizer(logits) - bce).sum(-1)


def continuous_bernoulli_mean(logits: Tensor) -> Tensor:
    """E[x] under the continuous Bernoulli with lambda = sigmoid(logits): lambda / (2 lambda - 1) + 1 / (2 artanh(1 - 2 lambda)),
    1/2 at lambda = 1/2. It is not lambda: the mean is pulled towards 1/2 (why BCE-trained images look washed out)."""
    small = logits.abs() < _CB_TAYLOR_BELOW
    safe = torch.where(small, torch.ones_like(logits), logits)
    exact = torch.sigmoid(safe) / torch.tanh(safe / 2) - 1 / safe
    return torch.where(small, 0.5 + logits / 12, exact)


def bits_per_dim(log_likelihood: Tensor | float, num_dims: int = 784, levels: int = 256) -> Tensor | float:
    """Bits per dimension of 8-bit data from a log-density (nats) of the data scaled to [0, 1].

    A density on [0, 1]^D is not a probability: the probability of one of the ``levels``^D discrete images is
    (about, and for uniformly dequantized data at least) the density times the volume of its bin, 1 / levels^D.
    So log P(image) = log p(x) - D ln(levels): the dequantization correction, ln 256 per pixel. Then bits/dim =
    -log P / (D ln 2). Lower is better; it is comparable across models of the same 8-bit data, whatever their
    likelihood, but not with a Bernoulli NLL of binarized images (other data).
    """
    if not isinstance(num_dims, int) or num_dims < 1:
        raise ValueError(f"num_dims must be a positive integer, got {num_dims!r}.")
    return -(log_likelihood - num_dims * math.log(levels)) / (num_dims * math.log(2))


def dequantize(x: Tensor, generator: torch.Generator | None = None, levels: int = 256) -> Tensor:
    """Uniformly dequantized images: grey levels x = k / (levels - 1) in [0, 1] (e.g. ``load_mnist``'s) become
    (k + u) / levels with u ~ U(0, 1), a continuous variable in [0, 1]. A density model of these bounds the
    probability of the discrete images from below (Theis, van den Oord & Bethge 2016), which :func:`bits_per_dim`
    reports."""
    if x.numel() and (x.min() < 0 or x.max() > 1):
        raise ValueError("x must hold grey levels in [0, 1]; divide uint8 pixels by 255 first.")
    k = torch.round(x * (levels - 1))
    u = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device)
    # in float32, k + u rounds up to k + 1 for u within 2^-17 of 1: keep every value inside its own bin
    top = torch.nextafter((k + 1) / levels, torch.zeros_like(k))
    return torch.minimum((k + u) / levels, top)


class Likelihood(nn.Module):
    """The decoder's distribution p(x|z), given the decoder's outputs (logits, one per pixel).

    ``binary_data``: whether the model is trained on binarized images (Bernoulli) or on grey levels (the others).
    ``log_prob(x, logits) -> (...)`` sums over pixels; ``mean(logits)`` is the expected image, what the course
    draws as a "reconstruction" or a "sample"; ``config`` rebuilds it (:func:`make_likelihood`).
    """

    name = "likelihood"
    binary_data = False

    def log_prob(self, x: Tensor, logits: Tensor) -> Tensor:
        raise NotImplementedError

    def mean(self, logits: Tensor) -> Tensor:
        raise NotImplementedError

    @property
    def config(self) -> dict:
        return {"name": self.name}


class BernoulliLikelihood(Likelihood):
    """p(x|z) = prod Bernoulli(x_i; sigmoid(logit_i)), for binary images (the course's MNIST models)."""

    name = "bernoulli"
    binary_data = True

    def log_prob(self, x: Tensor, logits: Tensor) -> Tensor:
        return bernoulli_log_likelihood(logits, x)

    def mean(self, logits: Tensor) -> Tensor:
        return torch.sigmoid(logits)


class GreyBernoulliLikelihood(BernoulliLikelihood):
    """Binary cross-entropy on grey levels, the common mistake that notebook 06 measures: the Bernoulli's formula
    applied to x in [0, 1]. It trains like a likelihood but is not one (it is not normalised over x); to score such a
    model honestly, give its weights a :class:`ContinuousBernoulliLikelihood`, the density these logits define."""

    name = "bernoulli_grey"
    binary_data = False


class GaussianLikelihood(Likelihood):
    """p(x|z) = N(sigmoid(logits), sigma^2 I) with one sigma shared by all pixels: fixed (``sigma=0.1``) or learned
    with the other parameters (``learn_sigma=True``, starting at ``sigma``; the sigma-VAE of Rybkin et al. 2021)."""

    name = "gaussian"

    def __init__(self, sigma: float = 0.1, learn_sigma: bool = False) -> None:
        super().__init__()
        if not (isinstance(sigma, (int, float)) and math.isfinite(sigma) and sigma > 0):
            raise ValueError(f"sigma must be a positive number, got {sigma!r}.")
        self.learn_sigma = bool(learn_sigma)
        log_sigma = torch.tensor(math.log(sigma))
        if self.learn_sigma:
            self.log_sigma = nn.Parameter(log_sigma)
        else:
            self.register_buffer("log_sigma", log_sigma)
        self._initial_sigma = float(sigma)

    @property
    def sigma(self) -> float:
        """The current sigma (learned or fixed)."""
        return float(self.log_sigma.detach().exp())

    def log_prob(self, x: Tensor, logits: Tensor) -> Tensor:
        return gaussian_log_likelihood(x, torch.sigmoid(logits), self.log_sigma)

    def mean(self, logits: Tensor) -> Tensor:
        return torch.sigmoid(logits)

    @property
    def config(self) -> dict:
        return {"name": self.name, "sigma": self._initial_sigma, "learn_sigma": self.learn_sigma}


class ContinuousBernoulliLikelihood(Likelihood):
    """p(x|z) = prod CB(x_i; sigmoid(logit_i)): BCE on grey levels made a density (Loaiza-Ganem & Cunningham 2019)."""

    name = "continuous_bernoulli"

    def log_prob(self, x: Tensor, logits: Tensor) -> Tensor:
        return continuous_bernoulli_log_likelihood(x, logits)

    def mean(self, logits: Tensor) -> Tensor:
        return continuous_bernoulli_mean(logits)


LIKELIHOODS = {cls.name: cls for cls in (BernoulliLikelihood, GreyBernoulliLikelihood, GaussianLikelihood,
                                          ContinuousBernoulliLikelihood)}


def make_likelihood(spec: Likelihood | dict | str | None) -> Likelihood:
    """A :class:`Likelihood` from itself, its ``config`` dict, its name (``"bernoulli"``, ``"bernoulli_grey"``,
    ``"gaussian"``, ``"continuous_bernoulli"``) or None (Bernoulli, the course's default)."""
    if spec is None:
        return BernoulliLikelihood()
    if isinstance(spec, Likelihood):
        return spec
    if isinstance(spec, str):
        spec = {"name": spec}
    if not isinstance(spec, dict) or spec.get("name") not in LIKELIHOODS:
        raise ValueError(f"unknown likelihood {spec!r}: choose one of {', '.join(map(repr, LIKELIHOODS))}.")
    arguments = {k: v for k, v in spec.items() if k != "name"}
    return LIKELIHOODS[spec["name"]](**arguments)
