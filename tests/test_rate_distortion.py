"""Notebook 07's β and rate–distortion tools and its two widgets: rate and distortion against closed forms and
torch.distributions, the collapsed point against an exact computation, a β sweep that behaves as the theory says,
and the conditional and β explorers driven from Python (each image the exact decoding they claim; wrong input
explained, not raised)."""

import io
import threading

import matplotlib.image
import numpy as np
import pytest
import torch

from vae_lesson.data import load_mnist, test_subset
from vae_lesson.elbo import elbo_terms
from vae_lesson.evaluation import RateDistortion, rate_distortion, rate_distortion_table
from vae_lesson.models import VAE, ConditionalVAE
from vae_lesson.rate_distortion import collapsed_point, plot_rate_distortion, train_beta_sweep
from vae_lesson.widgets import BetaExplorer, ConditionalExplorer
from vae_lesson.widgets.rendering import png_size

F64 = torch.float64


def binary_images(n, seed=0, p=0.3):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, 784, generator=g) < p).float()


def png_pixels(png: bytes) -> np.ndarray:
    return matplotlib.image.imread(io.BytesIO(png), format="png")


# --- rate and distortion ----------------------------------------------------------------------------------------


def test_rate_and_distortion_match_torch_distributions():
    torch.manual_seed(0)
    model = VAE(3, hidden=(16,)).double().eval()
    x = binary_images(7).double()
    point = rate_distortion(model, x, num_samples=4, generator=torch.Generator().manual_seed(5), batch_size=3)
    # the same draws, batch by batch, computed from torch.distributions
    g = torch.Generator().manual_seed(5)
    rates, distortions = [], []
    for xb in x.split(3):
        mu, logvar = model.encode(xb)
        q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
        rates.append(torch.distributions.kl_divergence(q, torch.distributions.Normal(0.0, 1.0)).sum(-1))
        z = mu + (0.5 * logvar).exp() * torch.randn(4, *mu.shape, generator=g, dtype=F64)
        log_p = torch.distributions.Bernoulli(logits=model.decode(z)).log_prob(xb).sum(-1).mean(0)
        distortions.append(-log_p)
    assert point.rate == pytest.approx(torch.cat(rates).mean().item(), rel=1e-10)
    assert point.distortion == pytest.approx(torch.cat(distortions).mean().item(), rel=1e-10)
    assert point.elbo == pytest.approx(-(point.rate + point.distortion))
    assert point.rate > 0 and point.distortion > 0


def test_rate_distortion_of_a_conditional_model_needs_labels_and_uses_them():
    torch.manual_seed(1)
    model = ConditionalVAE(2, hidden=(16,)).eval()
    x, y = binary_images(5), torch.tensor([0, 1, 2, 3, 4])
    point = rate_distortion(model, x, labels=y, generator=torch.Generator().manual_seed(0))
    rec, kl = elbo_terms(model, x, 1, torch.Generator().manual_seed(0), labels=y)
    assert point == pytest.approx((kl.mean().item(), -rec.mean().item()), rel=1e-5)
    with pytest.raises(ValueError, match="label"):
        rate_distortion(model, x)
    table = rate_distortion_table({"cvae": model, "plain": VAE(2, hidden=(8,))}, x, labels=y)
    assert set(table) == {"cvae", "plain"} and all(isinstance(p, RateDistortion) for p in table.values())
    assert table["cvae"] == pytest.approx(point, rel=1e-5)  # seeded with the same seed, 0


def test_rate_distortion_refuses_grey_images_and_bad_sample_counts():
    model = VAE(2, hidden=(8,))
    with pytest.raises(ValueError, match="binar"):
        rate_distortion(model, torch.full((2, 784), 0.5))
    with pytest.raises(ValueError, match="num_samples"):
        rate_distortion(model, binary_images(2), num_samples=0)


