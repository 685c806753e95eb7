"""Gradients of an expectation over a Gaussian: the score-function (REINFORCE) estimator and the
reparameterization (pathwise) estimator, the closed forms they are measured against, and the same
two estimators for the encoder of a VAE.

Taught in ``notebooks/02_gradients.ipynb`` (Mohamed, Rosca, Figurnov & Mnih 2020).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import Tensor

from vae_lesson.data import batches, binarize
from vae_lesson.divergences import kl_diag_normal_std_normal
from vae_lesson.elbo import bernoulli_log_likelihood
from vae_lesson.gaussians import diagonal_gaussian_log_density
from vae_lesson.models import VAE, flatten_images
from vae_lesson.train import check_not_diverged

Baseline = float | str | None


def _gaussian_noise(mu: Tensor, sigma: Tensor, num_samples: int, generator: torch.Generator | None):
    if not isinstance(num_samples, int) or num_samples < 1:
        raise ValueError(f"num_samples must be a positive integer, got {num_samples!r}.")
    mu, sigma = torch.broadcast_tensors(torch.as_tensor(mu), torch.as_tensor(sigma))
    if not (sigma > 0).all():
        raise ValueError("sigma must be positive everywhere.")
    dtype = torch.promote_types(mu.dtype, torch.get_default_dtype()) if not mu.is_floating_point() else mu.dtype
    mu, sigma = mu.detach().to(dtype), sigma.detach().to(dtype)
    eps = torch.randn((num_samples, *mu.shape), generator=generator, dtype=dtype)
    return mu, sigma, eps


def _evaluate(f: Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
    values = f(x)
    if values.shape != (len(x),):
        raise ValueError(
            f"f must return one value per sample, shape ({len(x)},), got {tuple(values.shape)}; "
            "for a multivariate x, reduce over the other axes, e.g. x.sum(dim=-1)."
        )
    return values


def _expand(values: Tensor, like: Tensor) -> Tensor:
    """Per-sample values (S,) broadcast against per-sample, per-parameter arrays (S, *shape)."""
    return values.reshape(-1, *([1] * (like.ndim - 1)))


def optimal_baseline(values: Tensor, score: Tensor) -> Tensor:
    """The variance-minimising constant b* = E[f s^2] / E[s^2] for each parameter, estimated from the samples.

    ``values`` (S,) are f(x_s), ``score`` (S, *shape) the score of one parameter; returns shape (*shape).
    (Estimating b* from the same samples adds a bias of order 1/S, negligible for the sample sizes used here.)
    """
    return (_expand(values, score) * score**2).mean(0) / (score**2).mean(0)


def score_function_grad(
    f: Callable[[Tensor], Tensor], mu: Tensor, sigma: Tensor, num_samples: int,
    baseline: Baseline = None, generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """Per-sample score-function (REINFORCE) estimates of the gradient of E_{N(mu, sigma^2)}[f(x)].

    grad_mu_s = (f(x_s) - b) (x_s - mu) / sigma^2,  grad_sigma_s = (f(x_s) - b) ((x_s - mu)^2 - sigma^2) / sigma^3,
    with x_s ~ N(mu, sigma^2) elementwise (mu, sigma of any shape, broadcast together). ``f`` maps samples
    (num_samples, *shape) to values (num_samples,); it need not be differentiable. ``baseline`` is None (b = 0),
    a number, or ``"optimal"`` (b* = E[f s^2] / E[s^2] per parameter, see :func:`optimal_baseline`).
    Returns ``(grad_mu, grad_sigma)``, each (num_samples, *shape); their means are the estimates.
    Taught in ``notebooks/02_gradients.ipynb``.
    """
    mu, sigma, eps = _gaussian_noise(mu, sigma, num_samples, generator)
    with torch.no_grad():
        values = _evaluate(f, mu + sigma * eps)
    if not (baseline is None or baseline == "optimal"
            or (isinstance(baseline, (int, float)) and not isinstance(baseline, bool))):
        raise ValueError(f"baseline must be None, a number or 'optimal', got {baseline!r}.")
    # The scores are computed in place where possible, and each is turned into its gradient in place: with many
    # samples of a long vector every (num_samples, *shape) tensor is large (80 MB for 100,000 x 100 in float64).
    score_mu = eps / sigma
    score_sigma = eps.pow_(2).sub_(1).div_(sigma)  # eps itself is not needed any more
    grads = []
    for score in (score_mu, score_sigma):
        if baseline is None:
            b = 0.0
        elif baseline == "optimal":
            b = optimal_baseline(values, score)
        else:
            b = float(baseline)
        centred = _expand(values, score) - b if isinstance(b, Tensor) else _expand(values - b, score)
        grads.append(score.mul_(centred))
    return grads[0], grads[1]


def reparam_grad(
    f: Callable[[Tensor], Tensor], mu: Tensor, sigma: Tensor, num_samples: int,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """Per-sample reparameterization (pathwise) estimates of the gradient of E_{N(mu, sigma^2)}[f(x)].

    With x = mu + sigma * eps, eps ~ N(0, 1): grad_mu_s = f'(x_s), grad_sigma_s = f'(x_s) * eps_s.
    ``f`` must be differentiable with torch operations, map (num_samples, *shape) to (num_samples,), and
    each value must depend on its own sample only. Returns ``(grad_mu, grad_sigma)``, each (num_samples, *shape).
    Taught in ``notebooks/02_gradients.ipynb``.
    """
    mu, sigma, eps = _gaussian_noise(mu, sigma, num_samples, generator)
    x = (mu + sigma * eps).requires_grad_(True)
    with torch.enable_grad():
        (df_dx,) = torch.autograd.grad(_evaluate(f, x).sum(), x)
    return df_dx, df_dx * eps


# --- the test problem of Mohamed et al. (2020, section 3): E_{N(mu, sigma^2)}[f(x)] in closed form -------------------

class TestFunction(NamedTuple):
    """f(x; k), E[f] and the exact gradient (d/dmu, d/dsigma) of E_{N(mu, sigma^2)}[f(x; k)]."""

    f: Callable[[Tensor, float], Tensor]
    expectation: Callable[[float, float, float], float]
    grad: Callable[[float, float, float], tuple[float, float]]


def _gauss_expectation(mu: float, sigma: float, k: float) -> float:
    a = 1 + 2 * k * sigma**2
    return math.exp(-k * mu**2 / a) / math.sqrt(a)


def _gauss_grad(mu: float, sigma: float, k: float) -> tuple[float, float]:
    a = 1 + 2 * k * sigma**2
    e = _gauss_expectation(mu, sigma, k)
    return e * (-2 * k * mu / a), e * (-1 / (2 * a) + k * mu**2 / a**2) * 4 * k * sigma


TEST_FUNCTIONS: dict[str, TestFunction] = {
    "(x - k)^2": TestFunction(
        f=lambda x, k: (x - k) ** 2,
        expectation=lambda mu, sigma, k: (mu - k) ** 2 + sigma**2,
        grad=lambda mu, sigma, k: (2 * (mu - k), 2 * sigma),
    ),
    "exp(-k x^2)": TestFunction(f=lambda x, k: torch.exp(-k * x**2), expectation=_gauss_expectation, grad=_gauss_grad),
    "cos(k x)": TestFunction(
        f=lambda x, k: torch.cos(k * x),
        expectation=lambda mu, sigma, k: math.cos(k * mu) * math.exp(-0.5 * (k * sigma) ** 2),
        grad=lambda mu, sigma, k: (
            -k * math.sin(k * mu) * math.exp(-0.5 * (k * sigma) ** 2),
            -(k**2) * sigma * math.cos(k * mu) * math.exp(-0.5 * (k * sigma) ** 2),
        ),
    ),
}
"""The three test functions of Mohamed et al. (2020, section 3), for scalar x; taught in notebook 02."""


def exact_grad(name: str, mu: float, sigma: float, k: float) -> tuple[float, float]:
    """Exact (d/dmu, d/dsigma) of E_{N(mu, sigma^2)}[f(x; k)] for a test function named in ``TEST_FUNCTIONS``."""
    if name not in TEST_FUNCTIONS:
        raise ValueError(f"unknown test function {name!r}: choose one of {list(TEST_FUNCTIONS)}.")
    return TEST_FUNCTIONS[name].grad(mu, sigma, k)


def sum_score_variance(dim: int, mu: float = 0.5, sigma: float = 1.0) -> tuple[float, float]:
    """Exact single-sample variance of the score-function estimates of d/dmu_1 and d/dsigma_1 of
    E[sum_d x_d] over N(mu 1, sigma^2 I) in ``dim`` dimensions (no baseline).

    With c = dim * mu: Var_mu = (c^2 + sigma^2 (dim + 1)) / sigma^2 and
    Var_sigma = (2 c^2 + sigma^2 (2 dim + 8)) / sigma^2; both grow quadratically in dim, while the
    reparameterization estimates (1 and eps_1) have variances 0 and 1 in every dimension.
    """
    c = dim * mu
    return (c**2 + sigma**2 * (dim + 1)) / sigma**2, (2 * c**2 + sigma**2 * (2 * dim + 8)) / sigma**2


# --- the same estimators for the encoder of a VAE ---------------------------------------------------------------------

ESTIMATORS = ("reparam", "score", "score+baseline")


def surrogate_elbo(model: VAE, x: Tensor, estimator: str, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """A scalar whose gradient is the chosen estimator of the batch-mean ELBO's gradient, and the ELBO per example.

    One sample z per image. The KL term is exact in every case; the estimators differ only in how the
    gradient of E_q[log p(x|z)] reaches the encoder:
    ``"reparam"``: z = mu + sigma * eps, gradients flow through z;
    ``"score"``: z is a constant, the encoder gets (log p(x|z) - b) * grad log q(z|x) with b = 0;
    ``"score+baseline"``: the same with b = log p(x | z = mu(x)), a per-image baseline that does not depend on z.
    Returns (surrogate, elbo): ascend ``surrogate``; ``elbo`` (N,) is the ordinary single-sample estimate.
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}.")
    x = flatten_images(x)
    if estimator == "reparam":  # the VAE's own forward pass: z = mu + sigma * eps, gradients flow through z
        out = model(x, generator=generator)
        elbo_values = bernoulli_log_likelihood(out.logits, x) - kl_diag_normal_std_normal(out.mu, out.logvar)
        return elbo_values.mean(), elbo_values.detach()
    mu, logvar = model.encode(x)
    kl = kl_diag_normal_std_normal(mu, logvar)
    z = model.reparameterize(mu, logvar, generator=generator).detach()  # a plain sample: no gradient path to the encoder
    reconstruction = bernoulli_log_likelihood(model.decode(z), x)  # still trains the decoder
    log_q = diagonal_gaussian_log_density(z, mu, logvar)  # its gradient in mu and logvar is the score
    baseline = 0.0
    if estimator == "score+baseline":
        with torch.no_grad():
            baseline = bernoulli_log_likelihood(model.decode(mu), x)
    learning_signal = (reconstruction.detach() - baseline) * log_q
    surrogate = reconstruction + learning_signal - learning_signal.detach() - kl  # value: the ELBO
    return surrogate.mean(), (reconstruction - kl).detach()


