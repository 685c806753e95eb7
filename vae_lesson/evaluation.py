"""Evaluating a VAE: the mean ELBO and its terms, the test log-likelihood from L_k the way papers do, active
units, KL per dimension.

Taught in ``notebooks/03_train_vae.ipynb``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from vae_lesson.data import batches, require_binary
from vae_lesson.divergences import kl_diag_normal_std_normal
from vae_lesson.elbo import elbo_terms, iwae_bound
from vae_lesson.models import VAE, flatten_images


def evaluate(model: VAE, x: Tensor, batch_size: int = 1000, generator: torch.Generator | None = None) -> dict[str, float]:
    """Mean single-sample ELBO, reconstruction and KL per image (nats) of binary images x, without gradients.

    ``x``: binary images (N, 784) or (N, 28, 28), e.g. ``data.binarized_test_set()``; grey ones are refused.
    ``fit`` records it after every epoch. Taught in ``notebooks/03_train_vae.ipynb``.
    """
    x = require_binary(flatten_images(x), "evaluate")
    totals = {"elbo": 0.0, "reconstruction": 0.0, "kl": 0.0}
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for xb in batches(x, batch_size, shuffle=False):
            reconstruction, kl = elbo_terms(model, xb, 1, generator)
            totals["reconstruction"] += reconstruction.sum().item()
            totals["kl"] += kl.sum().item()
    model.train(was_training)
    totals = {k: v / len(x) for k, v in totals.items()}
    totals["elbo"] = totals["reconstruction"] - totals["kl"]
    return totals


def nll_estimate(
    model: VAE, x: Tensor, num_samples: int, generator: torch.Generator | None = None, chunk_size: int = 2**12
) -> tuple[float, float]:
    """The test negative log-likelihood estimate -mean L_k over binary images x, in nats, and its standard error
    (over images). As k grows, -L_k decreases towards -log p(x); papers report k = 5000. Grey images are refused."""
    bounds = iwae_bound(model, x, num_samples, generator, chunk_size)
    return -bounds.mean().item(), bounds.std().item() / math.sqrt(len(bounds))


def posterior_means_and_logvars(model: VAE, x: Tensor, batch_size: int = 1000) -> tuple[Tensor, Tensor]:
    """q(z|x)'s mean and log-variance for every image of x, each (N, d), without gradients.

    ``x``: binary images (N, 784) or (N, 28, 28), as the encoder was trained on (grey ones are accepted: the
    encoder is a plain network, but its codes of grey images are not what the notebooks measure)."""
    mus, logvars = [], []
    with torch.no_grad():
        for xb in batches(flatten_images(x), batch_size, shuffle=False):
            mu, logvar = model.encode(xb)
            mus.append(mu)
            logvars.append(logvar)
    return torch.cat(mus), torch.cat(logvars)


def active_units(model: VAE, x: Tensor, threshold: float = 1e-2) -> tuple[int, Tensor]:
    """Burda et al.'s active units: u is active if Cov_x(E_q[z_u]) > threshold (default 1e-2).

    ``x``: binary images, as in training. Returns (number of active units, the variance across x of each unit's
    posterior mean, shape (d,)).
    An inactive unit's posterior mean ignores the input: the unit has collapsed to the prior.
    """
    mu, _ = posterior_means_and_logvars(model, x)
    activity = mu.var(0)
    return int((activity > threshold).sum()), activity


def kl_per_dimension(model: VAE, x: Tensor) -> Tensor:
    """Average KL(q(z_j|x) || p(z_j)) over the binary images x, for each latent dimension j: shape (d,), nats."""
    return kl_per_dimension_of(*posterior_means_and_logvars(model, x))


def kl_per_dimension_of(mu: Tensor, logvar: Tensor) -> Tensor:
    """Average KL(q(z_j|x) || p(z_j)) over images, for each dimension j, from their posteriors' mu and logvar (N, d)."""
    return kl_diag_normal_std_normal(mu[..., None], logvar[..., None]).mean(0)  # one dimension at a time
