"""Notebook 05's checkers: the correct answer passes, and each typical mistake gets its own sentence."""

import pytest
import torch

from vae_lesson import checks, pretrained


def pairwise(si, so):
    return ((so[:, None] > si[None, :]).double() + 0.5 * (so[:, None] == si[None, :]).double()).mean()


@pytest.mark.parametrize(
    "fn, expected",
    [
        (lambda si, so: 1 - pairwise(si, so), "swapped the roles"),
        (lambda si, so: (so[:, None] > si[None, :]).double().mean(), "ties must count one half"),
        (lambda si, so: (so[:, None] >= si[None, :]).double().mean(), "ties count one half, not one"),
        (lambda si, so: pairwise(si, so) * len(si) * len(so), "divide by the number of pairs"),
        (lambda si, so: so[:, None] > si[None, :], "must return one number"),
        (lambda si, so: 0.5, "wrong values"),
    ],
)
def test_auroc_checker_names_each_mistake(verdict, fn, expected):
    passed, out = verdict(checks.check_auroc, fn)
    assert not passed and expected in out


def test_auroc_checker_accepts_plain_numbers_and_tensors(verdict):
    assert verdict(checks.check_auroc, pairwise)[0]
    assert verdict(checks.check_auroc, lambda si, so: pairwise(si, so).item())[0]


@pytest.fixture(scope="module")
def model():
    return pretrained.load("mnist-32d")


def test_sneaky_corruption_checker(verdict, model):
    assert verdict(checks.check_sneaky_corruption, lambda x, g: torch.zeros_like(x), model)[0]
    cases = [
        (lambda x, g: x + 0.001, "must stay in [0, 1]"),
        (lambda x, g: (x + 0.001).clamp(0, 1), "barely changes"),
        (lambda x, g: 1 - x, "the detector catches it"),
        (lambda x, g: x * 0.5, "the detector catches it"),
        (lambda x, g: x[:10], "must return images of shape"),
    ]
    for fn, expected in cases:
        passed, out = verdict(checks.check_sneaky_corruption, fn, model)
        assert not passed and expected in out, out


class BrokenVAE(torch.nn.Module):
    def forward(self, *args, **kwargs):
        raise RuntimeError("the model is broken")


def raises_not_implemented(x, g):
    raise NotImplementedError


@pytest.mark.parametrize(
    "fn, bad_model, expected",
    [
        (lambda x, g: torch.zeros_like(x), BrokenVAE(), "the model raised RuntimeError: the model is broken"),
        (lambda x, g: torch.zeros_like(x), None, "the model raised"),
        (lambda x, g: 1 / 0, None, "your code raised ZeroDivisionError"),
        (raises_not_implemented, None, "not solved yet"),
    ],
)
def test_sneaky_corruption_checker_reports_what_raises(verdict, fn, bad_model, expected):
    passed, out = verdict(checks.check_sneaky_corruption, fn, bad_model)
    assert not passed and expected in out, out


def test_auroc_checker_hints_never_give_the_code(verdict):
    for fn in [lambda si, so: (so[:, None] > si[None, :]).double().mean(),
               lambda si, so: (so[:, None] >= si[None, :]).double().mean(),
               lambda si, so: pairwise(si, so) * len(si) * len(so)]:
        _, out = verdict(checks.check_auroc, fn)
        assert "0.5 *" not in out and "==" not in out and "len(" not in out and "[:, None]" not in out, out
