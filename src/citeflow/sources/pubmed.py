"""PubMed through NCBI E-utilities, and the PMC ID converter for PMCIDs.

A PMID is fetched with one EFetch call (``{eutils}/efetch.fcgi?db=pubmed&id=...&retmode=xml``):
the PubMed XML record holds the citation, the abstract, MeSH headings and keywords, the DOI
and PMCID, and the errata/retraction links (``CommentsCorrections``), so ESummary is not
needed for a single record. :func:`reference_from_esummary` reads ESummary JSON too, for
callers that have it.

A PMCID goes through the PMC ID converter (``{idconv}?ids=PMC...&format=json``) to a DOI or
PMID, which is then fetched as usual; the converter takes up to 200 IDs at once
(:func:`parse_idconv_records`). PubMed records of works known only by their DOI are found
with ESearch (``{eutils}/esearch.fcgi?db=pubmed&term="DOI"[AID] OR ...``, :func:`doi_term`),
then fetched with EFetch and matched back by the DOI in their ``ArticleIdList``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from ..references.identifiers import normalize_doi, normalize_pmcid, normalize_pmid
from ..references.lock import Notice, SourceRecord
from ..references.reference import Reference
from .crossref import Malformed, read_json
from .http import Response

DEFAULT_EUTILS_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"
DEFAULT_IDCONV_URL = "https://pmc.ncbi.nlm.nih.gov/tools/idconv/api/v1/articles/"

#: CommentsCorrections reference types that mean a notice exists for or about a record.
_LINKS = {
    "RetractionIn": ("retraction", "updated-by"),
    "RetractionOf": ("retraction", "update-to"),
    "ErratumIn": ("correction", "updated-by"),
    "ErratumFor": ("correction", "update-to"),
    "ExpressionOfConcernIn": ("expression_of_concern", "updated-by"),
    "ExpressionOfConcernFor": ("expression_of_concern", "update-to"),
    "UpdateIn": ("new_version", "updated-by"),
    "UpdateOf": ("new_version", "update-to"),
    "RepublishedIn": ("new_version", "updated-by"),
    "RepublishedFrom": ("new_version", "update-to"),
}
_PUBTYPE_TO_CSL = {
    "Journal Article": "article-journal",
    "Preprint": "article",
    "Book": "book",
    "Book Chapter": "chapter",
}


def expand_pages(pages: str) -> str:
    """MEDLINE abbreviates page ranges (``637-41``); spell them out (``637-641``)."""
    match = re.fullmatch(r"\s*([A-Za-z]*)(\d+)\s*-\s*([A-Za-z]*)(\d+)\s*", pages or "")
    if not match:
        return (pages or "").strip()
    prefix, start, prefix2, end = match.groups()
    if len(end) < len(start):
        end = start[: len(start) - len(end)] + end
    return f"{prefix}{start}-{prefix2 or prefix}{end}"


def _text(element: ET.Element | None) -> str:
    """All text inside an element (inline <i>, <sub>, ... flattened), one line."""
    if element is None:
        return ""
    return " ".join("".join(element.itertext()).split())


def _title(element: ET.Element | None) -> str:
    return _strip_period(_text(element))


def parse_efetch(response: Response) -> list[ET.Element]:
    """The ``PubmedArticle`` elements of an EFetch answer (raises :class:`Malformed`)."""
    body = response.text.strip()
    if not body:
        raise Malformed("PubMed sent an empty answer")
    if "html" in response.content_type.lower() and "<PubmedArticleSet" not in body:
        raise Malformed("PubMed sent an HTML page instead of XML")
    try:
        root = ET.fromstring(body.encode("utf-8"))
    except ET.ParseError as exc:
        raise Malformed(f"PubMed sent unreadable XML ({exc})") from exc
    if root.tag == "eFetchResult" or root.find("ERROR") is not None:
        message = _text(root.find("ERROR")) or "error"
        raise Malformed(f"PubMed answered with an error: {message}")
    if root.tag != "PubmedArticleSet":
        raise Malformed(f"PubMed sent XML of an unexpected kind (<{root.tag}>)")
    return root.findall("PubmedArticle")


EMPTY_SET = '<?xml version="1.0" ?>\n<PubmedArticleSet>\n</PubmedArticleSet>\n'


def split_efetch(response: Response) -> dict[str, str]:
    """An EFetch answer for many PMIDs, cut into one ``PubmedArticleSet`` document per PMID
    (the same shape EFetch gives for a single PMID), keyed by PMID."""
    records = {}
    for article in parse_efetch(response):
        pmid = normalize_pmid(_text(article.find("MedlineCitation/PMID")))
        if pmid:
            body = ET.tostring(article, encoding="unicode")
            records[pmid] = f'<?xml version="1.0" ?>\n<PubmedArticleSet>\n{body}</PubmedArticleSet>\n'
    return records


def reference_from_pubmed(article: ET.Element) -> Reference:
    """A :class:`Reference` from one ``PubmedArticle`` element of EFetch XML."""
    citation = article.find("MedlineCitation")
    art = citation.find("Article") if citation is not None else None
    if citation is None or art is None:
        raise Malformed("PubMed record without MedlineCitation/Article")
    journal = art.find("Journal")
    issue = journal.find("JournalIssue") if journal is not None else None
    doi, pmcid = _article_ids(article, art)
    publication_types = [_text(t) for t in art.findall("PublicationTypeList/PublicationType")]
    return Reference(
        key="",
        type=_csl_type(publication_types),
        title=_title(art.find("ArticleTitle")) or _title(art.find("VernacularTitle")),
        authors=[name for name in map(_author_name, art.findall("AuthorList/Author")) if name],
        year=_publication_year(art, issue),
        container=_text(journal.find("Title")) if journal is not None else "",
        volume=_text(issue.find("Volume")) if issue is not None else "",
        issue=_text(issue.find("Issue")) if issue is not None else "",
        pages=expand_pages(_pages(art)),
        doi=doi,
        pmid=normalize_pmid(_text(citation.find("PMID"))),
        pmcid=pmcid,
        abstract=_abstract(art),
        keywords=_keywords(citation),
        fields=_raw_fields(art, journal, publication_types),
        updates=_notices(citation),
    )


def _author_name(author: ET.Element) -> str:
    """``"Family, Given"`` (a suffix after the given names), a group's whole name, or ""."""
    collective = _text(author.find("CollectiveName"))
    if collective:
        return collective
    family = _text(author.find("LastName"))
    given = _text(author.find("ForeName")) or _text(author.find("Initials"))
    suffix = _text(author.find("Suffix"))
    if suffix:
        given = f"{given}, {suffix}" if given else suffix
    if not family:
        return ""
    return f"{family}, {given}" if given else family


