"""`citeflow render`: manuscripts to HTML, PDF (Typst) and DOCX in any CSL style."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import CiteflowError
from ..output.render import parse_formats
from . import main


def _formats(ctx: click.Context, param: click.Parameter, value: str) -> list[str]:
    try:
        return parse_formats(value)
    except CiteflowError as exc:
        raise click.BadParameter(exc.message, ctx=ctx, param=param) from exc


@main.command()
@click.argument("manuscripts", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--to", "formats", default="html,pdf", show_default=True, callback=_formats,
              help="Comma-separated output formats: html, pdf, docx.")
@click.option("--csl", default=None, metavar="NAME|PATH",
              help="CSL style name (see `citeflow styles`) or .csl file; overrides front matter "
                   "and citeflow.toml.")
@click.option("-o", "--outdir", type=click.Path(path_type=Path), default=None,
              help="Output folder (default: `output` in citeflow.toml, else build/).")
@click.option("--allow-missing", is_flag=True,
              help="Render even when a cited key is not in the bibliography.")
@click.option("--review", is_flag=True,
              help="Also write the editorial review, in the formats of --to: STEM.review.pdf and "
                   ".review.html (every finding of `citeflow check` highlighted in place, a "
                   "summary page and an appendix) and STEM.review.docx (every finding a Word "
                   "comment). Unknown citation keys then show as findings instead of stopping "
                   "the render.")
@click.option("--trusted", is_flag=True,
              help="Keep the manuscript's raw HTML, JavaScript and Typst (dropped by default, "
                   "with a warning); as `[render] trusted = true`. See docs/security.md.")
def render(manuscripts: tuple[Path, ...], formats: list[str], csl: str | None,
           outdir: Path | None, allow_missing: bool, review: bool, trusted: bool) -> None:
    """Render MANUSCRIPT... to OUTDIR/STEM.html, .pdf and .docx.

    Each manuscript is parsed once and its citations formatted once; every format is
    written from that result. With --review, the editorial review is written too, in the
    same formats (`--review --to docx` writes STEM.docx and STEM.review.docx); unknown
    citation keys then show as findings instead of stopping the render.
    Files the manuscript names must lie inside the project; what the outputs leave out
    is said in a warning on stderr.
    """
    from ..api import Project

    for manuscript in manuscripts:
        project = Project.find(manuscript)
        written = project.render(manuscript, formats=formats, output_dir=outdir, csl=csl,
                                 allow_missing=allow_missing or review, review=review,
                                 trusted=trusted or None, warn=show_warning)
        for path in written:
            click.echo(f"wrote {path}")


def show_warning(warning) -> None:
    click.echo(f"citeflow: warning: {warning}", err=True)
