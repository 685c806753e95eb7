"""The conditional VAE of notebook 07 (issue 18): ConditionalVAE's interface and errors, its conditional ELBO and
L_k against exact references (torch.distributions; numerical integration over a 1-D latent), fit training it
with labels, the helpers of vae_lesson.conditional, and the shipped mnist-cvae's quality floor judged by a
classifier trained here, independently of the package."""

import math

import pytest
import torch
from torch import nn

from vae_lesson import pretrained
from vae_lesson.classifier import DigitClassifier, accuracy, confidence, predict_labels, train_digit_classifier
from vae_lesson.conditional import decode_with_labels, label_probe_accuracy, samples_of_classes, style_transfer
from vae_lesson.data import batches, binarized_test_set, load_mnist, test_subset
from vae_lesson.elbo import elbo, elbo_terms, iwae_bound
from vae_lesson.evaluation import evaluate, posterior_means_and_logvars
from vae_lesson.models import VAE, ConditionalVAE, build_model, check_labels
from vae_lesson.train import fit

F64 = torch.float64


def small_cvae(latent_dim=3, seed=0, **kwargs) -> ConditionalVAE:
    torch.manual_seed(seed)
    return ConditionalVAE(latent_dim, hidden=(32,), **kwargs).eval()


def binary_images(n, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, 784, generator=g) < 0.3).float()


# --- the model --------------------------------------------------------------------------------------------------


def test_shapes_and_attributes():
    model = small_cvae(4)
    x, y = binary_images(5), torch.tensor([0, 1, 2, 3, 9])
    mu, logvar = model.encode(x, y)
    assert mu.shape == logvar.shape == (5, 4) and model.latent_dim == 4 and model.conditional
    assert model.decode(mu, y).shape == (5, 784)
    assert model.decode(torch.randn(7, 5, 4), y).shape == (7, 5, 784)
    assert model.encode(x.reshape(5, 28, 28), y)[0].shape == (5, 4)
    out = model(x, y, num_samples=3)
    assert out.logits.shape == (3, 5, 784) and out.z.shape == (3, 5, 4)
    assert not VAE(2).conditional


def test_both_networks_read_the_label():
    model = small_cvae()
    x, z = binary_images(1), torch.randn(1, 3)
    assert not torch.allclose(model.encode(x, torch.tensor([1]))[0], model.encode(x, torch.tensor([2]))[0])
    assert not torch.allclose(model.decode(z, torch.tensor([1])), model.decode(z, torch.tensor([2])))


def test_the_label_enters_as_a_one_hot_vector():
    """The decoder of (z, y) is the plain MLP applied to [z, one_hot(y)]: checked against a hand-built input."""
    model = small_cvae()
    z, y = torch.randn(4, 3), torch.tensor([0, 5, 9, 5])
    by_hand = model.decoder(torch.cat([z, nn.functional.one_hot(y, 10).float()], dim=-1))
    torch.testing.assert_close(model.decode(z, y), by_hand)


@pytest.mark.parametrize("labels, error, words", [
    (torch.tensor([0.0, 1.0]), TypeError, "whole class numbers"),
    (torch.tensor([0, 1, 2]), ValueError, "one label per image"),
    (torch.tensor([0, 10]), ValueError, "0..9"),
    (torch.tensor([-1, 3]), ValueError, "0..9"),
    ([0, 1], TypeError, "tensor"),
])
def test_wrong_labels_get_clear_errors(labels, error, words):
    model = small_cvae()
    with pytest.raises(error, match=words):
        model.encode(binary_images(2), labels)


def test_constructor_errors():
    with pytest.raises(ValueError, match="num_classes"):
        ConditionalVAE(2, num_classes=1)
    with pytest.raises(ValueError, match="activation"):
        ConditionalVAE(2, activation="sigmoid")
    with pytest.raises(ValueError, match="latent_dim"):
        ConditionalVAE(0)