def _publication_year(art: ET.Element, issue: ET.Element | None) -> int | None:
    """The year of the journal issue (``MedlineDate`` such as ``2016 Dec-2017 Jan`` too),
    else of the electronic publication."""
    if issue is not None:
        year_text = _text(issue.find("PubDate/Year")) or _text(issue.find("PubDate/MedlineDate"))
        match = re.search(r"\d{4}", year_text)
        if match:
            return int(match.group(0))
    match = re.search(r"\d{4}", _text(art.find("ArticleDate/Year")))
    return int(match.group(0)) if match else None


def _pages(art: ET.Element) -> str:
    """``MedlinePgn`` as written, else ``StartPage-EndPage`` (or the start page alone)."""
    pages = _text(art.find("Pagination/MedlinePgn"))
    if pages:
        return pages
    start, end = _text(art.find("Pagination/StartPage")), _text(art.find("Pagination/EndPage"))
    return f"{start}-{end}" if start and end else start


def _abstract(art: ET.Element) -> str:
    """The abstract's parts in order, each structured part after its label (``METHODS: ...``)."""
    parts = []
    for part in art.findall("Abstract/AbstractText"):
        label = part.get("Label")
        text = _text(part)
        if text:
            parts.append(f"{label}: {text}" if label else text)
    return " ".join(parts)