def test_collapsed_point_is_the_best_decoder_that_ignores_z():
    x_train = torch.rand(50, 784, generator=torch.Generator().manual_seed(2))
    x_eval = binary_images(20, seed=3)
    point = collapsed_point(x_train, x_eval)
    p = x_train.double().mean(0).clamp(1e-3, 1 - 1e-3)
    expected = -torch.distributions.Bernoulli(probs=p).log_prob(x_eval.double()).sum(-1).mean()
    assert point.rate == 0 and point.distortion == pytest.approx(expected.item(), rel=1e-12)
    # any other pixel probabilities do worse on the training images themselves (the mean is the best constant)
    x_bin = binary_images(40, seed=4)
    best = collapsed_point(x_bin, x_bin, clip=1e-6).distortion
    other = -torch.distributions.Bernoulli(probs=(x_bin.double().mean(0) * 0.9 + 0.05)).log_prob(x_bin.double())
    assert best < other.sum(-1).mean().item()


# --- a beta sweep -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sweep():
    x, _ = load_mnist("train")
    x_test, _ = load_mnist("test")
    x_train = x[test_subset(3000, seed=4, size=len(x))]
    x_eval = (x_test[test_subset(300, seed=5)] > 0.5).float()
    return train_beta_sweep([0.3, 1.0, 8.0], x_train, x_eval, epochs=3, latent_dim=8, test_x=x_eval), x_eval


def test_a_larger_beta_buys_a_smaller_rate_with_a_larger_distortion(sweep):
    runs, _ = sweep
    rates = [run.point.rate for run in runs]
    distortions = [run.point.distortion for run in runs]
    assert rates[0] > rates[1] > rates[2] and distortions[0] < distortions[1] < distortions[2]
    assert len(runs[1].history) == 3 and runs[1].reconstructions.shape == runs[1].samples.shape == (8, 28, 28)


