"""The claims table: every claim sentence, what it cites, and the titles of those works.

This is the table a medical-legal reviewer signs off: one row per sentence that asserts
something checkable (see :mod:`citeflow.claims.detect`), with the citation keys found in that
sentence and the title of each cited reference, or ``unsupported`` when the sentence cites
nothing. A key that is not in the bibliography shows as such instead of a title. Each cited
work also gets its status from ``citeflow.lock`` (:class:`WorkStatuses`): retracted,
expression of concern, corrected, withdrawn, preprint (with the published version), not
checked (not in the lock, or checked longer ago than ``[check] lock_max_age_days``) or ok,
judged by :func:`citeflow.references.integrity.work_status` as the integrity rules judge it.

Writers: :func:`rows_to_csv`, :func:`rows_to_markdown` (a Pandoc pipe table with every
special character escaped, so the table renders as text whatever the sentence holds),
:func:`rows_to_html` (a standalone page) and :func:`rows_to_text` (for a terminal).
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from citeflow.checks.engine import CheckSettings, bibliography_paths, load_rules
from citeflow.claims.detect import Claim, CueSet, find_claims
from citeflow.config import Config, load_config
from citeflow.document.manubot import bibliography_entry, manubot_key
from citeflow.document.manuscript import Manuscript, read_manuscript
from citeflow.document.markdown import escape_inline
from citeflow.references.bibliography import Bibliography, load_bibliography
from citeflow.references.integrity import DEFAULT_MAX_AGE_DAYS, lock_max_age_days, work_status
from citeflow.references.lock import LOCK_NAME, Lock, load_lock

UNSUPPORTED = "unsupported"
NOT_IN_BIBLIOGRAPHY = "(not in the bibliography)"
UNRESOLVED = "(identifier placeholder, not yet resolved)"
FORMATS = ("csv", "html", "md", "text")


@dataclass
class WorkStatuses:
    """The status of cited works from a project's ``citeflow.lock``."""

    lock: Lock
    max_age_days: float = DEFAULT_MAX_AGE_DAYS

    @classmethod
    def of_project(cls, manuscript_path: str | Path, config: Config) -> WorkStatuses | None:
        """The lock at the manuscript's project root, with ``[check] lock_max_age_days``;
        None when the project has no lock (it has not asked for these checks, as with
        CF107-CF114, and the table has no status column)."""
        from citeflow.paths import project_root

        lock = load_lock(project_root(manuscript_path, config) / LOCK_NAME)
        return cls(lock, lock_max_age_days(config)) if lock is not None else None

    def of(self, reference) -> str:
        """``retracted: 10.1016/... of 2020-06-05``, ``ok``, ``not checked: ...``."""
        return str(work_status(reference, self.lock.find(reference), self.max_age_days))


@dataclass
class ClaimRow:
    """One claim sentence with its citations.

    ``keys`` are the cited keys, then the identifiers of identifier placeholders
    (``doi:10.1056/...``); ``titles`` runs parallel: the reference's title and year,
    :data:`NOT_IN_BIBLIOGRAPHY` for a key the bibliography lacks, or :data:`UNRESOLVED`;
    so does ``statuses``: what citeflow.lock says of each work ("" where there is no
    bibliography entry to look up, or the table was built without statuses).
    """

    number: int
    line: int
    sentence: str
    cue: str = ""
    keys: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)

    @property
    def supported(self) -> bool:
        return bool(self.keys)

    @property
    def support(self) -> str:
        """The titles of the cited works, one per line, or ``unsupported``."""
        if not self.keys:
            return UNSUPPORTED
        return "\n".join(self.titles)

    @property
    def status(self) -> str:
        """The status of each cited work, one per line ("" without a citation)."""
        return "\n".join(self.statuses)


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
    ref = _entry(bibliography, key)
    if ref is None:
        return NOT_IN_BIBLIOGRAPHY
    title = _one_line(ref.title or "") or "(untitled)"
    return f"{title} ({ref.year})" if ref.year else title


