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
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, Mapping

from .citations import protected_spans
from .manuscript import PARAGRAPH_CONTEXT, Block, Manuscript, context_spans

# --------------------------------------------------------------------------------------
# Segmentation

try:  # Bling Fire: a compiled, model-based segmenter, about 20x faster than pysbd.
    import blingfire as _blingfire
except ImportError:  # pragma: no cover - exercised only where Bling Fire is missing
    _blingfire = None

SEGMENTER = "blingfire" if _blingfire is not None else "pysbd"

# Abbreviations after which neither segmenter should end a sentence when a number or a
# lower-case word follows ("see Eq. 4", "Fig. 2", "Dr. Smith").
_NO_BREAK_AFTER = re.compile(
    r"(?:\b(?:e\.g|i\.e|et al|vs|cf|approx|ca|fig|figs|eq|eqs|ref|refs|no|nos|vol|pp|p|"
    r"tab|suppl|dr|prof|mr|mrs|ms|st|sec|ch|incl)\.)\s*$",
    re.I,
)
_STARTS_CONTINUATION = re.compile(r"^\s*[a-z0-9(\[]")
# Blocks whose sentences often lack a full stop without being headings.
_UNPUNCTUATED_OK = frozenset({"list_item", "footnote", "blockquote"})
# Taken possessively: a fragment that is not only citations fails at once, not after trying
# every way of splitting its white space between the two quantifiers.
_ONLY_CITATIONS = re.compile(r"^\s*+(?:\[[^\]@]*+@[^\]]*+\]|\[\^[^\]]+\]|[.,;:)\]\s])*+\s*$")
# The longest text _NO_BREAK_AFTER can match at the end of a sentence ("approx."), plus room
# for the character before it that its \b looks at.
_ABBREVIATION_TAIL = 16


@lru_cache(maxsize=8192)
def _raw_spans(text: str) -> tuple[tuple[int, int], ...]:
    """(start, end) offsets of the sentences the segmenter finds in ``text``."""
    if _blingfire is None:
        return tuple((span.start, span.end) for span in _pysbd().segment(text))
    # Bling Fire's own offset computation is five times slower than the segmentation;
    # the sentences it returns are substrings of ``text``, so find them in order instead.
    spans = []
    position = 0
    for piece in _blingfire.text_to_sentences(text).split("\n"):
        if not piece:
            continue
        found = text.find(piece, position)
        if found < 0:
            _, offsets = _blingfire.text_to_sentences_and_offsets(text)
            return tuple((int(a), int(b)) for a, b in offsets)
        spans.append((found, found + len(piece)))
        position = found + len(piece)
    return tuple(spans)


@lru_cache(maxsize=1)
def _pysbd():  # pragma: no cover - fallback segmenter
    import pysbd

    return pysbd.Segmenter(language="en", clean=False, char_span=True)


@lru_cache(maxsize=8192)
def segment(text: str) -> tuple[tuple[int, int], ...]:
    """Sentence spans of ``text``: segmenter output, trimmed, with two repairs.

    A fragment holding only citations or punctuation (``[@a].`` after ``et al.``) joins the
    sentence before it, and so does a fragment that follows a known abbreviation and starts
    with a number or a lower-case word (``see Eq. 4``).
    """
    if not text.strip():
        return ()
    if not any(mark in text for mark in ".!?…"):
        return (_trim(text, 0, len(text)),)
    spans: list[tuple[int, int]] = []
    for start, end in _raw_spans(text):
        start, end = _trim(text, start, end)
        if start >= end:
            continue
        if spans:
            prev_start, prev_end = spans[-1]
            piece = text[start:end]
            # The cheap tests first: an abbreviation can only end a sentence that ends in "."
            # (spans are trimmed, so that is its last character), and only its last few
            # characters can hold one: a sentence grown by many joins is not read again.
            if _ONLY_CITATIONS.match(piece) or (
                _STARTS_CONTINUATION.match(piece)
                and text[prev_end - 1] == "."
                and _NO_BREAK_AFTER.search(text[max(prev_start, prev_end - _ABBREVIATION_TAIL):prev_end])
            ):
                spans[-1] = (prev_start, end)
                continue
        spans.append((start, end))
    return tuple(spans)


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


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


