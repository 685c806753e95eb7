"""Latent-space helpers against closed forms: slerp on orthogonal vectors is a rotation, its norm is linear in t
and its direction follows the great circle at constant speed, lerp is a line."""

import math

import pytest
import torch

from vae_lesson.latent import decode_images, dimensions_by_kl, interpolate, lerp, slerp, typical_prior_norm
from vae_lesson.models import VAE


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


def pair_at_angle(norm_a, norm_b, degrees, d, generator):
    """Two random codes in d dimensions with the given norms and the given angle between them (float64)."""
    u, v = torch.randn(2, d, generator=generator, dtype=torch.float64)
    u = u / u.norm()
    v = v - (v @ u) * u
    v = v / v.norm()
    angle = math.radians(degrees)
    return norm_a * u, norm_b * (math.cos(angle) * u + math.sin(angle) * v)


def shoemake(z_a, z_b, t):
    """The classic slerp applied to the codes themselves, written out independently of the package."""
    omega = torch.arccos(torch.dot(z_a, z_b) / (z_a.norm() * z_b.norm()))
    return (torch.sin((1 - t) * omega) * z_a + torch.sin(t * omega) * z_b) / torch.sin(omega)


def test_slerp_norm_is_linear_in_t_where_shoemakes_formula_overshoots():
    g = torch.Generator().manual_seed(5)
    z_a, z_b = pair_at_angle(1.0, 3.0, 150.0, 32, g)
    ts = torch.linspace(0, 1, 101, dtype=torch.float64)
    old = torch.stack([shoemake(z_a, z_b, t) for t in ts]).norm(dim=1)
    assert abs(old.max().item() - 4.65) < 0.01  # the defect: far above both endpoints' norms
    new = interpolate(z_a, z_b, ts, "spherical").norm(dim=1)
    assert torch.allclose(new, 1 + 2 * ts, rtol=1e-13, atol=0)


def test_slerp_norm_property_on_many_random_pairs():
    g = torch.Generator().manual_seed(6)
    n, d = 2000, 32
    u, v = torch.randn(2, n, d, generator=g, dtype=torch.float64)
    u = u / u.norm(dim=1, keepdim=True)
    v = v - (v * u).sum(1, keepdim=True) * u
    v = v / v.norm(dim=1, keepdim=True)
    angle = torch.rand(n, 1, generator=g, dtype=torch.float64) * math.radians(179.9)  # half of them over 90 degrees
    norm_a, norm_b = 0.1 + 5 * torch.rand(2, n, 1, generator=g, dtype=torch.float64)
    z_a, z_b = norm_a * u, norm_b * (torch.cos(angle) * u + torch.sin(angle) * v)
    for t in [0.0, 0.1, 0.37, 0.5, 0.9, 1.0]:
        expected = (1 - t) * z_a.norm(dim=1) + t * z_b.norm(dim=1)
        assert torch.allclose(slerp(z_a, z_b, t).norm(dim=1), expected, rtol=1e-13, atol=0)


def test_slerp_endpoints_and_great_circle_at_constant_angular_speed():
    g = torch.Generator().manual_seed(7)
    for degrees in [10.0, 60.0, 90.0, 150.0, 179.0]:
        z_a, z_b = pair_at_angle(0.5, 4.0, degrees, 8, g)
        assert torch.allclose(slerp(z_a, z_b, 0.0), z_a, atol=1e-12)
        assert torch.allclose(slerp(z_a, z_b, 1.0), z_b, atol=1e-12)
        u_a, u_b = z_a / z_a.norm(), z_b / z_b.norm()
        normal = torch.linalg.svd(torch.stack([u_a, u_b]), full_matrices=True).Vh[2:]  # orthogonal to the plane
        for t in torch.linspace(0, 1, 9, dtype=torch.float64):
            z = slerp(z_a, z_b, t)
            assert torch.allclose(normal @ z, torch.zeros(len(normal), dtype=torch.float64), atol=1e-12)
            angle_to_a = torch.arccos((z @ u_a / z.norm()).clamp(-1, 1))
            angle_to_b = torch.arccos((z @ u_b / z.norm()).clamp(-1, 1))
            assert abs(angle_to_a.item() - t.item() * math.radians(degrees)) < 1e-7
            assert abs(angle_to_a.item() + angle_to_b.item() - math.radians(degrees)) < 1e-7  # on the short arc


