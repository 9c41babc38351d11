"""Rank bibliography entries for a sentence that needs a citation.

The ranking is BM25 (Okapi, as :mod:`rank_bm25` computes it: :func:`bm25_postings`) over each reference's title, keywords and abstract
(title and keywords count twice) and the subject words of its journal's name. The query is the
sentence the citation belongs to, with the rest of its paragraph added at a lower weight.

Text on both sides goes through the same analysis:

1. lower-casing, and gluing numbered mediators together (``IL-4``, ``interleukin 4`` and
   ``Th-17`` become ``il4``, ``interleukin4``, ``th17``);
2. *concepts*: each phrase of the small synonym table :data:`CONCEPTS` adds a concept token,
   so that "joint pain" in a sentence meets "arthritis" in a title, "eczema" meets "atopic
   dermatitis" and "IL-4" meets "interleukin-4";
3. words of two or more letters, English stop words dropped, Snowball (Porter 2) stems.

Scores are raw BM25 sums. A candidate is *confident* (:meth:`Suggester.is_confident`) when
its score reaches :data:`CONFIDENT_SCORE` and it shares at least :data:`CONFIDENT_TERMS`
different words with the sentence itself (a concept counts as the words it was found in, so
"inflammatory" and the concept it raises are one word, "joint pain" two); weaker candidates
are still listed, so a writer can see them, but callers should not present them as likely
support.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, filterfalse, repeat

import numpy as np

try:  # PyStemmer: the Snowball stemmers compiled; the same stems, about 20 times faster
    import Stemmer
except ImportError:  # pragma: no cover - only where the dependency is missing
    Stemmer = None

from citeflow.claims.data import load_data
from citeflow.claims.documents import LARGE, DocumentCache, Documents, document_key
from citeflow.claims.screen import Screen
from citeflow.claims.suggestion import Suggestion, cite_label
from citeflow.claims.worker import tokens_split

#: Minimum BM25 score of a confident candidate (tuned on the sample claims, see tests).
CONFIDENT_SCORE = 4.0
#: Minimum number of different words of the sentence (content-word stems, concepts counted
#: as the words they were found in) a confident candidate must share: two words, such as
#: "inflammatory" and "joint", are too thin a link to present as likely support.
CONFIDENT_TERMS = 3
#: Minimum number of those shared words that are *material*: not words of study design,
#: reporting or evaluation that any clinical title may hold (:data:`GENERIC_TERMS`). "Side
#: effect" and "patients" shared with a trial report say nothing about what it found; a
#: drug, a condition, an outcome or a population named on both sides does.
CONFIDENT_MATERIAL = 2
#: Weight of paragraph words that are not in the sentence itself.
PARAGRAPH_WEIGHT = 0.3
#: Extra weight of each repetition of a word in the sentence.
REPEAT_WEIGHT = 0.5
#: BM25 parameters (term-frequency saturation and length normalisation).
BM25_K1 = 1.2
BM25_B = 0.75
#: Weight of a concept token relative to a word.
CONCEPT_WEIGHT = 1.0
#: Most query x reference scores ranked in one block (8 bytes each).
BATCH_CELLS = 1 << 20
#: About how many postings are added together in one pass of batched ranking.
BATCH_POSTINGS = 1 << 15

#: Synonym groups: a concept name and the phrases (regular expressions over lower-cased text
#: after mediator gluing) that express it. Kept small and general on purpose; every phrase
#: is a standard clinical synonym or a broader/narrower term of the concept.
CONCEPTS: dict[str, tuple[str, ...]] = {
    name: tuple(entry["phrases"]) for name, entry in load_data("concepts.toml").items()
}

STOP_WORDS = frozenset(
    ["a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "him", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "may", "might", "more", "most", "must", "my", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our", "out", "over", "own", "per", "same", "she", "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "upon", "very", "via", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "within", "without", "would", "you", "your", "yours", "s", "t", "don", "can't", "won't", "it's", "its'", "using", "use", "used", "among", "based", "vs", "versus", "et", "al"]
)

# Stems of words that journal names share whatever their field ("Journal", "American",
# "Clinical", "Reports"); only a journal's subject words (Dermatology, Allergology) count.
_GENERIC_CONTAINER = frozenset(
    ["journal", "intern", "american", "european", "british", "annal", "archiv", "proceed", "report", "letter", "bulletin", "acta", "new", "england", "review", "clinic", "case", "medicin", "scienc", "research", "open", "world", "current"]
)

#: Words of study design, reporting and evaluation, and generic nouns for people, illness and
#: treatment: shared with a candidate, they are no sign that it reports what the sentence
#: says (see :data:`CONFIDENT_MATERIAL`).
GENERIC_TERMS = frozenset(
    ["study", "studies", "trial", "trials", "clinical", "research", "review", "systematic", "meta", "analysis", "analyses", "data", "evidence", "result", "results", "report", "reports", "reported", "effect", "effects", "side", "adverse", "event", "events", "safety", "efficacy", "effective", "effectiveness", "outcome", "outcomes", "treatment", "treatments", "treated", "therapy", "therapies", "therapeutic", "therapeutical", "patient", "patients", "people", "person", "individual", "individuals", "participant", "participants", "subject", "subjects", "case", "cases", "associated", "association", "role", "key", "driver", "type", "disease", "diseases", "condition", "conditions", "disorder", "disorders", "health", "medical", "medicine", "drug", "drugs", "medication", "medications", "dose", "doses", "risk", "rate", "rates", "incidence", "level", "levels", "factor", "factors", "mechanism", "mechanisms", "pathway", "pathways", "response", "new", "novel", "long", "term", "phase", "randomized", "randomised", "controlled", "placebo", "double", "blind", "cohort", "observational", "retrospective", "prospective", "management", "approach", "evaluation", "assessment", "experience", "practice", "guideline", "guidelines", "cause", "causes", "impact", "improve", "improves", "improvement", "reduce", "reduces", "reduced", "increase", "increases", "increased", "significant", "significantly", "high", "low", "common", "rare", "year", "years", "week", "weeks", "month", "months", "symptom", "symptoms", "method", "methods", "model", "models", "set", "sets", "important", "potential", "several", "various", "specific", "general", "first", "one", "two",
     # general academic vocabulary: what studies do and how they say it
     "show", "shows", "shown", "demonstrate", "demonstrates", "demonstrated", "identify", "identifies", "identified", "identification", "find", "finds", "found", "suggest", "suggests", "often", "complex", "given", "understand", "understanding", "work", "process", "processes", "task", "tasks", "improved", "approaches", "particular", "particularly", "relevant", "relevance", "problem", "problems", "system", "systems", "based", "large", "small", "better", "different", "difference", "differences", "known", "many", "number", "present", "provide", "provides", "use", "used", "using", "value", "values", "information", "tool", "tools", "technique", "techniques", "framework", "application", "applications", "performance"]
)

_MEDIATOR = re.compile(r"\b(il|interleukin|th|tnf|ig|cd)[\s-]?(\d{1,2}[a-z]?)\b")
# What every mediator holds, opening on a literal: scanned far faster than the expression
# above, which opens on a word boundary; most text holds none and is not rewritten.
_MEDIATOR_HINT = re.compile(r"(?:il|interleukin|th|tnf|ig|cd)[\s-]?\d")
# A word of letters (and digits), or digits followed by letters ("2b"), tried from the first
# digit of a number only: from a later digit it would fail where the first did.
_WORD = re.compile(r"[a-z][a-z0-9]+|(?<!\d)\d+[a-z]+[a-z0-9]*")


def _leading_literal(phrase: str) -> str:
    """Text that every match of ``phrase`` starts with ("" when there is none to rely on).

    The run of plain characters at the start of the expression (after a ``\\b``), without
    a last character that a quantifier makes optional or repeatable.
    """
    depth = 0
    index = 0
    while index < len(phrase):  # an alternation outside any group: no single prefix
        char = phrase[index]
        if char == "\\":
            index += 1
        elif char == "[":  # a character class, up to its closing bracket
            index += 1
            index += phrase[index:index + 1] == "^"
            index += phrase[index:index + 1] == "]"
            while index < len(phrase) and phrase[index] != "]":
                index += 2 if phrase[index] == "\\" else 1
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            return ""
        index += 1
    phrase = phrase.removeprefix(r"\b")
    run = re.match(r"[a-z0-9 '-]*", phrase)
    assert run is not None  # the expression matches the empty string
    literal = run.group()
    if phrase[len(literal):len(literal) + 1] in ("?", "*", "+", "{"):
        literal = literal[:-1]
    return literal


def _concept_literals(phrases: Sequence[str]) -> frozenset[str] | None:
    """Texts one of which starts every match of a concept; None when unknown."""
    literals = [_leading_literal(p) for p in phrases]
    return None if not all(literals) else frozenset(literals)


_COMPILED_CONCEPTS = [
    (name, re.compile(r"\b(?:" + "|".join(phrases) + r")\b"), _concept_literals(phrases))
    for name, phrases in CONCEPTS.items()
]
_STEMMER = Stemmer.Stemmer("english") if Stemmer is not None else None
# Rules out in one RE2 pass the concepts that cannot match a text (citeflow.claims.screen).
_CONCEPT_SCREEN = Screen([pattern for _, pattern, _ in _COMPILED_CONCEPTS])


def normalise(text: str) -> str:
    """Lower-case, fold accents and typographic quotes, glue numbered mediators (IL-4)."""
    if text.isascii():
        text = text.lower()
    else:
        text = unicodedata.normalize("NFKD", text)
        # the combining marks dropped, each distinct character tested once
        marks = [c for c in set(text) if unicodedata.combining(c)]
        text = (text.translate(dict.fromkeys(map(ord, marks))) if marks else text).lower()
    text = text.replace("’", "'").replace("α", "a").replace("β", "b")
    return _MEDIATOR.sub(r"\1\2", text) if _MEDIATOR_HINT.search(text) else text


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    if _STEMMER is None:  # plural "s" only, when the Snowball stemmer is not installed
        return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word
    return _STEMMER.stemWord(word)


def analyse(text: str) -> list[tuple[str, str]]:
    """(token, surface form) pairs for ``text``: stems of content words, then concepts.

    Concept tokens start with ``~`` (``~joint-disorder``) so they never collide with words.
    """
    return list(_analyse(text))


def _words(norm: str) -> list[tuple[str, str]]:
    """(stem, word) of the content words of normalised text."""
    return [(_stem(w), w) for w in _WORD.findall(norm) if w not in STOP_WORDS]


def _concepts(norm: str) -> list[tuple[int, int, str, str, int]]:
    """(start, end, concept token, surface form, concept index) of every concept match in
    normalised text: by concept, then by position, as ``finditer`` of each concept finds them
    (:func:`_concept_matches`)."""
    return [(at, match.end(), token, match.group(0), index) for at, match, token, index in _concept_matches(norm)]


def _concept_matches(norm: str) -> Iterator[tuple[int, re.Match[str], str, int]]:
    """(start, match, concept token, concept index) of every concept match in normalised
    text, by concept, then by position.

    A match starts with the leading text of one of its concept's phrases, so the expression
    is tried only where such a text starts, in order, each try at or after the end of the
    previous match: the same matches as a scan of the whole text, at a fraction of the cost.
    Concepts the screen rules out are not looked for at all.
    """
    places: dict[str, list[int]] = {}
    possible = _CONCEPT_SCREEN.possible(norm)
    for index, (name, pattern, literals) in enumerate(_COMPILED_CONCEPTS):
        if possible is not None and index not in possible:
            continue
        token = "~" + name
        if literals is None:
            for found in pattern.finditer(norm):
                yield found.start(), found, token, index
            continue
        starts: set[int] = set()
        for literal in literals:
            where = places.get(literal)
            if where is None:
                where = places[literal] = []
                at = norm.find(literal)
                while at >= 0:
                    where.append(at)
                    at = norm.find(literal, at + 1)
            starts.update(where)
        end = 0
        for at in sorted(starts):
            if at < end:
                continue
            match = pattern.match(norm, at)
            if match:
                yield at, match, token, index
                end = match.end()


@lru_cache(maxsize=4096)
def _scanned(text: str) -> tuple[str, tuple[tuple[str, str], ...],
                                  tuple[tuple[int, int, str, str, int], ...]]:
    """The normalised text, its words and its concept matches with their offsets."""
    norm = normalise(text)
    return norm, tuple(_words(norm)), tuple(_concepts(norm))


@lru_cache(maxsize=4096)
def _analyse(text: str) -> tuple[tuple[str, str], ...]:
    # Cached: every sentence of a paragraph is ranked with that same paragraph.
    _, words, concepts = _scanned(text)
    return words + tuple((token, word) for _, _, token, word, _ in concepts)


# Concepts whose expressions look around their match (``\bad\b(?= patients)``): their
# matches in a part of a text may differ from those in the whole text.
_LOOKAROUND = frozenset(
    index for index, name in enumerate(CONCEPTS)
    if any(mark in phrase for phrase in CONCEPTS[name] for mark in ("(?=", "(?!", "(?<"))
)
_PART_ANALYSES: dict[str, tuple[tuple[str, str], ...]] = {}


def _analyse_part(text: str, whole: str) -> tuple[tuple[str, str], ...]:
    """``_analyse(text)`` for a ``text`` that is usually a sentence of ``whole`` (its
    paragraph), with the concepts taken from the analysis of ``whole`` when that gives the
    same ones.

    It does when the normalised text occurs in the normalised paragraph between white space
    (or its ends) and no concept match of the paragraph runs across those ends: a concept
    phrase looks at nothing beyond its match but the next character, so each match inside
    is one the text alone has, and the other way round. Concepts that look further ahead
    are matched on the text itself, and so are the words, which is cheap.
    """
    known = _PART_ANALYSES.get(text)
    if known is not None:
        return known
    if not whole or text == whole:
        return _analyse(text)
    norm_whole, _, concepts_whole = _scanned(whole)
    norm = normalise(text)
    start = norm_whole.find(norm) if norm else -1
    end = start + len(norm)
    if (start < 0 or (start > 0 and not norm_whole[start - 1].isspace())
            or (end < len(norm_whole) and not norm_whole[end].isspace())):
        return _analyse(text)
    concepts: dict[int, list[tuple[str, str]]] = {}
    for match_start, match_end, token, word, group in concepts_whole:
        if match_end <= start or match_start >= end or group in _LOOKAROUND:
            continue
        if match_start < start or match_end > end:
            return _analyse(text)  # a phrase across the sentence's ends
        concepts.setdefault(group, []).append((token, word))
    for group in _LOOKAROUND:
        name, pattern, _ = _COMPILED_CONCEPTS[group]
        concepts[group] = [("~" + name, m.group(0)) for m in pattern.finditer(norm)]
    result = tuple(_words(norm)) + tuple(
        pair for group in sorted(concepts) for pair in concepts[group]
    )
    if len(_PART_ANALYSES) >= 4096:
        _PART_ANALYSES.clear()
    _PART_ANALYSES[text] = result
    return result


@lru_cache(maxsize=1024)
def _paragraph_terms(paragraph: str) -> tuple[dict[str, float], dict[str, str]]:
    """Each term of ``paragraph`` once, in order, with its query weight as context, and the
    words of its first occurrence (what a query takes from its paragraph)."""
    pairs = _analyse(paragraph)
    first = dict(reversed(pairs))  # the word of each term's first occurrence
    order = dict.fromkeys(token for token, _ in pairs)
    return ({token: _PARAGRAPH_CONCEPT if token[0] == "~" else _PARAGRAPH_WORD for token in order},
            {token: first[token] for token in order})


_PARAGRAPH_CONCEPT = PARAGRAPH_WEIGHT * CONCEPT_WEIGHT
_PARAGRAPH_WORD = PARAGRAPH_WEIGHT * 1.0


def tokens(text: str) -> list[str]:
    """The analysed tokens of ``text`` (see :func:`analyse`)."""
    return [token for token, _ in analyse(text)]


def _document_parts(title: list[str], keywords: list[str], abstract: list[str],
                    subject: list[str]) -> tuple[list[str], ...]:
    """The token lists a reference's document is made of, in order: title and keywords
    twice, abstract and the subject words of its journal's name (:func:`_subject_terms`)
    once."""
    return title, title, keywords, keywords, abstract, subject


def _subject_terms(container: list[str]) -> list[str]:
    """The tokens of a journal's name that count: its subject words, not concepts nor the
    words every journal's name may hold."""
    return [t for t in container if not t.startswith("~") and t not in _GENERIC_CONTAINER]


