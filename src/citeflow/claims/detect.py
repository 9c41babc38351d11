"""Sentences with source spans, and claim detection with an explainable cue.

A *sentence* comes from a real sentence segmenter run over one prose block's ``content``
(Bling Fire when it is installed, pysbd otherwise), then mapped back to offsets in the
manuscript file with :meth:`Block.source_offset`, so ``line:column`` positions point at the
original text whatever list markers, quote marks or front matter surround it.

A sentence is a *claim* when it asserts something a reader could check: a number or
statistic, a comparative, causal or superlative assertion, an attribution to unnamed
evidence or authority, or a statement about efficacy or safety. Questions, headings, advice
and imperatives, statements about the article itself and disclaimers are not claims.
:func:`is_claim` returns the :class:`Cue` that made the decision, so every finding can say
why it was raised.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

from citeflow.claims.data import load_data
from citeflow.claims.screen import CueScreen, Screen
from citeflow.document.citations import protected_spans
from citeflow.document.manuscript import PARAGRAPH_CONTEXT, Block, Manuscript, context_spans
from citeflow.document.sentences import SEGMENTER, segment  # noqa: F401  (SEGMENTER is re-exported)
from citeflow.references.identifiers import DOI_PREFIX

# Blocks whose sentences often lack a full stop without being headings.
_UNPUNCTUATED_OK = frozenset({"list_item", "footnote", "blockquote"})


@dataclass(frozen=True)
class Sentence:
    """One sentence of a prose block.

    ``text`` is the sentence as it appears in ``block.content``; ``start``/``end`` are
    offsets in the manuscript file (``end`` one past the last character); ``cstart``/``cend``
    are the offsets in ``block.content``.
    """

    text: str
    start: int
    end: int
    block: Block = field(repr=False, compare=False)
    cstart: int = 0
    cend: int = 0


def block_sentences(block: Block) -> list[Sentence]:
    """Sentences of one prose block with source spans."""
    content = block.content
    result = []
    for cstart, cend in segment(content):
        start = block.source_offset(cstart)
        end = block.source_offset(cend - 1) + 1
        result.append(Sentence(content[cstart:cend], start, end, block, cstart, cend))
    return result


def paragraph_context(sentence: Sentence) -> str:
    """The paragraph text a sentence's candidate references are ranked with: its block, or
    of a block longer than :data:`~citeflow.manuscript.PARAGRAPH_CONTEXT` characters, the
    part of it around the sentence (see :func:`~citeflow.manuscript.context_spans`)."""
    content = sentence.block.content
    if len(content) <= PARAGRAPH_CONTEXT:
        return content
    starts, texts = _context_parts(content)
    return texts[bisect_right(starts, sentence.cstart) - 1]


@lru_cache(maxsize=64)
def _context_parts(content: str) -> tuple[list[int], list[str]]:
    parts = context_spans(list(segment(content)), len(content))
    return [start for start, _ in parts], [content[start:end] for start, end in parts]


def sentences(manuscript: Manuscript) -> list[Sentence]:
    """Every sentence of the manuscript's prose blocks, in source order."""
    result: list[Sentence] = []
    for block in manuscript.prose_blocks():
        result.extend(block_sentences(block))
    return result


# --------------------------------------------------------------------------------------
# Cues

#: Cue kinds in the order they win when a sentence has several.
CUE_KINDS = ("attribution", "statistic", "causal", "comparative", "superlative", "efficacy")


@dataclass(frozen=True)
class Cue:
    """Why a sentence counts as a claim: the kind of cue and the words that matched."""

    kind: str
    text: str
    start: int = 0  # offsets within the sentence text
    end: int = 0

    def __str__(self) -> str:
        return f'{self.kind} "{self.text}"'


#: The built-in cue phrases by kind, from ``claims/data/cues.toml``.
_DEFAULT_CUES: dict[str, list[str]] = {
    kind: list(entry["patterns"]) for kind, entry in load_data("cues.toml").items()
}

# -- not claims ------------------------------------------------------------------------