def test_slerp_of_a_batch_equals_slerp_row_by_row():
    g = torch.Generator().manual_seed(8)
    batch_a, batch_b = torch.randn(2, 6, 5, generator=g, dtype=torch.float64)
    batch_b[0] = 2 * batch_a[0]  # a parallel row
    batch_b[1] = -3 * batch_a[1]  # an opposite row
    batch_a[2] = 0.0  # a zero row
    for t in [0.3, torch.tensor(0.8, dtype=torch.float64)]:
        rows = torch.stack([slerp(a, b, t) for a, b in zip(batch_a, batch_b)])
        assert torch.allclose(slerp(batch_a, batch_b, t), rows, rtol=1e-12, atol=1e-12)
    ts = torch.linspace(0, 1, 7)
    path = interpolate(batch_a[3], batch_b[3], ts, "spherical")
    assert torch.allclose(path, torch.stack([slerp(batch_a[3], batch_b[3], float(t)) for t in ts]), atol=1e-12)


def test_slerp_degenerate_rows_are_handled_each_on_its_own():
    f64 = torch.float64
    z = torch.tensor([1.0, 2.0, -0.5], dtype=f64)
    ordinary_a, ordinary_b = torch.tensor([1.0, 0.0, 0.0], dtype=f64), torch.tensor([0.0, 2.0, 0.0], dtype=f64)
    batch_a = torch.stack([z, torch.zeros(3, dtype=f64), z, z, ordinary_a])
    batch_b = torch.stack([3 * z, z, torch.zeros(3, dtype=f64), -2 * z, ordinary_b])
    out = slerp(batch_a, batch_b, 0.25)
    assert torch.allclose(out[0], 1.5 * z)  # parallel: the straight line, which keeps the direction
    assert torch.allclose(out[1], 0.25 * z) and torch.allclose(out[2], 0.75 * z)  # a zero endpoint: the line
    assert abs(out[3].norm().item() - 1.25 * z.norm().item()) < 1e-12  # opposite: a half circle, norm still linear
    assert abs(torch.arccos(out[3] @ z / (out[3].norm() * z.norm())).item() - math.pi / 4) < 1e-12
    expected = 1.25 * torch.tensor([math.cos(math.pi / 8), math.sin(math.pi / 8), 0.0], dtype=f64)
    assert torch.allclose(out[4], expected, atol=1e-12)  # one global fallback would have broken this row
    nearly = z + 1e-12 * torch.tensor([0.0, 0.0, 1.0], dtype=f64)
    assert torch.allclose(slerp(z, 2 * nearly, 0.5), 1.5 * z, atol=1e-10)
    assert torch.isfinite(slerp(torch.zeros(3), torch.zeros(3), 0.5)).all()
    assert torch.equal(slerp(torch.zeros(3), torch.zeros(3), 0.5), torch.zeros(3))
    one_d = slerp(torch.tensor([1.0], dtype=f64), torch.tensor([-2.0], dtype=f64), 0.25)
    assert torch.allclose(one_d, torch.tensor([0.25], dtype=f64))  # 1-D: no circle, the straight line


def test_slerp_in_float32_keeps_the_norm_to_rounding():
    g = torch.Generator().manual_seed(9)
    z_a, z_b = torch.randn(2, 500, 32, generator=g)
    z_b = -z_b * 2
    expected = 0.6 * z_a.norm(dim=1) + 0.4 * z_b.norm(dim=1)
    assert torch.allclose(slerp(z_a, z_b, 0.4).norm(dim=1), expected, rtol=1e-5)


def test_dimensions_by_kl_orders_by_the_closed_form_kl():
    mu = torch.tensor([[0.0, 2.0, 0.5], [0.0, -2.0, -0.5]])
    logvar = torch.zeros(2, 3)
    assert dimensions_by_kl(mu, logvar).tolist() == [1, 2, 0]


def test_decode_images_gives_the_decoders_bernoulli_probabilities_as_a_tensor():
    torch.manual_seed(0)
    model = VAE(3, hidden=(16,), activation="relu")
    z = torch.randn(5, 3, generator=torch.Generator().manual_seed(1))
    images = decode_images(model, z)
    assert isinstance(images, torch.Tensor) and images.shape == (5, 28, 28) and not images.requires_grad
    reference = torch.distributions.Bernoulli(logits=model.decode(z)).probs.detach().reshape(5, 28, 28)
    assert torch.allclose(images, reference, rtol=1e-6, atol=1e-7)


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
