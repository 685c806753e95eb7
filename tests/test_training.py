"""fit, its history, divergence detection, evaluation helpers and checkpoints."""

import math

import pytest
import torch

from vae_lesson import checkpoints, train
from vae_lesson.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from vae_lesson.data import load_mnist
from vae_lesson.divergences import kl_diag_normal_std_normal
from vae_lesson.evaluation import active_units, kl_per_dimension, posterior_means_and_logvars
from vae_lesson.models import VAE
from vae_lesson.train import LR_SCHEDULES, History, TrainingDivergedError, fit, learning_rate


@pytest.fixture(scope="module")
def subset():
    x, _ = load_mnist("test")
    return x[:2000]


def small_model(seed=0):
    torch.manual_seed(seed)
    return VAE(8, hidden=(64,))


def test_fit_raises_the_elbo_and_records_history(subset, capsys):
    model = small_model()
    history = fit(model, subset, 4, batch_size=100, lr=2e-3, test_x=subset[:500],
                  generator=torch.Generator().manual_seed(0), progress=False)
    assert capsys.readouterr().out == "" and capsys.readouterr().err == ""
    assert history.epoch == [1, 2, 3, 4] and len(history.test_elbo) == 4
    assert history.train_elbo[-1] > history.train_elbo[0] + 20
    assert history.test_elbo[-1] > history.test_elbo[0]
    for e, r, k in zip(history.train_elbo, history.train_reconstruction, history.train_kl):
        assert e == pytest.approx(r - k) and k >= 0
    assert not model.training


def test_fit_is_reproducible_with_a_generator(subset):
    runs = []
    for _ in range(2):
        model = small_model()
        fit(model, subset[:500], 1, generator=torch.Generator().manual_seed(3), progress=False)
        runs.append(next(model.parameters()).detach().clone())
    torch.testing.assert_close(runs[0], runs[1])


def test_fit_continues_a_history(subset):
    model = small_model()
    history = fit(model, subset[:300], 1, progress=False)
    history = fit(model, subset[:300], 2, progress=False, history=history)
    assert history.epoch == [1, 2, 3]


def test_nan_is_detected_with_advice(subset):
    model = small_model()
    with torch.no_grad():
        model.decoder[0].weight[0, 0] = float("nan")
    with pytest.raises(TrainingDivergedError, match="smaller learning rate"):
        fit(model, subset[:200], 1, progress=False)


def test_kl_warmup_raises_the_kl_weight_linearly_to_beta(subset, monkeypatch):
    weights = []
    real_loss_terms = train._loss_terms

    def recording(model, xb, beta, generator, yb=None):
        weights.append(beta)
        return real_loss_terms(model, xb, beta, generator, yb)

    monkeypatch.setattr(train, "_loss_terms", recording)
    history = fit(small_model(), subset[:200], 4, batch_size=100, beta=2.0, kl_warmup_epochs=3, progress=False)
    assert weights == pytest.approx([2 / 3] * 2 + [4 / 3] * 2 + [2.0] * 4)  # two batches per epoch
    for e, r, k in zip(history.train_elbo, history.train_reconstruction, history.train_kl):
        assert e == pytest.approx(r - k)  # the history reports the true ELBO, not the weighted objective


def test_kl_warmup_leaves_more_information_in_the_code(subset):
    kls = {}
    for warmup in (0, 5):
        history = fit(small_model(), subset, 1, batch_size=100, lr=2e-3, kl_warmup_epochs=warmup,
                      generator=torch.Generator().manual_seed(0), progress=False)
        kls[warmup] = history.train_kl[-1]
    assert kls[5] > kls[0] + 1  # a KL weighted by 1/5 is pulled less towards the prior


