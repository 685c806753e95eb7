"""The VAE: an encoder giving a diagonal Gaussian q(z|x), and a decoder giving the logits of p(x|z).

:class:`VAE` is the course's MLP (taught in ``notebooks/03_train_vae.ipynb``; a small one appears in
``notebooks/02_gradients.ipynb``); :class:`ConvVAE` a convolutional one (``notebooks/06_real_data.ipynb``);
:class:`ConditionalVAE` one whose encoder and decoder also see the digit's label
(``notebooks/07_conditional_and_beta.ipynb``). All decode to one logit per pixel; their ``likelihood`` (:mod:`vae_lesson.likelihoods`) says what distribution
those logits parameterise: Bernoulli by default, Gaussian or continuous Bernoulli for grey levels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import Tensor, nn

from vae_lesson.data import pixel_means
from vae_lesson.gaussians import reparameterize
from vae_lesson.likelihoods import BernoulliLikelihood, Likelihood, make_likelihood

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


class BaseVAE(nn.Module):
    """What every VAE of the course shares: ``latent_dim``, a ``likelihood`` for p(x|z), the reparameterized
    forward pass, and the decoder's start at the average image. Subclasses define ``encode``, ``decode``,
    ``config`` and ``_output_bias`` (the decoder's per-pixel output bias)."""

    #: Whether encode, decode and forward also take the labels y (:class:`ConditionalVAE`).
    conditional = False

    #: The one reparameterized sampler (:func:`vae_lesson.gaussians.reparameterize`), here for discoverability.
    reparameterize = staticmethod(reparameterize)

    def _init_common(self, latent_dim: int, likelihood: Likelihood | dict | str | None) -> None:
        if not isinstance(latent_dim, int) or latent_dim < 1:
            raise ValueError(f"latent_dim must be a positive integer, got {latent_dim!r}.")
        self.latent_dim = latent_dim
        likelihood = make_likelihood(likelihood)
        if type(likelihood) is BernoulliLikelihood:
            # the default has no parameters: kept out of the module tree, so the course's model prints (and its
            # state dict reads) exactly as before decoders had a likelihood
            object.__setattr__(self, "likelihood", likelihood)
        else:
            self.likelihood = likelihood

    def _likelihood_config(self) -> dict:
        # the Bernoulli, the course's default, is left out: older checkpoints' configs stay valid as they are
        return {} if type(self.likelihood) is BernoulliLikelihood else {"likelihood": self.likelihood.config}

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        raise NotImplementedError

    def decode(self, z: Tensor) -> Tensor:
        raise NotImplementedError

    def _output_bias(self) -> Tensor:
        raise NotImplementedError

    def _check_codes(self, z: Tensor) -> None:
        if z.shape[-1] != self.latent_dim:
            raise ValueError(f"z must have {self.latent_dim} latent dimensions in its last axis, got {tuple(z.shape)}.")

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
        mean = pixel_means(x).clamp(clip, 1 - clip)  # block-wise: no float64 copy of the whole set
        with torch.no_grad():
            self._output_bias().copy_(torch.logit(mean))

    def forward(
        self, x: Tensor, *, num_samples: int | None = None, generator: torch.Generator | None = None
    ) -> VAEOutput:
        """Encode x, draw ``num_samples`` reparameterized codes z from q(z|x) (one if None), decode them."""
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar, num_samples, generator)
        return VAEOutput(self.decode(z), mu, logvar, z)


class VAE(BaseVAE):
    """A VAE for 28x28 images: q(z|x) = N(mu(x), diag exp(logvar(x))), p(z) = N(0, I), p(x|z) from the decoder's
    logits: Bernoulli (binary images) unless ``likelihood`` says otherwise (:mod:`vae_lesson.likelihoods`).

    ``latent_dim`` is d; ``hidden`` the hidden-layer widths of the encoder (the decoder mirrors them);
    ``activation`` is ``"tanh"`` or ``"relu"``; the defaults are the course's model (784-256-256-d, ReLU).
    ``encode(x) -> (mu, logvar)``, ``decode(z) -> logits`` (N, 784), ``forward(x) -> VAEOutput`` with reparameterized
    samples z = mu + sigma * eps: the one forward pass that training (:func:`vae_lesson.elbo.elbo_terms`) uses.
    Taught in ``notebooks/03_train_vae.ipynb``.
    """

    def __init__(
        self, latent_dim: int, hidden: Sequence[int] = COURSE_HIDDEN, activation: str = COURSE_ACTIVATION,
        likelihood: Likelihood | dict | str | None = None,
    ) -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}.")
        self._init_common(latent_dim, likelihood)
        self.hidden, self.activation = tuple(int(h) for h in hidden), activation
        self.encoder = mlp([IMAGE_PIXELS, *self.hidden, 2 * latent_dim], activation)
        self.decoder = mlp([latent_dim, *reversed(self.hidden), IMAGE_PIXELS], activation)

    @property
    def config(self) -> dict:
        """The constructor arguments, enough to rebuild the model (saved with checkpoints)."""
        return {"latent_dim": self.latent_dim, "hidden": list(self.hidden), "activation": self.activation,
                **self._likelihood_config()}

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """q(z|x)'s mean and log-variance, each (N, d), for images x (N, 784) or (N, 28, 28)."""
        mu, logvar = self.encoder(flatten_images(x)).chunk(2, dim=-1)
        return mu, logvar

    def decode(self, z: Tensor) -> Tensor:
        """Logits (N, 784) of p(x|z) for latent codes z (N, d); for a Bernoulli, sigmoid gives pixel probabilities
        (``model.likelihood.mean(logits)`` gives the expected image for any likelihood)."""
        self._check_codes(z)
        return self.decoder(z)

    def _output_bias(self) -> Tensor:
        return self.decoder[-1].bias


