"""Read a manuscript once: front matter, blocks and their exact source positions.

A manuscript is Pandoc Markdown with optional YAML front matter. This module does not run
Pandoc: it splits the source into blocks (paragraphs, headings, list items, block quotes,
tables, footnotes, code, HTML comments) keeping, for every character of a block's prose, the
offset it came from. Later stages (placeholders, citations, claims) work on that prose and
report ``line:column`` positions that point into the original file, whatever the list
markers, quote prefixes, front matter, CRLF line endings or byte-order mark around them.
"""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import yaml

from citeflow.errors import CiteflowError
from citeflow.files import read_text_exact

BOM = "\ufeff"

class BlockKind(str, Enum):
    """What a block of the body is. Values compare equal to their names as text."""

    PARAGRAPH = "paragraph"
    HEADING = "heading"
    LIST_ITEM = "list_item"
    BLOCKQUOTE = "blockquote"
    TABLE = "table"
    FOOTNOTE = "footnote"
    CODE = "code"
    COMMENT = "comment"
    HTML = "html"

    def __str__(self) -> str:
        return self.value


# Block kinds whose text is prose (searched for citations, placeholders and claims).
PROSE_KINDS = frozenset({BlockKind.PARAGRAPH, BlockKind.HEADING, BlockKind.LIST_ITEM,
                         BlockKind.BLOCKQUOTE, BlockKind.TABLE, BlockKind.FOOTNOTE})


@dataclass
class Block:
    """One block of the manuscript body.

    ``start``/``end`` are offsets into :attr:`Manuscript.text`. ``content`` is the block's
    prose with structural prefixes removed (list markers, ``>`` quote marks, heading ``#``,
    the ``[^n]:`` of a footnote); ``offsets[i]`` is where ``content[i]`` sits in the source.
    Line breaks inside a block become single spaces in ``content``.
    """

    kind: BlockKind
    start: int
    end: int
    content: str = ""
    offsets: list[int] = field(default_factory=list, repr=False)
    level: int = 0  # heading level, or list nesting indent

    def source_offset(self, index: int) -> int:
        """Source offset of ``content[index]`` (``index == len(content)`` maps past the end)."""
        if index < len(self.offsets):
            return self.offsets[index]
        return self.offsets[-1] + 1 if self.offsets else self.start

    @property
    def is_prose(self) -> bool:
        return self.kind in PROSE_KINDS