def test_config_rebuilds_the_same_model():
    model = small_cvae(5, num_classes=4)
    rebuilt = build_model(model.config)
    assert isinstance(rebuilt, ConditionalVAE) and rebuilt.config == model.config
    rebuilt.load_state_dict(model.state_dict())
    x, y = binary_images(3), torch.tensor([0, 3, 2])
    torch.testing.assert_close(rebuilt.encode(x, y)[0], model.encode(x, y)[0])


# --- the conditional ELBO and L_k against references ------------------------------------------------------------


def test_conditional_elbo_terms_match_torch_distributions():
    model = small_cvae().double()
    x, y = binary_images(6).double(), torch.tensor([0, 1, 2, 3, 4, 5])
    reconstruction, kl = elbo_terms(model, x, 1, torch.Generator().manual_seed(3), labels=y)
    mu, logvar = model.encode(x, y)
    q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    expected_kl = torch.distributions.kl_divergence(q, torch.distributions.Normal(0.0, 1.0)).sum(-1)
    z = mu + (0.5 * logvar).exp() * torch.randn(1, *mu.shape, generator=torch.Generator().manual_seed(3), dtype=F64)
    expected_rec = torch.distributions.Bernoulli(logits=model.decode(z, y)).log_prob(x).sum(-1).mean(0)
    torch.testing.assert_close(kl, expected_kl)
    torch.testing.assert_close(reconstruction, expected_rec)


def test_iwae_bound_tends_to_the_exact_conditional_likelihood():
    """With a 1-D latent, log p(x|y) = log of the integral of p(x|z, y) N(z; 0, 1) dz, by the trapezoid rule on a
    fine grid in float64: the ELBO and L_1 lie below it, and L_5000 approaches it."""
    model = small_cvae(latent_dim=1, seed=4).double()
    with torch.no_grad():  # a decoder that depends on z strongly enough for the posterior to differ from the prior
        model.decoder[0].weight.mul_(4)
    x, y = binary_images(3, seed=1).double(), torch.tensor([2, 7, 7])
    grid = torch.linspace(-8, 8, 16001, dtype=F64)[:, None]
    exact = []
    with torch.no_grad():
        for i in range(3):
            log_joint = (torch.distributions.Bernoulli(logits=model.decode(grid, y[i].repeat(len(grid))))
                         .log_prob(x[i]).sum(-1) + torch.distributions.Normal(0.0, 1.0).log_prob(grid[:, 0]))
            peak = log_joint.max()
            exact.append(peak + torch.trapezoid((log_joint - peak).exp(), grid[:, 0]).log())
    exact = torch.stack(exact)
    generator = torch.Generator().manual_seed(0)
    l_1 = torch.stack([iwae_bound(model, x, 1, generator, labels=y) for _ in range(400)]).mean(0)
    l_5000 = iwae_bound(model, x, 5000, generator, labels=y)
    mean_elbo = torch.stack([elbo(model, x, 1, generator, labels=y) for _ in range(400)]).mean(0)
    assert torch.all(l_1 < exact - 0.05) and torch.all(mean_elbo < exact - 0.05)
    torch.testing.assert_close(l_5000, exact, atol=0.02, rtol=0)


def test_functions_refuse_missing_or_needless_labels():
    cvae, plain, x = small_cvae(), VAE(2, hidden=(8,)), binary_images(4)
    for call in (lambda: elbo(cvae, x), lambda: iwae_bound(cvae, x, 2), lambda: evaluate(cvae, x),
                 lambda: posterior_means_and_logvars(cvae, x)):
        with pytest.raises(ValueError, match="conditional VAE, which needs each image's label"):
            call()
    with pytest.raises(ValueError, match="not conditional"):
        elbo(plain, x, labels=torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="one label per image, 4 of them, got 3"):
        iwae_bound(cvae, x, 2, labels=torch.zeros(3, dtype=torch.long))


def test_evaluate_and_posterior_means_use_the_labels():
    model, x, y = small_cvae(), binary_images(5), torch.tensor([1, 2, 3, 4, 5])
    mu, _ = posterior_means_and_logvars(model, x, batch_size=2, labels=y)
    torch.testing.assert_close(mu, model.encode(x, y)[0])
    scores = evaluate(model, x, generator=torch.Generator().manual_seed(1), labels=y)
    rec, kl = elbo_terms(model, x, 1, torch.Generator().manual_seed(1), labels=y)
    assert scores["kl"] == pytest.approx(kl.mean().item(), rel=1e-5)
    assert scores["reconstruction"] == pytest.approx(rec.mean().item(), rel=1e-5)


