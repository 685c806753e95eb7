"""The plain autoencoder of notebook 01 §0 and the hole measure that compares it with a VAE."""

import math

import pytest
import torch
import torch.nn.functional as F

from vae_lesson import latent
from vae_lesson.autoencoder import Autoencoder, hole_fraction, nearest_code_distances, reconstruction_loss, train_autoencoder
from vae_lesson.train import TrainingDivergedError


def test_shapes_and_clear_errors():
    model = Autoencoder(latent_dim=3, hidden=[16])
    x = torch.rand(5, 28, 28)
    assert model.encode(x).shape == (5, 3)
    assert model.decode(torch.zeros(5, 3)).shape == (5, 784)
    with pytest.raises(ValueError, match="latent dimensions"):
        model.decode(torch.zeros(5, 2))
    with pytest.raises(ValueError, match="expected images"):
        model.encode(torch.rand(5, 27, 28))
    with pytest.raises(ValueError, match="latent_dim"):
        Autoencoder(latent_dim=0)


def test_reconstruction_loss_is_summed_bernoulli_nll_per_image():
    torch.manual_seed(0)
    model = Autoencoder(latent_dim=2, hidden=[8]).double()
    x = (torch.rand(4, 784, dtype=torch.float64) > 0.5).double()
    logits = model(x)
    reference = -torch.distributions.Bernoulli(logits=logits).log_prob(x).sum(-1).mean()
    assert torch.allclose(reconstruction_loss(model, x), reference, atol=1e-10, rtol=0)
    assert math.isclose(reconstruction_loss(model, x).item(),
                        F.binary_cross_entropy_with_logits(logits, x, reduction="sum").item() / 4, rel_tol=1e-12)


def test_training_lowers_the_loss_and_is_reproducible():
    torch.manual_seed(0)
    x = torch.rand(512, 784) ** 3  # grey levels in [0, 1]
    runs = []
    for _ in range(2):
        torch.manual_seed(1)
        model = Autoencoder(latent_dim=2, hidden=[32])
        runs.append(train_autoencoder(model, x, epochs=4, batch_size=64, generator=torch.Generator().manual_seed(2)))
    assert runs[0] == runs[1]
    assert runs[0][-1] < runs[0][0] - 10, runs[0]


def test_training_rejects_bad_input_and_reports_divergence():
    model = Autoencoder(latent_dim=2, hidden=[8])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        train_autoencoder(model, torch.full((8, 784), 255.0), epochs=1)
    with pytest.raises(ValueError, match="epochs"):
        train_autoencoder(model, torch.rand(8, 784), epochs=0)
    with torch.no_grad():
        model.decoder[-1].bias.fill_(float("nan"))
    with pytest.raises(TrainingDivergedError, match="epoch 1"):
        train_autoencoder(model, torch.rand(8, 784), epochs=1)


def test_nearest_code_distances_against_brute_force():
    g = torch.Generator().manual_seed(0)
    points, codes = torch.randn(7, 3, generator=g), torch.randn(11, 3, generator=g)
    brute = torch.tensor([min(float((p - c).norm()) for c in codes) for p in points])
    assert torch.allclose(nearest_code_distances(points, codes), brute, atol=1e-6)
    with pytest.raises(ValueError, match="same d"):
        nearest_code_distances(points, codes[:, :2])


@pytest.mark.parametrize("block_rows", [1, 3, 1024])
def test_nearest_distances_in_blocks_against_brute_force(monkeypatch, block_rows):
    # blocks of 1 and 3 rows cross block boundaries (and the self-distance bookkeeping) many times
    monkeypatch.setattr(latent, "DISTANCE_BLOCK_ROWS", block_rows)
    g = torch.Generator().manual_seed(1)
    points, codes = torch.randn(10, 2, generator=g, dtype=torch.float64), torch.randn(8, 2, generator=g, dtype=torch.float64)
    brute = torch.tensor([min(float((p - c).norm()) for c in codes) for p in points], dtype=torch.float64)
    assert torch.allclose(latent.nearest_code_distances(points, codes), brute, atol=1e-12)
    brute_self = torch.tensor([min(float((codes[i] - codes[j]).norm()) for j in range(len(codes)) if j != i)
                               for i in range(len(codes))], dtype=torch.float64)
    assert torch.allclose(latent.nearest_other_code_distances(codes), brute_self, atol=1e-12)
    with pytest.raises(ValueError, match="at least two"):
        latent.nearest_other_code_distances(codes[:1])
    radius = float(brute_self.median())
    brute_counts = torch.tensor([sum(int(float((codes[i] - codes[j]).norm()) < radius) for j in range(len(codes)) if j != i)
                                 for i in range(len(codes))])
    assert torch.equal(latent.neighbour_counts(codes, radius), brute_counts)


def test_hole_fraction_on_a_grid():
    # codes on the integer grid of [0, 9]^2: spacing 1. A draw at distance > 3 from every code is in a hole.
    axis = torch.arange(10.0)
    codes = torch.cartesian_prod(axis, axis)
    inside = torch.tensor([[4.5, 4.5], [0.0, 9.0]])  # on or between codes
    far = torch.tensor([[4.5, 13.5], [-5.0, -5.0]])  # 4.5 and 7.07 from the nearest code
    assert hole_fraction(inside, codes) == 0.0
    assert hole_fraction(far, codes) == 1.0
    assert hole_fraction(torch.cat([inside, far]), codes) == 0.5
    assert hole_fraction(far, codes, factor=10.0) == 0.0  # 7.07 < 10 spacings
    # scale-free: stretching the map and the draws together changes nothing
    assert hole_fraction(torch.cat([inside, far]) * 7, codes * 7) == 0.5
    with pytest.raises(ValueError, match="two codes"):
        hole_fraction(inside, codes[:1])
    with pytest.raises(ValueError, match="factor"):
        hole_fraction(inside, codes, factor=0)
