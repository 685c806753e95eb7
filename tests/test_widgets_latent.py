"""Notebook 04's widgets, driven from Python as the notebook's sliders and boxes would drive them: each image
shown must be the exact decoding of the code the widget claims, and wrong input gives a message, not an error."""

import io

import matplotlib.image
import numpy as np
import pytest
import torch

from vae_lesson.data import load_mnist
from vae_lesson.models import VAE
from vae_lesson.plots import digit_pixels, png_bytes
from vae_lesson.widgets import DigitEncoder, Interpolator, LatentExplorer


def decoded(model, z):
    with torch.no_grad():
        return torch.sigmoid(model.decode(torch.as_tensor(z, dtype=torch.float32).reshape(1, -1))).reshape(28, 28)


@pytest.fixture(scope="module")
def data():
    x, y = load_mnist("test")
    return x[:300], y[:300]


@pytest.fixture(scope="module")
def model_2d():
    torch.manual_seed(0)
    return VAE(2, hidden=(32,), activation="relu").eval()


@pytest.fixture(scope="module")
def model_5d():
    torch.manual_seed(1)
    return VAE(5, hidden=(32,), activation="relu").eval()


def test_png_bytes_round_trip():
    g = np.random.default_rng(0)
    for pixels in [g.integers(0, 256, (7, 5), dtype=np.uint8), g.integers(0, 256, (4, 6, 3), dtype=np.uint8)]:
        decoded_png = matplotlib.image.imread(io.BytesIO(png_bytes(pixels)), format="png")
        assert np.array_equal(np.rint(decoded_png * 255).astype(np.uint8), pixels)
    with pytest.raises(ValueError, match="uint8"):
        png_bytes(np.zeros((3, 3)))


def test_digit_pixels_draws_dark_ink_on_white_enlarged():
    image = np.zeros((28, 28), np.float32)
    image[0, 0] = 1.0
    pixels = digit_pixels(image, scale=3)
    assert pixels.shape == (84, 84) and pixels[0, 0] == 0 and pixels[2, 2] == 0 and pixels[3, 3] == 255
    assert digit_pixels(np.zeros((4, 28, 28)), scale=2, gap=1).shape == (56, 4 * 56 + 3)


def test_digit_pixels_in_rows_keeps_each_image_in_its_place():
    images = np.random.default_rng(0).random((7, 28, 28)).astype(np.float32)
    grid = digit_pixels(images, scale=2, gap=1, columns=3)  # 3 rows of 3, the last two frames white paper
    assert grid.shape == (3 * 56 + 2, 3 * 56 + 2)
    for k in range(9):
        row, column = divmod(k, 3)
        frame = grid[row * 57:row * 57 + 56, column * 57:column * 57 + 56]
        expected = digit_pixels(images[k], scale=2) if k < 7 else np.full((56, 56), 255, np.uint8)
        assert np.array_equal(frame, expected), k
    assert (grid[56, :] == 255).all() and (grid[:, 56] == 255).all()  # white lines between rows and columns
    assert np.array_equal(digit_pixels(images[:3], columns=3), digit_pixels(images[:3]))  # one row: as before


def test_explorer_shows_the_decoding_of_the_sliders_z(model_2d, data):
    explorer = LatentExplorer(model_2d, *data)
    assert len(explorer.sliders) == 2 and explorer.dims == [0, 1]
    for values in [(0.0, 0.0), (1.25, -2.0), (-3.0, 3.0)]:
        explorer.sliders[0].value, explorer.sliders[1].value = values
        assert torch.equal(explorer.z, torch.tensor(values))
        shown = explorer.current_images()
        assert list(shown) == ["decoded"] and shown["decoded"].dtype == np.float32
        assert np.array_equal(shown["decoded"], decoded(model_2d, values).numpy())
    before = explorer.scatter_image.value
    explorer.sliders[0].value = 0.5
    assert explorer.scatter_image.value != before  # the marker moved


