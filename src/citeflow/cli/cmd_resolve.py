"""`citeflow resolve` and `citeflow suggest`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import main
from ..claims import is_claim, sentences
from ..citations import find_citations
from ..bibliography import Bibliography, load_bibliography
from ..config import load_config
from ..manuscript import read_manuscript
from ..placeholders import FREETEXT, extra_patterns_from_config, find_placeholders
from ..resolve import FreeText, ResolveResult, resolve_manuscript
from ..suggest import Suggester

_MANUSCRIPTS = click.argument(
    "manuscripts", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path)
)
_BIB = click.option(
    "--bib",
    type=click.Path(dir_okay=False, path_type=Path),
    help="BibTeX file to look in first and to add fetched entries to "
    "(default: the first bibliography in the front matter).",
)


@main.command()
@_MANUSCRIPTS
@click.option("--write", "-w", is_flag=True, help="Rewrite the files (default: print a diff).")
@click.option("--offline", is_flag=True, help="Use only the bibliography and the cache; no network.")
@_BIB
@click.option(
    "--interactive", "-i", is_flag=True,
    help="Pick a reference for each free-text placeholder (needs a terminal).",
)
def resolve(manuscripts: tuple[Path, ...], write: bool, offline: bool, bib: Path | None, interactive: bool) -> None:
    """Turn citation placeholders into citations.

    Identifier placeholders ([doi:...], [pmid:...], pasted doi.org links, ...) become [@key],
    from the bibliography or, failing that, from Crossref / PubMed (new entries are added to
    the bibliography). Free-text placeholders ([citation needed], ...) are listed with
    candidate references. Without --write a unified diff is printed and nothing changes.

    Exit status: 0 every identifier placeholder resolved, 1 some left, 2 bad input.
    """
    if interactive and not _stdin_is_terminal():
        raise click.UsageError("--interactive needs a terminal on standard input")
    status = 0
    for path in manuscripts:
        config = load_config(path.parent)
        result = resolve_manuscript(path, config=config, offline=offline, write=write and not interactive, bibliography=bib)
        if interactive:
            picks = _ask(result)
            result = resolve_manuscript(
                path, config=config, offline=offline, write=write, bibliography=bib, picks=picks,
                original=result.original,
            )
        _report(result, write)
        status = max(status, result.exit_code)
    click.get_current_context().exit(status)


@main.command()
@_MANUSCRIPTS
@click.option(
    "--bib",
    type=click.Path(dir_okay=False, path_type=Path),
    help="BibTeX file to draw candidates from as well as the front matter's bibliographies.",
)
@click.option("-k", "count", default=3, show_default=True, type=click.IntRange(1, 20), help="Candidates per sentence.")
@click.option("--all", "show_all", is_flag=True, help="Also list sentences that have only weak candidates.")
def suggest(manuscripts: tuple[Path, ...], bib: Path | None, count: int, show_all: bool) -> None:
    """Suggest references for free-text placeholders and uncited claims.

    Every free-text placeholder is listed with up to K candidates from the bibliography
    (score and matched terms; '*' marks a confident candidate). Claim sentences without a
    citation are listed when they have a confident candidate (all of them with --all).
    """
    for path in manuscripts:
        manuscript = read_manuscript(path)
        config = load_config(path.parent)
        paths = ([bib] if bib else []) + (manuscript.bibliography_paths() or list(config.bibliography))
        bibliography = load_bibliography(paths, missing_ok=True) if paths else Bibliography()
        suggester = Suggester(bibliography)
        placeholders = find_placeholders(manuscript, extra_patterns_from_config(config))
        for placeholder in placeholders:
            if placeholder.kind != FREETEXT:
                continue
            line, column = manuscript.line_col(placeholder.start)
            sentence = placeholder.sentence()
            ranked = suggester.rank(sentence, placeholder.paragraph(), k=count)
            click.echo(f"{path}:{line}:{column}: placeholder {_short(placeholder.text)}")
            click.echo(f"    for: {_short(sentence, 100)}")
            _candidates(ranked, [suggester.is_confident(s, sentence) for s in ranked])
        for sentence, paragraph, start in _uncited_claims(manuscript, placeholders):
            ranked = suggester.rank(sentence, paragraph, k=count)
            confident = [suggester.is_confident(s, sentence) for s in ranked]
            if not (show_all or any(confident)):
                continue
            line, column = manuscript.line_col(start)
            click.echo(f"{path}:{line}:{column}: uncited claim {_short(sentence, 100)!s}")
            _candidates(ranked, confident)


# --------------------------------------------------------------------------------------


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def _uncited_claims(manuscript, placeholders) -> list[tuple[str, str, int]]:
    """(sentence, paragraph, start offset) of claim sentences with no citation or placeholder."""
    holes = [(p.start, p.end) for p in placeholders if p.kind == FREETEXT]
    try:
        from ..claims import find_claims
    except ImportError:  # an older claims module: any claim sentence without a citation
        find_claims = None
    if find_claims is not None:
        candidates = [
            claim.sentence
            for claim in find_claims(manuscript, citations=find_citations(manuscript), placeholders=placeholders)
            if not claim.citations and not claim.placeholders
        ]
    else:
        marks = [(c.bracket_start, c.bracket_end) for c in find_citations(manuscript)]
        marks += [(p.start, p.end) for p in placeholders]
        candidates = [
            s for s in sentences(manuscript)
            if s.block.kind != "heading" and is_claim(s)
            and not any(a < s.end and s.start < b for a, b in marks)
        ]
    return [
        (s.text, s.block.content, s.start)
        for s in candidates
        if not any(a < s.end and s.start < b for a, b in holes)  # listed with its placeholder
    ]


def _short(text: str, width: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _candidates(ranked, confident) -> None:
    if not ranked:
        click.echo("    no candidate in the bibliography")
        return
    for number, (suggestion, sure) in enumerate(zip(ranked, confident), 1):
        mark = "*" if sure else " "
        terms = ", ".join(suggestion.terms[:6])
        click.echo(f"   {mark}{number}. {suggestion.key}  score {suggestion.score:.2f}  ({terms})")


def _report(result: ResolveResult, write: bool) -> None:
    """Diff (without --write) on stdout; what was done and what is left on stderr."""
    if not write and result.diff:
        click.echo(result.diff, nl=False)
    name = result.path
    for left in result.unresolved:
        click.echo(f"{name}:{left.line}:{left.column}: unresolved {left.describe()}", err=True)
    for free in result.freetext:
        _report_freetext(name, free)
    verb = "resolved" if write else "would resolve"
    summary = f"{name}: {verb} {result.resolved} placeholder(s)"
    if result.appended and result.bibliography_path is not None:
        added = "added" if write else "would add"
        summary += f"; {added} {len(result.appended)} entr{'y' if len(result.appended) == 1 else 'ies'} to {result.bibliography_path}"
    if result.unresolved:
        summary += f"; {len(result.unresolved)} identifier(s) left"
    if result.freetext:
        summary += f"; {len(result.freetext)} free-text placeholder(s) need a reference"
    click.echo(summary, err=True)


def _report_freetext(name: Path, free: FreeText) -> None:
    click.echo(
        f"{name}:{free.line}:{free.column}: free-text placeholder {_short(free.placeholder.text)} "
        "(not filled; choose a reference)",
        err=True,
    )
    if not free.suggestions:
        click.echo("    no candidate in the bibliography", err=True)
    for number, (suggestion, sure) in enumerate(zip(free.suggestions, free.confident), 1):
        mark = "*" if sure else " "
        terms = ", ".join(suggestion.terms[:6])
        click.echo(f"   {mark}{number}. {suggestion.key}  score {suggestion.score:.2f}  ({terms})", err=True)


def _ask(result: ResolveResult) -> dict[int, str]:
    """Ask the writer to pick a candidate (or type a key, or skip) per free-text placeholder."""
    picks: dict[int, str] = {}
    for free in result.freetext:
        click.echo(f"\n{result.path}:{free.line}:{free.column}: {_short(free.placeholder.text)}")
        click.echo(f"    for: {_short(free.sentence, 100)}")
        for number, (suggestion, sure) in enumerate(zip(free.suggestions, free.confident), 1):
            click.echo(f"   {'*' if sure else ' '}{number}. {suggestion.key}  score {suggestion.score:.2f}")
        while True:
            answer = click.prompt("Pick a number, type a key, or press Enter to skip",
                                  default="", show_default=False).strip()
            if not answer:
                break
            if answer.isdigit() and 1 <= int(answer) <= len(free.suggestions):
                picks[free.placeholder.start] = free.suggestions[int(answer) - 1].key
                break
            key = answer.lstrip("@")
            if key in result.keys:
                picks[free.placeholder.start] = key
                break
            click.echo(f"    {key!r} is not a key of the bibliography")
    return picks
