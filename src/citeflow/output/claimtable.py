"""The claims table: every claim sentence, what it cites, and the titles of those works.

This is the table a medical-legal reviewer signs off: one row per sentence that asserts
something checkable (see :mod:`citeflow.claims.detect`), with the citation keys found in that
sentence and the title of each cited reference, or ``unsupported`` when the sentence cites
nothing. A key that is not in the bibliography shows as such instead of a title.

Writers: :func:`rows_to_csv`, :func:`rows_to_markdown` (a Pandoc pipe table with every
special character escaped, so the table renders as text whatever the sentence holds) and
:func:`rows_to_html` (a standalone page).
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from citeflow.checks.engine import CheckSettings, bibliography_paths, load_rules
from citeflow.claims.detect import Claim, CueSet, find_claims
from citeflow.config import Config, load_config
from citeflow.document.manuscript import Manuscript, read_manuscript
from citeflow.document.markdown import escape_inline
from citeflow.references.bibliography import Bibliography, load_bibliography

UNSUPPORTED = "unsupported"
NOT_IN_BIBLIOGRAPHY = "(not in the bibliography)"
UNRESOLVED = "(identifier placeholder, not yet resolved)"
FORMATS = ("csv", "html", "md")


@dataclass
class ClaimRow:
    """One claim sentence with its citations.

    ``keys`` are the cited keys, then the identifiers of identifier placeholders
    (``doi:10.1056/...``); ``titles`` runs parallel: the reference's title and year,
    :data:`NOT_IN_BIBLIOGRAPHY` for a key the bibliography lacks, or :data:`UNRESOLVED`.
    """

    number: int
    line: int
    sentence: str
    cue: str = ""
    keys: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)

    @property
    def supported(self) -> bool:
        return bool(self.keys)

    @property
    def support(self) -> str:
        """The titles of the cited works, one per line, or ``unsupported``."""
        if not self.keys:
            return UNSUPPORTED
        return "\n".join(self.titles)


@dataclass(frozen=True)
class ClaimStats:
    """How many claim sentences there are and how many of them cite something."""

    claims: int
    cited: int

    @property
    def share(self) -> float:
        return self.cited / self.claims if self.claims else 1.0


def claim_stats(rows: Sequence[ClaimRow]) -> ClaimStats:
    return ClaimStats(len(rows), sum(1 for row in rows if row.supported))


# --------------------------------------------------------------------------------------
# Building rows


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


_EMPHASIS = re.compile(r"\*{1,3}|(?<![A-Za-z0-9])_{1,3}|_{1,3}(?![A-Za-z0-9])|~~")


def plain_sentence(text: str) -> str:
    """A sentence for reading: one line, emphasis and strike-out delimiters removed."""
    return _one_line(_EMPHASIS.sub("", text))


def _title(bibliography: Bibliography | None, key: str) -> str:
    ref = bibliography.get(key) if bibliography is not None else None
    if ref is None:
        return NOT_IN_BIBLIOGRAPHY
    title = _one_line(ref.title or "") or "(untitled)"
    return f"{title} ({ref.year})" if ref.year else title


def _placeholder_support(placeholder, bibliography: Bibliography | None) -> list[tuple[str, str]]:
    """(label, title) for each identifier in an identifier placeholder."""
    pairs = []
    for item in placeholder.items:
        if item.identifier is not None:
            ref = bibliography.find(item.identifier) if bibliography is not None else None
            title = _title(bibliography, ref.key) if ref is not None else UNRESOLVED
            pairs.append((str(item.identifier), title))
        elif item.key:
            pairs.append((item.key, _title(bibliography, item.key)))
        else:
            pairs.append((item.raw, UNRESOLVED))
    return pairs


def row_for_claim(number: int, claim: Claim, manuscript: Manuscript,
                  bibliography: Bibliography | None) -> ClaimRow:
    """One table row: the claim's cited keys (and identifier placeholders) with titles."""
    support = [(key, _title(bibliography, key)) for key in claim.keys]
    for placeholder in claim.placeholders:
        support += _placeholder_support(placeholder, bibliography)
    support = list(dict.fromkeys(support))
    return ClaimRow(
        number=number,
        line=manuscript.line_col(claim.start)[0],
        sentence=plain_sentence(claim.text),
        cue=str(claim.cue),
        keys=[label for label, _ in support],
        titles=[title for _, title in support],
    )


