"""Unit tests draw figures off-screen."""

import matplotlib

matplotlib.use("Agg")

import pytest


@pytest.fixture
def verdict(capsys):
    """Run an exercise checker; return (passed, printed sentence). Checkers print one verdict and return None."""

    def run(checker, *args):
        assert checker(*args) is None
        out = capsys.readouterr().out
        assert out.startswith(("✅", "❌")) and out.count("\n") == 1, out
        assert "Traceback" not in out
        return out.startswith("✅"), out

    return run