#: What joins texts analysed together (:func:`tokens_many`): no word, no concept phrase and
#: no mediator holds it, and a word boundary stands on both sides of it.
_JOIN = "\x00"


def tokens_many(texts: Sequence[str]) -> list[list[str]]:
    """``[tokens(text) for text in texts]``, worked out for all the texts at once.

    The texts are joined with :data:`_JOIN`, normalised in one pass and searched for
    concepts in one pass (each concept phrase is looked for from the places its leading
    text occurs, as :func:`_concepts` does in one text); a match never runs across the
    separator, so each falls in one text, in the order the text alone gives. Words are
    found in each text. Texts that hold the separator themselves are analysed alone.
    """
    if any(_JOIN in text for text in texts) or len(texts) < 2:
        return [tokens(text) for text in texts]
    joined = normalise(_JOIN.join(texts))
    norms = joined.split(_JOIN)
    if len(norms) != len(texts):  # pragma: no cover - normalising never makes a separator
        return [tokens(text) for text in texts]
    starts = np.cumsum([0] + [len(norm) + 1 for norm in norms[:-1]])
    found = [(at, token) for at, _, token, _ in _concept_matches(joined)]  # no surface forms kept
    concepts: list[list[str]] = [[] for _ in texts]
    owners = np.searchsorted(starts, [start for start, _ in found], "right") - 1
    for owner, (_, token) in zip(owners.tolist(), found):
        concepts[owner].append(token)
    content = STOP_WORDS.__contains__
    return [list(map(_stem, filterfalse(content, _WORD.findall(norm)))) + more
            for norm, more in zip(norms, concepts)]