_ADVICE_VERBS = (
    "talk|consult|inform|ask|tell|maintain|consider|stop|avoid|keep|take|seek|remember|"
    "check|contact|call|see|use|try|follow|discuss|report|monitor|note|read|let|think|"
    "make sure|be sure|be aware|speak|visit|get|do|don't|do not|never|always|please|"
    "continue|start|discontinue|write|share|learn|find out|look|watch|tell|keep in mind|"
    "bear in mind|schedule|limit|drink|eat|exercise|rest|apply|wear|store|go|stay|click|"
    "subscribe|sign up|download|refer"
)
# Advice: an imperative opening the sentence, perhaps after a label such as "1. Tip:" or
# "Important note:" (see _is_advice for the label).
_ADVICE_BODY = re.compile(
    rf"(?:[*_\"“']*)(?:{_ADVICE_VERBS})\b(?!\s+(?:is|are|was|were|has|have)\b)",
    re.I,
)
_LABEL_COLON = re.compile(r"(?<=\w):\s+")
# A short opening clause of purpose, occasion or condition, then the imperative after its comma.
_ADVICE_INTRO = re.compile(r"(?:for|to|if|when|before|after|once|until|during)\b[^,.;:!?\n]{1,80}[,:]\s+", re.I)
# After such a clause only verbs that are not also nouns count as an imperative: "For older
# adults, exercise brings extra benefits" and "After surgery, rest reduces ..." are claims.
_INTRO_IMPERATIVE = re.compile(
    r"(?:[*_\"“']*)(?:take|apply|avoid|consult|talk|speak|ask|tell|inform|seek|call|contact|use|"
    r"try|keep|limit|wear|store|wash|swallow|chew|discuss|follow|remember|see|visit|consider|"
    r"discontinue|continue|make sure|be sure|be careful|do not|don't|never|always|please)\b"
    r"(?!\s+(?:is|are|was|were|has|have)\b)",
    re.I,
)
# "For most patients, use of statins ...": the verb read as a noun.
_NOUN_USE = re.compile(r"\w+\s+of\b", re.I)
_TWO_WORDS = re.compile(r"\w*\W*\w*\W*")
_LETTER = re.compile(r"[^\W\d]")
_WORD_CHAR = re.compile(r"\w")
_YOU_ADVICE = re.compile(
    r"\b(?:you should|you must|you may want to|you might want to|we recommend|"
    r"it is (?:important|crucial|vital|essential|advisable|best|wise|recommended) (?:for you )?"
    r"to (?:consult|talk|speak|tell|inform|ask|discuss|seek|contact|see|keep|monitor|stop|"
    r"avoid|follow|remember|check|report)|if you (?:experience|notice|have|develop|are)|"
    r"you can (?:get|find) relief)",
    re.I,
)
_INTENTION = re.compile(
    r"^(?:\W*+\w++\W++){0,3}?(?:we|i|you)(?:'ll| will| need to| must| should| have to| want to|"
    r" would like to| plan to| intend to| hope to| are going to|'re going to| am going to|"
    r"'m going to)\b",
    re.I,
)
_SELF_REFERENCE_PARTS = (
    r"\b(?:this|the present|the current|our) (?:article|post|blog|page|review|paper|section|"
    r"guide|piece|chapter|overview|document|report|manuscript)\b(?! (?:found|showed|shows|"
    r"demonstrated|reports that))",
    r"^(?:here,? )?we (?:explore|discuss|describe|review|"
    r"present|outline|examine|look at|summari[sz]e)\b",
    r"\bthe following\b",
    r"\bbelow,? we\b",
    r"\bin this (?:article|post|section|review|paper)\b",
    r"\b(?:read|continue reading|min read)\b",
    r"^here (?:is|are) (?:a|an|the|some|our|what|how)\b",
    r"^(?:let's|let us|now,? let's) (?:look|take a look|explore|dive|review|turn|start|consider)\b",
    r"^(?:in|over) the (?:following|next) (?:sections?|paragraphs?)\b",
)
_SELF_REFERENCE = re.compile("|".join(_SELF_REFERENCE_PARTS), re.I)
_DISCLAIMER = re.compile(
    r"\b(?:for (?:educational|informational|information) purposes|not (?:be )?(?:considered|"
    r"intended as|a substitute for|meant as) (?:medical |professional )?advice|not medical "
    r"advice|consult (?:with )?your (?:doctor|physician|healthcare|health care)|"
    r"no (?:conflicts? of interest|competing interests?)|all rights reserved|copyright)\b",
    re.I,
)
_QUESTION_START = re.compile(
    r"^(?:why|what|how|when|where|who|which|whose|is|are|can|could|does|do|did|should|"
    r"will|would)\b", re.I
)
# "It is unclear whether ...", "Further research is needed ...", "Future trials will provide
# evidence ...": a question left open or a plan, not an assertion.
_OPEN_QUESTION = re.compile(
    r"^(?:\W*(?:\w+\W+){1,3}?)?it (?:is|remains) (?:still )?(?:unclear|unknown|uncertain|not (?:yet )?"
    r"(?:clear|known)) (?:if|whether|how|why|what|which)\b"
    r"|^(?:\W*(?:\w+\W+){1,3}?)?(?:further|more|additional|future|larger) (?:\w+ )?(?:research|studies|"
    r"work|trials|investigations?|data) (?:is|are|will be|would be) (?:still )?(?:needed|required|"
    r"warranted|necessary)\b"
    r"|\b(?:will|would) (?:provide|offer|yield|give) (?:\w+ )?(?:evidence|insights?|answers?|data)\b",
    re.I,
)
_NOTE_PLACEHOLDER = re.compile(r"^\(?\s*(?:note|todo|xxx|tbd)\b\s*:", re.I)