def test_learning_rate_schedules_reach_their_ends():
    for schedule in LR_SCHEDULES:
        assert learning_rate(2e-3, 2e-5, schedule, 0.0) == pytest.approx(2e-3)
        assert learning_rate(2e-3, 2e-5, schedule, 1.0) == pytest.approx(2e-5)
        assert learning_rate(2e-3, None, schedule, 0.7) == 2e-3
    # geometric: the same factor per step, so the midpoint is the geometric mean
    assert learning_rate(2e-3, 2e-5, "geometric", 0.5) == pytest.approx(2e-4)
    # cosine: the midpoint is the arithmetic mean, and the decay is slow at both ends
    assert learning_rate(2e-3, 2e-5, "cosine", 0.5) == pytest.approx(1.01e-3)
    assert learning_rate(2e-3, 2e-5, "cosine", 0.05) > 0.99 * 2e-3 > learning_rate(2e-3, 2e-5, "geometric", 0.05)


def test_fit_follows_the_schedule_epoch_by_epoch(subset, monkeypatch):
    seen = []
    real_check = train.check_not_diverged
    monkeypatch.setattr(train, "check_not_diverged", lambda loss, where, lr: (seen.append((where, lr)),
                                                                             real_check(loss, where, lr)))
    fit(small_model(), subset[:100], 3, batch_size=100, lr=1e-2, lr_final=1e-4, lr_schedule="geometric", progress=False)
    assert [lr for _, lr in seen] == pytest.approx([1e-2, 1e-3, 1e-4])
    seen.clear()
    fit(small_model(), subset[:100], 3, batch_size=100, lr=1e-2, lr_final=1e-4, lr_schedule="cosine", progress=False)
    assert [lr for _, lr in seen] == pytest.approx([1e-2, (1e-2 + 1e-4) / 2, 1e-4])


def test_fit_defaults_are_notebook_03s_recipe(subset, monkeypatch):
    """lr 2e-3 decaying to 1e-4 along half a cosine, KL warm-up over two thirds of the epochs (rounded)."""
    seen = []
    real_terms = train._loss_terms
    real_check = train.check_not_diverged
    monkeypatch.setattr(train, "_loss_terms", lambda m, xb, beta, g, yb=None: (seen.append(("beta", beta)),
                                                                               real_terms(m, xb, beta, g, yb))[1])
    monkeypatch.setattr(train, "check_not_diverged", lambda loss, where, lr: (seen.append(("lr", lr)),
                                                                             real_check(loss, where, lr)))
    fit(small_model(), subset[:128], 8, progress=False)  # one minibatch of 128 per epoch
    betas = [v for k, v in seen if k == "beta"]
    lrs = [v for k, v in seen if k == "lr"]
    assert betas == pytest.approx([1 / 5, 2 / 5, 3 / 5, 4 / 5, 1, 1, 1, 1])  # round(8 * 2 / 3) = 5 epochs
    assert lrs[0] == pytest.approx(2e-3) and lrs[-1] == pytest.approx(1e-4)
    assert lrs[4] == pytest.approx(1e-4 + (2e-3 - 1e-4) * 0.5 * (1 + math.cos(math.pi * 4 / 7)))  # cosine
    seen.clear()
    fit(small_model(), subset[:128], 2, progress=False)
    assert [v for k, v in seen if k == "beta"] == [1.0, 1.0]  # a 2-epoch run warms up over round(4 / 3) = 1 epoch


def test_fit_rejects_bad_arguments(subset):
    with pytest.raises(ValueError, match="epochs"):
        fit(small_model(), subset, 0, progress=False)
    for bad in (0, -5, 2.5):
        with pytest.raises(ValueError, match="batch_size must be a positive integer"):
            fit(small_model(), subset, 1, batch_size=bad, progress=False)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        fit(small_model(), subset * 255, 1, progress=False)
    with pytest.raises(ValueError, match=r"\(N, 28, 28\) or \(N, 784\)"):
        fit(small_model(), subset[:, :10], 1, progress=False)
    with pytest.raises(ValueError, match="lr_schedule must be one of 'geometric', 'cosine'"):
        fit(small_model(), subset, 1, lr_final=1e-4, lr_schedule="linear", progress=False)
    with pytest.raises(ValueError, match="lr_final must be positive"):
        fit(small_model(), subset, 1, lr_final=0.0, progress=False)
    with pytest.raises(ValueError, match="kl_warmup_epochs"):
        fit(small_model(), subset, 1, kl_warmup_epochs=-1, progress=False)


