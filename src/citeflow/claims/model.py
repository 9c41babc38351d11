"""A small learned model of whether a sentence needs a source, explainable feature by feature.

The model is a logistic regression over named, binary features of a sentence *in its
context*: its words and word pairs, the cue kinds of :mod:`citeflow.claims.detect` it
raises, its shape (numbers, length, who speaks), the words of the section heading above it,
its place in the paragraph and the cue kinds of the sentences before and after it.
Its weights are a gzip'd JSON file shipped in ``claims/data/`` (a few hundred kilobytes,
read once, on first use); scoring needs nothing but the standard library. The training
script ``train/train_claims.py`` fits it with scikit-learn and writes that file; see
``docs/model-card.md`` for the data, the held-out figures and the known limits.

Because every feature has a name, a verdict can say which features pushed the probability
up the most (:meth:`Verdict.reasons`): ``words "typically prescribed"``, ``cue statistic``,
``heading "results"``.
"""

from __future__ import annotations

import gzip
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from heapq import nlargest
from importlib import resources
from itertools import pairwise, repeat
from pathlib import Path

try:  # the weights read in half the time
    from orjson import loads as _json_loads
except ImportError:  # pragma: no cover - orjson is a dependency; json reads the same
    from json import loads as _json_loads  # type: ignore[assignment]

from citeflow.claims.detect import CUE_KINDS, Cue, CueSet, default_cues, find_cues, not_claim_reason

MODEL_FILE = "claim-model.json.gz"

# Words kept as they are even though they hold digits (names, not quantities) are handled
# by the tokenizer: "il-4", "covid-19", "omega-3" are one token each.
_TOKEN = re.compile(r"[a-z0-9]+(?:['’\-][a-z0-9]+)*|%")
_YEAR = re.compile(r"(?:19|20)\d\d")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_MODALS = frozenset(["may", "might", "could", "can", "would", "should", "must"])
_HEDGES = frozenset(["possibly", "perhaps", "likely", "unlikely", "potentially", "probably", "appear", "appears", "seem", "seems", "suggest", "suggests"])


@dataclass(frozen=True)
class SentenceContext:
    """A sentence and what surrounds it: the sentences before and after it in the same
    section, the section heading, its index in its paragraph and the paragraph's size."""

    text: str
    previous: str = ""
    next: str = ""
    heading: str = ""
    position: int = 0
    count: int = 1
    kind: str = "paragraph"


def tokens(text: str) -> list[str]:
    """Lower-case word tokens with quantities folded: ``<year>``, ``<num>``, ``%``."""
    return list(_tokens(text))


@lru_cache(maxsize=32768)
def _tokens(text: str) -> tuple[str, ...]:
    result = []
    for token in _TOKEN.findall(text.lower()):
        if token.isdigit() and len(token) == 4 and _YEAR.fullmatch(token):
            result.append("<year>")
        elif token[0].isdigit() and _NUMBER.fullmatch(token):  # a number starts with a digit
            result.append("<num>")
        else:
            result.append(token)
    return tuple(result)


@lru_cache(maxsize=32768)
def _word_set(text: str) -> tuple[str, ...]:
    return tuple(sorted(set(_tokens(text))))


@lru_cache(maxsize=32768)
def _default_cues_of(text: str) -> tuple[Cue, ...]:
    return tuple(find_cues(text, default_cues()))


def cues_of(text: str, cues: CueSet | None = None) -> tuple[Cue, ...]:
    """Every cue of ``text``, one per kind, best kind first (:func:`find_cues`); cached for
    the default cues, since each sentence is also its neighbours' context."""
    if cues is None or cues is default_cues():
        return _default_cues_of(text)
    return tuple(find_cues(text, cues))


def _cue_kinds(text: str, cues: CueSet) -> tuple[str, ...]:
    if cues is default_cues():
        return _default_cue_kinds(text)
    return tuple([cue.kind for cue in cues_of(text, cues)])


@lru_cache(maxsize=32768)
def _default_cue_kinds(text: str) -> tuple[str, ...]:
    return tuple([cue.kind for cue in _default_cues_of(text)])


def _length_bucket(n: int) -> str:
    if n < 8:
        return "short"
    if n < 16:
        return "medium"
    if n < 31:
        return "long"
    return "very long"


def features(context: SentenceContext, cues: CueSet | None = None) -> list[str]:
    """The names of the features that hold for ``context`` (each counts once): those of
    the sentence itself, then those of its place (:func:`_context_features_of`)."""
    cues = cues or default_cues()
    return [*_own_features(context.text, cues), *_context_features_of(context, cues)]


def _context_features_of(context: SentenceContext, cues: CueSet) -> list[str]:
    """The features of a sentence's place: its block, its position in the paragraph, its
    heading and its neighbours' cue kinds (none shares a name with the sentence's own)."""
    found = [_block_feature(context.kind)]
    if context.count <= 1:
        found.append("position:only sentence")
    elif context.position == 0:
        found.append("position:first sentence")
    elif context.position >= context.count - 1:
        found.append("position:last sentence")
    found += _heading_features(context.heading)
    if context.previous:
        found += _neighbour_features("prev", context.previous, cues)
    if context.next:
        found += _neighbour_features("next", context.next, cues)
    return found