@dataclass(frozen=True)
class _Postings:
    """Postings of every term as one table: term ``ids[t]`` holds the entries from
    ``starts[ids[t]]`` up to ``starts[ids[t] + 1]`` of ``documents`` and ``weights``."""

    ids: dict[str, int]
    starts: np.ndarray
    documents: np.ndarray
    weights: np.ndarray


#: How many documents' numbers are added to their term numbers at once (bm25_postings).
_KEY_BLOCK = 4096
#: Elements worked on at a time where a whole-array expression would make a temporary copy.
_CHUNK = 1 << 18
#: BM25's floor for terms that more than half of the references hold: this share of the
#: average idf (rank_bm25's ``epsilon``).
BM25_EPSILON = 0.25


def _run_starts(values: np.ndarray) -> np.ndarray:
    """Where each run of equal values in ``values`` (at least one) begins, as 32-bit
    positions when they fit, found a slice at a time."""
    kind = np.int32 if len(values) < 2**31 else np.int64
    parts = [np.zeros(1, dtype=kind)]
    for start in range(0, len(values) - 1, _CHUNK):
        stop = min(start + _CHUNK, len(values) - 1)
        changed = np.flatnonzero(values[start + 1:stop + 1] != values[start:stop])
        parts.append((changed + (start + 1)).astype(kind))
    return np.concatenate(parts)


