"""Safe file writing: every rewrite goes through a temporary file and an atomic rename."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Mapping


def _umask() -> int:
    """The process umask (read by setting it and putting it back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | Path, data: bytes, durable: bool = True) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half.

    The temporary file lives in the same folder (same file system) and is flushed and
    fsync'ed before ``os.replace``; the original file's permission bits are kept. On any
    failure the temporary file is removed and the original is untouched. ``durable=False``
    skips the fsync: for caches, where a record torn by a crash is only a miss.
    """
    atomic_write_all({Path(path): data}, durable)


def atomic_write_all(files: Mapping[Path, bytes], durable: bool = True) -> None:
    """Write several files so that all of them are replaced, or none.

    Each file is first written in full to a temporary file beside it (as
    :func:`atomic_write_bytes` does); only when every one is written are they renamed into
    place, one ``os.replace`` each. A failure while writing (a full disk) removes every
    temporary file and leaves every target as it was.
    """
    staged: list[tuple[str, Path]] = []
    try:
        for path, data in files.items():
            staged.append((_stage(Path(path), data, durable), Path(path)))
        for tmp, path in staged:
            os.replace(tmp, path)
    except BaseException:
        for tmp, _ in staged:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
        raise


def _stage(path: Path, data: bytes, durable: bool) -> str:
    """A temporary file beside ``path`` holding ``data``, with ``path``'s permissions."""
    folder = path.parent if str(path.parent) else Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        else:
            os.chmod(tmp, 0o666 & ~_umask())
    except BaseException:
        os.unlink(tmp)
        raise
    return tmp


def atomic_write_text(path: str | Path, text: str, encoding: str = "utf-8") -> None:
    """Text variant of :func:`atomic_write_bytes`; newlines are written exactly as given."""
    atomic_write_bytes(path, text.encode(encoding))


def read_text_exact(path: str | Path) -> str:
    """Read a text file keeping CRLF/CR newlines and a BOM exactly as they are on disk."""
    with open(path, "r", encoding="utf-8", newline="") as handle:
        return handle.read()
