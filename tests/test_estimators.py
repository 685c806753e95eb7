"""Gradient estimators against exact gradients, and their variances against values derived by hand
(Mohamed et al. 2020, section 3: 30, 14, 4 for mu and 136, 64, 12 for sigma at mu = sigma = 1, f = x^2)."""

import math
import zlib

import numpy as np
import pytest
import torch

from vae_lesson.estimators import (
    ESTIMATORS, TEST_FUNCTIONS, encoder_gradient_variance, exact_grad, optimal_baseline, reparam_grad,
    score_function_grad, sum_score_variance, surrogate_elbo,
)
from vae_lesson.models import VAE

F64 = torch.float64


def scalar(v):
    return torch.tensor(v, dtype=F64)


def quadrature_expectation(name, mu, sigma, k, order=300):
    """E_{N(mu, sigma^2)}[f(x; k)] by Gauss-Hermite quadrature: independent of the closed forms."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(order)
    values = TEST_FUNCTIONS[name].f(torch.tensor(mu + sigma * nodes), k).numpy()
    return float((weights * values).sum() / math.sqrt(2 * math.pi))


@pytest.mark.parametrize("name", list(TEST_FUNCTIONS))
@pytest.mark.parametrize("mu, sigma, k", [(1.0, 1.0, 0.0), (1.0, 1.0, 0.7), (-0.5, 0.6, 2.0), (2.0, 1.5, 3.0)])
def test_closed_forms_match_quadrature_and_its_finite_differences(name, mu, sigma, k):
    fn = TEST_FUNCTIONS[name]
    assert fn.expectation(mu, sigma, k) == pytest.approx(quadrature_expectation(name, mu, sigma, k), abs=1e-9)
    h = 1e-5
    d_mu = (quadrature_expectation(name, mu + h, sigma, k) - quadrature_expectation(name, mu - h, sigma, k)) / (2 * h)
    d_sigma = (quadrature_expectation(name, mu, sigma + h, k) - quadrature_expectation(name, mu, sigma - h, k)) / (2 * h)
    assert exact_grad(name, mu, sigma, k) == pytest.approx((d_mu, d_sigma), abs=1e-6)


ESTIMATOR_CALLS = {
    "score": lambda f, mu, s, n, g: score_function_grad(f, mu, s, n, generator=g),
    "score+optimal": lambda f, mu, s, n, g: score_function_grad(f, mu, s, n, baseline="optimal", generator=g),
    "score+constant": lambda f, mu, s, n, g: score_function_grad(f, mu, s, n, baseline=5.0, generator=g),
    "reparam": lambda f, mu, s, n, g: reparam_grad(f, mu, s, n, generator=g),
}


@pytest.mark.parametrize("estimator", list(ESTIMATOR_CALLS))
@pytest.mark.parametrize("name", list(TEST_FUNCTIONS))
@pytest.mark.parametrize("mu, sigma, k", [(1.0, 1.0, 0.5), (-0.5, 0.6, 2.0), (1.0, 1.0, 3.0)])
def test_estimators_are_unbiased(estimator, name, mu, sigma, k):
    """The mean of 200,000 draws lies within 5 standard errors of the exact gradient (seeded)."""
    f = lambda x: TEST_FUNCTIONS[name].f(x, k)  # noqa: E731
    g = torch.Generator().manual_seed(zlib.crc32(f"{estimator}{name}{k}".encode()))
    grads = ESTIMATOR_CALLS[estimator](f, scalar(mu), scalar(sigma), 200_000, g)
    for draws, exact in zip(grads, exact_grad(name, mu, sigma, k)):
        stderr = draws.std().item() / math.sqrt(len(draws))
        assert abs(draws.mean().item() - exact) < 5 * stderr + 1e-12, (draws.mean().item(), exact, stderr)


@pytest.mark.parametrize(
    "estimator, var_mu, var_sigma",
    [("score", 30.0, 136.0), ("score+optimal", 14.0, 64.0), ("reparam", 4.0, 12.0)],
)
def test_single_sample_variances_at_k0(estimator, var_mu, var_sigma):
    """Hand-derived: e.g. Var[x^2 eps] = E[(1+eps)^4 eps^2] - 2^2 = 34 - 4 = 30 at mu = sigma = 1."""
    g = torch.Generator().manual_seed(0)
    grad_mu, grad_sigma = ESTIMATOR_CALLS[estimator](lambda x: x**2, scalar(1.0), scalar(1.0), 2_000_000, g)
    assert grad_mu.var().item() == pytest.approx(var_mu, rel=0.03)
    assert grad_sigma.var().item() == pytest.approx(var_sigma, rel=0.03)


def test_optimal_baseline_values_at_k0():
    """b* = E[f s^2] / E[s^2]: 4 for mu and 6 for sigma at mu = sigma = 1, f = x^2 (issue text, derived by hand)."""
    g = torch.Generator().manual_seed(1)
    eps = torch.randn(2_000_000, generator=g, dtype=F64)
    values = (1 + eps) ** 2
    assert optimal_baseline(values, eps).item() == pytest.approx(4.0, rel=0.02)
    assert optimal_baseline(values, eps**2 - 1).item() == pytest.approx(6.0, rel=0.02)


def test_a_baseline_leaves_the_mean_unchanged_because_the_expected_score_is_zero():
    g = torch.Generator().manual_seed(2)
    f = lambda x: x**2  # noqa: E731
    plain = score_function_grad(f, scalar(1.0), scalar(1.0), 500_000, generator=g)
    shifted = score_function_grad(f, scalar(1.0), scalar(1.0), 500_000, baseline=100.0, generator=torch.Generator().manual_seed(2))
    # same samples: the difference is exactly -100 * mean score, which must be ~0 within its standard error
    for a, b in zip(plain, shifted):
        diff = (a - b) / 100.0  # = the score of each sample
        assert abs(diff.mean().item()) < 5 * diff.std().item() / math.sqrt(len(diff))
        assert abs(b.mean().item() - 2.0) < 5 * b.std().item() / math.sqrt(len(b))


@pytest.mark.parametrize("dim", [1, 10, 50])
def test_score_variance_grows_quadratically_with_dimension(dim):
    g = torch.Generator().manual_seed(dim)
    mu, sigma = torch.full((dim,), 0.5, dtype=F64), torch.ones(dim, dtype=F64)
    f = lambda x: x.sum(-1)  # noqa: E731
    sf_mu, sf_sigma = score_function_grad(f, mu, sigma, 400_000, generator=g)
    exact_mu, exact_sigma = sum_score_variance(dim)
    assert sf_mu[:, 0].var().item() == pytest.approx(exact_mu, rel=0.05)
    assert sf_sigma[:, 0].var().item() == pytest.approx(exact_sigma, rel=0.05)
    rp_mu, rp_sigma = reparam_grad(f, mu, sigma, 400_000, generator=g)
    assert rp_mu[:, 0].var().item() == pytest.approx(0.0, abs=1e-12)
    assert rp_sigma[:, 0].var().item() == pytest.approx(1.0, rel=0.02)


def test_closed_form_dimension_variances():
    """Published figures for the sigma-gradient (Mohamed et al. 2020, section 4.3.3): 78 at D = 10, ~5,200 at D = 100."""
    assert sum_score_variance(10)[1] == pytest.approx(78.0)
    assert sum_score_variance(100)[1] == pytest.approx(5208.0)
    # mu-gradient: Var[(c + sum eps) eps_1] = c^2 + D + 1 with c = D / 2
    assert sum_score_variance(10)[0] == pytest.approx(25 + 10 + 1)


def test_shapes_broadcast_and_bad_inputs_are_refused():
    g = torch.Generator().manual_seed(0)
    f = lambda x: x.sum((-2, -1))  # noqa: E731
    gm, gs = score_function_grad(f, torch.zeros(3, 2), torch.tensor(1.0), 7, generator=g)
    assert gm.shape == gs.shape == (7, 3, 2)
    gm, gs = reparam_grad(f, torch.zeros(3, 2), torch.ones(1, 2), 7, generator=g)
    assert gm.shape == gs.shape == (7, 3, 2)
    with pytest.raises(ValueError, match="one value per sample"):
        reparam_grad(lambda x: x, torch.zeros(3), torch.ones(3), 5)
    with pytest.raises(ValueError, match="sigma must be positive"):
        score_function_grad(f, torch.zeros(3, 2), torch.tensor(-1.0), 5)
    with pytest.raises(ValueError, match="baseline must be"):
        score_function_grad(lambda x: x, scalar(0.0), scalar(1.0), 5, baseline="best")
    with pytest.raises(ValueError, match="num_samples"):
        reparam_grad(lambda x: x, scalar(0.0), scalar(1.0), 0)


@pytest.fixture
def tiny_vae_and_batch():
    torch.manual_seed(0)
    model = VAE(2, hidden=(8,)).double()
    x = torch.bernoulli(torch.full((3, 784), 0.3, dtype=F64), generator=torch.Generator().manual_seed(0))
    return model, x


def test_vae_estimators_agree_in_expectation(tiny_vae_and_batch):
    """The score-function and reparameterization gradients of the encoder's output bias agree within error bars."""
    model, x = tiny_vae_and_batch
    bias = list(model.encoder.parameters())[-1]
    draws = {}
    for estimator in ESTIMATORS:
        g = torch.Generator().manual_seed(1)
        draws[estimator] = torch.stack([
            torch.autograd.grad(surrogate_elbo(model, x, estimator, g)[0], bias)[0] for _ in range(4000)
        ])
    ref = draws["reparam"]
    for estimator in ("score", "score+baseline"):
        d = draws[estimator]
        stderr = (d.var(0) / len(d) + ref.var(0) / len(ref)).sqrt()
        assert ((d.mean(0) - ref.mean(0)).abs() < 5 * stderr).all(), estimator


