"""The decoder likelihoods (Bernoulli, Gaussian, continuous Bernoulli), bits/dim and dequantization.

References, never the code's own output: torch.distributions (Normal, Bernoulli, ContinuousBernoulli) in float64;
closed forms derived by hand (integrals, derivatives, maximisers); mpmath at 80 digits where torch's
ContinuousBernoulli clamps its probabilities (|logits| > ~15); Simpson's rule on a fine grid for integrals.
"""

import math

import pytest
import torch
import torch.nn.functional as F
from torch.distributions import Bernoulli, ContinuousBernoulli, Normal

import vae_lesson.elbo
import vae_lesson.likelihoods
from vae_lesson.likelihoods import (
    BernoulliLikelihood,
    ContinuousBernoulliLikelihood,
    GaussianLikelihood,
    Likelihood,
    bernoulli_log_likelihood,
    bits_per_dim,
    continuous_bernoulli_log_likelihood,
    continuous_bernoulli_log_normalizer,
    continuous_bernoulli_mean,
    dequantize,
    gaussian_log_likelihood,
    make_likelihood,
)

F64 = torch.float64
TAYLOR = 1e-2  # the module's switch to Taylor series; tested from both sides
#: logits in [-10, 10] (torch's ContinuousBernoulli is exact there), with the Taylor branch and its boundary.
CB_LOGITS = [-10.0, -3.0, -1.0, -0.3, -0.0101, -TAYLOR, -0.0099, -1e-3, -1e-6, 0.0,
             1e-6, 1e-3, 0.0099, TAYLOR, 0.0101, 0.3, 1.0, 3.0, 10.0]


def simpson(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Composite Simpson's rule over the last axis on a uniform grid with an odd number of points."""
    assert x.numel() % 2 == 1
    h = (x[-1] - x[0]) / (x.numel() - 1)
    return h / 3 * (y[..., 0] + y[..., -1] + 4 * y[..., 1:-1:2].sum(-1) + 2 * y[..., 2:-1:2].sum(-1))


GRID = torch.linspace(0, 1, 40_001, dtype=F64)


# mpmath references (mpmath ships with torch's sympy dependency): the definitions in lambda, at 80 digits.
def _mp():
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 80
    return mpmath


def mp_log_normalizer(eta: float) -> float:
    """log C(lambda), C = 2 artanh(1 - 2 lambda) / (1 - 2 lambda), lambda = sigmoid(eta); C(1/2) = 2."""
    mp = _mp()
    if eta == 0:
        return float(mp.log(2))
    lam = 1 / (1 + mp.exp(-mp.mpf(eta)))
    return float(mp.log(2 * mp.atanh(1 - 2 * lam) / (1 - 2 * lam)))


def mp_mean(eta: float) -> float:
    """E[x] = lambda / (2 lambda - 1) + 1 / (2 artanh(1 - 2 lambda)); 1/2 at lambda = 1/2."""
    mp = _mp()
    if eta == 0:
        return 0.5
    lam = 1 / (1 + mp.exp(-mp.mpf(eta)))
    return float(lam / (2 * lam - 1) + 1 / (2 * mp.atanh(1 - 2 * lam)))


def mp_log_normalizer_grad(eta: float) -> float:
    """d/deta log(eta / tanh(eta / 2)) = 1/eta - 1/sinh(eta) (derived by hand); 0 at eta = 0."""
    mp = _mp()
    return 0.0 if eta == 0 else float(1 / mp.mpf(eta) - 1 / mp.sinh(mp.mpf(eta)))


def mp_mean_grad(eta: float) -> float:
    """The mean is 1 / (1 - e^-eta) - 1/eta, so its derivative is 1/eta^2 - 1 / (4 sinh^2(eta/2)); 1/12 at 0."""
    mp = _mp()
    return 1 / 12 if eta == 0 else float(1 / mp.mpf(eta) ** 2 - 1 / (4 * mp.sinh(mp.mpf(eta) / 2) ** 2))


# ---------------------------------------------------------------------------------------------------------------
# Gaussian
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("log_sigma", [-1.7, 0.0, 0.4, torch.tensor(-2.3, dtype=F64)], ids=str)
def test_gaussian_matches_normal_with_a_scalar_sigma(log_sigma):
    """Against Normal(mean, sigma).log_prob(x).sum(-1), sigma shared by all pixels (python float or 0-dim tensor)."""
    g = torch.Generator().manual_seed(0)
    x, mean = torch.rand(2, 6, 11, generator=g, dtype=F64)
    sigma = math.exp(float(log_sigma))
    expected = Normal(mean, sigma).log_prob(x).sum(-1)
    got = gaussian_log_likelihood(x, mean, log_sigma)
    assert got.shape == (6,)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)


