"""A candidate reference for a sentence that needs a source."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Suggestion:
    """A candidate reference: bibliography key, relevance score, matched terms."""

    key: str
    score: float
    terms: tuple[str, ...] = ()
