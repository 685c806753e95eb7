"""A small digit classifier, trained on real MNIST digits only, that judges generated ones: does a conditional VAE
draw the class it was asked for?

It never sees a VAE's output while it learns, so its verdict on samples is independent of the model it judges.
Taught in ``notebooks/07_conditional_and_beta.ipynb``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from vae_lesson.data import batches
from vae_lesson.models import IMAGE_PIXELS, check_labels, flatten_images


class DigitClassifier(nn.Module):
    """An MLP 784-``hidden``-10 (ReLU) from grey-level images (N, 28, 28) or (N, 784) in [0, 1] to class logits (N, 10)."""

    def __init__(self, hidden: int = 256, num_classes: int = 10) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.net = nn.Sequential(nn.Linear(IMAGE_PIXELS, hidden), nn.ReLU(), nn.Linear(hidden, num_classes))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(flatten_images(x))


def train_digit_classifier(x: Tensor, y: Tensor, epochs: int = 3, batch_size: int = 128, lr: float = 1e-3,
                           seed: int = 0, hidden: int = 256) -> DigitClassifier:
    """A :class:`DigitClassifier` trained with Adam and cross-entropy on images x (grey levels in [0, 1]) and their
    labels y (int64), reproducibly from ``seed``. Three epochs on MNIST's 60,000 training digits take a few seconds
    on a laptop CPU and reach about 98% test accuracy. Returned in eval mode."""
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}.")
    x = flatten_images(x)
    y = check_labels(y, len(x), 10)
    if x.min() < 0 or x.max() > 1:
        raise ValueError("x must hold intensities in [0, 1]; divide uint8 pixels by 255 first.")
    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng():  # seeded initialization, without touching the notebook's global random state
        torch.manual_seed(seed)
        classifier = DigitClassifier(hidden)
    optimizer = torch.optim.Adam(classifier.parameters(), lr=lr)
    classifier.train()
    for _ in range(epochs):
        for xb, yb in batches((x, y), batch_size, generator=generator):
            loss = nn.functional.cross_entropy(classifier(xb), yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return classifier.eval()


def predict_labels(classifier: nn.Module, images: Tensor, batch_size: int = 2000) -> Tensor:
    """The classifier's most likely class for each image (N, 28, 28) or (N, 784): int64 (N,), without gradients."""
    images = flatten_images(images)
    with torch.no_grad():
        return torch.cat([classifier(xb).argmax(dim=-1) for xb in batches(images, batch_size, shuffle=False)])


def accuracy(classifier: nn.Module, images: Tensor, labels: Tensor) -> float:
    """The share of ``images`` that the classifier assigns to their ``labels``, in [0, 1]."""
    labels = check_labels(labels, len(flatten_images(images)), getattr(classifier, "num_classes", 10))
    return (predict_labels(classifier, images) == labels).double().mean().item()


def confidence(classifier: nn.Module, images: Tensor, batch_size: int = 2000) -> Tensor:
    """How sure the classifier is of each image's class: the largest softmax probability, (N,) in [1/10, 1].
    A sample that looks like no digit in particular gets a low value. Used in notebook 07 to rate samples."""
    images = flatten_images(images)
    with torch.no_grad():
        return torch.cat([classifier(xb).softmax(dim=-1).amax(dim=-1)
                          for xb in batches(images, batch_size, shuffle=False)])