def _article_ids(article: ET.Element, art: ET.Element) -> tuple[str | None, str | None]:
    """The record's DOI and PMCID from ``ArticleIdList``; the DOI else from ``ELocationID``."""
    doi = None
    pmcid = None
    for article_id in article.findall("PubmedData/ArticleIdList/ArticleId"):
        kind = article_id.get("IdType", "")
        if kind == "doi" and doi is None:
            doi = normalize_doi(_text(article_id))
        elif kind == "pmc" and pmcid is None:
            pmcid = normalize_pmcid(_text(article_id))
    if doi is None:
        location = next((e for e in art.findall("ELocationID") if e.get("EIdType") == "doi"), None)
        if location is not None:
            doi = normalize_doi(_text(location))
    return doi, pmcid


def _keywords(citation: ET.Element) -> list[str]:
    """The author keywords, then the MeSH descriptors not among them."""
    keywords = [_text(k) for k in citation.findall("KeywordList/Keyword") if _text(k)]
    keywords += [_text(d) for d in citation.findall("MeshHeadingList/MeshHeading/DescriptorName")
                 if _text(d) and _text(d) not in keywords]
    return keywords


def _csl_type(publication_types: list[str]) -> str:
    """The CSL type of the first publication type that has one; a journal article otherwise."""
    return next((_PUBTYPE_TO_CSL[t] for t in publication_types if t in _PUBTYPE_TO_CSL), "article-journal")


#: The DOI that ends a ``RefSource`` (``... 2016;375(24):2335. doi: 10.1056/NEJMx170005.``).
_REF_SOURCE_DOI = re.compile(r"doi:\s*(\S+?)\.?$")


def _notices(citation: ET.Element) -> list[dict[str, Any]]:
    """Retractions, errata, expressions of concern and new versions linked in
    ``CommentsCorrections``, as :attr:`Reference.updates` entries."""
    updates: list[dict[str, Any]] = []
    for link in citation.findall("CommentsCorrectionsList/CommentsCorrections"):
        ref_type = link.get("RefType", "")
        if ref_type not in _LINKS:
            continue
        kind, direction = _LINKS[ref_type]
        source = _text(link.find("RefSource"))
        doi_match = _REF_SOURCE_DOI.search(source)
        updates.append({
            "type": kind,
            "doi": normalize_doi(doi_match.group(1)) if doi_match else None,
            "pmid": normalize_pmid(_text(link.find("PMID"))),
            "direction": direction,
            "label": source,
            "date": None,
            "source": "pubmed",
        })
    return updates


def _raw_fields(art: ET.Element, journal: ET.Element | None, publication_types: list[str]) -> dict[str, str]:
    """What the record says beyond the Reference fields: publication types, the journal's
    ISO abbreviation, the title in the original language."""
    raw = {"source": "pubmed", "publication-types": "; ".join(publication_types)}
    abbreviation = _text(journal.find("ISOAbbreviation")) if journal is not None else ""
    if abbreviation:
        raw["journal-abbreviation"] = abbreviation
    vernacular = _text(art.find("VernacularTitle"))
    if vernacular:
        raw["vernacular-title"] = vernacular
    return raw


