"""The VAE and its ELBO against an independent computation with torch.distributions."""

import pytest
import torch
from torch.distributions import Bernoulli, Normal, kl_divergence

from vae_lesson.elbo import elbo, elbo_terms
from vae_lesson.models import VAE

F64 = torch.float64


@pytest.fixture
def tiny():
    torch.manual_seed(0)
    model = VAE(3, hidden=(16, 8)).double()
    x = torch.bernoulli(torch.full((5, 28, 28), 0.2, dtype=F64), generator=torch.Generator().manual_seed(1))
    return model, x


def test_shapes(tiny):
    model, x = tiny
    mu, logvar = model.encode(x)
    assert mu.shape == logvar.shape == (5, 3)
    assert model.decode(mu).shape == (5, 784)
    out = model(x.reshape(5, 784))
    assert out.logits.shape == (5, 784) and out.z.shape == (5, 3)


@pytest.mark.parametrize("num_samples", [1, 4])
def test_elbo_matches_torch_distributions(tiny, num_samples):
    model, x = tiny
    got = elbo(model, x, num_samples=num_samples, generator=torch.Generator().manual_seed(5))
    # the same noise, drawn the same way, through torch.distributions
    mu, logvar = model.encode(x)
    eps = torch.randn((num_samples, *mu.shape), generator=torch.Generator().manual_seed(5), dtype=F64)
    z = mu + (0.5 * logvar).exp() * eps
    log_lik = Bernoulli(logits=model.decode(z)).log_prob(x.reshape(5, 784)).sum(-1).mean(0)
    kl = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum(-1)
    torch.testing.assert_close(got, log_lik - kl, rtol=1e-12, atol=1e-10)
    reconstruction, kl_term = elbo_terms(model, x, num_samples, torch.Generator().manual_seed(5))
    torch.testing.assert_close(kl_term, kl)


def test_bad_inputs(tiny):
    model, x = tiny
    with pytest.raises(ValueError, match=r"\(N, 28, 28\) or \(N, 784\).*x\[None\]"):
        model.encode(x[0])
    with pytest.raises(ValueError, match="3 latent dimensions"):
        model.decode(torch.zeros(2, 4, dtype=F64))
    with pytest.raises(ValueError, match="activation"):
        VAE(2, activation="sigmoid")
    with pytest.raises(ValueError, match="num_samples"):
        elbo(model, x, num_samples=0)


def test_init_output_bias_makes_the_untrained_decoder_draw_the_mean_image():
    g = torch.Generator().manual_seed(0)
    images = torch.rand(50, 28, 28, generator=g) * (torch.rand(50, 28, 28, generator=g) < 0.3)
    images[:, 0, :] = 0.0  # a row of pixels that are paper in every image: its log-odds would be minus infinity
    model = VAE(latent_dim=2, hidden=(8,))
    model.init_output_bias(images)
    with torch.no_grad():
        model.decoder[-1].weight.zero_()  # only the bias is left: the decoder's probabilities are sigmoid(bias)
        probabilities = torch.sigmoid(model.decode(torch.randn(3, 2))).double()
    expected = images.reshape(50, -1).double().mean(0).clamp(1e-3, 1 - 1e-3)  # computed independently of the method
    assert torch.allclose(probabilities, expected.expand(3, -1), atol=1e-6)
    assert torch.isfinite(model.decoder[-1].bias).all()
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        model.init_output_bias(images * 255)
    with pytest.raises(ValueError, match="clip"):
        model.init_output_bias(images, clip=0.7)
