"""Safe file writing: every rewrite goes through a temporary file and an atomic rename.

A rewrite of a file that citeflow read first (a manuscript) can be made conditional: with
``unchanged=Snapshot.of_bytes(what_was_read)`` the write is refused, leaving the file alone,
when the file on disk no longer holds those bytes (an editor saved it meanwhile, or another
citeflow run rewrote it). A bibliography that several runs append to is guarded with
:func:`exclusive_lock`, which holds a lock file ``.NAME.lock`` beside it.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .errors import CiteflowError

#: Seconds to wait for another process's lock before giving up (``CITEFLOW_LOCK_TIMEOUT``).
LOCK_TIMEOUT = 60.0


class WriteError(OSError):
    """An output could not be written. ``filename`` is the file meant, never the temporary
    file; ``doing`` says what failed and ``strerror`` why. The original file, if any, is
    untouched."""

    doing = "cannot write"

    def __str__(self) -> str:
        return f"{self.filename}: {self.doing}: {self.strerror}"

    @classmethod
    def of(cls, exc: OSError, path: Path, doing: str | None = None) -> WriteError:
        error = cls(exc.errno, exc.strerror or str(exc), str(path))
        if doing:
            error.doing = doing
        return error


@dataclass(frozen=True)
class Snapshot:
    """What a file held when it was read: its size and SHA-256 digest."""

    size: int
    digest: str

    @classmethod
    def of_bytes(cls, data: bytes) -> Snapshot:
        return cls(len(data), hashlib.sha256(data).hexdigest())

    @classmethod
    def of_file(cls, path: str | Path) -> Snapshot | None:
        """The file's snapshot, or None when it does not exist."""
        try:
            return cls.of_bytes(Path(path).read_bytes())
        except FileNotFoundError:
            return None

    def matches(self, path: str | Path) -> bool:
        """True when the file at ``path`` still holds exactly the bytes of this snapshot."""
        try:
            if Path(path).stat().st_size != self.size:
                return False
        except FileNotFoundError:
            return False
        return Snapshot.of_file(path) == self


class FileChanged(CiteflowError):
    """A rewrite was refused because the file changed on disk since citeflow read it."""


def _umask() -> int:
    """The process umask (read by setting it and putting it back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | Path, data: bytes, durable: bool = True,
                       unchanged: Snapshot | None = None) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half.

    The temporary file lives in the same folder (same file system) and is flushed and
    fsync'ed before ``os.replace``; the original file's permission bits are kept. On any
    failure the temporary file is removed and the original is untouched; an operating-system
    error is raised as :class:`WriteError` naming ``path``. ``durable=False`` skips the
    fsync: for caches, where a record torn by a crash is only a miss. With ``unchanged``, the
    file must still hold the bytes of that snapshot just before it is replaced, else
    :class:`FileChanged` is raised and nothing is written.
    """
    atomic_write_all({Path(path): data}, durable, unchanged={Path(path): unchanged}
                     if unchanged is not None else None)


def atomic_write_all(files: Mapping[Path, bytes], durable: bool = True,
                     unchanged: Mapping[Path, Snapshot] | None = None) -> None:
    """Write several files so that all of them are replaced, or none.

    Each file is first written in full to a temporary file beside it (as
    :func:`atomic_write_bytes` does); only when every one is written are they renamed into
    place, one ``os.replace`` each. A failure while writing (a full disk) removes every
    temporary file and leaves every target as it was; it is raised as :class:`WriteError`
    naming the file meant. ``unchanged`` maps files to the snapshot they must still match.
    """
    staged: list[tuple[str, Path]] = []
    current = Path()
    try:
        for path, data in files.items():
            current = Path(path)
            staged.append((_stage(current, data, durable), current))
        for _tmp, path in staged:
            expected = (unchanged or {}).get(path)
            if expected is not None and not expected.matches(path):
                raise FileChanged("the file changed on disk since citeflow read it; nothing "
                                  "was written (run the command again)", path)
        for tmp, path in staged:
            current = path
            os.replace(tmp, path)
    except BaseException as exc:
        for tmp, _ in staged:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
        if isinstance(exc, OSError) and not isinstance(exc, WriteError):
            raise WriteError.of(exc, current) from exc
        raise


