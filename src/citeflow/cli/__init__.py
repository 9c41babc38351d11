"""The ``citeflow`` command line: parses options and calls the library, nothing more.

Each command lives in its own module below; this one holds the group and the error policy:
a :class:`~citeflow.errors.CiteflowError`, or an operating-system error reading or writing a
file (permission denied, disk full, a read-only folder), becomes one line on stderr naming
the file, and exit code 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import importlib
import sys

import click

from .. import __version__
from ..errors import CiteflowError
from ..files import WriteError as FileWriteError


#: Which module defines each command. Modules are imported only when their command runs
#: (or when ``--help`` lists them), so ``citeflow build`` does not pay for the HTTP stack.
COMMAND_MODULES = {
    "build": "cmd_build",
    "check": "cmd_check",
    "cite": "cmd_cite",
    "claims": "cmd_claims",
    "import": "cmd_import",
    "refresh": "cmd_refresh",
    "render": "cmd_render",
    "resolve": "cmd_resolve",
    "rules": "cmd_check",
    "styles": "cmd_styles",
    "suggest": "cmd_suggest",
}


class CiteflowGroup(click.Group):
    """A click group that turns CiteflowError into a one-line message and exit code 2."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMAND_MODULES) | set(self.commands))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in COMMAND_MODULES:
            importlib.import_module(f"{__name__}.{COMMAND_MODULES[name]}")
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context):  # noqa: D401
        try:
            return super().invoke(ctx)
        except (CiteflowError, OSError) as exc:
            if ctx.obj and ctx.obj.get("debug") or isinstance(exc, BrokenPipeError):
                raise
            click.echo(f"citeflow: error: {_one_line(exc)}", err=True)
            ctx.exit(2)
        except KeyboardInterrupt:
            click.echo("citeflow: interrupted", err=True)
            ctx.exit(130)


def _one_line(exc: Exception) -> str:
    """``FILE[:LINE]: MESSAGE`` for a CiteflowError, ``FILE: REASON`` for an OSError."""
    if isinstance(exc, OSError) and not isinstance(exc, FileWriteError) and exc.filename and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc)


@click.group(cls=CiteflowGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="citeflow")
@click.option("--debug", is_flag=True, help="Show a traceback on errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """citeflow: turn drafts with citation holes into finished, verifiable articles."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
