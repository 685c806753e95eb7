"""Evaluating a VAE: the mean ELBO and its terms, the test log-likelihood from L_k the way papers do, active
units, KL per dimension, and rate and distortion.

Taught in ``notebooks/03_train_vae.ipynb`` (decoders of grey levels in ``notebooks/06_real_data.ipynb``, rate and
distortion in ``notebooks/07_conditional_and_beta.ipynb``). Every function but ``learned_sigma_and_rmse`` takes
``labels=`` too, the images' class numbers, which a conditional VAE needs
(:class:`vae_lesson.models.ConditionalVAE`) and any other model refuses.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import NamedTuple

import torch
from torch import Tensor

from vae_lesson.data import batches
from vae_lesson.divergences import kl_diag_normal_std_normal
from vae_lesson.elbo import elbo_terms, iwae_bound, require_data_for, require_labels_for
from vae_lesson.likelihoods import bits_per_dim
from vae_lesson.models import VAE, flatten_images


def evaluate(model: VAE, x: Tensor, batch_size: int = 1000, generator: torch.Generator | None = None,
             labels: Tensor | None = None) -> dict[str, float]:
    """Mean single-sample ELBO, reconstruction and KL per image (nats) of binary images x, without gradients.

    ``x``: binary images (N, 784) or (N, 28, 28), e.g. ``data.binarized_test_set()``; grey ones are refused
    (for a model with a likelihood of grey levels, dequantized grey images: :func:`vae_lesson.likelihoods.dequantize`).
    ``fit`` records it after every epoch. Taught in ``notebooks/03_train_vae.ipynb``.
    """
    x = require_data_for(model, x, "evaluate")
    require_labels_for(model, labels, "evaluate", len(x))
    totals = {"elbo": 0.0, "reconstruction": 0.0, "kl": 0.0}
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for xb, yb in _with_labels(x, labels, batch_size):
            reconstruction, kl = elbo_terms(model, xb, 1, generator, yb)
            totals["reconstruction"] += reconstruction.sum().item()
            totals["kl"] += kl.sum().item()
    model.train(was_training)
    totals = {k: v / len(x) for k, v in totals.items()}
    totals["elbo"] = totals["reconstruction"] - totals["kl"]
    return totals


def _with_labels(x: Tensor, labels: Tensor | None, batch_size: int):
    """Minibatches (xb, yb) in order; yb is None for a model without labels."""
    if labels is None:
        return ((xb, None) for xb in batches(x, batch_size, shuffle=False))
    return batches((x, labels), batch_size, shuffle=False)


def nll_estimate(
    model: VAE, x: Tensor, num_samples: int, generator: torch.Generator | None = None, chunk_size: int = 2**12,
    labels: Tensor | None = None,
) -> tuple[float, float]:
    """The test negative log-likelihood estimate -mean L_k over binary images x, in nats, and its standard error
    (over images). As k grows, -L_k decreases towards -log p(x); papers report k = 5000. Grey images are refused."""
    bounds = iwae_bound(model, x, num_samples, generator, chunk_size, labels)
    return -bounds.mean().item(), bounds.std().item() / math.sqrt(len(bounds))


def posterior_means_and_logvars(model: VAE, x: Tensor, batch_size: int = 1000,
                                labels: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """q(z|x)'s mean and log-variance for every image of x, each (N, d), without gradients.

    ``x``: binary images (N, 784) or (N, 28, 28), as the encoder was trained on (grey ones are accepted: the
    encoder is a plain network, but its codes of grey images are not what the notebooks measure)."""
    x = flatten_images(x)
    require_labels_for(model, labels, "posterior_means_and_logvars", len(x))
    mus, logvars = [], []
    with torch.no_grad():
        for xb, yb in _with_labels(x, labels, batch_size):
            mu, logvar = model.encode(xb) if yb is None else model.encode(xb, yb)
            mus.append(mu)
            logvars.append(logvar)
    return torch.cat(mus), torch.cat(logvars)


def active_units(model: VAE, x: Tensor, threshold: float = 1e-2, labels: Tensor | None = None) -> tuple[int, Tensor]:
    """Burda et al.'s active units: u is active if Cov_x(E_q[z_u]) > threshold (default 1e-2).

    ``x``: binary images, as in training. Returns (number of active units, the variance across x of each unit's
    posterior mean, shape (d,)).
    An inactive unit's posterior mean ignores the input: the unit has collapsed to the prior.
    """
    mu, _ = posterior_means_and_logvars(model, x, labels=labels)
    activity = mu.var(0)
    return int((activity > threshold).sum()), activity


def kl_per_dimension(model: VAE, x: Tensor, labels: Tensor | None = None) -> Tensor:
    """Average KL(q(z_j|x) || p(z_j)) over the binary images x, for each latent dimension j: shape (d,), nats."""
    return kl_per_dimension_of(*posterior_means_and_logvars(model, x, labels=labels))


def kl_per_dimension_of(mu: Tensor, logvar: Tensor) -> Tensor:
    """Average KL(q(z_j|x) || p(z_j)) over images, for each dimension j, from their posteriors' mu and logvar (N, d)."""
    return kl_diag_normal_std_normal(mu[..., None], logvar[..., None]).mean(0)  # one dimension at a time


def mean_kl(model: VAE, x: Tensor, labels: Tensor | None = None) -> float:
    """Average KL(q(z|x) || p(z)) over the images x, in nats, in closed form (no sampling), without gradients.
    For any likelihood: x as the model's encoder takes it (binary, or dequantized grey levels for a model of grey
    levels). Taught in ``notebooks/06_real_data.ipynb``, which compares it across decoders."""
    mu, logvar = posterior_means_and_logvars(model, x, labels=labels)
    return kl_diag_normal_std_normal(mu, logvar).mean().item()


