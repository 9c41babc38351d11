"""Images and other files a rendered manuscript refers to: checked, read once, handed over.

No writer reads a file on its own. Pandoc runs with ``--sandbox`` (it reads only the files
on its command line) and Typst compiles in a private folder holding copies of the files it
may use and nothing else (:func:`write_typst_tree`). This module decides which images go into
the outputs and in which form each writer gets them:

* a local image inside the project root (symbolic links resolved) is read once: the HTML
  keeps its path, the DOCX gets it as a ``data:`` URI, Typst under its path in the project;
* a ``data:`` image stays as it is (Typst gets it decoded);
* a remote image (``http:``, ``https:`` ...) is never fetched: the HTML keeps the address
  (the reader's browser loads it), DOCX and PDF show its description;
* anything else (outside the project root, a symbolic link out of it, missing, not an
  image) is dropped everywhere, its description shown instead, with a warning.

For a trusted manuscript, raw Typst may read project files by a literal path
(``#read("data.csv")``, ``#image("/figures/a.png")``): :func:`typst_literal_files` hands
Typst those that lie inside the project root and refuses those that leave it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import mimetypes
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import unquote, unquote_to_bytes, urlparse
from urllib.request import url2pathname

from citeflow.errors import CiteflowError
from citeflow.paths import PathRefused, reason, refusal_of


class ImageKind(Enum):
    """Where an image's bytes come from."""

    LOCAL = "local"
    DATA = "data"
    REMOTE = "remote"


@dataclass
class Image:
    """An image the outputs may show. ``key`` is its path in Typst's root (no leading /)."""

    kind: ImageKind
    src: str
    data: bytes = b""
    mime: str = ""
    key: str = ""


@dataclass
class ImageSet:
    """The images of one document, by their address as written; and the warnings."""

    images: dict[str, Image] = field(default_factory=dict)
    warnings: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, src, message)

    def typst_files(self) -> dict[str, bytes]:
        return {i.key: i.data for i in self.images.values() if i.kind is not ImageKind.REMOTE}


_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):")
#: What replaces an image that is not shown: its description, in a span of this class.
DROPPED_CLASS = "image-dropped"


def _dropped(node: dict) -> dict:
    return {"t": "Span", "c": [["", [DROPPED_CLASS], []], node["c"][1]]}


def image_nodes(ast: dict[str, Any]) -> list[tuple[Any, Any, dict]]:
    """Every Image element of a Pandoc JSON document as (container, key, element)."""
    found = []
    stack: list[Any] = [ast.get("meta", {}), ast.get("blocks", [])]
    while stack:
        container = stack.pop()
        items = container.items() if isinstance(container, dict) else enumerate(container)
        for key, child in items:
            if isinstance(child, dict):
                if child.get("t") == "Image":
                    found.append((container, key, child))
                stack.append(child)
            elif isinstance(child, list):
                stack.append(child)
    return found


def alt_texts(ast: dict[str, Any]) -> dict[str, str]:
    """The alternative text of each image address of a document: the image's description,
    else the caption of the figure holding it. An accessible PDF (PDF/UA-1) needs one for
    every image; Pandoc's Typst writer passes on neither."""
    from citeflow.pandoc import plain_text

    found: dict[str, str] = {}

    def walk(node: Any, caption: str) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, caption)
            return
        if not isinstance(node, dict):
            return
        kind = node.get("t")
        if kind == "Figure":  # [attr, [short caption, caption blocks], blocks]
            blocks = node["c"][1][1]
            text = " ".join(plain_text(b["c"]) for b in blocks
                            if isinstance(b, dict) and b.get("t") in ("Plain", "Para"))
            walk(node["c"][2], " ".join(text.split()) or caption)
            return
        if kind == "Image":
            description = " ".join(plain_text(node["c"][1]).split())
            src = node["c"][2][0]
            if description or caption:
                found.setdefault(src, description or caption)
            return
        if isinstance(node.get("c"), list):
            walk(node["c"], caption)

    walk(ast.get("blocks", []), "")
    return found


def _image_mime(name: str) -> str:
    mime = mimetypes.guess_type(name)[0] or ""
    return mime if mime.startswith("image/") else ""


def _data_image(src: str) -> Image | str:
    """A ``data:`` image, or why it is not one."""
    header, _, payload = src[5:].partition(",")
    mime = header.split(";")[0].strip().lower()
    if not mime.startswith("image/"):
        return "is a data: address that holds no image"
    try:
        data = (base64.b64decode(payload, validate=True) if header.endswith(";base64")
                else unquote_to_bytes(payload))
    except (binascii.Error, ValueError):
        return "is a data: address that cannot be decoded"
    ext = (mimetypes.guess_extension(mime) or ".img").lstrip(".")
    key = f".citeflow-images/{hashlib.sha256(data).hexdigest()[:20]}.{ext}"
    return Image(ImageKind.DATA, src, data, mime, key)


def _local_image(src: str, path: Path, root: Path) -> Image | str:
    refusal = refusal_of(path, root, must_exist=True)
    if refusal is not None:
        return reason(path, root, refusal)
    resolved = path.resolve()
    mime = _image_mime(resolved.name)
    if not mime:
        return "is not an image file"
    try:
        data = resolved.read_bytes()
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    return Image(ImageKind.LOCAL, src, data, mime, resolved.relative_to(root).as_posix())


