"""CSL-JSON items <-> :class:`~citeflow.references.reference.Reference`.

One mapping serves every source that speaks CSL-JSON or its near relative, Crossref's JSON:
CSL-JSON and CSL-YAML bibliography files, doi.org content negotiation (DataCite, mEDRA,
Crossref's CSL transform) and Crossref ``/works`` answers (:mod:`citeflow.sources.crossref`
adds its own few fields on top of :func:`work_fields`). Readers of single values are public
for those callers: :func:`csl_text`, :func:`csl_names`, :func:`date_year`,
:func:`strip_markup` (abstracts) and :func:`strip_inline_markup` (titles).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from typing import Any

from citeflow.references.identifiers import normalize_doi, normalize_pmcid, normalize_pmid
from citeflow.references.reference import Reference, first_isbn, page_range, year_in


def _csl_name(name: dict[str, Any] | str) -> str:
    """``"Family, Given"`` for a person, the whole name for an organisation; an empty
    string when the record gives no name at all (``{"family": null}``)."""
    if not isinstance(name, dict):
        return _name_part(name)
    whole = _name_part(name.get("literal")) or _name_part(name.get("name"))
    if whole:
        return whole
    family = " ".join(p for p in (_name_part(name.get("non-dropping-particle")), _name_part(name.get("family"))) if p)
    given = " ".join(p for p in (_name_part(name.get("given")), _name_part(name.get("dropping-particle"))) if p)
    suffix = _name_part(name.get("suffix"))
    if suffix:
        given = f"{given}, {suffix}" if given else suffix
    return f"{family}, {given}" if family and given else (family or given)


def _name_part(value: Any) -> str:
    """A part of a name as written (null, lists and tables give nothing)."""
    if value is None or isinstance(value, (bool, dict, list)):
        return ""
    return str(value).strip()


def csl_names(value: Any) -> list[str]:
    """Display names from a CSL/Crossref name list. Entries that are not names at all
    (numbers, nested lists) are skipped; an entry with every part missing or null gives an
    empty name, which :func:`reference_problems` reports."""
    if isinstance(value, (dict, str)):
        value = [value]
    if not isinstance(value, list):
        return []
    return [_csl_name(n) for n in value if isinstance(n, (dict, str)) and n]


def csl_text(value: Any) -> str:
    """A CSL/Crossref text value, which may be a string, a number or a list of strings."""
    if value is None:
        return ""
    if isinstance(value, list):
        value = next((v for v in value if v), "")
    return " ".join(str(value).split())


def _date_parts(value: Any) -> list[int] | None:
    """``[year, month, day]`` (as many as given) from CSL ``{"date-parts": [[...]]}``;
    None when there are no date parts, or they are not whole numbers (a string where a
    list belongs, ``"2021-05-02"`` as one part)."""
    if not isinstance(value, dict):
        return None
    parts = value.get("date-parts")
    if not (isinstance(parts, list) and parts and isinstance(parts[0], list)):
        return None
    numbers: list[int] = []
    for part in parts[0]:
        if (isinstance(part, float) and part.is_integer()) or (isinstance(part, str) and part.strip().isdigit()):
            part = int(part)
        if not isinstance(part, int) or isinstance(part, bool):
            break  # the parts up to here still make a date
        numbers.append(part)
    return numbers or None


def date_year(value: Any) -> int | None:
    """The year of a CSL/Crossref date: ``{"date-parts": [[2016, 12]]}``, ``{"raw": "2016"}``,
    ``{"literal": ...}``, or a bare year; None when there is none."""
    if isinstance(value, dict):
        numbers = _date_parts(value)
        if numbers:
            return numbers[0]
        return year_in(csl_text(value.get("raw")) or csl_text(value.get("literal")))
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return year_in(str(value))
    return None


def date_text(value: Any) -> str | None:
    """``YYYY-MM-DD`` (as many parts as given) from CSL date parts, or None."""
    parts = _date_parts(value)
    if parts:
        return "-".join(f"{p:02d}" if i else str(p) for i, p in enumerate(parts))
    return None


_TAG = re.compile(r"<[^>]+>")


def strip_markup(text: str | None) -> str:
    """Plain text from JATS/HTML-tagged text (tags removed, entities decoded, one line)."""
    if not text:
        return ""
    text = _TAG.sub(" ", text)
    text = html.unescape(html.unescape(text)) if "&amp;" in text else html.unescape(text)
    text = _TAG.sub("", text)
    return " ".join(text.split())


def strip_inline_markup(text: str) -> str:
    """Titles: drop tags such as <i> without adding spaces (``SnO<sub>2</sub>`` -> ``SnO2``),
    also when the markup arrives HTML-escaped once or twice (``&amp;lt;sup&amp;gt;``)."""
    for _ in range(3):
        text = _TAG.sub("", text)
        if "&" not in text:
            break
        unescaped = html.unescape(text)
        if unescaped == text:
            break
        text = unescaped
    return " ".join(_TAG.sub("", text).split())


def updates_from_metadata(item: dict[str, Any]) -> list[dict[str, Any]]:
    """Retraction, correction and version links from Crossref-style ``updated-by``,
    ``update-to`` and ``relation`` data (used by Crossref JSON and Crossref CSL-JSON)."""
    updates: list[dict[str, Any]] = []
    for direction in ("updated-by", "update-to"):
        for entry in item.get(direction) or []:
            if not isinstance(entry, dict):
                continue
            updates.append({
                "type": str(entry.get("type") or "").lower() or "update",
                "doi": normalize_doi(entry.get("DOI")),
                "direction": direction,
                "label": entry.get("label"),
                "date": date_text(entry.get("updated")),
                "source": entry.get("source"),
            })
    relations = item.get("relation") or {}
    if isinstance(relations, dict):
        for name, targets in relations.items():
            for target in targets if isinstance(targets, list) else [targets]:
                if not isinstance(target, dict):
                    continue
                is_doi = str(target.get("id-type", "")).lower() == "doi"
                updates.append({
                    "type": name,
                    "doi": normalize_doi(target.get("id")) if is_doi else None,
                    "direction": name,
                    "label": None,
                    "date": None,
                    "source": target.get("asserted-by"),
                    "id": target.get("id"),
                })
    return updates


# Crossref work types that CSL spells differently.
CROSSREF_TO_CSL = {
    "journal-article": "article-journal",
    "book-chapter": "chapter",
    "book-section": "chapter",
    "book-part": "chapter",
    "proceedings-article": "paper-conference",
    "posted-content": "article",
    "monograph": "book",
    "edited-book": "book",
    "reference-book": "book",
    "book-set": "book",
    "book-series": "book",
    "book-track": "chapter",
    "reference-entry": "entry",
    "component": "document",
    "dissertation": "thesis",
    "report-component": "report",
    "report-series": "report",
    "journal": "periodical",
    "journal-issue": "periodical",
    "peer-review": "review",
    "proceedings": "book",
    "other": "document",
}


def _upper_or_lower(item: dict[str, Any], name: str) -> Any:
    """CSL names these variables in capitals (``DOI``); pandoc writes them in lower case."""
    value = item.get(name)
    return value if value not in (None, "") else item.get(name.lower())


def reference_from_csl(item: dict[str, Any], key: str | None = None) -> Reference:
    """A :class:`Reference` from one CSL-JSON item (doi.org content negotiation, a .json
    bibliography, or Crossref's CSL transform). Crossref type names are mapped to CSL."""
    csl_type = str(item.get("type") or "document")
    csl_type = CROSSREF_TO_CSL.get(csl_type, csl_type)
    keywords_value = item.get("keyword") or ""
    if isinstance(keywords_value, list):
        keywords = [str(k).strip() for k in keywords_value if str(k).strip()]
    else:
        keywords = [k.strip() for k in re.split(r"[;,]", str(keywords_value)) if k.strip()]
    raw = {k: v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
           for k, v in item.items() if k != "reference"}
    return Reference(
        key=key or str(item.get("id") or ""),
        type=csl_type,
        title=strip_inline_markup(csl_text(item.get("title"))),
        authors=csl_names(item.get("author")),
        year=date_year(item.get("issued")) or date_year(item.get("published-print"))
        or date_year(item.get("published-online")) or date_year(item.get("created")),
        pmid=normalize_pmid(csl_text(_upper_or_lower(item, "PMID")) or None),
        pmcid=normalize_pmcid(csl_text(_upper_or_lower(item, "PMCID")) or None),
        keywords=keywords,
        fields=raw,
        editors=csl_names(item.get("editor")),
        **work_fields(item),
    )


def work_fields(item: dict[str, Any]) -> dict[str, Any]:
    """The Reference fields that CSL-JSON and Crossref's JSON spell alike: container,
    volume, issue, pages, DOI, URL, ISBN, abstract (markup stripped), publisher, updates."""
    isbn_value = _upper_or_lower(item, "ISBN")
    isbn = None
    for candidate in isbn_value if isinstance(isbn_value, list) else [isbn_value or ""]:
        isbn = isbn or first_isbn(str(candidate))
    return {
        "container": strip_inline_markup(csl_text(item.get("container-title"))),
        "volume": csl_text(item.get("volume")),
        "issue": csl_text(item.get("issue")),
        "pages": page_range(csl_text(item.get("page"))),
        "doi": normalize_doi(csl_text(_upper_or_lower(item, "DOI"))),
        "url": csl_text(_upper_or_lower(item, "URL")),
        "isbn": isbn,
        "abstract": strip_markup(csl_text(item.get("abstract"))),
        "publisher": csl_text(item.get("publisher")),
        "updates": updates_from_metadata(item),
    }


#: The date fields of CSL-JSON and Crossref records that a year is read from.
DATE_FIELDS = ("issued", "published-print", "published-online", "published", "created")


def date_problems(item: Mapping[str, Any]) -> list[str]:
    """Date fields of a CSL-JSON or Crossref record that are not dates: a string or a
    number where ``{"date-parts": [[year, month, day]]}`` belongs, or date parts that are
    not numbers (``{"date-parts": "2021"}``, ``[["2021-05-02"]]``)."""
    problems = []
    for name in DATE_FIELDS:
        value = item.get(name)
        if value is None or (isinstance(value, str) and year_in(value)):
            continue
        parts = value.get("date-parts") if isinstance(value, dict) else value
        if isinstance(value, dict) and (parts in (None, [], [[]], [[None]]) or _date_parts(value)):
            continue
        shown = json.dumps(value, ensure_ascii=False)
        problems.append(f"the {name!r} date is not a date ({shown[:60]})")
    return problems


def reference_to_csl(ref: Reference) -> dict[str, Any]:
    """A CSL-JSON item for a reference (what ``citeflow cite --format csljson`` prints)."""
    item: dict[str, Any] = {"id": ref.key, "type": ref.type}

    def name(display: str) -> dict[str, str]:
        if "," in display:
            family, given = display.split(",", 1)
            return {"family": family.strip(), "given": given.strip()}
        return {"literal": display}

    if ref.title:
        item["title"] = ref.title
    if ref.authors:
        item["author"] = [name(a) for a in ref.authors]
    if ref.editors:
        item["editor"] = [name(a) for a in ref.editors]
    if ref.year:
        item["issued"] = {"date-parts": [[ref.year]]}
    for csl_key, value in (("container-title", ref.container), ("volume", ref.volume),
                           ("issue", ref.issue), ("page", ref.pages), ("DOI", ref.doi),
                           ("PMID", ref.pmid), ("PMCID", ref.pmcid), ("URL", ref.url),
                           ("ISBN", ref.isbn), ("abstract", ref.abstract),
                           ("publisher", ref.publisher)):
        if value:
            item[csl_key] = value
    if ref.keywords:
        item["keyword"] = ", ".join(ref.keywords)
    return item
