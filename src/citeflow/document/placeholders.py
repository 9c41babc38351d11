"""Citation placeholders in a manuscript: where a writer meant to put a citation.

Two families are recognised, always with exact source offsets:

*Identifier placeholders* name the work to cite; ``citeflow resolve`` turns them into
Pandoc citations.

======================================  ==================================================
form                                    examples
======================================  ==================================================
bracket                                 ``[doi:10.1056/NEJMoa1610020]``, ``[@doi:10.1/x]``,
                                        ``[pmid:27690741]``, ``[@pmcid:PMC6990756]``,
                                        ``[see doi:10.1/x, p. 3; pmid:123]``
parenthesis                             ``(doi: 10.1056/NEJMoa1610020)``, ``(PMID 27690741)``
url                                     ``https://doi.org/10.1/x`` or ``dx.doi.org/...`` in
                                        running text, ``<https://doi.org/10.1/x>``
intext                                  ``@doi:10.1/x`` outside brackets
label                                   ``doi: 10.1/x``, ``DOI 10.1/x``, ``PMID: 123``,
                                        ``PMCID: PMC123``, ``PMC123``, ``arXiv:1203.4942``
url (more)                              PubMed, PMC, Europe PMC, arXiv, bioRxiv/medRxiv,
                                        ScienceDirect/Lancet/Cell (PII) and publisher pages
                                        with a DOI in path or query
link                                    ``[Beck et al. 2020](https://doi.org/10.1/x)``: the
                                        text stays, the citation follows it
======================================  ==================================================

Labels and links are found by :func:`citeflow.references.identifiers.find_identifiers`, the
one recogniser :mod:`citeflow.checks` and :mod:`citeflow.fixes.resolve` share. A parenthesis
holding only identifiers (``(PMID 1, PMID 2)``, ``(https://doi.org/10.1/x)``) is replaced
whole, so no ``([@key])`` is left.

A bracket may mix identifiers with ordinary citations (``[@smith2020; doi:10.1/x]``); the
ordinary ones are kept as written. Locators (``p. 3``) and prefixes (``see``) are kept.

*Free-text placeholders* say that a citation is missing without naming it: "(Note: Specific
citations would be inserted here ...)", "[citation needed]", "[citation]", "[CITE]", "[ref]",
"[refs]", "(ref)", "[citation required]", "[source?]", "[add ref]", "[XX]", "(Author, year)",
"TODO: cite ...", "XXX cite ...", "[@?]", "[@CITATION-NEEDED]", a sentence
saying "citations would be added", and any regular expression listed in ``citeflow.toml`` under
``[placeholders] extra = [...]``. They are never filled automatically.

Nothing inside code spans, code blocks, HTML, math or comments is taken for a placeholder;
a Markdown link is one only when its target names a work.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from re import Pattern

from citeflow.document.citations import KEY_PATTERN, protected_spans
from citeflow.document.manuscript import Block, Manuscript, context_spans, in_ranges
from citeflow.document.sentences import covering_spans
from citeflow.errors import CiteflowError
from citeflow.references.identifiers import (
    DOI_PREFIX,
    Identifier,
    InvalidIdentifier,
    Mention,
    find_identifiers,
    normalize_pii,
    parse_identifier,
    pii_doi,
    whole_identifier,
)


class PlaceholderKind(str, Enum):
    """Whether a placeholder names the work (identifier) or only says one is missing."""

    IDENTIFIER = "identifier"
    FREETEXT = "freetext"

    def __str__(self) -> str:
        return self.value


class PlaceholderForm(str, Enum):
    """How a placeholder was written. Values compare equal to their text."""

    BRACKET = "bracket"          # [doi:10.1/x], [see pmid:1, p. 3; @key]
    PARENTHESIS = "parenthesis"  # (doi: 10.1/x), (PMID 1, PMID 2)
    URL = "url"                  # a resolver, database or publisher link in running text
    LABEL = "label"              # doi: 10.1/x, PMID 123, PMC123 in running text
    INTEXT = "intext"            # @doi:10.1/x outside brackets
    LINK = "link"                # [text](https://doi.org/...)
    AUTHOR_YEAR = "authoryear"   # (Simpson et al., 2016)
    NARRATIVE = "narrative"      # Simpson et al. (2016)
    FREETEXT = "freetext"        # [citation needed]
    NOTE = "note"                # (Note: citations would be inserted here.)
    EXTRA = "extra"              # a pattern of [placeholders] extra

    def __str__(self) -> str:
        return self.value


IDENTIFIER = PlaceholderKind.IDENTIFIER
#: The kind of the "identifier" of an author-year citation (``simpson 2016``).
AUTHOR_YEAR = "authoryear"
FREETEXT = PlaceholderKind.FREETEXT


@dataclass(frozen=True)
class PlaceholderItem:
    """One entry of an identifier placeholder.

    ``raw`` is the entry as written (``doi:10.1/x``, ``@smith2020``). Exactly one of
    ``identifier`` (a parsed identifier), ``key`` (an ordinary citation already in the
    bracket, kept as written) or ``malformed`` (why the identifier cannot be read) is set.
    ``prefix`` and ``locator`` are Pandoc's citation prefix (``see``) and locator (``p. 3``).
    ``literal_key`` is the whole Pandoc key for the ``@doi:...`` forms, which a bibliography
    may legitimately use as a key.
    """

    raw: str
    identifier: Identifier | None = None
    key: str | None = None
    malformed: str | None = None
    prefix: str = ""
    locator: str = ""
    suppress_author: bool = False
    literal_key: str | None = None


@dataclass(frozen=True)
class Placeholder:
    """A placeholder at ``start:end`` (source offsets into :attr:`Manuscript.text`).

    ``kind`` is ``"identifier"`` or ``"freetext"``; ``form`` says how it was written
    (``bracket``, ``parenthesis``, ``url``, ``intext``; ``freetext`` for a marker such as
    ``[citation needed]``, ``note`` for a remark in sentences of its own such as "(Note:
    citations would be inserted here.)", ``extra`` for a configured pattern).
    ``content_start``/``content_end`` locate it in ``block.content`` (used to find the
    sentence and paragraph it belongs to).
    """

    kind: PlaceholderKind
    start: int
    end: int
    text: str
    items: tuple[PlaceholderItem, ...] = ()
    form: PlaceholderForm | str = ""
    block: Block | None = field(default=None, compare=False, repr=False)
    content_start: int = 0
    content_end: int = 0
    shared: BlockText | None = field(default=None, compare=False, repr=False)
    #: The text a ``link`` placeholder keeps before its citation (the link's text).
    kept_text: str = ""
    #: For a footnote holding only this reference: where its markers (``[^1]``) stand and
    #: the span of the footnote's definition (source offsets).
    footnote_markers: tuple[tuple[int, int], ...] = ()
    footnote_span: tuple[int, int] | None = None

    @property
    def identifiers(self) -> list[tuple[Identifier | str, str]]:
        """(identifier, or the raw text when it cannot be read, locator) per entry."""
        return [
            (item.identifier if item.identifier is not None else item.raw, item.locator)
            for item in self.items
            if item.key is None
        ]

    @property
    def locator(self) -> str:
        """The locator of the first entry that has one (``p. 3``), or ``""``."""
        return next((item.locator for item in self.items if item.locator), "")

    @property
    def malformed(self) -> str | None:
        """Why the first unreadable identifier is malformed, or None when all are fine."""
        return next((f"{item.raw}: {item.malformed}" for item in self.items if item.malformed), None)

    def sentence(self) -> str:
        """The sentence this placeholder stands for, without the placeholders of its block.

        A marker (``[citation needed]``) stands for the sentence it is attached to, even
        after its full stop. A note in sentences of its own ("... in trials. (Note: citations
        would be inserted here.)") stands for everything its paragraph said before it since
        the previous such note. A placeholder at the start of a block stands for the
        sentence that follows it. Every placeholder of the block is left out of the text.
        """
        if self.block is None:
            return ""
        return self._text().sentence(self.content_start, self.content_end, standalone=self.form == "note")

    def written_sentence(self) -> str:
        """The sentence as it stands in the manuscript, placeholder included, for reports.

        A note in sentences of its own ("(Note: citations would be inserted here.)") is
        reported with the text it stands for (:meth:`sentence`), which is what an editor must
        find a source for. Of a sentence longer than :data:`SHOWN_AROUND` characters on
        either side of the placeholder, that much is shown on each side, cut at a space and
        marked with "…".
        """
        if self.block is None:
            return self.text
        if self.form == "note":
            return self.sentence()
        return self._text().written(self.content_start, self.content_end) or self.text

    def paragraph(self) -> str:
        """The block's prose without its placeholders (of a long block, the part around the
        placeholder: see :data:`~citeflow.manuscript.PARAGRAPH_CONTEXT`)."""
        if self.block is None:
            return ""
        return self._text().context(self.content_start)

    def _text(self) -> BlockText:
        if self.shared is not None:
            return self.shared
        text = BlockText(self.block.content if self.block is not None else "")
        text.placeholders = [(self.content_start, self.content_end, self.form)]
        return text


#: Characters of a long sentence shown on each side of a placeholder in reports.
SHOWN_AROUND = 1000


class BlockText:
    """The prose of one block as its placeholders see it, each part computed once.

    A paragraph holding thousands of placeholders is split into sentences once (as
    written, and with every placeholder blanked), not once per placeholder.
    ``placeholders`` holds the (start, end, form) of each placeholder in ``content``, in
    order.
    """

    def __init__(self, content: str) -> None:
        self.content = content
        self.placeholders: list[tuple[int, int, str]] = []
        self._squashed: dict[tuple[int, int], tuple[str, bool]] = {}

    @functools.cached_property
    def sentences(self) -> list[tuple[int, int]]:
        """Sentence spans of the content as written."""
        return sentence_spans(self.content)

    @functools.cached_property
    def masked(self) -> str:
        """The content with every placeholder replaced by spaces."""
        pieces, position = [], 0
        for start, end, _ in self.placeholders:
            pieces += [self.content[position:start], " " * (end - start)]
            position = end
        return "".join(pieces) + self.content[position:]

    @functools.cached_property
    def masked_sentences(self) -> list[tuple[int, int]]:
        return sentence_spans(self.masked)

    @functools.cached_property
    def note_ends(self) -> list[int]:
        """Where each note (a placeholder in sentences of its own) ends, in order."""
        return [end for _, end, form in self.placeholders if form == "note"]

    @functools.cached_property
    def paragraph(self) -> str:
        return _squash(self.masked)

    @functools.cached_property
    def _context(self) -> tuple[list[int], list[str]]:
        parts = context_spans(self.masked_sentences, len(self.masked))
        if len(parts) == 1:
            return [0], [self.paragraph]
        return [start for start, _ in parts], [_squash(self.masked[start:end]) for start, end in parts]

    def context(self, position: int) -> str:
        """The paragraph (or, of a long one, the part of it) around ``content[position]``."""
        starts, texts = self._context
        return texts[max(bisect.bisect_right(starts, position) - 1, 0)]

    def _masked_span(self, start: int, end: int) -> tuple[str, bool]:
        """``masked[start:end]`` squashed, and whether it has two words; once per span."""
        known = self._squashed.get((start, end))
        if known is None:
            text = _squash(self.masked[start:end])
            words = _WORDS.finditer(text)
            known = self._squashed[(start, end)] = (text, next(words, None) is not None
                                                    and next(words, None) is not None)
        return known

    def sentence(self, start: int, end: int, standalone: bool = False) -> str:
        """What a placeholder at ``content[start:end]`` stands for (see Placeholder.sentence)."""
        masked = self.masked
        if standalone:
            ends = self.note_ends
            floor = ends[bisect.bisect_right(ends, start) - 1] if ends and ends[0] <= start else 0
            before = masked[floor:start].rstrip()
            if _ENDS_SENTENCE.search(before):
                return self._masked_span(floor, floor + len(before))[0]
        spans = self.masked_sentences
        index = bisect.bisect_right(spans, (start, len(masked) + 1)) - 1
        index = min(max(index, 0), len(spans) - 1)
        sentence, words = self._masked_span(*spans[index])
        if words:
            return sentence
        if index > 0:
            return self._masked_span(*spans[index - 1])[0]
        if index + 1 < len(spans):
            return self._masked_span(*spans[index + 1])[0]
        return sentence

    def written(self, start: int, end: int) -> str:
        """The sentence holding ``content[start:end]`` as written (see Placeholder.written_sentence)."""
        spans = self.sentences
        index = bisect.bisect_right(spans, (start, len(self.content) + 1)) - 1
        if index < 0 or not spans[index][0] <= start < spans[index][1]:
            return ""
        first, last = spans[index][0], max(spans[index][1], end)
        cut_before, cut_after = first < start - SHOWN_AROUND, last > end + SHOWN_AROUND
        if cut_before:
            first = self.content.find(" ", start - SHOWN_AROUND, start)
            first = start - SHOWN_AROUND if first < 0 else first
        if cut_after:
            stop = self.content.rfind(" ", end, end + SHOWN_AROUND)
            last = end + SHOWN_AROUND if stop < 0 else stop
        text = _squash(self.content[first:last])
        return ("… " if cut_before else "") + text + (" …" if cut_after else "")


_ENDS_SENTENCE = re.compile(r"[.!?:][\"'”’)\]]*\Z")
_WORDS = re.compile(r"\w+")


# --------------------------------------------------------------------------------------
# Grammar

_KIND = (r"(?:doi\s*:\s*|pmid\s*:?\s*(?=\d)|pmcid\s*:?\s*(?=pmc\d|\d)|arxiv\s*:\s*|isbn\s*:?\s*(?=\d)"
         r"|pii\s*:?\s*(?=s)|pmc\d|https?://|www\.)")
_DOI_URL = r"(?:https?://)?(?:www\.)?(?:dx\.)?doi\.org/"

# Where a bracket or parenthesis placeholder may begin: the opening mark, then perhaps a
# short prefix, then an identifier (or an ordinary citation followed later by one).
_BRACKET_OPEN = re.compile(r"\[(?=[^\[\]]{0,80}?(?<![\w.])-?@?\{?(?:" + _KIND + "|" + _DOI_URL + "))", re.I)
_PAREN_OPEN = re.compile(r"\((?=\s*(?:" + _KIND + "))", re.I)
_ITEM_SPLIT = re.compile(r";(?=\s)|;(?=-?@?(?:doi|pmid|pmcid|arxiv|isbn)\b)", re.I)
_COMMA_SPLIT = re.compile(r",\s*+")
# A Manubot URL citation (``@url:https://...``): an ordinary key, kept as written.
_MANUBOT_URL = re.compile(r"^\s*+-?@url:\S++\s*+$", re.I)
# Runs that a shorter match could never help are taken possessively (``*+``, ``++``): the
# same matches, without the backtracking that makes a failed attempt cost the square of its
# length. The locator keeps its trailing white space (callers strip it).
_VALUE = r"(?P<value>(?:[^\s,]|,(?!\s))++)"
_ID_ITEM = re.compile(
    r"^\s*+(?P<prefix>(?:[^\W\d_][\w.'’-]*+,?\s++){0,4}?)(?P<minus>-?)(?P<at>@?)"
    r"(?P<head>doi\s*+:\s*+|pmid\s*+:?\s*+|pmcid\s*+:?\s*+|arxiv\s*+:\s*+|isbn\s*+:?\s*+|" + _DOI_URL + ")"
    + _VALUE
    + r"(?:\s*+,\s++(?P<locator>[^\[\]]*+))?\s*+$",
    re.I | re.S,
)
_ID_IN_TEXT = re.compile(r"\b(?:doi|pmid|pmcid|arxiv|isbn)\b\s*:?|doi\.org/|https?://|@", re.I)
# A key, then nothing, white space, or a comma and white space (a locator may follow).
_KEY_ITEM = re.compile(
    r"^\s*+(?P<prefix>(?:[^@;]*?\s)??)-?@(?:\{[^{}]+\}|" + KEY_PATTERN + ")"
    r"(?=\s|,\s|\Z)",
)
_ANY_AUTOLINK = re.compile(r"<https?://[^\s<>]*+>", re.I)
# Author-year citations: (Simpson et al., 2016), (Smith and Jones 2019), (Smith & Jones, 2019a),
# several joined by ";"; and the narrative Simpson et al. (2016).
_SURNAME = r"(?:(?:van|von|de|der|den|la|le|di|da|del)\s)*+[A-Z][\w'’-]*+"
_MONTHS = ("January|February|March|April|May|June|July|August|September|October|November|December"
           "|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|Spring|Summer|Autumn|Fall|Winter|Table|Figure"
           "|Fig|Phase|Study|Trial|Version|Page|Section|Chapter|Appendix|Since|In|From|Until|Before|After")
_AUTHOR_YEAR = (r"(?!(?:" + _MONTHS + r")\b)(?P<surname>" + _SURNAME + r")(?:\s+et\s+al\.?|\s+(?:and|&)\s+"
                + _SURNAME + r")?,?\s+(?P<year>(?:19|20)\d\d)(?P<suffix>[a-z]?)")
_AUTHOR_YEAR_ONE = re.compile(r"^\s*" + _AUTHOR_YEAR + r"\s*$")
_AUTHOR_YEAR_PAREN = re.compile(r"\((?=\s*" + _AUTHOR_YEAR + r"\s*[;)])")
_NARRATIVE = re.compile(r"(?<![\w'’-])(?P<surname>" + _SURNAME + r")(?:\s+et\s+al\.?|\s+(?:and|&)\s+" + _SURNAME
                        + r")\s+\((?P<year>(?:19|20)\d\d)(?P<suffix>[a-z]?)\)")

#: Most identifiers read in one comma-separated list: ``(PMID 1, PMID 2, ...)``.
_LONGEST_LIST = 40
#: Characters of the longest parenthesis read as a list of identifiers.
_LONGEST_PARENTHESIS = 2000
_ESCAPED = re.compile(r"\\([()\[\]_*])")
_LINK_TITLE = re.compile(r"\s+(?:\"[^\"]*\"|'[^']*')\s*$")
#: What every identifier label or link holds, in some case.
_IDENTIFIER_MARKS = ("doi", "pmid", "pmc", "arxiv", "pii", "://", "www.", ".org/")
_HOLDS_IDENTIFIER = re.compile("|".join(map(re.escape, _IDENTIFIER_MARKS)), re.I)


def _may_hold_identifier(content: str) -> bool:
    """False when ``content`` cannot hold an identifier label or link (:data:`_HOLDS_IDENTIFIER`;
    in ASCII text the same test as a search of its lower-cased copy for each mark, which
    is many times faster than a case-insensitive scan)."""
    if content.isascii():
        low = content.lower()
        return any(mark in low for mark in _IDENTIFIER_MARKS)
    return _HOLDS_IDENTIFIER.search(content) is not None


# <https://doi.org/10....>: the opening, then a run without ">" or white space up to ">".
_AUTOLINK_HEAD = re.compile(r"<" + _DOI_URL + DOI_PREFIX + "/", re.I)
_AUTOLINK_STOP = re.compile(r"[>\s]")
#: A key in braces, as Pandoc needs for identifiers ending in punctuation or holding
#: parentheses: ``@{doi:10.1016/S0140-6736(97)11096-0}``.
_BRACED_KEY = re.compile(r"-?@\{(?P<key>(?P<kind>doi|pmid|pmcid|arxiv|isbn):[^{}\s]++)\}", re.I)
_INTEXT_BRACED = re.compile(r"(?<![\w\\@\[])" + _BRACED_KEY.pattern, re.I)
_INTEXT = re.compile(
    r"(?<![\w\\@\[])(?P<minus>-?)@(?P<key>(?P<kind>doi|pmid|pmcid|arxiv|isbn):"
    r"\w(?:\w|[:.#$%&\-+?~/](?=[\w(])|\([\w.;-]*\)(?=\w))*)",
    re.I,
)
_LINK_TEXT = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\](?=\()")
# The end of a truncated in-text key that is not part of it (tried only where such a run
# starts, so a long run is not read again from each of its characters).
_KEY_TAIL = re.compile(r"(?<![^\w)])[^\w)]+$")

# Free-text placeholders, most specific first.
_FREE_WORD = r"(?:citations?|cite|cit\.|refs?|references?|sources?)"
_FREETEXT_PATTERNS: tuple[Pattern[str], ...] = (
    # [citation needed], [citation], [CITE], [ref], [refs], [reference needed], [source?]
    re.compile(
        r"\[\s*(?:needs?\s+)?" + _FREE_WORD
        + r"(?:\s+(?:needed|required|missing|here|to\s+come|tbd|todo|please))?\s*+\??\s*+\](?![(:{])",
        re.I,
    ),
    # [insert citation here], [add reference]
    re.compile(
        r"\[\s*(?:insert|add|need|needs)\s+(?:an?\s+|the\s+)?" + _FREE_WORD
        + r"(?:\s+here)?\s*\](?![(:{])",
        re.I,
    ),
    # (ref), (refs), (citation needed), (citation)
    re.compile(r"\(\s*" + _FREE_WORD + r"(?:\s+(?:needed|required|missing|here))?\s*+\??\s*+\)", re.I),
    # [@?], [@CITATION-NEEDED], [@citation_needed], [@TODO], [@cite]
    re.compile(
        r"\[\s*-?@(?:\?+|(?:citations?|cite|refs?|references?|sources?)?[-_ ]?(?:needed|missing|here|tbd|todo)"
        r"|todo|tbd|tk|xxx|fixme|placeholder|missing|cite|citation|needs?[-_ ]?cit(?:e|ation))\s*\]",
        re.I,
    ),
    # [TODO: cite the CHRONOS trial], (XXX ref); the lookahead makes sure first that the
    # bracket closes, so that an unclosed one is read once, not once per "cite" in it.
    re.compile(r"\[\s*(?:TODO|FIXME|XXX|TK)\b(?=[^\[\]]*+\])[^\[\]]*?\b(?i:cite|citation|refs?|reference|source)"
               r"[^\[\]]*+\]"),
    re.compile(r"\(\s*(?:TODO|FIXME|XXX|TK)\b(?=[^()]*+\))[^()]*?\b(?i:cite|citation|refs?|reference|source)"
               r"[^()]*+\)"),
    # [XX], [xx], [XXX]: a reference number still to be filled in
    re.compile(r"\[\s*(?:XX+|xx+|\?\?+)\s*\](?![(:{])"),
    # (Author, year), (Author et al., Year), (AUTHOR YEAR)
    re.compile(r"\(\s*(?i:authors?)(?:\s+et\s+al\.?)?,?\s+(?i:year|yyyy|xxxx|20xx|19xx)\s*\)"),
    # TODO: cite ..., XXX cite ... in running text (up to the end of the clause)
    re.compile(
        r"\b(?:TODO|FIXME|XXX)\b:?\s*(?i:(?:add|insert|find|need)\s+)?(?i:an?\s+|the\s+)?"
        r"(?i:cite|citations?|refs?|references?|sources?)\b[^\n.;!?\[\]()]*"
    ),
)
# A sentence saying that citations will be added ("Citations would be inserted here.").
_WILL_BE_ADDED = re.compile(
    r"\b(?:citations?|references?|sources?)\b[^.!?]{0,40}?\b(?:would|will|should|could|can|must|"
    r"are\s+to|is\s+to|to)\s+be\s+(?:inserted|added|provided|included|placed|supplied|given)\b",
    re.I,
)
# Literal text without which a free-text pattern cannot match (None: no such test).
_FREETEXT_NEEDS: tuple[tuple[Pattern[str], tuple[str, ...] | None], ...] = tuple(
    zip(_FREETEXT_PATTERNS, (("[",), ("[",), ("(",), ("[",), ("[",), ("(",), ("[",), ("(",),
                             ("TODO", "FIXME", "XXX")),
        strict=True)
)
_ADDED_TOPICS = ("citation", "reference", "source")


def _may_say_added(content: str) -> bool:
    """False when ``content`` cannot match :data:`_WILL_BE_ADDED` (ASCII text without
    "be" or without one of its topic words, in any case)."""
    if not content.isascii():
        return True
    low = content.lower()
    return "be" in low and any(word in low for word in _ADDED_TOPICS)


_NOTE_OPEN = re.compile(r"\(\s*(?:note|n\.\s?b\.|nb|editor'?s\s+note|ed\.\s+note)\s*:", re.I)
_NOTE_TOPIC = re.compile(r"\b(?:citations?|references?|sources?)\b", re.I)


# --------------------------------------------------------------------------------------
# Public entry points


def find_placeholders(
    manuscript: Manuscript,
    extra_patterns: Iterable[str | Pattern[str]] = (),
) -> list[Placeholder]:
    """Every placeholder in the manuscript's prose, in source order, never overlapping.

    ``extra_patterns`` are regular expressions for further free-text placeholders (from
    ``[placeholders] extra`` in the config); a string that is not a valid expression raises
    :class:`CiteflowError`.
    """
    from citeflow.document.reflist import find_reference_list

    extra = compile_patterns(extra_patterns)
    found: list[Placeholder] = []
    reflist = find_reference_list(manuscript)  # the draft's own list: references, not placeholders
    for block in manuscript.prose_blocks():
        if reflist is not None and reflist.start <= block.start < reflist.end:
            continue
        found.extend(block_placeholders(manuscript, block, extra))
    found.sort(key=lambda p: p.start)
    return _footnotes_holding_references(manuscript, found)


_FOOTNOTE_LABEL = re.compile(r"[ \t]*\[\^([^\]\s]+)\]:")


def _footnotes_holding_references(manuscript: Manuscript, found: list[Placeholder]) -> list[Placeholder]:
    """Mark each identifier placeholder that is all its footnote holds (``[^1]: doi:10.1/x``)
    with the footnote's markers and definition: the citation takes the marker's place and
    the definition goes."""
    if "[^" not in manuscript.text:
        return found
    alone: dict[str, int] = {}
    for index, placeholder in enumerate(found):
        block = placeholder.block
        if block is None or block.kind != "footnote" or placeholder.kind != IDENTIFIER:
            continue
        rest = (block.content[:placeholder.content_start] + block.content[placeholder.content_end:]).strip()
        label = _FOOTNOTE_LABEL.match(manuscript.text, block.start)
        if label and rest in ("", ".") and "\n\n" not in manuscript.text[block.start:block.end]:
            alone[label.group(1)] = index
    if not alone:
        return found
    markers: dict[str, list[tuple[int, int]]] = {}
    for block in manuscript.prose_blocks():
        content = block.content
        if "[^" not in content:
            continue
        protected = protected_spans(content)
        for match in re.finditer(r"\[\^([^\]\s]+)\](?!:)", content):
            if match.group(1) in alone and not in_ranges(match.start(), protected):
                markers.setdefault(match.group(1), []).append(
                    (block.source_offset(match.start()), block.source_offset(match.end() - 1) + 1))
    result = list(found)
    for name, index in alone.items():
        if not markers.get(name):
            continue
        placeholder = result[index]
        block = placeholder.block
        assert block is not None
        end = block.end
        for newline in ("\r\n", "\n"):
            if manuscript.text.startswith(newline, end):
                end += len(newline)
                break
        result[index] = replace(placeholder, footnote_markers=tuple(markers[name]),
                                footnote_span=(block.start, end))
    return result


def lookup_reference(bibliography, identifier: Identifier):
    """The bibliography entry carrying ``identifier``, or None.

    An arXiv ID with a version (``1502.04015v1``) also finds the entry without one. A PII
    is matched offline only: an entry whose ``pii`` field holds it, or whose DOI is
    the PII in its punctuated form (``10.1016/s0140-6736(10)61350-5``, as the Lancet and
    Cell write their DOIs). Nothing is guessed.
    """
    if bibliography is None:
        return None
    if identifier.kind == AUTHOR_YEAR:
        found = author_year_candidates(bibliography, identifier)
        return found[0] if len(found) == 1 else None
    if identifier.kind == "arxiv":  # arXiv:1502.04015v1 is a version of the entry 1502.04015
        bare = re.sub(r"v\d+$", "", identifier.value)
        return bibliography.find(identifier) or (
            bibliography.find(Identifier("arxiv", bare)) if bare != identifier.value else None)
    if identifier.kind != "pii":
        return bibliography.find(identifier)
    found = bibliography.find(Identifier("doi", pii_doi(identifier.value)))
    if found is not None:
        return found
    return next((ref for ref in bibliography
                 if normalize_pii((ref.fields or {}).get("pii")) == identifier.value), None)


def author_year_candidates(bibliography, identifier: Identifier) -> list:
    """Entries whose first author's surname and year are those of an author-year citation
    (``simpson 2016``; a letter after the year picks among several in the bibliography's
    order: ``2016a`` the first, ``2016b`` the second)."""
    surname, _, year = identifier.value.rpartition(" ")
    suffix = year[4:]
    found = [ref for ref in bibliography
             if str(getattr(ref, "year", "") or "") == year[:4]
             and (ref.first_author_family or "").casefold() == surname]
    if suffix and len(found) > 1:
        index = ord(suffix) - ord("a")
        return [found[index]] if 0 <= index < len(found) else []
    return found


def author_year_message(bibliography, identifier: Identifier) -> str:
    """Why an author-year citation names no single entry, with the candidates."""
    surname, _, year = identifier.value.rpartition(" ")
    found = author_year_candidates(bibliography, identifier)
    if found:
        return (f"{len(found)} entries by {surname.title()} from {year[:4]}: "
                + ", ".join(ref.key for ref in found) + " (write the key)")
    same = [ref.key for ref in bibliography or () if (ref.first_author_family or "").casefold() == surname]
    hint = f"; by {surname.title()}: {', '.join(same[:3])}" if same else ""
    return f"no bibliography entry by {surname.title()} from {year[:4]}{hint}"


def compile_patterns(patterns: Iterable[str | Pattern[str]],
                     source: str | Path | None = None) -> list[Pattern[str]]:
    """Compile user-supplied regular expressions, naming the bad one in the error."""
    compiled: list[Pattern[str]] = []
    for pattern in patterns:
        if isinstance(pattern, re.Pattern):
            compiled.append(pattern)
            continue
        try:
            compiled.append(re.compile(str(pattern)))
        except re.error as exc:
            raise CiteflowError(
                f"[placeholders] extra: invalid regular expression {pattern!r}: {exc}", source
            ) from exc
    return compiled


def extra_patterns_from_config(config) -> list[Pattern[str]]:
    """The compiled ``[placeholders] extra`` expressions of a :class:`~citeflow.config.Config`."""
    if config is None:
        return []
    extra = config.section("placeholders").get("extra", [])
    if isinstance(extra, str):
        extra = [extra]
    if not isinstance(extra, list):
        raise CiteflowError("[placeholders] extra must be a list of regular expressions", config.path)
    return compile_patterns(extra, config.path)


def block_placeholders(
    manuscript: Manuscript, block: Block, extra: list[Pattern[str]] | None = None
) -> list[Placeholder]:
    """The placeholders of one prose block.

    The forms are looked for in a fixed order, each taking its spans before the next looks:
    bracketed and parenthesised identifiers, autolinks, Markdown links to a work,
    author-year citations, identifiers in running text, in-text ``@doi:`` keys, then the
    free-text placeholders.
    """
    scan = _BlockScan(manuscript, block)
    scan.bracketed()
    scan.parenthesised()
    scan.autolinks()
    scan.links_to_works()
    scan.author_year()
    scan.braced_keys()
    scan.running_text()
    scan.intext_keys()
    scan.free_text(extra or ())
    return scan.finish()


class _BlockScan:
    """One prose block being read for placeholders: its text, the spans taken so far, the
    spans no placeholder may touch (code, math, citations) and the placeholders found.

    Cheap tests of the literal text each expression needs skip most scans of plain prose.
    Whether a candidate is free is asked before it is parsed: the inside of a bracket
    already taken (however deeply nested) is never read again.
    """

    def __init__(self, manuscript: Manuscript, block: Block) -> None:
        self.manuscript = manuscript
        self.block = block
        self.content = content = block.content
        self.protected = protected_spans(content)
        self.taken = _Spans()
        self.shared = BlockText(content)
        self.pairs = _Pairs(content)
        self.result: list[Placeholder] = []
        self.links = [(m.start(), m.end()) for m in _LINK_TEXT.finditer(content)] if "](" in content else []

    def free(self, start: int, end: int) -> bool:
        """True when ``start:end`` is neither protected nor taken."""
        protected = self.protected
        if start >= end or (protected and (in_ranges(start, protected) or in_ranges(end - 1, protected))):
            return False
        return not self.taken.overlaps(start, end)

    def add(self, kind: PlaceholderKind, start: int, end: int, form: str,
            items: tuple[PlaceholderItem, ...] = (), kept_text: str = "") -> None:
        self.taken.add(start, end)
        block = self.block
        source_start = block.source_offset(start)
        source_end = block.source_offset(end - 1) + 1
        self.result.append(Placeholder(
            kind=kind, start=source_start, end=source_end,
            text=self.manuscript.text[source_start:source_end], items=items,
            form=PlaceholderForm(form), block=block, content_start=start, content_end=end,
            shared=self.shared, kept_text=kept_text))

    def bracketed(self) -> None:
        """[doi:...], [@pmid:...], [see doi:..., p. 3; @key]. A bracket that holds the
        opening of another is no placeholder itself (the inner one may be): brackets nested
        thousands deep are read once each, not once per enclosing bracket."""
        content = self.content
        for start, following in _with_next(m.start() for m in _BRACKET_OPEN.finditer(content)):
            end = self.pairs.closing(start, "[", "]")
            if end is None or content[end : end + 1] in ("(", ":", "{") or following < end:
                continue
            if in_ranges(start, self.links) or not self.free(start, end):
                continue
            items = _parse_items(content[start + 1 : end - 1], bracket=True)
            if items:
                self.add(IDENTIFIER, start, end, "bracket", items)

    def parenthesised(self) -> None:
        """(doi: 10.1/x), (PMID 123; doi: 10.1/y); the same for nesting."""
        content = self.content
        for start, following in _with_next(m.start() for m in _PAREN_OPEN.finditer(content)):
            end = self.pairs.closing(start, "(", ")")
            link_target = content[start - 1 : start] == "]"  # "](...)"
            if end is None or link_target or following < end:
                continue
            if end - start > _LONGEST_PARENTHESIS:
                continue  # prose, not a list of identifiers: never read again for each "(" in it
            if not self.free(start, end):
                continue
            items = _parse_items(content[start + 1 : end - 1], bracket=False)
            if items:
                self.add(IDENTIFIER, start, end, "parenthesis", items)

    def autolinks(self) -> None:
        """Autolinks to doi.org (protected as links, but pasted DOIs all the same), then
        other autolinks to a work: <https://pubmed.ncbi.nlm.nih.gov/123/>."""
        content = self.content
        if "<" not in content:
            return
        for start, end in _autolinks(content):
            if not self.taken.overlaps(start, end):
                self.add(IDENTIFIER, start, end, "url", (_url_item(content[start + 1 : end - 1]),))
        for match in _ANY_AUTOLINK.finditer(content):
            if self.taken.overlaps(match.start(), match.end()) or in_ranges(match.start(), self.links):
                continue
            what = whole_identifier(match.group(0)[1:-1])
            if what is not None and what.form == "url":
                self.add(IDENTIFIER, match.start(), match.end(), "url", (_mention_item(what),))

    def links_to_works(self) -> None:
        """Markdown links to a work keep their text and gain the citation:
        [Beck et al. 2020](https://doi.org/10.1056/NEJMoa1314768) -> Beck et al. 2020 [@beck2020]."""
        content = self.content
        for start, text_end in self.links:
            if content[start] == "!":
                continue
            end = self.pairs.closing(text_end, "(", ")")
            if end is None or (in_ranges(start, self.protected) and not in_ranges(text_end, self.protected)):
                continue
            target = _LINK_TITLE.sub("", content[text_end + 1 : end - 1]).strip().strip("<>")
            what = whole_identifier(_ESCAPED.sub(r"\1", target))
            if what is None or what.form != "url" or self.taken.overlaps(start, end):
                continue
            label = content[start + 1 : text_end - 1]
            cited = _parse_items(label, bracket=True) if "@" in label else ()
            if cited:  # [@pmcid:PMC..., p. 3](https://doi.org/...): the text is itself a citation
                self.add(IDENTIFIER, start, end, "bracket", cited)
                continue
            if find_identifiers(label):  # [doi: 10.1101/610741](https://...): the text only names it
                label = ""
            self.add(IDENTIFIER, start, end, "link", (_mention_item(what),), kept_text=label)

    def author_year(self) -> None:
        """(Simpson et al., 2016; Smith 2019) and Simpson et al. (2016)."""
        content = self.content
        if "(" not in content:
            return
        for match in _AUTHOR_YEAR_PAREN.finditer(content):
            end = self.pairs.closing(match.start(), "(", ")")
            if content[match.start() - 1 : match.start()] == "]":
                continue  # "](...)": the target of a Markdown link, not a citation
            if end is None or end - match.start() > 400 or not self.free(match.start(), end):
                continue
            parts = [_AUTHOR_YEAR_ONE.match(part) for part in content[match.start() + 1:end - 1].split(";")]
            if all(parts):
                self.add(IDENTIFIER, match.start(), end, "authoryear",
                         tuple(_author_year_item(m) for m in parts if m is not None))
        for match in _NARRATIVE.finditer(content):
            if self.free(match.start(), match.end()):
                self.add(IDENTIFIER, match.start(), match.end(), "narrative", (_author_year_item(match),))

    def braced_keys(self) -> None:
        """In-text ``@{doi:...}`` outside brackets: the braces are part of the key as
        written, and what they hold is never read again as a pasted identifier."""
        content = self.content
        if "@{" not in content:
            return
        for match in _INTEXT_BRACED.finditer(content):
            if self.free(match.start(), match.end()):
                key = match.group("key")
                item = _identifier_item(raw=match.group(0), kind=match.group("kind"),
                                        value=key.split(":", 1)[1],
                                        suppress=match.group(0).startswith("-"), literal_key=key)
                self.add(IDENTIFIER, match.start(), match.end(), "intext", (item,))

    def running_text(self) -> None:
        """Identifiers in running text (not the target or text of a Markdown link): links to
        doi.org, PubMed, PMC, publishers' pages; labels such as "doi: 10...", "PMID: 123".
        Placeholders found so far are blanked out first, so that a pasted link ends where one
        of them begins, as it will once that one is rewritten."""
        content = self.content
        if not _may_hold_identifier(content):
            return
        for mention in find_identifiers(self.taken.blank(content)):
            if in_ranges(mention.start, self.links):
                continue
            if self.free(mention.start, mention.end):
                self.add(IDENTIFIER, mention.start, mention.end, mention.form, (_mention_item(mention),))

    def intext_keys(self) -> None:
        """In-text @doi:... outside brackets."""
        content = self.content
        if "@" not in content or ":" not in content:
            return
        for match in _INTEXT.finditer(content):
            key = _trim_key(match.group("key"))
            # A key running into a placeholder found before ends where that placeholder starts.
            later = self.taken.first_start_after(match.start("key"))
            if later is not None and later < match.start("key") + len(key):
                key = _KEY_TAIL.sub("", key[: later - match.start("key")])
            end = match.start("key") + len(key)
            if self.free(match.start(), end):
                item = _identifier_item(
                    raw=content[match.start() : end],
                    kind=match.group("kind"),
                    value=key.split(":", 1)[1],
                    suppress=bool(match.group("minus")),
                    literal_key=key,
                )
                self.add(IDENTIFIER, match.start(), end, "intext", (item,))

    def free_text(self, extra: Iterable[Pattern[str]]) -> None:
        """Notes such as "(Note: citations would be inserted here)", the markers of the
        grammar ("[citation needed]"), "references will be added" sentences, then the
        project's own expressions."""
        content = self.content
        topics = None
        for match in _NOTE_OPEN.finditer(content):
            end = self.pairs.closing(match.start(), "(", ")")
            if end is None or not self.free(match.start(), end):
                continue
            if topics is None:  # where the topic words are, found once for all notes
                topics = [(m.start(), m.end()) for m in _NOTE_TOPIC.finditer(content)]
            index = bisect.bisect_left(topics, (match.end(), -1))
            if index < len(topics) and topics[index][1] <= end:
                self.add(FREETEXT, match.start(), end, "note")
        for pattern, needs in _FREETEXT_NEEDS:
            if needs is not None and not any(literal in content for literal in needs):
                continue
            for match in pattern.finditer(content):
                start, end = match.start(), _rstrip_end(content, match.start(), match.end())
                if self.free(start, end):
                    self.add(FREETEXT, start, end, "freetext")
        for match in _WILL_BE_ADDED.finditer(content) if _may_say_added(content) else ():
            start, end = _sentence_bounds(self.shared.sentences, content, match.start(), match.end())
            if self.free(start, end):
                self.add(FREETEXT, start, end, "note")
        for pattern in extra:
            for match in pattern.finditer(content):
                if self.free(match.start(), match.end()):
                    self.add(FREETEXT, match.start(), match.end(), "extra")

    def finish(self) -> list[Placeholder]:
        """The placeholders found, in order; the block's text learns where they are."""
        result = sorted(self.result, key=lambda p: p.start)
        self.shared.placeholders = [(p.content_start, p.content_end, p.form) for p in result]
        return result


