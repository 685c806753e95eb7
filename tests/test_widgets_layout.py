"""How the widgets look in JupyterLab, checked headlessly: every image is laid out at its PNG's own size (a row
(HBox) would otherwise stretch it to the row's height), and what a student sees agrees with the widget's state."""

import io
import struct

import ipywidgets as widgets
import matplotlib.image
import numpy as np
import torch

from vae_lesson.linear_gaussian import LinearGaussianModel
from vae_lesson.widgets import DigitEncoder, ElboExplorer, Interpolator, LatentExplorer, LatentScatter

# the fixtures of the latent-space widget tests: a small test set and small untrained VAEs
from test_widgets_latent import data, model_2d, model_5d  # noqa: F401


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) from the PNG's IHDR chunk, read here independently of the package."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    return struct.unpack(">II", png[16:24])


def images_in(widget: widgets.Widget) -> list[widgets.Image]:
    """Every Image in a widget's tree."""
    if isinstance(widget, widgets.Image):
        return [widget]
    return [image for child in getattr(widget, "children", ()) for image in images_in(child)]


def rows_holding_images(widget: widgets.Widget) -> list[widgets.Box]:
    """Every HBox with an Image among its descendants."""
    rows = [widget] if isinstance(widget, widgets.HBox) and images_in(widget) else []
    return rows + [row for child in getattr(widget, "children", ()) for row in rows_holding_images(child)]


def assert_natural_size(widget: widgets.Widget) -> None:
    images = images_in(widget)
    assert images
    for image in images:
        width, height = png_size(image.value)
        assert (image.layout.width, image.layout.height) == (f"{width}px", f"{height}px")
        assert image.layout.object_fit == "contain"
    for row in rows_holding_images(widget):
        # not stretched to the row's height, and wrapped instead of squeezed in a narrow notebook
        assert row.layout.align_items == "flex-start" and row.layout.flex_flow == "row wrap"


def test_every_image_of_every_widget_keeps_its_pngs_size(model_2d, model_5d, data):
    g = torch.Generator().manual_seed(3)
    linear = LinearGaussianModel.random(2, 1, noise_std=0.8, generator=g)
    elbo = ElboExplorer(linear, linear.sample(1, generator=g)[0])
    assert_natural_size(elbo.widget)
    for model in (model_2d, model_5d):
        explorer = LatentExplorer(model, *data)
        assert_natural_size(explorer.widget)
        explorer.set_sliders([0.5] * len(explorer.sliders))
        assert_natural_size(explorer.widget)
    encoder = DigitEncoder(model_2d, *data, num_samples=4)
    assert_natural_size(encoder.widget)
    encoder.draw_samples()
    assert_natural_size(encoder.widget)
    interpolator = Interpolator(model_5d, data[0][0], data[0][1], images=data[0])
    interpolator.t.value = 0.5
    assert_natural_size(interpolator.widget)


def test_digit_encoder_axes_show_every_code_and_its_marker_leaves_the_ellipse_visible(model_2d, data):
    x, y = data
    encoder = DigitEncoder(model_2d, x, y)
    assert encoder.scatter.limit >= 4 and encoder.mu.abs().max() <= encoder.scatter.limit
    assert encoder.scatter.marker.get_marker() == "+" and encoder.scatter.ellipse.get_edgecolor()[:3] != (0, 0, 0)
    # a code outside +-4 (MNIST's test set has 17 with the course's 2-D model, out to -4.43): the axes grow to it
    means = torch.tensor([[-4.43, 0.2], [1.0, 3.9], [0.0, 0.0]])
    scatter = LatentScatter(means, torch.tensor([0, 1, 2]), limit=None, marker="crosshair")
    assert scatter.limit == 5
    assert scatter.render((-4.43, 0.2)) != scatter.render((4.9, 4.9))  # both drawn, in different places
    # the zoom beside the scatter: a window of 3 sigma, where the 2-sigma ellipse (red) and the samples show
    encoder.draw_samples()
    rgb = matplotlib.image.imread(io.BytesIO(encoder.zoom_image.value), format="png")[..., :3]
    red = np.all(np.abs(rgb - np.array([214, 39, 40]) / 255) < 0.01, axis=2)
    size = rgb.shape[0]
    rows, columns = np.nonzero(red)  # the ellipse spans 2/3 of the window along the wider axis
    std = encoder.posterior[1].numpy()
    wide = int(std.argmax())
    span = (columns if wide == 0 else rows).max() - (columns if wide == 0 else rows).min()
    assert abs(span - 2 / 3 * (size - 1)) <= 4
    assert f"± {3 * std.max():.2f}" in encoder.zoom_caption.value
    assert (rgb.sum(axis=2) == 0).sum() > 9  # black: the cross-hairs and the sample dots
    # the explorer keeps its large cross at the current z
    assert LatentExplorer(model_2d, x, y).scatter.marker.get_marker() == "X"


def test_digit_encoder_box_button_and_placeholder(model_2d, data):
    x, y = data
    encoder = DigitEncoder(model_2d, x, y, num_samples=4)
    assert encoder.index_box.value == "0"
    encoder.select_random(7)
    assert encoder.index_box.value == str(encoder.index) and int(y[encoder.index]) == 7
    encoder.index_box.value = "12"  # typed: selects 12, once
    assert encoder.index == 12 and encoder.index_box.value == "12"
    assert len(encoder.sample_button.description) <= 16  # fits the button's default 148 px
    # before a draw: grey placeholder frames and a hint, not a blank white strip
    assert "press" in encoder.samples_caption.value
    assert encoder.current_images()["samples"].shape == (0, 28, 28)
    encoder.sample_button.click()
    assert "press" not in encoder.samples_caption.value
    assert encoder.current_images()["samples"].shape == (4, 28, 28)


def test_interpolator_reports_both_boxes_and_clears_its_message(model_5d, data):
    x = data[0]
    interpolator = Interpolator(model_5d, x[0], x[1], images=x)
    interpolator.index_a.value, interpolator.index_b.value = "abc", "999"
    assert "from #: 'abc' is not a whole number" in interpolator.message
    assert "to #: 999 is outside the 300 test images" in interpolator.message
    interpolator.index_a.value = ""
    interpolator.index_b.value = ""
    assert interpolator.message == ""
    interpolator.index_a.value, interpolator.index_b.value = "2", "4"
    assert interpolator.message == "from test image 2 to test image 4."


def test_interpolator_captions_the_image_and_outlines_the_frame_nearest_t(model_5d, data):
    x = data[0]
    interpolator = Interpolator(model_5d, x[0], x[1], steps=5, scale=3)
    for t, frame in [(0.0, 0), (0.3, 1), (0.5, 2), (1.0, 4)]:
        interpolator.t.value = t
        assert f"t = {t:.2f}" in interpolator.caption.value and interpolator.marked_frame == frame
        rgb = matplotlib.image.imread(io.BytesIO(interpolator.strip_image.value), format="png")[..., :3]
        orange = np.all(np.abs(rgb - np.array([255, 127, 14]) / 255) < 0.01, axis=2)
        columns = np.flatnonzero(orange.any(axis=0))
        width = 28 * 3
        assert columns.min() == frame * (width + 2) and columns.max() == frame * (width + 2) + width - 1
