"""Training a VAE: the loop, its history, and the checks that keep a student's run honest.

Taught in ``notebooks/03_train_vae.ipynb``.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass, field, fields

import torch
from torch import Tensor

from vae_lesson.data import _binarize_unchecked, batches, binarize_once
from vae_lesson.elbo import elbo_terms, require_labels_for
from vae_lesson.evaluation import evaluate
from vae_lesson.likelihoods import Likelihood, dequantize, make_likelihood
from vae_lesson.models import VAE, flatten_images

#: Notebook 03's recipe, which :func:`fit`'s defaults follow: minibatches of 128, Adam's learning rate decaying
#: from 2e-3 to 1e-4 along half a cosine, and the KL's weight warmed up over the first two thirds of the epochs.
#: Chosen by one-minute trials (``benchmarks/RESULTS.md``): in a short run, a long warm-up was worth about 2 nats.
COURSE_RECIPE: dict = {"batch_size": 128, "lr": 2e-3, "lr_final": 1e-4, "lr_schedule": "cosine",
                       "kl_warmup_fraction": 2 / 3}
#: The epochs of notebook 03's default run: about a minute of training on two CPU cores.
NOTEBOOK_03_EPOCHS = 15


class TrainingDivergedError(FloatingPointError):
    """The loss became NaN or infinite; the message says what to try. The one error of a diverged run, raised by
    :func:`fit` and by ``estimators.train_with_estimator``."""


def check_not_diverged(value: Tensor | float, where: str, lr: float) -> None:
    """Raise :class:`TrainingDivergedError` if a training run's ``value`` (a loss or an ELBO) is NaN or infinite.

    ``where`` says when it happened (e.g. "at epoch 3, step 10"); ``lr`` is the learning rate in use, for the advice.
    """
    value = float(value.detach()) if isinstance(value, Tensor) else float(value)
    if not math.isfinite(value):
        raise TrainingDivergedError(
            f"The loss became {value} {where}: training diverged. "
            f"Try a smaller learning rate (lr={lr:g} -> lr={lr / 3:.2g}), and check that the data are in [0, 1]. "
            "The model's weights are no longer usable; create a new model before training again."
        )


@dataclass
class History:
    """Per-epoch averages in nats per image: ELBO, reconstruction E_q[log p(x|z)] and KL(q(z|x) || p(z)),
    on the training data (over the epoch's minibatches) and, if given, on the test data (after the epoch).
    ``seconds`` is the cumulative training time (machine-specific: plot it, do not store it in a notebook)."""

    epoch: list[int] = field(default_factory=list)
    train_elbo: list[float] = field(default_factory=list)
    train_reconstruction: list[float] = field(default_factory=list)
    train_kl: list[float] = field(default_factory=list)
    test_elbo: list[float] = field(default_factory=list)
    test_reconstruction: list[float] = field(default_factory=list)
    test_kl: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, list]:
        """Plain lists, safe for ``torch.load(..., weights_only=True)``."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> History:
        known = {f.name for f in fields(cls)}
        return cls(**{k: list(v) for k, v in data.items() if k in known})

    def __len__(self) -> int:
        return len(self.epoch)


def _loss_terms(model: VAE, xb: Tensor, beta: float, generator: torch.Generator | None,
                yb: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor]:
    reconstruction, kl = elbo_terms(model, xb, 1, generator, yb)
    loss = -(reconstruction - beta * kl).mean()  # negative (beta-)ELBO per image: summed over pixels, mean over batch
    return loss, reconstruction.mean().detach(), kl.mean().detach()


LR_SCHEDULES = ("geometric", "cosine")


def learning_rate(lr: float, lr_final: float | None, schedule: str, progress: float) -> float:
    """The learning rate at ``progress`` in [0, 1] through a run that decays from ``lr`` to ``lr_final``
    (constant ``lr`` if ``lr_final`` is None) by ``schedule``: "geometric" or "cosine". Used by :func:`fit`."""
    _check_schedule(schedule)
    if lr_final is None:
        return lr
    if schedule == "geometric":
        return lr * (lr_final / lr) ** progress
    return lr_final + (lr - lr_final) * 0.5 * (1 + math.cos(math.pi * progress))


def _check_schedule(schedule: str) -> None:
    if schedule not in LR_SCHEDULES:
        raise ValueError(f"lr_schedule must be one of {', '.join(map(repr, LR_SCHEDULES))}, got {schedule!r}.")


def fit(
    model: VAE,
    train_x: Tensor,
    epochs: int,
    batch_size: int = COURSE_RECIPE["batch_size"],
    lr: float = COURSE_RECIPE["lr"],
    test_x: Tensor | None = None,
    generator: torch.Generator | None = None,
    progress: bool = True,
    beta: float = 1.0,
    lr_final: float | None = COURSE_RECIPE["lr_final"],
    history: History | None = None,
    time_budget: float | None = None,
    kl_warmup_epochs: int | None = None,
    lr_schedule: str = COURSE_RECIPE["lr_schedule"],
    train_labels: Tensor | None = None,
    test_labels: Tensor | None = None,
) -> History:
    """Train ``model`` by maximising the ELBO with Adam; return the per-epoch :class:`History`.

    The defaults are notebook 03's recipe (:data:`COURSE_RECIPE`): ``fit(model, x_train, epochs=15)`` trains the
    course's model as the notebook does (after ``model.init_output_bias(x_train)``); pass ``lr_final=None`` for a
    constant learning rate, ``kl_warmup_epochs=0`` for no warm-up.

    ``train_x``: grey-level images in [0, 1], (N, 28, 28) or (N, 784), binarized afresh every epoch
    (dynamic binarization); minibatches come from :func:`vae_lesson.data.batches`, not a per-item DataLoader.
    For a model whose likelihood is one of grey levels (``model.likelihood``, e.g. a Gaussian decoder, taught in
    ``notebooks/06_real_data.ipynb``) they are instead uniformly dequantized afresh every epoch
    (:func:`vae_lesson.likelihoods.dequantize`); a learned sigma is trained with the other parameters.
    ``test_x``: grey-level test images, binarized (or dequantized) once with a fixed seed so that epochs are comparable.
    ``beta`` weights the KL (beta = 1 is the ELBO). ``lr_final``: if given, the learning rate decays from ``lr``
    in the first epoch to ``lr_final`` in the last, following ``lr_schedule``: ``"geometric"`` (by the same factor
    every epoch) or ``"cosine"`` (half a cosine: slow at the start and at the end).
    ``history``: continue an earlier run's history.
    ``time_budget``: stop after the first epoch that ends past this many seconds (for benchmarks).
    ``kl_warmup_epochs``: KL warm-up (Bowman et al. 2016; Sønderby et al. 2016): the KL's weight rises linearly
    over this call's first ``kl_warmup_epochs`` epochs: ``beta * e / kl_warmup_epochs`` in its epoch e, ``beta``
    from epoch ``kl_warmup_epochs`` on, so that the encoder learns to put information into z before the full KL pulls q(z|x) towards the
    prior; it reached a better likelihood in the same time in benchmarks/RESULTS.md. The history always records
    the true ELBO (KL weight 1), whatever weight was trained with. The default, None, is the recipe's two thirds
    of the epochs, rounded (10 of 15; a warm-up of 0 or 1 epoch means none: the first epoch already has the full
    weight, as in a 1- or 2-epoch run).
    ``train_labels``, ``test_labels``: the images' class numbers (int64, one per image), which a conditional VAE
    (:class:`vae_lesson.models.ConditionalVAE`, ``notebooks/07_conditional_and_beta.ipynb``) needs and any other
    model refuses; the history then records the conditional ELBO.
    ``progress`` shows a tqdm progress bar (unless the environment sets TQDM_DISABLE); with ``progress=False``
    nothing is printed.
    Raises :class:`TrainingDivergedError` if the loss becomes NaN or infinite.
    Taught in ``notebooks/03_train_vae.ipynb``.
    """
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}.")
    if not isinstance(batch_size, int) or batch_size < 1:  # checked here: the step count below divides by it
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
    if kl_warmup_epochs is None:
        kl_warmup_epochs = round(COURSE_RECIPE["kl_warmup_fraction"] * epochs)
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr!r}.")
    _check_schedule(lr_schedule)
    if lr_final is not None and not lr_final > 0:
        raise ValueError(f"lr_final must be positive (or None for a constant learning rate), got {lr_final!r}.")
    if not isinstance(kl_warmup_epochs, int) or kl_warmup_epochs < 0:
        raise ValueError(f"kl_warmup_epochs must be a non-negative integer, got {kl_warmup_epochs!r}.")
    train_x = flatten_images(train_x)
    if train_x.min() < 0 or train_x.max() > 1:
        raise ValueError("train_x must hold intensities in [0, 1]; divide uint8 pixels by 255 first.")
    require_labels_for(model, train_labels, "fit (train_labels)", len(train_x))
    if test_x is not None:
        require_labels_for(model, test_labels, "fit (test_labels)", len(test_x))
    elif test_labels is not None:
        raise ValueError("fit: test_labels were given without test_x.")
    binary = make_likelihood(getattr(model, "likelihood", None)).binary_data
    test_bin = None if test_x is None else _fixed_test_draw(flatten_images(test_x), binary)
    history = history if history is not None else History()
    # fused: one kernel for all parameters instead of a Python loop over them (a large share of a small model's step)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    steps_per_epoch = math.ceil(len(train_x) / batch_size)
    bar = _progress_bar(epochs * steps_per_epoch, progress)
    start, elapsed0 = time.perf_counter(), (history.seconds[-1] if history.seconds else 0.0)
    first_epoch = (history.epoch[-1] if history.epoch else 0) + 1
    model.train()
    for epoch in range(first_epoch, first_epoch + epochs):
        run_fraction = (epoch - first_epoch) / max(1, epochs - 1)  # 0 in the first epoch, 1 in the last
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(lr, lr_final, lr_schedule, run_fraction)
        kl_weight = beta * min(1.0, (epoch - first_epoch + 1) / kl_warmup_epochs) if kl_warmup_epochs else beta
        sums = [0.0, 0.0, 0]  # reconstruction and KL summed over the epoch's images, and their number
        for step, (grey, yb) in enumerate(_labelled_batches(train_x, train_labels, batch_size, generator)):
            # a fresh draw every epoch, batch by batch (cache-friendly); train_x's range was checked once above.
            # A model of grey levels (a Gaussian or continuous Bernoulli decoder) sees them uniformly dequantized.
            xb = _binarize_unchecked(grey, generator) if binary else dequantize(grey, generator)
            loss, reconstruction, kl = _loss_terms(model, xb, kl_weight, generator, yb)
            check_not_diverged(loss, f"at epoch {epoch}, step {step}", optimizer.param_groups[0]["lr"])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            sums[0] += reconstruction.item() * len(xb)
            sums[1] += kl.item() * len(xb)
            sums[2] += len(xb)
            if bar is not None:
                bar.update()
        _record(history, model, epoch, sums, test_bin, elapsed0 + time.perf_counter() - start, test_labels)
        if bar is not None:
            bar.set_postfix(train_elbo=f"{history.train_elbo[-1]:.1f}",
                            test_elbo=f"{history.test_elbo[-1]:.1f}" if test_bin is not None else "-")
        if time_budget is not None and time.perf_counter() - start > time_budget:
            break
    if bar is not None:
        bar.close()
    model.eval()
    return history


