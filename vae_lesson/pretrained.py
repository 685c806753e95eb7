"""Pretrained VAEs shipped with the course, so that notebooks 04-05 and a classroom start at once.

``load("mnist-2d")`` returns a model with a 2-D latent (for pictures), ``load("mnist-32d")`` one with a
32-D latent (for quality); ``load("fashion-conv")`` and ``load("fashion-mlp")`` are Gaussian-decoder VAEs of
Fashion-MNIST's grey levels (a convolutional one, and the course's MLP trained for the same time), for
``notebooks/06_real_data.ipynb``; ``load("mnist-cvae")`` is a conditional VAE of MNIST's digits (the label an
input to encoder and decoder), for ``notebooks/07_conditional_and_beta.ipynb``. Each is rebuilt from scratch, deterministically up to floating-point
threading, by ``python -m vae_lesson.pretrained --rebuild [NAME ...]``; its metadata records the recipe
and the test NLL it reached, which the tests check. Trained in ``notebooks/03_train_vae.ipynb``'s way.
"""

from __future__ import annotations

import argparse
import copy
import functools
import sys
import time
from pathlib import Path

import torch

from vae_lesson.checkpoints import load_checkpoint, save_checkpoint
from vae_lesson.data import binarized_test_set, load_fashion_mnist, load_mnist, test_subset
from vae_lesson.evaluation import active_units, evaluate, nll_estimate
from vae_lesson.likelihoods import bits_per_dim, dequantize
from vae_lesson.files import require_file
from vae_lesson.models import COURSE_ACTIVATION, COURSE_HIDDEN, VAE, build_model
from vae_lesson.train import History, fit

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"

#: How each shipped model is trained: model arguments, fit arguments and the seed. Both are the course's model;
#: every fit argument is spelled out (none left to fit's defaults), so that a rebuild repeats what was shipped.
RECIPES: dict[str, dict] = {
    "mnist-2d": {
        "model": {"latent_dim": 2, "hidden": list(COURSE_HIDDEN), "activation": COURSE_ACTIVATION},
        "fit": {"epochs": 40, "batch_size": 128, "lr": 2e-3, "lr_final": 5e-4, "lr_schedule": "geometric",
                "kl_warmup_epochs": 0},
        "seed": 0,
    },
    "mnist-32d": {
        "model": {"latent_dim": 32, "hidden": list(COURSE_HIDDEN), "activation": COURSE_ACTIVATION},
        # about 40 minutes of training on a 2-core laptop CPU (benchmarks/RESULTS.md): KL warm-up over the first quarter of the
        # epochs and a cosine decay, the recipe that won the five- and ten-minute trials there
        "fit": {"epochs": 560, "batch_size": 128, "lr": 2e-3, "lr_final": 4e-5, "lr_schedule": "cosine",
                "kl_warmup_epochs": 140},
        "seed": 0,
        "full_nll": True,  # --rebuild also measures -L_5000 on the whole test set (FULL_NLL), 13 more minutes
    },
    # Notebook 06's pair: the same data, likelihood (a Gaussian decoder with one learned sigma, the sigma-VAE), latent
    # size and recipe; epochs chosen so that both train for about the same time on 2 CPU cores (benchmarks/RESULTS.md)
    "fashion-conv": {
        "data": "fashion-mnist",
        "model": {"architecture": "conv", "latent_dim": 32, "channels": [32, 64], "hidden": 256,
                  "likelihood": {"name": "gaussian", "sigma": 0.1, "learn_sigma": True}},
        "fit": {"epochs": 16, "batch_size": 128, "lr": 2e-3, "lr_final": 1e-4, "lr_schedule": "cosine",
                "kl_warmup_epochs": 4},
        "init_output_bias": True,
        "seed": 0,
    },
    "fashion-mlp": {
        "data": "fashion-mnist",
        "model": {"latent_dim": 32, "hidden": list(COURSE_HIDDEN), "activation": COURSE_ACTIVATION,
                  "likelihood": {"name": "gaussian", "sigma": 0.1, "learn_sigma": True}},
        "fit": {"epochs": 134, "batch_size": 128, "lr": 2e-3, "lr_final": 1e-4, "lr_schedule": "cosine",
                "kl_warmup_epochs": 34},
        "init_output_bias": True,
        "seed": 0,
    },
    # Notebook 07's conditional VAE: the course's MLPs with the label as a one-hot input to both, a 16-D latent for
    # the style, notebook 03's recipe with the warm-up over the first quarter (cosine decay), about 5 minutes on 2 cores
    "mnist-cvae": {
        "model": {"architecture": "conditional", "latent_dim": 16, "num_classes": 10, "hidden": list(COURSE_HIDDEN),
                  "activation": COURSE_ACTIVATION},
        "fit": {"epochs": 60, "batch_size": 128, "lr": 2e-3, "lr_final": 1e-4, "lr_schedule": "cosine",
                "kl_warmup_epochs": 15},
        "init_output_bias": True,
        "labels": True,
        "seed": 0,
    },
}