def bm25_postings(documents: Documents, k1: float = BM25_K1, b: float = BM25_B,
                  epsilon: float = BM25_EPSILON) -> tuple[_Postings, dict[str, int]]:
    """The BM25 weight of every term in every document that holds it, as one table, and how
    many documents hold each term of the table.

    The numbers are those of :class:`rank_bm25.BM25Okapi` (``get_scores([term])``): idf
    ``log(N - df + 0.5) - log(df + 0.5)``, summed for the average in the order terms first
    appear, with negative idfs raised to ``epsilon`` x the average; each weight ``idf x tf x
    (k1 + 1) / (tf + k1 x (1 - b + b x length / average length))``, the operations in the
    same order. Terms are laid out in the order they first appear, each one's documents in
    order; terms of no positive weight are left out. Counting is done with numpy on the
    documents' term numbers instead of a dictionary per document.
    """
    count = len(documents)
    terms = len(documents.terms)
    if not count or not terms or not len(documents.ids):
        return _Postings({}, np.zeros(1, dtype=np.intp), np.zeros(0, dtype=np.int32), np.zeros(0)), {}
    lengths = documents.lengths
    keys = documents.ids.astype(np.int64)
    keys *= count
    bounds = documents.starts
    for document in range(0, count, _KEY_BLOCK):  # the document numbers added a block at a time
        last = min(document + _KEY_BLOCK, count)
        keys[bounds[document]:bounds[last]] += np.repeat(np.arange(document, last, dtype=np.int64),
                                                         lengths[document:last])
    # each (term, document) pair once, term-major, with its frequency in the document: what
    # np.unique gives, worked out without a copy of the keys (memory, not time): sorted in
    # place, the first key of each run moved to the front, the array then cut to the pairs
    keys.sort()
    firsts = _run_starts(keys)
    pairs = len(firsts)
    tf = np.empty(pairs, dtype=np.int32)
    np.subtract(firsts[1:], firsts[:-1], out=tf[:-1])
    tf[-1] = len(keys) - firsts[-1]
    for start in range(0, pairs, _CHUNK):  # reads only at or after what it writes
        part = firsts[start:start + _CHUNK]
        keys[start:start + len(part)] = keys[part]
    del firsts
    keys.resize(pairs, refcheck=False)
    term_of = np.empty(pairs, dtype=np.int32)
    document_of = np.empty(pairs, dtype=np.int32)
    for start in range(0, pairs, _CHUNK):
        term_of[start:start + _CHUNK], document_of[start:start + _CHUNK] = np.divmod(
            keys[start:start + _CHUNK], count)
    del keys
    df = np.bincount(term_of, minlength=terms)
    idf = []
    total = 0.0
    negative = []
    for index, frequency in enumerate(df.tolist()):
        value = math.log(count - frequency + 0.5) - math.log(frequency + 0.5)
        idf.append(value)
        total += value
        if value < 0:
            negative.append(index)
    floor = epsilon * (total / terms)
    for index in negative:
        idf[index] = floor
    idfs = np.array(idf)
    average = int(lengths.sum()) / count
    norm = k1 * ((1 - b) + (b * lengths.astype(float)) / average)
    # idf x (tf x (k1 + 1) / (tf + norm)), worked out in place a slice at a time (a sum or
    # product in either order is the same number)
    weights = np.empty(pairs)
    for start in range(0, pairs, _CHUNK):
        piece = slice(start, start + _CHUNK)
        np.take(norm, document_of[piece], out=weights[piece])
        weights[piece] += tf[piece]
        np.divide(tf[piece] * (k1 + 1), weights[piece], out=weights[piece])
        weights[piece] *= idfs[term_of[piece]]
    del tf
    keep = weights > 0
    if not keep.all():  # one array at a time, so that only one is ever held twice
        term_of = term_of[keep]
        document_of = document_of[keep]
        weights = weights[keep]
    del keep
    kept_terms = np.flatnonzero(np.bincount(term_of, minlength=terms))
    sizes = df[kept_terms]
    starts = np.zeros(len(kept_terms) + 1, dtype=np.intp)
    np.cumsum(sizes, out=starts[1:])
    names = documents.terms
    kept_names = [names[index] for index in kept_terms.tolist()]
    table = _Postings(dict(zip(kept_names, range(len(kept_names)))), starts, document_of, weights)
    return table, dict(zip(kept_names, sizes.tolist()))