def train_short(likelihood: Likelihood | dict | str, images: Tensor, epochs: int = 3, seed: int = 0) -> VAE:
    """A short run for comparing decoders: the course's model (``VAE(latent_dim=32)``) with the decoder
    ``likelihood`` (a name, a config dict or a :mod:`vae_lesson.likelihoods` module: pass a new module per call, since
    the model keeps the one it is given), its output bias started at the images' mean (``init_output_bias``), then
    trained by :func:`fit` with its defaults for ``epochs`` epochs. ``seed`` seeds the initial weights (through
    ``torch.manual_seed``, which also resets PyTorch's global generator) and fit's draws. Returns the model, in eval
    mode. Taught in ``notebooks/06_real_data.ipynb``."""
    torch.manual_seed(seed)
    model = VAE(latent_dim=32, likelihood=likelihood)
    model.init_output_bias(images)
    fit(model, images, epochs=epochs, generator=torch.Generator().manual_seed(seed), progress=False)
    return model


def _labelled_batches(x: Tensor, labels: Tensor | None, batch_size: int, generator: torch.Generator | None):
    """Shuffled minibatches (xb, yb), yb None without labels; the same permutation draws either way."""
    if labels is None:
        return ((xb, None) for xb in batches(x, batch_size, generator=generator))
    return batches((x, labels), batch_size, generator=generator)