def test_gaussian_matches_normal_with_a_sigma_per_pixel():
    """Against Normal(mean, sigma) with a different sigma for each pixel (log_sigma of x's shape, and of shape (D,))."""
    g = torch.Generator().manual_seed(1)
    x, mean = torch.rand(2, 5, 7, generator=g, dtype=F64)
    log_sigma = torch.randn(5, 7, generator=g, dtype=F64)
    expected = Normal(mean, log_sigma.exp()).log_prob(x).sum(-1)
    torch.testing.assert_close(gaussian_log_likelihood(x, mean, log_sigma), expected, rtol=1e-12, atol=1e-12)
    per_column = log_sigma[0]  # (D,), broadcast over the examples
    expected = Normal(mean, per_column.exp()).log_prob(x).sum(-1)
    torch.testing.assert_close(gaussian_log_likelihood(x, mean, per_column), expected, rtol=1e-12, atol=1e-12)


def test_gaussian_broadcasts_over_a_leading_sample_axis():
    """Means (k, N, D) against data (N, D): each sample's row equals the unbroadcast Normal log-density."""
    g = torch.Generator().manual_seed(2)
    x = torch.rand(4, 9, generator=g, dtype=F64)
    means = torch.rand(3, 4, 9, generator=g, dtype=F64)
    got = gaussian_log_likelihood(x, means, -1.2)
    assert got.shape == (3, 4)
    for s in range(3):
        expected = Normal(means[s], math.exp(-1.2)).log_prob(x).sum(-1)
        torch.testing.assert_close(got[s], expected, rtol=1e-12, atol=1e-12)
    # a per-pixel sigma of the data's shape broadcasts against the samples too
    log_sigma = torch.randn(4, 9, generator=g, dtype=F64)
    expected = Normal(means, log_sigma.exp()).log_prob(x).sum(-1)
    torch.testing.assert_close(gaussian_log_likelihood(x, means, log_sigma), expected, rtol=1e-12, atol=1e-12)


def test_gaussian_with_fixed_sigma_is_scaled_squared_error_plus_a_constant():
    """Closed form: log N = -SSE / (2 sigma^2) - D log sigma - (D/2) log 2 pi, so its gradient in the mean is the
    summed MSE loss's gradient divided by 2 sigma^2: MSE training is a Gaussian likelihood with a hidden fixed sigma."""
    g = torch.Generator().manual_seed(3)
    x = torch.rand(8, 20, generator=g, dtype=F64)
    mean = torch.rand(8, 20, generator=g, dtype=F64, requires_grad=True)
    sigma, d = 0.3, 20
    sse = (x - mean).square().sum(-1)
    constant = -d * math.log(sigma) - 0.5 * d * math.log(2 * math.pi)
    ll = gaussian_log_likelihood(x, mean, math.log(sigma))
    torch.testing.assert_close(ll, -sse / (2 * sigma**2) + constant, rtol=1e-12, atol=1e-12)
    (grad_ll,) = torch.autograd.grad(ll.sum(), mean)
    (grad_mse,) = torch.autograd.grad(F.mse_loss(mean, x, reduction="sum"), mean)
    torch.testing.assert_close(-grad_ll, grad_mse / (2 * sigma**2), rtol=1e-12, atol=1e-12)
    # and the difference between two reconstructions does not depend on anything but their squared errors
    other = torch.rand(8, 20, generator=g, dtype=F64)
    diff = ll.detach() - gaussian_log_likelihood(x, other, math.log(sigma))
    torch.testing.assert_close(diff, -(sse.detach() - (x - other).square().sum(-1)) / (2 * sigma**2))


def test_gaussian_is_maximised_at_sigma_equal_root_mean_squared_error():
    """d/ds [-SSE e^{-2s}/2 - D s] = SSE e^{-2s} - D vanishes at s = (1/2) log(SSE/D) = log sqrt(MSE); checked by
    autograd (zero gradient there, correct signs either side) and by a fine grid over log sigma."""
    g = torch.Generator().manual_seed(4)
    x, mean = torch.rand(2, 50, generator=g, dtype=F64)
    mse = (x - mean).square().mean().item()
    best = 0.5 * math.log(mse)

    def grad_at(s):
        s = torch.tensor(s, dtype=F64, requires_grad=True)
        (grad,) = torch.autograd.grad(gaussian_log_likelihood(x, mean, s), s)
        return grad.item()

    assert abs(grad_at(best)) < 1e-10
    assert grad_at(best - 0.1) > 0 > grad_at(best + 0.1)
    grid = torch.linspace(best - 1, best + 1, 20_001, dtype=F64)
    values = gaussian_log_likelihood(x, mean, grid[:, None])
    assert abs(grid[values.argmax()].item() - best) <= 1e-4


