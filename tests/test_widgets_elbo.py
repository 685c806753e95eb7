"""The ELBO explorer driven from Python: what it shows must be the exact numbers for the q the sliders set."""

import math

import pytest
import torch

from vae_lesson.linear_gaussian import LinearGaussianModel
from vae_lesson.widgets import ElboExplorer


@pytest.fixture
def explorer():
    g = torch.Generator().manual_seed(3)
    model = LinearGaussianModel.random(2, 1, noise_std=0.8, generator=g)
    return ElboExplorer(model, model.sample(1, generator=g)[0])


def test_sliders_drive_the_exact_values(explorer):
    explorer.mean.value = 0.4
    explorer.log_std.value = -0.5
    values = explorer.values()
    model, x = explorer.model, explorer.x
    q_mean = torch.tensor([[0.4]], dtype=torch.float64)
    q_cov = torch.tensor([[math.exp(-1.0)]], dtype=torch.float64)
    assert values["ELBO"] == pytest.approx(model.elbo(x, q_mean, q_cov).item(), abs=1e-12)
    assert values["KL"] == pytest.approx(model.kl_to_posterior(x, q_mean, q_cov).item(), abs=1e-12)
    assert values["ELBO"] + values["KL"] == pytest.approx(model.log_marginal(x).item(), abs=1e-9)
    assert "ELBO + KL" in explorer.readout.value


def test_image_changes_with_the_slider_and_the_bars_show_the_values(explorer):
    before = explorer.image.value
    explorer.mean.value = explorer.mean.value + 0.5
    assert explorer.image.value != before and explorer.image.value[:4] == b"\x89PNG"
    heights = [bar.get_height() for bar in explorer.bars]
    assert heights == pytest.approx(list(explorer.values().values()))
    assert explorer.gap.get_y() + explorer.gap.get_height() == pytest.approx(explorer.log_px)


def test_kl_vanishes_at_the_posterior(explorer):
    explorer.set_q(explorer.post_mean, math.log(explorer.post_std))
    assert explorer.values()["KL"] == pytest.approx(0.0, abs=1e-9)


def test_set_q_redraws_once(explorer):
    redraws = []
    draw = explorer.update  # the slider observers call explorer.update, so this wrapper sees every redraw

    def counted() -> None:
        redraws.append(1)
        draw()

    explorer.update = counted
    explorer.set_q(explorer.mean.value + 0.5, explorer.log_std.value - 0.5)  # both sliders move
    assert len(redraws) == 1
    values = explorer.values()
    assert f"ELBO = {values['ELBO']:.4f}" in explorer.readout.value  # the one redraw shows the final q
    assert [bar.get_height() for bar in explorer.bars] == pytest.approx(list(values.values()))
    explorer.log_std.value = explorer.log_std.value + 0.25  # a slider moved by hand still redraws, once
    assert len(redraws) == 2


def test_out_of_range_values_and_wrong_models_are_refused(explorer):
    with pytest.raises(ValueError, match="outside the slider's range"):
        explorer.set_q(0.0, 5.0)
    with pytest.raises(ValueError, match="1-D latent"):
        ElboExplorer(LinearGaussianModel.random(3, 2), torch.zeros(3, dtype=torch.float64))
