"""Notebook 04's checkers: the correct answer passes, and each typical mistake gets its own sentence."""

import pytest
import torch

from vae_lesson import checks
from vae_lesson.data import binarize, load_mnist
from vae_lesson.evaluation import posterior_means_and_logvars
from vae_lesson.models import VAE


def unit_arc(z_a, z_b, t):
    """The great-circle direction (Shoemake's weights on the unit vectors), written out in the test."""
    u_a, u_b = z_a / z_a.norm(), z_b / z_b.norm()
    omega = torch.arccos(torch.dot(u_a, u_b).clamp(-1, 1))
    return (torch.sin((1 - t) * omega) * u_a + torch.sin(t * omega) * u_b) / torch.sin(omega)


def reference_slerp(z_a, z_b, t):
    return ((1 - t) * z_a.norm() + t * z_b.norm()) * unit_arc(z_a, z_b, t)


def shoemake(z_a, z_b, t):
    omega = torch.arccos(torch.dot(z_a, z_b) / (z_a.norm() * z_b.norm()))
    return (torch.sin((1 - t) * omega) * z_a + torch.sin(t * omega) * z_b) / torch.sin(omega)


def normalised_chord(z_a, z_b, t):
    chord = (1 - t) * z_a / z_a.norm() + t * z_b / z_b.norm()
    return ((1 - t) * z_a.norm() + t * z_b.norm()) * chord / chord.norm()


def test_slerp_checker_accepts_the_formula(verdict):
    passed, out = verdict(checks.check_slerp, reference_slerp)
    assert passed and "norm changes linearly" in out


@pytest.mark.parametrize(
    "fn, expected",
    [
        (lambda a, b, t: (1 - t) * a + t * b, "straight line"),
        (lambda a, b, t: reference_slerp(b, a, t), "runs backwards"),
        (shoemake, "Shoemake's slerp applied to z_a and z_b themselves"),
        (unit_arc, "did not multiply it by the interpolated norm"),
        (lambda a, b, t: unit_arc(a, b, t) * (t * a.norm() + (1 - t) * b.norm()), "the norm runs backwards"),
        (lambda a, b, t: unit_arc(a, b, t) * a.norm() ** (1 - t) * b.norm() ** t, "interpolated geometrically"),
        (lambda a, b, t: reference_slerp(a, b, t) * torch.sin(torch.arccos(torch.dot(a, b) / (a.norm() * b.norm()))),
         "division by sin(w) is missing"),
        (normalised_chord, "normalised the straight line"),
        (lambda a, b, t: reference_slerp(a, b, t) * torch.arccos(torch.dot(a, b)), "NaN or inf"),
        (lambda a, b, t: reference_slerp(a, b, t) * 1.01, "yours is 1.01 times the right value"),
        (lambda a, b, t: reference_slerp(a, b, t) + torch.tensor([0.0, 0.0, 0.0, 0.0, 1e-3]), "wrong values"),
        (lambda a, b, t: reference_slerp(a, b, t)[:2], "wrong shape: expected (5,), got (2,)"),
        (lambda a, b, t: reference_slerp(a, b, t).tolist(), "must return a torch tensor"),
        (lambda a, b, t: 1 / 0, "ZeroDivisionError"),
    ],
)
def test_slerp_checker_names_each_mistake(verdict, fn, expected):
    passed, out = verdict(checks.check_slerp, fn)
    assert not passed and expected in out, out


def test_slerp_checker_hints_never_give_the_code(verdict):
    for fn in [lambda a, b, t: (1 - t) * a + t * b, shoemake, unit_arc, normalised_chord]:
        _, out = verdict(checks.check_slerp, fn)
        assert "torch." not in out and "sin((1 - t)" not in out and "arccos" not in out, out


def test_slerp_checker_unsolved(verdict):
    def unsolved(a, b, t):
        raise NotImplementedError

    passed, out = verdict(checks.check_slerp, unsolved)
    assert not passed and "not solved yet" in out


@pytest.fixture(scope="module")
def setting():
    torch.manual_seed(0)
    model = VAE(4, hidden=(16,), activation="relu").eval()
    x, y = load_mnist("test")
    mu, _ = posterior_means_and_logvars(model, binarize(x.reshape(-1, 784), torch.Generator().manual_seed(0)))
    return model, mu, y, x


def test_direction_checker(verdict, setting):
    model, mu, y, x = setting
    right = mu[y == 7].mean(0) - mu[y == 1].mean(0)
    assert verdict(checks.check_class_direction, right, model)[0]
    grey_mu, _ = posterior_means_and_logvars(model, x)  # the encoder fed grey images it was not trained on
    grey = grey_mu[y == 7].mean(0) - grey_mu[y == 1].mean(0)
    assert not verdict(checks.check_class_direction, grey, model)[0]
    mistakes = [
        (-right, "the sign is flipped: your direction points from 7 to 1"),
        (mu[y == 7].sum(0) - mu[y == 1].sum(0), "difference of sums"),
        (mu[y == 7].mean(0), "a position, not a direction"),
        (mu[y == 7][:5] - mu[y == 1][:5], "wrong shape: expected (4,) (one number per latent dimension), got (5, 4)"),
        (right + 0.5, "off by a constant: yours is 0.5 larger"),
        (2 * right, "yours is 2 times the right value"),
        (right + torch.linspace(0, 1, 4), "differs from the reference"),
        (right.numpy(), "must be a torch tensor"),
        (right * float("nan"), "NaN"),
    ]
    for answer, expected in mistakes:
        passed, out = verdict(checks.check_class_direction, answer, model)
        assert not passed and expected in out, (expected, out)


class BrokenEncoder(torch.nn.Module):
    def encode(self, x):
        raise RuntimeError("the encoder is broken\non two lines")


class WrongSizeEncoder(torch.nn.Module):
    def encode(self, x):
        return x[:1, :4], x[:1, :4]  # one code per batch instead of one per image


@pytest.mark.parametrize(
    "bad_model, expected",
    [(BrokenEncoder(), "the model raised RuntimeError: the encoder is broken on two lines"),
     (WrongSizeEncoder(), "the model raised IndexError"),
     (None, "the model raised AttributeError")],
)
def test_direction_checker_reports_a_model_that_raises(verdict, setting, bad_model, expected):
    model, mu, y, x = setting
    right = mu[y == 7].mean(0) - mu[y == 1].mean(0)
    passed, out = verdict(checks.check_class_direction, right, bad_model)
    assert not passed and expected in out, out


def test_direction_checker_unsolved_does_not_run_the_model(verdict):
    passed, out = verdict(checks.check_class_direction, ..., BrokenEncoder())
    assert not passed and "not solved yet" in out


def test_direction_checker_hints_never_give_the_code(verdict, setting):
    model, mu, y, x = setting
    right = mu[y == 7].mean(0) - mu[y == 1].mean(0)
    for answer in [-right, mu[y == 7].sum(0) - mu[y == 1].sum(0), mu[y == 7].mean(0), right + 0.5]:
        _, out = verdict(checks.check_class_direction, answer, model)
        assert "y_test ==" not in out and "[y ==" not in out and "mu_32d" not in out, out