def _ascii_lower(pattern: re.Pattern[str], source: str | None = None) -> re.Pattern[str]:
    """``pattern`` (case-insensitive, all letters lower case) for lower-cased ASCII text.

    On such text ignoring case changes nothing, so the same expression compiled without
    ``re.I`` finds the same matches, faster. ``source`` may give an expression that finds
    a match exactly when ``pattern`` does (for callers that only test for one).
    """
    source = pattern.pattern if source is None else source
    if re.search(r"(?<!\\)[A-Z]", source):  # a capital letter to match: keep ignoring case
        return re.compile(source, pattern.flags)
    return re.compile(source, pattern.flags & ~re.I)


# Used only as yes/no tests of lower-cased ASCII text (see not_claim_reason).
_DISCLAIMER_ASCII = _ascii_lower(_DISCLAIMER)
_YOU_ADVICE_ASCII = _ascii_lower(_YOU_ADVICE)
_INTENTION_ASCII = _ascii_lower(_INTENTION)
# The alternatives after a word boundary grouped first: whether any matches is unchanged.
_OPEN_QUESTION_ASCII = _ascii_lower(_OPEN_QUESTION)
_SELF_REFERENCE_ASCII = _ascii_lower(_SELF_REFERENCE, "|".join(
    [f"(?:{p})" for p in _SELF_REFERENCE_PARTS if not p.startswith(r"\b")]
    + ["\\b(?:" + "|".join(f"(?:{p[2:]})" for p in _SELF_REFERENCE_PARTS if p.startswith(r"\b"))
       + ")"]
))


# The exclusions of not_claim_reason, by index: one RE2 pass rules out those that cannot
# match a sentence (citeflow.claims.screen); the others are searched as written.
_EXCLUSIONS = Screen([_DISCLAIMER, _YOU_ADVICE, _SELF_REFERENCE, _INTENTION, _OPEN_QUESTION])
_NOTHING_RULED_OUT = frozenset(range(5))


@dataclass(frozen=True)
class CueSet:
    """Compiled cue patterns by kind, plus phrases that make a sentence not a claim."""

    patterns: Mapping[str, tuple[re.Pattern[str], ...]]
    not_claim: tuple[re.Pattern[str], ...] = ()
    advice: tuple[re.Pattern[str], ...] = ()

    @cached_property
    def screen(self) -> CueScreen:
        """Rules out in one pass the patterns that cannot match a sentence (:mod:`.screen`)."""
        return CueScreen(self.patterns)

    @classmethod
    def build(cls, extra: Mapping[str, Iterable[str]] | None = None) -> CueSet:
        """Default cues plus ``extra`` literal phrases by kind (``[check.cues]`` in config).

        Kinds: the claim cue kinds of :data:`CUE_KINDS`, plus ``not_claim`` (phrases that
        make a sentence not a claim) and ``advice`` (extra imperative openings).
        """
        extra = dict(extra or {})
        unknown = set(extra) - set(CUE_KINDS) - {"not_claim", "advice"}
        if unknown:
            raise ValueError(
                f"unknown cue kind {sorted(unknown)[0]!r} (use {', '.join(CUE_KINDS)}, "
                "not_claim or advice)"
            )
        patterns: dict[str, tuple[re.Pattern[str], ...]] = {}
        for kind in CUE_KINDS:
            # One alternation per kind: one search per kind and sentence. Every kind but
            # statistics is matched against the lower-cased sentence, without re.I, which
            # lets the regular expression engine scan far faster.
            parts = list(_DEFAULT_CUES[kind])
            parts += [_phrase(p).pattern for p in _as_list(extra.get(kind))]
            if kind == "statistic":
                patterns[kind] = (re.compile(_alternation(parts)),)
            else:
                patterns[kind] = (re.compile(_lower_pattern(_alternation(parts))),)
        return cls(
            patterns,
            tuple(_phrase(p) for p in _as_list(extra.get("not_claim"))),
            tuple(re.compile(rf"^\W*{re.escape(p.lower())}\b")
                  for p in _as_list(extra.get("advice"))),
        )


def _alternation(parts: list[str]) -> str:
    """``parts`` as one alternation, tried in order, with runs of parts that open on a
    word boundary grouped together.

    Grouping never changes what matches (alternatives are still tried in the same order),
    but lets the regular expression compiler test the shared ``\\b`` once per position for
    the whole run instead of once per alternative.
    """
    runs: list[list[str]] = []
    for part in map(_boundary_first, parts):
        bounded = part.startswith(r"\b")
        if runs and bounded and runs[-1][0].startswith(r"\b"):
            runs[-1].append(part)
        else:
            runs.append([part])
    return "|".join(
        "(?:" + "|".join(f"(?:{p})" for p in run) + ")" for run in runs
    )


