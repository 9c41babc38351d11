"""doi.org content negotiation: CSL-JSON for DOIs that Crossref does not hold.

``GET {base}/{doi}`` with ``Accept: application/vnd.citationstyles.csl+json`` is redirected
by doi.org to the DOI's registration agency (DataCite, mEDRA, the EU Publications Office,
Crossref itself), which answers CSL-JSON. An agency that cannot answer in that format sends
its landing page (HTML) or 406 instead.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ..references.bibliography import Reference, reference_from_csl
from ..references.identifiers import normalize_doi
from .crossref import Malformed, read_json
from .http import Response

DEFAULT_URL = "https://doi.org"
CSL_JSON = "application/vnd.citationstyles.csl+json"


def doi_url(base: str, doi: str) -> str:
    return f"{base.rstrip('/')}/{quote(doi, safe='/:;()@!$&*+,=-._~')}"


def parse_csl(response: Response, doi: str) -> Reference:
    """A :class:`Reference` from a content-negotiation answer (raises :class:`Malformed`)."""
    if "html" in response.content_type.lower() or response.text.lstrip()[:1] == "<":
        raise Malformed("the registration agency sent a web page, not citation data "
                        "(it may not offer CSL-JSON for this DOI)")
    data: Any = read_json(response, "doi.org")
    if isinstance(data, list) and len(data) == 1:
        data = data[0]
    if not isinstance(data, dict) or not (data.get("title") or data.get("DOI") or data.get("author")):
        raise Malformed("doi.org sent JSON that is not a CSL-JSON record")
    ref = reference_from_csl(data, key="")
    if ref.doi is None:
        ref.doi = normalize_doi(doi)
    ref.fields["source"] = "doi.org"
    return ref
