"""The shipped models load and reach the test NLL recorded in their metadata."""

import pytest
import torch

from vae_lesson import pretrained
from vae_lesson.data import binarized_test_set, test_subset
from vae_lesson.evaluation import nll_estimate
from vae_lesson.likelihoods import bits_per_dim
from vae_lesson.models import ConvVAE, VAE


@pytest.mark.parametrize("name", list(pretrained.RECIPES))
def test_shipped_model_reaches_its_recorded_nll(name):
    model, history, metadata = pretrained.load_with_info(name)
    assert model.config == {**pretrained.RECIPES[name]["model"]}
    assert len(history) == pretrained.RECIPES[name]["fit"]["epochs"]
    recorded = metadata["test_nll"]
    if "bits_per_dim" in recorded:  # a model of grey levels (notebook 06): -L_k on dequantized test images
        nll, stderr = pretrained.measure_grey_nll(model, recorded["data"], recorded)
        # float32 sums of thousands of nats: another CPU's kernels move the last digits
        assert nll == pytest.approx(recorded["nll"], rel=1e-4)
        assert recorded["bits_per_dim"] == pytest.approx(bits_per_dim(-recorded["nll"]))
        assert 0 < stderr < 100
        return
    nll, stderr = pretrained.measure_nll(model, recorded)
    assert nll == pytest.approx(recorded["nll"], abs=0.05)
    assert 0 < stderr < 2


def test_shipped_models_are_small():
    """Every clone (Binder, Colab) downloads them: the MLPs stay under 4 MB, the ConvVAE (whose 3,136-wide layers
    hold most of its 1.7 million parameters) under 8 MB, all together under 16 MB."""
    sizes = {name: pretrained.path_of(name).stat().st_size for name in pretrained.RECIPES}
    for name, size in sizes.items():
        assert size < (8_000_000 if pretrained.RECIPES[name]["model"].get("architecture") == "conv" else 4_000_000)
    assert sum(sizes.values()) < 16_000_000


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
        check = pretrained.GREY_NLL_CHECK if "bits_per_dim" in metadata["test_nll"] else pretrained.NLL_CHECK
        assert metadata["test_nll"]["subset_seed"] == check["subset_seed"]
        assert metadata["test_nll"]["num_images"] == check["num_images"]
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


def test_fashion_models_are_notebook_06s_pair():
    """fashion-conv and fashion-mlp: a ConvVAE and the course's MLP with the same learned-sigma Gaussian decoder,
    trained on all of Fashion-MNIST's training images for about the same time (RESULTS.md), the ConvVAE better."""
    conv, conv_history, conv_meta = pretrained.load_with_info("fashion-conv")
    mlp, mlp_history, mlp_meta = pretrained.load_with_info("fashion-mlp")
    assert isinstance(conv, ConvVAE) and type(mlp) is VAE
    assert conv.config["likelihood"] == mlp.config["likelihood"] == {"name": "gaussian", "sigma": 0.1, "learn_sigma": True}
    assert conv.latent_dim == mlp.latent_dim == 32
    for model, meta in [(conv, conv_meta), (mlp, mlp_meta)]:
        assert 0.02 < model.likelihood.sigma < 0.2 and meta["sigma"] == pytest.approx(model.likelihood.sigma)
        assert meta["test_nll"]["bits_per_dim"] < 8  # better than a uniform guess over the 256 levels
    assert conv_meta["test_nll"]["bits_per_dim"] < mlp_meta["test_nll"]["bits_per_dim"]
    # the same time, within a fifth; and the budget of 15 minutes of training for the ConvVAE
    assert abs(conv_meta["training_seconds"] / mlp_meta["training_seconds"] - 1) < 0.2
    assert conv_meta["training_seconds"] < 15 * 60