@lru_cache(maxsize=64)
def _block_feature(kind) -> str:
    return f"block:{kind}"  # formatting a block kind (an Enum) is slow: once per kind


def _own_features(text: str, cues: CueSet) -> tuple[str, ...]:
    if cues is default_cues():
        return _default_own_features(text)
    return _sentence_features(text, cues)


@lru_cache(maxsize=32768)
def _default_own_features(text: str) -> tuple[str, ...]:
    return _sentence_features(text, default_cues())


def _sentence_features(text: str, cues: CueSet) -> tuple[str, ...]:
    """Features of the sentence itself: words, word pairs, cues, shape."""
    words = _tokens(text)
    found: list[str] = [f"w:{w}" for w in words]
    padded = ["^", *words]
    found += [f"b:{a} {b}" for a, b in pairwise(padded)]
    found += [f"cue:{kind}" for kind in _cue_kinds(text, cues)]
    found.append(f"len:{_length_bucket(len(words))}")
    if len(words) < 5:
        found.append("len:very short")  # "First item.", "Very.": a fragment asserts little
    if "<num>" in words:
        found.append("shape:number")
    if "%" in words:
        found.append("shape:percent")
    if "<year>" in words:
        found.append("shape:year")
    if "(" in text:
        found.append("shape:parenthesis")
    if text.rstrip().endswith(":"):
        found.append("shape:ends with colon")
    if any(q in text for q in "\"“”"):
        found.append("shape:quotation")
    vocabulary = set(words)
    for person in ("you", "your", "we", "our", "i", "my"):
        if person in vocabulary:
            found.append(f"person:{person}")
    if vocabulary & _MODALS:
        found.append("shape:modal verb")
    if vocabulary & _HEDGES:
        found.append("shape:hedge")
    return tuple(dict.fromkeys(found))


@lru_cache(maxsize=4096)
def _heading_features(heading: str) -> tuple[str, ...]:
    return tuple(f"h:{w}" for w in _word_set(heading))


def _neighbour_features(prefix: str, text: str, cues: CueSet) -> tuple[str, ...]:
    if cues is default_cues():
        return _default_neighbour_features(prefix, text)
    return _context_features(prefix, text, cues)


@lru_cache(maxsize=32768)
def _default_neighbour_features(prefix: str, text: str) -> tuple[str, ...]:
    return _context_features(prefix, text, default_cues())


def _context_features(prefix: str, text: str, cues: CueSet) -> tuple[str, ...]:
    # The cue kinds of a neighbour, not its words: on held-out folds of the training
    # documents the neighbours' words added thousands of weights and ranked sentences worse.
    return tuple(f"{prefix}:cue:{kind}" for kind in _cue_kinds(text, cues))


def describe(feature: str) -> str:
    """A feature name as a reader would say it: ``words "is typically"``, ``cue statistic``."""
    kind, _, value = feature.partition(":")
    if kind == "w":
        return f'word "{value}"'
    if kind == "b":
        return f'words "{value.lstrip("^ ")}"' if not value.startswith("^ ") else \
            f'opening word "{value[2:]}"'
    if kind == "cue":
        return f"cue {value}"
    if kind == "h":
        return f'heading word "{value}"'
    if kind in ("prev", "next"):
        where = "previous sentence" if kind == "prev" else "next sentence"
        sub, _, rest = value.partition(":")
        return f"{where} has cue {rest}" if sub == "cue" else f'{where} has word "{rest}"'
    if kind == "len":
        return f"{value} sentence"
    if kind == "person":
        return f'speaks as "{value}"'
    if kind == "block":
        return f"in a {value.replace('_', ' ')}"
    return value


@dataclass(frozen=True)
class Contribution:
    """One feature of a sentence and the weight the model gives it."""

    feature: str
    weight: float

    def __str__(self) -> str:
        return f"{describe(self.feature)} ({self.weight:+.2f})"


class Verdict:
    """The model's probability that a sentence needs a source, with the features behind it."""

    __slots__ = ("_names", "_values", "_weights", "probability")

    def __init__(self, probability: float, names: tuple[str, ...] = (),
                 weights: dict[str, float] | None = None,
                 values: tuple[float, ...] | None = None) -> None:
        self.probability = probability
        self._names = names
        self._weights = weights or {}
        # The weight of each name (0.0 for names without one), when the scorer has them.
        self._values = values

    @property
    def names(self) -> tuple[str, ...]:
        """The features of the sentence, in the order they were scored."""
        return self._names

    @property
    def contributions(self) -> tuple[Contribution, ...]:
        """Every feature of the sentence that has a weight, with that weight."""
        weights = self._weights
        return tuple(Contribution(n, weights[n]) for n in self._names if n in weights)

    def reasons(self, n: int = 3, positive: bool = True) -> list[Contribution]:
        """The ``n`` features that pushed the probability up (or down) the most."""
        sign = 1.0 if positive else -1.0
        values = self._values
        if values is None:
            values = tuple(map(self._weights.get, self._names, repeat(0.0)))
        if positive:
            chosen = [(w, name) for name, w in zip(self._names, values, strict=True) if w > 0]
        else:
            chosen = [(-w, name) for name, w in zip(self._names, values, strict=True) if w < 0]
        return [Contribution(name, sign * w) for w, name in nlargest(n, chosen)]