def _stage(path: Path, data: bytes, durable: bool) -> str:
    """A temporary file beside ``path`` holding ``data``, with ``path``'s permissions."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError.of(exc, path, f"cannot create the folder {exc.filename or folder}") from exc
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
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return tmp


def atomic_write_text(path: str | Path, text: str, encoding: str = "utf-8",
                      unchanged: Snapshot | None = None) -> None:
    """Text variant of :func:`atomic_write_bytes`; newlines are written exactly as given."""
    atomic_write_bytes(path, text.encode(encoding), unchanged=unchanged)


def read_text_exact(path: str | Path) -> str:
    """Read a text file keeping CRLF/CR newlines and a BOM exactly as they are on disk."""
    with open(path, encoding="utf-8", newline="") as handle:
        return handle.read()


def decode_utf8(data: bytes, path: str | Path) -> str:
    """The text of a file read as ``data``: UTF-8, a byte-order mark allowed.

    Any other bytes raise :class:`CiteflowError` naming the file, line and column. Pandoc
    reads nothing but UTF-8, so citeflow judges bibliographies (and any file it hands to
    Pandoc) alike in every command.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start].decode("utf-8-sig")
        line = len(re.findall(r"\r\n|\r|\n", before)) + 1
        column = len(before) - max(before.rfind("\n"), before.rfind("\r"))
        raise CiteflowError(f"not UTF-8 text: byte 0x{data[exc.start]:02x} at column {column} "
                            "(save the file as UTF-8)", path, line) from None


def read_utf8(path: str | Path) -> str:
    """:func:`decode_utf8` of the file at ``path``."""
    return decode_utf8(Path(path).read_bytes(), path)


def lock_path(path: str | Path) -> Path:
    """The lock file guarding ``path``: ``.NAME.lock`` in the same folder."""
    path = Path(path)
    return path.with_name(f".{path.name}.lock")


def lock_timeout() -> float:
    """Seconds to wait for a lock: ``CITEFLOW_LOCK_TIMEOUT``, else :data:`LOCK_TIMEOUT`."""
    raw = os.environ.get("CITEFLOW_LOCK_TIMEOUT", "").strip()
    if not raw:
        return LOCK_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        raise CiteflowError(f"CITEFLOW_LOCK_TIMEOUT must be a number of seconds, not {raw!r}") from None
    if value < 0:
        raise CiteflowError("CITEFLOW_LOCK_TIMEOUT must not be negative")
    return value


@contextmanager
def exclusive_lock(path: str | Path, timeout: float | None = None) -> Iterator[Path]:
    """Hold the exclusive lock of ``path`` (see :func:`lock_path`) for the ``with`` body.

    Other citeflow processes taking the same lock wait for it (up to ``timeout`` seconds,
    default :func:`lock_timeout`); giving up raises :class:`CiteflowError` naming ``path``.
    The lock is an operating-system lock on the lock file (where the file system has
    none, filelock's soft lock, which expires with its holder), released when the process
    ends however it ends: the empty lock file left behind never blocks anyone.
    """
    from filelock import FileLock, Timeout

    path = Path(path)
    wait = lock_timeout() if timeout is None else timeout
    lock = FileLock(str(lock_path(path)), timeout=wait)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except Timeout:
        raise CiteflowError(f"another process has held the lock {lock_path(path).name} for more than "
                            f"{wait:g} s; try again when it is done", path) from None
    except OSError as exc:
        raise CiteflowError(f"cannot lock {lock_path(path).name}: {exc.strerror or exc}", path) from exc
    try:
        yield lock_path(path)
    finally:
        lock.release()