# ---------------------------------------------------------------------------------------------------------------
# Bernoulli
# ---------------------------------------------------------------------------------------------------------------


def test_bernoulli_matches_torch_bernoulli_on_binary_images():
    """Against Bernoulli(logits=...).log_prob(x).sum(-1) for binary x, including large logits and sample broadcasting."""
    g = torch.Generator().manual_seed(5)
    logits = 6 * torch.randn(3, 4, 30, generator=g, dtype=F64)
    logits[0, 0, :4] = torch.tensor([-60.0, 60.0, -0.0, 35.0], dtype=F64)
    x = (torch.rand(4, 30, generator=g, dtype=F64) < 0.5).to(F64)
    got = bernoulli_log_likelihood(logits, x)
    assert got.shape == (3, 4)
    expected = Bernoulli(logits=logits).log_prob(x.expand_as(logits)).sum(-1)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)


def test_elbo_reexports_the_same_bernoulli_function():
    """vae_lesson.elbo's Bernoulli log-likelihood is this module's function, not a second copy."""
    assert vae_lesson.elbo.bernoulli_log_likelihood is vae_lesson.likelihoods.bernoulli_log_likelihood


@pytest.mark.parametrize("logit", [-4.0, -1.0, 0.0, 0.5, 3.0])
def test_bernoulli_on_grey_levels_is_not_normalised(logit):
    """exp(x log l + (1-x) log(1-l)) integrates over [0, 1] to (2l - 1) / logit (closed form: the integral of
    a^x b^(1-x) is (a - b) / (ln a - ln b)), 1/2 at l = 1/2: not 1, but 1/C(l), the continuous Bernoulli's constant."""
    lam = 1 / (1 + math.exp(-logit))
    density = bernoulli_log_likelihood(torch.full((GRID.numel(), 1), logit, dtype=F64), GRID[:, None]).exp()
    integral = simpson(density, GRID).item()
    by_hand = 0.5 if logit == 0 else (2 * lam - 1) / logit
    assert integral == pytest.approx(by_hand, rel=1e-10)
    assert abs(integral - 1) > 0.4  # clearly not a density: at most 1/2
    assert integral == pytest.approx(math.exp(-mp_log_normalizer(logit)), rel=1e-10)


# ---------------------------------------------------------------------------------------------------------------
# Continuous Bernoulli
# ---------------------------------------------------------------------------------------------------------------


def test_continuous_bernoulli_normalizer_and_mean_match_torch():
    """Against ContinuousBernoulli(logits=...) in float64 (its own Taylor series near lambda = 1/2), logits in [-10, 10]
    with values in and at the edge of the module's Taylor branch. Tolerances: the module's series are cut after
    eta^2/12 and eta/12, errors 7 eta^4/1440 and eta^3/720 (about 5e-11 and 1.4e-9 at the 1e-2 switch)."""
    logits = torch.tensor(CB_LOGITS, dtype=F64)
    reference = ContinuousBernoulli(logits=logits)
    # torch's log C through its public log_prob: log CB(0) = log C + log(1 - lambda) = log C - softplus(logits)
    torch_log_c = reference.log_prob(torch.zeros_like(logits)) + F.softplus(logits)
    torch.testing.assert_close(continuous_bernoulli_log_normalizer(logits), torch_log_c, rtol=0, atol=1e-10)
    torch.testing.assert_close(continuous_bernoulli_mean(logits), reference.mean, rtol=0, atol=2e-9)


def test_continuous_bernoulli_log_likelihood_matches_torch():
    """Against ContinuousBernoulli(logits=...).log_prob(x).sum(-1), grey x in [0, 1] including exact 0 and 1."""
    g = torch.Generator().manual_seed(6)
    logits = torch.tensor(CB_LOGITS, dtype=F64).repeat(5, 1)
    logits[1:] = 8 * torch.rand(4, len(CB_LOGITS), generator=g, dtype=F64) - 4
    x = torch.rand(5, len(CB_LOGITS), generator=g, dtype=F64)
    x[0, :3] = torch.tensor([0.0, 1.0, 0.5], dtype=F64)
    expected = ContinuousBernoulli(logits=logits).log_prob(x).sum(-1)
    got = continuous_bernoulli_log_likelihood(x, logits)
    assert got.shape == (5,)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-9)
    # decoder outputs (k, N, D) against data (N, D)
    samples = torch.randn(3, 5, len(CB_LOGITS), generator=g, dtype=F64)
    expected = ContinuousBernoulli(logits=samples).log_prob(x.expand_as(samples)).sum(-1)
    torch.testing.assert_close(continuous_bernoulli_log_likelihood(x, samples), expected, rtol=0, atol=1e-9)


