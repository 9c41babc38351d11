"""The ``citeflow`` command line: parses options and calls the library, nothing more.

Each command lives in its own module below; this one holds the group and the error policy:
a :class:`~citeflow.errors.CiteflowError` becomes one line on stderr and exit code 2;
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import sys

import click

from .. import __version__
from ..errors import CiteflowError


class CiteflowGroup(click.Group):
    """A click group that turns CiteflowError into a one-line message and exit code 2."""

    def invoke(self, ctx: click.Context):  # noqa: D401
        try:
            return super().invoke(ctx)
        except CiteflowError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"citeflow: error: {exc}", err=True)
            ctx.exit(2)
        except KeyboardInterrupt:
            click.echo("citeflow: interrupted", err=True)
            ctx.exit(130)


@click.group(cls=CiteflowGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="citeflow")
@click.option("--debug", is_flag=True, help="Show a traceback on errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """citeflow: turn drafts with citation holes into finished, verifiable articles."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def _register() -> None:
    from . import (  # noqa: F401  (each module adds its commands to ``main``)
        cmd_build,
        cmd_check,
        cmd_cite,
        cmd_claims,
        cmd_import,
        cmd_render,
        cmd_resolve,
        cmd_styles,
    )


_register()

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