#: The data sets a recipe may name: MNIST (binarized, the default) or Fashion-MNIST (grey levels).
DATA_LOADERS = {"mnist": load_mnist, "fashion-mnist": load_fashion_mnist}

#: The test-NLL check stored with each model and repeated by the tests: -L_k on a seeded random subset of the
#: test images (``data.test_subset``; a prefix would be the cleaner half of MNIST's test set).
NLL_CHECK = {"num_images": 1000, "subset_seed": 0, "k": 1000, "binarization_seed": 0, "sample_seed": 1}
#: The chunk size (decoder rows per step of ``iwae_bound``) that the recorded checks were measured with. The chunking
#: decides which random draws go to which image, so a recorded figure reproduces exactly only with the same chunks.
NLL_CHECK_CHUNK_SIZE = 2**15


def path_of(name: str) -> Path:
    """Where the shipped model ``name`` lives."""
    if name not in RECIPES:
        raise ValueError(f"unknown pretrained model {name!r}: available are {', '.join(map(repr, RECIPES))}.")
    return WEIGHTS_DIR / f"{name}.pt"


@functools.lru_cache(maxsize=None)
def _load_cached(name: str, mtime_ns: int) -> tuple[VAE, History | None, dict]:
    return load_checkpoint(path_of(name))


def load_with_info(name: str) -> tuple[VAE, History | None, dict]:
    """(model, training history, metadata) of a shipped model, each a fresh copy (changing one never changes the
    next load's); the model is in eval mode. A missing file raises :class:`FileNotFoundError` saying how to restore it.
    """
    path = require_file(
        path_of(name), "pretrained model file",
        f"Restore it from the repository (`git checkout -- vae_lesson/weights/{name}.pt`) or rebuild it with "
        f"`python -m vae_lesson.pretrained --rebuild {name}`.",
    )
    model, history, metadata = _load_cached(name, path.stat().st_mtime_ns)
    fresh = build_model(model.config)
    fresh.load_state_dict(model.state_dict())
    return fresh.eval(), copy.deepcopy(history), copy.deepcopy(metadata)


def load(name: str) -> VAE:
    """A shipped pretrained VAE, ready to use (eval mode): ``"mnist-2d"``, ``"mnist-32d"``, ``"fashion-conv"``,
    ``"fashion-mlp"`` or ``"mnist-cvae"`` (``RECIPES`` says how each was trained)."""
    return load_with_info(name)[0]


#: The likelihood check of a model of grey levels (Fashion-MNIST's models): -L_k on a seeded random subset of the
#: test images, dequantized once; converted to bits per dimension by ``likelihoods.bits_per_dim``.
GREY_NLL_CHECK = {"num_images": 1000, "subset_seed": 0, "k": 100, "dequantization_seed": 0, "sample_seed": 1}


def dequantized_test_set(data: str = "fashion-mnist", seed: int = 0) -> torch.Tensor:
    """A data set's test images (N, 28, 28), uniformly dequantized once with ``seed``: what a model of grey levels is
    evaluated on."""
    x, _ = DATA_LOADERS[data]("test")
    return dequantize(x, torch.Generator().manual_seed(seed))


