"""Does a cited work's abstract speak to the claim that cites it? (CF304)

A claim and the title and abstract of the work it cites are reduced to their *material
terms* with the analysis candidate ranking uses (:mod:`citeflow.claims.suggest`: lower-case,
mediators glued, Snowball stems, the medical synonyms of ``data/concepts.toml``):

* **numbers** the claim reports (``38%``, ``9,773``, ``0.93``); years and single digits
  are left out, since abstracts rarely repeat them and they often name things ("type 2");
* **concepts**: drugs, diseases, adverse events, outcomes and the other groups of
  ``concepts.toml`` (``joint pain`` meets ``arthralgia``);
* **key terms**: the remaining content words (drug names, populations, outcomes), without
  stop words and without the words any study report uses (:data:`GENERIC`: "study",
  "patients", "significant", "increase", ...).

A term counts as found when its stem, its concept or (for a concept) one of the words it
was found in occurs in the title or abstract. When the claim has at least
:data:`MIN_TERMS` material terms and **none** is found, the work's abstract shares nothing
material with the claim: :func:`compare` says so, and CF304 hints that the work may not
support it.

What this can tell: the abstract is about something else (another drug, disease,
population or outcome), which is what a mis-keyed citation, a citation copied from another
sentence or a fabricated one looks like. What it cannot tell: whether a work that shares
terms with the claim supports it (a shared drug name says nothing about the direction of an
effect), whether the full text supports a claim its abstract does not mention, or whether a
review cited for background is appropriate. No comparison ever says a claim is supported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from citeflow.claims.data import load_data
from citeflow.claims.suggest import analyse, normalise

#: A claim with fewer material terms is not judged: there is too little to compare.
MIN_TERMS = 3

#: Stems of the words any study report uses, whatever it is about (``data/support.toml``):
#: sharing them says nothing about whether two texts speak of the same thing.
GENERIC = frozenset(token for word in load_data("support.toml")["generic"]["words"]
                    for token, _ in analyse(word) if not token.startswith("~"))

_NUMBER = re.compile(r"(?<![\w.,-])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?\s*(%|percent\b)?(?![\w-])")


class TermKind(StrEnum):
    NUMBER = "number"
    CONCEPT = "concept"
    WORD = "term"


@dataclass(frozen=True)
class Term:
    """One material term of a claim: what is compared (``keys``) and how it was written."""

    kind: TermKind
    surface: str
    keys: tuple[str, ...]

    def __str__(self) -> str:
        return self.surface


@dataclass
class Comparison:
    """A claim set against a cited work's title and abstract."""

    terms: list[Term] = field(default_factory=list)
    found: list[Term] = field(default_factory=list)
    missing: list[Term] = field(default_factory=list)
    abstract_words: int = 0

    @property
    def judged(self) -> bool:
        """True when the claim has enough material terms to compare."""
        return len(self.terms) >= MIN_TERMS and self.abstract_words > 0

    @property
    def shares_nothing(self) -> bool:
        """True when the claim can be judged and none of its material terms is found."""
        return self.judged and not self.found


def numbers(text: str) -> list[tuple[str, str]]:
    """(normalised value, as written) of the numbers ``text`` reports: no years, no single
    digits, none inside names ("COVID-19", "IL-4")."""
    found = []
    for match in _NUMBER.finditer(text):
        whole, fraction, percent = match.group(1).replace(",", ""), match.group(2), match.group(3)
        if fraction is None and not percent and (
                len(whole) < 2 or (len(whole) == 4 and 1900 <= int(whole) <= 2099)):
            continue
        value = whole + (f".{fraction}" if fraction else "")
        found.append((value, match.group(0).strip()))
    return found


def material_terms(text: str) -> list[Term]:
    """The numbers, concepts and key terms of ``text`` (a claim), each once, in order."""
    terms: list[Term] = []
    seen: set[str] = set()
    for value, written in numbers(text):
        if "#" + value not in seen:
            seen.add("#" + value)
            terms.append(Term(TermKind.NUMBER, written, ("#" + value,)))
    pairs = analyse(text)
    absorbed: set[str] = set()
    concepts: dict[str, tuple[list[str], list[str]]] = {}  # surface -> (concepts, stems)
    for token, word in pairs:
        if not token.startswith("~"):
            continue
        stems = [t for t, _ in analyse(word) if not t.startswith("~")]
        absorbed.update(stems)
        if token in seen:
            continue
        seen.add(token)
        # A concept found in words another one was found in ("dermatitis" in "atopic
        # dermatitis") is the same term of the claim.
        host = next((w for w, (_, known) in concepts.items() if set(stems) <= set(known)), word)
        names, words = concepts.setdefault(host, ([], []))
        names.append(token)
        words.extend(s for s in stems if s not in words)
    for word, (names, stems) in concepts.items():
        terms.append(Term(TermKind.CONCEPT, f"{word} ({', '.join(names)})", (*names, *stems)))
    for token, word in pairs:
        if token.startswith("~") or token in seen or token in absorbed:
            continue
        if token in GENERIC or len(token) < 3 or token.isdigit():
            continue
        seen.add(token)
        terms.append(Term(TermKind.WORD, word, (token,)))
    return terms


def text_keys(text: str) -> set[str]:
    """Everything a claim's term may be found as in ``text``: stems, concepts, numbers."""
    keys = {token for token, _ in analyse(text)}
    keys.update("#" + value for value, _ in numbers(text))
    return keys


def compare(claim: str, title: str, abstract: str) -> Comparison:
    """Set ``claim`` (citations masked) against a work's ``title`` and ``abstract``."""
    terms = material_terms(claim)
    against = f"{title}\n{abstract}"
    keys = text_keys(against)
    found = [t for t in terms if any(k in keys for k in t.keys)]
    missing = [t for t in terms if t not in found]
    words = len(normalise(abstract).split()) if abstract.strip() else 0
    return Comparison(terms, found, missing, words)


__all__ = ["GENERIC", "MIN_TERMS", "Comparison", "Term", "TermKind", "compare", "material_terms",
           "numbers", "text_keys"]