# --- training ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mnist():
    x, y = load_mnist("train")
    x_test, y_test = load_mnist("test")
    return x, y, x_test, y_test


def test_fit_trains_a_conditional_vae_with_labels(mnist):
    x, y, x_test, y_test = mnist
    index = test_subset(3000, seed=5, size=len(x))
    torch.manual_seed(0)
    model = ConditionalVAE(4, hidden=(64,))
    history = fit(model, x[index], 3, test_x=x_test[:500], train_labels=y[index], test_labels=y_test[:500],
                  generator=torch.Generator().manual_seed(0), progress=False)
    assert history.test_elbo[-1] > history.test_elbo[0] + 5
    with pytest.raises(ValueError, match="needs each image's label"):
        fit(model, x[index], 1, progress=False)
    with pytest.raises(ValueError, match="test_labels were given without test_x"):
        fit(model, x[index], 1, train_labels=y[index], test_labels=y_test[:5], progress=False)
    with pytest.raises(ValueError, match="not conditional"):
        fit(VAE(2, hidden=(8,)), x[index], 1, train_labels=y[index], progress=False)


def test_fit_keeps_each_label_with_its_image():
    """Images whose label can be read off them (all ink for odd labels, blank paper for even ones; binarization
    keeps 0 and 1 as they are): every minibatch the model sees pairs each image with its own label."""
    y = torch.arange(300) % 10
    x = (y % 2).float()[:, None].expand(300, 784).contiguous()
    torch.manual_seed(0)
    model = ConditionalVAE(2, hidden=(8,))
    seen = []
    forward = model.forward

    def spy(xb, yb, **kwargs):
        seen.append((xb.detach().clone(), yb.clone()))
        return forward(xb, yb, **kwargs)

    model.forward = spy
    fit(model, x, 2, batch_size=32, train_labels=y, generator=torch.Generator().manual_seed(0), progress=False)
    assert len(seen) == 2 * math.ceil(300 / 32)
    for xb, yb in seen:
        torch.testing.assert_close(xb.mean(1), (yb % 2).float())
    assert not torch.equal(seen[0][1], y[:32])  # shuffled, not in the data set's order


# --- the helpers ------------------------------------------------------------------------------------------------


def test_style_transfer_decodes_the_posterior_mean_with_every_label():
    model, x = small_cvae(), binary_images(1)[0]
    row = style_transfer(model, x.reshape(28, 28), 6)
    mu, _ = model.encode(x[None], torch.tensor([6]))
    for c in range(10):
        torch.testing.assert_close(row[c], torch.sigmoid(model.decode(mu, torch.tensor([c])))[0].reshape(28, 28).detach())
    assert not row.requires_grad
    with pytest.raises(TypeError, match="conditional VAE"):
        style_transfer(VAE(2), x, 6)
    with pytest.raises(ValueError, match="0..9"):
        style_transfer(model, x, 12)