@dataclass(frozen=True)
class _Query:
    weights: dict[str, float]
    surface: dict[str, str]
    sentence_terms: frozenset[str]


class Suggester:
    """Ranks the references of a bibliography for a sentence.

    ``bibliography`` is a :class:`~citeflow.references.bibliography.Bibliography` or any iterable of
    references with ``key``, ``title``, ``abstract``, ``keywords`` and ``container``.
    """

    confident_score = CONFIDENT_SCORE
    confident_terms = CONFIDENT_TERMS
    confident_material = CONFIDENT_MATERIAL

    def __init__(self, bibliography: Iterable, cache: DocumentCache | None = None) -> None:
        self.references = list(bibliography)
        self.keys = [ref.key for ref in self.references]
        self._labels: dict[int, str] = {}  # cite_label of each reference shown so far
        self._words_of: dict[str, tuple[dict[str, set[str]], dict[str, set[str]]]] = {}
        self._analysis = self._documents(cache)
        self._index_of = {key: index for index, key in enumerate(self.keys)}  # the last of a key
        self._term_sets: dict[str, set[str]] = {}
        self._ready = self._analysis.ids.size > 0
        # How many references hold each term (of those with a positive weight).
        self._table, self._frequency = bm25_postings(self._analysis)

    def terms_of(self, key: str) -> set[str] | None:
        """The analysed terms (stems and concepts) of the reference with ``key``; None for a
        key not in the bibliography."""
        terms = self._term_sets.get(key)
        if terms is None:
            index = self._index_of.get(key)
            if index is None:
                return None
            terms = self._term_sets[key] = set(self._analysis.tokens(index))
        return terms

    def _documents(self, cache: DocumentCache | None) -> Documents:
        """The tokens of every reference (:meth:`_document`); those of a large
        bibliography from ``cache`` when it holds them for the same texts, else stored
        there (:mod:`citeflow.claims.documents`)."""
        texts = [self._texts(ref) for ref in self.references]
        if cache is None or len(self.references) < LARGE:
            return self._analysed(texts)
        key, size = document_key(texts)
        documents = cache.get(key, len(self.references), size)
        if documents is None:
            documents = self._analysed(texts)
            cache.put(key, documents)
        return documents

    @staticmethod
    def _texts(ref) -> tuple[str, str, str, str]:
        """What :meth:`_document` reads of a reference: title, keywords, abstract, journal."""
        return (getattr(ref, "title", "") or "", " ; ".join(getattr(ref, "keywords", None) or []),
                getattr(ref, "abstract", "") or "", getattr(ref, "container", "") or "")

    @classmethod
    def _document(cls, ref) -> list[str]:
        """Tokens of one reference: title and keywords twice, abstract and journal once."""
        title, keywords, abstract, container = (tokens(text) for text in cls._texts(ref))
        return list(chain.from_iterable(_document_parts(title, keywords, abstract,
                                                        _subject_terms(container))))

    @staticmethod
    def _analysed(texts: Sequence[tuple[str, str, str, str]]) -> Documents:
        """The documents (:meth:`_document`) of the references whose texts are ``texts``:
        every distinct text analysed once and all of them together (:func:`tokens_many`; in
        two processes for a large bibliography, :mod:`citeflow.claims.worker`), and each
        document put together from its texts' term numbers (:meth:`Documents.joined`), never
        as one list of tokens."""
        distinct = list(dict.fromkeys(chain.from_iterable(texts)))
        analysed = dict(zip(distinct, tokens_split(distinct, tokens_many)))
        del distinct
        containers = {container: _subject_terms(analysed[container]) for _, _, _, container in texts}
        return Documents.joined([_document_parts(analysed[title], analysed[keywords], analysed[abstract],
                                                 containers[container])
                                 for title, keywords, abstract, container in texts])

    def _query(self, sentence: str, paragraph: str) -> _Query:
        weights: dict[str, float] = {}
        surface: dict[str, str] = {}
        sentence_terms = set()
        for token, word in _analyse_part(sentence, paragraph):
            base = CONCEPT_WEIGHT if token.startswith("~") else 1.0
            # A word repeated in the sentence counts a little more each time.
            weights[token] = weights.get(token, 0.0) + (base if token not in weights else base * REPEAT_WEIGHT)
            surface.setdefault(token, word)
            sentence_terms.add(token)
        # Then the paragraph's terms the sentence lacks, in the paragraph's order: each
        # update adds the new keys at the end and keeps the place of those already there.
        paragraph_weights, paragraph_surface = _paragraph_terms(paragraph)
        merged = dict(weights)
        merged.update(paragraph_weights)
        merged.update(weights)
        shown = dict(surface)
        shown.update(paragraph_surface)
        shown.update(surface)
        return _Query(merged, shown, frozenset(sentence_terms))

    def _scores(self, query: _Query) -> np.ndarray:
        """The BM25 score of every reference for ``query``.

        Each reference's score is the sum, in the query's term order, of weight x BM25
        weight over the terms it has: the postings of all the query's terms are laid end to
        end and added with one unbuffered ``np.add.at``, which adds them in that order, so
        every score is the same number a term-by-term pass over whole rows gives (adding
        the zeros of the terms a reference lacks changes nothing). ``np.bincount`` adds its
        weights one by one in the order given, onto zeros, as that pass does.
        """
        table = self._table
        where, values, weights = [], [], []
        for token, weight in query.weights.items():
            term = table.ids.get(token)
            if term is not None:
                start, end = table.starts[term], table.starts[term + 1]
                where.append(table.documents[start:end])
                values.append(table.weights[start:end])
                weights.append(weight)
        if not where:
            return np.zeros(len(self.references))
        sizes = [len(w) for w in where]
        return np.bincount(np.concatenate(where),
                           weights=np.repeat(np.array(weights), sizes) * np.concatenate(values),
                           minlength=len(self.references))

    def rank(self, sentence: str, paragraph: str = "", k: int = 3, *,
             floor: float = 0.0) -> list[Suggestion]:
        """Up to ``k`` references for ``sentence`` (best first), each with its BM25 score
        and the matched terms as they appear in the sentence or paragraph. References that
        share no term with the query are never returned, nor, with ``floor``, those of the
        top ``k`` whose score is below it (their terms and labels are not worked out)."""
        if not self._ready or k <= 0:
            return []
        query = self._query(sentence, paragraph)
        scores = self._scores(query)
        return self._top(query, scores, np.flatnonzero(scores > 0), k, floor)

    def _top(self, query: _Query, scores: np.ndarray, hits: np.ndarray, k: int,
             floor: float, sentence: str | None = None, chosen: bool = False) -> list[Suggestion]:
        """The suggestions of :meth:`rank` from the scores of every reference and ``hits``,
        the references with a positive score (or, with ``floor``, any set of them that holds
        every one whose score may reach it: the best of those come first in the order of
        all). ``chosen`` says that ``hits`` are already those whose score reaches the k-th
        best of them (ties included), as :meth:`confident_many` finds them. With
        ``sentence``, only those :meth:`is_confident` accepts for it (tested before their
        terms and labels are worked out)."""
        if hits.size > k and not chosen:  # keep ties at the k-th score so the key order can break them
            kth = np.partition(scores[hits], hits.size - k)[hits.size - k]
            hits = hits[scores[hits] >= kth]
        keys = self.keys
        score_of = dict(zip(hits.tolist(), scores[hits].tolist()))  # as Python floats
        order = sorted(score_of, key=lambda i: (-score_of[i], keys[i]))
        if floor > 0:  # only the top ones whose shown score reaches the floor
            order = [i for i in order[:k] if round(score_of[i], 2) >= floor]
        if sentence is not None:
            order = [i for i in order[:k]
                     if self._confident(keys[i], round(score_of[i], 2), sentence)]
        result = []
        # The query's terms in label order once: the order is a stable sort, so the terms a
        # reference matches keep it when the others are left out.
        # Only the terms some shown reference has are sorted: leaving the others out keeps
        # the relative order of these (the sort is stable, the input order is the query's).
        shown = set().union(*(self.terms_of(self.keys[index]) or () for index in order[:k]))
        ranked = _ordered([t for t in query.weights if t in shown], query) if order else []
        labels: dict[str, str] = {}
        for index in order[:k]:
            terms_here = self.terms_of(self.keys[index]) or set()
            terms = []
            for token in ranked:
                if token in terms_here:
                    label = labels.get(token)
                    if label is None:
                        label = labels[token] = _label(query, token)
                    terms.append(label)
            label = self._labels.get(index)
            if label is None:
                label = self._labels[index] = cite_label(self.references[index])
            result.append(Suggestion(keys[index], round(score_of[index], 2), tuple(terms),
                                     label))
        return result

    def _batch_scores(self, queries: Sequence[_Query]) -> np.ndarray:
        """:meth:`_scores` of each query, one row each.

        The postings of the queries' terms are gathered from one table (each term's
        documents and weights end to end) and added with one ``np.bincount`` per group of
        queries into a row per query (groups of about :data:`BATCH_POSTINGS` postings, which
        stay in the processor's cache): the additions into each (query, reference) cell
        come in the query's term order, onto zeros, as in :meth:`_scores`, so every score is
        the same number.
        """
        n = len(self.references)
        table = self._table
        scores = np.zeros((len(queries), n))
        # Every query's terms end to end (-1 for a term no reference has) and their weights.
        term_ids: list[int] = []
        weights: list[float] = []
        bounds = [0]
        get = table.ids.get
        for query in queries:
            term_ids.extend(map(get, query.weights, repeat(-1)))
            weights.extend(query.weights.values())
            bounds.append(len(term_ids))
        every = np.array(term_ids, dtype=np.intp)
        known = every >= 0
        if not known.any():
            return scores
        terms = every[known]
        factors = np.array(weights)[known]
        # where each query's known terms start
        firsts = np.concatenate(([0], np.cumsum(known)))[bounds].tolist()
        starts = table.starts[terms]
        sizes = table.starts[terms + 1] - starts
        ends = np.cumsum(sizes)
        # Postings gathered before each query's terms; groups of whole queries.
        before = np.concatenate(([0], ends))[firsts]
        row = 0
        while row < len(queries):
            last = max(row + 1, int(np.searchsorted(before, before[row] + BATCH_POSTINGS, "right")) - 1)
            last = min(last, len(queries))
            low, high = firsts[row], firsts[last]
            if high > low:
                group_sizes = sizes[low:high]
                total = int(before[last] - before[row])
                # Position of each gathered posting in the table: its term's start, then on.
                group_ends = ends[low:high] - before[row]
                positions = np.arange(total) + np.repeat(starts[low:high] - (group_ends - group_sizes),
                                                         group_sizes)
                query_rows = np.repeat(np.arange(last - row) * n, np.diff(firsts[row:last + 1]))
                cells = np.repeat(query_rows, group_sizes) + table.documents[positions]
                values = np.repeat(factors[low:high], group_sizes) * table.weights[positions]
                scores[row:last] = np.bincount(cells, weights=values,
                                               minlength=(last - row) * n).reshape(last - row, n)
            row = last
        return scores

    def is_confident(self, suggestion: Suggestion, sentence: str = "") -> bool:
        """True when ``suggestion`` is strong enough to present as likely support.

        The score must reach :attr:`confident_score` and, when ``sentence`` is given, the
        candidate must share at least :attr:`confident_terms` different words with it
        (:func:`shared_words`).
        """
        return self._confident(suggestion.key, suggestion.score, sentence)

    def _confident(self, key: str, score: float, sentence: str) -> bool:
        if score < self.confident_score:
            return False
        if sentence:
            doc = self.terms_of(key)
            if doc is None:
                return False
            # shared_words and material_words at once, from the sentence's terms by token
            words, material_by_term = self._sentence_words(sentence)
            common = words.keys() & doc
            if len(set().union(*[words[token] for token in common])) < self.confident_terms:
                return False
            material = set().union(*[material_by_term[token] for token in common])
            return len(material) >= self.confident_material
        return True

    def _sentence_words(self, sentence: str) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
        """The stems behind each term of ``sentence`` (:func:`shared_words`) and those of
        them that are material (:meth:`material_words`), worked out once per sentence (the
        sets are read, never changed)."""
        found = self._words_of.get(sentence)
        if found is None:
            limit = len(self.references) / 3
            words: dict[str, set[str]] = {}
            for token, stems in _term_words(sentence):
                words.setdefault(token, set()).update(stems)
            frequency = self._frequency
            material = {token: stems - _GENERIC_STEMS if frequency.get(token, 0) <= limit else set()
                        for token, stems in words.items()}
            if len(self._words_of) >= 4096:
                self._words_of.clear()
            found = self._words_of[sentence] = (words, material)
        return found

    def material_words(self, sentence: str, terms: Iterable[str]) -> set[str]:
        """The shared words (:func:`shared_words`) that are material: not generic
        (:data:`GENERIC_TERMS`) and behind a term that at most a third of the bibliography's
        references have (a word most entries share tells them apart from nothing)."""
        terms = terms if isinstance(terms, (set, frozenset)) else set(terms)
        limit = len(self.references) / 3
        found: set[str] = set()
        for token, stems in _term_words(sentence):
            if token in terms and self._frequency.get(token, 0) <= limit:
                found.update(stem for stem in stems if stem not in _GENERIC_STEMS)
        return found

    def confident(self, sentence: str, paragraph: str = "", k: int = 3) -> list[Suggestion]:
        """The candidates of :meth:`rank` that are confident."""
        ranked = self.rank(sentence, paragraph, k, floor=self.confident_score)
        return [s for s in ranked if self.is_confident(s, sentence)]

    def confident_many(self, queries: Sequence[tuple[str, str]], k: int = 3) -> list[list[Suggestion]]:
        """:meth:`confident` for each (sentence, paragraph) of ``queries``, ranked together.

        The scores of many queries come from one pass over the postings
        (:meth:`_batch_scores`), in blocks of at most :data:`BATCH_CELLS` query x reference
        scores, so that a large bibliography keeps memory bounded.
        """
        if not self._ready or k <= 0:
            return [[] for _ in queries]
        floor = self.confident_score
        # Scores whose two-decimal rounding may reach the floor (rounding is monotone).
        least = floor - 0.01
        size = max(1, BATCH_CELLS // len(self.references))
        result: list[list[Suggestion]] = []
        for first in range(0, len(queries), size):
            block = queries[first:first + size]
            built = [self._query(sentence, paragraph) for sentence, paragraph in block]
            scores = self._batch_scores(built)
            candidates = (scores > 0) & (scores >= least)
            crowded = np.flatnonzero(candidates.sum(axis=1) > k)
            n = len(self.references)
            # The k-th best candidate score of each row with more than k candidates: what
            # :meth:`_top` keeps, ties included, found for those rows at once (for the whole
            # block when every row is crowded, without copying rows out of it).
            if crowded.size == len(block):
                kth = np.partition(np.where(candidates, scores, -np.inf), n - k, axis=1)[:, n - k]
                candidates &= scores >= kth[:, None]
            elif crowded.size:
                kth = np.partition(np.where(candidates[crowded], scores[crowded], -np.inf),
                                   n - k, axis=1)[:, n - k]
                candidates[crowded] &= scores[crowded] >= kth[:, None]
            rows, columns = np.nonzero(candidates)
            bounds = np.searchsorted(rows, np.arange(len(block) + 1)).tolist()
            for row, (query, (sentence, _)) in enumerate(zip(built, block)):
                if bounds[row] == bounds[row + 1]:
                    result.append([])
                    continue
                result.append(self._top(query, scores[row], columns[bounds[row]:bounds[row + 1]],
                                        k, floor, sentence, chosen=True))
        return result


def shared_words(sentence: str, terms: Iterable[str]) -> set[str]:
    """The stems of the words of ``sentence`` behind its terms found in ``terms`` (a
    reference's): a word term stands for its word, a concept for the words it was found in."""
    terms = terms if isinstance(terms, (set, frozenset)) else set(terms)
    shared: set[str] = set()
    for token, stems in _term_words(sentence):
        if token in terms:
            shared.update(stems)
    return shared


@lru_cache(maxsize=4096)
def _term_words(sentence: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(term, stems of the words it was found in) for each term of ``sentence``."""
    return tuple((token, _word_stems(word)) for token, word in _analyse_part(sentence, ""))


@lru_cache(maxsize=65536)
def _word_stems(words: str) -> tuple[str, ...]:
    """The stems of the content words of ``words`` (a word or a concept's phrase)."""
    return tuple(stem for stem, _ in _words(normalise(words)))


_GENERIC_STEMS = frozenset(_stem(word) for word in GENERIC_TERMS)


def is_confident(suggestion: Suggestion) -> bool:
    """Score-only confidence test, for callers without the sentence at hand."""
    return suggestion.score >= CONFIDENT_SCORE


def _ordered(tokens_: Sequence[str], query: _Query) -> list[str]:
    """Matched tokens, those of the sentence first, then by query weight."""
    return sorted(tokens_, key=lambda t: (t not in query.sentence_terms, -query.weights[t]))


def _label(query: _Query, token: str) -> str:
    word = query.surface.get(token, token)
    if token.startswith("~"):
        return f"{word} (~{token[1:]})"
    return word
