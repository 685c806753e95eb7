"""The VAE's objective: the ELBO per example, in nats.

Taught in ``notebooks/03_train_vae.ipynb`` (derived in ``notebooks/01_elbo.ipynb``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from vae_lesson.divergences import kl_diag_normal_std_normal
from vae_lesson.models import VAE, flatten_images


def bernoulli_log_likelihood(logits: Tensor, x: Tensor) -> Tensor:
    """log p(x|z) = sum over pixels of x log p + (1 - x) log(1 - p), from logits (..., 784) -> (...).

    Summed over the 784 pixels, not averaged: the ELBO is a log-probability of the whole image.
    """
    return -F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction="none").sum(-1)


def elbo_terms(model: VAE, x: Tensor, num_samples: int = 1, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """The ELBO's two terms per example: (reconstruction E_q[log p(x|z)] by Monte Carlo, KL(q(z|x) || p(z)) exactly), each (N,)."""
    if not isinstance(num_samples, int) or num_samples < 1:
        raise ValueError(f"num_samples must be a positive integer, got {num_samples!r}.")
    x = flatten_images(x)
    mu, logvar = model.encode(x)
    eps = torch.randn((num_samples, *mu.shape), generator=generator, dtype=mu.dtype)
    z = mu + (0.5 * logvar).exp() * eps
    reconstruction = bernoulli_log_likelihood(model.decode(z), x).mean(0)
    return reconstruction, kl_diag_normal_std_normal(mu, logvar)


def elbo(model: VAE, x: Tensor, num_samples: int = 1, generator: torch.Generator | None = None) -> Tensor:
    """Per-example ELBO in nats, shape (N,), for binary images x (N, 784) or (N, 28, 28).

    ELBO = E_q[log p(x|z)] - KL(q(z|x) || p(z)): the expectation by ``num_samples`` reparameterized samples,
    the KL in closed form. Its negative, averaged over a batch, is the VAE's training loss.
    """
    reconstruction, kl = elbo_terms(model, x, num_samples, generator)
    return reconstruction - kl
