"""`citeflow build`: check and render every manuscript, skipping those that are up to date."""

from __future__ import annotations

from pathlib import Path

import click

from ..output.build import BuildStatus
from . import main
from ._output import ProgressBar, Verbosity, error, say, verbosity, warning


def _severity(ctx, param, value):
    if value is None:
        return None
    from ..checks.base import Severity

    return Severity.parse(value)


def _describe(outcome) -> str:
    counts = outcome.counts
    found = (f"{outcome.total} findings: {counts.get('error', 0)} error, "
             f"{counts.get('warning', 0)} warning, {counts.get('info', 0)} info")
    if outcome.status is BuildStatus.UP_TO_DATE:
        return f"{outcome.manuscript}: up to date ({found})"
    outputs = ", ".join(p.name for p in outcome.outputs)
    return f"{outcome.manuscript}: built in {outcome.seconds:.1f} s ({found}) -> {outputs}"


@main.command()
@click.argument("manuscripts", nargs=-1, type=click.Path(path_type=Path))
@click.option("-o", "--outdir", type=click.Path(path_type=Path), default=None,
              help="Output folder (default: `output` in citeflow.toml, else build/).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Manuscripts built at once, in separate processes (default: CPU count).")
@click.option("--fail-on", type=click.Choice(["error", "warning", "info"]), default=None,
              callback=_severity,
              help="Exit 1 when a finding reaches this severity (default: [check] fail_on, "
                   "else error).")
@click.option("--force", is_flag=True, help="Rebuild manuscripts even when up to date.")
@click.option("--csl", default=None, help="CSL style name or file for every manuscript.")
@click.option("--trusted", is_flag=True,
              help="Keep the manuscripts' raw HTML, JavaScript and Typst (dropped by default, "
                   "with a warning); as `[render] trusted = true`. See docs/security.md.")
@click.pass_context
def build(ctx: click.Context, manuscripts: tuple[Path, ...], outdir: Path | None,
          jobs: int | None, fail_on, force: bool, csl: str | None, trusted: bool) -> None:
    """Check, then render HTML, PDF and (where there are findings) the review of every
    manuscript in the manuscripts folder, or of those named.

    Manuscripts whose inputs (text, bibliographies, style, citeflow.toml, citeflow's
    version) are unchanged since the last build are skipped and reported up to date.
    Exit code: 0, 1 when findings reach --fail-on, 2 when a manuscript cannot be built.
    """
    from ..api import Project
    from ..errors import CiteflowError

    project = Project.find()
    try:
        count = len(project.manuscripts(manuscripts))
    except CiteflowError:
        count = 0  # the build names the problem

    with ProgressBar("Building", count, minimum=2) as bar:
        def report(outcome) -> None:
            for text in outcome.warnings:
                warning(text)
            if outcome.status is BuildStatus.FAILED:
                error(outcome.error)
            elif outcome.status is BuildStatus.BUILT or verbosity() >= Verbosity.NORMAL:
                click.echo(_describe(outcome))
            bar.advance()

        result = project.build(manuscripts, output_dir=outdir, jobs=jobs, fail_on=fail_on,
                               force=force, csl=csl, on_done=report, trusted=trusted or None)
    for path in result.removed:
        say(f"removed {path} (its manuscript no longer exists)")
    say(f"{len(result.by_status(BuildStatus.BUILT))} built, "
        f"{len(result.by_status(BuildStatus.UP_TO_DATE))} up to date, "
        f"{len(result.by_status(BuildStatus.FAILED))} failed in {result.seconds:.1f} s",
        err=False)
    ctx.exit(result.exit_code)
