"""Notebook 04's checkers: the correct answer passes, and each typical mistake gets its own sentence."""

import pytest
import torch

from vae_lesson import checks
from vae_lesson.data import load_mnist
from vae_lesson.evaluation import posterior_means_and_logvars
from vae_lesson.models import VAE


def reference_slerp(z_a, z_b, t):
    omega = torch.arccos(torch.dot(z_a, z_b) / (z_a.norm() * z_b.norm()))
    return (torch.sin((1 - t) * omega) * z_a + torch.sin(t * omega) * z_b) / torch.sin(omega)


def test_slerp_checker_accepts_the_formula(verdict):
    assert verdict(checks.check_slerp, reference_slerp)[0]


@pytest.mark.parametrize(
    "fn, expected",
    [
        (lambda a, b, t: (1 - t) * a + t * b, "straight line"),
        (lambda a, b, t: reference_slerp(b, a, t), "runs backwards"),
        (lambda a, b, t: reference_slerp(a, b, t) * torch.sin(torch.arccos(torch.dot(a, b) / (a.norm() * b.norm()))),
         "division by sin(w) is missing"),
        (lambda a, b, t: reference_slerp(a / a.norm(), b / b.norm(), t), "interpolated the unit vectors"),
        (lambda a, b, t: reference_slerp(a, b, t)[:2], "should return shape"),
        (lambda a, b, t: reference_slerp(a, b, t).tolist(), "must return a torch tensor"),
        (lambda a, b, t: 1 / 0, "ZeroDivisionError"),
    ],
)
def test_slerp_checker_names_each_mistake(verdict, fn, expected):
    passed, out = verdict(checks.check_slerp, fn)
    assert not passed and expected in out


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
    mu, _ = posterior_means_and_logvars(model, x)
    return model, mu, y


def test_direction_checker(verdict, setting):
    model, mu, y = setting
    right = mu[y == 7].mean(0) - mu[y == 1].mean(0)
    assert verdict(checks.check_class_direction, right, model)[0]
    mistakes = [
        (-right, "points from 7 to 1"),
        (mu[y == 7].sum(0) - mu[y == 1].sum(0), "difference of sums"),
        (mu[y == 7].mean(0), "a position, not a direction"),
        (mu[y == 7] [:5] - mu[y == 1][:5], "should have shape (4,)"),
        (right + 0.5, "differs from the reference"),
        (right.numpy(), "must be a torch tensor"),
        (right * float("nan"), "NaN"),
    ]
    for answer, expected in mistakes:
        passed, out = verdict(checks.check_class_direction, answer, model)
        assert not passed and expected in out, (expected, out)
