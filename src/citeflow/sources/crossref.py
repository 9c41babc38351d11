"""Crossref REST API: ``GET {base}/works/{doi}`` mapped to a :class:`Reference`.

Many DOIs are asked for in one request, ``GET {base}/works?filter=doi:A,doi:B,...&rows=N``
(:func:`batch_params`), whose answer lists the works found (``message.items``); a DOI
whose characters would break the filter (a comma separates its values) is asked for on its
own (:func:`batch_safe`). Each listed work is the same record ``/works/{doi}`` gives, so it
is kept as that single answer (:func:`work_envelope`, without the reference list, which
citeflow never reads).

Crossref's ``select=`` parameter, which would trim the answer to named fields, is not used:
two fields the lock and the preprint rule read, ``subtype`` (``posted-content/preprint``) and
``institution`` (bioRxiv, medRxiv), cannot be selected, and Crossref's advice is to select
only when a handful of fields is needed. The reference list, the bulk of a record, is dropped
from what is kept instead, and an answer over the size limit falls back to single lookups.

Crossref holds most journal DOIs. Its record carries what the checks need beyond the
citation itself: ``updated-by`` (a retraction or correction notice points at this work),
``update-to`` (this work is such a notice) and ``relation`` (preprint <-> published version,
reviews, components). These become ``Reference.updates``.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from ..references.csl import (
    CROSSREF_TO_CSL,
    DATE_FIELDS,
    csl_names,
    csl_text,
    date_text,
    date_year,
    strip_inline_markup,
    strip_markup,
    work_fields,
)
from ..references.identifiers import normalize_doi
from ..references.lock import Notice, Relation, SourceRecord
from ..references.reference import Reference, page_range
from .http import Response

DEFAULT_URL = "https://api.crossref.org"
#: DOIs per ``filter=doi:...`` request, and the longest filter value sent (characters).
BATCH_SIZE = 50
MAX_FILTER_CHARS = 4000


class Malformed(ValueError):
    """An answer that is not what the service promised (HTML page, broken JSON, ...)."""


class WebPage(Malformed):
    """A web page where JSON was expected."""


def works_url(base: str, doi: str) -> str:
    """``{base}/works/{doi}`` with the DOI percent-encoded where a URL needs it."""
    return f"{base.rstrip('/')}/works/{quote(doi, safe='/:;()@!$&*+,=-._~')}"


def batch_safe(doi: str) -> bool:
    """True when ``doi`` can go into a ``filter=doi:...`` list: no comma (the filter's
    separator) and no white space."""
    return "," not in doi and not any(c.isspace() for c in doi)


def batches(dois: list[str], size: int = BATCH_SIZE, max_chars: int = MAX_FILTER_CHARS) -> list[list[str]]:
    """``dois`` cut into lists of at most ``size`` whose filter value stays under ``max_chars``."""
    result: list[list[str]] = []
    current: list[str] = []
    length = 0
    for doi in dois:
        cost = len(doi) + 5  # "doi:" and the comma
        if current and (len(current) >= size or length + cost > max_chars):
            result.append(current)
            current, length = [], 0
        current.append(doi)
        length += cost
    if current:
        result.append(current)
    return result


def works_list_url(base: str) -> str:
    return f"{base.rstrip('/')}/works"


def batch_params(dois: list[str]) -> dict[str, str]:
    """The query of one batch: ``filter=doi:A,doi:B,...`` and as many rows as DOIs."""
    return {"filter": ",".join(f"doi:{doi}" for doi in dois), "rows": str(len(dois))}


def parse_work_list(response: Response) -> dict[str, dict[str, Any]]:
    """The works of a list answer (``message.items``), keyed by their normalised DOI."""
    data = read_json(response, "Crossref")
    message = data.get("message") if isinstance(data, dict) else None
    items = message.get("items") if isinstance(message, dict) else None
    if not isinstance(items, list):
        raise Malformed("Crossref sent a list answer without 'message.items'")
    works: dict[str, dict[str, Any]] = {}
    for item in items:
        doi = normalize_doi(item.get("DOI")) if isinstance(item, dict) else None
        if doi:
            works[doi] = item
    return works


#: Parts of a work that citeflow never reads, left out of the answers kept from a list:
#: the reference list is often most of a record.
UNREAD_FIELDS = frozenset({"reference"})


def work_envelope(item: dict[str, Any]) -> dict[str, Any]:
    """The ``/works/{doi}`` answer holding one work of a list answer (without the parts
    citeflow never reads)."""
    work = {k: v for k, v in item.items() if k not in UNREAD_FIELDS}
    return {"status": "ok", "message-type": "work", "message-version": "1.0.0", "message": work}


def read_json(response: Response, what: str) -> Any:
    """Parse a JSON body or raise :class:`Malformed` saying what came instead.

    The body is judged by what it is, not by its ``Content-Type``: valid JSON sent as
    ``text/html`` is read, and only a body that does not parse is called an HTML page
    (when it looks like one) or broken JSON."""
    body = response.text
    stripped = body.lstrip()
    if not stripped:
        raise Malformed(f"{what} sent an empty answer")
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        if stripped[:1] == "<" or ("html" in response.content_type.lower() and stripped[:1] not in "[{"):
            raise WebPage(f"{what} sent an HTML page instead of JSON") from exc
        if exc.msg.startswith("Unterminated") or exc.pos >= len(body.rstrip()) - 1:
            raise Malformed(f"{what} sent JSON that is cut off (after {len(body)} characters)") from exc
        raise Malformed(f"{what} sent unreadable JSON: {exc.msg} (line {exc.lineno}, "
                        f"column {exc.colno})") from exc


def parse_work(response: Response) -> dict[str, Any]:
    """The ``message`` object of a ``/works/{doi}`` answer."""
    data = response.parsed if response.parsed is not None else read_json(response, "Crossref")
    if not isinstance(data, dict) or not isinstance(data.get("message"), dict):
        raise Malformed("Crossref sent JSON without a 'message' object")
    return data["message"]


def reference_from_crossref(message: dict[str, Any]) -> Reference:
    """A :class:`Reference` from a Crossref work (``message`` of ``/works/{doi}``, or one
    item of a list answer). Organisation authors (``{"name": ...}``) are kept whole; the
    JATS markup of abstracts and the HTML of titles are stripped."""
    crossref_type = str(message.get("type") or "other")
    title = strip_inline_markup(csl_text(message.get("title")))
    if not title:
        title = strip_inline_markup(csl_text(message.get("original-title")))
    year = None
    for date_key in DATE_FIELDS:
        year = date_year(message.get(date_key))
        if year:
            break
    raw: dict[str, str] = {"source": "crossref", "crossref-type": crossref_type}
    for name in ("subtitle", "original-title", "short-container-title", "ISSN"):
        value = csl_text(message.get(name))
        if value:
            raw[name.lower()] = value
    subject_list = message.get("subject")
    subjects = [csl_text(s) for s in subject_list if csl_text(s)] if isinstance(subject_list, list) else []
    return Reference(
        key="",
        type=CROSSREF_TO_CSL.get(crossref_type, crossref_type),
        title=title,
        authors=csl_names(message.get("author")),
        year=year,
        keywords=subjects,
        fields=raw,
        editors=csl_names(message.get("editor")),
        **work_fields(message),
    )


#: Crossref relations between versions of a work that the lock keeps.
VERSION_RELATIONS = ("is-preprint-of", "has-preprint", "is-version-of", "has-version",
                     "is-replaced-by", "replaces", "is-same-as")
#: The dates a work may be cited by.
_CITED_DATES = ("issued", "published-print", "published-online", "published")


def notices_of(message: dict[str, Any]) -> list[Notice]:
    """The ``updated-by`` and ``update-to`` links of a Crossref work, as the registry wrote them."""
    notices = []
    for direction in ("updated-by", "update-to"):
        entries = message.get(direction)
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict):
                continue
            notices.append(Notice(
                type=csl_text(entry.get("type")).lower() or "update", direction=direction,
                source=csl_text(entry.get("source")) or "publisher", doi=normalize_doi(csl_text(entry.get("DOI"))),
                date=date_text(entry.get("updated")), label=csl_text(entry.get("label")) or None,
                record_id=csl_text(entry.get("record-id")) or None))
    return notices


def relations_of(message: dict[str, Any]) -> list[Relation]:
    """Links to other versions (preprint and published version) named by DOI."""
    relations = message.get("relation")
    found = []
    for name in VERSION_RELATIONS:
        targets = relations.get(name) if isinstance(relations, dict) else None
        for target in targets if isinstance(targets, list) else [targets] if targets else []:
            if isinstance(target, dict) and str(target.get("id-type", "")).lower() == "doi":
                doi = normalize_doi(csl_text(target.get("id")))
                if doi:
                    found.append(Relation(name, doi, "crossref"))
    return found


def registry_record(message: dict[str, Any], asked: str) -> SourceRecord:
    """What the lock keeps of a Crossref work."""
    authors = csl_names(message.get("author"))
    crossref_type = csl_text(message.get("type"))
    subtype = csl_text(message.get("subtype"))
    years = [y for y in (date_year(message.get(name)) for name in _CITED_DATES) if y]
    year = next((date_year(message.get(name)) for name in DATE_FIELDS if date_year(message.get(name))), None)
    short_titles = message.get("short-container-title")
    return SourceRecord(
        asked=asked,
        title=strip_inline_markup(csl_text(message.get("title")))
        or strip_inline_markup(csl_text(message.get("original-title"))),
        authors=authors[:20], authors_total=len(authors),
        year=year, years=years,
        journal=strip_inline_markup(csl_text(message.get("container-title"))),
        journal_abbreviations=[csl_text(t) for t in short_titles if csl_text(t)] if isinstance(short_titles, list) else [],
        volume=csl_text(message.get("volume")), issue=csl_text(message.get("issue")),
        pages=page_range(csl_text(message.get("page"))),
        type=f"{crossref_type}/{subtype}" if subtype else crossref_type,
        doi=normalize_doi(csl_text(message.get("DOI"))),
        notices=notices_of(message), relations=relations_of(message),
    )


def abstract_of(message: dict[str, Any]) -> str:
    return strip_markup(csl_text(message.get("abstract")))


def institution_of(message: dict[str, Any]) -> str:
    """The posting institution of a preprint (``bioRxiv``, ``medRxiv``), or ""."""
    institutions = message.get("institution")
    for item in institutions if isinstance(institutions, list) else []:
        if isinstance(item, dict) and csl_text(item.get("name")):
            return csl_text(item.get("name"))
    return ""
# -- PII lookups ----------------------------------------------------------------------------
def alternative_id_query(base: str, pii: str) -> tuple[str, dict[str, str]]:
    """URL and parameters asking Crossref for the works whose ``alternative-id`` is ``pii``
    (Elsevier deposits an article's PII there): ``{base}/works?filter=alternative-id:S...``."""
    return f"{base.rstrip('/')}/works", {"filter": f"alternative-id:{pii}", "rows": "5"}


def dois_with_alternative_id(response: Response, pii: str) -> list[str]:
    """The DOIs of the listed works that carry ``pii`` as an alternative ID (a work list
    answer of :func:`alternative_id_query`); the check is made here, not trusted to the filter."""
    data = read_json(response, "Crossref")
    message = data.get("message") if isinstance(data, dict) else None
    items = message.get("items") if isinstance(message, dict) else None
    if not isinstance(items, list):
        raise Malformed("Crossref sent a work list without 'items'")
    wanted = pii.upper()
    found = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("DOI"), str):
            continue
        alternatives = item.get("alternative-id") or []
        if any(str(a).replace("-", "").replace("(", "").replace(")", "").upper() == wanted
               for a in alternatives):
            found.append(item["DOI"])
    return found