def _words(*phrases: str) -> str:
    return "|".join(phrases)


_UNNAMED = r"(?:many|some|several|various|numerous|multiple|other|recent|new|emerging|growing|" \
    r"increasing|previous|existing|current|published|scientific|clinical|medical|online)"

_DEFAULT_CUES: dict[str, list[str]] = {
    "attribution": [
        rf"\b(?:{_UNNAMED}\s+)*(?:studies|research|evidence|data|literature|reports|trials|"
        r"research papers|papers|sources|investigations|analyses|surveys)\s+(?:\w+\s+)?"
        r"(?:show|shows|showed|shown|suggest|suggests|suggested|indicate|indicates|indicated|"
        r"demonstrate|demonstrates|demonstrated|find|finds|found|confirm|confirms|confirmed|"
        r"reveal|reveals|revealed|prove|proves|proved|point|points|mention|mentions|report|"
        r"reports|reported|link|links|linked|support|supports|supported)\b",
        r"\b(?:experts?|scientists|researchers|doctors|physicians|clinicians|dermatologists|"
        r"specialists|authorities|health authorities|professionals)\s+(?:\w+\s+)?"
        r"(?:say|says|said|agree|agreed|believe|believed|recommend|recommended|warn|warned|"
        r"suggest|suggested|note|noted|claim|claimed|think|consider|report|reported)\b",
        rf"\baccording to (?:{_UNNAMED}\s+)*(?:online\s+)?(?:sources|experts|studies|research|"
        r"reports|data|doctors|scientists|researchers|the literature|literature)\b",
        r"\bstud(?:y|ies) (?:on|in|from) (?:ScienceDirect|PubMed|Google Scholar|the internet|"
        r"the web|Medline|Embase|Web of Science|Scopus)\b",
        r"\b(?:sources|databases|journals) (?:like|such as) (?:ScienceDirect|PubMed|Google "
        r"Scholar|Medline)\b",
        r"\b(?:as )?(?:highlighted|reported|described|shown|noted|documented|discussed|"
        r"suggested|demonstrated) (?:in|by) (?:many |several |some |various |recent |"
        r"numerous )?(?:research|studies|the literature|literature|research papers|papers|"
        r"reports|experts|trials)\b",
        r"\bit is (?:well[- ]|widely |generally |commonly )?(?:known|established|accepted|"
        r"believed|recognized|recognised|documented|reported)\b",
        r"\b(?:it has been|has been|have been) (?:widely |well |extensively )?(?:shown|"
        r"reported|demonstrated|suggested|documented)\b",
        r"\b(?:research|evidence|science) (?:is|remains) (?:clear|conclusive)\b",
    ],
    "statistic": [
        # (?<!\d): a number is tried from its first digit only; from a later one it could
        # match only where it already matched from the first (a run of digits without a
        # unit would otherwise be read again from each of its digits).
        r"(?<!\d)\d+(?:[.,]\d+)?\s*+(?:%|per ?cent\b|percent\b|percentage points?\b)",
        r"\b[pP]\s*[<=>≤≥]\s*0?\.\d+",
        r"\b[nN]\s*=\s*\d",
        r"\b(?:95|99|90)\s*%\s*(?:CI|confidence)",
        r"\b(?:HR|OR|RR|aOR|aHR|IRR|NNT|NNH|AUC|SD|SEM|IQR|CI)\s*[=:,]?\s*\d",
        r"\b\d{1,3}(?:,\d{3})+\b",
        r"\b\d+(?:\.\d+)?(?:\s*+[-–]|\s*\ to\ )?\s*+(?:fold|times)\b",
        r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten) (?:in|out of) "
        r"(?:\w+ )?(?:two|three|four|five|six|seven|eight|nine|ten|\d+)\b",
        r"\b(?<!-)(?<!first )(?<!second )(?<!other )(?<!latter )(?<!former )(?<!the )"
        r"(?:half|a third|a quarter|two-thirds|three-quarters|the majority|a minority) of\b",
        r"\b(?:hundreds|thousands|tens of thousands|hundreds of thousands|millions|billions|"
        r"dozens)\b",
        r"\b\d+(?:\.\d+)?\s*(?:million|billion|trillion|thousand|hundred)\b",
        r"\b(?:million|billion|trillion)\b",
        r"\b(?:twice|double|doubled|triple|tripled|halved)\b",
        r"\b(?:eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|"
        r"twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred)\b",
        r"\b(?:two|three|four|five|six|seven|eight|nine|ten) (?:percent|per cent|times|years|"
        r"months|weeks|days|patients|people|studies|trials|cases|votes|bills|points)\b",
    ],
    "causal": [
        r"\b(?:cause|causes|caused|causing|causal|causality)\b",
        r"\b(?:leads?|led|leading) to\b",
        r"\b(?:results?|resulted|resulting) in\b",
        r"\b(?:reduces?|reduced|reducing|reduction|lowers?|lowered|lowering)\b",
        r"\b(?:improves?|improved|improving|improvement|improvements)\b",
        r"\b(?:increases?|increased|increasing|decreases?|decreased|decreasing)\b",
        r"\b(?:prevents?|prevented|preventing|protects?|protected) (?:against|from)?",
        r"\b(?:triggers?|triggered|induces?|induced|inhibits?|inhibited|blocks?|blocked|"
        r"blocking|suppress|suppresses|suppressed|worsens?|worsened|exacerbates?|"
        r"exacerbated|alleviates?|relieves?|relieved|cures?|cured)\b",
        r"\bcontribut(?:e|es|ed|ing) to\b",
        r"\b(?:associated|linked|correlated|implicated) (?:with|to|in)\b",
        r"\b(?:due to|because of|owing to|responsible for|attributable to)\b",
        r"\b(?:drives?|driver|drivers|driven by)\b",
        r"\bplays? an? (?:central|key|major|important|crucial|critical|pivotal) role\b",
        r"\b(?:targets?|targeted|binds?|bound to|mediates?|mediated|regulates?|regulated|"
        r"regulation of)\b",
        r"\b(?:impact|impacts|affects?|affected) (?:on )?(?:your|the|their|its|joint|"
        r"patients|symptoms|health|quality)\b",
    ],
    "comparative": [
        r"\b(?:rose|risen|fell|fallen|grew|grown|declined|dropped|soared|plummeted|"
        r"went up|went down|gone up|gone down|is up|are up|is down|are down)\b",
        r"\b(?:more|less|fewer|greater|higher|lower|better|worse|larger|smaller|faster|"
        r"slower|longer|shorter|safer|stronger|weaker) than\b",
        r"\b(?:more|less) (?:\w+ ){1,2}than\b",
        r"\bcompared (?:with|to)\b|\bin comparison (?:with|to)\b|\brelative to\b",
        r"\b(?:versus|vs\.?)(?=\s)",
        r"\b(?:superior|inferior|non-inferior|noninferior|equivalent|comparable) to\b",
        r"\boutperform(?:s|ed)?\b",
        r"\bas (?:effective|safe|common|likely) as\b",
    ],
    "superlative": [
        r"\bmost (?:widely|commonly|frequently|often|common|effective|important|prescribed|"
        r"used|popular|successful|significant|promising|advanced|serious|severe)\b",
        r"\b(?:the )?(?:best|worst|largest|highest|lowest|greatest|biggest|smallest|safest|"
        r"fastest|leading|first|only) (?:\w+ ){0,2}(?:treatment|therapy|drug|medication|"
        r"option|cause|approach|agent|biologic|choice|way|study|trial)\b",
        r"\b(?:revolutioni[sz]ed?|revolutioni[sz]ing|revolutionary|breakthrough|"
        r"groundbreaking|game[- ]changer|game[- ]changing|transformed|transformative|"
        r"miracle|gold standard|unprecedented|dramatically|remarkabl[ey])\b",
        r"\b(?:widely|commonly|frequently|routinely) (?:used|prescribed|reported|observed|"
        r"recommended|accepted|seen)\b",
        r"\b(?:often|frequently|commonly|usually|typically|rarely|always|never) "
        r"(?:\w+ )?(?:mention|mentions|report|reports|reported|occurs?|cause|causes|"
        r"experience|experiences|develop|develops|seen|observed|associated|leads?|"
        r"results?|involves?)\b",
        r"\b(?:common|rare|uncommon|frequent|infrequent|well-known|notable|noticeable) "
        r"(?:\w+ )?(?:side effects?|adverse (?:events?|effects?|reactions?)|complications?|"
        r"cause|condition|finding|symptom)\b",
        r"\b(?:varies|vary|varied) (?:significantly|widely|considerably|greatly)\b",
        r"\bfor the first time\b|\bthe first (?:\w+ ){0,2}(?:in|to|since|ever)\b",
        r"\bthe (?!(?:interest|request|contest|forest|protest|test|rest|west|chest|nest|"
        r"quest|guest|harvest|manifest|suggest|digest|earnest|honest|modest|latest)\b)"
        r"[a-z]{3,}est\b",
    ],
    "efficacy": [
        r"\b(?:effective|effectiveness|efficacy|efficacious|ineffective)\b",
        r"\b(?:safe|safety|unsafe|well[- ]tolerated|tolerability|toxicity|toxic)\b",
        r"\b(?:side effects?|adverse (?:events?|effects?|reactions?|outcomes?))\b",
        r"\b(?:approved|licensed|indicated) (?:for|by|in)\b",
        r"\bcontraindicated\b",
        r"\b(?:response rates?|remission|relapse|mortality|morbidity|incidence|prevalence|"
        r"risk of|risks of)\b",
        r"\b(?:treats?|treated|treating) (?:\w+ ){0,3}(?:dermatitis|asthma|eczema|disease|"
        r"condition|patients|symptoms)\b",
    ],
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
_TWO_WORDS = re.compile(r"\w*\W*\w*\W*")
_LETTER = re.compile(r"[^\W\d]")
_WORD_CHAR = re.compile(r"\w")
_YOU_ADVICE = re.compile(
    r"\b(?:you should|you must|you may want to|you might want to|we recommend|"
    r"it is (?:important|crucial|vital|essential|advisable|best|wise|recommended) (?:for you )?"
    r"to (?:consult|talk|speak|tell|inform|ask|discuss|seek|contact|see|keep|monitor|stop|"
    r"avoid|follow|remember|check|report)|if you (?:experience|notice|have|develop|are))",
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
_SELF_REFERENCE_ASCII = _ascii_lower(_SELF_REFERENCE, "|".join(
    [f"(?:{p})" for p in _SELF_REFERENCE_PARTS if not p.startswith(r"\b")]
    + ["\\b(?:" + "|".join(f"(?:{p[2:]})" for p in _SELF_REFERENCE_PARTS if p.startswith(r"\b"))
       + ")"]
))


@dataclass(frozen=True)
class CueSet:
    """Compiled cue patterns by kind, plus phrases that make a sentence not a claim."""

    patterns: Mapping[str, tuple[re.Pattern[str], ...]]
    not_claim: tuple[re.Pattern[str], ...] = ()
    advice: tuple[re.Pattern[str], ...] = ()

    @classmethod
    def build(cls, extra: Mapping[str, Iterable[str]] | None = None) -> "CueSet":
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
    for part in parts:
        bounded = part.startswith(r"\b")
        if runs and bounded and runs[-1][0].startswith(r"\b"):
            runs[-1].append(part)
        else:
            runs.append([part])
    return "|".join(
        "(?:" + "|".join(f"(?:{p})" for p in run) + ")" for run in runs
    )


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
    if (_DISCLAIMER_ASCII if ascii_ else _DISCLAIMER).search(low):
        return "disclaimer"
    if any(p.search(low) for p in cues.not_claim):
        return "configured not-claim phrase"
    if _is_advice(stripped) or any(p.match(low) for p in cues.advice):
        return "advice"
    if (_YOU_ADVICE_ASCII if ascii_ else _YOU_ADVICE).search(low):
        return "advice"
    if (_SELF_REFERENCE_ASCII if ascii_ else _SELF_REFERENCE).search(low):
        return "about the article"
    if (_INTENTION_ASCII if ascii_ else _INTENTION).match(low):
        return "intention"
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
    letter = _LETTER.search(text)
    first_letter = letter.start() if letter else len(text)
    # A label's letters are in its last two words, so its colon comes before the end of
    # the second word from the first letter on (and the white space after it).
    limit = _TWO_WORDS.match(text, first_letter).end()
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
    for kind in CUE_KINDS:
        if first and found:
            break
        subject = text if kind == "statistic" else low
        for pattern in cues.patterns[kind]:
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


_NUMBER = re.compile(r"(?<![\w\-./:#'‘\"“])\d+(?:\.\d+)?(?![\w\-'’\"”]|\.\d)")
_NAMING_WORDS = frozenset(
    "type phase grade stage class figure fig fig. figs. table tab. section chapter appendix "
    "eq. equation version part step item row line page ref. box panel level cohort arm "
    "group no. number visit lead".split()
)


def _bare_number(text: str) -> re.Match[str] | None:
    """A number that is not part of a name (IL-4, type 2, phase 3, Figure 2, a list label)."""
    for match in _NUMBER.finditer(text):
        before = _last_word(text, match.start())
        previous = before.lower().lstrip("([{\"'*_!]") if before is not None else ""
        if previous in _NAMING_WORDS or previous.rstrip(".") in _NAMING_WORDS:
            continue
        if before is None and text[match.end():match.end() + 1] in (".", ")"):
            continue  # "1." or "2)" opening a line
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


def is_claim(sentence: "Sentence | str", cues: CueSet | None = None) -> Cue | None:
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
    (r"(?<![\w\\])-?@[\w{][^\s,;\]]*"  # in-text citations
     r"|https?://\S+"
     r"|\b10\.\d{4,9}/\S+"  # bare DOIs
     r"|\\[A-Za-z]+\*?(?:\{[^{}]*\})?"  # LaTeX commands: \label{fig:x}, \autoref{...}
     r"|\]\([^()]*\.(?:png|jpe?g|gif|svg|pdf|tiff?)\)", None),  # image targets with spaces
)
_MASKABLE = tuple((re.compile(source, re.I), closer) for source, closer in _MASKABLE_PARTS)
# The same expressions for lower-cased ASCII text, where ignoring case changes nothing.
_MASKABLE_ASCII = tuple((re.compile(_lower_pattern(source)), closer) for source, closer in _MASKABLE_PARTS)
# All parts in one expression, for text in which every "[" and "(" is followed by a closer.
_MASKABLE_ALL = re.compile("|".join(source for source, _ in _MASKABLE_PARTS), re.I)
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
    chars = list(text)
    for start, end in spans:
        end = min(end, len(chars))
        if start < end:
            chars[start:end] = " " * (end - start)
    return "".join(chars)


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
    def keys(self) -> list[str]:
        """Cited keys, in order, without repeats."""
        return list(dict.fromkeys(c.key for c in self.citations))

    @property
    def supported(self) -> bool:
        return bool(self.citations or self.placeholders)


def find_claims(manuscript: Manuscript, cues: CueSet | None = None, *,
                citations: list | None = None, placeholders: list | None = None) -> list[Claim]:
    """Every claim sentence of the manuscript with the citations that support it.

    ``citations`` and ``placeholders`` default to :func:`citeflow.citations.find_citations`
    and the identifier placeholders of :func:`citeflow.placeholders.find_placeholders`.
    """
    if citations is None:
        from .citations import find_citations

        citations = find_citations(manuscript)
    if placeholders is None:
        from .placeholders import find_placeholders

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
    result: list[Claim] = []
    for block in manuscript.prose_blocks():
        if block.kind == "heading":
            continue
        for sentence in block_sentences(block):
            cue = is_claim(sentence, cues)
            if cue is None:
                continue
            lo = bisect_left(starts, sentence.start)
            hi = bisect_left(starts, sentence.end)
            found = [s[2] for s in supports[lo:hi]]
            result.append(Claim(
                sentence, cue,
                [f for f in found if not hasattr(f, "kind")],
                [f for f in found if hasattr(f, "kind")],
            ))
    return result