# Negative lookbehinds opening a part, followed by a word boundary: "(?<!\bto )\breduces".
_LOOKBEHINDS_THEN_BOUNDARY = re.compile(r"^((?:\(\?<![^()]*\))+)\\b")


def _boundary_first(part: str) -> str:
    """``part`` with a word boundary that follows its opening lookbehinds moved in front of
    them: both are tests of the same position, so the order changes no match, but testing
    the cheap boundary first spares the lookbehinds at most positions and lets the part
    join a run of parts that open on a word boundary."""
    match = _LOOKBEHINDS_THEN_BOUNDARY.match(part)
    return "\\b" + match.group(1) + part[match.end():] if match else part


def _as_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _lower_pattern(source: str) -> str:
    """A pattern's literal letters in lower case (escapes such as ``\\S`` left alone)."""
    return re.sub(r"(?<!\\)[A-Z]", lambda m: m.group().lower(), source)


def _phrase(text: str) -> re.Pattern[str]:
    """A literal phrase in lower case, on word boundaries, spaces flexible."""
    words = [re.escape(w) for w in text.lower().split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.I)


@lru_cache(maxsize=1)
def default_cues() -> CueSet:
    return CueSet.build()


def not_claim_reason(text: str, cues: CueSet | None = None) -> str | None:
    """Why ``text`` is not a claim (question, heading, advice, self-reference, disclaimer)."""
    cues = cues or default_cues()
    stripped = text.strip().strip("*_").strip()
    if not stripped:
        return "empty"
    words = stripped.split()
    if stripped.endswith("?"):
        return "question"
    if stripped[-1] not in ".!…\"”')]" and len(words) <= 14:
        if _QUESTION_START.match(stripped):
            return "question"
        return "heading"
    if stripped.endswith(":") and len(words) <= 14:
        return "heading"
    if _NOTE_PLACEHOLDER.match(stripped):
        return "placeholder note"
    low = stripped.lower()
    ascii_ = low.isascii()
    maybe = _EXCLUSIONS.possible(low)  # the exclusions that may match
    if maybe is None:
        maybe = _NOTHING_RULED_OUT
    if 0 in maybe and (_DISCLAIMER_ASCII if ascii_ else _DISCLAIMER).search(low):
        return "disclaimer"
    if any(p.search(low) for p in cues.not_claim):
        return "configured not-claim phrase"
    if _is_advice(stripped) or any(p.match(low) for p in cues.advice):
        return "advice"
    if 1 in maybe and (_YOU_ADVICE_ASCII if ascii_ else _YOU_ADVICE).search(low):
        return "advice"
    if 2 in maybe and (_SELF_REFERENCE_ASCII if ascii_ else _SELF_REFERENCE).search(low):
        return "about the article"
    if 3 in maybe and (_INTENTION_ASCII if ascii_ else _INTENTION).match(low):
        return "intention"
    if 4 in maybe and (_OPEN_QUESTION_ASCII if ascii_ else _OPEN_QUESTION).search(low):
        return "open question"
    return None


def _is_advice(text: str) -> bool:
    """True when ``text`` opens with an imperative (:data:`_ADVICE_BODY`), perhaps after a
    label: white space, punctuation and digits, at most one word, then a word and a colon
    (``"1. Tip: talk to ..."``, ``"Important note: consult ..."``).

    The same decision as the expression ``^(?:[\\W\\d]*(?:\\w+\\s+)?\\w+:\\s+)?`` followed by
    the imperative, made in linear time: that expression tries every way of sharing a
    run of digits between its parts, which on a long number takes time quadratic in it.
    """
    if _ADVICE_BODY.match(text):
        return True
    intro = _ADVICE_INTRO.match(text)
    if intro and _INTRO_IMPERATIVE.match(text, intro.end()) and not _NOUN_USE.match(text, intro.end()):
        return True  # "For nosebleeds, apply ...", "To use it, take ...", "For adults: Take ..."
    if ":" not in text:  # no label
        return False
    letter = _LETTER.search(text)
    first_letter = letter.start() if letter else len(text)
    # A label's letters are in its last two words, so its colon comes before the end of
    # the second word from the first letter on (and the white space after it).
    words = _TWO_WORDS.match(text, first_letter)
    limit = words.end() if words is not None else len(text)
    for colon in _LABEL_COLON.finditer(text, 0, limit):
        if colon.start() > first_letter and not _label_before(text, colon.start(), first_letter):
            continue
        if _ADVICE_BODY.match(text, colon.end()):
            return True
    return False


