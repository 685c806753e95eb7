"""Unit tests draw figures off-screen."""

import matplotlib

matplotlib.use("Agg")
