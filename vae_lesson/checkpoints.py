"""Saving and loading trained VAEs with their configuration, training history and metadata.

Files are written atomically (a temporary file, then a rename), so an interrupted save never destroys
the previous model; they are read with ``torch.load(..., weights_only=True)``, which cannot run code.
Taught in ``notebooks/03_train_vae.ipynb``.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from vae_lesson.files import atomic_writer, require_file
from vae_lesson.models import VAE, build_model
from vae_lesson.train import History

FORMAT = "vae-lesson-checkpoint"
VERSION = 1


class CheckpointError(RuntimeError):
    """A checkpoint file is corrupt or not a vae-lesson checkpoint; the message says what to do.
    (A missing file raises :class:`FileNotFoundError`, as every loader of the course does.)"""


def _plain(value: object, where: str = "metadata") -> object:
    """``value`` as built-in types only (what ``weights_only`` loading accepts), or a TypeError naming the culprit."""
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, str):  # e.g. torch.__version__, a str subclass that would be pickled as a class
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {str(k): _plain(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().clone()
    raise TypeError(f"{where} is a {type(value).__name__}; checkpoint metadata may hold only numbers, strings, "
                    "lists, dicts and tensors.")


def save_checkpoint(
    path: str | os.PathLike, model: VAE, history: History | None = None, metadata: dict | None = None
) -> Path:
    """Save ``model`` (weights and constructor arguments), its training ``history`` and ``metadata`` (plain
    numbers, strings, lists and dicts) to ``path``, atomically. Returns the path."""
    path = Path(path)
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "config": model.config,
        "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
        "history": history.to_dict() if history is not None else None,
        "metadata": _plain(dict(metadata or {})),
    }
    with atomic_writer(path) as handle:  # an interrupted save never destroys the previous model
        torch.save(payload, handle)
    return path


def load_checkpoint(path: str | os.PathLike) -> tuple[VAE, History | None, dict]:
    """Load a checkpoint written by :func:`save_checkpoint`: returns (model in eval mode, history or None, metadata).

    Raises :class:`FileNotFoundError` for a missing file, :class:`CheckpointError` for a truncated, corrupt or
    foreign one.
    """
    path = require_file(path, "checkpoint", "Check the path, or train and save a model first.")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # the unpickler raises many types on garbage (UnpicklingError, EOFError, IndexError, ...)
        raise CheckpointError(
            f"{path} could not be read as a checkpoint ({type(error).__name__}: {str(error)[:200]}). "
            "The file is truncated or corrupt, or it is not a PyTorch file; save the model again "
            "(or, for a shipped model, rebuild it with `python -m vae_lesson.pretrained --rebuild`)."
        ) from error
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is a PyTorch file but not a vae-lesson checkpoint (no '{FORMAT}' marker).")
    if payload.get("version") != VERSION:
        raise CheckpointError(f"{path} has checkpoint version {payload.get('version')}; this code reads version {VERSION}.")
    try:
        model = build_model(payload["config"])
        model.load_state_dict(payload["state_dict"])
    except (KeyError, TypeError, RuntimeError, ValueError) as error:
        raise CheckpointError(f"{path} does not match its model configuration: {str(error)[:300]}") from error
    model.eval()
    history = History.from_dict(payload["history"]) if payload.get("history") else None
    return model, history, payload.get("metadata", {})