@dataclass(frozen=True)
class ClaimModel:
    """Weights by feature name, an intercept and the default decision threshold."""

    weights: dict[str, float]
    bias: float
    threshold: float
    info: dict
    #: A sentence with a cue (a statistic, an attribution, a causal verb ...) needs only this
    #: share of the threshold: the cue is independent evidence that something is asserted.
    cue_discount: float = 0.5
    #: Cue kinds that make a sentence a claim whatever the probability (a statistic, a
    #: vague attribution): chosen in training, stored with the weights.
    decisive: tuple[str, ...] = ()
    #: The own features of sentence texts scored so far (see :meth:`score`).
    _own_scores: dict[str, tuple[tuple[str, ...], tuple[float, ...]]] = field(
        default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict) -> ClaimModel:
        return cls({str(k): float(v) for k, v in data["weights"].items()}, float(data["bias"]),
                   float(data["threshold"]), dict(data.get("info", {})),
                   float(data.get("cue_discount", 0.5)), tuple(data.get("decisive", ())))

    @classmethod
    def load(cls, path: str | Path | None = None) -> ClaimModel:
        """The model in ``path`` (gzip'd JSON), or the one shipped with citeflow."""
        if path is None:
            handle = resources.files("citeflow.claims.data").joinpath(MODEL_FILE).open("rb")
        else:
            handle = open(path, "rb")  # noqa: SIM115 - closed below
        with handle, gzip.open(handle, "rb") as data:
            return cls.from_json(_json_loads(data.read()))

    def to_json(self) -> dict:
        return {"bias": self.bias, "threshold": self.threshold, "info": self.info,
                "cue_discount": self.cue_discount, "decisive": list(self.decisive),
                "weights": self.weights}

    def needs_source(self, verdict: Verdict, cue_kind: str | None,
                     threshold: float | None = None) -> bool:
        """The decision: a decisive cue kind, or a probability that reaches the threshold
        (the model's own unless given), lowered by :attr:`cue_discount` when a cue holds."""
        if cue_kind and cue_kind in self.decisive:
            return True
        limit = self.threshold if threshold is None else threshold
        return verdict.probability >= (limit * self.cue_discount if cue_kind else limit)

    def score_features(self, names: Iterable[str]) -> Verdict:
        names = tuple(names)
        values = tuple(map(self.weights.get, names, repeat(0.0)))
        z = self.bias + sum(values)
        z = max(-30.0, min(30.0, z))
        return Verdict(1.0 / (1.0 + math.exp(-z)), names, self.weights, values)

    def score(self, context: SentenceContext, cues: CueSet | None = None) -> Verdict:
        """The probability that the sentence in ``context`` needs a source.

        The same as :meth:`score_features` of :func:`features`: the weights of the
        sentence's own features are looked up once per sentence text (texts recur), those
        of its place for each context.
        """
        cues = cues or default_cues()
        if cues is default_cues():
            own = self._own_scores.get(context.text)
            if own is None:
                if len(self._own_scores) >= 32768:
                    self._own_scores.clear()
                own = self._own_scores[context.text] = self._scored(
                    _default_own_features(context.text))
        else:
            own = self._scored(_sentence_features(context.text, cues))
        own_names, own_values = own
        place = tuple(_context_features_of(context, cues))
        values = own_values + tuple(map(self.weights.get, place, repeat(0.0)))
        # One sum over every value, as score_features adds them (summing the sentence's own
        # first would round differently where sum() compensates, from Python 3.12 on).
        z = self.bias + sum(values)
        z = max(-30.0, min(30.0, z))
        return Verdict(1.0 / (1.0 + math.exp(-z)), own_names + place, self.weights, values)

    def _scored(self, names: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[float, ...]]:
        return names, tuple(map(self.weights.get, names, repeat(0.0)))


@lru_cache(maxsize=1)
def default_model() -> ClaimModel:
    """The shipped model, read on first use."""
    return ClaimModel.load()


def excluded(text: str, cues: CueSet | None = None) -> str | None:
    """Why ``text`` is never a claim, whatever the model says (see ``not_claim_reason``)."""
    return not_claim_reason(text, cues)


__all__ = [
    "CUE_KINDS",
    "ClaimModel",
    "Contribution",
    "SentenceContext",
    "Verdict",
    "cues_of",
    "default_model",
    "describe",
    "excluded",
    "features",
    "tokens",
]
