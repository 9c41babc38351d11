"""Crossref REST API: ``GET {base}/works/{doi}`` mapped to a :class:`Reference`.

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
    date_year,
    strip_inline_markup,
    work_fields,
)
from ..references.reference import Reference
from .http import Response

DEFAULT_URL = "https://api.crossref.org"


class Malformed(ValueError):
    """An answer that is not what the service promised (HTML page, broken JSON, ...)."""


class WebPage(Malformed):
    """A web page where JSON was expected."""


def works_url(base: str, doi: str) -> str:
    """``{base}/works/{doi}`` with the DOI percent-encoded where a URL needs it."""
    return f"{base.rstrip('/')}/works/{quote(doi, safe='/:;()@!$&*+,=-._~')}"


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
    data = read_json(response, "Crossref")
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
