"""The VAE's objective, the ELBO per example, and the importance-weighted bound L_k used to evaluate it, in nats.

Taught in ``notebooks/03_train_vae.ipynb`` (derived in ``notebooks/01_elbo.ipynb``).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from vae_lesson.data import require_binary
from vae_lesson.divergences import kl_diag_normal_std_normal
from vae_lesson.gaussians import diagonal_gaussian_log_density, gaussian_log_density
from vae_lesson.likelihoods import bernoulli_log_likelihood, make_likelihood
from vae_lesson.models import VAE, flatten_images


def log_likelihood_of(model: VAE, x: Tensor, logits: Tensor) -> Tensor:
    """log p(x|z) summed over pixels, from the decoder's ``logits``, under ``model.likelihood`` (Bernoulli for a
    model without one, such as notebook 02's small models)."""
    likelihood = getattr(model, "likelihood", None)
    if likelihood is None:
        return bernoulli_log_likelihood(logits, x)
    return likelihood.log_prob(x, logits)


def require_data_for(model: VAE, x: Tensor, where: str) -> Tensor:
    """``x`` as flattened images (N, 784), checked for what ``model``'s likelihood is a distribution of: binary
    images for a Bernoulli (grey ones are refused, with advice), finite values otherwise."""
    x = flatten_images(x)
    if make_likelihood(getattr(model, "likelihood", None)).binary_data:
        return require_binary(x, where)
    if not torch.isfinite(x).all():
        raise ValueError(f"{where}: x holds NaN or infinite values.")
    return x


def require_labels_for(model: VAE, labels: Tensor | None, where: str, n: int | None = None) -> None:
    """A conditional model (``model.conditional``, :class:`vae_lesson.models.ConditionalVAE`) needs the labels y of
    its images (one per image: ``n`` of them, if given), and any other model must not be given them: say which,
    and what to pass."""
    conditional = getattr(model, "conditional", False)
    if conditional and labels is None:
        raise ValueError(f"{where}: this is a conditional VAE, which needs each image's label: pass labels=y "
                         "(int64 class numbers, one per image).")
    if not conditional and labels is not None:
        raise ValueError(f"{where}: labels were given, but this model is not conditional (it does not read them); "
                         "leave labels out.")
    if labels is not None and n is not None and len(labels) != n:
        raise ValueError(f"{where}: expected one label per image, {n} of them, got {len(labels)}.")


def run_model(model: VAE, x: Tensor, labels: Tensor | None = None, num_samples: int | None = None,
              generator: torch.Generator | None = None):
    """``model(x, num_samples=..., generator=...)``, with the labels as the second argument for a conditional VAE:
    the one place where the course's functions call a model's forward pass (labels checked by
    :func:`require_labels_for`). Returns the model's :class:`vae_lesson.models.VAEOutput`."""
    require_labels_for(model, labels, "the model's forward pass")
    if labels is None:
        return model(x, num_samples=num_samples, generator=generator)
    return model(x, labels, num_samples=num_samples, generator=generator)


def elbo_terms(model: VAE, x: Tensor, num_samples: int = 1, generator: torch.Generator | None = None,
               labels: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """The ELBO's two terms per example: (reconstruction E_q[log p(x|z)] by Monte Carlo, KL(q(z|x) || p(z)) exactly), each (N,).

    For a conditional VAE pass the images' ``labels`` (int64, (N,)): the terms are then those of the conditional ELBO,
    E_q(z|x,y)[log p(x|z,y)] and KL(q(z|x,y) || p(z)) (``notebooks/07_conditional_and_beta.ipynb``)."""
    if not isinstance(num_samples, int) or num_samples < 1:
        raise ValueError(f"num_samples must be a positive integer, got {num_samples!r}.")
    x = flatten_images(x)
    out = run_model(model, x, labels, num_samples, generator)
    reconstruction = log_likelihood_of(model, x, out.logits).mean(0)
    return reconstruction, kl_diag_normal_std_normal(out.mu, out.logvar)


def elbo(model: VAE, x: Tensor, num_samples: int = 1, generator: torch.Generator | None = None,
         labels: Tensor | None = None) -> Tensor:
    """Per-example ELBO in nats, shape (N,), for binary images x (N, 784) or (N, 28, 28); grey ones are refused
    (unless the model's likelihood is one for grey levels, :mod:`vae_lesson.likelihoods`).

    ELBO = E_q[log p(x|z)] - KL(q(z|x) || p(z)): the expectation by ``num_samples`` reparameterized samples,
    the KL in closed form. Its negative, averaged over a batch, is the VAE's training loss. A conditional VAE needs
    the images' ``labels``.
    """
    reconstruction, kl = elbo_terms(model, require_data_for(model, x, "elbo"), num_samples, generator, labels)
    return reconstruction - kl


def log_importance_weights(
    model: VAE, x: Tensor, num_samples: int, generator: torch.Generator | None = None, labels: Tensor | None = None
) -> Tensor:
    """log w_i = log p(x, z_i) - log q(z_i | x) for z_1..z_k ~ q(z|x): shape (num_samples, N), nats, no gradients.

    Their mean over i is a k-sample ELBO estimate; log of the mean of exp(log w) is L_k (:func:`iwae_bound`).
    """
    x = flatten_images(x)
    with torch.no_grad():
        out = run_model(model, x, labels, num_samples, generator)
        log_prior = gaussian_log_density(out.z)
        log_q = diagonal_gaussian_log_density(out.z, out.mu, out.logvar)
        return log_likelihood_of(model, x, out.logits) + log_prior - log_q


def iwae_bound(
    model: VAE, x: Tensor, num_samples: int, generator: torch.Generator | None = None, chunk_size: int = 2**12,
    labels: Tensor | None = None,
) -> Tensor:
    """The importance-weighted bound L_k (Burda, Grosse & Salakhutdinov 2016) per example, in nats, shape (N,),
    of binary images x (N, 784) or (N, 28, 28); grey ones are refused (unless the model's likelihood is one for
    grey levels: then x are dequantized grey levels, and :func:`vae_lesson.likelihoods.bits_per_dim` converts).

    L_k = log (1/k) sum_i p(x, z_i) / q(z_i | x) with z_1..z_k ~ q(z|x); L_1 is the ELBO in expectation,
    L_k never decreases in k on average and tends to log p(x). Computed with logsumexp, without gradients,
    and in chunks of at most ``chunk_size`` decoder rows, so that k = 5000 over the whole test set fits in memory
    (the default, 4,096 rows, needs about 50 MB, and was as fast as larger chunks in ``benchmarks/RESULTS.md``).
    A conditional VAE needs the images' ``labels`` (then L_k bounds log p(x|y)).
    Taught in ``notebooks/03_train_vae.ipynb``.
    """
    if not isinstance(num_samples, int) or num_samples < 1:
        raise ValueError(f"num_samples must be a positive integer, got {num_samples!r}.")
    x = require_data_for(model, x, "iwae_bound")
    require_labels_for(model, labels, "iwae_bound", len(x))
    images_per_chunk = max(1, chunk_size // num_samples)
    samples_per_chunk = max(1, min(num_samples, chunk_size))
    out = []
    for start in range(0, len(x), images_per_chunk):
        xb = x[start : start + images_per_chunk]
        yb = None if labels is None else labels[start : start + images_per_chunk]
        log_w = [
            log_importance_weights(model, xb, min(samples_per_chunk, num_samples - s), generator, yb)
            for s in range(0, num_samples, samples_per_chunk)
        ]
        out.append(torch.logsumexp(torch.cat(log_w), dim=0) - math.log(num_samples))
    return torch.cat(out)
