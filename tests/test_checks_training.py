"""Notebook 03's checkers: the correct answer passes, and each typical mistake gets its own sentence."""

import math

import pytest
import torch
import torch.nn.functional as F

from vae_lesson import checks


def bce(logits, x):
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none")


def kl_terms(mu, logvar):
    return 0.5 * (mu**2 + logvar.exp() - 1 - logvar)


def correct_loss(logits, x, mu, logvar):
    return (bce(logits, x).sum(-1) + kl_terms(mu, logvar).sum(-1)).mean()


@pytest.mark.parametrize(
    "fn, expected",
    [
        (lambda lg, x, mu, lv: F.binary_cross_entropy_with_logits(lg, x) + kl_terms(mu, lv).sum(-1).mean(), "784 times"),
        (lambda lg, x, mu, lv: bce(lg, x).mean() + kl_terms(mu, lv).mean(), "pixels and latent dimensions"),
        (lambda lg, x, mu, lv: bce(lg, x).sum(-1).mean(), "KL term is missing"),
        (lambda lg, x, mu, lv: (bce(lg, x).sum(-1) - kl_terms(mu, lv).sum(-1)).mean(), "must be added"),
        (lambda lg, x, mu, lv: -correct_loss(lg, x, mu, lv), "sign is flipped"),
        (lambda lg, x, mu, lv: bce(lg, x).sum(-1) + kl_terms(mu, lv).sum(-1), "one loss per image"),
        (lambda lg, x, mu, lv: (bce(lg, x).sum(-1) + kl_terms(mu, lv).sum(-1)).sum(), "summed over the batch"),
        (lambda lg, x, mu, lv: (bce(lg, x).sum(-1) + kl_terms(mu, lv).mean(-1)).mean(), "averaged the KL over latent"),
        (lambda lg, x, mu, lv: F.binary_cross_entropy(lg, x), "raised"),
    ],
)
def test_loss_checker_names_each_mistake(verdict, fn, expected):
    passed, out = verdict(checks.check_negative_elbo_loss, fn)
    assert not passed and expected in out


def test_loss_checker_accepts_the_negative_elbo(verdict):
    assert verdict(checks.check_negative_elbo_loss, correct_loss)[0]


@pytest.mark.parametrize(
    "fn, expected",
    [
        (lambda lw: torch.log(torch.exp(lw).mean(0)), "underflow to 0"),
        (lambda lw: lw.mean(0), "average of the log-weights"),
        (lambda lw: torch.logsumexp(lw, 0), "off by a constant: yours is log k = 3.912 larger"),
        (lambda lw: lw.max(0).values, "largest log-weight"),
        (lambda lw: torch.logsumexp(lw, 1) - math.log(lw.shape[1]), "reduced over the images (dimension 1)"),
    ],
)
def test_iwae_checker_names_each_mistake(verdict, fn, expected):
    passed, out = verdict(checks.check_iwae_from_log_weights, fn)
    assert not passed and expected in out


def test_iwae_checker_accepts_logsumexp(verdict):
    assert verdict(checks.check_iwae_from_log_weights, lambda lw: torch.logsumexp(lw, 0) - math.log(len(lw)))[0]


@pytest.mark.parametrize("answer, ok", [("lower", True), ("Lower ", True), ("higher", False), ("same", False), ("?", False)])
def test_beta_checker(verdict, answer, ok):
    assert verdict(checks.check_beta_prediction, answer)[0] is ok


@pytest.mark.parametrize(
    "fn",
    [lambda lw: torch.log(torch.exp(lw).mean(0)), lambda lw: lw.mean(0), lambda lw: lw.max(0).values],
)
def test_iwae_checker_hints_never_give_the_code(verdict, fn):
    passed, out = verdict(checks.check_iwae_from_log_weights, fn)
    assert not passed and "section 5" in out, out
    assert "torch.logsumexp" not in out and "minus log k" not in out, out
