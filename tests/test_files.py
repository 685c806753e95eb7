"""Atomic writes keep the previous file when a write fails, and a missing file raises FileNotFoundError everywhere."""

import os

import pytest

from vae_lesson.files import atomic_writer, require_file


def test_a_completed_write_replaces_the_file(tmp_path):
    path = tmp_path / "sub" / "model.bin"
    with atomic_writer(path) as handle:
        handle.write(b"first")
    with atomic_writer(path, "w") as handle:
        handle.write("second, as text: é")
    assert path.read_text(encoding="utf-8") == "second, as text: é"
    assert os.stat(path).st_mode & 0o777 == 0o644
    assert [p.name for p in path.parent.iterdir()] == ["model.bin"]  # no temporary file left


def test_a_failed_write_keeps_the_previous_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "model.bin"
    path.write_bytes(b"the student's trained model")
    with pytest.raises(RuntimeError, match="interrupted"):
        with atomic_writer(path) as handle:
            handle.write(b"half a new mod")
            raise RuntimeError("interrupted")
    assert path.read_bytes() == b"the student's trained model"
    assert [p.name for p in tmp_path.iterdir()] == ["model.bin"]


def test_two_open_writers_use_different_temporary_files(tmp_path):
    path = tmp_path / "notebook.ipynb"
    with atomic_writer(path, "w") as first, atomic_writer(path, "w") as second:
        assert first.name != second.name
        first.write("one")
        second.write("two")
    assert path.read_text() in {"one", "two"}


def test_only_write_modes_are_accepted(tmp_path):
    with pytest.raises(ValueError, match="mode"):
        with atomic_writer(tmp_path / "x", "a"):
            pass


def test_require_file_names_the_file_and_the_remedy(tmp_path):
    present = tmp_path / "here.txt"
    present.write_text("x")
    assert require_file(present, "text file", "unused") == present
    with pytest.raises(FileNotFoundError, match=r"The checkpoint .*gone\.pt is missing\. Train a model first\."):
        require_file(tmp_path / "gone.pt", "checkpoint", "Train a model first.")
    with pytest.raises(FileNotFoundError):
        require_file(tmp_path, "checkpoint", "a folder is not a file")
