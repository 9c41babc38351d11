"""bioRxiv and medRxiv: the published version of a preprint.

Publishers' Crossref records lack about half of the links between a preprint and the
article it became, so for a bioRxiv or medRxiv DOI (prefix ``10.1101``) the servers' own
API is asked as well: ``GET {base}/pubs/{server}/{doi}/na/json`` lists the published
article (``published_doi``, ``published_journal``, ``published_date``) of a preprint that
has one, and an empty ``collection`` otherwise (https://api.biorxiv.org/pubs/help).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ..references.identifiers import normalize_doi
from .crossref import Malformed, read_json
from .http import Response

DEFAULT_URL = "https://api.biorxiv.org"
#: The DOI prefix of both servers.
PREFIX = "10.1101/"
SERVERS = ("biorxiv", "medrxiv")


def is_rxiv_doi(doi: str | None) -> bool:
    return bool(doi) and str(doi).lower().startswith(PREFIX)


def server_of(institution: str) -> str:
    """``medrxiv`` when the Crossref record names medRxiv as the posting institution,
    else ``biorxiv``."""
    return "medrxiv" if "medrxiv" in (institution or "").lower() else "biorxiv"


def pubs_url(base: str, server: str, doi: str) -> str:
    return f"{base.rstrip('/')}/pubs/{server}/{quote(doi, safe='/:;()@!$&*+=-._~')}/na/json"


def parse_pubs(response: Response, doi: str) -> dict[str, Any] | None:
    """``{"doi": published DOI, "journal": ..., "date": ...}`` for the preprint ``doi``, or
    None when the server lists no published version (raises :class:`Malformed`)."""
    data = read_json(response, "the bioRxiv API")
    if not isinstance(data, dict):
        raise Malformed("the bioRxiv API sent JSON that is not an object")
    collection = data.get("collection") or []
    if not isinstance(collection, list):
        raise Malformed("the bioRxiv API sent a 'collection' that is not a list")
    wanted = normalize_doi(doi)
    for item in collection:
        if not isinstance(item, dict):
            continue
        preprint = normalize_doi(item.get("preprint_doi") or item.get("biorxiv_doi"))
        published = normalize_doi(item.get("published_doi"))
        if published and (preprint is None or preprint == wanted):
            return {"doi": published, "journal": str(item.get("published_journal") or ""),
                    "date": str(item.get("published_date") or "") or None}
    return None