def learned_sigma_and_rmse(model: VAE, x: Tensor, seed: int = 7) -> tuple[float, float]:
    """A Gaussian decoder's sigma, and the root of its mean squared error on the images x with z drawn from q(z|x)
    (as in training; the draw seeded by ``seed``), both in intensity units. For a learned sigma the two should meet:
    the best sigma for a fixed decoder is the root of its MSE. Taught in ``notebooks/06_real_data.ipynb``."""
    sigma = getattr(model.likelihood, "sigma", None)
    if sigma is None:
        raise ValueError(f"learned_sigma_and_rmse needs a model with a Gaussian decoder (likelihood with a sigma), "
                         f"got a {type(model.likelihood).__name__}.")
    with torch.no_grad():
        out = model(x, generator=torch.Generator().manual_seed(seed))
        mse = (model.likelihood.mean(out.logits) - flatten_images(x)).square().mean().item()
    return sigma, math.sqrt(mse)


def reconstruction_means(model: VAE, x: Tensor, batch_size: int = 1000, labels: Tensor | None = None) -> Tensor:
    """The expected image under p(x|z) at the posterior mean z = E_q[z], for every image of x: (N, 784), without
    gradients. For any likelihood (``model.likelihood.mean``); what the notebooks draw as a "reconstruction".
    Taught in ``notebooks/06_real_data.ipynb``."""
    mu, _ = posterior_means_and_logvars(model, x, batch_size, labels)
    with torch.no_grad():
        return model.likelihood.mean(model.decode(mu) if labels is None else model.decode(mu, labels))


def sample_means(model: VAE, n: int, generator: torch.Generator | None = None, labels: Tensor | None = None) -> Tensor:
    """The expected images of p(x|z) for n codes z drawn from the prior N(0, I): (n, 784), without gradients.
    (The decoder's mean, not a draw of pixel noise: a Gaussian's noise would hide the picture.)
    For a conditional VAE, ``labels`` (n,) are the classes to draw. Taught in ``notebooks/06_real_data.ipynb``."""
    require_labels_for(model, labels, "sample_means", n)
    z = torch.randn(n, model.latent_dim, generator=generator)
    with torch.no_grad():
        return model.likelihood.mean(model.decode(z) if labels is None else model.decode(z, labels))


def bits_per_dim_estimate(model: VAE, x: Tensor, num_samples: int = 100,
                          generator: torch.Generator | None = None, chunk_size: int = 2**10) -> tuple[float, float]:
    """Test bits per dimension from -L_k on dequantized grey images x (:func:`vae_lesson.likelihoods.dequantize`),
    and its standard error over images, for a model of grey levels (Gaussian or continuous Bernoulli decoder).
    An upper bound on the true figure: L_k is a lower bound on log p(x). ``chunk_size`` decoder rows at a time (see
    :func:`vae_lesson.elbo.iwae_bound`; a ConvVAE's activations are large). Taught in ``notebooks/06_real_data.ipynb``."""
    nll, stderr = nll_estimate(model, x, num_samples, generator, chunk_size)
    d = flatten_images(x).shape[1]
    return float(bits_per_dim(-nll, d)), stderr / (d * math.log(2))


class RateDistortion(NamedTuple):
    """A model's place on the rate-distortion plane (Alemi et al. 2018), in nats per image, averaged over a data set:
    ``rate`` R = E[KL(q(z|x) || p(z))], ``distortion`` D = -E[log p(x|z)]; the ELBO is -(D + R).
    Taught in ``notebooks/07_conditional_and_beta.ipynb``."""

    rate: float
    distortion: float

    @property
    def elbo(self) -> float:
        """The mean ELBO, -(D + R)."""
        return -(self.distortion + self.rate)


def rate_distortion(model: VAE, x: Tensor, labels: Tensor | None = None, num_samples: int = 1,
                    generator: torch.Generator | None = None, batch_size: int = 1000) -> RateDistortion:
    """Rate R = mean KL(q(z|x) || p(z)) (exact) and distortion D = -mean E_q[log p(x|z)] (by ``num_samples``
    reparameterized codes per image) over the images x, binary for a Bernoulli model, in nats per image.

    The ELBO's two terms under the names of information theory: R is the cost of sending the code z (an upper
    bound on the information I(x; z) that z carries about x), D how badly x is rebuilt from it. Every model sits at one point (R, D), and the ELBO
    is -(D + R). Taught in ``notebooks/07_conditional_and_beta.ipynb``."""
    x = require_data_for(model, x, "rate_distortion")
    require_labels_for(model, labels, "rate_distortion", len(x))
    if not isinstance(num_samples, int) or num_samples < 1:
        raise ValueError(f"num_samples must be a positive integer, got {num_samples!r}.")
    rate = distortion = 0.0
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for xb, yb in _with_labels(x, labels, batch_size):
            reconstruction, kl = elbo_terms(model, xb, num_samples, generator, yb)
            rate += kl.sum(dtype=torch.float64).item()
            distortion -= reconstruction.sum(dtype=torch.float64).item()
    model.train(was_training)
    return RateDistortion(rate / len(x), distortion / len(x))


def rate_distortion_table(models: Mapping[str, VAE], x: Tensor, labels: Tensor | None = None, num_samples: int = 1,
                          seed: int = 0) -> dict[str, RateDistortion]:
    """:func:`rate_distortion` of each of several models on the same images x, keyed like ``models``; each model's
    codes are drawn with a generator seeded with ``seed``. ``labels`` go to the conditional models among them.
    Taught in ``notebooks/07_conditional_and_beta.ipynb``."""
    return {
        name: rate_distortion(model, x, labels if getattr(model, "conditional", False) else None, num_samples,
                              torch.Generator().manual_seed(seed))
        for name, model in models.items()
    }
