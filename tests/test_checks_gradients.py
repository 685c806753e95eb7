"""Notebook 02's checkers: the correct answer passes, and each typical mistake gets its own sentence."""

import pytest
import torch

from vae_lesson import checks


def reparam(mu, logvar, eps):
    return mu + torch.exp(0.5 * logvar) * eps


def not_implemented(*args):
    raise NotImplementedError


@pytest.mark.parametrize(
    "fn, expected",
    [
        (lambda mu, lv, eps: mu + lv.exp() * eps, "scaled eps by the variance"),
        (lambda mu, lv, eps: mu + lv * eps, "not the standard deviation"),
        (lambda mu, lv, eps: torch.exp(0.5 * lv) * eps, "left out the mean"),
        (lambda mu, lv, eps: mu * torch.exp(0.5 * lv) * eps, "added to the scaled noise, not multiplied"),
        (lambda mu, lv, eps: reparam(mu, lv, eps).detach(), "detached"),
        (lambda mu, lv, eps: torch.distributions.Normal(mu, (0.5 * lv).exp()).sample(), "Use the eps that is passed in"),
        (lambda mu, lv, eps: reparam(mu, lv, eps)[0], "wrong shape: expected (5, 3), got (3,)"),
        (not_implemented, "not solved yet"),
    ],
)
def test_reparam_checker_names_each_mistake(verdict, fn, expected):
    passed, out = verdict(checks.check_reparam_sample, fn)
    assert not passed and expected in out


def test_reparam_checker_accepts_both_signs(verdict):
    assert verdict(checks.check_reparam_sample, reparam)[0]
    passed, out = verdict(checks.check_reparam_sample, lambda mu, lv, eps: mu - torch.exp(0.5 * lv) * eps)
    assert passed and "works too" in out


def score(f, mu, sigma, eps):
    x = mu + sigma * eps
    return f(x) * (x - mu) / sigma**2


@pytest.mark.parametrize(
    "fn, expected",
    [
        (lambda f, mu, s, eps: score(f, mu, s, eps) * s, "off by a factor sigma: yours is sigma times"),
        (lambda f, mu, s, eps: score(f, mu, s, eps) * s**2, "the division by sigma² in the score of the mean is missing"),
        (lambda f, mu, s, eps: -score(f, mu, s, eps), "sign is flipped"),
        (lambda f, mu, s, eps: eps / s, "returned the score alone"),
        (lambda f, mu, s, eps: score(f, mu, s, eps).mean(), "you averaged"),
        (lambda f, mu, s, eps: f(eps) * eps, "evaluated f at the noise eps"),
    ],
)
def test_score_checker_names_each_mistake(verdict, fn, expected):
    passed, out = verdict(checks.check_score_grad_mu, fn)
    assert not passed and expected in out


def test_score_checker_recognises_the_pathwise_answer(verdict):
    def pathwise(f, mu, sigma, eps):
        x = (mu + sigma * eps).requires_grad_(True)
        return torch.autograd.grad(f(x).sum(), x)[0]

    passed, out = verdict(checks.check_score_grad_mu, pathwise)
    assert not passed and "reparameterization estimator" in out
    assert verdict(checks.check_score_grad_mu, score)[0]


@pytest.mark.parametrize(
    "fn, expected",
    [
        (lambda f, s: f.mean(), "mean of f"),
        (lambda f, s: (f * s).mean() / s.mean(), "weighted by s instead of s²"),
        (lambda f, s: (f * s**2).mean(), "the division by the average of the squared scores is missing"),
        (lambda f, s: (f * s**2).mean() / s.mean() ** 2, "not the square of the mean"),
        (lambda f, s: f * s**2, "wrong shape: expected (), got (5000,)"),
    ],
)
def test_baseline_checker_names_each_mistake(verdict, fn, expected):
    passed, out = verdict(checks.check_optimal_baseline, fn)
    assert not passed and expected in out


def test_baseline_checker_accepts_the_optimum(verdict):
    assert verdict(checks.check_optimal_baseline, lambda f, s: (f * s**2).mean() / (s**2).mean())[0]
    assert verdict(checks.check_optimal_baseline, lambda f, s: (f * s**2).sum() / (s**2).sum())[0]


@pytest.mark.parametrize(
    "fn",
    [lambda mu, lv, eps: mu + lv.exp() * eps, lambda mu, lv, eps: mu + lv * eps,
     lambda mu, lv, eps: mu + 0.5 * lv * eps, not_implemented],
)
def test_reparam_checker_hints_never_give_the_code(verdict, fn):
    passed, out = verdict(checks.check_reparam_sample, fn)
    assert not passed and "exp(0.5" not in out and "exp(logvar / 2)" not in out and "torch." not in out, out


@pytest.mark.parametrize(
    "fn",
    [lambda f, mu, s, eps: score(f, mu, s, eps) * s, lambda f, mu, s, eps: score(f, mu, s, eps) * s**2,
     lambda f, mu, s, eps: -score(f, mu, s, eps)],
)
def test_score_checker_hints_point_to_the_derivation(verdict, fn):
    passed, out = verdict(checks.check_score_grad_mu, fn)
    assert not passed and "(x - mu) / sigma²" not in out and "section 2" in out, out