def test_samples_of_classes_draw_from_the_prior_with_the_labels():
    model, labels = small_cvae(), torch.tensor([3, 3, 8])
    images = samples_of_classes(model, labels, torch.Generator().manual_seed(2))
    z = torch.randn(3, 3, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(images, decode_with_labels(model, z, labels))
    assert images.shape == (3, 28, 28) and images.min() >= 0 and images.max() <= 1


def test_label_probe_matches_a_brute_force_vote_and_can_fail():
    g = torch.Generator().manual_seed(0)
    train_codes, test_codes = torch.randn(200, 3, generator=g), torch.randn(50, 3, generator=g)
    train_labels, test_labels = torch.randint(3, (200,), generator=g), torch.randint(3, (50,), generator=g)
    votes = []
    for code in test_codes:
        nearest = ((train_codes - code) ** 2).sum(1).argsort()[:5]
        votes.append(torch.bincount(train_labels[nearest], minlength=3).argmax())
    expected = (torch.stack(votes) == test_labels).double().mean().item()
    # ties (2-2-1) may break differently: allow one test code of difference
    assert abs(label_probe_accuracy(train_codes, train_labels, test_codes, test_labels) - expected) <= 1 / 50 + 1e-12
    # well-separated clusters: the vote reads every label; random labels: about chance
    centres = torch.eye(3) * 10
    clustered = label_probe_accuracy(centres[train_labels] + train_codes, train_labels,
                                     centres[test_labels] + test_codes, test_labels)
    assert clustered == 1.0 and expected < 0.6
    with pytest.raises(ValueError, match="same d"):
        label_probe_accuracy(train_codes, train_labels, test_codes[:, :2], test_labels)


def test_check_labels_accepts_int_tensors_only():
    assert check_labels(torch.tensor([1, 2], dtype=torch.int32), 2, 10).dtype == torch.int64
    with pytest.raises(TypeError):
        check_labels(torch.tensor([True, False]), 2, 10)


# --- the classifier and the shipped model's quality floor -------------------------------------------------------


def test_the_package_classifier_learns_mnist(mnist):
    x, y, x_test, y_test = mnist
    classifier = train_digit_classifier(x, y, epochs=1, seed=1)
    assert accuracy(classifier, x_test, y_test) > 0.93  # one epoch; a linear model reaches about 0.92
    assert predict_labels(classifier, x_test[:7]).shape == (7,)
    sure = confidence(classifier, x_test[:100])
    assert sure.shape == (100,) and sure.min() >= 0.1 - 1e-6 and sure.max() <= 1
    with pytest.raises(ValueError, match="intensities"):
        train_digit_classifier(x[:10] * 255, y[:10])
    assert isinstance(classifier, DigitClassifier)


def independent_classifier(x, y) -> nn.Module:
    """A classifier written here, not the package's: a different architecture (two hidden layers of 512), trained
    on real digits only, so that it judges the shipped CVAE without sharing its code."""
    torch.manual_seed(123)
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(123)
    for _ in range(3):
        for xb, yb in batches((x.reshape(len(x), 784), y), 128, generator=g):
            loss = nn.functional.cross_entropy(net(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return net.eval()


def test_shipped_cvae_draws_the_requested_class_nine_times_in_ten(mnist):
    """Issue 18's quality floor: samples of pretrained.load("mnist-cvae"), 200 per requested class, are recognised
    as that class at least 90% of the time by a classifier trained here on real digits."""
    x, y, x_test, y_test = mnist
    judge = independent_classifier(x, y)
    with torch.no_grad():
        assert (judge(x_test).argmax(1) == y_test).double().mean() > 0.97  # a judge worth trusting
        cvae = pretrained.load("mnist-cvae")
        asked = torch.arange(10).repeat_interleave(200)
        drawn = samples_of_classes(cvae, asked, torch.Generator().manual_seed(99))
        recognised = (judge(drawn).argmax(1) == asked).double()
    assert recognised.mean() >= 0.90, recognised.mean()
    assert min(recognised[asked == c].mean() for c in range(10)) >= 0.75


def test_shipped_cvae_records_its_recipe_and_a_conditional_likelihood():
    model, history, metadata = pretrained.load_with_info("mnist-cvae")
    assert isinstance(model, ConditionalVAE) and model.latent_dim == 16 and len(history) == 60
    assert metadata["recipe"]["labels"] and metadata["training_seconds"] <= 600  # rebuilt in <= 10 minutes
    test_bin = binarized_test_set(0)
    subset = test_subset(200, seed=3)
    _, y_test = load_mnist("test")
    right = elbo(model, test_bin[subset], 1, torch.Generator().manual_seed(0), labels=y_test[subset]).mean()
    wrong = elbo(model, test_bin[subset], 1, torch.Generator().manual_seed(0), labels=(y_test[subset] + 1) % 10).mean()
    assert right > wrong + 20  # the model uses the label: the wrong one costs many nats