def measure_grey_nll(model: VAE, data: str = "fashion-mnist", check: dict = GREY_NLL_CHECK) -> tuple[float, float]:
    """-L_k and its standard error (nats per image) on a seeded random subset of the dequantized test images."""
    x = dequantized_test_set(data, check["dequantization_seed"])
    x = x[test_subset(check["num_images"], check["subset_seed"], size=len(x))]
    return nll_estimate(model, x, check["k"], torch.Generator().manual_seed(check["sample_seed"]))


def measure_nll(model: VAE, check: dict = NLL_CHECK) -> tuple[float, float]:
    """-L_k and its standard error on a seeded random subset of the binarized test images, as recorded in a
    shipped model's metadata."""
    missing = set(NLL_CHECK) - set(check)
    if missing:
        raise ValueError(f"the NLL check lacks {sorted(missing)}; it was recorded by an older version of the course: "
                         "run `python -m vae_lesson.pretrained --remeasure` to record it anew.")
    subset = test_subset(check["num_images"], check["subset_seed"])
    x = binarized_test_set(check["binarization_seed"])[subset]
    labels = load_mnist("test")[1][subset] if model.conditional else None  # a conditional VAE: -L_k of log p(x|y)
    return nll_estimate(model, x, check["k"], torch.Generator().manual_seed(check["sample_seed"]),
                        chunk_size=NLL_CHECK_CHUNK_SIZE, labels=labels)


#: The paper-style evaluation (Burda et al. 2016): -L_5000 over all 10,000 test images, binarized once with seed 0.
#: About 13 minutes on a 2-core CPU, so it is recorded by ``--rebuild`` and ``--full-nll`` but not by the tests.
FULL_NLL = {"k": 5000, "binarization_seed": 0, "sample_seed": 1}


def measure_full_nll(model: VAE) -> dict:
    """-L_5000 and its standard error over the whole binarized test set, with the time it took."""
    start = time.perf_counter()
    nll, stderr = nll_estimate(model, binarized_test_set(FULL_NLL["binarization_seed"]), FULL_NLL["k"],
                               torch.Generator().manual_seed(FULL_NLL["sample_seed"]), chunk_size=2**16)
    return {**FULL_NLL, "num_images": 10_000, "nll": nll, "stderr": stderr,
            "seconds": round(time.perf_counter() - start, 1)}


def record_full_nll(name: str) -> Path:
    """Measure a shipped model's full test NLL (:data:`FULL_NLL`) and add it to its metadata, atomically."""
    model, history, metadata = load_with_info(name)
    metadata["test_nll_full"] = measure_full_nll(model)
    path = save_checkpoint(path_of(name), model, history, metadata)
    full = metadata["test_nll_full"]
    print(f"{name}: -L_{full['k']} over all {full['num_images']:,} test images {full['nll']:.2f} ± {full['stderr']:.2f} "
          f"nats ({full['seconds']:.0f} s) -> {path}")
    return path


def measurements(model: VAE, data: str = "mnist") -> dict:
    """What a shipped model's metadata records about its quality, all on the binarized test set (the inputs a
    Bernoulli model is trained on): the test NLL check, the test ELBO and the number of active units.
    For a model of grey levels (``data="fashion-mnist"``), on the dequantized test set, with bits per dimension."""
    if not model.likelihood.binary_data:
        test_grey = dequantized_test_set(data, GREY_NLL_CHECK["dequantization_seed"])
        nll, stderr = measure_grey_nll(model, data)
        return {
            "test_nll": {**GREY_NLL_CHECK, "data": data, "nll": nll, "stderr": stderr,
                         "bits_per_dim": bits_per_dim(-nll)},
            "test_elbo": evaluate(model, test_grey, generator=torch.Generator().manual_seed(0))["elbo"],
            "active_units": active_units(model, test_grey)[0],
            "sigma": getattr(model.likelihood, "sigma", None),
        }
    test_bin = binarized_test_set(0)
    labels = load_mnist("test")[1] if model.conditional else None
    nll, stderr = measure_nll(model)
    n_active, _ = active_units(model, test_bin, labels=labels)
    return {
        "test_nll": {**NLL_CHECK, "nll": nll, "stderr": stderr},
        "test_elbo": evaluate(model, test_bin, generator=torch.Generator().manual_seed(0), labels=labels)["elbo"],
        "active_units": n_active,
    }


