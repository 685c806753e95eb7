"""Notebook 06's models: the ConvVAE's interface, every model's decoder likelihood, checkpoints of both
architectures, and fit / evaluation on grey levels (dequantized) instead of binarized images."""

import math

import pytest
import torch

from vae_lesson.checkpoints import load_checkpoint, save_checkpoint
from vae_lesson.data import load_mnist, pixel_means, test_subset
from vae_lesson.elbo import elbo, elbo_terms, iwae_bound
from vae_lesson.evaluation import (
    bits_per_dim_estimate, evaluate, learned_sigma_and_rmse, mean_kl, reconstruction_means, sample_means,
)
from vae_lesson.likelihoods import (
    BernoulliLikelihood, ContinuousBernoulliLikelihood, GaussianLikelihood, GreyBernoulliLikelihood, dequantize,
    gaussian_log_likelihood,
)
from vae_lesson.models import ConvVAE, VAE, build_model
from vae_lesson.train import fit, train_short


def grey_images(n=64, seed=0):
    return torch.rand(n, 28, 28, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("shape", [(5, 28, 28), (5, 1, 28, 28), (5, 784)])
def test_conv_vae_encodes_every_image_shape_alike(shape):
    torch.manual_seed(0)
    model = ConvVAE(6).eval()
    x = grey_images(5)
    mu, logvar = model.encode(x.reshape(shape))
    ref_mu, ref_logvar = model.encode(x)
    assert mu.shape == logvar.shape == (5, 6)
    torch.testing.assert_close(mu, ref_mu)
    torch.testing.assert_close(logvar, ref_logvar)


def test_conv_vae_decodes_codes_with_a_sample_axis_like_one_by_one():
    torch.manual_seed(0)
    model = ConvVAE(4).eval()
    z = torch.randn(3, 5, 4)
    logits = model.decode(z)
    assert logits.shape == (3, 5, 784)
    torch.testing.assert_close(logits[2], model.decode(z[2]))
    with pytest.raises(ValueError, match="4 latent dimensions"):
        model.decode(torch.randn(5, 3))


def test_conv_vae_rejects_wrong_images_and_arguments():
    model = ConvVAE(2)
    with pytest.raises(ValueError, match="28, 28"):
        model.encode(torch.rand(5, 3, 28, 28))
    with pytest.raises(ValueError, match="latent_dim"):
        ConvVAE(0)
    with pytest.raises(ValueError, match="channels"):
        ConvVAE(2, channels=(8,))


def test_the_convolutions_are_local():
    """A pixel far from another cannot change the first convolution's output next to it: the ConvVAE's first layer
    sees 4x4 patches (what makes it convolutional, unlike the MLP, whose first layer sees every pixel)."""
    torch.manual_seed(0)
    model = ConvVAE(2)
    x = grey_images(1)
    y = x.clone()
    y[0, 27, 27] = 1 - y[0, 27, 27]
    first = model.encoder[0]
    a, b = first(x[:, None]), first(y[:, None])
    assert torch.equal(a[..., :10, :10], b[..., :10, :10]) and not torch.equal(a, b)


@pytest.mark.parametrize("likelihood", [None, "continuous_bernoulli", "bernoulli_grey",
                                        {"name": "gaussian", "sigma": 0.2, "learn_sigma": True}])
@pytest.mark.parametrize("architecture", ["mlp", "conv"])
def test_checkpoints_rebuild_either_architecture_with_its_likelihood(tmp_path, architecture, likelihood):
    torch.manual_seed(0)
    config = {"latent_dim": 3, **({"architecture": "conv", "channels": [4, 8], "hidden": 16} if architecture == "conv"
                                  else {"hidden": [16]})}
    if likelihood is not None:
        config["likelihood"] = likelihood
    model = build_model(config)
    if isinstance(model.likelihood, GaussianLikelihood):
        with torch.no_grad():
            model.likelihood.log_sigma.fill_(-1.7)  # a learned sigma must survive the round trip
    save_checkpoint(tmp_path / "m.pt", model)
    loaded, _, _ = load_checkpoint(tmp_path / "m.pt")
    assert type(loaded) is type(model) and type(loaded.likelihood) is type(model.likelihood)
    assert loaded.config == model.config
    z = torch.randn(4, 3)
    torch.testing.assert_close(loaded.decode(z), model.decode(z))
    if isinstance(model.likelihood, GaussianLikelihood):
        assert loaded.likelihood.sigma == pytest.approx(math.exp(-1.7))


def test_a_bernoulli_model_keeps_the_old_config_and_state():
    """Checkpoints written before decoders had a likelihood stay loadable: the default model's config and state
    dict have no likelihood entries."""
    model = VAE(2, hidden=(8,))
    assert model.config == {"latent_dim": 2, "hidden": [8], "activation": "relu"}
    assert not any(key.startswith("likelihood") for key in model.state_dict())
    assert isinstance(model.likelihood, BernoulliLikelihood)


def test_build_model_refuses_an_unknown_architecture():
    with pytest.raises(ValueError, match="'mlp', 'conv'"):
        build_model({"architecture": "transformer", "latent_dim": 2})


def test_init_output_bias_sets_the_conv_vaes_per_pixel_bias():
    torch.manual_seed(0)
    model = ConvVAE(2)
    x = grey_images(100) * torch.linspace(0.1, 0.9, 784).reshape(28, 28)
    model.init_output_bias(x)
    expected = torch.logit(x.reshape(100, 784).double().mean(0)).float()
    torch.testing.assert_close(model.pixel_bias.detach(), expected)


def test_the_elbo_of_a_gaussian_model_uses_its_likelihood():
    """elbo_terms' reconstruction term is the Gaussian log-likelihood of x under the decoder's mean, computed here
    by hand at the same z (one sample, same generator)."""
    torch.manual_seed(0)
    model = VAE(3, hidden=(16,), likelihood=GaussianLikelihood(0.2))
    x = dequantize(grey_images(8), torch.Generator().manual_seed(1)).reshape(8, 784)
    reconstruction, _ = elbo_terms(model, x, 1, torch.Generator().manual_seed(2))
    out = model(x, num_samples=1, generator=torch.Generator().manual_seed(2))
    expected = gaussian_log_likelihood(x, torch.sigmoid(out.logits), math.log(0.2)).mean(0)
    torch.testing.assert_close(reconstruction, expected)
    assert elbo(model, x).shape == (8,)  # grey images are accepted by a model of grey levels


def test_a_bernoulli_model_still_refuses_grey_images():
    model = VAE(2, hidden=(8,))
    with pytest.raises(ValueError, match="binar"):
        elbo(model, grey_images(4))
    with pytest.raises(ValueError, match="binar"):
        iwae_bound(model, grey_images(4), 3)


def test_grey_models_refuse_nan():
    model = VAE(2, hidden=(8,), likelihood="continuous_bernoulli")
    x = grey_images(4)
    x[0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        evaluate(model, x)


@pytest.mark.parametrize("likelihood", [GaussianLikelihood(0.1, learn_sigma=True), ContinuousBernoulliLikelihood(),
                                        GreyBernoulliLikelihood()])
def test_fit_trains_models_of_grey_levels_on_dequantized_images(likelihood):
    """fit improves the ELBO of a model of grey levels, and its test ELBO is measured on dequantized images (so the
    history holds the same numbers as evaluate on those)."""
    torch.manual_seed(0)
    train = grey_images(512, seed=3) ** 3  # mostly dark, like real images
    test = grey_images(128, seed=4) ** 3
    model = VAE(4, hidden=(32,), likelihood=likelihood)
    model.init_output_bias(train)
    history = fit(model, train, epochs=4, batch_size=64, test_x=test, generator=torch.Generator().manual_seed(0),
                  progress=False, kl_warmup_epochs=0)
    assert history.train_elbo[-1] > history.train_elbo[0]
    fixed = dequantize(test.reshape(128, 784), torch.Generator().manual_seed(0))
    again = evaluate(model, fixed, generator=torch.Generator().manual_seed(history.epoch[-1]))
    assert again["elbo"] == pytest.approx(history.test_elbo[-1], rel=1e-5)


def test_a_learned_sigma_is_trained_by_fit_and_a_fixed_one_is_not():
    torch.manual_seed(0)
    train = grey_images(256, seed=5)
    learned = VAE(2, hidden=(16,), likelihood=GaussianLikelihood(1.0, learn_sigma=True))
    fixed = VAE(2, hidden=(16,), likelihood=GaussianLikelihood(1.0))
    for model in (learned, fixed):
        fit(model, train, epochs=8, batch_size=32, lr=0.05, lr_final=None, generator=torch.Generator().manual_seed(0), progress=False)
    # uniform pixels around a near-constant mean have a standard deviation of about 0.29: sigma heads there from 1
    assert learned.likelihood.sigma < 0.5 and fixed.likelihood.sigma == 1.0


def test_reconstruction_and_sample_means_use_the_likelihoods_mean():
    torch.manual_seed(0)
    model = VAE(2, hidden=(8,), likelihood="continuous_bernoulli")
    x = grey_images(3)
    mu, _ = model.encode(x)
    from vae_lesson.likelihoods import continuous_bernoulli_mean
    torch.testing.assert_close(reconstruction_means(model, x), continuous_bernoulli_mean(model.decode(mu)).detach())
    samples = sample_means(model, 5, torch.Generator().manual_seed(1))
    z = torch.randn(5, 2, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(samples, continuous_bernoulli_mean(model.decode(z)).detach())


def test_bits_per_dim_estimate_converts_minus_l_k():
    torch.manual_seed(0)
    model = VAE(2, hidden=(8,), likelihood=GaussianLikelihood(0.3))
    x = dequantize(grey_images(20), torch.Generator().manual_seed(1))
    bpd, stderr = bits_per_dim_estimate(model, x, 10, torch.Generator().manual_seed(2))
    bounds = iwae_bound(model, x, 10, torch.Generator().manual_seed(2))
    expected = (-bounds.mean().item() + 784 * math.log(256)) / (784 * math.log(2))
    assert bpd == pytest.approx(expected, rel=1e-6)
    assert stderr == pytest.approx(bounds.std().item() / math.sqrt(20) / (784 * math.log(2)), rel=1e-6)


# --- notebook 06's helpers: train_short, mean_kl, learned_sigma_and_rmse ---

def test_train_short_starts_at_the_mean_then_fits_with_its_arguments(monkeypatch):
    import vae_lesson.train as train

    images = load_mnist("test")[0][test_subset(512, seed=3)]
    calls = []
    real_fit = train.fit

    def spy(model, x, epochs, generator=None, progress=True, **kwargs):
        bias = [m for m in model.modules() if isinstance(m, torch.nn.Linear)][-1].bias
        expected = torch.logit(pixel_means(x.reshape(len(x), -1)).clamp(1e-3, 1 - 1e-3)).float()
        same_state = torch.Generator()
        same_state.set_state(generator.get_state())  # to see fit's first draw without taking it
        calls.append({"x": x, "epochs": epochs, "progress": progress, "kwargs": kwargs,
                      "bias_at_mean": torch.equal(bias.detach(), expected),
                      "draw": torch.rand(1, generator=same_state)})
        return real_fit(model, x, epochs, generator=generator, progress=progress, **kwargs)

    monkeypatch.setattr(train, "fit", spy)
    model = train_short(GaussianLikelihood(0.1), images, epochs=2, seed=5)
    (call,) = calls
    assert call["x"] is images and call["epochs"] == 2 and call["progress"] is False and call["kwargs"] == {}
    assert call["bias_at_mean"], "the decoder's output bias should start at the images' mean before fit"
    assert torch.equal(call["draw"], torch.rand(1, generator=torch.Generator().manual_seed(5)))  # fit's draws: seed 5
    assert isinstance(model.likelihood, GaussianLikelihood) and not model.training


def test_train_short_is_reproducible_and_trains():
    images = load_mnist("test")[0][test_subset(512, seed=3)]
    a = train_short(GaussianLikelihood(0.1), images, epochs=2, seed=5)
    b = train_short(GaussianLikelihood(0.1), images, epochs=2, seed=5)
    c = train_short(GaussianLikelihood(0.1), images, epochs=2, seed=6)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))
    torch.manual_seed(5)
    started = VAE(latent_dim=32, likelihood=GaussianLikelihood(0.1))
    started.init_output_bias(images)  # what train_short holds before fit
    x = dequantize(images, torch.Generator().manual_seed(0))
    before = evaluate(started, x, generator=torch.Generator().manual_seed(1))["elbo"]
    after = evaluate(a, x, generator=torch.Generator().manual_seed(1))["elbo"]
    assert after > before + 5  # two epochs of fit improve on the mean image (measured: about 7.5 nats per image)


def test_mean_kl_agrees_with_torch_distributions():
    torch.manual_seed(0)
    model = VAE(latent_dim=6).eval()
    x = (torch.rand(50, 784, generator=torch.Generator().manual_seed(2)) < 0.3).float()
    with torch.no_grad():
        mu, logvar = model.encode(x)
    q = torch.distributions.Normal(mu.double(), (0.5 * logvar.double()).exp())
    p = torch.distributions.Normal(torch.zeros_like(q.loc), torch.ones_like(q.scale))
    reference = torch.distributions.kl_divergence(q, p).sum(-1).mean().item()
    assert mean_kl(model, x) == pytest.approx(reference, rel=1e-5)


def test_learned_sigma_and_rmse_of_a_decoder_that_always_draws_grey():
    model = VAE(latent_dim=4, likelihood=GaussianLikelihood(0.2, learn_sigma=True)).eval()
    last = [m for m in model.modules() if isinstance(m, torch.nn.Linear)][-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.zero_()  # sigmoid(0) = 1/2 at every pixel, whatever z
    x = grey_images(20, seed=4)
    sigma, rmse = learned_sigma_and_rmse(model, x)
    assert sigma == pytest.approx(0.2)
    assert rmse == pytest.approx(math.sqrt(((x - 0.5) ** 2).mean().item()), rel=1e-6)


def test_learned_sigma_and_rmse_draws_z_from_q_with_its_seed():
    torch.manual_seed(0)
    model = VAE(latent_dim=4, likelihood=GaussianLikelihood(0.2)).eval()
    x = grey_images(20, seed=5)
    with torch.no_grad():
        mu, logvar = model.encode(x)
        z = mu + (0.5 * logvar).exp() * torch.randn(mu.shape, generator=torch.Generator().manual_seed(3))
        reference = (torch.sigmoid(model.decode(z)) - x.reshape(20, 784)).square().mean().sqrt().item()
    assert learned_sigma_and_rmse(model, x, seed=3)[1] == pytest.approx(reference, rel=1e-6)
    assert learned_sigma_and_rmse(model, x, seed=4)[1] != pytest.approx(reference, rel=1e-6)


def test_learned_sigma_and_rmse_refuses_a_decoder_without_sigma():
    with pytest.raises(ValueError, match="Gaussian decoder"):
        learned_sigma_and_rmse(VAE(latent_dim=4), grey_images(3))
