"""The importance-weighted bound against the ELBO and against log p(x) computed by quadrature."""

import math

import pytest
import torch

from vae_lesson.elbo import bernoulli_log_likelihood, elbo, iwae_bound
from vae_lesson.models import VAE

F64 = torch.float64


@pytest.fixture(scope="module")
def toy():
    """A VAE with a 1-D latent, so that log p(x) = log ∫ p(x|z) N(z; 0, 1) dz can be computed on a grid."""
    torch.manual_seed(0)
    model = VAE(1, hidden=(8,)).double().eval()
    x = torch.bernoulli(torch.sigmoid(model.decode(torch.randn(4, 1, dtype=F64))).detach(),
                        generator=torch.Generator().manual_seed(1))
    return model, x


def log_marginal_by_quadrature(model, x):
    z = torch.linspace(-12, 12, 24_001, dtype=F64)[:, None]
    dz = (z[1] - z[0]).item()
    with torch.no_grad():
        logits = model.decode(z)
        log_lik = torch.stack([bernoulli_log_likelihood(logits, xi) for xi in x], dim=1)  # (grid, N)
    log_prior = -0.5 * (z**2 + math.log(2 * math.pi))
    return torch.logsumexp(log_lik + log_prior, dim=0) + math.log(dz)


def test_iwae_converges_to_the_exact_log_marginal(toy):
    model, x = toy
    exact = log_marginal_by_quadrature(model, x)
    bound = iwae_bound(model, x, 20_000, generator=torch.Generator().manual_seed(2))
    assert (bound <= exact + 0.02).all()
    torch.testing.assert_close(bound, exact, rtol=0, atol=0.05)
    with torch.no_grad():
        assert (elbo(model, x, num_samples=5000, generator=torch.Generator().manual_seed(3)) < exact).all()


def test_l1_is_the_elbo_in_expectation(toy):
    model, x = toy
    repeats = 3000
    l1 = iwae_bound(model, x.repeat(repeats, 1), 1, generator=torch.Generator().manual_seed(4)).reshape(repeats, len(x))
    with torch.no_grad():
        reference = elbo(model, x, num_samples=200_000, generator=torch.Generator().manual_seed(5))
    stderr = l1.std(0) / math.sqrt(len(l1))
    assert ((l1.mean(0) - reference).abs() < 5 * stderr + 0.01).all()


def test_bound_rises_with_k_on_average(toy):
    model, x = toy
    g = torch.Generator().manual_seed(6)
    means = [iwae_bound(model, x.repeat(200, 1), k, generator=g).mean().item() for k in (1, 10, 100)]
    assert means[0] < means[1] < means[2]


def test_chunking_covers_every_image_and_sample():
    torch.manual_seed(0)
    model = VAE(3, hidden=(16,))
    x = torch.bernoulli(torch.full((7, 784), 0.3), generator=torch.Generator().manual_seed(0))
    for chunk in (1, 5, 64, 10_000):
        out = iwae_bound(model, x, 13, generator=torch.Generator().manual_seed(1), chunk_size=chunk)
        assert out.shape == (7,) and torch.isfinite(out).all()
    # with one image per chunk and all samples at once, the draws are the same as one big call per image
    whole = torch.cat([iwae_bound(model, x[i : i + 1], 13, generator=g) for g in [torch.Generator().manual_seed(9)] for i in range(7)])
    chunked = iwae_bound(model, x, 13, generator=torch.Generator().manual_seed(9), chunk_size=13)
    torch.testing.assert_close(whole, chunked)
    with pytest.raises(ValueError, match="num_samples"):
        iwae_bound(model, x, 0)
