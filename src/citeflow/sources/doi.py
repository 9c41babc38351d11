"""doi.org content negotiation: CSL-JSON for DOIs that Crossref does not hold.

``GET {base}/{doi}`` with ``Accept: application/vnd.citationstyles.csl+json`` is redirected
by doi.org to the DOI's registration agency (DataCite, mEDRA, the EU Publications Office,
Crossref itself), which answers CSL-JSON. An agency that cannot answer in that format sends
its landing page (HTML) or 406 instead. A body is read as JSON whenever it parses,
whatever its ``Content-Type``.

Only the hosts in :data:`REDIRECT_HOSTS` (or ``[sources] redirect_hosts``) may receive
such a redirect: the metadata services of Crossref, DataCite (and its older crosscite
host), mEDRA and JaLC. A redirect anywhere else is refused with a message.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ..references.csl import reference_from_csl
from ..references.identifiers import normalize_doi
from ..references.lock import SourceRecord
from ..references.reference import Reference
from .crossref import Malformed, WebPage, read_json
from .http import Response

DEFAULT_URL = "https://doi.org"
CSL_JSON = "application/vnd.citationstyles.csl+json"
#: Where doi.org content negotiation hands a request over to (besides doi.org itself).
REDIRECT_HOSTS = (
    "doi.org", "dx.doi.org",
    "api.crossref.org", "data.crossref.org",
    "api.datacite.org", "data.datacite.org", "data.crosscite.org",
    "data.medra.org",
    "data.jalc.or.jp",
)


def doi_url(base: str, doi: str) -> str:
    return f"{base.rstrip('/')}/{quote(doi, safe='/:;()@!$&*+,=-._~')}"


def read_csl(response: Response) -> dict[str, Any]:
    """The CSL-JSON item of a content-negotiation answer (raises :class:`Malformed`)."""
    try:
        data: Any = read_json(response, "doi.org")
    except WebPage as exc:
        raise Malformed("the registration agency sent a web page, not citation data "
                        "(it may not offer CSL-JSON for this DOI)") from exc
    if isinstance(data, list) and len(data) == 1:
        data = data[0]
    if not isinstance(data, dict) or not (data.get("title") or data.get("DOI") or data.get("author")):
        raise Malformed("doi.org sent JSON that is not a CSL-JSON record")
    return data


def reference_from_item(item: dict[str, Any], doi: str) -> Reference:
    """A :class:`Reference` from a content-negotiation CSL-JSON item for ``doi``."""
    ref = reference_from_csl(item, key="")
    if ref.doi is None:
        ref.doi = normalize_doi(doi)
    ref.fields["source"] = "doi.org"
    return ref


def parse_csl(response: Response, doi: str) -> Reference:
    """A :class:`Reference` from a content-negotiation answer (raises :class:`Malformed`)."""
    return reference_from_item(read_csl(response), doi)


def registry_record(item: dict[str, Any], doi: str, asked: str) -> SourceRecord:
    """What the lock keeps of a registration agency's CSL-JSON record (DataCite, mEDRA,
    ...): the citation, and the update links a Crossref transform may carry."""
    from .crossref import notices_of, relations_of

    ref = reference_from_item(item, doi)
    return SourceRecord(asked=asked, title=ref.title, authors=ref.authors[:20], authors_total=len(ref.authors),
                        year=ref.year, journal=ref.container, volume=ref.volume, issue=ref.issue,
                        pages=ref.pages, type=str(item.get("type") or ""), doi=ref.doi,
                        notices=notices_of(item), relations=relations_of(item))
