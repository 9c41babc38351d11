"""A candidate reference for a sentence that needs a source."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Suggestion:
    """A candidate reference: bibliography key, relevance score, matched terms, and how a
    reader recognises the work (first author, year and title: :func:`cite_label`)."""

    key: str
    score: float
    terms: tuple[str, ...] = ()
    label: str = ""

    def __str__(self) -> str:
        return f"{self.label} [{self.key}]" if self.label else self.key


def cite_label(reference, width: int = 60) -> str:
    """``Simpson 2016, "Two phase 3 trials of dupilumab versus placebo..."``: the first
    author's family name (et al. when there are more), the year and the title, shortened."""
    parts = []
    family = reference.first_author_family if reference.authors else ""
    if family:
        parts.append(family + (" et al." if len(reference.authors) > 1 else ""))
    if reference.year:
        parts.append(str(reference.year))
    head = " ".join(parts)
    title = " ".join((reference.title or "").split())
    if len(title) > width:
        title = title[: width - 1].rsplit(" ", 1)[0] + "…"
    if title:
        return f'{head}, "{title}"' if head else f'"{title}"'
    return head
