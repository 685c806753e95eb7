"""The picture every widget carries for viewers without a kernel (GitHub, nbviewer, the website): its images pixel
for pixel, its controls' values, a caption that says to run the notebook; the live widget stays in the same output,
and every widget output stored in the notebooks carries its picture."""

from __future__ import annotations

import base64
import io

import ipywidgets as widgets
import matplotlib.image as mpimg
import nbformat
import numpy as np
import pytest
import torch

from vae_lesson.classroom import course_notebooks
from vae_lesson.data import load_mnist
from vae_lesson.linear_gaussian import LinearGaussianModel
from vae_lesson.models import VAE, ConditionalVAE
from vae_lesson.plots import png_bytes
from vae_lesson.rate_distortion import train_beta_sweep
from vae_lesson.widgets import (BetaExplorer, ConditionalExplorer, DigitEncoder, ElboExplorer, Interpolator,
                                LatentExplorer)
from vae_lesson.widgets.snapshot import GAP, LINE, MARGIN, widget_parts, widget_snapshot

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
FIRST_IMAGE_TOP = MARGIN + LINE + GAP // 2  # where widget_snapshot puts the top of the first row of images


def decode(png: bytes) -> np.ndarray:
    """PNG bytes as uint8 RGB pixels."""
    pixels = mpimg.imread(io.BytesIO(png), format="png")
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[:, :, None], 3, axis=2)
    return np.round(pixels[:, :, :3] * 255).astype(np.uint8)


def first_image_in(picture: np.ndarray, image: np.ndarray) -> np.ndarray:
    height, width = image.shape[:2]
    return picture[FIRST_IMAGE_TOP:FIRST_IMAGE_TOP + height, MARGIN:MARGIN + width]