def _word_start(text: str, end: int) -> int:
    """Where the run of word characters that ends at ``end`` starts."""
    while end > 0 and _WORD_CHAR.match(text, end - 1):
        end -= 1
    return end


def _label_before(text: str, colon: int, first_letter: int) -> bool:
    """Whether ``text[:colon]`` is a label: no letter before the last word, or before the
    word and the white space in front of the last word."""
    last = _word_start(text, colon)
    if first_letter >= last:
        return True
    space = last
    while space > 0 and text[space - 1].isspace():
        space -= 1
    return space < last and first_letter >= _word_start(text, space) and _word_start(text, space) < space


def find_cues(text: str, cues: CueSet | None = None, first: bool = False) -> list[Cue]:
    """The cues in ``text`` (masked of citations and code), one per kind, best kind first.

    With ``first`` the search stops at the first kind that matches.
    """
    cues = cues or default_cues()
    low = text.lower()
    if len(low) != len(text):  # a rare letter whose lower case is longer: keep offsets
        low = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    found: list[Cue] = []
    possible = cues.screen.possible(text, low)  # None: search every pattern
    for kind in CUE_KINDS:
        if first and found:
            break
        subject = text if kind == "statistic" else low
        for index, pattern in enumerate(cues.patterns[kind]):
            if possible is not None and (kind, index) not in possible:
                continue  # it cannot match
            match = pattern.search(subject)
            if match and match.group().strip():
                cue_text = text[match.start():match.end()].strip()
                found.append(Cue(kind, cue_text, match.start(), match.end()))
                break
        else:
            if kind == "statistic":
                number = _bare_number(text)
                if number:
                    found.append(Cue(kind, number.group(), number.start(), number.end()))
    return found


_NUMBER = re.compile(r"(?<![\w\-./:#'‘\"“])\d+(?:\.\d+)?(?![\w\-'’\"”/]|\.\d)")
_NAMING_WORDS = frozenset(
    ["type", "phase", "grade", "stage", "class", "figure", "fig", "fig.", "figs.", "table", "tab.", "section", "chapter", "appendix", "eq.", "equation", "version", "part", "step", "item", "row", "line", "page", "ref.", "box", "panel", "level", "cohort", "arm", "group", "no.", "number", "visit", "lead", "omega", "covid", "disease", "hiv", "hpv", "sars-cov", "ec", "eu", "regulation", "directive", "article", "annex", "schedule", "paragraph", "act", "no"]
)
_YEAR_NUMBER = re.compile(r"(?:1[89]|20)\d\d")


def _bare_number(text: str) -> re.Match[str] | None:
    """A number that is not part of a name (IL-4, type 2, phase 3, Figure 2, a list label)."""
    for match in _NUMBER.finditer(text):
        before = _last_word(text, match.start())
        previous = before.lower().strip("([{\"'*_!]}),;:") if before is not None else ""
        if previous in _NAMING_WORDS or previous.rstrip(".") in _NAMING_WORDS:
            continue
        if before is None and text[match.end():match.end() + 1] in (".", ")"):
            continue  # "1." or "2)" opening a line
        if _YEAR_NUMBER.fullmatch(match.group()):
            continue  # a year dates something; it is not a quantity
        return match
    return None


def _last_word(text: str, end: int) -> str | None:
    """The last white-space separated word of ``text[:end]`` (None when there is none),
    read backwards from ``end`` rather than by splitting all the text before it."""
    window = max(0, end - 64)
    words = text[window:end].rsplit(None, 1)
    if len(words) == 2 or (words and window == 0):
        return words[-1]
    if not words and window == 0:
        return None
    while end > 0 and text[end - 1].isspace():  # a long word or run of spaces: read it all
        end -= 1
    if end == 0:
        return None
    start = end
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    return text[start:end]


def is_claim(sentence: Sentence | str, cues: CueSet | None = None) -> Cue | None:
    """The cue that makes ``sentence`` a claim, or None when it is not one.

    A heading block is never a claim; citations, code, link targets and placeholders are
    masked before cues are looked for, so ``[@smith2020]`` is not a number.
    """
    if isinstance(sentence, Sentence):
        if sentence.block.kind == "heading":
            return None
        text = masked_text(sentence)
        if sentence.block.kind in _UNPUNCTUATED_OK and text.rstrip()[-1:].isalnum():
            text = text.rstrip() + "."  # a list item needs no full stop to be a claim
    else:
        text = mask(sentence)
    found = find_cues(text, cues, first=True)
    if not found or not_claim_reason(text, cues):
        return None
    return found[0]


# -- masking -----------------------------------------------------------------------------

