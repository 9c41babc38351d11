"""`citeflow check` and `citeflow rules`."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import click

from ..errors import CiteflowError
from . import main
from ._output import Verbosity, color_on, console, say, verbosity, warning

_SEVERITIES = ["error", "warning", "info"]
#: Report formats; `full` (the default) and `concise` are text, `text` is `full`.
_FORMATS = ["full", "concise", "text", "json", "sarif", "github", "junit"]


@main.command()
@click.argument("manuscripts", nargs=-1, type=click.Path(path_type=Path))
@click.option("--output-format", "--format", "fmt", type=click.Choice(_FORMATS),
              default="full", show_default=True,
              help="full: each finding with the source line and a caret under the flagged "
                   "words; concise: one line each; json, sarif, github (annotations and, in "
                   "Actions, a job summary), junit.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report to this file instead of standard output.")
@click.option("--fail-on", type=click.Choice(_SEVERITIES),
              help="Exit 1 when a finding is at or above this level (default: [check] fail_on "
                   "or error).")
@click.option("--select", help="Only these rules: comma-separated codes or prefixes (CF3).")
@click.option("--ignore", help="Skip these rules: comma-separated codes or prefixes.")
@click.option("--diff", "diff_base", metavar="BASE",
              help="Only report findings in sentences new or changed since git revision BASE "
                   "(bibliographies: changed lines). `auto` takes BASE from the GitHub Actions "
                   "event: a pull request's base, the commit before a push.")
@click.option("--statistics", is_flag=True,
              help="Show the number of findings per rule instead of the findings.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Use this citeflow.toml instead of searching for one.")
@click.option("--no-suggest", is_flag=True, help="Do not rank candidate references.")
@click.option("--fix", "apply_fixes", is_flag=True,
              help="Apply the safe fixes findings carry (rewrites the manuscripts), then report "
                   "what is left.")
@click.option("--unsafe-fixes", is_flag=True,
              help="With --fix, also apply unsafe fixes (such as a likely key for a mistyped "
                   "one): read the diff afterwards.")
@click.option("--explain", is_flag=True,
              help="Say why each finding was raised: the cue, the claim model's confidence "
                   "and the features that weighed most.")
def check(manuscripts, fmt, output, fail_on, select, ignore, diff_base, statistics, config_path,
          no_suggest, apply_fixes, unsafe_fixes, explain) -> None:
    """Check manuscripts for unsupported claims, placeholders and broken references.

    With --fix, the safe fixes that findings carry are applied first (for example an
    identifier placeholder whose work is in the bibliography becomes [@key]); the report
    lists what is left.

    Exit status: 0 when nothing is at or above the fail level, 1 when something is, 2 for
    usage, configuration or input errors.
    """
    from ..api import Project
    from ..report import write_report
    from ..report.text import write_statistics

    start = manuscripts[0] if manuscripts else None
    project = Project.find(start, config_path=config_path)
    if unsafe_fixes and not apply_fixes:
        raise click.UsageError("--unsafe-fixes goes with --fix")
    if apply_fixes:
        for path in project.manuscripts(manuscripts):
            fixed = project.fix(path, unsafe=unsafe_fixes, select=select, ignore=ignore)
            if fixed.applied:
                count = len(fixed.applied)
                say(f"{path}: fixed {count} finding{'s' if count != 1 else ''}")
    if diff_base == "auto":
        diff_base = _event_base(project.root)
    try:
        report = project.check_all(manuscripts, select=select, ignore=ignore,
                                   suggest=False if no_suggest else None, fail_on=fail_on,
                                   diff_base=diff_base)
    except CiteflowError as exc:
        if exc.file is None and exc.message.startswith("no "):
            raise click.UsageError(exc.message) from None
        raise
    to_terminal = output is None
    color = to_terminal and color_on()
    if statistics:
        buffer = io.StringIO()
        write_statistics(report.findings, buffer, color=color)
        _emit(buffer.getvalue(), output)
        click.get_current_context().exit(report.exit_code())
    kind = {"full": "text", "concise": "text"}.get(fmt, fmt)
    from ..report.github import repository_root, write_job_summary

    # GitHub attaches annotations and code-scanning results by paths from the repository
    # root, whatever the working directory.
    base = repository_root(github_only=kind == "sarif") if kind in ("github", "sarif") else None
    buffer = io.StringIO()
    write_report(kind, report.findings, buffer, summary=report.summary(), base=base,
                 output_format="concise" if fmt == "concise" else "full", color=color,
                 references=_references(report), width=_width(to_terminal), explain=explain)
    _emit(buffer.getvalue(), output)
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if kind == "github" and summary_file:
        write_job_summary(report.findings, Path(summary_file), summary=report.summary(),
                          base=base, fail_on=report.fail_on)
    click.get_current_context().exit(report.exit_code())


def _emit(text: str, output: Path | None) -> None:
    from ..files import atomic_write_text

    if output is not None:
        atomic_write_text(output, text)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


def _references(report) -> dict:
    """Every bibliography entry the report's manuscripts use, by key (to name candidates)."""
    found: dict = {}
    for result in report.results:
        for ref in result.bibliography or ():
            found.setdefault(ref.key, ref)
    return found


def _width(to_terminal: bool) -> int:
    """Characters of a source line shown: the terminal's width less the gutter, else 100."""
    if not to_terminal:
        return 100
    out = console()
    return max(40, out.width - 10) if out.is_terminal else 100


def _event_base(root: Path) -> str | None:
    """The revision `--diff auto` compares with; None (and a note) to check every line."""
    from ..document.gitdiff import event_base, has_revision

    base = event_base()
    if base is None:
        say("citeflow: the event names no earlier revision (a new branch, a manual or "
            "scheduled run): checking every line")
        return None
    if not has_revision(base, root):
        warning(f"the event's base revision {base} is not in this checkout (check out with "
                "fetch-depth: 0): checking every line")
        return None
    if verbosity() >= Verbosity.VERBOSE:
        say(f"citeflow: comparing with {base}")
    return base


@main.command()
@click.argument("code", required=False)
def rules(code: str | None) -> None:
    """List the rules, or explain one (citeflow rules CF301)."""
    from ..checks.engine import load_rules
    from ..report import ruledoc

    registry = load_rules()
    if code is None:
        for rule_code in sorted(registry):
            rule = registry[rule_code]
            summary = ruledoc.summary_text(rule.doc)
            click.echo(f"{rule.code}  {rule.severity!s:<7}  {rule.name:<38} {summary}")
        return
    chosen = registry.get(code.upper())
    if chosen is None:
        import difflib

        close = difflib.get_close_matches(code.upper(), sorted(registry), n=3, cutoff=0.5)
        hint = f"did you mean {' or '.join(close)}? " if close else ""
        raise click.BadParameter(f"unknown rule {code!r} ({hint}known: {', '.join(sorted(registry))})",
                                 param_hint="CODE")
    click.echo(f"{chosen.code} {chosen.name} (default severity: {chosen.severity})\n")
    click.echo(ruledoc.full_text(chosen.doc))