def test_explorer_for_a_larger_latent_holds_the_other_dimensions_at_the_reference(model_5d, data):
    explorer = LatentExplorer(model_5d, *data, reference_index=3, num_sliders=2)
    assert len(explorer.sliders) == 2 and explorer.scatter is None
    with torch.no_grad():
        reference = model_5d.encode(data[0][3].reshape(1, 784))[0][0]
    explorer.set_sliders([0.7, -0.4])
    expected = reference.clone()
    expected[explorer.dims] = torch.tensor([0.7, -0.4])
    assert torch.allclose(explorer.z, expected)
    assert np.array_equal(explorer.current_images()["decoded"], decoded(model_5d, explorer.z).numpy())


@pytest.mark.parametrize(
    "box, text, expected",
    [
        ("index_box", "300", "outside the 300 test images"),
        ("index_box", "-1", "outside the 300 test images"),
        ("index_box", "seven", "not a whole number"),
        ("z_box", "1.0", "you typed 1 number"),
        ("z_box", "1, 2, 3", "you typed 3 numbers"),
        ("z_box", "0.5, x", "'x' is not a number"),
        ("z_box", "0.5, 12", "outside the sliders' range"),
        ("z_box", "nan, 0", "nan is not a finite number"),
        ("z_box", "1e400, 0", "1e400 is not a finite number"),
        ("z_box", "0, -inf", "-inf is not a finite number"),
    ],
)
def test_explorer_explains_bad_input_and_keeps_working(model_2d, data, box, text, expected):
    explorer = LatentExplorer(model_2d, *data)
    image = explorer.current_images()["decoded"]
    getattr(explorer, box).value = text  # as if typed: the observer runs, nothing raises
    assert expected in explorer.message and explorer.messages.html.value.count("⚠") == 1
    assert np.array_equal(explorer.current_images()["decoded"], image)
    explorer.z_box.value = "1, 1"  # still responsive
    assert np.array_equal(explorer.current_images()["decoded"], decoded(model_2d, (1.0, 1.0)).numpy())


def test_explorer_rejects_wrong_arguments(model_2d, data):
    with pytest.raises(ValueError, match="num_sliders"):
        LatentExplorer(model_2d, *data, num_sliders=3)
    with pytest.raises(TypeError, match="vae_lesson.models.VAE"):
        LatentExplorer(torch.nn.Linear(2, 2), *data)
    explorer = LatentExplorer(model_2d, *data)
    with pytest.raises(ValueError, match="outside the sliders' range"):
        explorer.set_sliders([0.0, 9.0])


def test_interpolator_ends_at_the_decodings_of_the_posterior_means(model_5d, data):
    x = data[0]
    interpolator = Interpolator(model_5d, x[0], x[1], steps=5)
    with torch.no_grad():
        mu = model_5d.encode(x[:2].reshape(2, 784))[0]
    for mode in ["linear", "spherical"]:
        interpolator.mode.value = mode
        strip = interpolator.current_images()["strip"]
        assert strip.shape == (5, 28, 28) and strip.dtype == np.float32
        for t, end in [(0.0, 0), (1.0, 1)]:
            interpolator.t.value = t
            shown = interpolator.current_images()
            assert np.allclose(shown["decoded"], decoded(model_5d, mu[end]).numpy(), atol=1e-6)
            assert np.array_equal(shown["strip"], strip)  # moving t redraws the image at t, not the strip
            assert np.allclose(strip[-end], decoded(model_5d, mu[end]).numpy(), atol=1e-6)
    interpolator.mode.value = "linear"
    interpolator.t.value = 0.25
    expected = decoded(model_5d, 0.75 * mu[0] + 0.25 * mu[1]).numpy()
    assert np.array_equal(interpolator.current_images()["decoded"], expected)


def test_interpolator_inputs(model_5d, data):
    x = data[0]
    with pytest.raises(ValueError, match="784 pixels"):
        Interpolator(model_5d, x[0, :10], x[1])
    interpolator = Interpolator(model_5d, x[0], x[1], images=x)
    interpolator.index_a.value, interpolator.index_b.value = "2", "999"
    assert "outside the 300 test images" in interpolator.message
    interpolator.index_b.value = "4"
    with torch.no_grad():
        mu = model_5d.encode(x[[2, 4]].reshape(2, 784))[0]
    assert torch.allclose(interpolator.z_a, mu[0]) and torch.allclose(interpolator.z_b, mu[1])


