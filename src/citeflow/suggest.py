"""Rank bibliography entries for a sentence that needs a citation.

The ranking is BM25 (:mod:`rank_bm25`) over each reference's title, keywords and abstract
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
its score reaches :data:`CONFIDENT_SCORE` and at least :data:`CONFIDENT_TERMS` different
terms of the sentence itself matched it; weaker candidates are still listed, so a writer can
see them, but callers should not present them as likely support.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Sequence

import numpy as np
from rank_bm25 import BM25Okapi

try:
    import snowballstemmer
except ImportError:  # pragma: no cover - only where the dependency is missing
    snowballstemmer = None

from .checks.base import Suggestion

#: Minimum BM25 score of a confident candidate (tuned on the sample claims, see tests).
CONFIDENT_SCORE = 4.0
#: Minimum number of distinct sentence terms a confident candidate must match.
CONFIDENT_TERMS = 2
#: Weight of paragraph words that are not in the sentence itself.
PARAGRAPH_WEIGHT = 0.3
#: Extra weight of each repetition of a word in the sentence.
REPEAT_WEIGHT = 0.5
#: BM25 parameters (term-frequency saturation and length normalisation).
BM25_K1 = 1.2
BM25_B = 0.75
#: Weight of a concept token relative to a word.
CONCEPT_WEIGHT = 1.0

#: Synonym groups: a concept name and the phrases (regular expressions over lower-cased text
#: after mediator gluing) that express it. Kept small and general on purpose; every phrase
#: is a standard clinical synonym or a broader/narrower term of the concept.
CONCEPTS: dict[str, tuple[str, ...]] = {
    "joint-disorder": (
        r"joint pain", r"joints?", r"arthralgias?", r"arthritis", r"arthritic", r"arthropath\w*",
        r"polyarthr\w*", r"enthes\w+", r"synovitis", r"tenosynovitis", r"musculoskeletal",
        r"rheumat\w+",
    ),
    "atopic-dermatitis": (r"atopic dermatitis", r"atopic eczema", r"eczema", r"\bad\b(?= patients)"),
    "skin-disease": (r"skin", r"dermatolog\w*", r"dermatitis", r"eczema", r"cutaneous", r"dermatos[ie]s"),
    "allergy": (r"allerg\w*", r"atopic", r"atopy", r"hypersensitivity"),
    "type2-inflammation": (
        r"type 2 inflammation", r"type 2 immun\w*", r"type ii inflammation", r"th2", r"t helper 2",
        r"allergic inflammation",
    ),
    "inflammation": (r"inflam\w*",),
    "il4": (r"il4", r"interleukin4"),
    "il13": (r"il13", r"interleukin13"),
    "il17": (r"il17", r"interleukin17", r"th17", r"t helper 17"),
    "cytokine": (r"cytokines?", r"interleukins?", r"il\d+", r"interleukin\d+"),
    "crswnp": (r"chronic rhinosinusitis", r"nasal polyp\w*", r"crswnp", r"rhinosinusitis"),
    "asthma": (r"asthma\w*",),
    "adverse-event": (
        r"side[- ]effects?", r"adverse (?:drug )?(?:events?|reactions?|effects?)", r"safety",
        r"tolerability", r"toxicit\w+",
    ),
    "clinical-trial": (
        r"clinical trials?", r"randomi[sz]ed", r"placebo[- ]controlled", r"phase (?:3|iii)",
        r"double[- ]blind\w*",
    ),
    "antibody": (r"monoclonal antibod\w+", r"biologics?", r"antibod\w+"),
    "mechanism": (r"mechanisms? of action", r"mechanisms?", r"pathways?", r"signal+ing"),
    "efficacy": (r"efficacy", r"effectiveness", r"efficacious"),
    "discontinuation": (r"stop(?:ping|ped|s)?\b", r"discontinu\w+", r"withdraw\w*", r"cessation"),
}

STOP_WORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each
    few for from further had has have having he her here hers him his how i if in into is it
    its itself just may might more most must my no nor not now of off on once only or other
    our out over own per same she should so some such than that the their theirs them then
    there these they this those through to too under until up upon very via was we were what
    when where which while who whom why will with within without would you your yours
    s t don can't won't it's its' using use used among based vs versus et al""".split()
)