def classify(src: str, folder: Path, root: Path) -> Image | str:
    """The image at address ``src`` (relative to ``folder``), or why it is not shown."""
    scheme = _SCHEME.match(src)
    kind = scheme.group(1).lower() if scheme else ""
    if kind == "data":
        return _data_image(src)
    if kind == "file":
        return _local_image(src, Path(url2pathname(urlparse(src).path)), root)
    if kind:
        return Image(ImageKind.REMOTE, src)
    return _local_image(src, folder / unquote(src.split("#")[0]), root)


def collect_images(ast: dict[str, Any], folder: Path, root: Path) -> ImageSet:
    """Check every image of ``ast``; those that may not be shown are replaced in place by
    their description, with a warning each."""
    result = ImageSet()
    refused: dict[str, str] = {}
    for container, key, node in image_nodes(ast):
        src = node["c"][2][0]
        if src not in result.images and src not in refused:
            found = classify(src, folder, root)
            if isinstance(found, Image):
                result.images[src] = found
                if found.kind is ImageKind.REMOTE:
                    result.warnings.append(("remote-image", src, f"image {src} is not fetched (citeflow "
                                            "opens no network connection): the HTML links to it, "
                                            "the PDF and DOCX show its description"))
            else:
                refused[src] = found
                result.warnings.append(("image", src, f"image {src} {found}: dropped, its description "
                                        "shown instead"))
        if src in refused:
            container[key] = _dropped(node)
    return result


def swap_images(ast: dict[str, Any], images: ImageSet, fmt: str) -> list[tuple[Any, Any, Any]]:
    """Put each image of ``ast`` in the form the ``fmt`` writer needs (in place); returns
    what :func:`restore` needs to put the document back."""
    changes: list[tuple[Any, Any, Any]] = []
    for container, key, node in image_nodes(ast):
        image = images.images.get(node["c"][2][0])
        if image is None or fmt == "html":
            continue
        if image.kind is ImageKind.REMOTE:
            changes.append((container, key, node))
            container[key] = _dropped(node)
        elif fmt == "docx" and image.kind is ImageKind.LOCAL:
            target = node["c"][2]
            changes.append((target, 0, target[0]))
            target[0] = f"data:{image.mime};base64," + base64.b64encode(image.data).decode("ascii")
        elif fmt == "pdf":
            target = node["c"][2]
            changes.append((target, 0, target[0]))
            target[0] = "/" + image.key
    return changes


def restore(changes: list[tuple[Any, Any, Any]]) -> None:
    for container, key, old in reversed(changes):
        container[key] = old


# -- Typst ---------------------------------------------------------------------------------

#: The name of the document Typst compiles, written into the manuscript's place in the
#: private copy of the project, so that its relative paths start from the manuscript's folder.
TYPST_DOCUMENT = "__citeflow__.typ"


def write_typst_tree(folder: Path, markup: bytes, folder_key: str, files: dict[str, bytes]) -> Path:
    """Write the files Typst may read (``files``, keyed by their path in the project) and the
    document into the empty ``folder``; return the document's path.

    Only regular files are written, none outside ``folder``: with ``folder`` as its root,
    Typst can read these and nothing else.
    """
    document = (folder_key + "/" if folder_key not in ("", ".") else "") + TYPST_DOCUMENT
    for key, data in {**files, document: markup}.items():
        target = folder / key
        if not target.resolve().is_relative_to(folder.resolve()):
            raise CiteflowError(f"cannot hand {key} to Typst: not a path inside the project")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return folder / document


_TYPST_STRING = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
_TYPST_PACKAGE = re.compile(r"^@[\w-]+/[\w-]+(?::[\w.-]+)?$")


def typst_literal_files(pieces: Iterable[str], folder: Path, root: Path,
                        source: Path | None) -> dict[str, bytes]:
    """Project files that raw Typst names by a literal path, for Typst's private root.

    A literal naming a file outside the project root (or a symbolic link out of it) and a
    Typst package (downloaded from the network) are refused with :class:`CiteflowError`.
    """
    files: dict[str, bytes] = {}
    for piece in pieces:
        for match in _TYPST_STRING.finditer(piece):
            literal = re.sub(r"\\(.)", r"\1", match.group(1))
            if _TYPST_PACKAGE.match(literal):
                raise CiteflowError(f"raw Typst imports the package {literal}: refused, citeflow "
                                    "opens no network connection", source)
            if not literal.strip() or "\0" in literal or len(literal) > 1024:
                continue
            path = root / literal.lstrip("/") if literal.startswith("/") else folder / literal
            if not (path.is_symlink() or path.exists()):
                continue
            refusal = refusal_of(path, root, must_exist=False)
            if refusal is not None:
                raise PathRefused(f"raw Typst reads {literal}, which {reason(path, root, refusal)}",
                                  source, None, refusal)
            if path.is_file():  # under the name Typst asks for (a symlink's own name)
                key = Path(os.path.normpath(path)).relative_to(root).as_posix()
                files[key] = path.read_bytes()
    return files