def reference_from_esummary(data: dict[str, Any], pmid: str) -> Reference | None:
    """A :class:`Reference` from ESummary JSON (``retmode=json``) for one PMID, or None if
    the answer has no record for it. ESummary has no abstract."""
    result = data.get("result") if isinstance(data, dict) else None
    record = result.get(str(pmid)) if isinstance(result, dict) else None
    if not isinstance(record, dict) or record.get("error"):
        return None
    authors = []
    for author in record.get("authors") or []:
        name = str(author.get("name", "")).strip()
        if not name:
            continue
        if author.get("authtype") == "CollectiveName":
            authors.append(name)
            continue
        family, _, initials = name.rpartition(" ")
        authors.append(f"{family}, {initials}" if family else name)
    ids = {str(i.get("idtype")): str(i.get("value")) for i in record.get("articleids") or []}
    match = re.search(r"\d{4}", str(record.get("pubdate", "")))
    return Reference(
        key="",
        type="article-journal",
        title=_strip_period(str(record.get("title", "")).strip()),
        authors=authors,
        year=int(match.group(0)) if match else None,
        container=str(record.get("fulljournalname") or record.get("source") or ""),
        volume=str(record.get("volume") or ""),
        issue=str(record.get("issue") or ""),
        pages=expand_pages(str(record.get("pages") or "")),
        doi=normalize_doi(ids.get("doi")),
        pmid=normalize_pmid(record.get("uid") or pmid),
        pmcid=normalize_pmcid(ids.get("pmc")),
        fields={"source": "pubmed-esummary"},
    )


def _strip_period(title: str) -> str:
    return title[:-1] if title.endswith(".") and not title.endswith("..") else title


def parse_idconv(response: Response, identifier: str) -> dict[str, str] | None:
    """``{"doi": ..., "pmid": ..., "pmcid": ...}`` for one ID from the PMC ID converter, or
    None if the converter does not know it (raises :class:`Malformed` on garbage)."""
    data = read_json(response, "the PMC ID converter")
    if not isinstance(data, dict):
        raise Malformed("the PMC ID converter sent JSON that is not an object")
    if data.get("status") == "error" and not data.get("records"):
        return None
    records = data.get("records") or []
    for record in records:
        if not isinstance(record, dict):
            continue
        if record.get("status") == "error" or record.get("errmsg"):
            return None
        found = {
            "doi": normalize_doi(record.get("doi")),
            "pmid": normalize_pmid(record.get("pmid")),
            "pmcid": normalize_pmcid(record.get("pmcid")),
        }
        if found["pmcid"] == normalize_pmcid(identifier) or len(records) == 1:
            return {k: v for k, v in found.items() if v}
    return None


#: DOIs per ESearch request (one ``OR`` term each).
ESEARCH_BATCH = 50


def doi_term(dois: list[str]) -> str:
    """An ESearch term finding the records of ``dois``: ``"10.1/a"[AID] OR "10.1/b"[AID]``."""
    return " OR ".join(f'"{doi}"[AID]' for doi in dois)


def parse_esearch(response: Response) -> list[str]:
    """The PMIDs of an ESearch answer (``retmode=json``)."""
    data = read_json(response, "PubMed ESearch")
    result = data.get("esearchresult") if isinstance(data, dict) else None
    if not isinstance(result, dict):
        raise Malformed("PubMed ESearch sent JSON without 'esearchresult'")
    if result.get("ERROR"):
        raise Malformed(f"PubMed ESearch answered with an error: {result['ERROR']}")
    ids = result.get("idlist") or []
    if not isinstance(ids, list):
        raise Malformed("PubMed ESearch sent an 'idlist' that is not a list")
    return [pmid for pmid in (normalize_pmid(str(i)) for i in ids) if pmid]


def parse_idconv_records(response: Response) -> dict[str, dict[str, str]]:
    """``{pmcid: {"doi": ..., "pmid": ..., "pmcid": ...}}`` for every ID the PMC ID converter
    knows in an answer about several IDs (IDs it does not know are left out)."""
    data = read_json(response, "the PMC ID converter")
    if not isinstance(data, dict):
        raise Malformed("the PMC ID converter sent JSON that is not an object")
    found: dict[str, dict[str, str]] = {}
    for record in data.get("records") or []:
        if not isinstance(record, dict) or record.get("status") == "error" or record.get("errmsg"):
            continue
        ids = {"doi": normalize_doi(record.get("doi")), "pmid": normalize_pmid(record.get("pmid")),
               "pmcid": normalize_pmcid(record.get("pmcid"))}
        if ids["pmcid"]:
            found[ids["pmcid"]] = {k: v for k, v in ids.items() if v}
    return found


