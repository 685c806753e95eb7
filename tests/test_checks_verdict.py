"""What the checkers share (``vae_lesson.checks._verdict``) and the package's shape: the guard turns any
exception into one sentence, ``_close`` answers True or False, every checker stays importable from
``vae_lesson.checks``, and the package imports without a cycle."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from vae_lesson import checks
from vae_lesson.checks._verdict import UNSOLVED_STUB, _call, _close, _conclude

ROOT = Path(__file__).resolve().parents[1]
MODULES = ["_verdict", "elbo", "gradients", "training", "latent", "anomaly", "real_data", "conditional"]
NOTEBOOK_OF = {"elbo": "01_elbo", "gradients": "02_gradients", "training": "03_train_vae",
               "latent": "04_latent_explorer", "anomaly": "05_density_and_anomalies", "real_data": "06_real_data",
               "conditional": "07_conditional_and_beta"}


def test_close_returns_a_bool():
    b = torch.tensor([1.0, 2.0], dtype=torch.float64)
    assert _close(b.float(), b) is True
    assert _close(b + 1, b) is False
    assert _close(b[:1], b) is False
    assert _close([1.0, 2.0], b) is False


def test_the_guard_returns_the_result_or_one_sentence():
    assert _call(lambda a, b: a + b, 1, 2) == (3, None)

    def stub():
        raise NotImplementedError

    def multiline():
        raise RuntimeError("first line\n  second line")

    assert _call(stub) == (None, UNSOLVED_STUB)
    assert _call(multiline) == (None, "your code raised RuntimeError: first line second line.")
    assert _call(lambda: 1 / 0)[1].startswith("your code raised ZeroDivisionError")
    # a NotImplementedError from something other than the student's function is not an unsolved exercise
    assert _call(stub, culprit="the model") == (None, "the model raised NotImplementedError.")


def test_conclude_prints_the_problem_or_the_confirmation(verdict):
    assert verdict(_conclude, None, "fine.") == (True, "✅ Correct. fine.\n")
    assert verdict(_conclude, "a problem.", "fine.") == (False, "❌ Not yet — a problem.\n")


def test_every_checker_is_importable_from_the_package():
    modules = [getattr(checks, module) for module in MODULES[1:]]
    names = {name for module in modules for name in dir(module) if name.startswith("check_")}
    assert len(names) == 18
    assert names <= set(checks.__all__)
    assert all(hasattr(checks, name) for name in checks.__all__)
    for name in names:
        assert callable(getattr(checks, name))


@pytest.mark.parametrize("module", MODULES)
def test_each_module_imports_first_without_a_cycle(module):
    """A fresh interpreter imports the module before anything else of the package: a cycle would fail here."""
    code = f"import vae_lesson.checks.{module}"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True)


def test_the_modules_checkers_use_do_not_import_checks():
    code = ("import sys, vae_lesson.anomaly, vae_lesson.data, vae_lesson.elbo, vae_lesson.latent, "
            "vae_lesson.evaluation, vae_lesson.divergences, vae_lesson.linear_gaussian; "
            "sys.exit('vae_lesson.checks' in sys.modules)")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True)


@pytest.mark.parametrize("module", MODULES)
def test_modules_are_short_and_name_their_notebook(module):
    path = ROOT / "vae_lesson" / "checks" / f"{module}.py"
    assert len(path.read_text().splitlines()) <= 400
    if module in NOTEBOOK_OF:
        doc = getattr(checks, module).__doc__
        assert f"notebooks/{NOTEBOOK_OF[module]}.ipynb" in doc
        assert (ROOT / "notebooks" / f"{NOTEBOOK_OF[module]}.ipynb").is_file()
