"""Sentences of a prose block: one segmenter for every part of citeflow.

A real sentence segmenter (Bling Fire, a compiled model-based one, when installed; pysbd
otherwise) finds the sentences of a block's ``content``; two repairs follow: a fragment
holding only citations or punctuation, or one that follows a known abbreviation and starts
with a number or a lower-case word ("see Eq. 4"), joins the sentence before it; a sentence
that runs on after a name such as "vitamin C." is split there. Claims are judged by these
sentences (:func:`segment`: trimmed spans), and a placeholder is quoted with its sentence
(:func:`covering_spans`: the same sentences, each running to the next, so that the spans
cover the whole text).
"""

from __future__ import annotations

import ctypes
import re
import threading
from functools import lru_cache

try:  # Bling Fire: a compiled, model-based segmenter, about 20x faster than pysbd.
    import blingfire as _blingfire
except ImportError:  # pragma: no cover - exercised only where Bling Fire is missing
    _blingfire = None

SEGMENTER = "blingfire" if _blingfire is not None else "pysbd"

_OUTPUT = threading.local()  # each thread's output buffer for Bling Fire, kept between calls


def _sentences_text(text: str) -> str:
    """``blingfire.text_to_sentences(text)``: the sentences one per line. Called in the
    library directly with an output buffer kept between calls (the module's wrapper makes
    and zeroes a new one each time, which takes longer than the segmentation); the output
    ends at its first NUL byte, as the wrapper reads it."""
    assert _blingfire is not None
    data = text.encode("utf-8")
    room = len(data) * 2
    buffer = getattr(_OUTPUT, "buffer", None)
    if buffer is None or len(buffer) < room:
        buffer = _OUTPUT.buffer = ctypes.create_string_buffer(max(room, 1 << 16))
    size = _blingfire.blingfire.TextToSentences(data, len(data), buffer, room)
    if size == -1 or size > room:
        return ""
    return ctypes.string_at(buffer, size).partition(b"\0")[0].decode("utf-8") if size > 0 else ""

# Abbreviations after which neither segmenter should end a sentence when a number or a
# lower-case word follows ("see Eq. 4", "Fig. 2", "Dr. Smith").
_NO_BREAK_AFTER = re.compile(
    r"(?:\b(?:e\.g|i\.e|et al|vs|cf|approx|ca|fig|figs|eq|eqs|ref|refs|no|nos|vol|pp|p|"
    r"tab|suppl|dr|prof|mr|mrs|ms|st|sec|ch|incl)\.)\s*$",
    re.I,
)
_STARTS_CONTINUATION = re.compile(r"^\s*[a-z0-9(\[]")
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
    for piece in _sentences_text(text).split("\n"):
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
    return tuple(_split_after_letter_names(text, spans))


# A name ending in a capital letter ("vitamin C", "hepatitis B", "type A") that ends a
# sentence: segmenters take the letter for an initial and run on into the next sentence.
_LETTER_NAME_END = re.compile(
    r"\b(?:vitamin|vitamins|hepatitis|influenza|type|group|factor|class|grade|stage|phase|"
    r"protein|complex|arm|zone|part|appendix|schedule|clade|strain|serotype|genotype|"
    r"cluster|category|wave|panel|cohort|lane|ward|plan|level)\s+[A-Z]\.(?=\s+[A-Z][a-z])"
)


# What every such name ends with: a capital letter, a full stop, then a sentence. An
# expression that opens on a (rare) character class is scanned many times faster than one
# opening on a word boundary, so it rules out most texts first.
_CAPITAL_THEN_SENTENCE = re.compile(r"[A-Z]\.(?=\s+[A-Z][a-z])")


def _split_after_letter_names(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``spans`` with each one split after a name such as "vitamin C." that ends a sentence."""
    if "." not in text or not _CAPITAL_THEN_SENTENCE.search(text) or not _LETTER_NAME_END.search(text):
        return spans  # no such name anywhere in the text: one pass, not one per sentence
    result: list[tuple[int, int]] = []
    for start, end in spans:
        piece = text[start:end]
        if "." not in piece:
            result.append((start, end))
            continue
        origin = start  # match offsets count from the start of the piece
        for match in _LETTER_NAME_END.finditer(piece):
            cut = origin + match.end()
            result.append(_trim(text, start, cut))
            start = _trim(text, cut, end)[0]
        result.append((start, end))
    return result


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end



def covering_spans(text: str) -> list[tuple[int, int]]:
    """The sentences of :func:`segment`, each running to the start of the next (the first
    from 0, the last to the end of ``text``): spans that cover the whole text."""
    starts = [start for start, _ in segment(text)]
    if not starts:
        return [(0, len(text))]
    starts[0] = 0
    return [(start, following) for start, following in zip(starts, [*starts[1:], len(text)], strict=True)]