def encoder_gradient_variance(
    model: VAE, x: Tensor, estimator: str, num_repeats: int, generator: torch.Generator | None = None
) -> float:
    """Total variance (summed over the encoder's parameters) of one-sample gradient estimates of the batch-mean ELBO:
    the unbiased sample variance over ``num_repeats`` (at least 2) estimates, per parameter, summed.

    The draws are accumulated one at a time (Welford's update, in float64), not stacked: 200 draws of a small
    encoder's 160,000 gradients would otherwise hold over 100 MB. Used in ``notebooks/02_gradients.ipynb``.
    """
    if not isinstance(num_repeats, int) or num_repeats < 2:
        raise ValueError(f"num_repeats must be an integer of at least 2 (a variance needs two draws), got {num_repeats!r}.")
    params = list(model.encoder.parameters())
    mean = sum_sq = None
    for n in range(1, num_repeats + 1):
        surrogate, _ = surrogate_elbo(model, x, estimator, generator)
        grads = torch.autograd.grad(surrogate, params)
        draw = torch.cat([g.reshape(-1) for g in grads]).double()
        if mean is None:
            mean, sum_sq = draw, torch.zeros_like(draw)
            continue
        delta = draw - mean
        mean += delta / n
        sum_sq += delta * (draw - mean)  # sum of squared deviations from the running mean
    return (sum_sq / (num_repeats - 1)).sum().item()


def train_with_estimator(
    model: VAE, train_x: Tensor, estimator: str, steps: int, batch_size: int = 100, lr: float = 1e-3,
    generator: torch.Generator | None = None,
) -> list[float]:
    """Train ``model`` for ``steps`` Adam steps on dynamically binarized minibatches of ``train_x``, with the
    encoder's gradient from ``estimator`` (see :func:`surrogate_elbo`); return the batch-mean ELBO of each step.

    A short, equal-budget comparison of estimators, as in ``notebooks/02_gradients.ipynb``; a VAE is normally
    trained with ``vae_lesson.train.fit`` (reparameterization).
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history: list[float] = []
    while len(history) < steps:
        for batch in batches(train_x, batch_size, generator=generator):
            surrogate, elbo_values = surrogate_elbo(model, binarize(batch, generator), estimator, generator)
            optimizer.zero_grad()
            (-surrogate).backward()
            optimizer.step()
            history.append(elbo_values.mean().item())
            check_not_diverged(history[-1], f"at step {len(history)} with the {estimator!r} estimator", lr)
            if len(history) == steps:
                break
    return history