def _fixed_test_draw(test_x: Tensor, binary: bool) -> Tensor:
    """The test images, binarized (or, for a model of grey levels, dequantized) once with a fixed seed."""
    if binary:
        return binarize_once(test_x, seed=0)
    return dequantize(test_x, torch.Generator().manual_seed(0))


def _record(history: History, model: VAE, epoch: int, sums: list, test_bin: Tensor | None, seconds: float,
            test_labels: Tensor | None = None) -> None:
    reconstruction, kl = sums[0] / sums[2], sums[1] / sums[2]
    history.epoch.append(epoch)
    history.train_reconstruction.append(reconstruction)
    history.train_kl.append(kl)
    history.train_elbo.append(reconstruction - kl)
    history.seconds.append(seconds)
    if test_bin is not None:
        scores = evaluate(model, test_bin, generator=torch.Generator().manual_seed(epoch), labels=test_labels)
        history.test_elbo.append(scores["elbo"])
        history.test_reconstruction.append(scores["reconstruction"])
        history.test_kl.append(scores["kl"])


def _progress_bar(total: int, progress: bool):
    # tqdm's notebook bar overrides the TQDM_DISABLE environment variable, so honour it here (CI sets it)
    if not progress or os.environ.get("TQDM_DISABLE"):
        return None
    from tqdm.auto import tqdm  # imported on use: plain scripts and tests never need it

    return tqdm(total=total, unit="batch", desc="training", leave=False)
