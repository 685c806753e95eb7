"""The course's data layer: embedded MNIST, dynamic binarization and in-memory minibatches.

Taught in ``notebooks/00_start_here.ipynb`` and used by every notebook after it.
The data ships inside the package (``vae_lesson/datasets/``), so nothing is downloaded.
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from vae_lesson.files import require_file

DATASETS_DIR = Path(__file__).resolve().parent / "datasets"

SPLITS = ("train", "test")

REPAIR_HINT = (
    "To repair it, restore the file from the repository "
    "(`git checkout -- vae_lesson/datasets/{name}` in a clone of the course) "
    "or reinstall the course with `pip install -r requirements.txt`."
)


class DataFileError(RuntimeError):
    """An embedded data file is truncated or corrupt; the message says how to repair it.
    (A missing file raises :class:`FileNotFoundError`, as every loader of the course does.)"""


@dataclass(frozen=True)
class EmbeddedFile:
    """What an embedded ``.npz`` file must be: its name, size in bytes and sha256."""

    name: str
    size: int
    sha256: str


MNIST_FILE = EmbeddedFile(
    name="mnist.npz",
    size=11_490_519,
    sha256="06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64",
)


FASHION_MNIST_FILE = EmbeddedFile(
    name="fashion_mnist_test.npz",
    size=4_425_408,
    sha256="40cc5f7c7185a3f578d2e072deede39bcb9b9eedb4b716e70d55777fd0a88138",
)

FASHION_MNIST_TRAIN_FILE = EmbeddedFile(
    name="fashion_mnist_train.npz",
    size=26_444_539,
    sha256="3e1441eb5e03117f3280348ed6af9ada8db350ee079b4a0a54d4da7cdb8f3e99",
)

#: Fashion-MNIST's embedded files by split: one file each, so loading the test split never reads the training file.
FASHION_MNIST_FILES = {"train": FASHION_MNIST_TRAIN_FILE, "test": FASHION_MNIST_FILE}

#: Fashion-MNIST's class names, by label.
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)


def _check_split(split: str, valid: Sequence[str]) -> None:
    if split not in valid:
        raise ValueError(f"unknown split {split!r}: valid splits are {', '.join(map(repr, valid))}.")


def _verify(path: Path, expected: EmbeddedFile) -> None:
    """Raise :class:`FileNotFoundError` if ``path`` is missing, :class:`DataFileError` unless it has the expected
    size and sha256."""
    hint = REPAIR_HINT.format(name=expected.name)
    require_file(path, "data file", hint)
    size = path.stat().st_size
    if size != expected.size:
        raise DataFileError(
            f"The data file {path} is corrupt: it has {size:,} bytes, expected {expected.size:,} "
            f"(an interrupted copy or a Git LFS pointer?). {hint}"
        )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != expected.sha256:
        raise DataFileError(
            f"The data file {path} is corrupt: its sha256 is {digest}, expected {expected.sha256}. {hint}"
        )


@functools.lru_cache(maxsize=8)
def _verified(path: str, size: int, mtime_ns: int, expected: EmbeddedFile) -> None:
    """Check an ``.npz`` file's size and sha256 once per process (keyed by path, size and mtime)."""
    _verify(Path(path), expected)


def load_arrays(
    expected: EmbeddedFile, path: str | os.PathLike | None = None, keys: Sequence[str] | None = None
) -> dict[str, np.ndarray]:
    """The arrays ``keys`` (all if None) of a verified embedded ``.npz`` file, as uint8 arrays.

    The file's checksum is verified once per process; the arrays are decompressed afresh on every call and not
    kept, so that a notebook holds only the float copies it uses (the training images as uint8 would add 47 MB).
    """
    path = Path(path) if path is not None else DATASETS_DIR / expected.name
    if not path.is_file():
        _verify(path, expected)  # raises the "missing" error
    stat = path.stat()
    _verified(str(path.resolve()), stat.st_size, stat.st_mtime_ns, expected)
    with np.load(path, allow_pickle=False) as archive:
        return {key: archive[key] for key in (archive.files if keys is None else keys)}