def test_the_picture_holds_the_widgets_images_pixel_for_pixel_and_its_values():
    rng = np.random.default_rng(0)
    first = rng.integers(0, 256, size=(37, 53, 3), dtype=np.uint8)
    second = rng.integers(0, 256, size=(20, 30), dtype=np.uint8)  # grey, as the digits are
    widget = widgets.VBox([
        widgets.FloatSlider(value=0.25, description="z[0]"),
        widgets.HBox([widgets.Image(value=png_bytes(first)), widgets.Image(value=png_bytes(second))]),
        widgets.ToggleButtons(options=[("zero", 0), ("one", 1)], value=1, description="class"),
        widgets.HTML("a <b>message</b> &amp; more"),
        widgets.Image(value=b""),  # not drawn yet: left out
    ])
    images, controls, texts = widget_parts(widget)
    assert [image.shape[:2] for image in images] == [(37, 53), (20, 30)]
    assert controls == ["z[0] = 0.25", "class = one"] and texts == ["a message & more"]
    picture = decode(widget_snapshot(widget))
    np.testing.assert_array_equal(first_image_in(picture, first), first)  # at its own size: no resampling
    left = MARGIN + first.shape[1] + GAP
    np.testing.assert_array_equal(picture[FIRST_IMAGE_TOP:FIRST_IMAGE_TOP + 20, left:left + 30],
                                  np.repeat(second[:, :, None], 3, axis=2))
    assert (picture[:MARGIN] == 255).all(), "a white margin above the caption"
    caption = picture[MARGIN:FIRST_IMAGE_TOP - GAP // 2]
    assert (caption < 128).any(), "the caption is drawn"
    below = picture[FIRST_IMAGE_TOP + first.shape[0] + GAP:]
    assert (below < 128).any(), "the controls' values and the message are drawn under the images"


def test_wide_rows_wrap_and_an_empty_widget_still_gets_its_caption():
    wide = [widgets.Image(value=png_bytes(np.zeros((10, 600), np.uint8))) for _ in range(2)]
    picture = decode(widget_snapshot(widgets.HBox(wide)))
    assert picture.shape[1] == 600 + 2 * MARGIN, "two 600-pixel images do not fit one row: they wrap"
    assert (first_image_in(picture, np.zeros((10, 600))) == 0).all()
    empty = decode(widget_snapshot(widgets.VBox([])))
    assert empty.shape[0] >= MARGIN + LINE and (empty < 128).any()


@pytest.fixture(scope="module")
def explorers():
    """One of each of the course's explorers, on small untrained models."""
    x, y = load_mnist("test")
    x, y = x[:200], y[:200]
    torch.manual_seed(0)
    vae_2d, vae_5d = VAE(2, hidden=(16,)).eval(), VAE(5, hidden=(16,)).eval()
    cvae = ConditionalVAE(4, hidden=(16,)).eval()
    g = torch.Generator().manual_seed(0)
    linear = LinearGaussianModel.random(2, 1, noise_std=0.8, generator=g)
    binary = (x > 0.5).float()
    runs = train_beta_sweep([0.5, 2.0], x[:64], binary[:32], epochs=1, latent_dim=2, hidden=(8,), lr_final=None)
    return [
        ElboExplorer(linear, linear.sample(1, generator=g)[0]),
        LatentExplorer(vae_2d, x, y),
        LatentExplorer(vae_5d, x, y),
        DigitEncoder(vae_2d, x, y, num_samples=4),
        Interpolator(vae_5d, x[0], x[1], images=x),
        ConditionalExplorer(cvae, x, y),
        BetaExplorer(runs, binary[:4].reshape(-1, 28, 28).numpy()),
    ]


def test_every_explorer_displays_the_live_widget_with_its_picture(explorers):
    for explorer in explorers:
        name = type(explorer).__name__
        bundle = explorer._repr_mimebundle_()
        assert bundle[WIDGET_MIME]["model_id"] == explorer.widget.model_id, name  # the live widget, unchanged
        assert bundle["text/plain"].startswith(f"{name}: an interactive widget. Run the notebook to ")
        picture = decode(base64.b64decode(bundle["image/png"]))
        images, _, _ = widget_parts(explorer.widget)
        first = np.round(images[0][:, :, :3] * 255).astype(np.uint8)
        np.testing.assert_array_equal(first_image_in(picture, first), first, err_msg=name)


def test_the_picture_follows_the_widgets_state(explorers):
    explorer = explorers[1]  # the 2-D LatentExplorer
    before = explorer._repr_mimebundle_()["image/png"]
    explorer.set_sliders([1.5, -1.5])
    after = explorer._repr_mimebundle_()["image/png"]
    assert before != after
    assert widget_parts(explorer.widget)[1] == ["z[0] = 1.5", "z[1] = -1.5"]


def test_every_stored_widget_output_carries_its_picture():
    """Notebooks 01, 04 and 07 show seven widgets; each stored output has the picture and the text line too, so
    that GitHub, nbviewer and the website show the explorer where the live widget would be."""
    found = 0
    for path in course_notebooks():
        for cell in nbformat.read(path, as_version=4).cells:
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                if WIDGET_MIME in data:
                    found += 1
                    png = base64.b64decode(data.get("image/png", ""))
                    assert png[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name}, cell {cell.id}: no picture"
                    assert decode(png).shape[0] > 100, f"{path.name}, cell {cell.id}: the picture is empty"
                    assert "Run the notebook" in data["text/plain"], f"{path.name}, cell {cell.id}"
    assert found >= 7


def test_nbconvert_shows_the_picture_where_the_widget_would_be():
    """nbviewer and GitHub-like viewers render a notebook through nbconvert without widget state: each widget output
    of notebook 04 must come out as its picture."""
    from nbconvert import HTMLExporter

    path = next(p for p in course_notebooks() if p.name == "04_latent_explorer.ipynb")
    nb = nbformat.read(path, as_version=4)
    pictures = [output.data["image/png"] for cell in nb.cells for output in cell.get("outputs", [])
                if WIDGET_MIME in output.get("data", {})]
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    assert len(pictures) == 4
    for picture in pictures:
        assert f'src="data:image/png;base64,{picture.strip()}' in body.replace("\n", "")