# Stems of words that journal names share whatever their field ("Journal", "American",
# "Clinical", "Reports"); only a journal's subject words (Dermatology, Allergology) count.
_GENERIC_CONTAINER = frozenset(
    """journal intern american european british annal archiv proceed report letter bulletin
    acta new england review clinic case medicin scienc research open world current""".split()
)

_MEDIATOR = re.compile(r"\b(il|interleukin|th|tnf|ig|cd)[\s-]?(\d{1,2}[a-z]?)\b")
_WORD = re.compile(r"[a-z][a-z0-9]+|\d+[a-z]+[a-z0-9]*")
_COMPILED_CONCEPTS = [
    (name, re.compile(r"\b(?:" + "|".join(phrases) + r")\b")) for name, phrases in CONCEPTS.items()
]
_STEMMER = snowballstemmer.stemmer("english") if snowballstemmer is not None else None


def normalise(text: str) -> str:
    """Lower-case, fold accents and typographic quotes, glue numbered mediators (IL-4)."""
    if text.isascii():
        text = text.lower()
    else:
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = text.replace("’", "'").replace("α", "a").replace("β", "b")
    return _MEDIATOR.sub(r"\1\2", text)


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


@lru_cache(maxsize=4096)
def _analyse(text: str) -> tuple[tuple[str, str], ...]:
    # Cached: every sentence of a paragraph is ranked with that same paragraph.
    norm = normalise(text)
    tokens = [(_stem(w), w) for w in _WORD.findall(norm) if w not in STOP_WORDS]
    for name, pattern in _COMPILED_CONCEPTS:
        tokens.extend(("~" + name, match.group(0)) for match in pattern.finditer(norm))
    return tuple(tokens)


def tokens(text: str) -> list[str]:
    """The analysed tokens of ``text`` (see :func:`analyse`)."""
    return [token for token, _ in analyse(text)]


@dataclass(frozen=True)
class _Query:
    weights: dict[str, float]
    surface: dict[str, str]
    sentence_terms: frozenset[str]


