"""Turn a draft (.txt scraped from the web, .docx, .html) into a citeflow manuscript.

The result is Pandoc Markdown that starts with YAML front matter::

    ---
    title: 'Dupixent and Joint Pain: Understanding the Connection'
    bibliography: ../references/dupilumab.bib
    csl: american-medical-association
    ---

``bibliography`` is written relative to the manuscript's own folder (that is how
``citeflow render`` reads it) and comes from the project's ``citeflow.toml``; ``csl`` is the
project style.

Plain text (:func:`text_to_markdown`) is converted by citeflow itself, because web pages
copied as text carry page furniture that Pandoc cannot know about:

* page chrome is dropped: "close" buttons, "3 min read 11-12-2024" bylines, lines that
  repeat above the article (the page slug shown several times), and the trailing
  "Related Posts" / "Latest Posts" / "Popular Posts" headings;
* the first line left above the article text is its title and goes to the front matter
  (other short lines there, such as a byline, stay in the body);
* a short, title-cased line ending in ":" ("Practical Implications and Advice:") becomes a
  ``#`` heading; a lower-case lead-in ("If you experience joint pain ...:") stays a
  paragraph;
* bullet lines ("•", "◦", "▪", "·") become a Markdown list;
* every other line is a paragraph, kept word for word, including placeholders such as
  "(Note: Specific citations would be inserted here...)".

Characters that Pandoc Markdown would read as markup (``*``, ``_``, ``[``, ``@``, ``$``,
``<``, a leading ``#`` or ``1.`` ...) are backslash-escaped, so Pandoc reads the prose back
exactly as written. Straight quotes and apostrophes are left alone: Pandoc's ``smart``
typography turns them into curly ones when rendering, which is wanted.

.docx and .html go through Pandoc (``pypandoc``): the document title (or a leading level-1
heading) becomes the front-matter title and the body is written as Markdown without line
wrapping. Embedded images are not extracted.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from citeflow.config import DEFAULT_STYLE, Config, load_config
from citeflow.document.markdown import escape_markdown
from citeflow.errors import CiteflowError
from citeflow.files import atomic_write_text
from citeflow.pandoc import plain_text, run_pandoc

SUPPORTED = (".txt", ".docx", ".html", ".htm")

# -- page chrome -----------------------------------------------------------------------

_CHROME = re.compile(
    r"""^(?:close|menu|share|search|skip\ to\ (?:main\ )?content|advertisement
        |related\ posts|latest\ posts|popular\ posts|recent\ posts|you\ may\ also\ like
        |\d+\ min(?:ute)?s?\ read(?:\b.*)?)$""",
    re.I | re.X,
)
_BULLET = re.compile(r"^\s*[•◦▪·‣●]\s*")
_SENTENCE_END = re.compile(r"[.!?…)\"”]$")


def is_chrome(line: str) -> bool:
    """A line of page furniture rather than article text."""
    return bool(_CHROME.match(line.strip()))


def is_heading(line: str) -> bool:
    """A short line ending in ":" whose longer words are mostly capitalised.

    "Understanding Dupixent's Mechanism of Action:" is a heading; "If you experience
    joint pain while taking Dupilumab:" introduces a list and stays a paragraph.
    """
    text = line.strip()
    if not text.endswith(":") or len(text) > 90 or len(text.split()) > 12:
        return False
    words = [w.strip("()[]\"'") for w in text[:-1].split()]
    long_words = [w for w in words if len(w) >= 4]
    if not long_words:
        return text[0].isupper()
    capitalised = sum(1 for w in long_words if w[0].isupper() or not w[0].isalpha())
    return capitalised / len(long_words) >= 0.6


# -- escaping --------------------------------------------------------------------------

# An escaped bracket pair with no bracket inside: ``\[citation needed\]``, ``\[doi:10.1/x\]``.
_ESCAPED_BRACKETS = re.compile(r"\\\[((?:[^\[\]\\\n]|\\[^\[\]\n])*)\\\](?![(\[{:])")
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def keep_placeholders(markdown: str) -> str:
    r"""Undo the escaping of bracketed citation placeholders.

    Escaping keeps the prose verbatim, but ``\[citation needed\]`` or ``\[doi:...\]`` would
    no longer be a placeholder that ``citeflow resolve`` and ``check`` can find. A bracket pair
    is restored when its text, unescaped, is exactly one placeholder; it is never followed by
    ``(``, ``[``, ``{`` or ``:``, so it cannot turn into a link, and Pandoc reads it back as the
    same text. Other bracketed text, ``[@key]`` included, stays escaped: a draft's words are
    imported as words.
    """
    from citeflow.document.manuscript import parse_manuscript
    from citeflow.document.placeholders import find_placeholders

    def restore(match: re.Match[str]) -> str:
        candidate = "[" + _ESCAPE.sub(r"\1", match.group(1)) + "]"
        probe = parse_manuscript(candidate + "\n")
        found = find_placeholders(probe)
        if len(found) == 1 and found[0].start == 0 and found[0].end == len(candidate):
            return candidate
        return match.group(0)

    if "\\[" not in markdown:
        return markdown
    return _ESCAPED_BRACKETS.sub(restore, markdown)


def yaml_quote(text: str) -> str:
    """A single-quoted YAML scalar (backslashes stay literal, quotes are doubled)."""
    return "'" + text.replace("'", "''") + "'"


# -- plain text ------------------------------------------------------------------------


@dataclass
class Draft:
    """A converted draft: its title (Markdown, escaped) and its Markdown body."""

    title: str | None
    body: str


def _is_body_line(line: str) -> bool:
    """A line of article text rather than a title: long, a sentence, or a bullet."""
    return len(line) > 150 or bool(_SENTENCE_END.search(line)) or bool(_BULLET.match(line))


def split_preamble(lines: list[str]) -> tuple[str | None, list[str]]:
    """The title and the lines left to convert.

    The preamble is what comes before the first line of article text. In it, page chrome
    and lines that repeat (the page slug shown several times) are dropped; the first line
    left is the title; any other line left (a byline, a subtitle) stays in the body.
    If every preamble line repeats, the last one is the title.
    """
    stripped = [line.strip() for line in lines]
    first_body = next((i for i, line in enumerate(stripped) if line and _is_body_line(line)),
                      len(lines))
    preamble = [line for line in stripped[:first_body] if line and not is_chrome(line)]
    counts: dict[str, int] = {}
    for line in preamble:
        counts[line.lower()] = counts.get(line.lower(), 0) + 1
    kept = [line for line in preamble if counts[line.lower()] == 1]
    if kept:
        return kept[0], kept[1:] + lines[first_body:]
    return (preamble[-1] if preamble else None), lines[first_body:]


def parse_text(text: str) -> Draft:
    """Split web-scraped plain text into a title and a Markdown body (see module docstring)."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    title, lines = split_preamble([line.rstrip() for line in text.split("\n")])
    if title is not None:
        title = escape_markdown(title[:-1].rstrip() if is_heading(title) else title)

    blocks: list[str] = []  # Markdown blocks, joined later by blank lines
    list_items: list[str] = []

    def flush_list() -> None:
        if list_items:
            blocks.append("\n".join(list_items))
            list_items.clear()

    for line in lines:
        stripped = line.strip()
        if not stripped or is_chrome(stripped):
            continue
        bullet = _BULLET.match(line)
        if bullet:
            list_items.append("- " + escape_markdown(line[bullet.end():].strip()))
            continue
        flush_list()
        if is_heading(stripped):
            blocks.append("# " + escape_markdown(stripped[:-1].rstrip(), heading=True))
        else:
            blocks.append(escape_markdown(stripped))
    flush_list()
    return Draft(title, "\n\n".join(blocks) + "\n" if blocks else "")


def text_to_markdown(text: str) -> str:
    """The Markdown body (without front matter) of a web-scraped plain-text draft."""
    return keep_placeholders(parse_text(text).body)


# -- Pandoc formats --------------------------------------------------------------------


def _meta_text(value: dict | None) -> str | None:
    if not value:
        return None
    if value["t"] == "MetaString":
        return value["c"]
    if value["t"] == "MetaInlines":
        return plain_text(value["c"])
    if value["t"] == "MetaBlocks":
        return " ".join(plain_text(b["c"]) for b in value["c"] if b["t"] in ("Para", "Plain"))
    return None


def parse_with_pandoc(path: Path) -> Draft:
    """Convert a .docx or .html draft through Pandoc's JSON AST to Markdown."""
    reader = "docx" if path.suffix.lower() == ".docx" else "html"
    ast = json.loads(run_pandoc(["-f", reader, "-t", "json", str(path)], b"", path)[0])
    title = _meta_text(ast.get("meta", {}).get("title"))
    blocks = ast.get("blocks", [])
    if blocks and blocks[0]["t"] == "Header" and blocks[0]["c"][0] == 1:
        heading_text = plain_text(blocks[0]["c"][2])
        if title is None or heading_text.strip() == title.strip():
            title = heading_text
            blocks = blocks[1:]
    ast["blocks"] = blocks
    ast["meta"] = {}
    body = run_pandoc(["-f", "json", "-t", "markdown", "--wrap=none"], json.dumps(ast).encode(),
                      path)[0].decode("utf-8")
    body = body.strip("\n") + "\n" if body.strip() else ""
    return Draft(escape_markdown(" ".join(title.split())) if title else None, body)


# -- front matter and output -------------------------------------------------------------


def front_matter(title: str | None, manuscript_folder: Path, config: Config) -> str:
    """YAML front matter with bibliography paths relative to the manuscript's folder."""
    lines = ["---"]
    if title:
        lines.append(f"title: {yaml_quote(title)}")
    bibs = [_relative(p, manuscript_folder) for p in config.bibliography]
    if len(bibs) == 1:
        lines.append(f"bibliography: {yaml_quote(bibs[0]) if _needs_quote(bibs[0]) else bibs[0]}")
    elif bibs:
        lines.append("bibliography:")
        lines.extend(f"  - {yaml_quote(b) if _needs_quote(b) else b}" for b in bibs)
    style = config.style or DEFAULT_STYLE
    if style.endswith(".csl"):
        style = _relative(Path(style), manuscript_folder)
    lines.append(f"csl: {yaml_quote(style) if _needs_quote(style) else style}")
    lines.append("---")
    return "\n".join(lines) + "\n"


def _needs_quote(value: str) -> bool:
    return not re.fullmatch(r"[A-Za-z0-9._/\-]+", value)


def _relative(target: Path, folder: Path) -> str:
    return Path(os.path.relpath(Path(target).resolve(), folder.resolve())).as_posix()


def draft_to_manuscript(path: Path, manuscript_folder: Path, config: Config) -> str:
    """The whole manuscript text for the draft at ``path``."""
    suffix = path.suffix.lower()
    if suffix == ".txt":
        try:
            raw = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CiteflowError(f"not UTF-8 text (byte {exc.start})", path) from exc
        draft = parse_text(raw)
    else:
        draft = parse_with_pandoc(path)
    head = front_matter(draft.title, manuscript_folder, config)
    body = keep_placeholders(draft.body)
    return head + ("\n" + body if body else "")


def import_draft(
    path: str | Path,
    output: str | Path | None = None,
    force: bool = False,
    config: Config | None = None,
) -> Path:
    """Convert the draft at ``path`` into a manuscript and write it atomically.

    ``output`` defaults to ``manuscripts/STEM.md`` in the project (the folder named by
    ``manuscripts`` in ``citeflow.toml``, found from the working directory). An existing
    output is never overwritten unless ``force`` is true. Returns the path written.
    """
    path = Path(path)
    if not path.is_file():
        raise CiteflowError("draft not found", path)
    if path.suffix.lower() not in SUPPORTED:
        raise CiteflowError(
            f"cannot import '{path.suffix or path.name}' files (supported: .txt, .docx, .html)", path
        )
    if output is None:
        config = config or load_config(Path.cwd())
        target = config.manuscripts_dir / f"{path.stem}.md"
    else:
        target = Path(output)
        if config is None:
            existing = target.parent if target.parent.is_dir() else Path.cwd()
            config = load_config(existing)
    if target.exists() and not force:
        raise CiteflowError("output exists; use --force to overwrite it", target)
    if target.is_dir():
        raise CiteflowError("output is a folder, not a file", target)
    text = draft_to_manuscript(path, target.parent, config)
    atomic_write_text(target, text)
    return target
