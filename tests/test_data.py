"""The data layer against facts published with MNIST (shared/data/README.md) and Fashion-MNIST, not against its own
output."""

import hashlib
import shutil

import pytest
import torch

from vae_lesson import data
from vae_lesson.data import DataFileError, batches, binarize, load_fashion_mnist, load_mnist

# The canonical MNIST label counts per class, digits 0..9.
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
FIRST_TEST_LABELS = [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]

# Fashion-MNIST's published facts: 6,000 training and 1,000 test images per class; the first labels of each split.
FASHION_FIRST_TRAIN_LABELS = [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
FASHION_FIRST_TEST_LABELS = [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]

# Every embedded file, for the checks of missing and corrupt files: (loader, split, file name, its first ten labels).
EMBEDDED_SPLITS = [
    pytest.param(load_mnist, "test", "mnist.npz", FIRST_TEST_LABELS, id="mnist"),
    pytest.param(load_fashion_mnist, "test", "fashion_mnist_test.npz", FASHION_FIRST_TEST_LABELS, id="fashion-test"),
    pytest.param(load_fashion_mnist, "train", "fashion_mnist_train.npz", FASHION_FIRST_TRAIN_LABELS, id="fashion-train"),
]


@pytest.mark.parametrize("split, n, counts", [("train", 60_000, TRAIN_COUNTS), ("test", 10_000, TEST_COUNTS)])
def test_split_sizes_dtypes_and_label_counts(split, n, counts):
    x, y = load_mnist(split)
    assert x.shape == (n, 28, 28) and x.dtype == torch.float32
    assert y.shape == (n,) and y.dtype == torch.int64
    assert torch.bincount(y, minlength=10).tolist() == counts


def test_values_and_first_test_labels():
    x, y = load_mnist("test")
    assert y[:10].tolist() == FIRST_TEST_LABELS
    assert x.min().item() == 0.0 and x.max().item() == 1.0
    # pixels are k/255 for integers k
    k = x * 255
    assert torch.equal(k, k.round())
    # a digit is mostly background: MNIST's mean intensity is about 0.13
    assert 0.12 < x.mean().item() < 0.14


def test_default_split_is_train_and_results_are_fresh_tensors():
    x1, _ = load_mnist()
    assert len(x1) == 60_000
    x1[0].fill_(5.0)  # a student's in-place change must not leak into the next load
    x2, _ = load_mnist()
    assert x2.max().item() == 1.0


def test_unknown_split_names_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown split 'validation'.*'train', 'test'"):
        load_mnist("validation")


@pytest.mark.parametrize("load, split, name, first_labels", EMBEDDED_SPLITS)
def test_missing_file_says_how_to_repair(tmp_path, load, split, name, first_labels):
    with pytest.raises(FileNotFoundError, match=r"missing.*git checkout"):
        load(split, path=tmp_path / name)


@pytest.mark.parametrize("load, split, name, first_labels", EMBEDDED_SPLITS)
def test_truncated_file_is_reported_as_corrupt(tmp_path, load, split, name, first_labels):
    copy = tmp_path / name
    raw = (data.DATASETS_DIR / name).read_bytes()
    copy.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataFileError, match=r"corrupt.*bytes.*repair"):
        load(split, path=copy)


