"""Atomic rewrites: readers see the old file or the new one, and permissions behave."""

from __future__ import annotations

import os
import stat

import pytest

from citeflow.files import atomic_write_bytes, atomic_write_text, read_text_exact


def test_new_file_gets_ordinary_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "out.html", "<p>hi</p>")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "out.html").stat().st_mode) == 0o644


def test_rewrite_keeps_permissions_and_exact_bytes(tmp_path):
    path = tmp_path / "refs.bib"
    path.write_bytes(b"old\r\n")
    os.chmod(path, 0o640)
    atomic_write_text(path, "new\r\nline\r\n")
    assert path.read_bytes() == b"new\r\nline\r\n"
    assert read_text_exact(path) == "new\r\nline\r\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_failed_rename_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "refs.bib"
    path.write_bytes(b"precious")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        atomic_write_bytes(path, b"half")
    assert path.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["refs.bib"]
