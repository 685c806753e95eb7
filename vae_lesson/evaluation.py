"""Evaluating a VAE the way papers do: the test log-likelihood from L_k, active units, KL per dimension.

Taught in ``notebooks/03_train_vae.ipynb``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from vae_lesson.data import batches
from vae_lesson.divergences import kl_diag_normal_std_normal
from vae_lesson.elbo import iwae_bound
from vae_lesson.models import VAE, flatten_images


def nll_estimate(
    model: VAE, x: Tensor, num_samples: int, generator: torch.Generator | None = None, chunk_size: int = 2**15
) -> tuple[float, float]:
    """The test negative log-likelihood estimate -mean L_k over binary images x, in nats, and its standard error
    (over images). As k grows, -L_k decreases towards -log p(x); papers report k = 5000."""
    bounds = iwae_bound(model, x, num_samples, generator, chunk_size)
    return -bounds.mean().item(), bounds.std().item() / math.sqrt(len(bounds))


def posterior_means_and_logvars(model: VAE, x: Tensor, batch_size: int = 1000) -> tuple[Tensor, Tensor]:
    """q(z|x)'s mean and log-variance for every image of x, each (N, d), without gradients."""
    mus, logvars = [], []
    with torch.no_grad():
        for xb in batches(flatten_images(x), batch_size, shuffle=False):
            mu, logvar = model.encode(xb)
            mus.append(mu)
            logvars.append(logvar)
    return torch.cat(mus), torch.cat(logvars)


def active_units(model: VAE, x: Tensor, threshold: float = 1e-2) -> tuple[int, Tensor]:
    """Burda et al.'s active units: u is active if Cov_x(E_q[z_u]) > threshold (default 1e-2).

    Returns (number of active units, the variance across x of each unit's posterior mean, shape (d,)).
    An inactive unit's posterior mean ignores the input: the unit has collapsed to the prior.
    """
    mu, _ = posterior_means_and_logvars(model, x)
    activity = mu.var(0)
    return int((activity > threshold).sum()), activity


def kl_per_dimension(model: VAE, x: Tensor) -> Tensor:
    """Average KL(q(z_j|x) || p(z_j)) over the images x, for each latent dimension j: shape (d,), nats."""
    return kl_per_dimension_of(*posterior_means_and_logvars(model, x))


def kl_per_dimension_of(mu: Tensor, logvar: Tensor) -> Tensor:
    """Average KL(q(z_j|x) || p(z_j)) over images, for each dimension j, from their posteriors' mu and logvar (N, d)."""
    return kl_diag_normal_std_normal(mu[..., None], logvar[..., None]).mean(0)  # one dimension at a time