def _placeholder_support(placeholder, bibliography: Bibliography | None,
                         listed: Sequence[str] = ()) -> list[tuple[str, str, Any]]:
    """(label, title, bibliography entry or None) for each identifier in an identifier
    placeholder; a Manubot key among the ``listed`` citation keys is listed once, there."""
    pairs = []
    for item in placeholder.items:
        if item.literal_key and item.literal_key in listed:
            continue
        if item.identifier is not None:
            ref = bibliography.find(item.identifier) if bibliography is not None else None
            title = _title(bibliography, ref.key) if ref is not None else UNRESOLVED
            pairs.append((str(item.identifier), title, ref))
        elif item.key:
            pairs.append((item.key, _title(bibliography, item.key), _entry(bibliography, item.key)))
        else:
            pairs.append((item.raw, UNRESOLVED, None))
    return pairs


def _entry(bibliography: Bibliography | None, key: str):
    """The entry a cited key names: by key, or the work of a Manubot key (``@pmid:...``)."""
    if bibliography is None:
        return None
    ref = bibliography.get(key)
    if ref is None and (manubot := manubot_key(key)) is not None:
        ref = bibliography_entry(bibliography, manubot)
    return ref


def row_for_claim(number: int, claim: Claim, manuscript: Manuscript,
                  bibliography: Bibliography | None,
                  statuses: WorkStatuses | None = None) -> ClaimRow:
    """One table row: the claim's cited keys (and identifier placeholders) with titles and,
    with ``statuses``, what citeflow.lock says of each work."""
    support = [(key, _title(bibliography, key), _entry(bibliography, key)) for key in claim.keys]
    for placeholder in claim.placeholders:
        support += _placeholder_support(placeholder, bibliography, listed=claim.keys)
    seen: set[tuple[str, str]] = set()
    unique = []
    for label, title, ref in support:
        if (label, title) not in seen:
            seen.add((label, title))
            unique.append((label, title, ref))
    return ClaimRow(
        number=number,
        line=manuscript.line_col(claim.start)[0],
        sentence=plain_sentence(claim.text),
        cue=str(claim.cue),
        keys=[label for label, _, _ in unique],
        titles=[title for _, title, _ in unique],
        statuses=[statuses.of(ref) if statuses is not None and ref is not None else ""
                  for _, _, ref in unique],
    )


def claim_rows(manuscript: Manuscript, bibliography: Bibliography | None,
               claims: Iterable[Claim] | None = None, cues: CueSet | None = None,
               statuses: WorkStatuses | None = None) -> list[ClaimRow]:
    """The claims table of a manuscript.

    ``claims`` are the check engine's claims when a check has already run (they are the
    same :func:`citeflow.claims.detect.find_claims` records); otherwise they are found here.
    ``statuses`` gives each cited work its status from citeflow.lock.
    """
    if claims is None:
        claims = find_claims(manuscript, cues)
    return [row_for_claim(n, c, manuscript, bibliography, statuses)
            for n, c in enumerate(claims, start=1)]


def cues_from_config(config: Config) -> CueSet:
    """The claim cues of ``[check.cues]`` (validated as ``citeflow check`` does)."""
    load_rules()  # [check.severity] names rules: the registry must be complete
    return CueSet.build(CheckSettings.from_config(config).cues)


def claim_table(manuscript_path: str | Path, config: Config | None = None) -> list[ClaimRow]:
    """Read a manuscript and its bibliography and build its claims table."""
    manuscript = read_manuscript(manuscript_path)
    config = config or load_config(manuscript_path)
    bibliography = load_bibliography(bibliography_paths(manuscript, config))
    return claim_rows(manuscript, bibliography, cues=cues_from_config(config),
                      statuses=WorkStatuses.of_project(manuscript_path, config))


# --------------------------------------------------------------------------------------
# Writers

HEADERS = ("#", "Line", "Claim", "Citations", "Cited references")
STATUS = "Status"


def _with_status(rows: Sequence[ClaimRow]) -> bool:
    """True when the table carries statuses (the project has a citeflow.lock)."""
    return any(status for row in rows for status in row.statuses)


def _headers(rows: Sequence[ClaimRow]) -> tuple[str, ...]:
    return HEADERS + (STATUS,) if _with_status(rows) else HEADERS


def _cells(row: ClaimRow, status: bool = False) -> list[str]:
    return [str(row.number), str(row.line), row.sentence,
            "; ".join(row.keys), row.support] + ([row.status] if status else [])


