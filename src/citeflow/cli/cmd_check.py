"""`citeflow check` and `citeflow rules`."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import click

from . import main

_SEVERITIES = ["error", "warning", "info"]


_SUFFIXES = (".md", ".qmd", ".markdown")


def _in_folder(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*") if p.is_file() and p.suffix.lower() in _SUFFIXES)


def _manuscripts(paths: tuple[Path, ...], config) -> list[Path]:
    """The named manuscripts (a folder stands for its Markdown files), else the project's."""
    if paths:
        result: list[Path] = []
        for path in paths:
            result.extend(_in_folder(path) if path.is_dir() else [path])
        if not result:
            raise click.UsageError("no Markdown manuscript in " + ", ".join(map(str, paths)))
        return result
    folder = config.manuscripts_dir
    found = _in_folder(folder)
    if not found:
        raise click.UsageError(f"no manuscript given and none found in {folder}")
    return found


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
def check(manuscripts, fmt, output, fail_on, select, ignore, diff_base, config_path,
          no_suggest) -> None:
    """Check manuscripts for unsupported claims, placeholders and broken references.

    Exit status: 0 when nothing is at or above the fail level, 1 when something is, 2 for
    usage, configuration or input errors.
    """
    from ..checks.base import Severity
    from ..checks.engine import CheckSettings, check_manuscript, summarize
    from ..config import load_config
    from ..files import atomic_write_text
    from ..report import write_report

    start = manuscripts[0] if manuscripts else None
    config = load_config(start if start is None or start.exists() else None, path=config_path)
    paths = _manuscripts(manuscripts, config)
    findings = []
    claims = []
    seen: set[tuple] = set()
    level = None
    for path in paths:
        settings = CheckSettings.from_config(config)
        settings.suggest = settings.suggest and not no_suggest
        result = check_manuscript(path, config, select=select, ignore=ignore, settings=settings)
        level = settings.fail_on if level is None else level
        batch = result.findings
        if diff_base:
            batch = _changed_only(batch, path, diff_base)
        for finding in batch:
            key = (str(finding.file), finding.line, finding.column, finding.code, finding.message)
            if key not in seen:
                seen.add(key)
                findings.append(finding)
        claims.extend(result.claims)
    if fail_on:
        level = Severity.parse(fail_on)
    summary = summarize(findings, claims)
    if output is not None:
        buffer = io.StringIO()
        write_report(fmt, findings, buffer, summary=summary)
        atomic_write_text(output, buffer.getvalue())
    else:
        write_report(fmt, findings, sys.stdout, summary=summary)
        sys.stdout.flush()
    failing = [f for f in findings if not f.suppressed and f.severity >= level]
    click.get_current_context().exit(1 if failing else 0)


def _changed_only(findings, manuscript: Path, base: str):
    from ..checks.engine import filter_lines
    from ..gitdiff import changed_lines

    files = {Path(manuscript)} | {Path(f.file) for f in findings}
    changed = {f: changed_lines(f, base) for f in files if f.exists()}
    return filter_lines(findings, changed)


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
    rule = registry.get(code.upper())
    if rule is None:
        known = ", ".join(sorted(registry))
        raise click.BadParameter(f"unknown rule {code!r} (known: {known})", param_hint="CODE")
    click.echo(f"{rule.code} {rule.name} (default severity: {rule.severity})\n")
    click.echo(_dedent(rule.doc))


def _dedent(doc: str) -> str:
    import inspect

    return inspect.cleandoc(doc)
