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


def decode_images(model: VAE, z: Tensor) -> Tensor:
    """sigmoid(decode(z)): the pixel probabilities of p(x|z) for codes z (N, d), a tensor (N, 28, 28) without
    gradients (computed under ``torch.no_grad``: decoding to look at images, not to train)."""
    with torch.no_grad():
        return torch.sigmoid(model.decode(z)).reshape(-1, 28, 28)


#: Rows of points per block in the nearest-code searches: a block of 1,024 points against 10,000 codes is 40 MB of
#: distances, where the whole 10,000 x 10,000 matrix would be 400 MB.
DISTANCE_BLOCK_ROWS = 1024


def nearest_code_distances(points: Tensor, codes: Tensor) -> Tensor:
    """For each of ``points`` (M, d), the Euclidean distance to the nearest of ``codes`` (N, d): (M,).

    Computed in blocks of :data:`DISTANCE_BLOCK_ROWS` points, so that memory stays small for large M and N.
    Taught in ``notebooks/01_elbo.ipynb`` §0 (holes in an autoencoder's map); used in
    ``notebooks/04_latent_explorer.ipynb`` §4.
    """
    _check_point_sets(points, codes)
    return torch.cat([torch.cdist(block, codes).min(dim=1).values for block in points.split(DISTANCE_BLOCK_ROWS)])


def nearest_other_code_distances(codes: Tensor) -> Tensor:
    """For each of ``codes`` (N, d), the distance to the nearest *other* code (its own distance, 0, left out): (N,).

    The spacing of a map of codes; computed in blocks like :func:`nearest_code_distances`. Needs N >= 2.
    Used in ``notebooks/01_elbo.ipynb`` §0 and ``notebooks/04_latent_explorer.ipynb`` §4.
    """
    _check_point_sets(codes, codes)
    if len(codes) < 2:
        raise ValueError("nearest_other_code_distances needs at least two codes.")
    out = []
    for start in range(0, len(codes), DISTANCE_BLOCK_ROWS):
        distances = torch.cdist(codes[start : start + DISTANCE_BLOCK_ROWS], codes)
        rows = torch.arange(len(distances))
        distances[rows, rows + start] = float("inf")  # each code's distance to itself
        out.append(distances.min(dim=1).values)
    return torch.cat(out)


def neighbour_counts(codes: Tensor, radius: float) -> Tensor:
    """For each of ``codes`` (N, d), how many *other* codes lie within ``radius`` of it (int64, (N,)): how crowded
    the map is around each code. Computed in blocks like :func:`nearest_code_distances`.
    Used in ``notebooks/04_latent_explorer.ipynb`` §2.
    """
    _check_point_sets(codes, codes)
    if not radius > 0:
        raise ValueError(f"radius must be positive, got {radius!r}.")
    counts = [(torch.cdist(block, codes) < radius).sum(dim=1) for block in codes.split(DISTANCE_BLOCK_ROWS)]
    return torch.cat(counts) - 1  # each code is within any radius of itself


def _check_point_sets(points: Tensor, codes: Tensor) -> None:
    if points.ndim != 2 or codes.ndim != 2 or points.shape[1] != codes.shape[1]:
        raise ValueError(f"points and codes must be (M, d) and (N, d) with the same d, got {tuple(points.shape)} "
                         f"and {tuple(codes.shape)}.")


def lerp(z_a: Tensor, z_b: Tensor, t: float | Tensor) -> Tensor:
    """The straight line (1 - t) z_a + t z_b."""
    return (1 - t) * z_a + t * z_b