# What is masked, as one alternation tried left to right, split in three by the character
# each part needs to close: a part needing "]" is searched only up to the last "]" of the
# text (and one needing ")" up to the last ")"), so an unclosed "[doi:" is not read to the
# end of the text again from each of thousands of such openings.
_MASKABLE_PARTS = (
    (r"\[[^\[\]@]*+@[^\[\]]*+\]"  # bracketed citations
     r"|\[\^[^\]\s]+\]"  # footnote references
     r"|\[\s*(?:doi|pmid|pmcid|arxiv|isbn)\s*:[^\]]*\]", "]"),  # identifier placeholders
    (r"\(\s*(?:doi|pmid|pmcid)\s*:[^)]*\)", ")"),
    # Every alternative opens on a literal character (the test of the character before it
    # follows it: "(?<![\w\\])-?@" written as "-(?<![\w\\]-)@" or "@(?<![\w\\]@)", "\b10." as
    # "1(?<!\w1)0."), so that in lower-cased ASCII text Python's engine skips at once every
    # position whose character opens none: about five times faster on prose.
    (r"-(?<![\w\\]-)@[\w{][^\s,;\]]*|@(?<![\w\\]@)[\w{][^\s,;\]]*"  # in-text citations
     r"|https?://\S+"
     r"|1(?<!\w1)" + DOI_PREFIX.removeprefix("1") + r"/\S+"  # bare DOIs
     r"|\\[A-Za-z]+\*?(?:\{[^{}]*\})?"  # LaTeX commands: \label{fig:x}, \autoref{...}
     r"|\]\([^()]*\.(?:png|jpe?g|gif|svg|pdf|tiff?)\)", None),  # image targets with spaces
)
_MASKABLE = tuple((re.compile(source, re.I), closer) for source, closer in _MASKABLE_PARTS)
# The same expressions for lower-cased ASCII text, where ignoring case changes nothing.
_MASKABLE_ASCII = tuple((re.compile(_lower_pattern(source)), closer) for source, closer in _MASKABLE_PARTS)
# All parts in one expression, for text in which every "[" and "(" is followed by a closer.
_MASKABLE_ALL = re.compile("|".join(source for source, _ in _MASKABLE_PARTS), re.I)
# The same for lower-cased ASCII text.
_MASKABLE_ALL_ASCII = re.compile(_lower_pattern(_MASKABLE_ALL.pattern))


def _maskable_spans(text: str, parts) -> list[tuple[int, int]]:
    """(start, end) of each match of the alternation of ``parts``, left to right.

    No two parts can match at one position (each starts with characters of its own), so
    the first match at or after a position is the earliest of the parts' first matches;
    a part's matches are taken in one run for as long as no other part's comes first.
    """
    limits = [text.rfind(closer) + 1 if closer else len(text) for _, closer in parts]
    found: list = [None] * len(parts)  # per part: (iterator, its next match) or None
    searched = [False] * len(parts)
    spans: list[tuple[int, int]] = []
    position = 0
    while True:
        for index, (pattern, _) in enumerate(parts):
            head = found[index][1] if found[index] else None
            if not searched[index] or (head is not None and head.start() < position):
                matches = pattern.finditer(text, position, max(limits[index], position))
                match = next(matches, None)
                found[index] = (matches, match) if match is not None else None
                searched[index] = True
        heads = [(entry[1].start(), index) for index, entry in enumerate(found) if entry]
        if not heads:
            return spans
        _, best = min(heads)
        bound = min((start for start, index in heads if index != best), default=len(text) + 1)
        matches, match = found[best]
        while match is not None and match.start() < bound:
            spans.append(match.span())
            position = match.end()
            match = next(matches, None)
        found[best] = (matches, match) if match is not None else None


