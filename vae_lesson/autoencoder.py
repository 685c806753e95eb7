"""A plain (deterministic) autoencoder, and a measure of the holes its codes leave: why it cannot generate.

Taught in ``notebooks/01_elbo.ipynb``, §0, as the bridge from notebook 00's first VAE to the ELBO. An autoencoder
maps each image to one point and back; it is trained to reconstruct and nothing else, so nothing says where its
codes lie or which codes decode to digits. A VAE adds a prior p(z) and a code with uncertainty.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vae_lesson.data import batches, binarize
from vae_lesson.latent import nearest_code_distances, nearest_other_code_distances
from vae_lesson.models import COURSE_ACTIVATION, IMAGE_PIXELS, flatten_images, mlp
from vae_lesson.train import check_not_diverged


class Autoencoder(nn.Module):
    """Encoder 784 -> hidden -> d (one code per image, no uncertainty); decoder d -> hidden -> 784 Bernoulli logits.

    The same layers as :class:`vae_lesson.models.VAE` of the same sizes, except that the encoder outputs the code
    itself instead of a mean and a log-variance. ``encode(x) -> z`` (N, d), ``decode(z) -> logits`` (N, 784).
    Taught in ``notebooks/01_elbo.ipynb``.
    """

    def __init__(self, latent_dim: int, hidden: Sequence[int] = (256,), activation: str = COURSE_ACTIVATION) -> None:
        super().__init__()
        if not isinstance(latent_dim, int) or latent_dim < 1:
            raise ValueError(f"latent_dim must be a positive integer, got {latent_dim!r}.")
        self.latent_dim, self.hidden = latent_dim, tuple(int(h) for h in hidden)
        self.encoder = mlp([IMAGE_PIXELS, *self.hidden, latent_dim], activation)
        self.decoder = mlp([latent_dim, *reversed(self.hidden), IMAGE_PIXELS], activation)

    def encode(self, x: Tensor) -> Tensor:
        """The code (N, d) of each image x (N, 784) or (N, 28, 28): one point, not a distribution."""
        return self.encoder(flatten_images(x))

    def decode(self, z: Tensor) -> Tensor:
        """Bernoulli logits (N, 784) for codes z (N, d)."""
        if z.shape[-1] != self.latent_dim:
            raise ValueError(f"z must have {self.latent_dim} latent dimensions in its last axis, got {tuple(z.shape)}.")
        return self.decoder(z)

    def forward(self, x: Tensor) -> Tensor:
        """Reconstruction logits (N, 784) of x."""
        return self.decode(self.encode(x))


def reconstruction_loss(model: Autoencoder, x: Tensor) -> Tensor:
    """The binary cross-entropy of binary images x, summed over pixels and averaged over images, in nats: the
    autoencoder's whole objective (a VAE's reconstruction term without the noise and without the KL)."""
    x = flatten_images(x)
    return F.binary_cross_entropy_with_logits(model(x), x, reduction="sum") / len(x)


def train_autoencoder(
    model: Autoencoder, train_x: Tensor, epochs: int, batch_size: int = 128, lr: float = 2e-3,
    generator: torch.Generator | None = None,
) -> list[float]:
    """Train ``model`` to reconstruct dynamically binarized ``train_x`` (grey levels in [0, 1]) with Adam;
    return each epoch's mean training loss (nats per image). Raises if the loss becomes NaN or infinite."""
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}.")
    train_x = flatten_images(train_x)
    if train_x.min() < 0 or train_x.max() > 1:
        raise ValueError("train_x must hold intensities in [0, 1]; divide uint8 pixels by 255 first.")
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    model.train()
    for epoch in range(1, epochs + 1):
        total = torch.zeros(())
        for xb in batches(train_x, batch_size, generator=generator):
            loss = reconstruction_loss(model, binarize(xb, generator=generator))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.detach() * len(xb)
        check_not_diverged(total, f"in the autoencoder's epoch {epoch}", lr)
        losses.append(total.item() / len(train_x))
    return losses


def hole_fraction(draws: Tensor, codes: Tensor, factor: float = 3.0) -> float:
    """The share of ``draws`` (M, d) that land in a hole between ``codes`` (N, d): farther from every code than
    ``factor`` times the codes' median spacing (the median distance from a code to its nearest other code).

    Scale-free, so that maps of different sizes compare: a draw in a hole decodes from a code that no image
    was encoded to nearby. Taught in ``notebooks/01_elbo.ipynb``, §0.
    """
    if len(codes) < 2:
        raise ValueError("hole_fraction needs at least two codes to measure their spacing.")
    if not factor > 0:
        raise ValueError(f"factor must be positive, got {factor!r}.")
    spacing = nearest_other_code_distances(codes).median()
    return (nearest_code_distances(draws, codes) > factor * spacing).float().mean().item()