#: CommentsCorrections reference types the lock keeps (notices; not comments or citations).
NOTICE_REF_TYPES = ("RetractionIn", "RetractionOf", "PartialRetractionIn", "PartialRetractionOf",
                    "ExpressionOfConcernIn", "ExpressionOfConcernFor", "ErratumIn", "ErratumFor",
                    "UpdateIn", "UpdateOf", "RepublishedIn", "RepublishedFrom")
_MONTHS = {m: n for n, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep",
                                         "oct", "nov", "dec"), 1)}
#: The date in a RefSource (``Lancet. 2010 Feb 6;375(9713):445. doi: ...``).
_SOURCE_DATE = re.compile(r"(?:^|[.\s])((?:19|20)\d\d)(?:\s+([A-Za-z]{3})[a-z]*(?:\s+(\d{1,2}))?)?\s*(?:[;:.(]|$)")


def ref_source_date(source: str) -> str | None:
    """``2010-02-06`` from ``Lancet. 2010 Feb 6;375(9713):445.`` (as many parts as given)."""
    match = _SOURCE_DATE.search(source or "")
    if not match:
        return None
    year, month, day = match.groups()
    number = _MONTHS.get((month or "").lower())
    if not number:
        return year
    return f"{year}-{number:02d}" + (f"-{int(day):02d}" if day else "")


def article_element(text: str) -> ET.Element:
    """A ``<PubmedArticle>`` element from its XML text (raises :class:`Malformed`)."""
    try:
        element = ET.fromstring(text.encode("utf-8"))
    except ET.ParseError as exc:
        raise Malformed(f"PubMed sent unreadable XML ({exc})") from exc
    if element.tag != "PubmedArticle":
        raise Malformed(f"PubMed sent XML of an unexpected kind (<{element.tag}>)")
    return element


def registry_record(article: ET.Element, asked: str) -> SourceRecord:
    """What the lock keeps of a PubMed record: the citation, the publication types with
    their MeSH UIs, and the notice links of ``CommentsCorrections``."""
    ref = reference_from_pubmed(article)
    citation = article.find("MedlineCitation")
    art = citation.find("Article") if citation is not None else None
    assert citation is not None and art is not None  # reference_from_pubmed checked
    journal = art.find("Journal")
    abbreviations = [_text(journal.find("ISOAbbreviation")) if journal is not None else "",
                     _text(citation.find("MedlineJournalInfo/MedlineTA"))]
    years = [ref.year] if ref.year else []
    article_year = re.search(r"\d{4}", _text(art.find("ArticleDate/Year")))
    if article_year:
        years.append(int(article_year.group(0)))
    notices = []
    for link in citation.findall("CommentsCorrectionsList/CommentsCorrections"):
        ref_type = link.get("RefType", "")
        if ref_type not in NOTICE_REF_TYPES:
            continue
        source = _text(link.find("RefSource"))
        doi_match = _REF_SOURCE_DOI.search(source)
        notices.append(Notice(
            type=ref_type, direction="updated-by" if ref_type.endswith("In") else "update-to",
            source="pubmed", doi=normalize_doi(doi_match.group(1)) if doi_match else None,
            pmid=normalize_pmid(_text(link.find("PMID"))), date=ref_source_date(source), label=source or None))
    return SourceRecord(
        asked=asked, title=ref.title, authors=ref.authors[:20], authors_total=len(ref.authors),
        year=ref.year, years=years, journal=ref.container,
        journal_abbreviations=[a for a in abbreviations if a], volume=ref.volume, issue=ref.issue,
        pages=ref.pages, doi=ref.doi, pmid=ref.pmid, pmcid=ref.pmcid,
        publication_types=[{"ui": t.get("UI", ""), "label": _text(t)}
                           for t in art.findall("PublicationTypeList/PublicationType")],
        notices=notices)