@pytest.mark.parametrize("logit", [-700.0, -100.0, -40.0, -15.0, -1e-3, 0.0, 0.0101, 2.0, 15.0, 40.0, 100.0, 700.0])
def test_continuous_bernoulli_at_large_logits_against_high_precision(logit):
    """Where torch clamps lambda (|logits| > ~15) compare with mpmath at 80 digits (the definitions in lambda);
    at +-700 lambda is 1 - 1e-304, so the reference is log C ~ log 700 - the series is exact there to double precision."""
    t = torch.tensor([logit], dtype=F64)
    if abs(logit) < 500:
        log_c, mean = mp_log_normalizer(logit), mp_mean(logit)
    else:  # 1 - lambda = e^-700 is beyond 80 digits; C = eta / tanh(eta/2) = |eta| and the mean 1/(1 - e^-eta) - 1/eta
        log_c, mean = math.log(abs(logit)), (logit > 0) - 1 / logit  # to double precision
    assert continuous_bernoulli_log_normalizer(t).item() == pytest.approx(log_c, rel=1e-13, abs=1e-10)
    assert continuous_bernoulli_mean(t).item() == pytest.approx(mean, rel=1e-13, abs=2e-9)
    # the density at the mode, x = 1 for eta > 0 (0 for eta <= 0), is C * max(l, 1-l) = C * sigmoid(|eta|)
    mode = torch.tensor([[1.0 if logit > 0 else 0.0]], dtype=F64)
    got = continuous_bernoulli_log_likelihood(mode, t[None]).item()
    assert got == pytest.approx(log_c - math.log1p(math.exp(-abs(logit))), rel=1e-13, abs=1e-10)


@pytest.mark.parametrize("logit", [-40.0, -6.0, -1.0, -0.0101, -TAYLOR, -1e-3, 0.0, 1e-3, 0.0099, 0.5, 4.0, 40.0])
def test_continuous_bernoulli_density_integrates_to_one(logit):
    """Simpson's rule over [0, 1] on 40 001 points in float64: the density integrates to 1, and x times it to the mean."""
    logits = torch.full((GRID.numel(), 1), logit, dtype=F64)
    density = continuous_bernoulli_log_likelihood(GRID[:, None], logits).exp()
    assert simpson(density, GRID).item() == pytest.approx(1.0, abs=1e-10)
    mean = continuous_bernoulli_mean(torch.tensor(logit, dtype=F64)).item()
    assert simpson(GRID * density, GRID).item() == pytest.approx(mean, abs=2e-9)  # the mean's series: eta^3/720


def test_continuous_bernoulli_mean_is_pulled_towards_one_half():
    """The mean is not lambda: for lambda > 1/2 it lies strictly between 1/2 and lambda (mirror image below)."""
    logits = torch.tensor([-5.0, -1.0, -0.1, 0.1, 1.0, 5.0], dtype=F64)
    lam, mean = torch.sigmoid(logits), continuous_bernoulli_mean(logits)
    assert torch.all((mean - 0.5).abs() < (lam - 0.5).abs())
    assert torch.all(torch.sign(mean - 0.5) == torch.sign(lam - 0.5))


@pytest.mark.parametrize("logit", [0.0, -TAYLOR, TAYLOR, -0.0099, 0.0101, -1e-3, 1.3, -40.0, 40.0, 700.0])
def test_continuous_bernoulli_gradients_are_finite_and_right(logit):
    """Gradients of log C and of the mean (also through the log-likelihood) against the hand-derived derivatives
    1/eta - 1/sinh(eta) and 1/eta^2 - 1/(4 sinh^2(eta/2)) evaluated by mpmath (limits 0 and 1/12 at eta = 0).
    Tolerance rtol 2e-5: the first-order series' derivative is off by 7 eta^2/60 ~ 1.2e-5 relatively at the switch."""
    t = torch.tensor(logit, dtype=F64, requires_grad=True)
    (g_norm,) = torch.autograd.grad(continuous_bernoulli_log_normalizer(t), t)
    (g_mean,) = torch.autograd.grad(continuous_bernoulli_mean(t), t)
    assert torch.isfinite(g_norm) and torch.isfinite(g_mean)
    assert g_norm.item() == pytest.approx(mp_log_normalizer_grad(logit), rel=2e-5, abs=1e-15)
    assert g_mean.item() == pytest.approx(mp_mean_grad(logit), rel=2e-5, abs=1e-15)
    # d/deta log CB(x) = d log C / deta + x - sigmoid(eta)  (the BCE part's derivative), at x = 0.3
    x = torch.tensor([0.3], dtype=F64)
    (g_ll,) = torch.autograd.grad(continuous_bernoulli_log_likelihood(x, t.reshape(1)), t)
    expected = mp_log_normalizer_grad(logit) + 0.3 - 1 / (1 + math.exp(-logit))
    assert g_ll.item() == pytest.approx(expected, rel=2e-5, abs=1e-12)