def mask(text: str) -> str:
    """``text`` with citations, identifiers, URLs, code and math replaced by spaces."""
    ascii_ = text.isascii()
    subject = text.lower() if ascii_ else text  # lower-casing ASCII keeps every offset
    if text.find("[", text.rfind("]") + 1) < 0 and text.find("(", text.rfind(")") + 1) < 0:
        # nothing opens after the last closer: no opening is read to the end in vain
        spans = [m.span() for m in (_MASKABLE_ALL_ASCII if ascii_ else _MASKABLE_ALL).finditer(subject)]
    else:
        spans = _maskable_spans(subject, _MASKABLE_ASCII if ascii_ else _MASKABLE)
    if any(mark in text for mark in "`<$]"):
        spans += protected_spans(text)
    if not spans:
        return text
    return _blank(text, spans)


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with every character inside one of ``spans`` (which may overlap) a space."""
    pieces: list[str] = []
    position = 0
    for start, end in sorted(spans):
        start, end = max(start, position), min(end, len(text))
        if start < end:
            pieces += (text[position:start], " " * (end - start))
            position = end
    pieces.append(text[position:])
    return "".join(pieces)


@lru_cache(maxsize=4096)
def _masked_block(content: str) -> str:
    return mask(content)


def masked_text(sentence: Sentence) -> str:
    """The sentence with citations, identifiers, code and math blanked (masked per block)."""
    content = sentence.block.content
    if content[sentence.cstart:sentence.cend] != sentence.text:
        return mask(sentence.text)
    return _masked_block(content)[sentence.cstart:sentence.cend]


# --------------------------------------------------------------------------------------
# Claims with their support


@dataclass
class Claim:
    """A claim sentence, the cue that made it one, and what supports it.

    ``citations`` are the Pandoc citations inside the sentence; ``placeholders`` the
    identifier placeholders in it (they become citations on ``citeflow resolve``).
    """

    sentence: Sentence
    cue: Cue
    citations: list = field(default_factory=list)
    placeholders: list = field(default_factory=list)
    #: The model's probability that the sentence needs a source, and the features that
    #: raised it most (:class:`citeflow.claims.model.Contribution`); None without a model.
    probability: float | None = None
    verdict: Any = field(default=None, repr=False, compare=False)
    threshold: float | None = None
    #: :meth:`explanation`, once written.
    explained: str | None = field(default=None, repr=False, compare=False)

    @property
    def reasons(self) -> list:
        """The three features that raised the model's probability most."""
        return self.verdict.reasons(3) if self.verdict is not None else []

    def explanation(self) -> str:
        """Why this sentence counts as a claim: its cue, the model's confidence and the
        features that weighed most."""
        if self.explained is None:
            self.explained = self._explanation()
        return self.explained

    def _explanation(self) -> str:
        parts = [f"cue {self.cue}"] if self.cue.kind != "assertion" else []
        if self.probability is not None:
            model = f"model {self.probability:.2f}"
            if self.threshold is not None:
                model += f" (threshold {self.threshold:.2f})"
            reasons = self.reasons
            if reasons:
                model += ": " + ", ".join(str(r) for r in reasons)
            parts.append(model)
        return "; ".join(parts)

    @property
    def text(self) -> str:
        return self.sentence.text

    @property
    def start(self) -> int:
        return self.sentence.start

    @property
    def end(self) -> int:
        return self.sentence.end

    @property
    def candidate_query(self) -> tuple[str, str]:
        """The sentence and the paragraph text its candidate references are ranked with
        (:func:`paragraph_context`)."""
        return self.sentence.text, paragraph_context(self.sentence)

    @property
    def keys(self) -> list[str]:
        """Cited keys, in order, without repeats."""
        return list(dict.fromkeys(c.key for c in self.citations))

    @property
    def supported(self) -> bool:
        return bool(self.citations or self.placeholders)


def find_claims(manuscript: Manuscript, cues: CueSet | None = None, *,
                citations: list | None = None, placeholders: list | None = None,
                model=None, threshold: float | None = None,
                sections: slice | None = None) -> list[Claim]:
    """Every claim sentence of the manuscript with the citations that support it.

    ``citations`` and ``placeholders`` default to :func:`citeflow.document.citations.find_citations`
    and the identifier placeholders of :func:`citeflow.document.placeholders.find_placeholders`.
    A sentence is a claim when nothing excludes it (see :func:`not_claim_reason`; headings
    and reference lists too) and the claim model (:mod:`citeflow.claims.model`, the shipped
    one by default) gives it a probability of at least ``threshold`` (the model's default),
    half that when a cue holds. ``model=False`` uses the cues alone. ``sections`` limits the
    search to those of :func:`claim_sections` (a sentence's context never reaches past its
    section, so the claims of the parts put together are the claims of the whole).
    """
    if citations is None:
        from citeflow.document.citations import find_citations

        citations = find_citations(manuscript)
    if placeholders is None:
        from citeflow.document.placeholders import find_placeholders

        placeholders = find_placeholders(manuscript)
    cues = cues or default_cues()
    # "[@CITATION-NEEDED]" and "[@?]" parse as citations but are holes, not support.
    holes = sorted((p.start, p.end) for p in placeholders if p.kind != "identifier")
    hole_starts = [h[0] for h in holes]

    def in_hole(citation) -> bool:
        index = bisect_right(hole_starts, citation.start) - 1
        return index >= 0 and holes[index][0] <= citation.start < holes[index][1]

    citations = [c for c in citations if not in_hole(c)]
    supports = sorted(
        [(c.bracket_start, 0, c) for c in citations]
        + [(p.start, 1, p) for p in placeholders if p.kind == "identifier"],
        key=lambda item: (item[0], item[1]),
    )
    starts = [s[0] for s in supports]
    from citeflow.document.reflist import find_reference_list

    reflist = find_reference_list(manuscript)  # its items are references, never claims
    result: list[Claim] = []
    for sentence, cue, verdict, limit in _judged(manuscript, cues, model, threshold, sections):
        if reflist is not None and reflist.start <= sentence.start < reflist.end:
            continue
        lo = bisect_left(starts, sentence.start)
        hi = bisect_left(starts, sentence.end)
        found = supports[lo:hi]  # (offset, 0 citation / 1 placeholder, the object)
        result.append(Claim(
            sentence, cue,
            [item for _, is_placeholder, item in found if not is_placeholder],
            [item for _, is_placeholder, item in found if is_placeholder],
            verdict.probability if verdict is not None else None,
            verdict,
            limit,
        ))
    return result