class ConvVAE(BaseVAE):
    """A convolutional VAE for 28x28 images, with :class:`VAE`'s interface.

    Encoder: two stride-2 convolutions (28 -> 14 -> 7 pixels, ``channels`` feature maps), then a hidden layer of
    ``hidden`` units giving mu and logvar. Decoder: the mirror image with transposed convolutions, plus one
    learned bias per pixel (what ``init_output_bias`` sets). ``encode(x)`` takes x of shape (N, 28, 28),
    (N, 1, 28, 28) or (N, 784); ``decode(z)`` gives logits (N, 784), or (k, N, 784) for codes (k, N, d), like
    :class:`VAE`'s. Convolutions share weights across positions, so the model knows that images are made of local
    parts. Taught in ``notebooks/06_real_data.ipynb``.
    """

    def __init__(
        self, latent_dim: int, channels: Sequence[int] = (32, 64), hidden: int = 256,
        likelihood: Likelihood | dict | str | None = None,
    ) -> None:
        super().__init__()
        self._init_common(latent_dim, likelihood)
        if len(channels) != 2 or any(int(c) < 1 for c in channels) or int(hidden) < 1:
            raise ValueError(f"channels must be two positive integers and hidden a positive integer, "
                             f"got channels={channels!r}, hidden={hidden!r}.")
        self.channels, self.hidden = tuple(int(c) for c in channels), int(hidden)
        c1, c2 = self.channels
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c1, 4, stride=2, padding=1), nn.ReLU(),   # 28 -> 14
            nn.Conv2d(c1, c2, 4, stride=2, padding=1), nn.ReLU(),  # 14 -> 7
            nn.Flatten(), nn.Linear(c2 * 7 * 7, self.hidden), nn.ReLU(), nn.Linear(self.hidden, 2 * latent_dim),
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, self.hidden), nn.ReLU(), nn.Linear(self.hidden, c2 * 7 * 7), nn.ReLU(),
            nn.Unflatten(1, (c2, 7, 7)),
            nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1), nn.ReLU(),  # 7 -> 14
            nn.ConvTranspose2d(c1, 1, 4, stride=2, padding=1, bias=False),  # 14 -> 28
            nn.Flatten(),
        )
        self.pixel_bias = nn.Parameter(torch.zeros(IMAGE_PIXELS))

    @property
    def config(self) -> dict:
        """The constructor arguments, enough to rebuild the model (saved with checkpoints)."""
        return {"architecture": "conv", "latent_dim": self.latent_dim, "channels": list(self.channels),
                "hidden": self.hidden, **self._likelihood_config()}

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """q(z|x)'s mean and log-variance, each (N, d), for images x (N, 28, 28), (N, 1, 28, 28) or (N, 784)."""
        if x.ndim == 4 and x.shape[1:] == (1, 28, 28):
            x = x.reshape(len(x), IMAGE_PIXELS)
        x = flatten_images(x).reshape(-1, 1, 28, 28)
        mu, logvar = self.encoder(x).chunk(2, dim=-1)
        return mu, logvar

    def decode(self, z: Tensor) -> Tensor:
        """Logits (..., 784) of p(x|z) for latent codes z (..., d)."""
        self._check_codes(z)
        logits = self.decoder(z.reshape(-1, self.latent_dim)) + self.pixel_bias
        return logits.reshape(*z.shape[:-1], IMAGE_PIXELS)

    def _output_bias(self) -> Tensor:
        return self.pixel_bias


def check_labels(y: Tensor, n: int, num_classes: int) -> Tensor:
    """``y`` checked as n integer class labels in [0, num_classes): a tensor (n,) of int64, with a clear error."""
    if not isinstance(y, Tensor):
        raise TypeError(f"labels y must be a tensor of class numbers, got {type(y).__name__}; "
                        "e.g. torch.tensor([7]) for one 7.")
    if y.dtype.is_floating_point or y.dtype.is_complex or y.dtype == torch.bool:
        raise TypeError(f"labels y must hold whole class numbers (an integer tensor such as torch.int64), got {y.dtype}.")
    if y.shape != (n,):
        raise ValueError(f"expected one label per image, shape ({n},), got {tuple(y.shape)}.")
    if n and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"labels must lie in 0..{num_classes - 1}, got values from {int(y.min())} to {int(y.max())}.")
    return y.long()


