"""Latent-space helpers against closed forms: slerp on orthogonal vectors is a rotation, lerp is a line."""

import math

import pytest
import torch

from vae_lesson.latent import dimensions_by_kl, interpolate, lerp, slerp, typical_prior_norm


def test_slerp_of_orthogonal_unit_vectors_is_a_rotation():
    e0, e1 = torch.tensor([1.0, 0.0], dtype=torch.float64), torch.tensor([0.0, 1.0], dtype=torch.float64)
    for t in [0.0, 0.25, 0.5, 1.0]:
        expected = torch.tensor([math.cos(t * math.pi / 2), math.sin(t * math.pi / 2)], dtype=torch.float64)
        assert torch.allclose(slerp(e0, e1, t), expected, atol=1e-12)


def test_slerp_keeps_the_norm_of_equal_norm_endpoints_and_lerp_dips():
    g = torch.Generator().manual_seed(0)
    z_a, z_b = torch.randn(2, 32, generator=g, dtype=torch.float64)
    z_b = z_b * z_a.norm() / z_b.norm()
    path = interpolate(z_a, z_b, torch.linspace(0, 1, 11), "spherical")
    assert torch.allclose(path.norm(dim=1), z_a.norm().expand(11), rtol=1e-10)
    assert lerp(z_a, z_b, 0.5).norm() < 0.9 * z_a.norm()


def test_interpolation_endpoints_and_batches():
    g = torch.Generator().manual_seed(1)
    z_a, z_b = torch.randn(2, 5, generator=g, dtype=torch.float64)
    for mode in ["linear", "spherical"]:
        path = interpolate(z_a, z_b, torch.tensor([0.0, 1.0]), mode)
        assert torch.allclose(path[0], z_a) and torch.allclose(path[1], z_b)
    batch_a, batch_b = torch.randn(2, 4, 5, generator=g, dtype=torch.float64)
    rows = torch.stack([slerp(a, b, 0.3) for a, b in zip(batch_a, batch_b)])
    assert torch.allclose(slerp(batch_a, batch_b, 0.3), rows)
    with pytest.raises(ValueError, match="mode must be one of"):
        interpolate(z_a, z_b, torch.tensor([0.5]), "cubic")


def test_slerp_falls_back_to_the_line_for_parallel_codes():
    z = torch.tensor([1.0, 2.0], dtype=torch.float64)
    assert torch.allclose(slerp(z, 3 * z, 0.5), 2 * z)


def test_dimensions_by_kl_orders_by_the_closed_form_kl():
    mu = torch.tensor([[0.0, 2.0, 0.5], [0.0, -2.0, -0.5]])
    logvar = torch.zeros(2, 3)
    assert dimensions_by_kl(mu, logvar).tolist() == [1, 2, 0]


def test_typical_prior_norm_matches_samples():
    z = torch.randn(20000, 32, generator=torch.Generator().manual_seed(2))
    assert abs(z.norm(dim=1).mean().item() - typical_prior_norm(32)) < 0.1


def test_pixel_entropy_is_the_bernoulli_entropy_summed_over_pixels():
    from vae_lesson.latent import pixel_entropy

    p = torch.rand(3, 28, 28, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    p[0, 0, :3] = torch.tensor([0.0, 1.0, 0.5], dtype=torch.float64)
    expected = torch.distributions.Bernoulli(probs=p.clamp(1e-300, 1 - 1e-16)).entropy().sum((1, 2))
    assert torch.allclose(pixel_entropy(p.numpy()), expected, rtol=1e-9)
    assert pixel_entropy(torch.zeros(1, 784)).item() == 0.0