def images_to_tensor(images: np.ndarray) -> Tensor:
    """uint8 images (N, 28, 28) in 0..255 -> a new float32 tensor in [0, 1]."""
    return torch.from_numpy(images.astype(np.float32)).div_(255.0)


def load_mnist(split: str = "train", path: str | os.PathLike | None = None) -> tuple[Tensor, Tensor]:
    """MNIST images and labels from the file embedded in the package.

    Returns ``(x, y)``: ``x`` float32 of shape (N, 28, 28) with values in [0, 1],
    ``y`` int64 of shape (N,). ``split`` is ``"train"`` (N = 60,000) or ``"test"`` (N = 10,000).
    ``path`` overrides the embedded file (for a copy elsewhere).
    The file's size and sha256 are checked once per process; each call decompresses the split afresh (about
    0.2 s for the training images) and returns new tensors, so changing them in place is safe.
    Raises ``ValueError`` for an unknown split, :class:`FileNotFoundError` for a missing file and
    :class:`DataFileError` for a corrupt one.
    Taught in ``notebooks/00_start_here.ipynb``.
    """
    _check_split(split, SPLITS)
    arrays = load_arrays(MNIST_FILE, path, keys=(f"x_{split}", f"y_{split}"))
    x = images_to_tensor(arrays[f"x_{split}"])
    y = torch.from_numpy(arrays[f"y_{split}"].astype(np.int64))
    return x, y


#: Size of MNIST's test split.
MNIST_TEST_SIZE = 10_000


def test_subset(n: int, seed: int = 0, size: int = MNIST_TEST_SIZE) -> Tensor:
    """Indices (int64, shape (n,)) of a seeded random subset of the ``size`` test images, without repeats.

    Never evaluate on a prefix of MNIST's test set: its first 5,000 digits come from the cleaner half
    (Census Bureau employees; the last 5,000 are by high-school students, per LeCun's description), so a prefix
    gives an optimistic log-likelihood. A random subset stands for the whole set. The same ``seed`` gives the
    same indices on every machine, and a smaller ``n`` gives a prefix of a larger subset with the same seed
    (``test_subset(500)`` lies inside ``test_subset(1000)``).
    Use it as ``x_test[test_subset(1000)]``; labels and binarized copies index the same way.
    Taught in ``notebooks/03_train_vae.ipynb``; used by notebooks 03-05, the benchmarks and ``pretrained``.
    """
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= size:
        raise ValueError(f"test_subset needs a whole number of images n between 1 and {size:,}, got {n!r}.")
    return torch.randperm(size, generator=torch.Generator().manual_seed(seed))[:n]


test_subset.__test__ = False  # a helper named test_*: pytest must not collect it where a test module imports it


def uniform_uint16(shape: tuple[int, ...], generator: torch.Generator | None = None) -> Tensor:
    """Independent uniform integers in 0..65535 (as int32), four from each 64-bit random word.

    Drawing one 64-bit word per four pixels is several times faster than one float per pixel,
    which matters when a whole epoch of MNIST is binarized afresh. :func:`binarize` uses the same words
    without the shift to 0..65535 (see :func:`_uniform_int16`).
    """
    return _uniform_int16(shape, generator).to(torch.int32) + 32768


