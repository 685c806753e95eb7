"""Notebook 01's checkers: the correct answer passes, and each typical mistake gets its own sentence."""

import pytest
import torch

from vae_lesson import checks
from vae_lesson.linear_gaussian import LinearGaussianModel


def correct_kl(mu, logvar):
    return 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(-1)


def not_implemented(*args):
    raise NotImplementedError


KL_MISTAKES = [
    (lambda mu, lv: 0.5 * (mu**2 + lv.exp() - 1 - lv), "one KL per latent dimension"),
    (lambda mu, lv: correct_kl(mu, lv).sum(), "summed over the examples too"),
    (lambda mu, lv: correct_kl(mu, lv).mean(), "averaged over the examples"),
    (lambda mu, lv: (0.5 * (mu**2 + lv.exp() - 1 - lv)).mean(-1), "averaged over the latent dimensions"),
    (lambda mu, lv: -correct_kl(mu, lv), "sign is flipped"),
    (lambda mu, lv: (mu**2 + lv.exp() - 1 - lv).sum(-1), "twice the right value"),
    (lambda mu, lv: 0.25 * (mu**2 + lv.exp() - 1 - lv).sum(-1), "half the right value"),
    (lambda mu, lv: 0.5 * (mu**2 + lv.exp() - lv).sum(-1), "the constant one is missing"),
    (lambda mu, lv: 0.5 * (mu**2 + (0.5 * lv).exp() - 1 - 0.5 * lv).sum(-1), "used σ where"),
    (lambda mu, lv: (mu**2).sum(-1), "wrong values"),
    (lambda mu, lv: mu.detach().numpy(), "must return a torch tensor"),
    (lambda mu, lv: correct_kl(mu, lv).detach(), "detached from mu and logvar"),
    (lambda mu, lv: 3 * correct_kl(mu, lv), "yours is 3 times the right value"),
    (lambda mu, lv: 0.5 * (mu**2 + lv.exp() - 1 - lv).sum(0), "instead of the latent dimensions"),
    (lambda mu, lv: mu @ lv, "raised RuntimeError"),
    (not_implemented, "not solved yet"),
]


@pytest.mark.parametrize("fn, expected", KL_MISTAKES)
def test_kl_checker_names_each_mistake(verdict, fn, expected):
    passed, out = verdict(checks.check_kl_diag, fn)
    assert not passed and expected in out


def test_kl_checker_accepts_correct_answers(verdict):
    assert verdict(checks.check_kl_diag, correct_kl)[0]
    # another correct way to write it
    alt = lambda mu, lv: torch.distributions.kl_divergence(  # noqa: E731
        torch.distributions.Normal(mu, (0.5 * lv).exp()), torch.distributions.Normal(0.0, 1.0)
    ).sum(-1)
    assert verdict(checks.check_kl_diag, alt)[0]


def correct_elbo_mc(model, x, q, z):
    return (model.log_joint(x, z) - q.log_prob(z)).mean(0)


@pytest.mark.parametrize(
    "fn, expected",
    [
        (lambda m, x, q, z: m.log_joint(x, z) - q.log_prob(z), "one estimate per sample"),
        (lambda m, x, q, z: (m.log_joint(x, z) - q.log_prob(z)).mean(), "averaged over the examples too"),
        (lambda m, x, q, z: (m.log_joint(x, z) - q.log_prob(z)).sum(0), "summed over the samples"),
        (lambda m, x, q, z: m.log_joint(x, z).mean(0), "the log q(z) term is missing"),
        (lambda m, x, q, z: (m.log_joint(x, z) + q.log_prob(z)).mean(0), "the log q(z) term has the wrong sign"),
        (lambda m, x, q, z: -correct_elbo_mc(m, x, q, z), "sign is flipped"),
        (lambda m, x, q, z: (m.log_likelihood(x, z) - q.log_prob(z)).mean(0), "prior term is missing"),
        (lambda m, x, q, z: m.log_marginal(x[:2]), "wrong shape: expected (3,), got (2,)"),
    ],
)
def test_elbo_mc_checker_names_each_mistake(verdict, fn, expected):
    passed, out = verdict(checks.check_elbo_mc, fn)
    assert not passed and expected in out


def test_elbo_mc_checker_accepts_the_estimator(verdict):
    assert verdict(checks.check_elbo_mc, correct_elbo_mc)[0]


@pytest.fixture
def model_and_x():
    g = torch.Generator().manual_seed(0)
    model = LinearGaussianModel.random(3, 2, generator=g)
    return model, model.sample(2, generator=g)


def test_zero_gap_checker(verdict, model_and_x):
    model, x = model_and_x
    mean, cov = model.posterior(x)
    assert verdict(checks.check_zero_gap_q, model, x, mean, cov)[0]
    cases = [
        ((torch.zeros_like(mean), torch.eye(2, dtype=mean.dtype)), "that q is the prior"),
        ((mean, torch.eye(2, dtype=mean.dtype)), "the mean is right but the covariance is not"),
        ((mean + 1, cov), "the covariance is right but the mean is not"),
        ((mean + 1, 2 * cov), "neither the mean nor the covariance"),
        ((mean[0], cov), "must have shape (2, 2)"),
        ((mean.tolist(), cov), "must be torch tensors"),
    ]
    for (q_mean, q_cov), expected in cases:
        passed, out = verdict(checks.check_zero_gap_q, model, x, q_mean, q_cov)
        assert not passed and expected in out


@pytest.mark.parametrize(
    "answer, ok, expected",
    [("positive", True, "> 0"), (" Positive ", True, "> 0"), ("negative", False, "lower bound lie above"),
     ("zero", False, "tight for every q"), ("either", False, "really depend on q"), ("maybe", False, "answer with one of")],
)
def test_gap_sign_checker(verdict, answer, ok, expected):
    passed, out = verdict(checks.check_gap_sign, answer)
    assert passed is ok and expected in out


class BrokenModel:
    def posterior(self, x):
        raise ValueError("x must have shape (N, 3)")


def test_zero_gap_checker_reports_a_model_that_raises(verdict, model_and_x):
    model, x = model_and_x
    mean, cov = model.posterior(x)
    for bad_model, expected in [(BrokenModel(), "the model raised ValueError: x must have shape (N, 3)"),
                                (None, "the model raised AttributeError")]:
        passed, out = verdict(checks.check_zero_gap_q, bad_model, x, mean, cov)
        assert not passed and expected in out, out
    passed, out = verdict(checks.check_zero_gap_q, model, x[:, :2], mean, cov)  # data of the wrong size
    assert not passed and "the model raised" in out, out


def test_kl_checker_hints_never_give_the_code(verdict):
    for fn, _ in KL_MISTAKES:
        _, out = verdict(checks.check_kl_diag, fn)
        assert "0.5 * (mu" not in out and "logvar.exp()" not in out and "torch." not in out, out
