"""The two things the course does with a Gaussian: draw from it by reparameterization, and take its log-density.

``reparameterize`` is the trick of ``notebooks/02_gradients.ipynb``: z = mu + sigma * eps with eps ~ N(0, I), a
sample through which gradients flow to mu and sigma. ``gaussian_log_density`` is every Gaussian log-density in the
package (the prior p(z), the encoder's q(z|x), the linear-Gaussian model's p(x|z), p(x) and q of
``notebooks/01_elbo.ipynb``), written once in the form that needs no matrix inverse: through the standardized point.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

LOG_2PI = math.log(2 * math.pi)


def reparameterize(
    mu: Tensor, logvar: Tensor, num_samples: int | None = None, generator: torch.Generator | None = None
) -> Tensor:
    """z = mu + exp(logvar / 2) * eps, eps ~ N(0, I): a sample of N(mu, diag exp(logvar)) that is differentiable
    in mu and logvar.

    ``mu`` and ``logvar`` have the same shape (..., d). With ``num_samples=None`` the result has that shape (one
    sample); with ``num_samples=k`` it has shape (k, ..., d) (k samples, drawn in one call). Also available as
    ``VAE.reparameterize``. Taught in ``notebooks/02_gradients.ipynb`` (written by hand in its exercise 1);
    ``notebooks/03_train_vae.ipynb`` calls it.
    """
    if mu.shape != logvar.shape:
        raise ValueError(f"mu and logvar must have the same shape, got {tuple(mu.shape)} and {tuple(logvar.shape)}.")
    if num_samples is not None and (not isinstance(num_samples, int) or num_samples < 1):
        raise ValueError(f"num_samples must be a positive integer or None, got {num_samples!r}.")
    shape = mu.shape if num_samples is None else (num_samples, *mu.shape)
    eps = torch.randn(shape, generator=generator, dtype=mu.dtype, device=mu.device)
    return mu + (0.5 * logvar).exp() * eps


def gaussian_log_density(noise: Tensor, log_det_scale: Tensor | float = 0.0) -> Tensor:
    """log N(z; m, S S^T) in nats, for z = m + S @ noise, from the standardized point ``noise`` (..., d) -> (...).

    log N = -(d log(2 pi) + ||noise||^2) / 2 - log |det S|, with ``log_det_scale`` = log |det S| (shape (...) or a
    number). Examples: the prior N(0, I) is ``gaussian_log_density(z)``; a diagonal Gaussian is
    ``gaussian_log_density((z - mu) / sigma, log(sigma).sum(-1))``; with a Cholesky factor L of the covariance,
    noise = L^-1 (z - m) and log |det L| = half of log det of the covariance.
    The formula is derived in ``notebooks/01_elbo.ipynb``; the ELBO and L_k of ``notebooks/03_train_vae.ipynb`` use it.
    """
    d = noise.shape[-1]
    return -0.5 * (d * LOG_2PI + noise.pow(2).sum(-1)) - log_det_scale


def diagonal_gaussian_log_density(z: Tensor, mu: Tensor, logvar: Tensor) -> Tensor:
    """log N(z; mu, diag exp(logvar)) summed over the last axis (..., d) -> (...): q(z|x) of a VAE's encoder."""
    return gaussian_log_density((z - mu) * (-0.5 * logvar).exp(), 0.5 * logvar.sum(-1))
