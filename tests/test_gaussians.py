"""The one sampler and the one Gaussian log-density, against torch.distributions in float64."""

import pytest
import torch
from torch.distributions import MultivariateNormal, Normal

from vae_lesson.gaussians import diagonal_gaussian_log_density, gaussian_log_density, reparameterize
from vae_lesson.models import VAE

F64 = torch.float64


def test_reparameterize_has_the_right_moments_and_shapes():
    g = torch.Generator().manual_seed(0)
    mu = torch.tensor([[1.0, -2.0, 0.5]], dtype=F64)
    logvar = torch.tensor([[0.0, 2 * torch.log(torch.tensor(3.0)).item(), -2.0]], dtype=F64)
    z = reparameterize(mu, logvar, 200_000, g)
    assert z.shape == (200_000, 1, 3)
    assert reparameterize(mu, logvar, generator=g).shape == (1, 3)
    torch.testing.assert_close(z.mean(0), mu, atol=0.03, rtol=0)
    torch.testing.assert_close(z.std(0), (0.5 * logvar).exp(), atol=0.03, rtol=0)


def test_reparameterize_passes_gradients_to_mu_and_logvar():
    mu = torch.zeros(4, 2, dtype=F64, requires_grad=True)
    logvar = torch.zeros(4, 2, dtype=F64, requires_grad=True)
    g = torch.Generator().manual_seed(1)
    z = reparameterize(mu, logvar, generator=g)
    eps = torch.randn(4, 2, generator=torch.Generator().manual_seed(1), dtype=F64)  # the same draw
    z.sum().backward()
    torch.testing.assert_close(mu.grad, torch.ones_like(mu))  # dz/dmu = 1
    torch.testing.assert_close(logvar.grad, 0.5 * eps)  # dz/dlogvar = sigma * eps / 2 at sigma = 1


def test_reparameterize_rejects_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        reparameterize(torch.zeros(3, 2), torch.zeros(3, 1))
    with pytest.raises(ValueError, match="num_samples"):
        reparameterize(torch.zeros(3, 2), torch.zeros(3, 2), 0)


def test_log_density_matches_torch_distributions():
    g = torch.Generator().manual_seed(2)
    # the standard normal
    z = torch.randn(5, 4, generator=g, dtype=F64)
    torch.testing.assert_close(gaussian_log_density(z), Normal(0.0, 1.0).log_prob(z).sum(-1))
    # a diagonal Gaussian
    mu, logvar = torch.randn(2, 5, 4, generator=g, dtype=F64)
    expected = Normal(mu, (0.5 * logvar).exp()).log_prob(z).sum(-1)
    torch.testing.assert_close(diagonal_gaussian_log_density(z, mu, logvar), expected)
    # a full covariance through its Cholesky factor
    a = torch.randn(4, 4, generator=g, dtype=F64)
    cov = a @ a.T + 0.5 * torch.eye(4, dtype=F64)
    chol = torch.linalg.cholesky(cov)
    m = torch.randn(4, generator=g, dtype=F64)
    noise = torch.linalg.solve_triangular(chol, (z - m).T, upper=False).T
    log_det_scale = chol.diagonal().log().sum()
    torch.testing.assert_close(gaussian_log_density(noise, log_det_scale), MultivariateNormal(m, cov).log_prob(z))


def test_the_vae_forward_pass_draws_k_samples_with_the_one_sampler():
    torch.manual_seed(0)
    model = VAE(3, hidden=(16,))
    x = (torch.rand(5, 784, generator=torch.Generator().manual_seed(3)) < 0.5).float()
    out = model(x, num_samples=7, generator=torch.Generator().manual_seed(4))
    assert out.z.shape == (7, 5, 3) and out.logits.shape == (7, 5, 784) and out.mu.shape == (5, 3)
    mu, logvar = model.encode(x)
    torch.testing.assert_close(out.z, VAE.reparameterize(mu, logvar, 7, torch.Generator().manual_seed(4)))
    assert model(x).z.shape == (5, 3)


def test_the_default_vae_is_the_course_model():
    model = VAE(32)
    assert model.config == {"latent_dim": 32, "hidden": [256, 256], "activation": "relu"}  # notebook 03's model
    # 784-256-256-64 (mu and logvar) and 32-256-256-784, weights and biases
    encoder = 784 * 256 + 256 + 256 * 256 + 256 + 256 * 64 + 64
    decoder = 32 * 256 + 256 + 256 * 256 + 256 + 256 * 784 + 784
    assert sum(p.numel() for p in model.parameters()) == encoder + decoder
