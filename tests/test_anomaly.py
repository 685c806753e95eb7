"""AUROC against a brute-force pairwise count, ROC curves, corruptions, and the Fashion-MNIST loader's facts."""

import itertools

import pytest
import torch

from vae_lesson import anomaly
from vae_lesson.data import FASHION_MNIST_CLASSES, DataFileError, load_fashion_mnist, load_mnist


def brute_force_auroc(scores_in, scores_out):
    """P(out > in) + 0.5 P(out == in), over all pairs."""
    total = 0.0
    for a, b in itertools.product(scores_in.tolist(), scores_out.tolist()):
        total += 1.0 if b > a else 0.5 if b == a else 0.0
    return total / (len(scores_in) * len(scores_out))


@pytest.mark.parametrize("seed", range(6))
def test_auroc_matches_the_pairwise_count_with_ties(seed):
    g = torch.Generator().manual_seed(seed)
    scores_in = torch.randint(0, 8, (40,), generator=g).float()  # few distinct values: many ties
    scores_out = torch.randint(2, 10, (31,), generator=g).float()
    assert anomaly.auroc(scores_in, scores_out) == pytest.approx(brute_force_auroc(scores_in, scores_out), abs=1e-12)


def test_auroc_known_cases():
    low, high = torch.arange(10.0), torch.arange(10.0) + 100
    assert anomaly.auroc(low, high) == 1.0
    assert anomaly.auroc(high, low) == 0.0
    assert anomaly.auroc(torch.ones(5), torch.ones(7)) == 0.5
    g = torch.Generator().manual_seed(0)
    same = anomaly.auroc(torch.randn(20_000, generator=g), torch.randn(20_000, generator=g))
    assert same == pytest.approx(0.5, abs=0.01)


def test_roc_curve_runs_from_corner_to_corner_and_its_area_is_the_auroc():
    g = torch.Generator().manual_seed(1)
    scores_in, scores_out = torch.randn(300, generator=g), torch.randn(200, generator=g) + 1
    scores_in[:20] = scores_out[:20]  # some ties across the sets
    fpr, tpr, thresholds = anomaly.roc_curve(scores_in, scores_out)
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0.0, 0.0, 1.0, 1.0)
    assert (fpr.diff() >= 0).all() and (tpr.diff() >= 0).all() and (thresholds.diff() < 0).all()
    assert torch.trapezoid(tpr, fpr).item() == pytest.approx(anomaly.auroc(scores_in, scores_out), abs=1e-12)


def test_score_margin_counts_standard_deviations_between_medians():
    scores_in = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0], dtype=torch.float64)  # median 3, sample std sqrt(2.5)
    scores_out = torch.tensor([0.0, 3.0 + 2 * 2.5**0.5, 1e9], dtype=torch.float64)  # median 2 stds above; outlier ignored
    assert anomaly.score_margin(scores_in, scores_out) == pytest.approx(2.0, rel=1e-12)
    assert anomaly.score_margin(scores_in, scores_in) == 0.0
    assert anomaly.score_margin(scores_in, -scores_in) == pytest.approx(-6 / 2.5**0.5, rel=1e-12)
    with pytest.raises(ValueError, match="spread"):
        anomaly.score_margin(torch.ones(5), torch.ones(3))


def test_bad_scores_are_refused():
    with pytest.raises(ValueError, match="non-empty"):
        anomaly.auroc(torch.tensor([]), torch.ones(3))
    with pytest.raises(ValueError, match="finite"):
        anomaly.roc_curve(torch.tensor([0.0, float("nan")]), torch.ones(3))


@pytest.mark.parametrize("name", list(anomaly.CORRUPTIONS))
def test_corruptions_keep_shape_and_range_and_are_reproducible(name):
    x, _ = load_mnist("test")
    x = x[:50]
    corrupt = anomaly.CORRUPTIONS[name]
    a = corrupt(x.clone(), torch.Generator().manual_seed(0))
    b = corrupt(x.clone(), torch.Generator().manual_seed(0))
    assert a.shape == x.shape and a.dtype == x.dtype
    assert a.min() >= 0 and a.max() <= 1
    assert torch.equal(a, b) and not torch.equal(a, x)
    with pytest.raises(ValueError, match=r"\(N, 28, 28\)"):
        corrupt(x.reshape(50, 784), None)