@dataclass
class Manuscript:
    """A manuscript as read from disk, with its blocks and a line index."""

    path: Path | None
    text: str
    front_matter: dict[str, Any]
    body_start: int
    blocks: list[Block]
    _line_starts: list[int] = field(default_factory=list, repr=False)
    #: Where relative paths of a manuscript given as text (no ``path``) are read from.
    base: Path | None = None

    @property
    def folder(self) -> Path:
        if self.path is not None:
            return self.path.parent
        return self.base if self.base is not None else Path.cwd()

    @property
    def title(self) -> str | None:
        value = self.front_matter.get("title")
        return str(value) if value is not None else None

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and column of a source offset (a BOM is not counted as a column)."""
        index = bisect.bisect_right(self._line_starts, offset) - 1
        line_start = self._line_starts[index]
        column = offset - line_start + 1
        if index == 0 and self.text.startswith(BOM):
            column -= 1
        return index + 1, max(column, 1)

    def prose_blocks(self) -> list[Block]:
        return [b for b in self.blocks if b.is_prose]

    def front_matter_line(self, key: str) -> int | None:
        """The line of the front matter where ``key:`` is set, or None."""
        match = re.search(rf"(?m)^{re.escape(key)}[ \t]*:", self.text[: self.body_start])
        return self.line_col(match.start())[0] if match else None

    def bibliography_paths(self) -> list[Path]:
        """Bibliography files named in the front matter, relative to the manuscript's folder.

        ``bibliography:`` holds a path or a list of paths; anything else (a number, a
        mapping, an empty name) raises :class:`CiteflowError` naming the front-matter line.
        """
        value = self.front_matter.get("bibliography")
        if value is None:
            return []
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(v, str) and v.strip() for v in items):
            raise CiteflowError(
                "bibliography: must be a file name or a list of file names, not "
                f"{_yaml_kind(value)}", self.path, self.front_matter_line("bibliography"))
        return [self.folder / v.strip() for v in items]


def _yaml_kind(value: Any) -> str:
    """How a front-matter value reads in a message: ``a number (5)``, ``a mapping``."""
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list holding something other than file names"
    if isinstance(value, str):
        return "an empty name"
    return f"a {type(value).__name__}"


# --------------------------------------------------------------------------------------
# Reading


def read_manuscript(path: str | Path) -> Manuscript:
    """Read and split a manuscript file. Raises :class:`CiteflowError` naming file and line."""
    path = Path(path)
    if not path.is_file():
        raise CiteflowError("manuscript not found", path)
    try:
        text = read_text_exact(path)
    except UnicodeDecodeError as exc:
        raise CiteflowError(f"not UTF-8 text (byte {exc.start})", path) from exc
    except OSError as exc:
        raise CiteflowError(f"cannot read manuscript: {exc.strerror}", path) from exc
    return parse_manuscript(text, path)


def parse_manuscript(text: str, path: str | Path | None = None) -> Manuscript:
    """Split manuscript ``text`` (as read, newlines untouched) into front matter and blocks."""
    path = Path(path) if path is not None else None
    line_starts = _line_starts(text)
    front_matter, body_start = _front_matter(text, path, line_starts)
    blocks = _split_blocks(text, body_start, line_starts)
    return Manuscript(path, text, front_matter, body_start, blocks, line_starts)


def _line_starts(text: str) -> list[int]:
    starts = [0]
    for match in re.finditer(r"\r\n|\r|\n", text):
        starts.append(match.end())
    return starts


_FM_OPEN = re.compile(r"\A\ufeff?---[ \t]*(\r\n|\r|\n)")


def _front_matter(text: str, path: Path | None, line_starts: list[int]) -> tuple[dict, int]:
    opening = _FM_OPEN.match(text)
    if not opening:
        return {}, (1 if text.startswith(BOM) else 0)
    body = text[opening.end():]
    # Search line by line so CRLF files behave like LF ones.
    closing = re.search(r"(?m)^(---|\.\.\.)[ \t]*\r?$", body)
    if closing is None:
        raise CiteflowError("front matter opened with '---' is never closed", path, 1)
    yaml_text = body[: closing.start()]
    try:
        data = yaml.safe_load(yaml_text) if yaml_text.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 2 if mark is not None else 1  # +1 for 1-based, +1 for '---'
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise CiteflowError(f"malformed YAML front matter: {problem}", path, line) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise CiteflowError("front matter must be a YAML mapping (key: value)", path, 2)
    if not _expands_within(data, 4 * len(yaml_text) + 10_000):
        raise CiteflowError("front matter expands to far more data than it holds (YAML aliases)", path, 2)
    end = opening.end() + closing.end()
    # Step over the newline that ends the closing fence.
    newline = re.match(r"\r\n|\r|\n", text[end:])
    if newline:
        end += newline.end()
    return data, end


def _expands_within(data: Any, budget: int) -> bool:
    """True when ``data``, with every YAML alias written out, holds at most ``budget``
    values and characters. Aliases let a few lines stand for a structure of exponential
    size (or a cycle) that anything printing a front-matter value would walk."""
    stack = [data]
    while stack:
        value = stack.pop()
        budget -= 1 + (len(value) if isinstance(value, (str, bytes)) else 0)
        if budget < 0:
            return False
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, (list, tuple, set)):
            stack.extend(value)
    return True


# --------------------------------------------------------------------------------------
# Block splitting

_FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})")
_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+|$)")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_LIST = re.compile(r"^( {0,3}|[ \t]*)([-*+•]|\d{1,9}[.)]|#\.|\(?[a-zA-Z][.)])([ \t]+)")
_QUOTE = re.compile(r"^ {0,3}> ?")
_FOOTNOTE = re.compile(r"^ {0,3}\[\^[^\]\s]+\]:[ \t]*")
_HRULE = re.compile(r"^ {0,3}([-*_])([ \t]*\1){2,}[ \t]*$")
_COMMENT_OPEN = re.compile(r"^ {0,3}<!--")
_HTML_BLOCK = re.compile(r"^ {0,3}<(div|/div|table|/table|pre|script|style|figure|/figure)\b", re.I)
_RULE_CHARS = frozenset("-+:| ")


# Lines are classified by the functions below rather than by regular expressions such as
# ``^\s*[-+:| ]{3,}\s*$``, whose backtracking grows with the cube of a line's indentation.


def _is_rule_row(line: str, minimum: int = 1) -> bool:
    """True when ``line`` is white space around at least ``minimum`` characters of
    ``-+:| `` (a table's delimiter row: ``|---|:--|``), as the whole line would match
    ``\\s*[-+:| ]{minimum,}\\s*``."""
    core = line.strip()
    if not core:  # only white space: a run of plain spaces must make up the minimum
        return " " * minimum in line
    if not all(char in _RULE_CHARS for char in core):
        return False
    lead, trail = line[: len(line) - len(line.lstrip())], line[len(line.rstrip()) :]
    spaces = len(lead) - len(lead.rstrip(" ")) + len(trail) - len(trail.lstrip(" "))
    return len(core) + spaces >= minimum


def _is_table_line(line: str) -> bool:
    """A line of a pipe table: ``| a | b |`` or a delimiter row of three or more characters."""
    core = line.strip()
    if len(core) >= 2 and core[0] == "|" and core[-1] == "|":
        return True
    return _is_rule_row(line, 3)


def _strip_heading_end(body: str) -> str:
    """A heading's text without closing hashes (``## Title ##``) or attributes
    (``# Title {#id}``), read from the end of the line: what removing a match of
    ``[ \\t]+#+[ \\t]*$|[ \\t]*\\{[^}]*\\}[ \\t]*$`` leaves, in linear time."""
    text = body.rstrip(" \t")
    cuts = []
    hashes = text.rstrip("#")
    if len(hashes) < len(text) and hashes[-1:] in (" ", "\t"):
        cuts.append(len(hashes.rstrip(" \t")))
    if text.endswith("}"):
        previous = text.rfind("}", 0, len(text) - 1)
        opening = text.find("{", previous + 1, len(text) - 1)
        if opening >= 0:
            cuts.append(len(text[:opening].rstrip(" \t")))
    return body[: min(cuts)] if cuts else body


def _body_lines(text: str, body_start: int, line_starts: list[int]) -> list[tuple[int, str]]:
    """The lines of the body as (start offset, text without its newline)."""
    lines: list[tuple[int, str]] = []
    first = bisect.bisect_right(line_starts, body_start) - 1
    for i in range(first, len(line_starts)):
        start = max(line_starts[i], body_start)
        end = line_starts[i + 1] if i + 1 < len(line_starts) else len(text)
        if start == end and i + 1 < len(line_starts):
            continue
        lines.append((start, text[start:end].rstrip("\r\n")))
    if lines and lines[-1][1] == "" and lines[-1][0] == len(text):
        lines.pop()
    return lines


class _BlockScanner:
    """Splits body lines into blocks, one construct at a time.

    Each ``_try_*`` method looks at the line at :attr:`i`; when the construct starts there it
    appends its block(s), moves :attr:`i` past them and returns True. The order of the
    tries is Pandoc's order of precedence for the constructs citeflow tells apart.
    """

    def __init__(self, lines: list[tuple[int, str]]) -> None:
        self.lines = lines
        self.n = len(lines)
        self.i = 0
        self.blocks: list[Block] = []
        self.previous_blank = True
        self.in_list = False

    def scan(self) -> list[Block]:
        tries = (self._try_fence, self._try_comment, self._try_indented_code, self._try_html,
                 self._try_heading, self._try_rule, self._try_table)
        while self.i < self.n:
            line = self.lines[self.i][1]
            if not line.strip():
                self.previous_blank = True
                self.i += 1
                continue
            if not any(attempt(line) for attempt in tries):
                self._prose(line)
        return self.blocks

    def _close(self, kind: BlockKind, j: int, *, keeps_blank: bool = False) -> None:
        """A block of ``kind`` from the current line to line ``j`` (no prose content)."""
        self.blocks.append(Block(kind, self.lines[self.i][0], _line_end(self.lines, j)))
        self.i = j + 1
        if not keeps_blank:
            self.previous_blank = False

    def _try_fence(self, line: str) -> bool:
        fence = _FENCE.match(line)
        if not fence:
            return False
        marker = fence.group(2)
        closing = marker[0] * len(marker)
        j = self.i + 1
        while j < self.n and not self.lines[j][1].lstrip().startswith(closing):
            j += 1
        self._close(BlockKind.CODE, min(j, self.n - 1))
        return True

    def _try_comment(self, line: str) -> bool:
        if not _COMMENT_OPEN.match(line):
            return False
        j = self.i
        while j < self.n and "-->" not in self.lines[j][1]:
            j += 1
        self._close(BlockKind.COMMENT, min(j, self.n - 1), keeps_blank=True)
        return True

    def _try_indented_code(self, line: str) -> bool:
        if not (self.previous_blank and not self.in_list and line.startswith(("    ", "\t"))):
            return False
        j = self.i
        while j + 1 < self.n and (self.lines[j + 1][1].startswith(("    ", "\t"))
                                  or not self.lines[j + 1][1].strip()):
            j += 1
        while j > self.i and not self.lines[j][1].strip():
            j -= 1
        self._close(BlockKind.CODE, j)
        return True

    def _try_html(self, line: str) -> bool:
        if not _HTML_BLOCK.match(line):
            return False
        j = self.i
        while j + 1 < self.n and self.lines[j + 1][1].strip():
            j += 1
        self._close(BlockKind.HTML, j, keeps_blank=True)
        return True

    def _try_heading(self, line: str) -> bool:
        heading = _HEADING.match(line)
        if not heading:
            return False
        start = self.lines[self.i][0]
        content_start = heading.end()
        block = Block(BlockKind.HEADING, start, start + len(line), level=len(heading.group(1)))
        _fill(block, [(start + content_start, _strip_heading_end(line[content_start:]))])
        self.blocks.append(block)
        self.i += 1
        self.previous_blank = False
        self.in_list = False
        return True

    def _try_rule(self, line: str) -> bool:
        if not _HRULE.match(line):
            return False
        self.i += 1
        self.previous_blank = False
        return True

    def _try_table(self, line: str) -> bool:
        if "|" not in line or not _is_table_line(line):
            return False
        j = self.i
        while j + 1 < self.n and self.lines[j + 1][1].strip() and "|" in self.lines[j + 1][1]:
            j += 1
        block = Block(BlockKind.TABLE, self.lines[self.i][0], _line_end(self.lines, j))
        pieces = []
        for row_start, row in self.lines[self.i:j + 1]:
            if _is_rule_row(row):
                continue
            for cell in re.finditer(r"[^|]+", row):
                if cell.group().strip():
                    lead = len(cell.group()) - len(cell.group().lstrip())
                    pieces.append((row_start + cell.start() + lead, cell.group().strip()))
        _fill(block, pieces, joiner=" | ")
        self.blocks.append(block)
        self.i = j + 1
        self.previous_blank = False
        return True

    def _opening(self, line: str) -> tuple[BlockKind, int]:
        """The kind of prose block ``line`` opens and where its text starts."""
        list_match = _LIST.match(line)
        if list_match:
            self.in_list = True
            return BlockKind.LIST_ITEM, list_match.end()
        quote_match = _QUOTE.match(line)
        if quote_match:
            return BlockKind.BLOCKQUOTE, quote_match.end()
        foot_match = _FOOTNOTE.match(line)
        if foot_match:
            return BlockKind.FOOTNOTE, foot_match.end()
        if self.previous_blank:
            self.in_list = self.in_list and line.startswith((" ", "\t"))
        return BlockKind.PARAGRAPH, len(line) - len(line.lstrip())

    def _prose(self, line: str) -> None:
        """A paragraph, list item, block quote or footnote, with its continuation lines."""
        start = self.lines[self.i][0]
        kind, prefix = self._opening(line)
        pieces = [(start + prefix, line[prefix:])]
        j = self.i
        while j + 1 < self.n:
            nxt_start, nxt = self.lines[j + 1]
            if not nxt.strip() or _FENCE.match(nxt) or _HEADING.match(nxt) or _COMMENT_OPEN.match(nxt):
                break
            if kind == BlockKind.PARAGRAPH and _SETEXT.match(nxt) and not _LIST.match(nxt):
                kind = BlockKind.HEADING  # a setext heading: the paragraph so far is its text
                j += 1
                break
            if _LIST.match(nxt) and kind in (BlockKind.LIST_ITEM, BlockKind.PARAGRAPH):
                break
            if kind == BlockKind.BLOCKQUOTE:
                quote = _QUOTE.match(nxt)
                cut = quote.end() if quote else len(nxt) - len(nxt.lstrip())
            else:
                if kind == BlockKind.PARAGRAPH and _QUOTE.match(nxt):
                    break
                cut = len(nxt) - len(nxt.lstrip())
            pieces.append((nxt_start + cut, nxt[cut:]))
            j += 1
        block = Block(kind, start, _line_end(self.lines, j))
        if kind == BlockKind.HEADING:
            block.level = 1 if self.lines[j][1].strip().startswith("=") else 2
        _fill(block, pieces)
        self.blocks.append(block)
        self.i = j + 1
        self.previous_blank = False


def _split_blocks(text: str, body_start: int, line_starts: list[int]) -> list[Block]:
    """The blocks of the body (after the front matter), in order."""
    return _BlockScanner(_body_lines(text, body_start, line_starts)).scan()


def _line_end(lines: list[tuple[int, str]], j: int) -> int:
    start, line = lines[j]
    return start + len(line)


def _fill(block: Block, pieces: list[tuple[int, str]], joiner: str = " ") -> None:
    """Build ``content``/``offsets`` from (source offset, text) pieces of one block."""
    parts: list[str] = []
    offsets: list[int] = []
    for index, (offset, piece) in enumerate(pieces):
        piece = piece.rstrip()
        if index and parts:
            parts.append(joiner)
            last = offsets[-1] if offsets else offset
            offsets.extend([last + 1] * len(joiner))
        parts.append(piece)
        offsets.extend(range(offset, offset + len(piece)))
    block.content = "".join(parts)
    block.offsets = offsets


# --------------------------------------------------------------------------------------
# Regions of prose that are not prose: code spans, link targets, raw HTML, math.

# Everything but code spans, in the order the alternatives are tried at one position. An
# autolink and an HTML comment are found by their opening only: whether and where they
# close is looked up once per closer (see _scan_protected), since a regular expression
# would scan to the end of the text again from every unclosed ``<!--`` or ``<http:``.
_PROTECTED_OTHER = re.compile(
    r"(?P<linkurl>\]\((?:[^()\s]|\([^()]*\))*(?:\s+\"[^\"]*\")?\))"  # ](url "title")
    r"|(?P<autolink><(?:https?|ftp|mailto):)"  # <http://...>
    r"|(?P<comment><!--)"  # inline HTML comment
    r"|(?P<math>\$\$.+?\$\$|(?<![\\$\w])\$(?=\S)[^$\n]+?(?<=\S)\$(?![\w$]))"  # TeX math
    r"|(?P<tag></?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>)",  # raw HTML tag
    re.S,
)
_AUTOLINK_STOP = re.compile(r"[>\s]")
_BACKTICKS = re.compile(r"`+")


class _CodeSpans:
    """Code spans of one text, found in time linear in its length.

    The rule is that of the expression ``(`+)(?:(?!\1).)+?\1`` tried at each position: a
    run of backticks opens a span that ends at the first later run at least as long as the
    opening (or, when there is none, as long as the longest later run, if that is more
    than half the opening), as Pandoc reads a code span for well-formed input.
    """

    def __init__(self, text: str) -> None:
        runs = [(m.start(), m.end() - m.start()) for m in _BACKTICKS.finditer(text)]
        self.starts = [start for start, _ in runs]
        self.lengths = [length for _, length in runs]
        # longest run after each run (0 after the last)
        self.longest_after = [0] * len(runs)
        longest = 0
        for index in range(len(runs) - 1, -1, -1):
            self.longest_after[index] = longest
            longest = max(longest, self.lengths[index])

    def first(self, position: int, limit: int) -> tuple[int, int] | None:
        """The first code span that starts in ``[position, limit)``, or None."""
        index = bisect.bisect_right(self.starts, position) - 1
        if index < 0 or self.starts[index] + self.lengths[index] <= position:
            index += 1
        while index < len(self.starts):
            run_end = self.starts[index] + self.lengths[index]
            longest = self.longest_after[index]
            # From p the opening is run_end - p backticks: a span opens once that is less
            # than twice the longest later run.
            start = max(position, self.starts[index], run_end - 2 * longest + 1)
            if start >= limit:
                return None
            if longest and start < run_end:
                length = min(run_end - start, longest)
                closer = index + 1
                while self.lengths[closer] < length:
                    closer += 1
                return start, self.starts[closer] + length
            index += 1
        return None


def _scan_protected(content: str) -> list[tuple[int, int]]:
    """(start, end) of code spans, link targets, autolinks, comments, math and tags, left to
    right and never overlapping, as one alternation of all of them would find them."""
    ranges: list[tuple[int, int]] = []
    code = _CodeSpans(content) if "`" in content else None
    comments_from = content.find("-->")  # no comment closes before this
    stop_from, stop_at = -1, -1  # a known run without '>' or white space, and where it ends
    position = 0
    other, searched = None, False  # the next match of _PROTECTED_OTHER (None: no more)
    while position < len(content):
        if not searched or (other is not None and other.start() < position):
            other, searched = _PROTECTED_OTHER.search(content, position), True
        limit = other.start() if other is not None else len(content)
        span = code.first(position, limit) if code is not None else None
        if span is not None:
            ranges.append(span)
            position = span[1]
            continue
        if other is None:
            break
        start, end = other.start(), other.end()
        if other.lastgroup == "autolink":
            if not stop_from <= end <= stop_at:
                found = _AUTOLINK_STOP.search(content, end)
                stop_from, stop_at = end, found.start() if found else len(content)
            end = stop_at + 1 if stop_at > other.end() and content[stop_at : stop_at + 1] == ">" else -1
        elif other.lastgroup == "comment":
            if comments_from >= 0 and comments_from < start + 4:
                comments_from = content.find("-->", start + 4)
            end = comments_from + 3 if comments_from >= 0 else -1
        if end < 0:  # an opening that never closes
            position = start + 1
            continue
        ranges.append((start, end))
        position = end
    return ranges


def protected_ranges(content: str) -> list[tuple[int, int]]:
    """(start, end) ranges of ``content`` that are code, link targets, raw HTML or math.

    Placeholders and citations are never looked for inside them. Reference definitions
    (``[label]: URL``) are protected as a whole.
    """
    return list(_protected_ranges(content))


@functools.lru_cache(maxsize=4096)
def _protected_ranges(content: str) -> tuple[tuple[int, int], ...]:
    # Cached: citations, placeholders and claims each ask for the same block.
    ranges = _scan_protected(content)
    ref_def = re.match(r"^\s{0,3}\[[^\]]+\]:\s*\S+", content)
    if ref_def and not content.lstrip().startswith("[^"):
        ranges.insert(0, (0, len(content)))
    return tuple(ranges)


#: Candidate references for a sentence are ranked with the rest of its paragraph; of a longer
#: paragraph, with the run of consecutive sentences around it of at most this many characters,
#: so that ranking every sentence of a paragraph costs time linear in the paragraph's length.
PARAGRAPH_CONTEXT = 4000


def context_spans(sentences: list[tuple[int, int]], length: int,
                  limit: int = PARAGRAPH_CONTEXT) -> list[tuple[int, int]]:
    """(start, end) of the parts of a text of ``length`` characters that sentences (sorted
    ``sentences`` spans) use as their paragraph: the whole text when it is at most ``limit``
    characters long, else runs of consecutive sentences of at most ``limit`` characters (a
    longer sentence on its own), together covering the text."""
    if length <= limit:
        return [(0, length)]
    parts, start = [], 0
    for first, last in sentences:
        if last - start > limit and first > start:
            parts.append((start, first))
            start = first
    parts.append((start, length))
    return parts


def in_ranges(position: int, ranges: list[tuple[int, int]]) -> bool:
    """True when ``position`` falls inside one of the sorted ``ranges``."""
    index = bisect.bisect_right(ranges, (position, float("inf"))) - 1
    return index >= 0 and ranges[index][0] <= position < ranges[index][1]