def claim_rows(manuscript: Manuscript, bibliography: Bibliography | None,
               claims: Iterable[Claim] | None = None, cues: CueSet | None = None) -> list[ClaimRow]:
    """The claims table of a manuscript.

    ``claims`` are the check engine's claims when a check has already run (they are the
    same :func:`citeflow.claims.detect.find_claims` records); otherwise they are found here.
    """
    if claims is None:
        claims = find_claims(manuscript, cues)
    return [row_for_claim(n, c, manuscript, bibliography) for n, c in enumerate(claims, start=1)]


def cues_from_config(config: Config) -> CueSet:
    """The claim cues of ``[check.cues]`` (validated as ``citeflow check`` does)."""
    load_rules()  # [check.severity] names rules: the registry must be complete
    return CueSet.build(CheckSettings.from_config(config).cues)


def claim_table(manuscript_path: str | Path, config: Config | None = None) -> list[ClaimRow]:
    """Read a manuscript and its bibliography and build its claims table."""
    manuscript = read_manuscript(manuscript_path)
    config = config or load_config(manuscript_path)
    bibliography = load_bibliography(bibliography_paths(manuscript, config))
    return claim_rows(manuscript, bibliography, cues=cues_from_config(config))


# --------------------------------------------------------------------------------------
# Writers

HEADERS = ("#", "Line", "Claim", "Citations", "Cited references")


def _cells(row: ClaimRow) -> list[str]:
    return [str(row.number), str(row.line), row.sentence,
            "; ".join(row.keys), row.support]


def rows_to_csv(rows: Sequence[ClaimRow]) -> str:
    """CSV with a header row; several titles in one cell are separated by newlines."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADERS)
    for row in rows:
        writer.writerow(_cells(row))
    return buffer.getvalue()


def rows_to_markdown(rows: Sequence[ClaimRow]) -> str:
    """A pipe table; cell text is escaped so Pandoc renders it literally."""
    lines = ["| " + " | ".join(HEADERS) + " |",
             "|---:|---:|" + "-" * 40 + "|" + "-" * 12 + "|" + "-" * 24 + "|"]
    for row in rows:
        cells = [escape_inline(c) for c in _cells(row)[:-1]]
        cells.append(escape_inline("; ".join(row.titles)) if row.supported
                     else f"**{UNSUPPORTED}**")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def rows_to_html_table(rows: Sequence[ClaimRow]) -> str:
    """An HTML ``<table>`` element (no page around it)."""
    out = ['<table class="cf-claims">', "<thead><tr>"
           + "".join(f"<th>{html.escape(h)}</th>" for h in HEADERS) + "</tr></thead>", "<tbody>"]
    for row in rows:
        cells = [html.escape(c) for c in _cells(row)[:-1]]
        if row.supported:
            support = "<br>".join(html.escape(t) for t in row.titles)
        else:
            support = f'<strong class="cf-unsupported">{UNSUPPORTED}</strong>'
        css = "" if row.supported else ' class="cf-unsupported-row"'
        out.append(f"<tr{css}>" + "".join(f"<td>{c}</td>" for c in cells)
                   + f"<td>{support}</td></tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


_PAGE_CSS = """body { font-family: system-ui, sans-serif; margin: 2em; }
table.cf-claims { border-collapse: collapse; width: 100%; }
table.cf-claims th, table.cf-claims td { border: 1px solid #bbb; padding: .3em .5em;
  vertical-align: top; text-align: left; }
tr.cf-unsupported-row td { background: #fff0f0; }
.cf-unsupported { color: #a4000f; }"""


def rows_to_html(rows: Sequence[ClaimRow], title: str = "Claims table") -> str:
    """A standalone HTML page with the table and a count of cited claims."""
    stats = claim_stats(rows)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{html.escape(title)}</title>\n<style>\n{_PAGE_CSS}\n</style>\n</head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n"
        f"<p>{stats.cited} of {stats.claims} claim sentences cite a reference.</p>\n"
        + rows_to_html_table(rows) + "\n</body>\n</html>\n"
    )


def format_rows(rows: Sequence[ClaimRow], fmt: str, title: str = "Claims table") -> str:
    """The table in one of :data:`FORMATS`."""
    if fmt == "csv":
        return rows_to_csv(rows)
    if fmt == "md":
        return rows_to_markdown(rows)
    if fmt == "html":
        return rows_to_html(rows, title)
    raise ValueError(f"unknown claims table format {fmt!r} (use {', '.join(FORMATS)})")