def test_digit_encoder_shows_the_image_its_reconstruction_and_posterior_samples(model_2d, data):
    x, y = data
    encoder = DigitEncoder(model_2d, x, y, index=5, num_samples=4)
    shown = encoder.current_images()
    with torch.no_grad():
        mu, logvar = model_2d.encode(x[5].reshape(1, 784))
    assert np.array_equal(shown["input"], x[5].numpy())
    assert np.allclose(shown["reconstruction"], decoded(model_2d, mu).numpy(), atol=1e-6)
    assert torch.allclose(encoder.posterior[1], (0.5 * logvar[0]).exp())
    assert sorted(shown) == ["input", "reconstruction", "samples"]
    assert all(image.dtype == np.float32 for image in shown.values())
    assert shown["samples"].shape == (0, 28, 28)
    encoder.draw_samples()
    samples = encoder.current_images()["samples"]
    assert samples.shape == (4, 28, 28)
    for z, image in zip(encoder.sample_codes, samples):
        assert np.allclose(image, decoded(model_2d, z).numpy(), atol=1e-6)
    assert len(set(map(bytes, samples))) == 4  # four different draws


def test_digit_encoder_random_digit_and_bad_input(model_2d, data):
    x, y = data
    encoder = DigitEncoder(model_2d, x, y)
    for label in [7, 1, 7]:
        encoder.select_random(label)
        assert int(y[encoder.index]) == label
    index = encoder.index
    encoder.index_box.value = "12x"
    assert "not a whole number" in encoder.message and encoder.index == index
    no_fives = DigitEncoder(model_2d, x[y != 5], y[y != 5])
    no_fives.digit.value = 5
    no_fives.random_button.click()
    assert "no test image labelled 5" in no_fives.message


def test_digit_encoder_samples_come_from_its_generator(model_2d, data):
    x, y = data
    encoder = DigitEncoder(model_2d, x, y, index=5, num_samples=4, generator=torch.Generator().manual_seed(11))
    encoder.draw_samples()
    with torch.no_grad():
        mu, logvar = model_2d.encode(x[5].reshape(1, 784))
    eps = torch.randn(4, 2, generator=torch.Generator().manual_seed(11))  # z = mu + sigma * eps, eps ~ N(0, I)
    assert np.allclose(encoder.sample_codes, (mu + (0.5 * logvar).exp() * eps).numpy(), atol=1e-6)
    # without a generator the widget is reproducible: it makes its own, seeded with 0
    default = DigitEncoder(model_2d, x, y)
    seeded = DigitEncoder(model_2d, x, y, generator=torch.Generator().manual_seed(0))
    for encoder in (default, seeded):
        encoder.select_random(3)
        encoder.draw_samples()
    assert default.index == seeded.index and np.array_equal(default.sample_codes, seeded.sample_codes)


def test_values_set_from_code_land_on_the_sliders_steps(model_5d, data):
    # the browser rounds a slider's value to its step and sends it back: set from code, it must already be there
    explorer = LatentExplorer(model_5d, *data, reference_index=3, num_sliders=3)
    for values in [None, (0.123456, -1.98765, 2.9999)]:
        if values is not None:
            explorer.set_sliders(values)
        for slider in explorer.sliders:
            steps = (slider.value - slider.min) / slider.step
            assert abs(steps - round(steps)) < 1e-9 and slider.value == round(slider.value, 2)
        z, image = explorer.z.clone(), explorer.current_images()["decoded"]
        for slider in explorer.sliders:  # what the browser sends back changes nothing
            slider.value = slider.min + round((slider.value - slider.min) / slider.step) * slider.step
        assert torch.equal(explorer.z, z) and np.array_equal(explorer.current_images()["decoded"], image)
    assert explorer.z[explorer.dims].tolist() == pytest.approx([0.12, -1.99, 3.0])
    explorer.set_reference(3)
    assert torch.allclose(explorer.z[explorer.dims], explorer.mu[3][explorer.dims], atol=0.005 + 1e-6)