def test_specific_corruptions_do_what_they_say():
    x, _ = load_mnist("test")
    x = x[:20]
    assert torch.equal(anomaly.invert(x), 1 - x)
    assert torch.equal(anomaly.rotate90(anomaly.rotate90(anomaly.rotate90(anomaly.rotate90(x)))), x)
    shuffled = anomaly.shuffle_pixels(x, torch.Generator().manual_seed(0))
    assert torch.equal(shuffled.reshape(20, -1).sort(1).values, x.reshape(20, -1).sort(1).values)  # same ink
    occluded = anomaly.occlusion(x, torch.Generator().manual_seed(0), size=10)
    assert ((occluded == 1).reshape(20, -1).sum(1) >= 100).all()


def test_fashion_mnist_facts_from_its_readme():
    x, y = load_fashion_mnist()
    assert x.shape == (10_000, 28, 28) and x.dtype == torch.float32 and y.dtype == torch.int64
    assert torch.bincount(y).tolist() == [1000] * 10
    assert y[:10].tolist() == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]
    assert x.min() == 0 and x.max() == 1
    assert len(FASHION_MNIST_CLASSES) == 10


def test_fashion_mnist_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown split 'validation'.*'train', 'test'"):
        load_fashion_mnist("validation")
    with pytest.raises(FileNotFoundError, match="missing"):
        load_fashion_mnist(path=tmp_path / "nothing.npz")
    bad = tmp_path / "fashion.npz"
    bad.write_bytes(b"0" * 4_425_408)
    with pytest.raises(DataFileError, match="sha256"):
        load_fashion_mnist(path=bad)


def test_ranks_and_spearman():
    assert anomaly.ranks(torch.tensor([10.0, 30.0, 20.0, 20.0])).tolist() == [1.0, 4.0, 2.5, 2.5]
    a = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0])
    assert anomaly.spearman(a, a**3) == pytest.approx(1.0)
    assert anomaly.spearman(a, -a) == pytest.approx(-1.0)


def test_complexity_orders_blank_digit_noise():
    x, _ = load_mnist("test")
    g = torch.Generator().manual_seed(0)
    blank = torch.zeros(1, 28, 28)
    digit = (x[:1] > 0.5).float()
    noise = (torch.rand(1, 28, 28, generator=g) < 0.5).float()
    c = anomaly.complexity_nats(torch.cat([blank, digit, noise]))
    assert c[0] < c[1] < c[2]
    # 784 random bits cannot be compressed below 784 bits
    assert c[2] >= 784 * torch.log(torch.tensor(2.0)).item()
    scores = anomaly.complexity_corrected_score(torch.tensor([-20.0, -90.0, -500.0]), torch.cat([blank, digit, noise]))
    torch.testing.assert_close(scores, torch.tensor([20.0, 90.0, 500.0], dtype=torch.float64) - c)


def test_log_likelihoods_are_the_bounds_image_by_image_whatever_the_chunking():
    from vae_lesson.elbo import elbo, iwae_bound
    from vae_lesson.models import VAE

    torch.manual_seed(0)
    model = VAE(latent_dim=3, hidden=(20,))
    x = (torch.rand(7, 784, generator=torch.Generator().manual_seed(1)) < 0.3).float()
    for bound, reference in (("iwae", iwae_bound), ("elbo", elbo)):
        chunked = anomaly.log_likelihoods(model, x, 5, torch.Generator().manual_seed(2), batch_size=3, bound=bound)
        whole = reference(model, x, 5, torch.Generator().manual_seed(2))
        # same images, same k; chunks draw their own samples, so equal only in distribution: compare the first chunk
        torch.testing.assert_close(chunked[:3], reference(model, x[:3], 5, torch.Generator().manual_seed(2)))
        assert chunked.shape == whole.shape == (7,)
        assert (chunked < 0).all()


def test_log_likelihoods_refuse_grey_images():
    from vae_lesson.models import VAE

    with pytest.raises(ValueError, match="binary images"):
        anomaly.log_likelihoods(VAE(latent_dim=2, hidden=(8,)), torch.full((2, 784), 0.5), 3)
