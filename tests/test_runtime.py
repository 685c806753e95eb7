import random

import numpy as np
import pytest
import torch

from vae_lesson.plots import show_digits
from vae_lesson.runtime import environment_report, seed_everything


def test_seed_everything_makes_all_generators_repeat():
    def draw():
        gen = seed_everything(123)
        return random.random(), np.random.rand(), torch.rand(1).item(), torch.rand(1, generator=gen).item()

    assert draw() == draw()


@pytest.mark.parametrize("bad", [-1, 1.5, "1", True])
def test_seed_everything_rejects_bad_seeds(bad):
    with pytest.raises(ValueError, match="non-negative integer"):
        seed_everything(bad)


def test_environment_report_names_the_stack():
    report = environment_report()
    assert report["torch"].startswith(torch.__version__.split("+")[0])
    assert report["numpy"] == np.__version__
    assert report["vae-lesson"] != "not installed"


def test_show_digits_draws_one_panel_per_image_with_labels():
    fig = show_digits(torch.rand(12, 784), labels=list(range(12)), ncols=5)
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 12 and len(fig.axes) == 15
    assert [ax.get_title() for ax in shown] == [str(i) for i in range(12)]


def test_show_digits_rejects_wrong_shapes():
    with pytest.raises(ValueError, match=r"\(N, 28, 28\)"):
        show_digits(torch.rand(3, 10))
    with pytest.raises(ValueError, match="3 images but 2 labels"):
        show_digits(torch.rand(3, 28, 28), labels=[1, 2])
