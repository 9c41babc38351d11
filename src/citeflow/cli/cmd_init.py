"""`citeflow init`: a new project in an empty folder (or one without citeflow's files)."""

from __future__ import annotations

import json
import re
import subprocess
from importlib import resources
from pathlib import Path

import click

from ..errors import CiteflowError
from . import main
from ._output import say

#: What `init` writes: path in the project -> template in citeflow/data/init/.
FILES = {
    "citeflow.toml": "citeflow.toml",
    "manuscripts/manuscript.md": "manuscript.md",
    "references/references.bib": "references.bib",
    ".github/workflows/citeflow.yml": "workflow.yml",
    ".pre-commit-config.yaml": "pre-commit-config.yaml",
}
#: Written where no .gitignore is, else its missing lines are added at the end.
GITIGNORE = "gitignore"
#: The action the workflow uses when citeflow cannot tell where it was installed from.
ACTION_PLACEHOLDER = "OWNER/citeflow@COMMIT_SHA"
_GITHUB = re.compile(r"github\.com[/:]([\w.-]+/[\w.-]+?)(?:\.git)?/?$")
_SHA = re.compile(r"^[0-9a-f]{40}$")


@main.command()
@click.argument("directory", required=False, default=".",
                type=click.Path(file_okay=False, path_type=Path))
@click.option("--action", "action", metavar="OWNER/REPO@SHA", default=None,
              help="The citeflow action the workflow pins (default: the repository and commit "
                   "this citeflow was installed from, when it can tell).")
def init(directory: Path, action: str | None) -> None:
    """Create a citeflow project in DIRECTORY (default: here).

    Writes citeflow.toml, manuscripts/manuscript.md (a starter manuscript),
    references/references.bib, .gitignore entries for build/ and the cache, a GitHub
    workflow (.github/workflows/citeflow.yml) and a pre-commit configuration. Nothing is
    overwritten: if any of these files exists, nothing is written (a .gitignore only gets
    the lines it lacks).
    """
    directory.mkdir(parents=True, exist_ok=True)
    taken = [name for name in FILES if (directory / name).exists() or (directory / name).is_symlink()]
    if taken:
        raise CiteflowError("already there, nothing written: " + ", ".join(taken)
                            + " (citeflow init never overwrites a file)", directory)
    if action is not None and not re.fullmatch(r"[\w.-]+/[\w.-]+@[\w.-]+", action):
        raise click.BadParameter("expected OWNER/REPO@SHA", param_hint="--action")
    pinned = action or installed_action()
    from ..files import atomic_write_text

    written = []
    for name, template in FILES.items():
        text = _template(template)
        if template == "workflow.yml":
            text = text.replace("{action}", pinned or ACTION_PLACEHOLDER)
        target = directory / name
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(target, text)
        written.append(target)
    gitignore = directory / ".gitignore"
    wanted = _template(GITIGNORE)
    if gitignore.exists():
        present = set(gitignore.read_text(encoding="utf-8").splitlines())
        missing = [line for line in wanted.splitlines() if line and not line.startswith("#")
                   and line not in present]
        if missing:
            old = gitignore.read_text(encoding="utf-8")
            separator = "" if not old or old.endswith("\n") else "\n"
            atomic_write_text(gitignore, old + separator + "\n".join(missing) + "\n")
            written.append(gitignore)
    else:
        atomic_write_text(gitignore, wanted)
        written.append(gitignore)
    for path in written:
        click.echo(f"wrote {path}")
    if pinned is None:
        say(f"citeflow: edit {directory / '.github/workflows/citeflow.yml'}: replace "
            f"{ACTION_PLACEHOLDER} with the citeflow repository and the commit to pin "
            "(docs/ci.md, \"Pinning\")")
    say(f"next: citeflow check {directory / 'manuscripts'}; citeflow preview "
        f"{directory / 'manuscripts' / 'manuscript.md'}")


def _template(name: str) -> str:
    return resources.files("citeflow").joinpath("data", "init", name).read_text(encoding="utf-8")


def installed_action() -> str | None:
    """``OWNER/REPO@SHA`` of the GitHub repository and commit this citeflow was installed
    from: pip's record of a ``git+https://github.com/...`` install, or the git checkout of an
    editable one. None when it cannot tell."""
    from importlib import metadata

    try:
        record = metadata.distribution("citeflow").read_text("direct_url.json")
        data = json.loads(record) if record else {}
    except (metadata.PackageNotFoundError, ValueError):
        data = {}
    url = str(data.get("url", ""))
    vcs = data.get("vcs_info") or {}
    if vcs.get("vcs") == "git" and _SHA.match(str(vcs.get("commit_id", ""))):
        match = _GITHUB.search(url)
        return f"{match.group(1)}@{vcs['commit_id']}" if match else None
    if url.startswith("file://"):
        return _checkout_action(Path(url[len("file://"):]))
    return None


def _checkout_action(folder: Path) -> str | None:
    def git(*args: str) -> str:
        try:
            done = subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True,
                                  check=False)
        except (FileNotFoundError, NotADirectoryError):
            return ""
        return done.stdout.strip() if done.returncode == 0 else ""

    match = _GITHUB.search(git("remote", "get-url", "origin"))
    sha = git("rev-parse", "HEAD")
    return f"{match.group(1)}@{sha}" if match and _SHA.match(sha) else None