def test_continuous_bernoulli_gradcheck_away_from_the_switch():
    """torch.autograd.gradcheck (finite differences) in float64 on both branches, not straddling the switch."""
    logits = torch.tensor([-7.0, -0.5, -0.004, 0.0, 0.003, 0.2, 3.0, 25.0], dtype=F64, requires_grad=True)
    x = torch.tensor([0.1, 0.9, 0.5, 0.0, 1.0, 0.33, 0.7, 0.2], dtype=F64)
    assert torch.autograd.gradcheck(continuous_bernoulli_log_normalizer, (logits,))
    assert torch.autograd.gradcheck(continuous_bernoulli_mean, (logits,))
    assert torch.autograd.gradcheck(lambda t: continuous_bernoulli_log_likelihood(x, t), (logits,))


def test_continuous_bernoulli_is_continuous_across_the_taylor_switch():
    """Values a hair below and at |logit| = 1e-2 (float64, 1e-12 apart) agree to 1e-8. In float32, where the exact
    branch loses digits to cancellation, 0.0099 and 0.0101 agree to 1e-5 once the true change between them (the
    mean's slope 1/12; log C's slope eta/6 changes it by only 3e-7) is taken off."""
    for sign in (1.0, -1.0):
        below = torch.tensor(sign * (TAYLOR - 1e-12), dtype=F64)
        at = torch.tensor(sign * TAYLOR, dtype=F64)
        assert below.abs() < TAYLOR <= at.abs()
        for f in (continuous_bernoulli_log_normalizer, continuous_bernoulli_mean):
            assert abs(f(below).item() - f(at).item()) < 1e-8
    below, above = torch.tensor([0.0099, -0.0099]), torch.tensor([0.0101, -0.0101])
    jump = continuous_bernoulli_log_normalizer(above) - continuous_bernoulli_log_normalizer(below)
    assert jump.abs().max().item() < 1e-5
    jump = continuous_bernoulli_mean(above) - continuous_bernoulli_mean(below) - (above - below) / 12
    assert jump.abs().max().item() < 1e-5


# ---------------------------------------------------------------------------------------------------------------
# bits per dimension and dequantization
# ---------------------------------------------------------------------------------------------------------------


def test_bits_per_dim_of_the_uniform_density_is_eight():
    """The uniform density on [0, 1]^D (log p = 0) spreads probability 1/256 over each level: exactly 8 bits/dim;
    with 2 levels, 1 bit/dim. A model sure of every pixel (density 256^D, log p = D ln 256) gets 0."""
    assert bits_per_dim(0.0, 784) == pytest.approx(8.0, rel=1e-15)
    assert bits_per_dim(0.0, 3, levels=2) == pytest.approx(1.0, rel=1e-15)
    assert bits_per_dim(784 * math.log(256), 784) == pytest.approx(0.0, abs=1e-12)
    batch = bits_per_dim(torch.zeros(5, dtype=F64), 10)
    assert isinstance(batch, torch.Tensor) and batch.shape == (5,)
    torch.testing.assert_close(batch, torch.full((5,), 8.0, dtype=F64))


def test_bits_per_dim_by_hand():
    """-log2 P(image) / D with P(image) = p(x) / 256^D, worked out by hand for log p = 1000 nats over 784 pixels:
    bits = 784 * 8 - 1000 / ln 2 = 6272 - 1442.695..., so 6.15983... bits/dim; -500 nats gives 8 + 721.348.../784."""
    assert bits_per_dim(1000.0, 784) == pytest.approx((6272 - 1442.6950408889634) / 784, rel=1e-12)
    assert bits_per_dim(1000.0, 784) == pytest.approx(6.159828, abs=1e-6)
    got = bits_per_dim(torch.tensor([1000.0, -500.0], dtype=F64), 784)
    torch.testing.assert_close(got, torch.tensor([6.159828, 8 + 721.3475204444817 / 784], dtype=F64), atol=1e-6, rtol=0)


