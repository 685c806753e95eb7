"""Evaluating a VAE: the mean ELBO and its terms, the test log-likelihood from L_k the way papers do, active
units, KL per dimension.

Taught in ``notebooks/03_train_vae.ipynb``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from vae_lesson.data import batches
from vae_lesson.divergences import kl_diag_normal_std_normal
from vae_lesson.elbo import elbo_terms, iwae_bound, require_data_for
from vae_lesson.likelihoods import bits_per_dim
from vae_lesson.models import VAE, flatten_images


def evaluate(model: VAE, x: Tensor, batch_size: int = 1000, generator: torch.Generator | None = None) -> dict[str, float]:
    """Mean single-sample ELBO, reconstruction and KL per image (nats) of binary images x, without gradients.

    ``x``: binary images (N, 784) or (N, 28, 28), e.g. ``data.binarized_test_set()``; grey ones are refused
    (for a model with a likelihood of grey levels, dequantized grey images: :func:`vae_lesson.likelihoods.dequantize`).
    ``fit`` records it after every epoch. Taught in ``notebooks/03_train_vae.ipynb``.
    """
    x = require_data_for(model, x, "evaluate")
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


def reconstruction_means(model: VAE, x: Tensor, batch_size: int = 1000) -> Tensor:
    """The expected image under p(x|z) at the posterior mean z = E_q[z], for every image of x: (N, 784), without
    gradients. For any likelihood (``model.likelihood.mean``); what the notebooks draw as a "reconstruction".
    Taught in ``notebooks/06_real_data.ipynb``."""
    mu, _ = posterior_means_and_logvars(model, x, batch_size)
    with torch.no_grad():
        return model.likelihood.mean(model.decode(mu))


def sample_means(model: VAE, n: int, generator: torch.Generator | None = None) -> Tensor:
    """The expected images of p(x|z) for n codes z drawn from the prior N(0, I): (n, 784), without gradients.
    (The decoder's mean, not a draw of pixel noise: a Gaussian's noise would hide the picture.)
    Taught in ``notebooks/06_real_data.ipynb``."""
    z = torch.randn(n, model.latent_dim, generator=generator)
    with torch.no_grad():
        return model.likelihood.mean(model.decode(z))


def bits_per_dim_estimate(model: VAE, x: Tensor, num_samples: int = 100,
                          generator: torch.Generator | None = None, chunk_size: int = 2**10) -> tuple[float, float]:
    """Test bits per dimension from -L_k on dequantized grey images x (:func:`vae_lesson.likelihoods.dequantize`),
    and its standard error over images, for a model of grey levels (Gaussian or continuous Bernoulli decoder).
    An upper bound on the true figure: L_k is a lower bound on log p(x). ``chunk_size`` decoder rows at a time (see
    :func:`vae_lesson.elbo.iwae_bound`; a ConvVAE's activations are large). Taught in ``notebooks/06_real_data.ipynb``."""
    nll, stderr = nll_estimate(model, x, num_samples, generator, chunk_size)
    d = flatten_images(x).shape[1]
    return float(bits_per_dim(-nll, d)), stderr / (d * math.log(2))