def test_surrogate_value_is_the_elbo_and_variances_rank(tiny_vae_and_batch):
    model, x = tiny_vae_and_batch
    for estimator in ESTIMATORS:
        surrogate, elbo = surrogate_elbo(model, x, estimator, torch.Generator().manual_seed(3))
        assert surrogate.item() == pytest.approx(elbo.mean().item(), rel=1e-12)
    variances = {e: encoder_gradient_variance(model, x, e, 300, torch.Generator().manual_seed(4)) for e in ESTIMATORS}
    assert variances["reparam"] < variances["score+baseline"] < variances["score"]
    with pytest.raises(ValueError, match="estimator must be one of"):
        surrogate_elbo(model, x, "pathwise")


def test_encoder_gradient_variance_equals_the_variance_of_the_stacked_draws():
    # the streaming (Welford) accumulation must give the textbook unbiased variance of the same draws
    torch.manual_seed(0)
    model = VAE(latent_dim=3, hidden=(16,))
    x = (torch.rand(8, 784, generator=torch.Generator().manual_seed(1)) < 0.3).double()
    model = model.double()
    params = list(model.encoder.parameters())
    draws = []
    generator = torch.Generator().manual_seed(5)
    for _ in range(25):
        surrogate, _ = surrogate_elbo(model, x, "score", generator)
        draws.append(torch.cat([g.reshape(-1) for g in torch.autograd.grad(surrogate, params)]))
    expected = torch.stack(draws).var(0).sum().item()
    got = encoder_gradient_variance(model, x, "score", 25, torch.Generator().manual_seed(5))
    assert got == pytest.approx(expected, rel=1e-10)
    with pytest.raises(ValueError, match="at least 2"):
        encoder_gradient_variance(model, x, "score", 1)