def _uniform_int16(shape: tuple[int, ...], generator: torch.Generator | None = None) -> Tensor:
    # The 16-bit pieces of the random words as signed integers, uniform in -32768..32767: uniform_uint16 minus 32768.
    n = math.prod(shape)
    words = torch.randint(-(2**63), 2**63 - 1, ((n + 3) // 4,), dtype=torch.int64, generator=generator)
    return words.view(torch.int16)[:n].reshape(shape)


def load_fashion_mnist(split: str = "test", path: str | os.PathLike | None = None) -> tuple[Tensor, Tensor]:
    """Fashion-MNIST images and labels from the files embedded in the package, with :func:`load_mnist`'s conventions.

    Returns ``(x, y)``: ``x`` float32 of shape (N, 28, 28) with values in [0, 1], ``y`` int64 of shape (N,).
    ``split`` is ``"test"`` (the default; N = 10,000, 1,000 per class) or ``"train"`` (N = 60,000, 6,000 per class).
    Each split is its own file (``fashion_mnist_test.npz``, ``fashion_mnist_train.npz``); ``path`` overrides the
    chosen split's file (for a copy elsewhere). Class names are in ``FASHION_MNIST_CLASSES``.
    Raises ``ValueError`` for an unknown split, :class:`FileNotFoundError` for a missing file and
    :class:`DataFileError` for a corrupt one.
    The test split is out-of-distribution data for a model trained on MNIST in
    ``notebooks/05_density_and_anomalies.ipynb``; the training split is the real data with continuous pixels of
    ``notebooks/06_real_data.ipynb``.
    """
    _check_split(split, SPLITS)
    arrays = load_arrays(FASHION_MNIST_FILES[split], path, keys=(f"x_{split}", f"y_{split}"))
    return images_to_tensor(arrays[f"x_{split}"]), torch.from_numpy(arrays[f"y_{split}"].astype(np.int64))


def binarize(x: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Dynamic (stochastic) binarization: each pixel becomes 1 with probability equal to its intensity.

    ``x`` holds intensities in [0, 1] (any shape); the result has the same shape and dtype,
    with values in {0, 1}. A fresh draw per epoch is what makes a Bernoulli likelihood honest
    on grey-level MNIST. Pass a seeded ``torch.Generator`` for reproducible draws.
    The probability is the intensity rounded to a multiple of 1/65536 (off by less than 1e-5;
    exactly 0 and 1 stay 0 and 1), which lets one random word serve four pixels.
    Taught in ``notebooks/00_start_here.ipynb`` and ``notebooks/03_train_vae.ipynb``.
    """
    if not torch.is_floating_point(x):
        raise TypeError(f"binarize expects floating-point intensities in [0, 1], got dtype {x.dtype}.")
    if x.numel() and (x.min() < 0 or x.max() > 1):
        raise ValueError(
            f"binarize expects intensities in [0, 1], got values in [{x.min().item():.3g}, {x.max().item():.3g}]; "
            "divide uint8 pixels by 255 first (load_mnist already does)."
        )
    return _binarize_unchecked(x, generator)


#: Pixels per block when binarizing many images at once (a multiple of 4: each random word serves four pixels, so
#: blocks draw exactly the words one call over all pixels would). The whole test set in one block would need about
#: 100 MB of temporaries; a block of 2**20 pixels needs about 10 MB.
BINARIZE_BLOCK_PIXELS = 2**20


def _binarize_unchecked(x: Tensor, generator: torch.Generator | None) -> Tensor:
    # binarize without the range check, for fit, which checks the whole training set once instead of every batch.
    if x.numel() <= BINARIZE_BLOCK_PIXELS:  # a minibatch: one block, no copy into an output buffer
        return _binarize_block(x, generator)
    flat = x.reshape(-1)
    out = torch.empty(flat.shape, dtype=x.dtype)
    for start in range(0, len(flat), BINARIZE_BLOCK_PIXELS):
        out[start : start + BINARIZE_BLOCK_PIXELS] = _binarize_block(flat[start : start + BINARIZE_BLOCK_PIXELS], generator)
    return out.reshape(x.shape)


def _binarize_block(x: Tensor, generator: torch.Generator | None) -> Tensor:
    # P(u < t) = t / 65536 for u uniform in 0..65535; with s = u - 32768 (no shift needed, see _uniform_int16) the
    # same test is s < t - 32768: the same draws as uniform_uint16(...) < t, in fewer passes over the batch.
    thresholds = (x * 65536).round_().to(torch.int32).sub_(32768)
    return (_uniform_int16(tuple(x.shape), generator) < thresholds).to(x.dtype)


def binarize_once(x: Tensor, seed: int = 0) -> Tensor:
    """One fixed binarization of the grey images ``x`` (N, ...): the same draw for the same seed, flattened to
    (N, pixels). For evaluation sets, which must stay the same from one evaluation to the next (training draws
    afresh every epoch instead). Used in ``notebooks/05_density_and_anomalies.ipynb`` for the out-of-distribution sets.
    """
    return binarize(x.reshape(len(x), -1), torch.Generator().manual_seed(seed))


def require_binary(x: Tensor, who: str) -> Tensor:
    """``x`` itself if every value is 0 or 1; otherwise a ValueError saying that ``who`` (a function's name) needs
    binary images. A Bernoulli likelihood of grey levels is not a likelihood, so evaluating one would give numbers
    that look plausible and mean nothing."""
    if x.numel() and not bool(((x == 0) | (x == 1)).all()):
        raise ValueError(
            f"{who} expects binary images (every pixel 0 or 1), got grey levels; binarize them first, e.g. "
            "data.binarize_once(x) for an evaluation set (data.binarized_test_set() for MNIST's test set)."
        )
    return x


def binarized_test_set(seed: int = 0) -> Tensor:
    """MNIST's whole test set as (10,000, 784) binary images, binarized once with a fixed seed.

    A model trained on binarized MNIST is evaluated on binary images (its Bernoulli likelihood is not one on grey
    levels); one fixed draw makes every evaluation use the same images. The course's convention is seed 0, the
    draw that ``fit`` also uses for its test history. Used by ``pretrained`` and notebooks 02-05.
    """
    x_test, _ = load_mnist("test")
    return binarize_once(x_test, seed)


#: Rows per block in :func:`pixel_means`: float64 copies of 1,024 images are 6 MB, not the whole set's 376 MB.
PIXEL_MEAN_BLOCK_ROWS = 1024


def pixel_means(x: Tensor) -> Tensor:
    """Each pixel's mean intensity over the images ``x`` ((N, ...), N >= 1), in float64, shape ``x.shape[1:]``.

    Summed in float64 block by block: a float64 mean over the whole of MNIST's training set at once
    (``x.mean(0, dtype=torch.float64)``) makes a float64 copy of all of it, and briefly raises the kernel's memory
    by about 350 MB. Used by ``VAE.init_output_bias`` (taught in ``notebooks/03_train_vae.ipynb``) and
    ``rate_distortion.collapsed_point`` (``notebooks/07_conditional_and_beta.ipynb``).
    """
    if x.dim() < 1 or len(x) == 0:
        raise ValueError(f"pixel_means needs a stack of at least one image (N, ...), got shape {tuple(x.shape)}.")
    total = torch.zeros(x.shape[1:], dtype=torch.float64, device=x.device)
    for block in x.split(PIXEL_MEAN_BLOCK_ROWS):
        total += block.double().sum(0)
    return total / len(x)


def batches(
    x: Tensor | Sequence[Tensor],
    batch_size: int,
    shuffle: bool = True,
    generator: torch.Generator | None = None,
) -> Iterator[Tensor | tuple[Tensor, ...]]:
    """In-memory minibatches: every example exactly once per pass, the last batch possibly short.

    ``x`` is a tensor (N, ...) or a sequence of tensors sharing the first dimension N
    (then each batch is a tuple, e.g. images and labels). Batches index whole tensors
    with one index vector, rather than collating items one by one as a ``DataLoader`` does.
    ``shuffle`` draws a new permutation per call, reproducibly with a seeded ``generator``.
    Taught in ``notebooks/00_start_here.ipynb``; the training loop of ``notebooks/03_train_vae.ipynb`` uses it.
    """
    tensors = (x,) if isinstance(x, Tensor) else tuple(x)
    if not tensors:
        raise ValueError("batches needs at least one tensor.")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
    n = len(tensors[0])
    if any(len(t) != n for t in tensors):
        raise ValueError(f"all tensors must have the same first dimension, got {[len(t) for t in tensors]}.")
    order = torch.randperm(n, generator=generator) if shuffle else None
    for start in range(0, n, batch_size):
        if order is None:
            batch = tuple(t[start : start + batch_size] for t in tensors)
        else:
            index = order[start : start + batch_size]
            batch = tuple(t[index] for t in tensors)
        yield batch[0] if isinstance(x, Tensor) else batch