def test_active_units_and_kl_per_dimension(subset):
    model = small_model()
    with torch.no_grad():  # silence units 0-2: their posterior mean no longer depends on x
        model.encoder[-1].weight[:3] = 0.0
        model.encoder[-1].weight[3:8] *= 20
    count, activity = active_units(model, subset[:500])
    assert activity.shape == (8,) and (activity[:3] < 1e-12).all()
    assert count == int((activity > 1e-2).sum()) and count <= 5
    mu, logvar = posterior_means_and_logvars(model, subset[:500])
    per_dim = kl_per_dimension(model, subset[:500])
    assert per_dim.sum().item() == pytest.approx(kl_diag_normal_std_normal(mu, logvar).mean().item(), rel=1e-5)


def test_checkpoint_round_trip(tmp_path, subset):
    model = VAE(3, hidden=(32, 16), activation="relu")
    history = History(epoch=[1], train_elbo=[-200.0], train_reconstruction=[-190.0], train_kl=[10.0], seconds=[1.5])
    path = save_checkpoint(tmp_path / "sub" / "model.pt", model, history, {"note": "hello", "nll": 99.5})
    loaded, loaded_history, metadata = load_checkpoint(path)
    assert loaded.config == model.config and not loaded.training
    for a, b in zip(model.state_dict().values(), loaded.state_dict().values()):
        torch.testing.assert_close(a, b)
    assert loaded_history == history and metadata == {"note": "hello", "nll": 99.5}
    with torch.no_grad():
        torch.testing.assert_close(model.decode(torch.ones(2, 3)), loaded.decode(torch.ones(2, 3)))


def test_interrupted_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "model.pt", VAE(2, hidden=(8,)), metadata={"version": "old"})

    def broken_save(obj, handle):
        handle.write(b"half a file")
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(checkpoints.torch, "save", broken_save)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, VAE(2, hidden=(8,)), metadata={"version": "new"})
    monkeypatch.undo()
    assert load_checkpoint(path)[2] == {"version": "old"}
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]  # no temporary file left behind


def test_bad_checkpoints_raise_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="checkpoint .* is missing"):
        load_checkpoint(tmp_path / "missing.pt")
    good = save_checkpoint(tmp_path / "good.pt", VAE(2, hidden=(8,)))
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[:200])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_checkpoint(truncated)
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"this is not a model" * 10)
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_checkpoint(garbage)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    with pytest.raises(CheckpointError, match="not a vae-lesson checkpoint"):
        load_checkpoint(foreign)


class Payload:
    """An arbitrary Python object: a full unpickler would run its code; weights_only refuses it."""

    def __reduce__(self):
        return (print, ("this must never run",))


def test_checkpoints_are_loaded_with_weights_only(tmp_path, capsys):
    evil = tmp_path / "evil.pt"
    torch.save({"format": checkpoints.FORMAT, "version": 1, "payload": Payload()}, evil)
    with pytest.raises(CheckpointError):
        load_checkpoint(evil)
    assert "this must never run" not in capsys.readouterr().out


def test_metadata_is_stored_as_plain_types(tmp_path):
    path = save_checkpoint(tmp_path / "m.pt", VAE(2, hidden=(8,)), metadata={"torch": torch.__version__, "k": (1, 2)})
    metadata = load_checkpoint(path)[2]  # weights_only loading would refuse a TorchVersion object
    assert metadata == {"torch": str(torch.__version__), "k": [1, 2]} and type(metadata["torch"]) is str
    with pytest.raises(TypeError, match=r"metadata\['model'\] is a VAE"):
        save_checkpoint(tmp_path / "m.pt", VAE(2, hidden=(8,)), metadata={"model": VAE(2, hidden=(8,))})