def test_bits_per_dim_of_a_per_level_model_is_its_code_length():
    """A discrete model with probability q_k on level k, as a density on dequantized data, is 256 q_k on bin k. Its
    bits/dim must be the discrete code length -sum log2 q_k / D, computed directly from the probabilities."""
    g = torch.Generator().manual_seed(7)
    q = torch.softmax(torch.randn(256, generator=g, dtype=F64), 0)
    levels = torch.randint(0, 256, (4, 100), generator=g)
    log_density = torch.log(256 * q[levels]).sum(-1)
    code_length = -torch.log2(q[levels]).sum(-1) / 100
    torch.testing.assert_close(bits_per_dim(log_density, 100), code_length, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("num_dims", [0, -3, 2.5, "784", None])
def test_bits_per_dim_rejects_bad_num_dims(num_dims):
    """num_dims must be a positive int."""
    with pytest.raises(ValueError, match="num_dims"):
        bits_per_dim(0.0, num_dims)


def test_dequantize_puts_each_grey_level_in_its_own_bin():
    """x = k/255 for every k in 0..255 lands in [k/256, (k+1)/256) (float64), and is uniform there: the mean of many
    draws is (k + 1/2)/256 within 5 standard errors, and the bin offsets have variance 1/12."""
    g = torch.Generator().manual_seed(8)
    k = torch.arange(256, dtype=F64)
    x = (k / 255).repeat(4000, 1)  # (4000, 256)
    y = dequantize(x, g)
    assert y.shape == x.shape and y.dtype == F64
    assert torch.all(y >= k / 256) and torch.all(y < (k + 1) / 256)
    offset = y * 256 - k  # u ~ U(0, 1) per draw
    se = math.sqrt(1 / 12 / 4000)
    assert (offset.mean(0) - 0.5).abs().max().item() < 5 * se
    torch.testing.assert_close(y.mean(0), (k + 0.5) / 256, atol=5 * se / 256, rtol=0)
    assert offset.var().item() == pytest.approx(1 / 12, rel=0.01)


def test_dequantize_with_other_levels_and_shapes():
    """levels=4: x = k/3 lands in [k/4, (k+1)/4); image-shaped input keeps its shape."""
    g = torch.Generator().manual_seed(9)
    k = torch.tensor([0, 1, 2, 3], dtype=F64)
    y = dequantize((k / 3).repeat(1000, 1), g, levels=4)
    assert torch.all(torch.floor(y * 4) == k)
    images = torch.randint(0, 256, (3, 28, 28), generator=g).to(torch.float32) / 255
    out = dequantize(images, g)
    assert out.shape == (3, 28, 28) and out.dtype == torch.float32
    offset = out.double() * 256 - torch.round(images.double() * 255)
    assert torch.all(offset >= 0) and torch.all(offset <= 1)


def test_dequantize_in_float32_stays_in_the_closed_bin():
    """float32: (k+u)/256 lies in the closed bin [k/256, (k+1)/256]."""
    g = torch.Generator().manual_seed(0)
    x = torch.ones(1_000_000)
    y = dequantize(x, g)
    assert torch.all(y >= 255 / 256) and torch.all(y <= 1)


def test_dequantize_in_float32_stays_in_the_half_open_bin():
    """(k+u)/256 < (k+1)/256 in float32 as in float64, although float32's k + u rounds up to k + 1 when u > 1 - 2^-17
    (k >= 128), about once in 130,000 pixels: the one-million draws below hit that case (found by this test)."""
    g = torch.Generator().manual_seed(0)
    y = dequantize(torch.ones(1_000_000), g)
    assert torch.all(y < 1)
    y = dequantize(torch.full((1_000_000,), 128 / 255), torch.Generator().manual_seed(0))
    assert torch.all(torch.floor(y.double() * 256) == 128)


def test_dequantize_is_deterministic_with_a_seeded_generator():
    """Same seed, same output; another seed, another output."""
    x = torch.rand(50, 30, generator=torch.Generator().manual_seed(10))
    first = dequantize(x, torch.Generator().manual_seed(11))
    torch.testing.assert_close(first, dequantize(x, torch.Generator().manual_seed(11)), rtol=0, atol=0)
    assert not torch.equal(first, dequantize(x, torch.Generator().manual_seed(12)))


@pytest.mark.parametrize("bad", [torch.tensor([0.5, -0.01]), torch.tensor([1.01, 0.2]),
                                 torch.tensor([0, 128, 255], dtype=torch.uint8)], ids=["negative", "above1", "uint8"])
def test_dequantize_rejects_values_outside_the_unit_interval(bad):
    """Grey levels must be in [0, 1]."""
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        dequantize(bad)


# ---------------------------------------------------------------------------------------------------------------
# Likelihood modules and make_likelihood
# ---------------------------------------------------------------------------------------------------------------


def test_likelihood_modules_log_prob_and_mean():
    """log_prob(x, logits) against torch.distributions directly (Bernoulli; Normal(sigmoid(logits), sigma);
    ContinuousBernoulli), broadcasting decoder samples (k, N, D) against data (N, D); mean against sigmoid / CB mean."""
    g = torch.Generator().manual_seed(13)
    logits = 3 * torch.randn(2, 4, 12, generator=g, dtype=F64)
    grey = torch.rand(4, 12, generator=g, dtype=F64)
    binary = (grey > 0.5).to(F64)
    cases = [
        (BernoulliLikelihood(), binary, Bernoulli(logits=logits), torch.sigmoid(logits)),
        # sigma as the module holds it: log sigma is stored in float32 (that it is 0.2 to float32 is tested elsewhere)
        (fixed := GaussianLikelihood(sigma=0.2), grey, Normal(torch.sigmoid(logits), fixed.log_sigma.double().exp()),
         torch.sigmoid(logits)),
        (learned := GaussianLikelihood(sigma=0.05, learn_sigma=True), grey,
         Normal(torch.sigmoid(logits), learned.log_sigma.detach().double().exp()), torch.sigmoid(logits)),
        (ContinuousBernoulliLikelihood(), grey, ContinuousBernoulli(logits=logits), ContinuousBernoulli(logits=logits).mean),
    ]
    for likelihood, x, reference, mean in cases:
        got = likelihood.log_prob(x, logits)
        assert got.shape == (2, 4), likelihood
        torch.testing.assert_close(got, reference.log_prob(x.expand_as(logits)).sum(-1), rtol=1e-10, atol=1e-9)
        torch.testing.assert_close(likelihood.mean(logits), mean, rtol=0, atol=2e-9)
    assert BernoulliLikelihood.binary_data and not GaussianLikelihood.binary_data
    assert not ContinuousBernoulliLikelihood.binary_data


def test_modules_call_the_functions():
    """The modules' log_prob equal the module-level functions (argument orders differ: (logits, x) vs (x, logits))."""
    g = torch.Generator().manual_seed(14)
    logits = torch.randn(6, 10, generator=g)
    x = torch.rand(6, 10, generator=g)
    torch.testing.assert_close(BernoulliLikelihood().log_prob(x, logits), bernoulli_log_likelihood(logits, x))
    torch.testing.assert_close(ContinuousBernoulliLikelihood().log_prob(x, logits),
                               continuous_bernoulli_log_likelihood(x, logits))
    torch.testing.assert_close(GaussianLikelihood(sigma=0.3).log_prob(x, logits),
                               gaussian_log_likelihood(x, torch.sigmoid(logits), math.log(0.3)))


def test_base_likelihood_is_abstract():
    """The base class names itself and leaves log_prob and mean to subclasses."""
    base = Likelihood()
    assert base.config == {"name": "likelihood"}
    with pytest.raises(NotImplementedError):
        base.log_prob(torch.zeros(1, 2), torch.zeros(1, 2))
    with pytest.raises(NotImplementedError):
        base.mean(torch.zeros(1, 2))


def test_gaussian_sigma_is_a_parameter_only_when_learned():
    """learn_sigma=True: exactly one parameter, log_sigma = log sigma, which gets gradients. Fixed sigma: no parameters,
    a buffer saved in state_dict and moved by .double(), and no gradient to it."""
    learned = GaussianLikelihood(sigma=0.25, learn_sigma=True)
    params = dict(learned.named_parameters())
    assert list(params) == ["log_sigma"]
    assert params["log_sigma"].item() == pytest.approx(math.log(0.25))
    assert learned.sigma == pytest.approx(0.25) and isinstance(learned.sigma, float)
    assert "log_sigma" in learned.state_dict()
    x, logits = torch.rand(3, 5), torch.randn(3, 5)
    learned.log_prob(x, logits).sum().backward()
    assert learned.log_sigma.grad is not None and learned.log_sigma.grad.item() != 0

    fixed = GaussianLikelihood(sigma=0.25)
    assert list(fixed.parameters()) == []
    assert [name for name, _ in fixed.named_buffers()] == ["log_sigma"]
    assert fixed.state_dict()["log_sigma"].item() == pytest.approx(math.log(0.25))
    assert fixed.sigma == pytest.approx(0.25)
    assert not fixed.log_sigma.requires_grad
    assert fixed.double().log_sigma.dtype == F64
    assert GaussianLikelihood().sigma == pytest.approx(0.1)  # the documented default


@pytest.mark.parametrize("likelihood", [BernoulliLikelihood(), ContinuousBernoulliLikelihood(), GaussianLikelihood(),
                                        GaussianLikelihood(sigma=0.07, learn_sigma=True), GaussianLikelihood(sigma=2.0)],
                         ids=lambda l: str(l.config))
def test_config_round_trips_through_make_likelihood(likelihood):
    """make_likelihood(config) rebuilds the same class with the same sigma and learn flag; an instance passes through."""
    rebuilt = make_likelihood(likelihood.config)
    assert type(rebuilt) is type(likelihood)
    assert rebuilt.config == likelihood.config
    if isinstance(likelihood, GaussianLikelihood):
        assert rebuilt.sigma == likelihood.sigma and rebuilt.learn_sigma == likelihood.learn_sigma
        assert len(list(rebuilt.parameters())) == int(likelihood.learn_sigma)
    assert make_likelihood(likelihood) is likelihood


def test_a_learned_sigma_comes_back_through_config_and_state_dict():
    """After training, config holds the starting sigma (to rebuild the module) and state_dict the learned one."""
    trained = GaussianLikelihood(sigma=0.5, learn_sigma=True)
    with torch.no_grad():
        trained.log_sigma.fill_(math.log(0.123))
    rebuilt = make_likelihood(trained.config)
    assert rebuilt.sigma == pytest.approx(0.5)
    rebuilt.load_state_dict(trained.state_dict())
    assert rebuilt.sigma == pytest.approx(0.123)


def test_make_likelihood_from_names_and_none():
    """None is the course's Bernoulli; names give the classes (Gaussian with its documented defaults)."""
    assert type(make_likelihood(None)) is BernoulliLikelihood
    assert type(make_likelihood("bernoulli")) is BernoulliLikelihood
    assert type(make_likelihood("continuous_bernoulli")) is ContinuousBernoulliLikelihood
    gaussian = make_likelihood("gaussian")
    assert type(gaussian) is GaussianLikelihood
    assert gaussian.sigma == pytest.approx(0.1) and not gaussian.learn_sigma
    learned = make_likelihood({"name": "gaussian", "sigma": 0.3, "learn_sigma": True})
    assert learned.sigma == pytest.approx(0.3) and learned.learn_sigma


@pytest.mark.parametrize("spec", ["poisson", "Gaussian", {"name": "laplace"}, {}, 3, ["gaussian"]], ids=repr)
def test_make_likelihood_rejects_unknown_specs_naming_the_choices(spec):
    """An unknown name (or a spec that is none of the accepted types) is a ValueError listing the valid names."""
    with pytest.raises(ValueError) as error:
        make_likelihood(spec)
    message = str(error.value)
    for name in ("bernoulli", "gaussian", "continuous_bernoulli"):
        assert repr(name) in message


@pytest.mark.parametrize("sigma", [0.0, -0.1, float("nan"), float("inf"), "0.1"], ids=repr)
def test_gaussian_rejects_bad_sigma(sigma):
    """sigma must be a finite positive number, directly or through make_likelihood."""
    with pytest.raises(ValueError, match="positive"):
        GaussianLikelihood(sigma=sigma)
    with pytest.raises(ValueError, match="positive"):
        make_likelihood({"name": "gaussian", "sigma": sigma})


def test_learning_sigma_converges_to_the_root_mean_squared_error():
    """Adam on log_sigma alone, with fixed residuals, converges to log sqrt(MSE) over all pixels (closed-form maximiser),
    from a start 1 nat away; and the decoder parameters are untouched (they are not the module's)."""
    g = torch.Generator().manual_seed(15)
    x = torch.rand(64, 100, generator=g)
    logits = torch.randn(64, 100, generator=g)
    likelihood = GaussianLikelihood(sigma=1.0, learn_sigma=True)
    optimiser = torch.optim.Adam(likelihood.parameters(), lr=0.05)
    for _ in range(400):
        optimiser.zero_grad()
        (-likelihood.log_prob(x, logits).mean()).backward()
        optimiser.step()
    mse = (x.double() - torch.sigmoid(logits.double())).square().mean().item()
    assert abs(0.5 * math.log(mse)) > 0.9  # the start really was far away
    assert likelihood.log_sigma.item() == pytest.approx(0.5 * math.log(mse), abs=2e-3)
    assert likelihood.sigma == pytest.approx(math.sqrt(mse), rel=2e-3)
