"""Moving through a VAE's latent space: decoding codes to images, interpolating, and ranking dimensions.

Taught in ``notebooks/04_latent_explorer.ipynb``; the widgets of ``vae_lesson.widgets`` are built on these.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from vae_lesson.evaluation import kl_per_dimension_of
from vae_lesson.models import VAE

INTERPOLATION_MODES = ("linear", "spherical")


def decode_images(model: VAE, z: Tensor) -> np.ndarray:
    """sigmoid(decode(z)): the pixel probabilities of p(x|z) as a float32 array (N, 28, 28), without gradients."""
    with torch.no_grad():
        return torch.sigmoid(model.decode(z)).reshape(-1, 28, 28).numpy()


def lerp(z_a: Tensor, z_b: Tensor, t: float | Tensor) -> Tensor:
    """The straight line (1 - t) z_a + t z_b."""
    return (1 - t) * z_a + t * z_b


def slerp(z_a: Tensor, z_b: Tensor, t: float | Tensor) -> Tensor:
    """Spherical interpolation: along the great circle from z_a to z_b (Shoemake 1985; White 2016 for
    generative models). Its norm stays between the endpoints' norms, where a straight line dips towards 0.
    Falls back to the straight line when z_a and z_b are (nearly) parallel, where the circle is undefined.
    """
    norms = z_a.norm(dim=-1, keepdim=True) * z_b.norm(dim=-1, keepdim=True)
    cos = ((z_a * z_b).sum(-1, keepdim=True) / norms.clamp_min(1e-12)).clamp(-1.0, 1.0)
    omega = torch.arccos(cos)
    sin = torch.sin(omega)
    if bool((sin.abs() < 1e-6).any()):
        return lerp(z_a, z_b, t)
    return (torch.sin((1 - t) * omega) * z_a + torch.sin(t * omega) * z_b) / sin


def interpolate(z_a: Tensor, z_b: Tensor, ts: Tensor, mode: str = "linear") -> Tensor:
    """Codes along the path from z_a to z_b (each (d,)) at the fractions ``ts`` (T,): shape (T, d)."""
    if mode not in INTERPOLATION_MODES:
        raise ValueError(f"mode must be one of {INTERPOLATION_MODES}, got {mode!r}.")
    path = lerp if mode == "linear" else slerp
    return path(z_a[None], z_b[None], ts.to(z_a.dtype)[:, None])


def dimensions_by_kl(mu: Tensor, logvar: Tensor) -> Tensor:
    """Latent dimensions ordered by their average KL(q(z_j|x) || p(z_j)) over the images, largest first.

    ``mu`` and ``logvar`` are the posterior parameters of many images, (N, d). Dimensions with a KL near 0
    have collapsed to the prior: moving them changes nothing in the decoded image.
    """
    return torch.argsort(kl_per_dimension_of(mu, logvar), descending=True, stable=True)


def typical_prior_norm(latent_dim: int) -> float:
    """sqrt(d): almost all of N(0, I_d)'s samples have a norm close to this for large d (the 'typical set')."""
    return math.sqrt(latent_dim)


def pixel_entropy(probabilities: np.ndarray | Tensor) -> Tensor:
    """The entropy of p(x|z), in nats, for decoded pixel probabilities (N, 28, 28) or (N, 784): the sum over pixels of
    the Bernoulli entropy -p log p - (1 - p) log(1 - p). A sharp decoding (pixels near 0 or 1) has a low entropy,
    a blurred one a high entropy: a number for "this sample looks bad"."""
    p = torch.as_tensor(probabilities, dtype=torch.float64).reshape(len(probabilities), -1)
    return (-(torch.special.xlogy(p, p) + torch.special.xlogy(1 - p, 1 - p))).sum(1)