class ConditionalVAE(BaseVAE):
    """A conditional VAE (Sohn, Lee & Yan 2015): q(z|x, y) and p(x|z, y), the class label y an input to both.

    The encoder and the decoder are the course's MLPs (:class:`VAE`'s ``hidden`` and ``activation``), each fed
    the label as a one-hot vector of ``num_classes`` entries beside its usual input. Since the decoder is told the
    class, the code z need not carry it: z holds the *style* (slant, thickness, width), and
    ``decode(z, y)`` draws that style as any class y. ``encode(x, y) -> (mu, logvar)`` (each (N, d));
    ``decode(z, y) -> logits`` (N, 784), or (k, N, 784) for codes (k, N, d); ``forward(x, y)`` like :class:`VAE`'s.
    y holds int64 labels of shape (N,). :func:`vae_lesson.train.fit` trains it when given ``train_labels``.
    Taught in ``notebooks/07_conditional_and_beta.ipynb``.
    """

    conditional = True

    def __init__(
        self, latent_dim: int, num_classes: int = 10, hidden: Sequence[int] = COURSE_HIDDEN,
        activation: str = COURSE_ACTIVATION, likelihood: Likelihood | dict | str | None = None,
    ) -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}.")
        if not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"num_classes must be an integer of at least 2, got {num_classes!r}.")
        self._init_common(latent_dim, likelihood)
        self.num_classes = num_classes
        self.hidden, self.activation = tuple(int(h) for h in hidden), activation
        self.encoder = mlp([IMAGE_PIXELS + num_classes, *self.hidden, 2 * latent_dim], activation)
        self.decoder = mlp([latent_dim + num_classes, *reversed(self.hidden), IMAGE_PIXELS], activation)

    @property
    def config(self) -> dict:
        """The constructor arguments, enough to rebuild the model (saved with checkpoints)."""
        return {"architecture": "conditional", "latent_dim": self.latent_dim, "num_classes": self.num_classes,
                "hidden": list(self.hidden), "activation": self.activation, **self._likelihood_config()}

    def one_hot(self, y: Tensor, n: int) -> Tensor:
        """The labels y (n,) checked, as one-hot rows (n, num_classes) of floats."""
        y = check_labels(y, n, self.num_classes)
        return torch.nn.functional.one_hot(y, self.num_classes).to(self._output_bias().dtype)

    def encode(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        """q(z|x, y)'s mean and log-variance, each (N, d), for images x (N, 784) or (N, 28, 28) and labels y (N,)."""
        x = flatten_images(x)
        mu, logvar = self.encoder(torch.cat([x, self.one_hot(y, len(x)).to(x.dtype)], dim=-1)).chunk(2, dim=-1)
        return mu, logvar

    def decode(self, z: Tensor, y: Tensor) -> Tensor:
        """Logits of p(x|z, y): (N, 784) for codes z (N, d), or (k, N, 784) for z (k, N, d); labels y (N,)."""
        self._check_codes(z)
        if z.ndim not in (2, 3):
            raise ValueError(f"z must be (N, {self.latent_dim}) or (k, N, {self.latent_dim}), got {tuple(z.shape)}.")
        y_hot = self.one_hot(y, z.shape[-2]).to(z.dtype).expand(*z.shape[:-1], self.num_classes)
        return self.decoder(torch.cat([z, y_hot], dim=-1))

    def forward(
        self, x: Tensor, y: Tensor, *, num_samples: int | None = None, generator: torch.Generator | None = None
    ) -> VAEOutput:
        """Encode (x, y), draw ``num_samples`` reparameterized codes z from q(z|x, y) (one if None), decode (z, y)."""
        mu, logvar = self.encode(x, y)
        z = self.reparameterize(mu, logvar, num_samples, generator)
        return VAEOutput(self.decode(z, y), mu, logvar, z)

    def _output_bias(self) -> Tensor:
        return self.decoder[-1].bias


ARCHITECTURES = {"mlp": VAE, "conv": ConvVAE, "conditional": ConditionalVAE}


def build_model(config: dict) -> BaseVAE:
    """A fresh model from a ``config`` (a model's ``config`` property, as checkpoints store it): a :class:`ConvVAE`
    if its ``architecture`` is ``"conv"``, else the course's :class:`VAE`."""
    config = dict(config)
    architecture = config.pop("architecture", "mlp")
    if architecture not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {architecture!r}: choose one of {', '.join(map(repr, ARCHITECTURES))}.")
    return ARCHITECTURES[architecture](**config)