class Suggester:
    """Ranks the references of a bibliography for a sentence.

    ``bibliography`` is a :class:`~citeflow.bibliography.Bibliography` or any iterable of
    references with ``key``, ``title``, ``abstract``, ``keywords`` and ``container``.
    """

    confident_score = CONFIDENT_SCORE
    confident_terms = CONFIDENT_TERMS

    def __init__(self, bibliography: Iterable) -> None:
        self.references = list(bibliography)
        self.keys = [ref.key for ref in self.references]
        self._by_key = {ref.key: ref for ref in self.references}
        documents = [self._document(ref) for ref in self.references]
        self._terms = {ref.key: set(doc) for ref, doc in zip(self.references, documents)}
        self._bm25 = BM25Okapi(documents, k1=BM25_K1, b=BM25_B) if documents and any(documents) else None
        self._postings = self._index(self._bm25) if self._bm25 is not None else {}

    @staticmethod
    def _index(bm25: BM25Okapi) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Term -> [(document, BM25 weight of the term in it)], the same numbers as
        ``BM25Okapi.get_scores([term])`` but computed once, so ranking a sentence costs only
        the postings of its own terms instead of a pass over every reference per term."""
        postings: dict[str, list[tuple[int, float]]] = {}
        k1, b, avgdl = bm25.k1, bm25.b, bm25.avgdl
        for index, (freqs, length) in enumerate(zip(bm25.doc_freqs, bm25.doc_len)):
            norm = k1 * (1 - b + b * length / avgdl)
            for term, tf in freqs.items():
                weight = bm25.idf.get(term, 0.0) * (tf * (k1 + 1) / (tf + norm))
                if weight > 0:
                    postings.setdefault(term, []).append((index, weight))
        return {
            term: (np.fromiter((i for i, _ in pairs), dtype=np.intp, count=len(pairs)),
                   np.fromiter((w for _, w in pairs), dtype=float, count=len(pairs)))
            for term, pairs in postings.items()
        }

    @staticmethod
    def _document(ref) -> list[str]:
        """Tokens of one reference: title and keywords twice, abstract and journal once."""
        title = tokens(getattr(ref, "title", "") or "")
        keywords = tokens(" ; ".join(getattr(ref, "keywords", None) or []))
        abstract = tokens(getattr(ref, "abstract", "") or "")
        container = [
            t for t in tokens(getattr(ref, "container", "") or "")
            if not t.startswith("~") and t not in _GENERIC_CONTAINER
        ]
        return title * 2 + keywords * 2 + abstract + container

    def _query(self, sentence: str, paragraph: str) -> _Query:
        weights: dict[str, float] = {}
        surface: dict[str, str] = {}
        sentence_terms = set()
        for token, word in analyse(sentence):
            base = CONCEPT_WEIGHT if token.startswith("~") else 1.0
            # A word repeated in the sentence counts a little more each time.
            weights[token] = weights.get(token, 0.0) + (base if token not in weights else base * REPEAT_WEIGHT)
            surface.setdefault(token, word)
            sentence_terms.add(token)
        for token, word in analyse(paragraph):
            if token not in weights:
                weights[token] = PARAGRAPH_WEIGHT * (CONCEPT_WEIGHT if token.startswith("~") else 1.0)
                surface.setdefault(token, word)
        return _Query(weights, surface, frozenset(sentence_terms))

    def rank(self, sentence: str, paragraph: str = "", k: int = 3) -> list[Suggestion]:
        """Up to ``k`` references for ``sentence`` (best first), each with its BM25 score
        and the matched terms as they appear in the sentence or paragraph. References that
        share no term with the query are never returned."""
        if self._bm25 is None or k <= 0:
            return []
        query = self._query(sentence, paragraph)
        scores = np.zeros(len(self.references))
        for token, weight in query.weights.items():
            posting = self._postings.get(token)
            if posting is not None:
                scores[posting[0]] += weight * posting[1]
        hits = np.flatnonzero(scores > 0)
        if hits.size > k:  # keep ties at the k-th score so the key order can break them
            kth = np.partition(scores[hits], hits.size - k)[hits.size - k]
            hits = hits[scores[hits] >= kth]
        order = sorted(hits.tolist(), key=lambda i: (-scores[i], self.keys[i]))
        result = []
        for index in order[:k]:
            terms_here = self._terms[self.keys[index]]
            matched = [t for t in query.weights if t in terms_here]
            terms = tuple(_label(query, t) for t in _ordered(matched, query))
            result.append(Suggestion(self.keys[index], round(float(scores[index]), 2), terms))
        return result

    def is_confident(self, suggestion: Suggestion, sentence: str = "") -> bool:
        """True when ``suggestion`` is strong enough to present as likely support.

        The score must reach :attr:`confident_score` and, when ``sentence`` is given, the
        candidate must match at least :attr:`confident_terms` distinct terms of it.
        """
        if suggestion.score < self.confident_score:
            return False
        if sentence:
            own = {token for token, _ in _analyse(sentence)}
            doc = self._terms.get(suggestion.key)
            if doc is None:
                return False
            return len(own & doc) >= self.confident_terms
        return True

    def confident(self, sentence: str, paragraph: str = "", k: int = 3) -> list[Suggestion]:
        """The candidates of :meth:`rank` that are confident."""
        return [s for s in self.rank(sentence, paragraph, k) if self.is_confident(s, sentence)]

    def _reference(self, key: str):
        return self._by_key.get(key)


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
