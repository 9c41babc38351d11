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
    "init": "cmd_init",
    "preview": "cmd_preview",
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

    def resolve_command(self, ctx: click.Context, args: list[str]):
        """As click's, with the closest command names for a mistyped one."""
        name = click.utils.make_str(args[0]) if args else ""
        if args and not name.startswith("-") and self.get_command(ctx, name) is None:
            import difflib

            close = difflib.get_close_matches(name, self.list_commands(ctx), n=3, cutoff=0.6)
            hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            ctx.fail(f"No such command {name!r}.{hint}")
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (CiteflowError, OSError) as exc:
            if (ctx.obj and ctx.obj.get("debug")) or isinstance(exc, BrokenPipeError):
                raise
            from ._output import error

            error(_one_line(exc))
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
@click.option("-q", "--quiet", is_flag=True,
              help="Say only what was asked for: results, warnings and errors; no progress "
                   "bars, no summaries on stderr.")
@click.option("-v", "--verbose", is_flag=True,
              help="Say more: candidate scores and matched words, the configuration used.")
@click.pass_context
def main(ctx: click.Context, debug: bool, quiet: bool, verbose: bool) -> None:
    """citeflow: turn drafts with citation holes into finished, verifiable articles.

    Colour is used on a terminal (NO_COLOR=1 turns it off, FORCE_COLOR=1 on); progress
    bars go to stderr, only on a terminal.
    """
    from ._output import Verbosity, set_verbosity

    if quiet and verbose:
        raise click.UsageError("--quiet and --verbose exclude each other")
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    set_verbosity(Verbosity.QUIET if quiet else Verbosity.VERBOSE if verbose else Verbosity.NORMAL)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
