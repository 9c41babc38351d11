"""`citeflow resolve`: placeholders to citations."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..api import Project
from ..fixes.resolve import FreeText, ResolveResult
from . import main
from ._output import (
    ProgressBar,
    Verbosity,
    bibliography_entries,
    echo,
    print_candidates,
    say,
    short,
    verbosity,
)

_MANUSCRIPTS = click.argument(
    "manuscripts", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path)
)
_BIB = click.option(
    "--bib",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="BibTeX file to look in first and to add fetched entries to "
    "(default: the first bibliography in the front matter).",
)
#: Show a progress bar (on a terminal) from this many identifiers to fetch on.
PROGRESS_FROM = 2


@main.command()
@_MANUSCRIPTS
@click.option("--write", "-w", is_flag=True, help="Rewrite the files (default: print a diff).")
@click.option("--offline", is_flag=True, help="Use only the bibliography and the cache; no network.")
@_BIB
@click.option(
    "--interactive", "-i", is_flag=True,
    help="Pick a reference for each free-text placeholder (needs a terminal); without "
         "--write, the diff is shown and you are asked whether to write it.",
)
@click.option(
    "--accept-parsed", is_flag=True,
    help="With --offline: add items of the draft's reference list that the bibliography lacks "
         "as written (author, title, year, journal read from the text; unverified).",
)
@click.option(
    "--rewrite-manubot/--keep-manubot", default=None,
    help="Write Manubot keys ([@doi:...], @pmid:..., @url:...) as bibliography keys, or keep "
         "them as written (they render as they are; their works are still added to the "
         "bibliography). Default: [resolve] rewrite_manubot in citeflow.toml, else keep.",
)
def resolve(manuscripts: tuple[Path, ...], write: bool, offline: bool, bib: Path | None, interactive: bool,
            accept_parsed: bool, rewrite_manubot: bool | None) -> None:
    """Turn citation placeholders into citations.

    Identifier placeholders ([doi:...], [pmid:...], pasted doi.org links, ...) become [@key],
    from the bibliography or, failing that, from Crossref / PubMed (new entries are added to
    the bibliography). Items of a trailing reference list become entries too: found at
    Crossref when title, first author and year agree, or (--offline --accept-parsed) as
    written. Free-text placeholders ([citation needed], ...) are listed with candidate
    references. Without --write a unified diff is printed and nothing changes.

    Exit status: 0 every identifier placeholder resolved, 1 some left, 2 bad input.
    """
    if interactive and not _stdin_is_terminal():
        raise click.UsageError("--interactive needs a terminal on standard input")
    status = 0
    for path in manuscripts:
        project = Project.find(path)
        with ProgressBar("Fetching metadata", minimum=PROGRESS_FROM) as bar:
            result = project.resolve(path, offline=offline, write=write and not interactive,
                                     bibliography=bib, progress=bar, accept_parsed=accept_parsed,
                                     rewrite_manubot=rewrite_manubot)
        # Entries only to show candidates: a manuscript with nothing to choose reads none.
        references = (bibliography_entries(project, path, bib)
                      if result.freetext or interactive else {})
        if interactive:
            result = _interactive(project, path, result, references, offline=offline,
                                  write=write, bib=bib, accept_parsed=accept_parsed,
                                  rewrite_manubot=rewrite_manubot)
            write = write or result.written
        _report(result, write, references)
        status = max(status, result.exit_code)
    click.get_current_context().exit(status)


# --------------------------------------------------------------------------------------


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def _interactive(project: Project, path: Path, first: ResolveResult, references: dict, *,
                 offline: bool, write: bool, bib: Path | None, accept_parsed: bool = False,
                 rewrite_manubot: bool | None = None) -> ResolveResult:
    """Ask for the picks, then apply them: written with --write; otherwise the diff with the
    picks is shown and the writer is asked whether to write it, so no choice is lost."""
    picks = _ask(first, references)
    planned = project.resolve(path, offline=offline, write=False, bibliography=bib,
                              picks=picks, original=first.original, accept_parsed=accept_parsed,
                              rewrite_manubot=rewrite_manubot)
    if not planned.changed and not planned.appended:
        return planned
    if not write:
        click.echo(planned.diff, nl=False)
        if not click.confirm(f"Write these changes to {path}"
                             + (" and the bibliography" if planned.appended else "") + "?",
                             default=False):
            say(f"{path}: nothing written; your picks: "
                + (", ".join(f"line {first.freetext[i].line} -> @{key}"
                             for i, key in _numbered_picks(first, picks)) or "none"))
            return planned
    return project.resolve(path, offline=offline, write=True, bibliography=bib,
                           picks=picks, original=first.original, accept_parsed=accept_parsed,
                           rewrite_manubot=rewrite_manubot)


def _numbered_picks(result: ResolveResult, picks: dict[int, str]) -> list[tuple[int, str]]:
    return [(i, picks[free.placeholder.start]) for i, free in enumerate(result.freetext)
            if free.placeholder.start in picks]


def _report(result: ResolveResult, write: bool, references: dict) -> None:
    """Diff (without --write) on stdout; what was done and what is left on stderr."""
    if not write and result.diff:
        click.echo(result.diff, nl=False)
    name = result.path
    for warning in result.warnings:
        added = "added to the bibliography" if write else "would be added to the bibliography"
        click.echo(f"citeflow: warning: {name}: {warning} ({added})", err=True)
    for left in result.unresolved:
        echo(f"{name}:{left.line}:{left.column}: unresolved {left.describe()}", style="yellow",
             err=True)
    for item in result.unmatched:
        echo(f"{name}:{item.line}:{item.column}: unmatched {item.describe()}", style="yellow", err=True)
    for free in result.freetext:
        _report_freetext(name, free, references)
    verb = "resolved" if write else "would resolve"
    summary = f"{name}: {verb} {result.resolved} placeholder(s)"
    if result.appended and result.bibliography_path is not None:
        added = "added" if write else "would add"
        summary += f"; {added} {len(result.appended)} entr{'y' if len(result.appended) == 1 else 'ies'} to {result.bibliography_path}"
    if result.unresolved:
        summary += f"; {len(result.unresolved)} identifier(s) left"
    if result.unmatched:
        summary += f"; {len(result.unmatched)} reference-list item(s) or marker(s) left"
    if result.freetext:
        summary += f"; {len(result.freetext)} free-text placeholder(s) need a reference"
    say(summary, style="bold")


def _report_freetext(name: Path, free: FreeText, references: dict) -> None:
    say(f"{name}:{free.line}:{free.column}: free-text placeholder {short(free.placeholder.text)} "
        "(not filled; choose a reference)")
    if verbosity() >= Verbosity.NORMAL:
        print_candidates(free.suggestions, free.confident, references=references, err=True)


def _ask(result: ResolveResult, references: dict) -> dict[int, str]:
    """Ask the writer to pick a candidate (or type a key, or skip) per free-text placeholder."""
    picks: dict[int, str] = {}
    for free in result.freetext:
        click.echo(f"\n{result.path}:{free.line}:{free.column}: {short(free.placeholder.text)}")
        click.echo(f"    for: {short(free.sentence, 100)}")
        print_candidates(free.suggestions, free.confident, references=references)
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
