"""How ``resolve`` treats Manubot keys (``[@doi:10.1056/NEJMoa1610020]``, ``@pmid:...``, ``@url:...``).

They are citations that render as written (:mod:`citeflow.output.manubot_input`), so by
default ``resolve`` keeps them: it only makes sure the bibliography holds their works
(fetching what it lacks, as for any identifier) and reports those it cannot find. With
``rewrite_manubot`` (``citeflow resolve --rewrite-manubot``, ``[resolve] rewrite_manubot``)
each is written as the key of its bibliography entry instead, through the same citation
edits as every placeholder: ``[@doi:10.1056/NEJMoa1610020]`` becomes ``[@simpson2016two]``,
and a ``@url:`` key becomes the key of the entry with that URL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from citeflow.checks.fixes import Edit, citation_key_text
from citeflow.document.citations import find_citations
from citeflow.document.manubot import bibliography_entry, item_key, keep_manubot_keys, manubot_key
from citeflow.document.manuscript import Manuscript
from citeflow.document.placeholders import IDENTIFIER, Placeholder
from citeflow.references.bibliography import Bibliography
from citeflow.references.identifiers import Identifier

#: The "identifier" a ``@url:`` key is looked up by while its citation is planned.
URL_KIND = "url"


def url_keys(placeholders: Sequence[Placeholder], bib: Bibliography) -> tuple[list[Placeholder],
                                                                               dict[Identifier, str]]:
    """The placeholders with each ``@url:`` key whose URL a bibliography entry has written as
    an entry to resolve, and the keys of those entries."""
    keys: dict[Identifier, str] = {}
    result = []
    for placeholder in placeholders:
        items = list(placeholder.items)
        for index, item in enumerate(items):
            key = item_key(item) if item.key is not None else None
            if key is None or key.kind != URL_KIND:
                continue
            entry = bibliography_entry(bib, key)
            if entry is None:
                continue
            identifier = Identifier(URL_KIND, key.url)
            keys[identifier] = entry.key
            # a @url: entry is the key alone (placeholders.py): no prefix, no locator
            items[index] = replace(item, key=None, identifier=identifier,
                                   suppress_author=item.raw.lstrip().startswith("-"))
        result.append(replace(placeholder, items=tuple(items)) if items != list(placeholder.items)
                      else placeholder)
    return result, keys


def url_citation_edits(manuscript: Manuscript, placeholders: Sequence[Placeholder],
                       bib: Bibliography) -> list[Edit]:
    """Edits writing each ``@url:`` citation outside identifier placeholders (``[@url:...]``,
    ``[@smith2020; @url:...]``) as the key of the bibliography entry with that URL."""
    spans = [(p.start, p.end) for p in placeholders if p.kind == IDENTIFIER]
    text = manuscript.text
    edits = []
    for citation in find_citations(manuscript):
        key = manubot_key(citation.key)
        if key is None or key.kind != URL_KIND or any(s <= citation.start < e for s, e in spans):
            continue
        entry = bibliography_entry(bib, key)
        end = citation.end
        while end < len(text) and text[end] == "/":  # the "/" Pandoc leaves out of the key
            end += 1
        written = text[citation.start:end]
        at = written.find("@" + citation.key)
        if entry is None or at < 0:
            continue
        new = written[:at] + citation_key_text(entry.key)
        edits.append(Edit(citation.start, end, written, new))
    return edits


__all__ = ["item_key", "keep_manubot_keys", "url_citation_edits", "url_keys"]
