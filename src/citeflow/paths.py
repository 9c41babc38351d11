"""The project root, and the rule that every file read for a manuscript lies inside it.

citeflow runs on manuscripts anyone can write (a pull request checked in CI). A file that
such a manuscript names (a bibliography, a CSL style, an image) is read only when it lies
inside the *project root* once symbolic links are resolved:

* the folder of ``citeflow.toml``, or of a ``pyproject.toml`` with ``[tool.citeflow]``;
* else the manuscript's own folder.

A path given on the command line (``--csl FILE``, ``resolve --bib FILE``) is the operator's
choice, not the manuscript's, and is not held to the rule. See docs/security.md.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import CiteflowError

if TYPE_CHECKING:  # pragma: no cover
    from .config import Config
    from .document.manuscript import Manuscript

#: What a bibliography file is called: BibTeX/BibLaTeX, CSL-JSON, CSL-YAML (as Pandoc reads them).
BIBLIOGRAPHY_SUFFIXES = (".bib", ".bibtex", ".json", ".yaml", ".yml")

ROOT_HINT = "the folder of citeflow.toml, else the manuscript's folder"


class Refusal(Enum):
    """Why a file named by a manuscript is not read."""

    OUTSIDE = "outside-root"
    SYMLINK = "symlink-outside-root"
    MISSING = "missing"
    NOT_BIBLIOGRAPHY = "not-a-bibliography"


@dataclass
class PathRefused(CiteflowError):
    """A file a manuscript names that citeflow will not read; ``refusal`` says why."""

    refusal: Refusal | None = None


def project_root(manuscript: str | Path, config: Config) -> Path:
    """The project root of ``manuscript`` (resolved): the config's folder, else its own."""
    if config.path is not None:
        return Path(config.root).resolve()
    return Path(manuscript).absolute().parent.resolve()


def inside(path: str | Path, root: Path) -> bool:
    """True when ``path``, symbolic links resolved, is ``root`` or lies below it."""
    return Path(path).resolve().is_relative_to(root)


def refusal_of(path: str | Path, root: Path, must_exist: bool = True) -> Refusal | None:
    """Why ``path`` may not be read for a manuscript under ``root``; None when it may."""
    path = Path(path)
    if not inside(path, root):
        lexical = Path(os.path.normpath(path.absolute()))
        return Refusal.SYMLINK if lexical.is_relative_to(root) else Refusal.OUTSIDE
    if must_exist and not path.resolve().is_file():
        return Refusal.MISSING
    return None


def reason(path: str | Path, root: Path, refusal: Refusal) -> str:
    """Why ``path`` is refused, as the end of a sentence: "lies outside the project root ..."."""
    if refusal is Refusal.SYMLINK:
        return (f"is a symbolic link to {Path(path).resolve()}, outside the project root {root} "
                f"({ROOT_HINT})")
    if refusal is Refusal.OUTSIDE:
        return f"lies outside the project root {root} ({ROOT_HINT})"
    if refusal is Refusal.NOT_BIBLIOGRAPHY:
        return ("is not a bibliography file (the name must end in "
                + ", ".join(BIBLIOGRAPHY_SUFFIXES) + ")")
    return "is not found"


def describe(what: str, path: str | Path, root: Path, refusal: Refusal) -> str:
    """One line saying why ``path`` (a ``what``: "bibliography", "CSL style") is refused."""
    shown = os.path.normpath(path)
    if refusal is Refusal.MISSING:
        return f"{what} file not found: {shown}"
    return f"{what} {shown} {reason(path, root, refusal)}"


def require_inside(path: str | Path, root: Path, what: str, file: str | Path | None = None,
                   line: int | None = None, must_exist: bool = True) -> Path:
    """``path`` when it may be read for a manuscript under ``root``, else :class:`PathRefused`
    located at ``file``/``line`` (where the path was named)."""
    refusal = refusal_of(path, root, must_exist)
    if refusal is not None:
        raise PathRefused(describe(what, path, root, refusal), file, line, refusal)
    return Path(path)


def require_manuscript(path: str | Path, root: Path) -> None:
    """Refuse a manuscript that is a symbolic link out of the project root (one committed
    in a manuscripts folder). A manuscript named on the command line may lie anywhere."""
    if refusal_of(path, root, must_exist=False) is Refusal.SYMLINK:
        raise PathRefused(describe("manuscript", path, root, Refusal.SYMLINK), path, None,
                          Refusal.SYMLINK)


def bibliography_files(manuscript: Manuscript, config: Config, root: Path | None = None,
                       must_exist: bool = True) -> list[Path]:
    """The manuscript's bibliographies (front matter, else the project's), each checked.

    A bibliography must lie inside the project root, be named as a bibliography
    (:data:`BIBLIOGRAPHY_SUFFIXES`) and, with ``must_exist``, exist; otherwise
    :class:`PathRefused` names the front-matter line (or the config file) and the reason.
    """
    if root is None:
        root = project_root(manuscript.path or manuscript.folder / "manuscript.md", config)
    paths = manuscript.bibliography_paths()
    if paths:
        where: tuple[Path | None, int | None] = (manuscript.path,
                                                  manuscript.front_matter_line("bibliography"))
    else:
        paths, where = config.bibliography, (config.path, None)
    for path in paths:
        refusal = refusal_of(path, root, must_exist)
        if refusal in (Refusal.OUTSIDE, Refusal.SYMLINK):
            raise PathRefused(describe("bibliography", path, root, refusal), *where, refusal)
        if path.suffix.lower() not in BIBLIOGRAPHY_SUFFIXES:
            raise PathRefused(describe("bibliography", path, root, Refusal.NOT_BIBLIOGRAPHY),
                              *where, Refusal.NOT_BIBLIOGRAPHY)
        if refusal is not None:
            raise PathRefused(describe("bibliography", path, root, refusal), *where, refusal)
    return list(paths)
