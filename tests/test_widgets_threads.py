"""Widgets driven from two threads at once, as ipykernel 7 does: it handles the browser's widget messages on another
thread while a cell runs (after Run All, the browser sends back the values a cell set, rounded to the slider's step).
Two renders of one matplotlib figure at once used to leave its renderer broken: a transparent PNG from then on."""

import io
import threading

import matplotlib.image
import numpy as np
import pytest
import torch

from vae_lesson.linear_gaussian import LinearGaussianModel
from vae_lesson.widgets import DigitEncoder, ElboExplorer, LatentExplorer, LatentScatter

# the fixtures of the latent-space widget tests: a small test set and small untrained VAEs
from test_widgets_latent import data, model_2d  # noqa: F401


def pixels(png: bytes) -> np.ndarray:
    """The PNG decoded by matplotlib (not by the code under test), as RGBA floats in [0, 1]."""
    image = matplotlib.image.imread(io.BytesIO(png), format="png")
    return image if image.shape[-1] == 4 else np.dstack([image, np.ones(image.shape[:2], image.dtype)])


def assert_drawn(png: bytes) -> None:
    """Opaque and not uniform: a figure whose renderer broke is a fully transparent PNG."""
    rgba = pixels(png)
    assert rgba[..., 3].min() == 1.0, "the image has transparent pixels: the figure's renderer is broken"
    assert rgba[..., :3].std() > 0.05, "the image is blank"


def hammer(*actions, rounds: int = 15) -> None:
    """Run each action ``rounds`` times, each action on its own thread, all at once; re-raise what they raise."""
    errors, start = [], threading.Barrier(len(actions))

    def loop(action):
        try:
            start.wait()
            for i in range(rounds):
                action(i)
        except Exception as error:  # noqa: BLE001 (re-raised below, on the test's thread)
            errors.append(error)

    threads = [threading.Thread(target=loop, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


@pytest.mark.parametrize("trial", range(3))
def test_elbo_explorer_survives_a_cell_and_the_browser_updating_it_at_once(trial):
    g = torch.Generator().manual_seed(3)
    model = LinearGaussianModel.random(2, 1, noise_std=0.8, generator=g)
    explorer = ElboExplorer(model, model.sample(1, generator=g)[0])
    centre = explorer.mean.value

    def cell(i):  # the notebook's cell, calling set_q
        explorer.set_q(centre + 0.01 * i, -0.02 * i)

    def browser(i):  # the browser sending a slider's value back
        explorer.mean.value = centre + 0.5 - 0.01 * i

    hammer(cell, browser)
    explorer.update()  # a broken renderer stays broken: this last image is blank too
    assert_drawn(explorer.image.value)
    values = explorer.values()
    assert f"KL = {values['KL']:.4f}" in explorer.readout.value


@pytest.mark.parametrize("trial", range(2))
def test_latent_widgets_survive_two_threads_at_once(trial, model_2d, data):
    explorer = LatentExplorer(model_2d, *data)
    encoder = DigitEncoder(model_2d, *data, num_samples=4)
    hammer(lambda i: explorer.set_sliders([0.1 * i - 1, 0.5]),
           lambda i: setattr(explorer.sliders[0], "value", -0.1 * i),
           lambda i: encoder.select(i), lambda i: encoder.draw_samples())
    explorer.set_sliders([1.0, -1.0])
    encoder.select(7)
    for png in (explorer.scatter_image.value, encoder.scatter_image.value):
        assert_drawn(png)
    # what is shown is the final state's, not a mixture of the two threads'
    reference = LatentExplorer(model_2d, *data)
    reference.set_sliders([1.0, -1.0])
    assert explorer.scatter_image.value == reference.scatter_image.value
    assert explorer.image.value == reference.image.value


def test_latent_scatter_renders_each_threads_point_and_nothing_else():
    g = torch.Generator().manual_seed(0)
    scatter = LatentScatter(torch.randn(300, 2, generator=g), torch.randint(10, (300,), generator=g))
    points = [(1.0, 1.0), (-2.0, 0.5)]
    expected = [scatter.render(point) for point in points]
    wrong = []

    def render(k):
        def action(_i):
            if scatter.render(points[k]) != expected[k]:  # a marker of the other thread's, or none
                wrong.append(k)
        return action

    hammer(render(0), render(1), rounds=30)
    assert not wrong