# --------------------------------------------------------------------------------------
# Helpers


class _Spans:
    """Disjoint (start, end) spans, with overlap tests in logarithmic time."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []

    def add(self, start: int, end: int) -> None:
        index = bisect.bisect_left(self.starts, start)
        self.starts.insert(index, start)
        self.ends.insert(index, end)

    def overlaps(self, start: int, end: int) -> bool:
        index = bisect.bisect_left(self.starts, end) - 1  # the last span starting before end
        return index >= 0 and self.ends[index] > start

    def blank(self, text: str) -> str:
        """``text`` with every span replaced by as many spaces."""
        if not self.starts:
            return text
        pieces, position = [], 0
        for start, end in zip(self.starts, self.ends, strict=True):
            pieces += [text[position:start], " " * (end - start)]
            position = end
        return "".join(pieces) + text[position:]

    def first_start_after(self, position: int) -> int | None:
        index = bisect.bisect_right(self.starts, position)
        return self.starts[index] if index < len(self.starts) else None


def _with_next(starts) -> list[tuple[int, float]]:
    """Each of the sorted ``starts`` with the one after it (infinity after the last)."""
    starts = list(starts)
    return list(zip(starts, starts[1:] + [float("inf")]))


class _Pairs:
    """Where each opening bracket or parenthesis of a text is closed, found in one pass.

    ``closing(start, "[", "]")`` is the offset just past the ``]`` that balances the ``[``
    at ``start`` (counting only those two characters), or None when it is never closed.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._maps: dict[str, dict[int, int]] = {}

    def closing(self, start: int, opener: str, closer: str) -> int | None:
        found = self._maps.get(opener)
        if found is None:
            found = self._maps[opener] = {}
            stack: list[int] = []
            for match in re.finditer(re.escape(opener) + "|" + re.escape(closer), self.text):
                if match.group() == opener:
                    stack.append(match.start())
                elif stack:
                    found[stack.pop()] = match.end()
        return found.get(start)


def _autolinks(content: str):
    """(start, end) of each ``<https://doi.org/10....>`` autolink, left to right.

    As ``_AUTOLINK.finditer`` would find them, but the end of the run of characters after
    an opening is looked up once for all the openings in that run.
    """
    position, stop_from, stop_at = 0, -1, -1
    while True:
        head = _AUTOLINK_HEAD.search(content, position)
        if head is None:
            return
        if not stop_from <= head.end() <= stop_at:
            found = _AUTOLINK_STOP.search(content, head.end())
            stop_from, stop_at = head.end(), found.start() if found else len(content)
        if stop_at > head.end() and content[stop_at : stop_at + 1] == ">":
            yield head.start(), stop_at + 1
            position = stop_at + 1
        else:
            position = head.start() + 1


def _parse_items(inner: str, bracket: bool) -> tuple[PlaceholderItem, ...]:
    """The entries of a bracket or parenthesis, or ``()`` when it is not a placeholder.

    A parenthesis qualifies only when every entry is an identifier; a bracket when at least
    one is and the others are ordinary citations (anything else is reported as malformed).
    """
    items: list[PlaceholderItem] = []
    has_identifier = False
    for part in _ITEM_SPLIT.split(inner):
        if not part.strip():
            return ()
        written = part
        braced = _BRACED_KEY.search(part) if "@{" in part else None
        if braced:  # "@{doi:10.1/x(1)}": read without its braces, kept with them
            part = part[:braced.start("key") - 1] + braced.group("key") + part[braced.end("key") + 1:]
        match = _ID_ITEM.match(part)
        if match and match.group("locator") and _ID_IN_TEXT.search(match.group("locator")):
            match = None  # "doi:A, (doi: B)": a second identifier is no locator
        if match and (bracket or (not match.group("at") and not match.group("prefix").strip())):
            head = match.group("head").lower()
            kind = next((k for k in ("pmcid", "pmid", "arxiv", "isbn") if head.startswith(k)), "doi")
            value = match.group("value")
            literal = f"{match.group('head')}{value}" if match.group("at") else None
            items.append(
                _identifier_item(
                    raw=written.strip(),
                    kind=kind,
                    value=value,
                    prefix=match.group("prefix").strip(),
                    locator=(match.group("locator") or "").strip(),
                    suppress=bool(match.group("minus")),
                    literal_key=literal,
                )
            )
            has_identifier = True
        elif bracket and _MANUBOT_URL.match(part):
            items.append(PlaceholderItem(raw=part.strip(), key=part.strip().lstrip("-@")))
        elif bracket and _KEY_ITEM.match(part):
            key = re.search(r"-?@(\{[^{}]+\}|[\w:.#$%&\-+?<>~/]+)", part)
            items.append(PlaceholderItem(raw=part.strip(), key=key.group(1) if key else part.strip()))
        elif (listed := _listed_identifiers(part)) is not None:
            # "https://pubmed.ncbi.nlm.nih.gov/123/", "PMID 1, PMID 2", "PMC123"
            items.extend(listed)
            has_identifier = True
        elif bracket:
            items.append(PlaceholderItem(raw=part.strip(), malformed="not a citation or an identifier"))
        else:
            return ()
    return tuple(items) if has_identifier else ()


def _listed_identifiers(part: str) -> list[PlaceholderItem] | None:
    """The entries of ``part`` when it is one identifier (a label or a link) or a
    comma-separated list of them, else None."""
    if len(part) > 2000 or (not _ID_IN_TEXT.search(part) and "pmc" not in part.lower()):
        return None
    if "," not in part or "://" in part:
        whole = whole_identifier(part)
        if whole is not None:
            return [_mention_item(whole)]
    pieces = _COMMA_SPLIT.split(part) if "," in part else []
    if not 1 < len(pieces) <= _LONGEST_LIST:
        return None
    listed = []
    for piece in pieces:  # the first piece that is no identifier ends the reading
        mention = whole_identifier(piece)
        if mention is None:
            return None
        listed.append(_mention_item(mention))
    return listed


def _author_year_item(match: re.Match[str]) -> PlaceholderItem:
    """An author-year citation as an entry whose "identifier" is the first author's
    surname and the year, matched against the bibliography by :func:`lookup_reference`."""
    value = f"{match.group('surname').casefold()} {match.group('year')}{match.group('suffix')}"
    return PlaceholderItem(raw=match.group(0).strip(), identifier=Identifier(AUTHOR_YEAR, value))


def _mention_item(mention: Mention) -> PlaceholderItem:
    return PlaceholderItem(raw=mention.raw, identifier=mention.identifier, malformed=mention.reason)


def _identifier_item(
    raw: str,
    kind: str,
    value: str,
    prefix: str = "",
    locator: str = "",
    suppress: bool = False,
    literal_key: str | None = None,
) -> PlaceholderItem:
    try:
        identifier = parse_identifier(value, kind=kind)
    except InvalidIdentifier as exc:
        return PlaceholderItem(
            raw=raw, malformed=exc.reason, prefix=prefix, locator=locator,
            suppress_author=suppress, literal_key=literal_key,
        )
    return PlaceholderItem(
        raw=raw, identifier=identifier, prefix=prefix, locator=locator,
        suppress_author=suppress, literal_key=literal_key,
    )


def _url_item(url: str) -> PlaceholderItem:
    value = re.sub(r"^" + _DOI_URL, "", url, flags=re.I)
    return _identifier_item(raw=url, kind="doi", value=value)


def _trim_key(key: str) -> str:
    """An in-text ``@doi:...`` key without an unbalanced closing parenthesis."""
    closing, opening = key.count(")"), key.count("(")
    end = len(key)
    while end and key[end - 1] == ")" and closing > opening:
        closing -= 1
        end -= 1
    return key[:end]


def _rstrip_end(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1] in " \t":
        end -= 1
    return end


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence in a block's prose; spans cover the whole text. The
    sentences are those claims are judged by (:mod:`citeflow.document.sentences`)."""
    return covering_spans(text)


def _sentence_bounds(spans: list[tuple[int, int]], text: str, start: int, end: int) -> tuple[int, int]:
    """The sentence (of ``spans``, the sentences of ``text``) around ``start:end``, without
    the space that follows it."""
    index = bisect.bisect_right(spans, (start, len(text) + 1)) - 1
    if index >= 0 and spans[index][0] <= start < spans[index][1]:
        s, e = spans[index]
        e = max(e, end)
        while e > s and text[e - 1].isspace():
            e -= 1
        return s, e
    return start, end


def _squash(text: str) -> str:
    """``text`` with each run of white space made one space, and none at either end."""
    return " ".join(text.split())
