"""The review as Word comments: the article, with each finding a comment by "citeflow".

Editors work in Word. ``citeflow render --review --to docx`` writes ``STEM.review.docx``: the
article as it will be printed (citations and reference list formatted), where every finding
located in the text is a Word comment anchored on its sentence (author "citeflow"; text:
code, severity, message, and candidate references as "Author Year, Title"), and the findings
about the bibliography or the whole file are comments on a short note at the start. An
editor works through them in Word's review pane and resolves or answers each.

The document is the one the PDF/HTML review is made from (one citeproc pass), taken before
the Typst and HTML pieces are added: the highlight tags the review inserted around each
sentence (:mod:`citeflow.output.review`) become Pandoc's comment spans, which Pandoc's DOCX
writer turns into Word comments::

    [CF301 (warning): ...]{.comment-start id="3" author="citeflow"}sentence...[]{.comment-end id="3"}

The summary page, the appendix and the claims table of the printed review are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from citeflow.checks.base import Finding
from citeflow.document.manuscript import Manuscript
from citeflow.output.review import (
    _MARKER_TAG,
    _OPEN_TAG,
    Placement,
    _div_class,
    candidate_label,
    candidates_of,
    review_message,
)

AUTHOR = "citeflow"


def _words(text: str) -> list[dict]:
    out: list[dict] = []
    for word in text.split():
        if out:
            out.append({"t": "Space"})
        out.append({"t": "Str", "c": word})
    return out


def comment_text(finding: Finding, bibliography=None) -> str:
    """What a finding's comment says: "CF301 (warning): message. Candidates: Gandhi 2016,
    Title; ..."."""
    text = f"{finding.code} ({finding.severity}): {review_message(finding).rstrip('.')}."
    keys = candidates_of([finding])
    if keys:
        text += " Candidates: " + "; ".join(candidate_label(k, bibliography) for k in keys) + "."
    return text


class _Comments:
    """Comment ids, handed out in document order."""

    def __init__(self, bibliography) -> None:
        self.bibliography = bibliography
        self.count = 0

    def start(self, finding: Finding) -> tuple[str, dict]:
        self.count += 1
        ident = str(self.count)
        span = {"t": "Span", "c": [["", ["comment-start"], [["id", ident], ["author", AUTHOR]]],
                                   _words(comment_text(finding, self.bibliography))]}
        return ident, span

    @staticmethod
    def end(ident: str) -> dict:
        return {"t": "Span", "c": [["", ["comment-end"], [["id", ident]]], []]}


def _convert(node: Any, marks: dict[int, Placement], comments: _Comments,
             stack: list[list[str] | None]) -> None:
    """Turn the review's highlight and marker tags into comment spans (in place)."""
    if isinstance(node, dict):
        for key in ("blocks", "c"):
            if isinstance(node.get(key), list):
                _convert(node[key], marks, comments, stack)
        return
    if not isinstance(node, list):
        return
    out: list = []
    index = 0
    while index < len(node):
        item = node[index]
        index += 1
        raw = item["c"][1] if (isinstance(item, dict) and item.get("t") == "RawInline"
                               and item["c"][0] == "html") else None
        if raw is None:
            _convert(item, marks, comments, stack)
            out.append(item)
            continue
        opened, marker = _OPEN_TAG.fullmatch(raw), _MARKER_TAG.fullmatch(raw)
        if opened and int(opened.group(2)) in marks:
            ids = []
            for finding in marks[int(opened.group(2))].findings:
                ident, span = comments.start(finding)
                ids.append(ident)
                out.append(span)
            stack.append(ids)
        elif marker:
            following = node[index] if index < len(node) else None
            if isinstance(following, dict) and following.get("t") == "RawInline" \
                    and following["c"] == ["html", "</sup>"]:
                index += 1
            placement = marks.get(int(marker.group(2)))
            if placement is not None and not placement.wrapped:  # a comment on this point
                for finding in placement.findings:
                    ident, span = comments.start(finding)
                    out += [span, comments.end(ident)]
        elif raw.lower().startswith("<mark"):
            stack.append(None)
            out.append(item)
        elif raw.lower() == "</mark>" and stack:
            closing = stack.pop()
            if closing is None:
                out.append(item)
            else:
                out += [comments.end(ident) for ident in closing]
        else:
            out.append(item)
    node[:] = out


def comment_review(ast: dict[str, Any], placements: Sequence[Placement],
                   findings: Sequence[Finding], manuscript: Manuscript,
                   bibliography=None) -> dict[str, Any]:
    """The review document of :func:`citeflow.output.review.render_review` as the DOCX
    writer takes it: comments instead of highlights, without the printed review's summary,
    appendix and claims table (changes ``ast`` in place and returns it)."""
    ast["blocks"] = [b for b in ast["blocks"] if _div_class(b) is None]
    comments = _Comments(bibliography)
    active = [f for f in findings if f.suppressed is None]
    file_level = [f for p in placements if not p.placed for f in p.findings if f.suppressed is None]
    # The note at the start carries the comments about the bibliography and the whole file.
    name = manuscript.path.name if manuscript.path else "the manuscript"
    note_text = (f"citeflow review of {name}: {len(active)} findings, each a comment by "
                 f"{AUTHOR} (resolve them in the review pane).")
    note: list[dict] = []
    ends: list[str] = []
    for finding in file_level:
        ident, span = comments.start(finding)
        note.append(span)
        ends.append(ident)
    note += [{"t": "Emph", "c": _words(note_text)}] + [comments.end(i) for i in ends]
    marks = {p.number: p for p in placements if p.placed}
    _convert(ast["blocks"], marks, comments, [])
    ast["blocks"].insert(0, {"t": "Para", "c": note})
    return ast
