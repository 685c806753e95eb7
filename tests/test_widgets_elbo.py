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
    # the posterior rounded to the sliders' step of 0.001: KL is of order 1e-6, shown as 0.0000 (4 decimals)
    explorer.set_q(explorer.post_mean, math.log(explorer.post_std))
    assert explorer.values()["KL"] == pytest.approx(0.0, abs=5e-5)
    assert "KL = 0.0000" in explorer.readout.value


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


def on_grid(slider) -> bool:
    """Whether a slider's value is min + k step for a whole k: the value the browser's slider keeps as it is."""
    steps = (slider.value - slider.min) / slider.step
    return abs(steps - round(steps)) < 1e-9


def test_set_q_lands_on_the_sliders_steps_and_the_readout_is_the_kl_of_the_sliders(explorer):
    model, x = explorer.model, explorer.x
    for mean, log_std in [(explorer.post_mean, math.log(explorer.post_std)), (explorer.post_mean - 1.5, 0.0),
                          (0.123456, -0.98765)]:
        returned = explorer.set_q(mean, log_std)
        assert returned == (explorer.mean.value, explorer.log_std.value)
        assert on_grid(explorer.mean) and on_grid(explorer.log_std)
        assert abs(explorer.mean.value - mean) <= explorer.mean.step / 2 + 1e-12
        # the KL shown is the KL of the sliders' values, computed here independently
        q_mean = torch.tensor([[explorer.mean.value]], dtype=torch.float64)
        q_cov = torch.tensor([[math.exp(2 * explorer.log_std.value)]], dtype=torch.float64)
        kl = model.kl_to_posterior(x, q_mean, q_cov).item()
        shown = explorer.readout.value
        assert f"KL = {kl:.4f}" in shown
        # the browser rounds to the step (from min) and sends the value back: what is shown does not change
        for slider in (explorer.mean, explorer.log_std):
            slider.value = slider.min + round((slider.value - slider.min) / slider.step) * slider.step
        assert explorer.readout.value == shown


def test_the_sliders_are_wide_and_print_every_step(explorer):
    for slider in (explorer.mean, explorer.log_std):
        assert int(slider.layout.width.removesuffix("px")) >= 400
        assert slider.readout_format == ".3f" and slider.step == 0.001


def test_the_bar_chart_shows_a_large_kl_whole_and_shrinks_back(explorer):
    default = explorer.ax_bars.get_ylim()
    explorer.set_q(explorer.mean.min, 1.0)  # q far from the posterior and wide: the default axis would cut the bars
    values = explorer.values()
    assert values["ELBO"] < default[0] and values["KL"] > default[1]
    low, high = explorer.ax_bars.get_ylim()
    assert low < values["ELBO"] and high > values["KL"]
    explorer.set_q(explorer.post_mean, math.log(explorer.post_std))
    assert explorer.ax_bars.get_ylim() == default
