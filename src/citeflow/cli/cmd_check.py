"""`citeflow check` and `citeflow rules`."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import click

from ..errors import CiteflowError
from . import main

_SEVERITIES = ["error", "warning", "info"]


@main.command()
@click.argument("manuscripts", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif", "github", "junit"]),
              default="text", show_default=True, help="Report format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report to this file instead of standard output.")
@click.option("--fail-on", type=click.Choice(_SEVERITIES),
              help="Exit 1 when a finding is at or above this level (default: [check] fail_on "
                   "or error).")
@click.option("--select", help="Only these rules: comma-separated codes or prefixes (CF3).")
@click.option("--ignore", help="Skip these rules: comma-separated codes or prefixes.")
@click.option("--diff", "diff_base", metavar="BASE",
              help="Only report findings on lines changed since git revision BASE.")
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
def check(manuscripts, fmt, output, fail_on, select, ignore, diff_base, config_path,
          no_suggest, apply_fixes, unsafe_fixes, explain) -> None:
    """Check manuscripts for unsupported claims, placeholders and broken references.

    With --fix, the safe fixes that findings carry are applied first (for example an
    identifier placeholder whose work is in the bibliography becomes [@key]); the report
    lists what is left.

    Exit status: 0 when nothing is at or above the fail level, 1 when something is, 2 for
    usage, configuration or input errors.
    """
    from ..api import Project
    from ..files import atomic_write_text
    from ..report import write_report

    start = manuscripts[0] if manuscripts else None
    project = Project.find(start, config_path=config_path)
    if unsafe_fixes and not apply_fixes:
        raise click.UsageError("--unsafe-fixes goes with --fix")
    if apply_fixes:
        for path in project.manuscripts(manuscripts):
            fixed = project.fix(path, unsafe=unsafe_fixes, select=select, ignore=ignore)
            if fixed.applied:
                count = len(fixed.applied)
                click.echo(f"{path}: fixed {count} finding{'s' if count != 1 else ''}", err=True)
    try:
        report = project.check_all(manuscripts, select=select, ignore=ignore,
                                   suggest=False if no_suggest else None, fail_on=fail_on,
                                   diff_base=diff_base)
    except CiteflowError as exc:
        if exc.file is None and exc.message.startswith("no "):
            raise click.UsageError(exc.message) from None
        raise
    if output is not None:
        buffer = io.StringIO()
        write_report(fmt, report.findings, buffer, summary=report.summary(), explain=explain)
        atomic_write_text(output, buffer.getvalue())
    else:
        write_report(fmt, report.findings, sys.stdout, summary=report.summary(), explain=explain)
        sys.stdout.flush()
    click.get_current_context().exit(report.exit_code())


@main.command()
@click.argument("code", required=False)
def rules(code: str | None) -> None:
    """List the rules, or explain one (citeflow rules CF301)."""
    from ..checks.engine import load_rules

    registry = load_rules()
    if code is None:
        for rule_code in sorted(registry):
            rule = registry[rule_code]
            first = rule.doc.split("\n\n")[0]
            summary = " ".join(first.split())
            click.echo(f"{rule.code}  {str(rule.severity):<7}  {rule.name:<34} {summary}")
        return
    chosen = registry.get(code.upper())
    if chosen is None:
        known = ", ".join(sorted(registry))
        raise click.BadParameter(f"unknown rule {code!r} (known: {known})", param_hint="CODE")
    click.echo(f"{chosen.code} {chosen.name} (default severity: {chosen.severity})\n")
    click.echo(_dedent(chosen.doc))


def _dedent(doc: str) -> str:
    import inspect

    return inspect.cleandoc(doc)
