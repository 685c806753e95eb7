"""What a conditional VAE (:class:`vae_lesson.models.ConditionalVAE`) can do that a plain one cannot: draw a
requested class, and carry one digit's style over to every class; and a measure of what its code holds.

Taught in ``notebooks/07_conditional_and_beta.ipynb``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from vae_lesson.evaluation import posterior_means_and_logvars
from vae_lesson.models import ConditionalVAE, check_labels, flatten_images


def _require_conditional(model: object) -> ConditionalVAE:
    if not getattr(model, "conditional", False):
        raise TypeError(f"expected a conditional VAE (vae_lesson.models.ConditionalVAE, e.g. "
                        f"vae_lesson.pretrained.load('mnist-cvae')), got {type(model).__name__}.")
    return model


def decode_with_labels(model: ConditionalVAE, z: Tensor, labels: Tensor) -> Tensor:
    """Pixel probabilities sigmoid(decode(z, y)) of codes z (N, d) under labels y (N,): (N, 28, 28), no gradients."""
    model = _require_conditional(model)
    with torch.no_grad():
        return model.likelihood.mean(model.decode(z, labels)).reshape(-1, 28, 28)


def samples_of_classes(model: ConditionalVAE, labels: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """One sample per requested label: z ~ N(0, I) decoded with that label, as pixel probabilities (N, 28, 28)."""
    model = _require_conditional(model)
    labels = check_labels(labels, len(labels), model.num_classes)
    z = torch.randn(len(labels), model.latent_dim, generator=generator)
    return decode_with_labels(model, z, labels)


def style_transfer(model: ConditionalVAE, image: Tensor, label: int) -> Tensor:
    """One digit's handwriting in every class: encode ``image`` (28, 28) or (784,) with its own ``label``, take the
    posterior mean z = E[q(z|x, y)], and decode that one z with every label 0..C-1: (C, 28, 28) pixel probabilities.
    Since the decoder is told the class, z is free to hold what the label does not say: the style."""
    model = _require_conditional(model)
    x = flatten_images(torch.as_tensor(image, dtype=torch.float32).reshape(1, -1))
    y = check_labels(torch.as_tensor([label]), 1, model.num_classes)
    mu, _ = posterior_means_and_logvars(model, x, labels=y)
    classes = torch.arange(model.num_classes)
    return decode_with_labels(model, mu.expand(len(classes), -1), classes)


def label_probe_accuracy(train_codes: Tensor, train_labels: Tensor, test_codes: Tensor, test_labels: Tensor,
                         k: int = 5) -> float:
    """How much of the label a code holds: the accuracy of a k-nearest-neighbour vote that reads the class of each
    test code from the ``k`` nearest training codes (Euclidean), in [0, 1]. Chance is about 0.1 for ten classes.

    A plain VAE's code must hold the class (its decoder has nothing else to go on): a high accuracy. A conditional
    VAE's code need not: near chance means the code holds style, not class."""
    if train_codes.ndim != 2 or test_codes.ndim != 2 or train_codes.shape[1] != test_codes.shape[1]:
        raise ValueError(f"codes must be (N, d) and (M, d) with the same d, got {tuple(train_codes.shape)} and "
                         f"{tuple(test_codes.shape)}.")
    if not isinstance(k, int) or not 1 <= k <= len(train_codes):
        raise ValueError(f"k must be a whole number from 1 to the number of training codes, got {k!r}.")
    train_labels = check_labels(train_labels, len(train_codes), int(train_labels.max()) + 1)
    votes = []
    for block in test_codes.split(1024):  # 1,024 x N distances at a time, not the whole matrix
        nearest = torch.cdist(block, train_codes).topk(k, largest=False).indices
        votes.append(torch.mode(train_labels[nearest], dim=1).values)
    return (torch.cat(votes) == test_labels).double().mean().item()