def rows_to_csv(rows: Sequence[ClaimRow]) -> str:
    """CSV with a header row; several titles in one cell are separated by newlines."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    status = _with_status(rows)
    writer.writerow(_headers(rows))
    for row in rows:
        writer.writerow(_cells(row, status))
    return buffer.getvalue()


def rows_to_markdown(rows: Sequence[ClaimRow]) -> str:
    """A pipe table; cell text is escaped so Pandoc renders it literally."""
    status = _with_status(rows)
    lines = ["| " + " | ".join(_headers(rows)) + " |",
             "|---:|---:|" + "-" * 40 + "|" + "-" * 12 + "|" + "-" * 24 + "|"
             + ("-" * 12 + "|" if status else "")]
    for row in rows:
        cells = [escape_inline(c) for c in _cells(row)[:-1]]
        cells.append(escape_inline("; ".join(row.titles)) if row.supported
                     else f"**{UNSUPPORTED}**")
        if status:
            cells.append(escape_inline("; ".join(row.statuses)))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def rows_to_html_table(rows: Sequence[ClaimRow]) -> str:
    """An HTML ``<table>`` element (no page around it)."""
    with_status = _with_status(rows)
    out = ['<table class="cf-claims">', "<thead><tr>"
           + "".join(f"<th>{html.escape(h)}</th>" for h in _headers(rows)) + "</tr></thead>", "<tbody>"]
    for row in rows:
        cells = [html.escape(c) for c in _cells(row)[:-1]]
        if row.supported:
            support = "<br>".join(html.escape(t) for t in row.titles)
        else:
            support = f'<strong class="cf-unsupported">{UNSUPPORTED}</strong>'
        status = "<br>".join(f'<span class="cf-status-{_css_name(s)}">{html.escape(s)}</span>'
                             if s else "" for s in row.statuses)
        css = "" if row.supported else ' class="cf-unsupported-row"'
        out.append(f"<tr{css}>" + "".join(f"<td>{c}</td>" for c in cells)
                   + f"<td>{support}</td>" + (f"<td>{status}</td>" if with_status else "") + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def _css_name(status: str) -> str:
    """``retracted: ...`` -> ``retracted``; ``not checked: ...`` -> ``not-checked``."""
    return re.sub(r"[^a-z]+", "-", status.split(":", 1)[0].lower()).strip("-")


_PAGE_CSS = """body { font-family: system-ui, sans-serif; margin: 2em; }
table.cf-claims { border-collapse: collapse; width: 100%; }
table.cf-claims th, table.cf-claims td { border: 1px solid #bbb; padding: .3em .5em;
  vertical-align: top; text-align: left; }
tr.cf-unsupported-row td { background: #fff0f0; }
.cf-unsupported, .cf-status-retracted, .cf-status-withdrawn { color: #a4000f; font-weight: bold; }
.cf-status-possibly-retracted, .cf-status-expression-of-concern, .cf-status-notice,
.cf-status-preprint, .cf-status-not-found { color: #8a5a00; }"""


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


def rows_to_text(rows: Sequence[ClaimRow]) -> str:
    """Plain text for a terminal: each claim with its line, then each cited work with its
    title and status (or "unsupported")."""
    out = []
    for row in rows:
        out.append(f"{row.number}. line {row.line}: {row.sentence}")
        if not row.supported:
            out.append(f"   {UNSUPPORTED}")
        for index, key in enumerate(row.keys):
            title = row.titles[index] if index < len(row.titles) else ""
            status = row.statuses[index] if index < len(row.statuses) else ""
            out.append(f"   {key}: {title}" + (f" [{status}]" if status else ""))
    stats = claim_stats(rows)
    out.append(f"{stats.cited} of {stats.claims} claim sentences cite a reference.")
    return "\n".join(out) + "\n"


def format_rows(rows: Sequence[ClaimRow], fmt: str, title: str = "Claims table") -> str:
    """The table in one of :data:`FORMATS`."""
    if fmt == "csv":
        return rows_to_csv(rows)
    if fmt == "md":
        return rows_to_markdown(rows)
    if fmt == "html":
        return rows_to_html(rows, title)
    if fmt == "text":
        return rows_to_text(rows)
    raise ValueError(f"unknown claims table format {fmt!r} (use {', '.join(FORMATS)})")
