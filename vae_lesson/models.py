"""The VAE: an MLP encoder giving a diagonal Gaussian q(z|x), and an MLP decoder giving Bernoulli logits.

Taught in ``notebooks/03_train_vae.ipynb``; a small one appears in ``notebooks/02_gradients.ipynb``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import Tensor, nn

from vae_lesson.gaussians import reparameterize

ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU}
IMAGE_PIXELS = 28 * 28
#: The course's model (notebook 03, the pretrained models, the benchmark): two hidden layers of 256 ReLU units.
COURSE_HIDDEN: tuple[int, ...] = (256, 256)
COURSE_ACTIVATION = "relu"


class VAEOutput(NamedTuple):
    """What one forward pass gives: q's mu and logvar (N, d), the reparameterized samples z and their decoder logits.

    With ``num_samples=None`` z is (N, d) and logits (N, 784); with ``num_samples=k``, (k, N, d) and (k, N, 784).
    """

    logits: Tensor
    mu: Tensor
    logvar: Tensor
    z: Tensor


def mlp(sizes: Sequence[int], activation: str) -> nn.Sequential:
    """Linear layers of the given sizes with ``activation`` between them (none after the last)."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


def flatten_images(x: Tensor) -> Tensor:
    """(N, 28, 28) or (N, 784) images -> (N, 784), with a clear error for anything else."""
    if x.ndim == 3 and x.shape[1:] == (28, 28):
        return x.reshape(len(x), IMAGE_PIXELS)
    if x.ndim == 2 and x.shape[1] == IMAGE_PIXELS:
        return x
    raise ValueError(
        f"expected images of shape (N, 28, 28) or (N, 784), got {tuple(x.shape)}; for one image use x[None]."
    )


class VAE(nn.Module):
    """A VAE for 28x28 binary images: q(z|x) = N(mu(x), diag exp(logvar(x))), p(z) = N(0, I), p(x|z) Bernoulli.

    ``latent_dim`` is d; ``hidden`` the hidden-layer widths of the encoder (the decoder mirrors them);
    ``activation`` is ``"tanh"`` or ``"relu"``; the defaults are the course's model (784-256-256-d, ReLU).
    ``encode(x) -> (mu, logvar)``, ``decode(z) -> logits`` (N, 784), ``forward(x) -> VAEOutput`` with reparameterized
    samples z = mu + sigma * eps: the one forward pass that training (:func:`vae_lesson.elbo.elbo_terms`) uses.
    Taught in ``notebooks/03_train_vae.ipynb``.
    """

    #: The one reparameterized sampler (:func:`vae_lesson.gaussians.reparameterize`), here for discoverability.
    reparameterize = staticmethod(reparameterize)

    def __init__(
        self, latent_dim: int, hidden: Sequence[int] = COURSE_HIDDEN, activation: str = COURSE_ACTIVATION
    ) -> None:
        super().__init__()
        if not isinstance(latent_dim, int) or latent_dim < 1:
            raise ValueError(f"latent_dim must be a positive integer, got {latent_dim!r}.")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}.")
        self.latent_dim, self.hidden, self.activation = latent_dim, tuple(int(h) for h in hidden), activation
        self.encoder = mlp([IMAGE_PIXELS, *self.hidden, 2 * latent_dim], activation)
        self.decoder = mlp([latent_dim, *reversed(self.hidden), IMAGE_PIXELS], activation)

    @property
    def config(self) -> dict:
        """The constructor arguments, enough to rebuild the model (saved with checkpoints)."""
        return {"latent_dim": self.latent_dim, "hidden": list(self.hidden), "activation": self.activation}

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """q(z|x)'s mean and log-variance, each (N, d), for images x (N, 784) or (N, 28, 28)."""
        mu, logvar = self.encoder(flatten_images(x)).chunk(2, dim=-1)
        return mu, logvar

    def decode(self, z: Tensor) -> Tensor:
        """Bernoulli logits (N, 784) of p(x|z) for latent codes z (N, d); sigmoid gives pixel probabilities."""
        if z.shape[-1] != self.latent_dim:
            raise ValueError(f"z must have {self.latent_dim} latent dimensions in its last axis, got {tuple(z.shape)}.")
        return self.decoder(z)

    def init_output_bias(self, train_x: Tensor, clip: float = 1e-3) -> None:
        """Start the decoder at the average image: set its last layer's bias to the log-odds of each pixel's mean
        intensity over ``train_x`` (grey levels in [0, 1], (N, 28, 28) or (N, 784)), clipped to [clip, 1 - clip].

        At initialization the last layer's other input is small, so the untrained decoder then draws every pixel
        with about its average probability, instead of 1/2 everywhere (784 ln 2, about 543 nats per image): the
        first epochs need not learn that the border is paper. The clip keeps the bias finite for pixels that are
        paper in every image (log-odds of 0 is minus infinity). Call it once, before training.
        Taught in ``notebooks/03_train_vae.ipynb``.
        """
        if not 0 < clip < 0.5:
            raise ValueError(f"clip must lie between 0 and 0.5, got {clip!r}.")
        x = flatten_images(train_x)
        if len(x) == 0 or x.min() < 0 or x.max() > 1:
            raise ValueError("train_x must hold at least one image with intensities in [0, 1].")
        mean = x.mean(dim=0, dtype=torch.float64).clamp(clip, 1 - clip)
        with torch.no_grad():
            self.decoder[-1].bias.copy_(torch.logit(mean))

    def forward(
        self, x: Tensor, *, num_samples: int | None = None, generator: torch.Generator | None = None
    ) -> VAEOutput:
        """Encode x, draw ``num_samples`` reparameterized codes z from q(z|x) (one if None), decode them."""
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar, num_samples, generator)
        return VAEOutput(self.decode(z), mu, logvar, z)