def remeasure(name: str) -> Path:
    """Record a shipped model's measurements anew (same weights and history, updated metadata), atomically."""
    model, history, metadata = load_with_info(name)
    metadata.update(measurements(model, RECIPES[name].get("data", "mnist")))
    metadata["torch"] = str(torch.__version__)
    path = save_checkpoint(path_of(name), model, history, metadata)
    print(f"{name}: {_summary(metadata)} -> {path}")
    return path


def _summary(metadata: dict) -> str:
    check = metadata["test_nll"]
    if "bits_per_dim" in check:
        return (f"test NLL (-L_{check['k']}, {check['num_images']} random dequantized test images) {check['nll']:.1f} ± "
                f"{check['stderr']:.1f} nats = {check['bits_per_dim']:.3f} bits/dim, {metadata['active_units']} active units")
    return (f"test NLL (-L_{check['k']}, {check['num_images']} random test images) {check['nll']:.2f} ± "
            f"{check['stderr']:.2f} nats, {metadata['active_units']} active units")


def rebuild(name: str, progress: bool = True) -> Path:
    """Train the shipped model ``name`` from scratch with its recipe and write it (atomically) with its metadata."""
    recipe = RECIPES[name]
    torch.manual_seed(recipe["seed"])
    model = build_model(recipe["model"])
    data = recipe.get("data", "mnist")
    x_train, y_train = DATA_LOADERS[data]("train")
    x_test, y_test = DATA_LOADERS[data]("test")
    labels = {"train_labels": y_train, "test_labels": y_test} if recipe.get("labels") else {}
    if recipe.get("init_output_bias"):
        model.init_output_bias(x_train)
    start = time.perf_counter()
    history = fit(model, x_train, test_x=x_test, generator=torch.Generator().manual_seed(recipe["seed"]),
                  progress=progress, **labels, **recipe["fit"])
    seconds = time.perf_counter() - start
    metadata = {
        "name": name,
        "recipe": recipe,
        **measurements(model, data),
        "training_seconds": round(seconds, 1),
        "torch": str(torch.__version__),
        "command": f"python -m vae_lesson.pretrained --rebuild {name}",
    }
    if recipe.get("full_nll"):
        metadata["test_nll_full"] = measure_full_nll(model)
    path = save_checkpoint(path_of(name), model, history, metadata)
    print(f"{name}: {len(history)} epochs in {seconds:.0f} s, {_summary(metadata)} -> {path}")
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m vae_lesson.pretrained", description=__doc__.split("\n")[0])
    parser.add_argument("--rebuild", nargs="*", metavar="NAME", help="retrain these models (default: all)")
    parser.add_argument("--remeasure", nargs="*", metavar="NAME",
                        help="measure these models anew and update their metadata, without retraining (default: all)")
    parser.add_argument("--full-nll", nargs="*", metavar="NAME",
                        help="measure -L_5000 over the whole test set and record it (about 13 minutes per model on 2 cores)")
    parser.add_argument("--list", action="store_true", help="list the shipped models and their recorded NLL")
    args = parser.parse_args(argv)
    if args.rebuild is not None:
        for name in args.rebuild or list(RECIPES):
            path_of(name)  # validates the name before any training starts
            rebuild(name, progress=sys.stderr.isatty())
    elif args.full_nll is not None:
        for name in args.full_nll or list(RECIPES):
            record_full_nll(name)
    elif args.remeasure is not None:
        for name in args.remeasure or list(RECIPES):
            remeasure(name)
    else:
        for name in RECIPES:
            if path_of(name).is_file():
                metadata = load_with_info(name)[2]
                full = metadata.get("test_nll_full")
                extra = "" if full is None else f"; -L_{full['k']} over all test images {full['nll']:.2f} ± {full['stderr']:.2f}"
                print(f"{name}: {_summary(metadata)}{extra}")
            else:
                print(f"{name}: missing (rebuild with --rebuild {name})")


if __name__ == "__main__":
    main()
