"""What citeproc needs to render a Manubot manuscript as written.

A Manubot manuscript cites ``[@doi:10.7717/peerj.705; @pmid:25648772]`` (see
:mod:`citeflow.document.manubot`). Before the one Pandoc run of a render, each such key is
looked up offline in the bibliography and then the metadata cache, and two files are written
into the render's private folder (the manuscript is never touched):

* ``citation-ids.tsv``: ``KEY<TAB>ID`` lines that the guard filter (``data/guard.lua``) applies
  to every citation before citeproc, so that ``doi:10.7717/peerj.705`` is read as the
  bibliography's ``simeonov2015lung``; keys naming one work become one id, and the
  reference list holds the work once, numbered once;
* ``manubot-references.json``: CSL-JSON for the works only the cache knows, each under the
  first key that cited it, given to citeproc as one more bibliography.

A key that neither knows is reported (:attr:`ManubotInput.unknown`) with the line of its
first citation; citeproc then misses it like any unknown key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from citeflow.config import Config
from citeflow.document.manubot import ManubotKey, manubot_citations, resolve_manubot_keys
from citeflow.document.manuscript import Manuscript
from citeflow.errors import CiteflowError
from citeflow.references.bibliography import load_bibliography
from citeflow.references.csl import reference_to_csl

IDS_FILE = "citation-ids.tsv"
EXTRA_FILE = "manubot-references.json"


@dataclass
class ManubotInput:
    """The files written for citeproc (None when not needed) and the keys left unknown,
    each with the line of its first citation."""

    ids_file: Path | None = None
    extra_bibliography: Path | None = None
    unknown: list[tuple[ManubotKey, int]] = field(default_factory=list)


def prepare_manubot_input(manuscript: Manuscript, bibliographies: list[Path], config: Config | None,
                          folder: Path) -> ManubotInput:
    """Look up the manuscript's Manubot keys offline and write what citeproc needs into the
    private ``folder`` (see module docstring). A manuscript without such keys costs one scan
    for citations and writes nothing."""
    result = ManubotInput()
    if not manubot_citations(manuscript, None):
        return result
    from citeflow.sources import cached_references

    bib = load_bibliography(bibliographies, missing_ok=True) if bibliographies else None
    found = resolve_manubot_keys(manuscript, bib, lambda idents: cached_references(idents, config))
    result.unknown = [(key, manuscript.line_col(citation.start)[0]) for key, citation in found.unknown]
    renamed = found.renamed()
    try:
        if renamed:
            result.ids_file = folder / IDS_FILE
            # a key or entry id holding a tab or a line break cannot be one line of the file
            lines = [f"{key}\t{new}\n" for key, new in renamed.items()
                     if not any(c in key or c in new for c in "\t\r\n")]
            result.ids_file.write_text("".join(lines), encoding="utf-8")
        if found.extra:
            result.extra_bibliography = folder / EXTRA_FILE
            result.extra_bibliography.write_text(
                json.dumps([reference_to_csl(ref) for ref in found.extra], ensure_ascii=False),
                encoding="utf-8")
    except OSError as exc:
        raise CiteflowError(f"cannot prepare the Manubot citations for citeproc: {exc.strerror or exc}",
                            manuscript.path) from exc
    return result


__all__ = ["ManubotInput", "prepare_manubot_input"]
