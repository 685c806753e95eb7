"""The shipped models load and reach the test NLL recorded in their metadata."""

import pytest
import torch

from vae_lesson import pretrained
from vae_lesson.data import binarized_test_set, test_subset
from vae_lesson.evaluation import nll_estimate


@pytest.mark.parametrize("name", list(pretrained.RECIPES))
def test_shipped_model_reaches_its_recorded_nll(name):
    model, history, metadata = pretrained.load_with_info(name)
    assert model.config == {**pretrained.RECIPES[name]["model"]}
    assert len(history) == pretrained.RECIPES[name]["fit"]["epochs"]
    recorded = metadata["test_nll"]
    nll, stderr = pretrained.measure_nll(model, recorded)
    assert nll == pytest.approx(recorded["nll"], abs=0.05)
    assert 0 < stderr < 2


def test_shipped_models_are_small():
    for name in pretrained.RECIPES:
        assert pretrained.path_of(name).stat().st_size < 4_000_000


def test_unknown_name_lists_the_available_ones():
    with pytest.raises(ValueError, match="'mnist-2d', 'mnist-32d'"):
        pretrained.load("mnist-3d")


def test_each_load_returns_an_independent_copy():
    a, b = pretrained.load("mnist-2d"), pretrained.load("mnist-2d")
    next(a.parameters()).data.zero_()
    assert next(b.parameters()).abs().sum() > 0


def test_recorded_nll_check_uses_a_random_subset_and_binarized_measurements():
    for name in pretrained.RECIPES:
        metadata = pretrained.load_with_info(name)[2]
        assert metadata["test_nll"]["subset_seed"] == pretrained.NLL_CHECK["subset_seed"]
        assert metadata["test_nll"]["num_images"] == pretrained.NLL_CHECK["num_images"]
        assert 1 <= metadata["active_units"] <= pretrained.RECIPES[name]["model"]["latent_dim"]


def test_an_nll_check_from_an_older_course_version_says_how_to_update_it():
    old = {"num_images": 1000, "k": 1000, "binarization_seed": 0, "sample_seed": 1}  # recorded on a prefix
    with pytest.raises(ValueError, match="--remeasure"):
        pretrained.measure_nll(pretrained.load("mnist-2d"), old)


def test_each_load_returns_an_independent_history_and_metadata():
    _, history, metadata = pretrained.load_with_info("mnist-2d")
    epochs = len(history)
    history.epoch.append(999)  # what fit(..., history=history) does when training goes on
    metadata["test_nll"]["nll"] = -1.0
    _, again, metadata_again = pretrained.load_with_info("mnist-2d")
    assert len(again) == epochs
    assert metadata_again["test_nll"]["nll"] > 0


def test_a_missing_model_file_says_how_to_restore_it(monkeypatch, tmp_path):
    monkeypatch.setattr(pretrained, "WEIGHTS_DIR", tmp_path)
    with pytest.raises(FileNotFoundError, match=r"missing.*git checkout.*--rebuild mnist-2d"):
        pretrained.load("mnist-2d")


@pytest.mark.parametrize("name", [n for n, r in pretrained.RECIPES.items() if r.get("full_nll")])
def test_recorded_full_test_nll_agrees_with_a_fresh_estimate_on_random_test_images(name):
    """The paper-style figure in the metadata (-L_5000 over all 10,000 test images) takes ten minutes to measure;
    a fresh -L_5000 on 500 random test images, with other samples, is an unbiased estimate of the same mean."""
    model, _, metadata = pretrained.load_with_info(name)
    full = metadata["test_nll_full"]
    assert {k: full[k] for k in pretrained.FULL_NLL} == pretrained.FULL_NLL and full["num_images"] == 10_000
    x = binarized_test_set(pretrained.FULL_NLL["binarization_seed"])[test_subset(500, seed=7)]
    nll, stderr = nll_estimate(model, x, pretrained.FULL_NLL["k"], torch.Generator().manual_seed(11))
    assert abs(nll - full["nll"]) < 4 * stderr, (nll, stderr, full)
