"""Kullback-Leibler divergences between Gaussians, in closed form.

Taught in ``notebooks/01_elbo.ipynb`` (Gibbs' inequality, the VAE's KL term); the VAE's loss uses
:func:`kl_diag_normal_std_normal`.
"""

from __future__ import annotations


import torch
from torch import Tensor


def kl_diag_normal_std_normal(mu: Tensor, logvar: Tensor) -> Tensor:
    """KL( N(mu, diag(exp(logvar))) || N(0, I) ) in nats, summed over the last dimension.

    ``mu`` and ``logvar`` have shape (N, d) (or any (..., d)); the result has shape (N,) (or (...)).
    Closed form (Kingma & Welling 2014, Appendix B): 0.5 * sum(mu^2 + sigma^2 - 1 - log sigma^2).
    Taught in ``notebooks/01_elbo.ipynb``; the VAE's loss in ``notebooks/03_train_vae.ipynb`` uses it.
    """
    if mu.shape != logvar.shape:
        raise ValueError(f"mu and logvar must have the same shape, got {tuple(mu.shape)} and {tuple(logvar.shape)}.")
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(-1)


def cholesky(cov: Tensor, name: str = "covariance") -> Tensor:
    """Lower Cholesky factor of a symmetric positive-definite matrix (..., d, d), with a clear error if it is not."""
    if cov.ndim < 2 or cov.shape[-1] != cov.shape[-2]:
        raise ValueError(f"{name} must be a square matrix (d, d) or a batch (N, d, d), got shape {tuple(cov.shape)}.")
    if not torch.allclose(cov, cov.transpose(-1, -2), rtol=1e-6, atol=1e-9):
        raise ValueError(f"{name} must be symmetric; build it as L @ L.T or A @ A.T + eps * I.")
    factor, info = torch.linalg.cholesky_ex(cov)
    if bool((info != 0).any()):
        raise ValueError(f"{name} must be positive definite (all eigenvalues > 0), and it is not.")
    return factor


def log_det_from_cholesky(factor: Tensor) -> Tensor:
    """log det(L L^T) from the lower Cholesky factor L (..., d, d) -> (...)."""
    return 2.0 * factor.diagonal(dim1=-2, dim2=-1).log().sum(-1)


def kl_mvn(mean_q: Tensor, cov_q: Tensor, mean_p: Tensor, cov_p: Tensor) -> Tensor:
    """KL( N(mean_q, cov_q) || N(mean_p, cov_p) ) in nats, for full covariances.

    Means have shape (..., d), covariances (..., d, d); batch dimensions broadcast, so a shared
    (d, d) covariance works with (N, d) means. Returns shape (...).
    0.5 * [ tr(cov_p^-1 cov_q) + (mean_p - mean_q)^T cov_p^-1 (mean_p - mean_q) - d + log det cov_p - log det cov_q ].
    Taught in ``notebooks/01_elbo.ipynb``.
    """
    chol_q = cholesky(cov_q, "cov_q")
    chol_p = cholesky(cov_p, "cov_p")
    d = mean_q.shape[-1]
    batch = torch.broadcast_shapes(chol_q.shape[:-2], chol_p.shape[:-2])
    chol_p_b = chol_p.expand(*batch, d, d)
    # tr(cov_p^-1 cov_q) = || L_p^-1 L_q ||_F^2
    trace = torch.linalg.solve_triangular(chol_p_b, chol_q.expand(*batch, d, d), upper=False).pow(2).sum((-2, -1))
    diff = (mean_p - mean_q).unsqueeze(-1)
    full = torch.broadcast_shapes(batch, diff.shape[:-2])
    maha = torch.linalg.solve_triangular(chol_p.expand(*full, d, d), diff.expand(*full, d, 1), upper=False)
    maha = maha.pow(2).sum((-2, -1))
    return 0.5 * (trace + maha - d + log_det_from_cholesky(chol_p) - log_det_from_cholesky(chol_q))
