"""The linear-Gaussian model against independent references: torch.distributions, the joint Gaussian's
conditional, and large-sample Monte Carlo. All in float64."""

import pytest
import torch
from torch.distributions import MultivariateNormal, Normal, kl_divergence

from vae_lesson.divergences import kl_diag_normal_std_normal, kl_mvn
from vae_lesson.linear_gaussian import LinearGaussianModel

F64 = torch.float64
SEEDS = range(8)


def random_setup(seed, data_dim=5, latent_dim=3, n=6, shared_cov=False):
    g = torch.Generator().manual_seed(seed)
    model = LinearGaussianModel.random(data_dim, latent_dim, noise_std=0.3 + seed * 0.1, generator=g)
    x = model.sample(n, generator=g)
    q_mean = torch.randn(n, latent_dim, generator=g, dtype=F64)
    shape = (latent_dim, latent_dim) if shared_cov else (n, latent_dim, latent_dim)
    A = torch.randn(*shape, generator=g, dtype=F64) * 0.5
    q_cov = A @ A.transpose(-1, -2) + 0.05 * torch.eye(latent_dim, dtype=F64)
    return model, x, q_mean, q_cov


@pytest.mark.parametrize("seed", SEEDS)
def test_log_marginal_matches_torch_multivariate_normal(seed):
    model, x, _, _ = random_setup(seed)
    W, b, s = model.W, model.b, model.noise_std
    reference = MultivariateNormal(b, W @ W.T + s**2 * torch.eye(len(b), dtype=F64)).log_prob(x)
    torch.testing.assert_close(model.log_marginal(x), reference, rtol=0, atol=1e-10)


@pytest.mark.parametrize("seed", SEEDS)
def test_posterior_matches_the_joint_gaussians_conditional(seed):
    model, x, _, _ = random_setup(seed)
    W, b = model.W, model.b
    C = model.marginal_cov
    # (z, x) is jointly Gaussian with Cov[z, x] = W^T; condition x on it the textbook way.
    gain = W.T @ torch.linalg.inv(C)
    ref_mean = (x - b) @ gain.T
    ref_cov = torch.eye(model.latent_dim, dtype=F64) - gain @ W
    mean, cov = model.posterior(x)
    torch.testing.assert_close(mean, ref_mean, rtol=0, atol=1e-10)
    torch.testing.assert_close(cov, ref_cov, rtol=0, atol=1e-10)


@pytest.mark.parametrize("seed", SEEDS)
def test_posterior_is_bayes_rule_on_a_grid(seed):
    """1-D latent: p(z|x) = p(x|z) p(z) / p(x), evaluated pointwise with torch.distributions."""
    g = torch.Generator().manual_seed(seed)
    model = LinearGaussianModel.random(3, 1, noise_std=0.7, generator=g)
    x = model.sample(1, generator=g)
    z = torch.linspace(-4, 4, 41, dtype=F64)[:, None]
    lik = Normal(z @ model.W.T + model.b, model.noise_std).log_prob(x).sum(-1)
    prior = Normal(0.0, 1.0).log_prob(z[:, 0])
    bayes = lik + prior - model.log_marginal(x)
    mean, cov = model.posterior(x)
    torch.testing.assert_close(Normal(mean[0, 0], cov[0, 0].sqrt()).log_prob(z[:, 0]), bayes, rtol=0, atol=1e-10)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shared_cov", [False, True])
def test_elbo_plus_kl_is_log_marginal(seed, shared_cov):
    model, x, q_mean, q_cov = random_setup(seed, shared_cov=shared_cov)
    total = model.elbo(x, q_mean, q_cov) + model.kl_to_posterior(x, q_mean, q_cov)
    torch.testing.assert_close(total, model.log_marginal(x), rtol=0, atol=1e-9)
    assert (model.kl_to_posterior(x, q_mean, q_cov) > 0).all()


def test_elbo_equals_log_marginal_at_the_posterior():
    model, x, _, _ = random_setup(0)
    mean, cov = model.posterior(x)
    torch.testing.assert_close(model.elbo(x, mean, cov), model.log_marginal(x), rtol=0, atol=1e-10)
    torch.testing.assert_close(model.kl_to_posterior(x, mean, cov), torch.zeros(len(x), dtype=F64), rtol=0, atol=1e-10)


@pytest.mark.parametrize("seed", range(3))
def test_closed_form_elbo_matches_a_large_monte_carlo_with_torch_distributions(seed):
    model, x, q_mean, q_cov = random_setup(seed, n=3)
    q = MultivariateNormal(q_mean, q_cov)
    torch.manual_seed(seed)
    z = q.sample((200_000,))
    p_x_given_z = Normal(z @ model.W.T + model.b, model.noise_std)
    single = p_x_given_z.log_prob(x).sum(-1) + Normal(0.0, 1.0).log_prob(z).sum(-1) - q.log_prob(z)
    stderr = single.std(0) / len(single) ** 0.5
    assert ((single.mean(0) - model.elbo(x, q_mean, q_cov)).abs() < 5 * stderr).all()


