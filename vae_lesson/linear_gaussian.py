"""The linear-Gaussian latent-variable model (probabilistic PCA), where everything is exact.

z ~ N(0, I_d),   x | z ~ N(W z + b, sigma^2 I_D),
so p(x) = N(b, W W^T + sigma^2 I) and p(z | x) is Gaussian. With these closed forms,
ELBO = log p(x) - KL(q || p(z|x)) can be checked to rounding error.
Taught in ``notebooks/01_elbo.ipynb`` (Tipping & Bishop 1999).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from vae_lesson.divergences import cholesky, kl_mvn, log_det_from_cholesky
from vae_lesson.gaussians import gaussian_log_density


class LinearGaussianModel:
    """z ~ N(0, I_d), x | z ~ N(W z + b, noise_std^2 I_D), with exact log p(x), posterior, ELBO and KL.

    ``W`` has shape (D, d), ``b`` shape (D,), ``noise_std`` is a positive number; all results use
    W's dtype (use float64 where precision matters). Methods take a batch ``x`` of shape (N, D) and
    return one value per example, in nats. Taught in ``notebooks/01_elbo.ipynb``.
    """

    def __init__(self, W: Tensor, b: Tensor, noise_std: float | Tensor) -> None:
        if W.ndim != 2:
            raise ValueError(f"W must have shape (D, d), got {tuple(W.shape)}.")
        if b.shape != (W.shape[0],):
            raise ValueError(f"b must have shape (D,) = ({W.shape[0]},) to match W, got {tuple(b.shape)}.")
        noise_std = torch.as_tensor(noise_std, dtype=W.dtype)
        if noise_std.ndim != 0 or not noise_std > 0:
            raise ValueError(f"noise_std must be one positive number, got {noise_std}.")
        self.W, self.b, self.noise_std = W, b.to(W.dtype), noise_std
        self.data_dim, self.latent_dim = W.shape

    # --- shapes -------------------------------------------------------------------------------
    def _check_x(self, x: Tensor) -> Tensor:
        if x.ndim != 2 or x.shape[1] != self.data_dim:
            raise ValueError(
                f"x must have shape (N, D) = (N, {self.data_dim}), got {tuple(x.shape)}; "
                "for a single point use x[None] or x.reshape(1, -1)."
            )
        return x.to(self.W.dtype)

    def _check_q(self, x: Tensor, q_mean: Tensor, q_cov: Tensor) -> None:
        d = self.latent_dim
        if q_mean.shape != (len(x), d):
            raise ValueError(f"q_mean must have shape (N, d) = ({len(x)}, {d}), got {tuple(q_mean.shape)}.")
        if q_cov.shape not in {(d, d), (len(x), d, d)}:
            raise ValueError(f"q_cov must have shape (d, d) or (N, d, d) with d = {d}, got {tuple(q_cov.shape)}.")

    # --- the exact quantities -------------------------------------------------------------------
    @property
    def marginal_cov(self) -> Tensor:
        """Cov[x] = W W^T + sigma^2 I, shape (D, D)."""
        return self.W @ self.W.T + self.noise_std**2 * torch.eye(self.data_dim, dtype=self.W.dtype)

    def log_marginal(self, x: Tensor) -> Tensor:
        """Exact log p(x) = log N(x; b, W W^T + sigma^2 I) for x (N, D) -> (N,)."""
        x = self._check_x(x)
        chol = torch.linalg.cholesky(self.marginal_cov)
        white = torch.linalg.solve_triangular(chol, (x - self.b).T, upper=False)  # (D, N)
        return gaussian_log_density(white.T, 0.5 * log_det_from_cholesky(chol))

    def posterior(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """The exact posterior p(z | x) = N(mean, cov): mean (N, d) and cov (d, d), shared by all x.

        Completing the square: cov = (I + W^T W / sigma^2)^-1, mean = cov W^T (x - b) / sigma^2.
        """
        x = self._check_x(x)
        var = self.noise_std**2
        precision = torch.eye(self.latent_dim, dtype=self.W.dtype) + self.W.T @ self.W / var
        cov = torch.cholesky_inverse(torch.linalg.cholesky(precision))
        mean = (x - self.b) @ self.W @ cov / var
        return mean, cov

    def log_likelihood(self, x: Tensor, z: Tensor) -> Tensor:
        """log p(x | z) for x (N, D) and z (..., N, d) -> (..., N)."""
        residual = x - z @ self.W.T - self.b
        return gaussian_log_density(residual / self.noise_std, self.data_dim * self.noise_std.log())

    def log_prior(self, z: Tensor) -> Tensor:
        """log p(z) = log N(z; 0, I) for z (..., d) -> (...)."""
        return gaussian_log_density(z)

    def log_joint(self, x: Tensor, z: Tensor) -> Tensor:
        """log p(x, z) = log p(x | z) + log p(z) for x (N, D) and z (..., N, d) -> (..., N)."""
        x = self._check_x(x)
        return self.log_likelihood(x, z.to(self.W.dtype)) + self.log_prior(z.to(self.W.dtype))

    # --- bounds for a Gaussian q ------------------------------------------------------------------
    def expected_log_likelihood(self, x: Tensor, q_mean: Tensor, q_cov: Tensor) -> Tensor:
        """E_q[log p(x | z)] in closed form for q = N(q_mean, q_cov): the ELBO's reconstruction term, (N,).

        = -D/2 log(2 pi sigma^2) - (||x - b - W m||^2 + tr(W^T W S)) / (2 sigma^2).
        """
        x = self._check_x(x)
        self._check_q(x, q_mean, q_cov)
        var = self.noise_std**2
        residual = x - q_mean @ self.W.T - self.b
        spread = (self.W.T @ self.W * q_cov).sum((-2, -1))
        return -0.5 * (self.data_dim * torch.log(2 * math.pi * var) + (residual.pow(2).sum(-1) + spread) / var)

    def kl_to_prior(self, q_mean: Tensor, q_cov: Tensor) -> Tensor:
        """KL(q || p(z)) with p(z) = N(0, I): the ELBO's regularisation term, (N,)."""
        d = self.latent_dim
        return kl_mvn(q_mean, q_cov, torch.zeros(d, dtype=self.W.dtype), torch.eye(d, dtype=self.W.dtype))

    def elbo(self, x: Tensor, q_mean: Tensor, q_cov: Tensor) -> Tensor:
        """Closed-form ELBO = E_q[log p(x | z)] - KL(q || p(z)) for q = N(q_mean, q_cov), (N,).

        ``q_mean`` has shape (N, d); ``q_cov`` (d, d) shared or (N, d, d) per example.
        """
        return self.expected_log_likelihood(x, q_mean, q_cov) - self.kl_to_prior(q_mean, q_cov)

    def kl_to_posterior(self, x: Tensor, q_mean: Tensor, q_cov: Tensor) -> Tensor:
        """Exact KL(q || p(z | x)) for q = N(q_mean, q_cov), (N,). Never negative; zero only at q = p(z|x)."""
        x = self._check_x(x)
        self._check_q(x, q_mean, q_cov)
        post_mean, post_cov = self.posterior(x)
        return kl_mvn(q_mean, q_cov, post_mean, post_cov)

    def elbo_mc_samples(
        self, x: Tensor, q_mean: Tensor, q_cov: Tensor, num_samples: int, generator: torch.Generator | None = None
    ) -> Tensor:
        """Single-sample ELBO estimates log p(x, z_s) - log q(z_s), z_s ~ q, shape (num_samples, N).

        Their mean is :meth:`elbo_mc`; their spread gives its standard error.
        """
        x = self._check_x(x)
        self._check_q(x, q_mean, q_cov)
        if not isinstance(num_samples, int) or num_samples < 1:
            raise ValueError(f"num_samples must be a positive integer, got {num_samples!r}.")
        chol = cholesky(q_cov, "q_cov")
        eps = torch.randn(num_samples, len(x), self.latent_dim, generator=generator, dtype=self.W.dtype)
        z = q_mean + torch.einsum("...ij,...j->...i", chol, eps)
        return self.log_joint(x, z) - gaussian_log_density(eps, 0.5 * log_det_from_cholesky(chol))

    def elbo_mc(
        self, x: Tensor, q_mean: Tensor, q_cov: Tensor, num_samples: int, generator: torch.Generator | None = None
    ) -> Tensor:
        """Monte Carlo ELBO: the mean over ``num_samples`` draws z ~ q of log p(x, z) - log q(z), (N,)."""
        return self.elbo_mc_samples(x, q_mean, q_cov, num_samples, generator).mean(0)

    def sample(
        self, num: int, generator: torch.Generator | None = None, return_latent: bool = False
    ) -> Tensor | tuple[Tensor, Tensor]:
        """Draw ``num`` examples x (num, D) from the model; with ``return_latent`` also their z (num, d)."""
        z = torch.randn(num, self.latent_dim, generator=generator, dtype=self.W.dtype)
        noise = torch.randn(num, self.data_dim, generator=generator, dtype=self.W.dtype)
        x = z @ self.W.T + self.b + self.noise_std * noise
        return (x, z) if return_latent else x

    @classmethod
    def random(
        cls, data_dim: int, latent_dim: int, noise_std: float = 0.5, generator: torch.Generator | None = None,
        dtype: torch.dtype = torch.float64,
    ) -> LinearGaussianModel:
        """A model with W, b drawn from N(0, 1): a convenient random instance for experiments and tests."""
        W = torch.randn(data_dim, latent_dim, generator=generator, dtype=dtype)
        b = torch.randn(data_dim, generator=generator, dtype=dtype)
        return cls(W, b, noise_std)