def test_the_sweep_starts_every_beta_from_the_same_weights_and_leaves_the_global_seed_alone():
    x = torch.rand(64, 784, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    runs = train_beta_sweep([1.0, 1.0, 2.0], x, (x > 0.5).float(), epochs=1, latent_dim=2, hidden=(8,), lr_final=None)
    assert torch.rand(1) == before  # fork_rng: the notebook's random state is untouched
    same, other = (run.model.state_dict() for run in runs[:2]), runs[2].model.state_dict()
    first, second = same
    assert all(torch.equal(first[k], second[k]) for k in first)  # same beta, same start, same draws: same model
    assert not all(torch.equal(first[k], other[k]) for k in first)
    with pytest.raises(ValueError, match="positive"):
        train_beta_sweep([0.0], x, x, epochs=1)


def test_plot_rate_distortion_draws_every_point_and_line():
    from matplotlib.figure import Figure

    ax = Figure().add_subplot()
    points = {"a": RateDistortion(10.0, 90.0), "b": RateDistortion(2.0, 150.0)}
    plot_rate_distortion(points, ax, elbo_levels=[100, 160], highlight="a",
                         paths={"run": [RateDistortion(20.0, 120.0), RateDistortion(10.0, 95.0)]})
    texts = [t.get_text() for t in ax.texts]
    assert {"a", "b", "D+R=100", "D+R=160", "epoch 1"} <= set(texts)
    assert ax.get_xlim()[0] == 0 and ax.get_ylim()[0] == 0 and ax.get_ylim()[1] >= 20
    lines = [line for line in ax.lines if line.get_linestyle() == "--"]
    for line, level in zip(lines, [100, 160]):
        xs, ys = line.get_data()
        assert np.allclose(np.asarray(xs) + np.asarray(ys), level)  # D + R = level along the whole line


# --- the beta explorer ------------------------------------------------------------------------------------------


def test_beta_explorer_shows_the_chosen_models_pictures(sweep):
    runs, x_eval = sweep
    explorer = BetaExplorer(runs, x_eval[:8].reshape(-1, 28, 28).numpy(), elbo_levels=[150])
    assert explorer.beta == 0.3
    pictures = []
    for run in runs:
        explorer.select(run.beta)
        images = explorer.current_images()
        assert np.array_equal(images["reconstructions"], run.reconstructions.numpy())
        assert np.array_equal(images["samples"], run.samples.numpy())
        assert explorer.current_image().shape == (24, 28, 28)
        assert f"β = {run.beta:g}" in explorer.caption.value
        pictures.append(explorer.plane_image.value)
        assert png_size(explorer.digits_image.value)[0] > png_size(explorer.digits_image.value)[1]
    assert len(set(pictures)) == 3  # the ring moves with the slider
    explorer.slider.value = 8.0  # as the browser moves it
    assert explorer.run is runs[2]
    with pytest.raises(ValueError, match="no model was trained with beta = 2"):
        explorer.select(2.0)
    with pytest.raises(ValueError, match="increasing"):
        BetaExplorer(runs[::-1], x_eval[:8].reshape(-1, 28, 28).numpy())


# --- the conditional explorer -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cvae_and_data():
    torch.manual_seed(0)
    model = ConditionalVAE(5, hidden=(32,)).eval()
    x, y = load_mnist("test")
    return model, x[:200], y[:200]


def decoded(model, z, label):
    with torch.no_grad():
        return torch.sigmoid(model.decode(z[None], torch.tensor([label])))[0].reshape(28, 28).numpy()


def test_conditional_explorer_draws_the_requested_class_and_style(cvae_and_data):
    model, x, y = cvae_and_data
    explorer = ConditionalExplorer(model, x, y, label=3, num_sliders=2)
    assert explorer.label == 3 and len(explorer.sliders) == 2 and torch.equal(explorer.z, torch.zeros(5))
    np.testing.assert_allclose(explorer.current_image(), decoded(model, torch.zeros(5), 3), atol=1e-6)
    explorer.set_sliders([1.234, -0.5])
    z = explorer.z
    assert z[explorer.dims].tolist() == pytest.approx([1.23, -0.5])
    for label in (0, 9):
        explorer.set_label(label)
        np.testing.assert_allclose(explorer.current_image(), decoded(model, z, label), atol=1e-6)
    row = explorer.current_images()["all_classes"]
    assert row.shape == (10, 28, 28)
    for c in range(10):
        np.testing.assert_allclose(row[c], decoded(model, z, c), atol=1e-6)
    # what the browser shows is the current image, at the widget's scale
    assert png_size(explorer.image.value) == (28 * 6, 28 * 6)


def test_conditional_explorer_takes_a_test_digits_style(cvae_and_data):
    model, x, y = cvae_and_data
    explorer = ConditionalExplorer(model, x, y, num_sliders=5, slider_limit=10.0)
    explorer.index_box.value = "17"  # as a student types it
    mu, _ = model.encode(x[17].reshape(1, 784), y[17:18])
    assert explorer.z.tolist() == pytest.approx(mu[0].tolist(), abs=0.005 + 1e-6)  # rounded to the step
    assert "test image 17" in explorer.message and f"a {int(y[17])}" in explorer.message
    explorer.index_box.value = "200"  # out of range: explained in the widget, not raised
    assert "outside" in explorer.message and "⚠" in explorer.messages.html.value
    explorer.index_box.value = "seven"
    assert "not a whole number" in explorer.message


def test_conditional_explorer_errors(cvae_and_data):
    model, x, y = cvae_and_data
    with pytest.raises(TypeError, match="ConditionalVAE"):
        ConditionalExplorer(VAE(2), x, y)
    with pytest.raises(ValueError, match="label must be a class number"):
        ConditionalExplorer(model, x, y, label=10)
    with pytest.raises(ValueError, match="num_sliders"):
        ConditionalExplorer(model, x, y, num_sliders=6)
    with pytest.raises(ValueError, match="labels"):
        ConditionalExplorer(model, x, None)
    explorer = ConditionalExplorer(model, x, y, num_sliders=2)
    with pytest.raises(ValueError, match="outside the sliders' range"):
        explorer.set_sliders([4.0, 0.0])
    with pytest.raises(ValueError, match="one per slider"):
        explorer.set_sliders([0.0])


def test_conditional_explorer_survives_two_threads(cvae_and_data):
    """ipykernel 7 runs the browser's messages on another thread while a cell runs: the image always shows the
    decoding of the state it was drawn for."""
    model, x, y = cvae_and_data
    explorer = ConditionalExplorer(model, x, y, num_sliders=2)
    errors = []

    def move(values):
        try:
            for k in range(30):
                explorer.set_sliders([values[k % 2], -values[k % 2]])
                explorer.set_label(k % 10)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=move, args=([0.5, 1.5],)), threading.Thread(target=move, args=([-1.0, 2.0],))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    np.testing.assert_allclose(explorer.current_image(), decoded(model, explorer.z, explorer.label), atol=1e-6)
    shown = png_pixels(explorer.image.value)
    assert shown.shape[:2] == (168, 168)