@pytest.mark.parametrize("load, split, name, first_labels", EMBEDDED_SPLITS)
def test_flipped_byte_is_reported_as_corrupt(tmp_path, load, split, name, first_labels):
    copy = tmp_path / name
    shutil.copyfile(data.DATASETS_DIR / name, copy)
    raw = bytearray(copy.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # same size, different content
    copy.write_bytes(bytes(raw))
    with pytest.raises(DataFileError, match=r"corrupt.*sha256"):
        load(split, path=copy)


@pytest.mark.parametrize("load, split, name, first_labels", EMBEDDED_SPLITS)
def test_intact_copy_elsewhere_loads(tmp_path, load, split, name, first_labels):
    copy = tmp_path / name
    shutil.copyfile(data.DATASETS_DIR / name, copy)
    _, y = load(split, path=copy)
    assert y[:10].tolist() == first_labels


@pytest.mark.parametrize("split, n", [("train", 60_000), ("test", 10_000)])
def test_fashion_mnist_splits_sizes_dtypes_values_and_label_counts(split, n):
    x, y = load_fashion_mnist(split)
    assert x.shape == (n, 28, 28) and x.dtype == torch.float32
    assert y.shape == (n,) and y.dtype == torch.int64
    assert torch.bincount(y, minlength=10).tolist() == [n // 10] * 10
    assert y[:10].tolist() == {"train": FASHION_FIRST_TRAIN_LABELS, "test": FASHION_FIRST_TEST_LABELS}[split]
    assert x.min().item() == 0.0 and x.max().item() == 1.0
    k = x * 255  # pixels are k/255 for integers k
    assert torch.equal(k, k.round())


def test_fashion_mnist_default_split_stays_test():
    # notebook 05 loads its out-of-distribution set with load_fashion_mnist()
    x, _ = load_fashion_mnist()
    assert len(x) == 10_000


def test_fashion_mnist_train_and_test_images_do_not_overlap():
    x_train, _ = load_fashion_mnist("train")
    x_test, _ = load_fashion_mnist("test")

    def digests(images):
        pixels = (images * 255).round().to(torch.uint8).numpy()
        return {hashlib.sha1(image.tobytes()).digest() for image in pixels}

    train = digests(x_train)
    assert len(train) == 60_000  # and no image repeats within the training set either
    assert not train & digests(x_test)


def test_fashion_mnist_unknown_split_names_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown split 'validation'.*'train', 'test'"):
        load_fashion_mnist("validation")


def test_batches_cover_every_index_once_per_epoch():
    idx = torch.arange(103)
    gen = torch.Generator().manual_seed(0)
    seen = [b for b in batches(idx, 10, generator=gen)]
    assert [len(b) for b in seen] == [10] * 10 + [3]
    assert sorted(torch.cat(seen).tolist()) == list(range(103))
    # shuffled, and a second pass draws a different order
    first = torch.cat(seen)
    second = torch.cat(list(batches(idx, 10, generator=gen)))
    assert not torch.equal(first, idx) and not torch.equal(first, second)


def test_batches_without_shuffle_keep_order_and_pair_tensors():
    x = torch.arange(7).float()
    y = torch.arange(7) * 10
    got = list(batches((x, y), 3, shuffle=False))
    assert [b[0].tolist() for b in got] == [[0, 1, 2], [3, 4, 5], [6]]
    assert all(torch.equal(bx.long() * 10, by) for bx, by in got)


def test_batches_shuffle_is_reproducible_and_keeps_pairs():
    x = torch.arange(50)
    y = -torch.arange(50)
    a = list(batches((x, y), 8, generator=torch.Generator().manual_seed(3)))
    b = list(batches((x, y), 8, generator=torch.Generator().manual_seed(3)))
    assert all(torch.equal(p[0], q[0]) for p, q in zip(a, b))
    assert all(torch.equal(bx, -by) for bx, by in a)


@pytest.mark.parametrize("bad", [0, -1, 2.5])
def test_batches_reject_bad_batch_size(bad):
    with pytest.raises(ValueError, match="batch_size"):
        next(batches(torch.zeros(4), bad))


def test_batches_reject_mismatched_lengths():
    with pytest.raises(ValueError, match="same first dimension"):
        next(batches((torch.zeros(4), torch.zeros(5)), 2))


def test_binarize_mean_matches_intensity():
    p = torch.tensor([0.0, 0.1, 0.5, 0.9, 1.0])
    x = p.expand(200_000, 5)
    b = binarize(x, generator=torch.Generator().manual_seed(0))
    assert set(b.unique().tolist()) <= {0.0, 1.0}
    # standard error of a Bernoulli mean is at most 0.5 / sqrt(200000) ~ 0.0011; allow 5 of them
    assert torch.allclose(b.mean(0), p, atol=0.006)
    assert b[:, 0].sum() == 0 and b[:, 4].sum() == len(b)


def test_binarize_is_reproducible_with_a_seeded_generator():
    x, _ = load_mnist("test")
    a = binarize(x[:100], generator=torch.Generator().manual_seed(7))
    b = binarize(x[:100], generator=torch.Generator().manual_seed(7))
    c = binarize(x[:100], generator=torch.Generator().manual_seed(8))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert a.shape == (100, 28, 28) and a.dtype == torch.float32


def test_binarize_rejects_grey_levels_out_of_range():
    with pytest.raises(ValueError, match="divide uint8 pixels by 255"):
        binarize(torch.tensor([0.0, 255.0]))
    with pytest.raises(TypeError, match="floating-point"):
        binarize(torch.tensor([0, 1]))


def test_binarize_is_unbiased_at_every_position_of_its_random_words():
    """Four pixels share one 64-bit random word: each of the four positions must be an honest coin."""
    p = torch.tensor([0.1, 0.3, 0.7, 0.9, 1 / 255, 254 / 255, 0.5, 0.5])  # 8 columns: each position twice
    b = binarize(p.expand(400_000, 8), generator=torch.Generator().manual_seed(11))
    stderr = (p * (1 - p) / 400_000).sqrt()
    assert ((b.mean(0) - p).abs() < 5 * stderr + 1e-5).all(), b.mean(0) - p
    # neighbouring pixels (same word) are independent: their correlation is ~0
    half = b[:, 6:8]
    corr = torch.corrcoef(half.T)[0, 1].item()
    assert abs(corr) < 5 / 400_000**0.5


def test_test_subset_is_a_seeded_random_subset_not_a_prefix():
    index = data.test_subset(1000, seed=0)
    assert index.dtype == torch.int64 and index.shape == (1000,)
    assert len(set(index.tolist())) == 1000 and 0 <= index.min() and index.max() < 10_000
    assert not torch.equal(index.sort().values, torch.arange(1000))
    # Spread over the whole set: about half from each half of MNIST's test split (binomial sd 16).
    assert 420 < (index < 5000).sum() < 580
    assert torch.equal(index, data.test_subset(1000, seed=0))
    assert not torch.equal(index, data.test_subset(1000, seed=1))
    assert torch.equal(data.test_subset(500, seed=0), index[:500])


def test_test_subset_labels_match_the_whole_test_set():
    # A random subset keeps the class balance of the full set (within sampling error), a fixed-seed property
    # that a prefix of 1,000 would also roughly have, but the difficulty split above would not.
    _, y = load_mnist("test")
    counts = torch.bincount(y[data.test_subset(2000, seed=3)], minlength=10).float() / 2000
    full = torch.bincount(y, minlength=10).float() / len(y)
    assert (counts - full).abs().max() < 0.03


@pytest.mark.parametrize("bad", [0, -1, 10_001, 2.5, True, "100"])
def test_test_subset_rejects_bad_sizes(bad):
    with pytest.raises(ValueError, match="between 1 and 10,000"):
        data.test_subset(bad)


def test_binarized_test_set_is_one_fixed_binary_draw_of_the_whole_test_set():
    x, _ = load_mnist("test")
    b = data.binarized_test_set()
    assert b.shape == (10_000, 784) and set(b.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(b, data.binarized_test_set(0)) and not torch.equal(b, data.binarized_test_set(1))
    assert abs(b.mean().item() - x.mean().item()) < 0.002  # on as often as the intensities say


def test_binarize_in_blocks_draws_what_one_block_draws(monkeypatch):
    # large inputs are binarized block by block to save memory; every block boundary is a multiple of 4 pixels,
    # so the random words, and hence the binary images, must be exactly those of one call over all pixels
    x = torch.rand(37, 784, generator=torch.Generator().manual_seed(2))
    whole = data.binarize(x, torch.Generator().manual_seed(5))
    monkeypatch.setattr(data, "BINARIZE_BLOCK_PIXELS", 4 * 1001)
    assert torch.equal(data.binarize(x, torch.Generator().manual_seed(5)), whole)
    assert torch.equal(data.binarize(x[:5], torch.Generator().manual_seed(5)), whole[:5])  # a prefix of the stream


def test_pixel_means_agree_with_one_float64_mean_across_blocks(monkeypatch):
    x = torch.rand(2_500, 7, 4, generator=torch.Generator().manual_seed(0))
    reference = x.double().mean(0)  # exact enough: float64 sums of 2,500 float32 values
    monkeypatch.setattr(data, "PIXEL_MEAN_BLOCK_ROWS", 300)  # several blocks and a short last one
    means = data.pixel_means(x)
    assert means.dtype == torch.float64 and means.shape == (7, 4)
    torch.testing.assert_close(means, reference, rtol=0, atol=1e-14)


def test_pixel_means_of_grey_levels_equal_one_float64_mean_to_the_last_bit(monkeypatch):
    # grey levels k/255 as float32 (MNIST's): float64 sums of them are exact, in blocks or not, so the means are equal
    x = torch.randint(0, 256, (3_000, 784), generator=torch.Generator().manual_seed(2)).float() / 255
    monkeypatch.setattr(data, "PIXEL_MEAN_BLOCK_ROWS", 1024)
    assert torch.equal(data.pixel_means(x), x.double().sum(0) / len(x))


def test_pixel_means_of_one_image_is_the_image_and_of_none_is_an_error():
    x = torch.rand(1, 784, generator=torch.Generator().manual_seed(1))
    assert torch.equal(data.pixel_means(x), x[0].double())
    for empty in (torch.zeros(0, 784), torch.tensor(0.5)):
        with pytest.raises(ValueError, match="at least one image"):
            data.pixel_means(empty)