_REFERENCE_HEADING = re.compile(
    r"^\W*(?:\d+\.?\s*)?(?:references?|bibliography|works cited|literature cited|sources|"
    r"citations|further reading|notes and references)\W*$", re.I)
# "Smith J, Doe A. Title. J Med. 2020;12(3):45-67." or "... (2019). Title. Journal, 3, 1-9."
_REFERENCE_ENTRY = re.compile(
    r"\b(?:19|20)\d\d\s*;\s*\d+|\b\d+\s*\(\d+\)\s*[:,]\s*\d+|\((?:19|20)\d\d[a-z]?\)\.\s|"
    r"^\W*\[?\d+\]?\.?\s+[A-Z][\w'\-]+,? (?:[A-Z]{1,3}\b|[A-Z]\.)")
_REFERENCE_SCREEN = Screen([_REFERENCE_ENTRY])


def _is_reference_entry(text: str) -> bool:
    """Whether ``text`` reads as an entry of a reference list (:data:`_REFERENCE_ENTRY`);
    RE2 rules most sentences out first (citeflow.claims.screen)."""
    return _REFERENCE_SCREEN.possible(text) != frozenset() and bool(_REFERENCE_ENTRY.search(text))


def claim_sections(manuscript: Manuscript) -> list[tuple[str, list[Block]]]:
    """The prose of the manuscript by section, where claims are looked for: each heading
    ("" before the first) with the prose blocks under it, reference lists left out. A
    claim's context (its neighbours, its heading) stays inside its section."""
    blocks: list[Block] = []
    result: list[tuple[str, list[Block]]] = [("", blocks)]
    for block in manuscript.prose_blocks():
        if block.kind == "heading":
            blocks = []
            result.append((block.content.strip(), blocks))
        else:
            blocks.append(block)
    return [(heading, blocks) for heading, blocks in result if not _REFERENCE_HEADING.match(heading)]


def _judged(manuscript: Manuscript, cues: CueSet, model, threshold: float | None,
            sections: slice | None = None):
    """(sentence, cue, verdict, threshold) for each claim sentence, in source order (of the
    ``sections`` of :func:`claim_sections` only, when given)."""
    from citeflow.claims.model import cues_of, default_model

    if model is None:
        model = default_model()
    if model is not False and threshold is None:
        threshold = model.threshold
    for heading, blocks in claim_sections(manuscript)[sections or slice(None)]:
        members: list[tuple[Sentence, str]] = []  # the section's sentences, masked
        for block in blocks:
            for sentence in block_sentences(block):
                text = masked_text(sentence)
                if block.kind in _UNPUNCTUATED_OK and text.rstrip()[-1:].isalnum():
                    text = text.rstrip() + "."  # a list item needs no full stop to be a claim
                members.append((sentence, text))
        places = _places(members)
        for index, (sentence, text) in enumerate(members):
            if not_claim_reason(text, cues) or _is_reference_entry(text):
                continue
            found = cues_of(text, cues)
            cue = found[0] if found else None
            if model is False:
                if cue is not None:
                    yield sentence, cue, None, None
                continue
            verdict = model.score(_context(members, index, heading, places[index]), cues)
            if not model.needs_source(verdict, cue.kind if cue else None, threshold):
                continue
            if cue is None:
                strongest = verdict.reasons(1)
                words = strongest[0].feature.partition(":")[2] if strongest else ""
                cue = Cue("assertion", words.lstrip("^ "))
            yield sentence, cue, verdict, threshold


def _places(members: list[tuple[Sentence, str]]) -> list[tuple[int, int]]:
    """(index in its paragraph, sentences in the paragraph) for each sentence."""
    places: list[tuple[int, int]] = []
    start = 0
    for index in range(len(members) + 1):
        if index == len(members) or (index and members[index][0].block is not members[start][0].block):
            places += [(i - start, index - start) for i in range(start, index)]
            start = index
    return places


def _context(members: list[tuple[Sentence, str]], index: int, heading: str,
             place: tuple[int, int]):
    from citeflow.claims.model import SentenceContext

    sentence, text = members[index]
    return SentenceContext(
        text,
        members[index - 1][1] if index > 0 else "",
        members[index + 1][1] if index + 1 < len(members) else "",
        heading, place[0], place[1], sentence.block.kind,
    )
