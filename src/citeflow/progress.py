"""Progress of network work: what long-running calls report to, and a fetcher that reports.

A :class:`Progress` is told the number of steps of a phase once known (``start``), then each
step done (``advance``). The command line's progress bar is one; anything with these two
methods will do. :class:`ReportingFetcher` wraps a :class:`~citeflow.sources.Fetcher` so
that each ``fetch_many`` call is one phase whose steps are the identifiers fetched; every
other method is the wrapped fetcher's own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol


class Progress(Protocol):
    """What long-running calls report progress to (``Project.resolve(progress=...)``,
    ``Project.refresh(progress=...)``).

    ``start`` opens a phase of ``total`` steps. Phases may overlap (refresh asks PubMed
    while Crossref answers): ``start`` may return a function that advances that phase
    alone; when it returns None, ``advance`` is called for every step of every phase."""

    def start(self, total: int, label: str | None = None) -> Callable[..., None] | None: ...

    def advance(self, *args: Any) -> None: ...


#: How a phase of identifiers of one kind is labelled: the registry asked, and what.
_PHASES = {"doi": ("Crossref", "DOIs"), "pmid": ("PubMed", "PMIDs"), "pmcid": ("PMC", "PMCIDs")}


def phase_label(identifiers: list[Any]) -> str:
    """``Crossref: 8 DOIs`` when every identifier is of one kind, else ``Fetching 9
    identifiers``."""
    kinds = {getattr(ident, "kind", None) for ident in identifiers}
    if len(kinds) == 1 and (kind := kinds.pop()) in _PHASES:
        registry, what = _PHASES[str(kind)]
        return f"{registry}: {len(identifiers)} {what}"
    return f"Fetching {len(identifiers)} identifiers"


@dataclass
class ReportingFetcher:
    """A fetcher that tells ``progress`` how many identifiers each ``fetch_many`` asks for,
    as one phase under ``label`` (by default named after the registry and the identifiers:
    :func:`phase_label`), and each one done."""

    inner: Any
    progress: Progress
    label: str | None = None

    def fetch_many(self, identifiers: Iterable[Any], on_result: Callable[[Any], None] | None = None
                   ) -> dict:
        wanted = list(identifiers)
        step = self.progress.start(len(wanted), self.label or phase_label(wanted)) or self.progress.advance

        def done(result: Any) -> None:
            step(result)
            if on_result is not None:
                on_result(result)

        return self.inner.fetch_many(wanted, on_result=done)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