@pytest.mark.parametrize("seed", range(3))
def test_elbo_mc_is_unbiased_within_its_standard_error(seed):
    model, x, q_mean, q_cov = random_setup(seed, n=4)
    g = torch.Generator().manual_seed(100 + seed)
    single = model.elbo_mc_samples(x, q_mean, q_cov, 100_000, generator=g)
    stderr = single.std(0) / len(single) ** 0.5
    assert ((single.mean(0) - model.elbo(x, q_mean, q_cov)).abs() < 5 * stderr).all()
    # and its mean is elbo_mc, reproducibly
    again = model.elbo_mc(x, q_mean, q_cov, 100_000, generator=torch.Generator().manual_seed(100 + seed))
    torch.testing.assert_close(again, single.mean(0))


def test_elbo_mc_at_the_posterior_has_zero_variance():
    """At q = p(z|x), log p(x, z) - log q(z) = log p(x) for every z: the estimator is exact."""
    model, x, _, _ = random_setup(1)
    mean, cov = model.posterior(x)
    single = model.elbo_mc_samples(x, mean, cov, 50, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(single, model.log_marginal(x).expand(50, -1), rtol=0, atol=1e-9)


def test_sample_has_the_marginal_moments():
    g = torch.Generator().manual_seed(0)
    model = LinearGaussianModel.random(3, 2, noise_std=0.5, generator=g)
    x, z = model.sample(200_000, generator=g, return_latent=True)
    assert x.shape == (200_000, 3) and z.shape == (200_000, 2)
    torch.testing.assert_close(x.mean(0), model.b, rtol=0, atol=0.03)
    torch.testing.assert_close(torch.cov(x.T), model.marginal_cov, rtol=0.03, atol=0.03)


@pytest.mark.parametrize("seed", SEEDS)
def test_kl_mvn_matches_torch(seed):
    g = torch.Generator().manual_seed(seed)
    d = 4
    m1, m2 = torch.randn(2, 5, d, generator=g, dtype=F64)
    A, B = torch.randn(2, 5, d, d, generator=g, dtype=F64)
    S1, S2 = A @ A.mT + 0.1 * torch.eye(d), B @ B.mT + 0.1 * torch.eye(d)
    ref = kl_divergence(MultivariateNormal(m1, S1), MultivariateNormal(m2, S2))
    torch.testing.assert_close(kl_mvn(m1, S1, m2, S2), ref, rtol=1e-10, atol=1e-10)
    # a shared (d, d) covariance broadcasts against (N, d) means
    ref_shared = kl_divergence(MultivariateNormal(m1, S1[0]), MultivariateNormal(m2, S2[0]))
    torch.testing.assert_close(kl_mvn(m1, S1[0], m2, S2[0]), ref_shared, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("seed", SEEDS)
def test_kl_diag_normal_std_normal_matches_torch(seed):
    g = torch.Generator().manual_seed(seed)
    mu, logvar = torch.randn(2, 7, 5, generator=g, dtype=F64)
    q = Normal(mu, (0.5 * logvar).exp())
    ref = kl_divergence(q, Normal(torch.zeros_like(mu), torch.ones_like(mu))).sum(-1)
    torch.testing.assert_close(kl_diag_normal_std_normal(mu, logvar), ref, rtol=1e-12, atol=1e-12)


def test_kl_is_zero_only_for_equal_gaussians():
    m = torch.tensor([[0.3, -1.0]], dtype=F64)
    S = torch.tensor([[1.0, 0.2], [0.2, 0.5]], dtype=F64)
    assert kl_mvn(m, S, m, S).abs().item() < 1e-12
    assert kl_mvn(m, S, m + 1e-3, S).item() > 0


def test_bad_shapes_and_covariances_get_clear_errors():
    model, x, q_mean, q_cov = random_setup(0)
    with pytest.raises(ValueError, match=r"x must have shape \(N, D\) = \(N, 5\).*x\[None\]"):
        model.log_marginal(x[0])
    with pytest.raises(ValueError, match="q_mean must have shape"):
        model.elbo(x, q_mean[:, :2], q_cov)
    with pytest.raises(ValueError, match="q_cov must have shape"):
        model.elbo(x, q_mean, q_cov[:, :2, :2])
    with pytest.raises(ValueError, match="positive definite"):
        model.kl_to_posterior(x, q_mean, -q_cov)
    with pytest.raises(ValueError, match="symmetric"):
        kl_mvn(q_mean, q_cov + torch.triu(torch.ones(3, 3, dtype=F64), 1), q_mean, q_cov)
    with pytest.raises(ValueError, match="noise_std"):
        LinearGaussianModel(model.W, model.b, 0.0)
    with pytest.raises(ValueError, match="b must have shape"):
        LinearGaussianModel(model.W, model.b[:2], 1.0)
    with pytest.raises(ValueError, match="same shape"):
        kl_diag_normal_std_normal(torch.zeros(2, 3), torch.zeros(2, 2))
