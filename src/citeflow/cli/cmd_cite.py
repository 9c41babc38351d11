"""`citeflow cite`: bibliography entries for DOIs, PMIDs and PMCIDs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..bibliography import Reference, append_references, load_bibliography, make_key, reference_to_csl, to_bibtex
from ..config import load_config
from ..errors import CiteflowError
from ..identifiers import Identifier, InvalidIdentifier, parse_identifier
from ..sources import FetchResult, Fetcher
from . import main

#: Show a progress bar (on a terminal) from this many identifiers on.
PROGRESS_FROM = 5


@main.command()
@click.argument("identifiers", nargs=-1, required=True)
@click.option("--bib", type=click.Path(dir_okay=False, path_type=Path),
              help="Append the entries to this BibTeX file (created if missing), skipping "
                   "works it already holds.")
@click.option("--format", "fmt", type=click.Choice(["bibtex", "csljson"]), default="bibtex",
              show_default=True, help="Output format when printing.")
@click.option("--offline", is_flag=True, default=None,
              help="Use only the bibliography and the cache; send no request.")
def cite(identifiers: tuple[str, ...], bib: Path | None, fmt: str, offline: bool | None) -> None:
    """Print bibliography entries for IDENTIFIERS (doi:…, pmid:…, pmcid:PMC…, or bare).

    With --bib, the entries are appended to that file instead; identifiers already in it are
    skipped. Exits 1 if any identifier could not be resolved, naming each with the reason.
    """
    wanted = _parse_all(identifiers)
    config = load_config(bib.parent if bib and bib.parent.is_dir() else None)
    existing = load_bibliography([bib], missing_ok=True) if bib else None
    to_fetch: list[Identifier] = []
    for ident in wanted:
        present = existing.find(ident) if existing is not None else None
        if present is not None:
            click.echo(f"skipped {ident}: already in {bib} as @{present.key}", err=True)
        else:
            to_fetch.append(ident)

    fetcher = Fetcher(config, offline=True if offline else None)
    try:
        results = _fetch_with_progress(fetcher, to_fetch)
    finally:
        fetcher.close()

    found: list[Reference] = []
    failed: list[FetchResult] = []
    taken = set(existing.keys()) if existing is not None else set()
    seen_dois: set[str] = set()
    for ident in to_fetch:
        result = results[ident]
        if not result.ok or result.reference is None:
            failed.append(result)
            continue
        ref = result.reference
        already = existing.by_doi(ref.doi) if existing is not None and ref.doi else None
        if already is not None:
            click.echo(f"skipped {ident}: already in {bib} as @{already.key} (same DOI)", err=True)
            continue
        if ref.doi and ref.doi in seen_dois:
            click.echo(f"skipped {ident}: same work as an identifier given before", err=True)
            continue
        if ref.doi:
            seen_dois.add(ref.doi)
        ref.key = make_key(ref, taken)
        taken.add(ref.key)
        found.append(ref)

    if bib is not None:
        appended = append_references(bib, found, known=existing)
        for placement in appended.placements:
            ref = placement.reference
            if placement.added:
                click.echo(f"added @{ref.key} to {bib}:{ref.line}")
            else:
                click.echo(f"skipped {ref.identifiers()[0]}: added to {bib} meanwhile as @{ref.key}", err=True)
    elif fmt == "csljson":
        click.echo(json.dumps([reference_to_csl(r) for r in found], ensure_ascii=False, indent=2))
    else:
        click.echo("\n".join(to_bibtex(r) for r in found), nl=False)

    for result in failed:
        click.echo(f"citeflow: {result.describe()}", err=True)
    if failed:
        click.get_current_context().exit(1)


def _parse_all(texts: tuple[str, ...]) -> list[Identifier]:
    """All identifiers, de-duplicated in order; every malformed one named in one error."""
    parsed: list[Identifier] = []
    problems: list[str] = []
    for text in texts:
        try:
            ident = parse_identifier(text)
        except InvalidIdentifier as exc:
            problems.append(f"{text!r}: {exc.reason}")
            continue
        if ident not in parsed:
            parsed.append(ident)
    if problems:
        raise CiteflowError("malformed identifier " + "; ".join(problems))
    return parsed


def _stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


def _fetch_with_progress(fetcher: Fetcher, identifiers: list[Identifier]) -> dict[Identifier, FetchResult]:
    if len(identifiers) < PROGRESS_FROM or not _stderr_is_terminal():
        return fetcher.fetch_many(identifiers)
    with click.progressbar(length=len(identifiers), label="Fetching metadata",
                           file=sys.stderr) as bar:
        return fetcher.fetch_many(identifiers, on_result=lambda _result: bar.update(1))