def slerp(z_a: Tensor, z_b: Tensor, t: float | Tensor) -> Tensor:
    """Spherical interpolation of the direction, linear interpolation of the norm: the point at fraction t
    on the path from z_a to z_b (each (..., d), batched over the leading dimensions; ``t`` a number or a tensor
    that broadcasts against (..., 1)).

    The direction moves at constant angular speed along the great circle from z_a/|z_a| to z_b/|z_b| (Shoemake
    1985; White 2016 for generative models), ``sin((1-t) w)/sin(w) u_a + sin(t w)/sin(w) u_b`` with
    ``cos w = <u_a, u_b>``, computed in the equivalent form ``cos(t w) u_a + sin(t w) p`` with p the unit vector
    of u_b's part orthogonal to u_a. The direction is multiplied by the norm (1 - t)|z_a| + t|z_b|, so
    ``|slerp(z_a, z_b, t)| = (1 - t)|z_a| + t|z_b|`` exactly (up to rounding), where a straight line dips towards 0.
    (Shoemake's formula applied to z_a and z_b themselves keeps the norm between the endpoints' only when
    the norms are equal or the angle is below 90 degrees: norms 1 and 3 at 150 degrees reach 4.65 near t = 0.66.)

    Degenerate rows, each handled on its own: a zero endpoint gives the straight line (1 - t) z_a + t z_b,
    whose norm is then linear in t too; nearly parallel directions (angle below sqrt(machine epsilon)) use the
    normalised straight line between the unit vectors; exactly opposite directions (within a few machine
    epsilons of 180 degrees) are joined by infinitely many half circles, and slerp takes the one through
    the coordinate axis most orthogonal to z_a (a deterministic choice, not the only one). In one dimension,
    where no such circle exists, opposite codes are joined by the straight line through 0.
    Taught in ``notebooks/04_latent_explorer.ipynb``.
    """
    z_a, z_b = torch.broadcast_tensors(z_a, z_b)
    eps = torch.finfo(z_a.dtype).eps if z_a.is_floating_point() else torch.finfo(torch.float32).eps
    t = torch.as_tensor(t, dtype=z_a.dtype)
    norm_a, norm_b = z_a.norm(dim=-1, keepdim=True), z_b.norm(dim=-1, keepdim=True)
    u_a, u_b = z_a / norm_a.clamp_min(torch.finfo(z_a.dtype).tiny), z_b / norm_b.clamp_min(torch.finfo(z_a.dtype).tiny)
    cos = (u_a * u_b).sum(-1, keepdim=True)
    orthogonal = u_b - cos * u_a
    sin = orthogonal.norm(dim=-1, keepdim=True)
    omega = torch.atan2(sin, cos)
    parallel = omega < math.sqrt(eps)
    opposite = (~parallel) & (sin <= 8 * eps)
    p = torch.where(opposite, _most_orthogonal_axis(u_a), orthogonal / sin.clamp_min(torch.finfo(z_a.dtype).tiny))
    omega = torch.where(opposite, torch.full_like(omega, math.pi), omega)
    circle = torch.cos(t * omega) * u_a + torch.sin(t * omega) * p
    direction = torch.where(parallel, lerp(u_a, u_b, t), circle)
    direction = direction / direction.norm(dim=-1, keepdim=True).clamp_min(torch.finfo(z_a.dtype).tiny)
    path = lerp(norm_a, norm_b, t) * direction
    straight = (norm_a == 0) | (norm_b == 0) | (opposite & (z_a.shape[-1] == 1))
    return torch.where(straight, lerp(z_a, z_b, t), path)


def _most_orthogonal_axis(u: Tensor) -> Tensor:
    """For unit vectors u (..., d): the unit vector of e_k - u_k u, with e_k the coordinate axis least aligned
    with u (a vector orthogonal to u; zero when d = 1)."""
    k = u.abs().argmin(dim=-1, keepdim=True)
    axis = torch.zeros_like(u).scatter_(-1, k, 1.0)
    p = axis - u.gather(-1, k) * u
    return p / p.norm(dim=-1, keepdim=True).clamp_min(torch.finfo(u.dtype).tiny)


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
    probabilities = torch.as_tensor(probabilities)
    probabilities = probabilities.reshape(len(probabilities), -1)
    # in blocks of images: float64 copies of 10,000 decoded images and their temporaries would take 300 MB
    return torch.cat([_bernoulli_entropy(block.double()) for block in probabilities.split(ENTROPY_BLOCK_ROWS)])


#: Images per block in :func:`pixel_entropy` (a block of 1,000 in float64 is 6 MB per temporary).
ENTROPY_BLOCK_ROWS = 1000


def _bernoulli_entropy(p: Tensor) -> Tensor:
    return (-(torch.special.xlogy(p, p) + torch.special.xlogy(1 - p, 1 - p))).sum(1)
